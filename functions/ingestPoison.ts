import { app, InvocationContext } from '@azure/functions';
import { appServices } from '../shared/appContext';
import { handlePoisonMessage } from '../shared/exportFileIngest';
import { redactingLog } from '../shared/log';

// The host moves a message here after host.json's maxDequeueCount failed deliveries.
app.storageQueue('ingestPoison', {
  queueName: '%INGEST_QUEUE%-poison',
  connection: 'AzureWebJobsStorage',
  handler: async (message: unknown, context: InvocationContext) => {
    const s = appServices();
    const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? NaN);
    await handlePoisonMessage(message, { catalog: s.catalog, log: redactingLog(context) }, Number.isFinite(dequeueCount) ? dequeueCount : undefined);
  },
});
