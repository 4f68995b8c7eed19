import { app, InvocationContext } from '@azure/functions';
import { appServices, ingestDeps } from '../shared/app/appContext';
import { ingestExportFile } from '../shared/ingest/fileWorker';
import { redactingHandler } from '../shared/app/hostHandler';
import { redactingLog } from '../shared/core/log';

export const ingestExportFileHandler = redactingHandler(async (message: unknown, context: InvocationContext): Promise<void> => {
  // The lease owner is the queue message id: when the host redelivers the same message after a dead
  // worker, the new delivery takes the file over at once instead of waiting out the lease.
  const messageId = context.triggerMetadata?.id;
  const workerId = typeof messageId === 'string' && messageId ? `msg-${messageId}` : context.invocationId;
  await ingestExportFile(message, ingestDeps(appServices(), redactingLog(context), { workerId }));
});

app.storageQueue('ingestExportFile', {
  queueName: '%INGEST_QUEUE%',
  connection: 'AzureWebJobsStorage',
  handler: ingestExportFileHandler,
});
