import { app, InvocationContext } from '@azure/functions';
import { appServices } from '../shared/app/appContext';
import { handlePoisonMessage } from '../shared/ingest/poisonHandler';
import { redactingHandler } from '../shared/app/hostHandler';
import { redactingLog } from '../shared/core/log';

export const ingestPoisonHandler = redactingHandler(async (message: unknown, context: InvocationContext): Promise<void> => {
  const s = appServices();
  // triggerMetadata.dequeueCount here counts receives from the -poison queue (1 on the first try), not the
  // failed deliveries that put the message there, so it is not passed on ("gave up after the maximum number…")
  await handlePoisonMessage(message, { catalog: s.catalog, log: redactingLog(context), telemetry: s.telemetry });
});

// The host moves a message here after host.json's maxDequeueCount failed deliveries.
app.storageQueue('ingestPoison', {
  queueName: '%INGEST_QUEUE%-poison',
  connection: 'AzureWebJobsStorage',
  handler: ingestPoisonHandler,
});
