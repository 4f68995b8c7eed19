import { app, InvocationContext } from '@azure/functions';
import { appServices, ingestDeps } from '../shared/appContext';
import { ingestExportFile } from '../shared/exportFileIngest';
import { redactingLog } from '../shared/log';

app.storageQueue('ingestExportFile', {
  queueName: '%INGEST_QUEUE%',
  connection: 'AzureWebJobsStorage',
  handler: async (message: unknown, context: InvocationContext) => {
    await ingestExportFile(message, ingestDeps(appServices(), redactingLog(context), { workerId: context.invocationId }));
  },
});
