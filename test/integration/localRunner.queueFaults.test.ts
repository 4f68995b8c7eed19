// `npm run ingest` (tools/runner/localRunner.ts) survives a failed queue call: a delete whose pop receipt went stale,
// an update, a receive, and the poison queue's calls. Real Azurite queues; the QueueClient is wrapped so that
// one chosen call fails once (the stale receipt is real: the wrapper renews the message first, as a lost
// renewal answer would, and Azurite refuses the old receipt).
import type { QueueClient } from '@azure/storage-queue';
import { createServices, type AppServices } from '../../shared/app/appContext';
import { memoryLog } from '../../shared/core/log';
import { runIngestCycle } from '../../tools/runner/localRunner';
import { useAzurite } from '../helpers/azurite';
import { exportFixture, fakeDefender, gz, jsonl, nextGeneratedTime, records, testConfig } from '../helpers/exportFixture';
import { tables } from '../helpers/inventoryTables';

const azurite = useAzurite();

type Method = 'receiveMessages' | 'deleteMessage' | 'updateMessage' | 'sendMessage';
/** Decides, per call, whether to fail it (and how); undefined = pass through. */
type Fault = (method: Method, args: unknown[], real: QueueClient) => Promise<unknown> | undefined;

const SECRET = 'QUEUESECRETSIG';
const transient = (what: string) =>
  Object.assign(new Error(`${what}: socket hang up (https://st.queue.core.windows.net/q/messages?sv=1&sig=${SECRET})`), { code: 'ECONNRESET' });

/** The same QueueClient, with `fault` consulted before each of the four message calls. */
function faulty(real: QueueClient, fault: Fault): QueueClient {
  return new Proxy(real, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      const fn = value as (...a: unknown[]) => unknown;
      if (!['receiveMessages', 'deleteMessage', 'updateMessage', 'sendMessage'].includes(String(prop))) return fn.bind(target);
      return (...args: unknown[]) => fault(prop as Method, args, target) ?? fn.apply(target, args);
    },
  });
}

/** Fails the first call of `method` that `match` accepts, once, with `how`. */
function once(
  method: Method,
  how: (args: unknown[], real: QueueClient) => Promise<unknown>,
  match: (args: unknown[]) => boolean = () => true,
): Fault & { fired: number } {
  const f = ((m: Method, args: unknown[], real: QueueClient) => {
    if (m !== method || f.fired > 0 || !match(args)) return undefined;
    f.fired++;
    return how(args, real);
  }) as Fault & { fired: number };
  f.fired = 0;
  return f;
}

async function setup(fileCount = 2) {
  const config = testConfig(azurite(), { INGEST_FILE_CONCURRENCY: '1' });
  const fixture = exportFixture(azurite());
  const recs = records(60 * fileCount, 6);
  await fixture.upload(Array.from({ length: fileCount }, (_, i) => gz(jsonl(recs.slice(i * 60, (i + 1) * 60)))));
  const defender = fakeDefender(nextGeneratedTime(), () => fixture.urls());
  const base = createServices(config);
  return { config, defender, base };
}

function withQueues(base: AppServices, queue: Fault, poison: Fault = () => undefined): AppServices {
  return { ...base, queue: faulty(base.queue, queue), poisonQueue: faulty(base.poisonQueue, poison) };
}

async function expectComplete(id: string, files: number) {
  const t = tables(azurite().connectionString);
  expect((await t.files(id)).map((f) => [f.Status, f.RowsWritten])).toEqual(Array.from({ length: files }, () => ['complete', 60]));
  expect(await t.snapshot(id)).toMatchObject({ Status: 'complete', FileCount: files, FilesCompleted: files, RowCount: 60 * files });
}

function expectNoSecret(lines: string[]) {
  expect(lines.join('\n')).not.toContain(SECRET);
}

