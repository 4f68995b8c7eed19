// Delivery faults for real, with `npm run ingest` as a child process.
// - Poison: every write to the snapshot table refused the way Table Storage refuses writes to a table deleted
//   by hand (404 TableNotFound, injected by a proxy in front of Azurite's table endpoint). The runner retries
//   each message host.json's maxDequeueCount times, moves it to `<queue>-poison`, the poison handler marks file
//   and snapshot failed with the reason, the process exits non-zero; the next run (the table reachable again)
//   re-arms the failed files and completes.
// - Concurrent and duplicate delivery: two runners on the same queue at once.
// - Time: a file that takes longer than WORKER_TIME_BUDGET_SECONDS, its writes slowed by a proxy that holds
//   every transaction back, is continued across invocations of a real process.
// - The runner's own supervision: a long file is progress, not a stall.
import { randomUUID } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { snapshotIdFor } from '../../shared/core/contracts';
import { azuriteConnectionString } from '../../tools/runner/azurite';
import { startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { hostQueueSettings } from '../../tools/runner/localRunner';
import { useAzurite } from '../helpers/azurite';
import { startFaultProxy } from '../helpers/faultProxy';
import { createServices } from '../../shared/app/appContext';
import { memoryLog } from '../../shared/core/log';
import { runIngestCycle } from '../../tools/runner/localRunner';
import { exportFixture, fakeDefender, gz, jsonl, nextGeneratedTime, records, testConfig } from '../helpers/exportFixture';
import { localIngestEnv, runIngest } from '../helpers/ingestProcess';
import { expectExactSnapshot, tables } from '../helpers/inventoryTables';

const azurite = useAzurite();

const TABLE_NOT_FOUND = {
  status: 404,
  body: { 'odata.error': { code: 'TableNotFound', message: { lang: 'en-US', value: 'The table specified does not exist.' } } },
};

describe('delivery faults (process level)', () => {
  it('a handler that always fails: maxDequeueCount deliveries, -poison queue, file and snapshot failed with the reason, exit 1; the next run repairs it', async () => {
    const { maxDequeueCount } = hostQueueSettings();
    expect(maxDequeueCount).toBe(5);
    const sim = await startDefenderSimulator({
      blobConnectionString: azurite().connectionString,
      containerName: `p-${randomUUID().slice(0, 8)}`,
      devices: 120,
      files: 2,
      seed: 5,
      generatedTime: nextGeneratedTime(),
    });
    // snapshot-table writes are entity-group transactions (POST $batch); catalog and progress rows are single-entity calls
    const proxy = await startFaultProxy(azurite().tablePort, (r) => (r.method === 'POST' && r.url.includes('$batch') ? TABLE_NOT_FOUND : undefined));
    try {
      const published = await sim.publish();
      const id = snapshotIdFor(published.generatedTime);
      const env = localIngestEnv(azuriteConnectionString(azurite().blobPort, azurite().queuePort, proxy.port), sim.baseUrl, 'poison', {
        // the host's own override of host.json (app setting AzureFunctionsJobHost__…): retry after 1 s, not 30 s
        AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:01',
      });
      const queueName = env.INGEST_QUEUE;

      const run = await runIngest(env, 60_000);
      expect(run.code).toBe(1);
      expect(run.summary).toMatchObject({ snapshotId: id, status: 'failed', rows: 0 });
      for (let d = 1; d <= maxDequeueCount; d++) expect(run.output).toContain(`handler failed on delivery ${d}/${maxDequeueCount}`);
      expect(run.output.match(new RegExp(`moved to ${queueName}-poison after ${maxDequeueCount} deliveries`, 'g'))).toHaveLength(2);
      expect(proxy.faults).toBeGreaterThanOrEqual(2 * maxDequeueCount);

      const t = tables(azurite().connectionString);
      const files = await t.files(id);
      for (const f of files) {
        expect(f).toMatchObject({ Status: 'failed', Attempts: maxDequeueCount, LinesCommitted: 0, RowsWritten: 0, LeaseOwner: '' });
        expect(f.Error).toMatch(new RegExp(`^gave up after ${maxDequeueCount} deliveries \\(poison queue\\); last error: .*TableNotFound`));
      }
      const snap = await t.snapshot(id);
      expect(snap!.Status).toBe('failed');
      expect(snap!.Error).toMatch(new RegExp(`^file [01]: gave up after ${maxDequeueCount} deliveries \\(poison queue\\); last error: .*TableNotFound`));
      // nothing left behind in either queue
      for (const name of [queueName, `${queueName}-poison`]) {
        const q = new QueueClient(azurite().connectionString, name);
        expect((await q.peekMessages({ numberOfMessages: 32 })).peekedMessageItems).toHaveLength(0);
      }

      // The table is reachable again: the next run re-arms the failed files (same export) and completes exactly.
      proxy.rule = () => undefined;
      const repair = await runIngest(env, 60_000);
      expect(repair.code).toBe(0);
      expect(repair.output).toContain('re-arming file 0 (was failed; resumes after line 0)');
      expect(repair.output).toContain('re-arming file 1 (was failed; resumes after line 0)');
      const { snap: repaired } = await expectExactSnapshot(azurite().connectionString, published);
      expect(repaired.Error).toBe('');
    } finally {
      await proxy.close();
      await sim.stop();
    }
  }, 120_000);

  it('two runners at once on the same export and queue (concurrent and duplicate delivery): both exit 0, exact rows and counts', async () => {
    const sim = await startDefenderSimulator({
      blobConnectionString: azurite().connectionString,
      containerName: `c-${randomUUID().slice(0, 8)}`,
      devices: 300,
      files: 3,
      seed: 12,
      generatedTime: nextGeneratedTime(),
    });
    try {
      const published = await sim.publish();
      const env = localIngestEnv(azurite().connectionString, sim.baseUrl, 'dup');
      const [a, b] = await Promise.all([runIngest(env, 90_000), runIngest(env, 90_000)]);
      expect([a.code, b.code]).toEqual([0, 0]);
      expect(a.summary).toMatchObject({ status: 'complete', rows: published.totalRows });
      expect(b.summary).toMatchObject({ status: 'complete', rows: published.totalRows });
      await expectExactSnapshot(azurite().connectionString, published);
    } finally {
      await sim.stop();
    }
  }, 120_000);
});

describe('time budget (process level)', () => {
  it('a file that outlasts WORKER_TIME_BUDGET_SECONDS is checkpointed, continued by a new message and completed exactly', async () => {
    const sim = await startDefenderSimulator({
      blobConnectionString: azurite().connectionString,
      containerName: `b-${randomUUID().slice(0, 8)}`,
      devices: 200,
      files: 1,
      seed: 31,
      generatedTime: nextGeneratedTime(),
    });
    // one transaction at a time, each held back 75 ms: a transaction holds one device's rows (its partition,
    // ~28 here), so the first 5,000-row segment takes over 13 s on any machine, however fast, and the 10 s
    // budget (the smallest allowed) has run out at its checkpoint
    const proxy = await startFaultProxy(azurite().tablePort, (r) => (r.method === 'POST' && r.url.includes('$batch') ? { delayMs: 75 } : undefined));
    try {
      const published = await sim.publish();
      expect(published.totalRows).toBeGreaterThan(5_000);
      const id = snapshotIdFor(published.generatedTime);
      const run = await runIngest(
        localIngestEnv(azuriteConnectionString(azurite().blobPort, azurite().queuePort, proxy.port), sim.baseUrl, 'budget', {
          WRITE_CONCURRENCY: '1',
          // the runner's files share INGEST_FILE_CONCURRENCY × WRITE_CONCURRENCY slots, so a lone file would get 2
          INGEST_FILE_CONCURRENCY: '1',
          WORKER_TIME_BUDGET_SECONDS: '10',
        }),
        110_000,
      );
      expect(run.code).toBe(0);
      expect(run.output).toMatch(/time budget of 10 s used after line \d+; continuation queued/);
      expect(run.summary).toMatchObject({ snapshotId: id, status: 'complete', rows: published.totalRows });
      await expectExactSnapshot(azurite().connectionString, published);
      const [file] = await tables(azurite().connectionString).files(id);
      // one attempt per invocation: the first, then at least one continuation
      expect(file.Attempts).toBeGreaterThanOrEqual(2);
      expect(file).toMatchObject({ Status: 'complete', LinesCommitted: published.totalRows, LeaseOwner: '' });
    } finally {
      await proxy.close();
      await sim.stop();
    }
  }, 120_000);
});

describe('local runner supervision', () => {
  it('does not give up on a long file that keeps checkpointing, even when no handler finishes within the stall window', async () => {
    const config = testConfig(azurite(), { INGEST_FILE_CONCURRENCY: '1' });
    const fx = exportFixture(azurite());
    await fx.upload([gz(jsonl(records(2000, 40)))]);
    const defender = fakeDefender(nextGeneratedTime(), () => fx.urls());
    const log = memoryLog();
    // 20 segments of 100 rows, each held up for 250 ms: one handler runs ~5 s, the stall window is 1 s
    const summary = await runIngestCycle({
      config,
      log,
      services: createServices(config),
      timer: { defender },
      ingest: { limits: { segmentRows: 100 }, onProgress: () => new Promise((r) => setTimeout(r, 250)) },
      stallSeconds: 1,
      pollMs: 100,
    });
    expect(summary).toMatchObject({ status: 'complete', rows: 2000 });
    expect(log.lines.filter((l) => l.includes('no progress'))).toEqual([]);
  });
});
