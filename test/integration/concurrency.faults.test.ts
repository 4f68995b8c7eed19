// Races that a real deployment produces, forced to happen every time:
// - a worker slower than its lease (a segment held up for three lease lengths): the heartbeat keeps the
//   claim, so a duplicate delivery backs off instead of redoing the file; a lease taken over while the
//   worker is mid-segment is noticed by the heartbeat, and the worker stops without writing the row again;
// - two timer runs registering the same new export at the same moment (a proxy in front of Azurite's
//   table endpoint holds every catalog insert back until both have read "not there yet"): insert-only
//   registration makes exactly one of them the creator, and every file is queued exactly once;
// - two timer runs re-arming the same failed files at once: ETag-conditional re-arming queues each once.
import { randomUUID } from 'node:crypto';
import { createServices, ingestDeps, timerDeps } from '../../shared/app/appContext';
import { CATALOG_TABLE, FILES_TABLE, snapshotIdFor } from '../../shared/core/contracts';
import { ingestExportFile } from '../../shared/ingest/fileWorker';
import { runExportTimer } from '../../shared/timer/exportCollector';
import { FileLease } from '../../shared/storage/fileLease';
import { Log, memoryLog, silentLog } from '../../shared/core/log';
import { azuriteConnectionString } from '../../tools/runner/azurite';
import { startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { useAzurite } from '../helpers/azurite';
import { exportFixture, fakeDefender, gz, jsonl, nextGeneratedTime, records, testConfig } from '../helpers/exportFixture';
import { startFaultProxy } from '../helpers/faultProxy';
import { expectExactSnapshot, tables } from '../helpers/inventoryTables';

const azurite = useAzurite();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every message on the queue, removed, as parsed ingest messages with their raw text. */
async function drain(services: ReturnType<typeof createServices>): Promise<{ text: string; fileIndex: number }[]> {
  const out: { text: string; fileIndex: number }[] = [];
  for (;;) {
    const got = (await services.queue.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems;
    if (got.length === 0) return out;
    for (const m of got) {
      out.push({ text: m.messageText, fileIndex: JSON.parse(Buffer.from(m.messageText, 'base64').toString('utf8')).fileIndex });
      await services.queue.deleteMessage(m.messageId, m.popReceipt);
    }
  }
}

const LEASE_MS = 600;

/**
 * A one-file export (500 rows) registered by the timer, and a worker on it (segments of 100 rows, a
 * 600 ms lease) whose first checkpoint is followed by a pause of three lease lengths. Resolves once the
 * worker is in that pause.
 */
async function workerHeldUpAfterFirstCheckpoint(workerId: string) {
  const services = createServices(testConfig(azurite()));
  const fx = exportFixture(azurite());
  await fx.upload([gz(jsonl(records(500, 25)))]);
  const timer = await runExportTimer(timerDeps(services, silentLog, { defender: fakeDefender(nextGeneratedTime(), () => fx.urls()) }));
  const [msg] = await drain(services);
  let firstSegment: () => void = () => undefined;
  const inFirstSegment = new Promise<void>((r) => (firstSegment = r));
  const log = memoryLog();
  const worker = ingestExportFile(
    msg.text,
    ingestDeps(services, log, {
      workerId,
      limits: { leaseMs: LEASE_MS, segmentRows: 100 },
      onProgress: async (p) => {
        if (p.linesCommitted !== 100) return;
        firstSegment();
        await sleep(3 * LEASE_MS);
      },
    }),
  );
  await inFirstSegment;
  return { services, snapshotId: timer.snapshotId, msg, log, worker };
}

/** A file row being ingested, and a 300 ms lease on it with its heartbeat running. */
async function heartbeatOnFreshRow(o: { maxHoldMs: number; log: Log; label: string }) {
  const services = createServices(testConfig(azurite()));
  await services.catalog.ensureTables();
  const snapshotId = `lease${randomUUID().slice(0, 8)}`;
  await services.catalog.upsertFile({
    partitionKey: snapshotId,
    rowKey: '00000',
    BlobPath: 'x',
    Status: 'ingesting',
    LinesCommitted: 0,
    RowsWritten: 0,
    Rejected: 0,
    Duplicates: 0,
    Attempts: 1,
    Error: '',
  });
  const etag = (await services.catalog.getFile(snapshotId, 0))!.etag;
  const lease = new FileLease({ catalog: services.catalog, partition: snapshotId, fileIndex: 0, etag, leaseMs: 300, now: () => new Date(), ...o });
  lease.startHeartbeat();
  return { services, snapshotId, lease };
}

describe('lease heartbeat', () => {
  it('a segment held up for three lease lengths keeps its claim: a duplicate delivery backs off, the file completes once', async () => {
    const { services, snapshotId, msg, worker } = await workerHeldUpAfterFirstCheckpoint('slow');
    await sleep(2 * LEASE_MS); // without renewal the claim would have lapsed by now
    const dupLog = memoryLog();
    const duplicate = await ingestExportFile(
      msg.text,
      ingestDeps(services, dupLog, { workerId: 'duplicate', limits: { leaseMs: LEASE_MS, segmentRows: 100 } }),
    );
    expect(duplicate.status).toBe('busy');
    expect(dupLog.lines.join('\n')).toContain('another worker holds it');

    expect(await worker).toMatchObject({ status: 'complete', rowsWritten: 500 });
    const file = await services.catalog.getFile(snapshotId, 0);
    expect(file).toMatchObject({ Status: 'complete', Attempts: 1, RowsWritten: 500, LinesCommitted: 500, LeaseOwner: '' });
    expect(await services.catalog.getSnapshot('SoftwareInventory', snapshotId)).toMatchObject({ Status: 'complete', RowCount: 500 });
  });

  it('a lease taken over mid-segment is noticed by the heartbeat: the worker stops and never writes the row again', async () => {
    const { services, snapshotId, log, worker } = await workerHeldUpAfterFirstCheckpoint('victim');
    // another worker's claim lands (what an expired lease plus a redelivery looks like from here)
    await services.catalog.updateFile(snapshotId, 0, { LeaseOwner: 'thief', LeaseExpiresAt: new Date(Date.now() + 60_000), UpdatedAt: new Date() });
    const outcome = await worker;
    expect(outcome.status).toBe('busy');
    const text = log.lines.join('\n');
    // noticed by the heartbeat during the held-up segment, not only by the next checkpoint
    expect(text).toContain('lease renewal found another worker has taken over this file; stopping');
    expect(text).toContain('another worker took over this file; stopping without further writes');
    // the thief's claim is intact and the row still says where the victim's last checkpoint was
    expect(await services.catalog.getFile(snapshotId, 0)).toMatchObject({ Status: 'ingesting', LeaseOwner: 'thief', LinesCommitted: 100, RowsWritten: 100 });
  });

  it('stops renewing once an invocation has held the file past its bound, so a hung worker cannot keep it forever', async () => {
    const log = memoryLog();
    const { services, snapshotId, lease } = await heartbeatOnFreshRow({ maxHoldMs: 1000, log, label: 'held file' });
    await sleep(2000);
    await lease.settle();
    expect(lease.renewals).toBeGreaterThanOrEqual(2);
    expect(log.lines.join('\n')).toContain('held file: held for over 1 s; no longer renewing its lease');
    const expires = new Date((await services.catalog.getFile(snapshotId, 0))!.LeaseExpiresAt!).getTime();
    expect(expires).toBeLessThan(Date.now());
  });

  it('stops renewing once the worker gives the file up, so a released lease is never extended again', async () => {
    const { services, snapshotId, lease } = await heartbeatOnFreshRow({ maxHoldMs: 60_000, log: silentLog, label: 'released file' });
    await sleep(500);
    const released = new Date();
    await lease.update({ Status: 'expired', LeaseOwner: '', LeaseExpiresAt: released });
    const renewals = lease.renewals;
    await sleep(1000);
    await lease.settle();
    expect(lease.renewals).toBe(renewals);
    expect(new Date((await services.catalog.getFile(snapshotId, 0))!.LeaseExpiresAt!).getTime()).toBe(released.getTime());
  });
});

describe('two timer runs at the same moment', () => {
  it('registering the same new export: one creates it, every file is queued exactly once, the snapshot lands exactly', async () => {
    const sim = await startDefenderSimulator({
      blobConnectionString: azurite().connectionString,
      containerName: `t-${randomUUID().slice(0, 8)}`,
      devices: 90,
      files: 3,
      seed: 21,
      generatedTime: nextGeneratedTime(),
    });
    // hold back every insert into the catalog and file tables, so both runs read "absent" before either writes
    const proxy = await startFaultProxy(azurite().tablePort, (r) =>
      r.method === 'POST' && (r.url.includes(`/${CATALOG_TABLE}`) || r.url.includes(`/${FILES_TABLE}`)) && !r.url.includes('$batch')
        ? { delayMs: 400 }
        : undefined,
    );
    try {
      const published = await sim.publish();
      const config = testConfig(azurite(), {
        AzureWebJobsStorage: azuriteConnectionString(azurite().blobPort, azurite().queuePort, proxy.port),
        DEFENDER_API_BASE_URL: sim.baseUrl,
      });
      const services = createServices(config);
      await services.catalog.ensureTables();
      const logs = [memoryLog(), memoryLog()];
      const runs = await Promise.all(logs.map((log) => runExportTimer(timerDeps(services, log))));
      expect(proxy.faults).toBeGreaterThanOrEqual(2);

      expect(runs.map((r) => r.action).sort()).toEqual(['created', 'none']);
      expect(runs[0].filesQueued + runs[1].filesQueued).toBe(3);
      expect(logs.map((l) => l.lines.join('\n')).join('\n')).toContain('was registered by another timer run at the same moment');
      const messages = await drain(services);
      expect(messages.map((m) => m.fileIndex).sort()).toEqual([0, 1, 2]);

      for (const m of messages) expect((await ingestExportFile(m.text, ingestDeps(services, silentLog))).status).toBe('complete');
      const { snap } = await expectExactSnapshot(azurite().connectionString, published);
      expect(snap.Status).toBe('complete');
      expect((await tables(azurite().connectionString).files(snapshotIdFor(published.generatedTime))).map((f) => f.Attempts)).toEqual([1, 1, 1]);
    } finally {
      await proxy.close();
      await sim.stop();
    }
  }, 60_000);

  it('re-arming the same failed files: each is queued by exactly one of them', async () => {
    const config = testConfig(azurite());
    const services = createServices(config);
    const fx = exportFixture(azurite());
    await fx.upload([gz(jsonl(records(60, 6))), gz(jsonl(records(60, 6, 'b'))), gz(jsonl(records(60, 6, 'c')))]);
    const generated = nextGeneratedTime();
    const first = await runExportTimer(timerDeps(services, silentLog, { defender: fakeDefender(generated, () => fx.urls()) }));
    await drain(services);
    for (let i = 0; i < 3; i++) await services.catalog.updateFile(first.snapshotId, i, { Status: 'failed', Error: 'gave up (test)' });
    await services.catalog.markSnapshotFailed('SoftwareInventory', first.snapshotId, 'file 0: gave up (test)');

    // hold back every re-arming merge of a file row, so both runs decide from the same reading
    const proxy = await startFaultProxy(azurite().tablePort, (r) =>
      r.method === 'PATCH' && r.url.includes(`/${FILES_TABLE}(`) ? { delayMs: 400 } : undefined,
    );
    try {
      const viaProxy = createServices(
        testConfig(azurite(), {
          AzureWebJobsStorage: azuriteConnectionString(azurite().blobPort, azurite().queuePort, proxy.port),
          INGEST_QUEUE: config.ingestQueue,
        }),
      );
      const logs = [memoryLog(), memoryLog()];
      const runs = await Promise.all(logs.map((log) => runExportTimer(timerDeps(viaProxy, log, { defender: fakeDefender(generated, () => fx.urls()) }))));
      expect(runs[0].filesQueued + runs[1].filesQueued).toBe(3);
      expect(logs.map((l) => l.lines.join('\n')).join('\n')).toContain('changed while being re-armed (another worker or timer run); left to it');
      const messages = await drain(services);
      expect(messages.map((m) => m.fileIndex).sort()).toEqual([0, 1, 2]);
      for (const m of messages) expect((await ingestExportFile(m.text, ingestDeps(services, silentLog))).status).toBe('complete');
      expect(await services.catalog.getSnapshot('SoftwareInventory', first.snapshotId)).toMatchObject({ Status: 'complete', RowCount: 180, Error: '' });
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('EXPORT_METHOD=json: two runs in the same minute page the inventory once', async () => {
    const sim = await startDefenderSimulator({ blobConnectionString: azurite().connectionString, devices: 30, seed: 9 });
    const proxy = await startFaultProxy(azurite().tablePort, (r) =>
      r.method === 'POST' && r.url.includes(`/${CATALOG_TABLE}`) && !r.url.includes('$batch') ? { delayMs: 400 } : undefined,
    );
    try {
      const published = await sim.publish();
      const config = testConfig(azurite(), {
        AzureWebJobsStorage: azuriteConnectionString(azurite().blobPort, azurite().queuePort, proxy.port),
        DEFENDER_API_BASE_URL: sim.baseUrl,
        EXPORT_METHOD: 'json',
        JSON_PAGE_SIZE: '200',
      });
      const services = createServices(config);
      await services.catalog.ensureTables();
      const minute = new Date(Date.UTC(2033, 4, 5, 6, 7, 8));
      const logs = [memoryLog(), memoryLog()];
      const runs = await Promise.all(logs.map((log) => runExportTimer(timerDeps(services, log, { now: () => minute }))));
      expect(runs.map((r) => r.action).sort()).toEqual(['created', 'none']);
      expect(logs.map((l) => l.lines.join('\n')).join('\n')).toContain('was started this minute by another run; nothing to do');
      const pages = sim.requests.filter((r) => r.path.toLowerCase().endsWith('softwareinventorybymachine') && r.status === 200).length;
      expect(pages).toBe(Math.ceil(published.totalRows / 200));
      expect(await services.catalog.getSnapshot('SoftwareInventory', runs[0].snapshotId)).toMatchObject({ Status: 'complete', RowCount: published.totalRows });
    } finally {
      await proxy.close();
      await sim.stop();
    }
  }, 60_000);
});