describe('npm run ingest survives one failed queue call', () => {
  it('a delete refused for a stale pop receipt is logged and dropped; the message comes back, finds its file complete, and the cycle completes', async () => {
    const { config, defender, base } = await setup();
    // the receipt goes stale the way a lost renewal answer leaves it: the message was updated, we hold the old receipt
    const stale = once('deleteMessage', async (args, real) => {
      const [id, receipt] = args as [string, string];
      await real.updateMessage(id, receipt, undefined, 1);
      return real.deleteMessage(id, receipt);
    });
    const log = memoryLog();
    const summary = await runIngestCycle({ config, log, services: withQueues(base, stale), timer: { defender } });
    expect(stale.fired).toBe(1);
    expect(summary).toMatchObject({ status: 'complete', files: 2, rows: 120 });
    await expectComplete(summary.snapshotId, 2);
    expect(log.lines.join('\n')).toMatch(/warn .*could not delete message .*pop receipt is stale.*dropped/);
  });

  it('a receive that fails is logged (redacted) and retried', async () => {
    const { config, defender, base } = await setup();
    const fault = once('receiveMessages', async () => Promise.reject(transient('receive')));
    const log = memoryLog();
    const summary = await runIngestCycle({ config, log, services: withQueues(base, fault), timer: { defender } });
    expect(fault.fired).toBe(1);
    expect(summary).toMatchObject({ status: 'complete', files: 2, rows: 120 });
    await expectComplete(summary.snapshotId, 2);
    expect(log.lines.join('\n')).toMatch(/warn .*could not receive messages.*ECONNRESET.*sig=REDACTED/);
    expectNoSecret(log.lines);
  });

  it('a delete that fails for a transient reason is retried', async () => {
    const { config, defender, base } = await setup();
    const fault = once('deleteMessage', async () => Promise.reject(transient('delete')));
    const log = memoryLog();
    const summary = await runIngestCycle({ config, log, services: withQueues(base, fault), timer: { defender } });
    expect(summary).toMatchObject({ status: 'complete', files: 2, rows: 120 });
    expect(log.lines.join('\n')).toMatch(/warn .*could not delete message .*ECONNRESET.*retrying/);
    expectNoSecret(log.lines);
  });

  it('the retry-later update after a failed handler is retried when it fails', async () => {
    const { config, defender, base } = await setup();
    // the handler of file 0 fails once after its first checkpoint; the runner then sets the retry delay (1 s)
    let thrown = 0;
    const onProgress = (p: { fileIndex: number }) => {
      if (p.fileIndex === 0 && thrown++ === 0) throw new Error('handler failure (test)');
    };
    const fault = once(
      'updateMessage',
      async () => Promise.reject(transient('update')),
      (args) => args[3] === 1,
    );
    const log = memoryLog();
    const summary = await runIngestCycle({
      config,
      log,
      services: withQueues(base, fault),
      timer: { defender },
      host: { maxDequeueCount: 5, retryDelaySeconds: 1 },
      ingest: { onProgress, limits: { segmentRows: 20 } },
    });
    expect(thrown).toBeGreaterThan(0);
    expect(fault.fired).toBe(1);
    expect(summary).toMatchObject({ status: 'complete', files: 2, rows: 120 });
    await expectComplete(summary.snapshotId, 2);
    expect(log.lines.join('\n')).toMatch(/warn .*could not update message .*ECONNRESET.*retrying/);
    expectNoSecret(log.lines);
  });

  it('the poison path survives a failed send, receive and delete on the -poison queue: file and snapshot end failed, exactly', async () => {
    const { config, defender, base } = await setup();
    const onProgress = (p: { fileIndex: number }) => {
      if (p.fileIndex === 0) throw new Error('handler failure (test)');
    };
    const faults = [
      once('sendMessage', async () => Promise.reject(transient('send'))),
      once('receiveMessages', async () => Promise.reject(transient('poison receive'))),
      once('deleteMessage', async () => Promise.reject(transient('poison delete'))),
    ];
    const poison: Fault = (m, args, real) => faults.map((f) => f(m, args, real)).find((r) => r !== undefined);
    const log = memoryLog();
    const summary = await runIngestCycle({
      config,
      log,
      services: withQueues(base, () => undefined, poison),
      timer: { defender },
      host: { maxDequeueCount: 1, retryDelaySeconds: 0 },
      ingest: { onProgress, limits: { segmentRows: 20 } },
    });
    expect(faults.map((f) => f.fired)).toEqual([1, 1, 1]);
    expect(summary).toMatchObject({ status: 'failed', files: 2 });
    const t = tables(azurite().connectionString);
    const files = await t.files(summary.snapshotId);
    expect(files.map((f) => f.Status)).toEqual(['failed', 'complete']);
    expect(files[0].Error).toMatch(/poison queue/);
    expect((await t.snapshot(summary.snapshotId))?.Status).toBe('failed');
    // nothing left in either queue
    for (const q of [base.queue, base.poisonQueue]) expect((await q.peekMessages({ numberOfMessages: 32 })).peekedMessageItems).toHaveLength(0);
    expectNoSecret(log.lines);
  });
});
