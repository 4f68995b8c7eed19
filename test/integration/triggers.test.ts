// The three Functions triggers called as the host calls them: the handler each registration exports, with a
// real InvocationContext from @azure/functions (its invocation id, trigger metadata and log handler), against
// Azurite and the Defender simulator. What runs is the registrations' own wiring: settings read once from
// the environment, the composition root, the redacting handler.
import { InvocationContext, LogLevel, Timer } from '@azure/functions';
import { QueueClient } from '@azure/storage-queue';
import { useAzurite } from '../helpers/azurite';
import { DefenderSimulator, PublishedExport, startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { IngestMessage, parseMessage } from '../../shared/core/contracts';
import { SnapshotCatalog } from '../../shared/storage/snapshotCatalog';
import { appServices } from '../../shared/app/appContext';

const azurite = useAzurite();
const QUEUE = 'triggers-ingest';

let sim: DefenderSimulator;
let published: PublishedExport;
let savedEnv: NodeJS.ProcessEnv;
let handlers: {
  timer: typeof import('../../functions/exportTimer').exportTimerHandler;
  queue: typeof import('../../functions/ingestExportFile').ingestExportFileHandler;
  poison: typeof import('../../functions/ingestPoison').ingestPoisonHandler;
};
let catalog: SnapshotCatalog;
let queue: QueueClient;

beforeAll(async () => {
  sim = await startDefenderSimulator({ blobConnectionString: azurite().connectionString, devices: 60, files: 3, seed: 10 });
  published = await sim.publish({ generatedTime: new Date(Date.now() - 60 * 60_000) });
  // the settings the registrations read on their first invocation (appServices caches them per process)
  savedEnv = { ...process.env };
  Object.assign(process.env, {
    AzureWebJobsStorage: azurite().connectionString,
    DEFENDER_API_BASE_URL: sim.baseUrl,
    DEFENDER_AUTH: 'none',
    INGEST_QUEUE: QUEUE,
  });
  // loading a registration outside the host makes @azure/functions warn once that no host is listening
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  handlers = {
    timer: (await import('../../functions/exportTimer')).exportTimerHandler,
    queue: (await import('../../functions/ingestExportFile')).ingestExportFileHandler,
    poison: (await import('../../functions/ingestPoison')).ingestPoisonHandler,
  };
  warn.mockRestore();
  // the services the handlers build for themselves (one composition root per process), to look at the results
  catalog = appServices().catalog;
  queue = appServices().queue;
}, 120000);

afterAll(async () => {
  process.env = savedEnv;
  await sim?.stop();
});

/** A real InvocationContext, as the host builds one, whose log lines the test can read. */
function invocation(functionName: string, init: { invocationId?: string; triggerMetadata?: Record<string, unknown> } = {}) {
  const lines: string[] = [];
  const context = new InvocationContext({
    invocationId: init.invocationId ?? `inv-${functionName}-${Math.random().toString(36).slice(2)}`,
    functionName,
    triggerMetadata: init.triggerMetadata,
    logHandler: (level: LogLevel, ...args: unknown[]) => void lines.push(`${level}: ${args.map(String).join(' ')}`),
  });
  return { context, lines };
}

const timer: Timer = { isPastDue: false, schedule: { adjustForDST: false }, scheduleStatus: { last: '', next: '', lastUpdated: '' } };

/** The queue's messages as the host hands them to the handler: base64-decoded and JSON-parsed. */
async function takeMessages(): Promise<IngestMessage[]> {
  const { receivedMessageItems } = await queue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: 600 });
  return receivedMessageItems.map((m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')) as IngestMessage);
}

describe('Functions triggers with a real InvocationContext', () => {
  let messages: IngestMessage[];

  it('exportTimer: registers the export in the catalog and queues one message per file', async () => {
    const { context, lines } = invocation('exportTimer');
    await handlers.timer(timer, context);
    messages = (await takeMessages()).sort((a, b) => a.fileIndex - b.fileIndex);
    expect(messages.map((m) => m.fileIndex)).toEqual([0, 1, 2]);
    messages.forEach((m) => expect(parseMessage(m)).toEqual(m));
    const snapshot = await catalog.getSnapshot(messages[0].kind, messages[0].snapshotId);
    expect(snapshot).toMatchObject({ Status: 'ingesting', FileCount: published.files.length });
    // the invocation's own logger got the run's lines, with every SAS signature redacted
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('\n')).not.toMatch(/sig=(?!REDACTED)/);
  });

  it('ingestExportFile: the worker identity is the message id (triggerMetadata.id), so a redelivery of the same message takes its file over at once', async () => {
    const msg = messages[0];
    // a delivery of this message that died mid-file left its claim: owner msg-<id>, lease minutes from expiry
    await catalog.updateFile(msg.snapshotId, msg.fileIndex, { Status: 'ingesting', LeaseOwner: 'msg-M0', LeaseExpiresAt: new Date(Date.now() + 10 * 60_000) });

    // a delivery of another message (another id) must leave the live claim alone
    const other = invocation('ingestExportFile', { triggerMetadata: { id: 'M-other', dequeueCount: 1 } });
    await handlers.queue(msg, other.context);
    expect(other.lines.join('\n')).toMatch(/another worker holds it/);
    expect(await catalog.getFile(msg.snapshotId, msg.fileIndex)).toMatchObject({ Status: 'ingesting', LeaseOwner: 'msg-M0' });
    await takeMessages(); // the busy delivery's requeued copy

    // the redelivery of the same message (same id, another invocation) is the same worker: it carries on now
    const same = invocation('ingestExportFile', { triggerMetadata: { id: 'M0', dequeueCount: 2 } });
    await handlers.queue(msg, same.context);
    expect(await catalog.getFile(msg.snapshotId, msg.fileIndex)).toMatchObject({ Status: 'complete', RowsWritten: published.files[0].rows });
  });

  it('ingestExportFile: without a message id the worker identity is the invocation id', async () => {
    const msg = messages[1];
    await catalog.updateFile(msg.snapshotId, msg.fileIndex, {
      Status: 'ingesting',
      LeaseOwner: 'inv-fallback',
      LeaseExpiresAt: new Date(Date.now() + 10 * 60_000),
    });
    const { context } = invocation('ingestExportFile', { invocationId: 'inv-fallback', triggerMetadata: {} });
    await handlers.queue(msg, context);
    expect(await catalog.getFile(msg.snapshotId, msg.fileIndex)).toMatchObject({ Status: 'complete', RowsWritten: published.files[1].rows });
  });

  it('ingestPoison: a message the host gave up on marks its file and its snapshot failed', async () => {
    const msg = messages[2];
    const { context, lines } = invocation('ingestPoison', { triggerMetadata: { id: 'M2', dequeueCount: 1 } });
    await handlers.poison(msg, context);
    const file = await catalog.getFile(msg.snapshotId, msg.fileIndex);
    expect(file).toMatchObject({ Status: 'failed' });
    expect(file?.Error).toMatch(/poison queue/);
    const snapshot = await catalog.getSnapshot(msg.kind, msg.snapshotId);
    expect(snapshot).toMatchObject({ Status: 'failed' });
    expect(lines.join('\n')).toMatch(/poison queue/);
  });
});
