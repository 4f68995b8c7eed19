import { app, InvocationContext, Timer } from '@azure/functions';
import { appServices, timerDeps } from '../shared/appContext';
import { runExportTimer } from '../shared/exportTimer';
import { redactingHandler } from '../shared/hostHandler';
import { redactingLog } from '../shared/log';

export const exportTimerHandler = redactingHandler(async (_timer: Timer, context: InvocationContext): Promise<void> => {
  await runExportTimer(timerDeps(appServices(), redactingLog(context)));
});

// Daily by default (EXPORT_SCHEDULE); Defender regenerates exports every few hours, so more often is pointless.
app.timer('exportTimer', {
  schedule: '%EXPORT_SCHEDULE%',
  runOnStartup: false,
  handler: exportTimerHandler,
});
