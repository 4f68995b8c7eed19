import { app, InvocationContext, Timer } from '@azure/functions';
import { appServices, timerDeps } from '../shared/app/appContext';
import { runExportTimer } from '../shared/timer/exportCollector';
import { redactingHandler } from '../shared/app/hostHandler';
import { redactingLog } from '../shared/core/log';

export const exportTimerHandler = redactingHandler(async (_timer: Timer, context: InvocationContext): Promise<void> => {
  await runExportTimer(timerDeps(appServices(), redactingLog(context)));
});

// Daily by default (EXPORT_SCHEDULE); Defender regenerates exports every few hours, so more often is pointless.
app.timer('exportTimer', {
  schedule: '%EXPORT_SCHEDULE%',
  runOnStartup: false,
  handler: exportTimerHandler,
});
