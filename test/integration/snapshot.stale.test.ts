// Stale snapshots for real: every worker of a snapshot dies (SIGKILL of `npm run ingest`) and its queue
// messages are gone, leaving file rows `ingesting`/`queued` that nobody works on. The next timer run must
// notice and re-arm only the unfinished files, resuming from their checkpoints.
import { randomUUID } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { azuriteConnectionString } from '../../tools/runner/azurite';
import { startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { createServices, timerDeps } from '../../shared/app/appContext';
import { loadConfig } from '../../shared/core/config';
import { snapshotIdFor } from '../../shared/core/contracts';
import { DEFAULT_STALE_AFTER_MS, runExportTimer } from '../../shared/timer/exportCollector';
import { memoryLog } from '../../shared/core/log';
import { DefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { ingestEnv, killPartWay, startSim, VISIBILITY, waitUntilAbandoned } from '../helpers/abandon';
import { useAzurite } from '../helpers/azurite';
import { nextGeneratedTime } from '../helpers/exportFixture';
import { holdAfter, SeenRequest, startFaultProxy } from '../helpers/faultProxy';
import { killWhen, runIngest, startIngest } from '../helpers/ingestProcess';
import { expectExactSnapshot, tables } from '../helpers/inventoryTables';

const azurite = useAzurite();

describe('stale snapshots', () => {
  let sim: DefenderSimulator | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('a snapshot whose workers all died is re-armed by the next timer run: only unfinished files, from their checkpoints', async () => {
    sim = await startSim(azurite(), 21);
    const published = await sim.publish();
    expect(Math.min(...published.files.map((f) => f.rows))).toBeGreaterThan(5000);
    const id = snapshotIdFor(published.generatedTime);
    const env = ingestEnv(azurite(), sim);
    const stuck = await killPartWay(azurite(), env, id, true);
    const t = tables(azurite().connectionString);
    expect((await t.snapshot(id))!.Status).toBe('ingesting');

    // The production timer (Azure defaults: stale after 30 minutes without a live lease or an update).
    const config = loadConfig({ ...env });
    const services = createServices(config);
    const soon = memoryLog();
    const early = await runExportTimer(timerDeps(services, soon, { now: () => new Date(Date.now() + 60_000) }));
    // a minute later a worker might merely be slow: nothing is re-queued, nothing is touched
    expect(early).toMatchObject({ action: 'none', snapshotId: id, status: 'ingesting', filesQueued: 0 });
    expect(soon.lines.some((l) => l.includes('re-arming'))).toBe(false);
    expect(await t.files(id)).toEqual(stuck);

    const log = memoryLog();
    const next = await runExportTimer(timerDeps(services, log, { now: () => new Date(Date.now() + DEFAULT_STALE_AFTER_MS + 60_000) }));
    expect(next).toMatchObject({ action: 'rearmed', snapshotId: id, status: 'ingesting', filesQueued: 2 });
    expect(log.lines).toContain(`info snapshot ${id}: re-arming file 1 (was ingesting; resumes after line ${stuck[1].LinesCommitted})`);
    expect(log.lines).toContain(`info snapshot ${id}: re-arming file 2 (was queued; resumes after line 0)`);
    expect(log.lines.some((l) => l.includes('re-arming file 0'))).toBe(false);
    expect(log.lines).toContain(`info snapshot ${id}: re-queued 2 file(s)`);
    const queued = await new QueueClient(azurite().connectionString, env.INGEST_QUEUE).peekMessages({ numberOfMessages: 32 });
    expect(queued.peekedMessageItems.map((m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString()).fileIndex).sort()).toEqual([1, 2]);

    // Workers drain the re-armed messages: the runner's own timer run finds them fresh and adds nothing.
    const run = await runIngest(env, 60_000);
    expect(run.code).toBe(0);
    expect(run.output).not.toContain('re-arming');
    expect(run.output).toContain(`file 2/3: resuming after line ${stuck[1].LinesCommitted} (${stuck[1].RowsWritten} rows already written)`);
    const { files } = await expectExactSnapshot(azurite().connectionString, published);
    // file 0 was never touched again; file 1 resumed (second claim); file 2 started once
    expect(files.map((f) => f.Attempts)).toEqual([1, 2, 1]);
    expect(files[0].etag).toBe(stuck[0].etag);
  }, 150_000);

  it('npm run ingest re-arms a snapshot abandoned by dead workers on its own timer run, once the dead leases have lapsed', async () => {
    sim = await startSim(azurite(), 22);
    const published = await sim.publish();
    const id = snapshotIdFor(published.generatedTime);
    const env = ingestEnv(azurite(), sim);
    const stuck = await killPartWay(azurite(), env, id, true);
    await waitUntilAbandoned(azurite(), id, VISIBILITY * 2000);

    const run = await runIngest(env, 60_000);
    expect(run.code).toBe(0);
    expect(run.output).toContain(`re-arming file 1 (was ingesting; resumes after line ${stuck[1].LinesCommitted})`);
    expect(run.output).toContain('re-arming file 2 (was queued; resumes after line 0)');
    expect(run.output).not.toContain('re-arming file 0');
    expect(run.output).toContain(`resuming after line ${stuck[1].LinesCommitted} (${stuck[1].RowsWritten} rows already written)`);
    const { files } = await expectExactSnapshot(azurite().connectionString, published);
    expect(files[0].etag).toBe(stuck[0].etag);
  }, 150_000);

  it('SIGKILL inside the timer, after it registered the files and sent only one of their messages: the next run re-arms the rest', async () => {
    sim = await startDefenderSimulator({
      blobConnectionString: azurite().connectionString,
      containerName: `k-${randomUUID().slice(0, 8)}`,
      devices: 60,
      files: 3,
      seed: 24,
      generatedTime: nextGeneratedTime(),
    });
    const published = await sim.publish();
    const id = snapshotIdFor(published.generatedTime);
    const env = ingestEnv(azurite(), sim);
    const queue = new QueueClient(azurite().connectionString, env.INGEST_QUEUE);

    // The timer's queue traffic passes a proxy that forwards the first message and holds every later one, so
    // the process is frozen mid-fan-out, exactly between "file rows registered" and "all messages sent".
    const isSend = (r: SeenRequest) => r.method === 'POST' && r.url.includes('/messages');
    const proxy = await startFaultProxy(azurite().queuePort, holdAfter(isSend));
    try {
      const viaProxy = { ...env, AzureWebJobsStorage: azuriteConnectionString(azurite().blobPort, proxy.port, azurite().tablePort) };
      const allSent = async () =>
        proxy.requests.filter(isSend).length >= 3 && (await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.length === 1;
      await killWhen(startIngest(viaProxy), 'one message sent and the others held', allSent);
    } finally {
      await proxy.close();
    }
    const t = tables(azurite().connectionString);
    expect((await t.snapshot(id))!.Status).toBe('ingesting');
    expect((await t.files(id)).map((f) => f.Status)).toEqual(['queued', 'queued', 'queued']);
    const [sent] = (await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems;
    const sentIndex = (JSON.parse(Buffer.from(sent.messageText, 'base64').toString()) as { fileIndex: number }).fileIndex;

    // Nothing will ever deliver the two unsent files; once their rows are idle past the stale bound, the
    // next run's timer re-queues them (and the sent one too: its duplicate delivery is then ignored).
    await waitUntilAbandoned(azurite(), id, VISIBILITY * 2000);
    const run = await runIngest(env, 60_000);
    expect(run.code).toBe(0);
    for (const i of [0, 1, 2].filter((i) => i !== sentIndex)) expect(run.output).toContain(`re-arming file ${i} (was queued; resumes after line 0)`);
    expect(run.summary).toMatchObject({ snapshotId: id, status: 'complete', rows: published.totalRows });
    const { files } = await expectExactSnapshot(azurite().connectionString, published);
    expect(files.map((f) => f.Attempts)).toEqual([1, 1, 1]); // each file claimed once: the extra message found it taken or done
  }, 120_000);
});
