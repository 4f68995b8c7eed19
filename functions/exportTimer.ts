import { app, InvocationContext, Timer } from '@azure/functions';
import { appServices, timerDeps } from '../shared/appContext';
import { runExportTimer } from '../shared/exportTimer';
import { redactingLog } from '../shared/log';

// Daily by default (EXPORT_SCHEDULE); Defender regenerates exports every few hours, so more often is pointless.
app.timer('exportTimer', {
  schedule: '%EXPORT_SCHEDULE%',
  runOnStartup: false,
  handler: async (_timer: Timer, context: InvocationContext) => {
    await runExportTimer(timerDeps(appServices(), redactingLog(context)));
  },
});
