// The timer handler against Azurite when Defender's file list for one generatedTime changes, and when it
// supersedes a snapshot whose files all completed: FileCount and the file rows stay exact, new files get
// indices of their own, and a snapshot is complete exactly when every registered file is.
import { AppServices, createServices, timerDeps } from '../../shared/app/appContext';
import { IngestMessage, parseMessage, SOFTWARE_INVENTORY, snapshotIdFor } from '../../shared/core/contracts';
import { runExportTimer } from '../../shared/timer/exportCollector';
import { memoryLog, silentLog } from '../../shared/core/log';
import { stripQuery } from '../../shared/core/redact';
import { runIngestCycle } from '../../tools/runner/localRunner';
import { useAzurite } from '../helpers/azurite';
import { exportFixture, fakeDefender, gz, jsonl, nextGeneratedTime, records, testConfig } from '../helpers/exportFixture';
import { tables } from '../helpers/inventoryTables';

const azurite = useAzurite();

async function queued(services: AppServices): Promise<IngestMessage[]> {
  const res = await services.queue.peekMessages({ numberOfMessages: 32 });
  return res.peekedMessageItems.map((m) => parseMessage(m.messageText)).sort((a, b) => a.fileIndex - b.fileIndex);
}

async function tableRows(name: string): Promise<number> {
  return (await tables(azurite().connectionString).all(name)).length;
}

describe('Defender lists other files for the same generatedTime', () => {
  it('a complete snapshot whose export now lists a third file: the file is registered as file 2, FileCount becomes 3, and the snapshot completes again with all three', async () => {
    const config = testConfig(azurite());
    const services = createServices(config);
    const fx = exportFixture(azurite());
    await fx.upload([gz(jsonl(records(30, 3, 'a'))), gz(jsonl(records(20, 2, 'b')))]);
    const defender = fakeDefender(nextGeneratedTime(), () => fx.urls());
    const first = await runIngestCycle({ config, log: silentLog, services, timer: { defender } });
    expect(first).toMatchObject({ status: 'complete', files: 2, rows: 50 });
    const id = first.snapshotId;

    await fx.append([gz(jsonl(records(25, 5, 'c')))]);
    const log = memoryLog();
    const outcome = await runExportTimer(timerDeps(services, log, { defender }));
    expect(outcome).toMatchObject({ action: 'rearmed', snapshotId: id, status: 'ingesting', fileCount: 3, filesQueued: 1 });
    expect((await services.catalog.getSnapshot(SOFTWARE_INVENTORY, id))!).toMatchObject({ Status: 'ingesting', FileCount: 3 });
    expect((await queued(services)).map((m) => [m.fileIndex, m.fileCount, stripQuery(m.url)])).toEqual([[2, 3, stripQuery(fx.urls()[2])]]);

    const second = await runIngestCycle({ config, log: silentLog, services, timer: { defender } });
    expect(second).toMatchObject({ snapshotId: id, status: 'complete', files: 3, rows: 75 });
    const files = await services.catalog.listFiles(id);
    expect(files.map((f) => [f.rowKey, f.BlobPath, f.Status])).toEqual(fx.urls().map((u, i) => [`0000${i}`, stripQuery(u), 'complete']));
    expect((await services.catalog.getSnapshot(SOFTWARE_INVENTORY, id))!).toMatchObject({ Status: 'complete', FileCount: 3, FilesCompleted: 3, RowCount: 75 });
    expect(await tableRows(second.table)).toBe(75);
  }, 60_000);

  it('a list reordered and replaced while a file is unfinished: new files take the next free indices (no holes, no clash), FileCount counts every registered file', async () => {
    const config = testConfig(azurite());
    const services = createServices(config);
    const fx = exportFixture(azurite());
    // A and B; B's URL has already expired, so the first run leaves B expired and the snapshot unfinished
    await fx.upload([gz(jsonl(records(30, 3, 'ra'))), gz(jsonl(records(20, 2, 'rb')))]);
    const generatedTime = nextGeneratedTime();
    const first = await runIngestCycle({
      config,
      log: silentLog,
      services,
      timer: { defender: fakeDefender(generatedTime, () => [fx.urls()[0], fx.urls({ expiresInMinutes: -10 })[1]]) },
    });
    const id = first.snapshotId;
    expect((await services.catalog.listFiles(id)).map((f) => f.Status)).toEqual(['complete', 'expired']);

    // Defender now lists C, B, D for the same generatedTime: C sits at position 0 (file 0 is A), D at 2
    await fx.append([gz(jsonl(records(25, 5, 'rc'))), gz(jsonl(records(15, 3, 'rd')))]);
    const [a, b, c, d] = fx.urls();
    const defender = fakeDefender(generatedTime, () => {
      const u = fx.urls();
      return [u[2], u[1], u[3]];
    });
    const outcome = await runExportTimer(timerDeps(services, memoryLog(), { defender }));
    expect(outcome).toMatchObject({ action: 'rearmed', snapshotId: id, fileCount: 4, filesQueued: 3 });
    expect((await queued(services)).map((m) => [m.fileIndex, m.fileCount, stripQuery(m.url)])).toEqual([
      [1, 4, stripQuery(b)],
      [2, 4, stripQuery(c)],
      [3, 4, stripQuery(d)],
    ]);
    expect((await services.catalog.getSnapshot(SOFTWARE_INVENTORY, id))!.FileCount).toBe(4);

    const second = await runIngestCycle({ config, log: silentLog, services, timer: { defender } });
    expect(second).toMatchObject({ snapshotId: id, status: 'complete', files: 4, rows: 90 });
    const files = await services.catalog.listFiles(id);
    expect(files.map((f) => [f.rowKey, f.BlobPath, f.Status])).toEqual([
      ['00000', stripQuery(a), 'complete'],
      ['00001', stripQuery(b), 'complete'],
      ['00002', stripQuery(c), 'complete'],
      ['00003', stripQuery(d), 'complete'],
    ]);
    expect((await services.catalog.getSnapshot(SOFTWARE_INVENTORY, id))!).toMatchObject({ Status: 'complete', FileCount: 4, FilesCompleted: 4, RowCount: 90 });
    expect(await tableRows(second.table)).toBe(90);
  }, 60_000);

  it('two timer runs at once on a complete snapshot whose list grew by two files: each new file is registered and queued exactly once, FileCount 4', async () => {
    const config = testConfig(azurite());
    const services = createServices(config);
    const fx = exportFixture(azurite());
    await fx.upload([gz(jsonl(records(30, 3, 'ta'))), gz(jsonl(records(20, 2, 'tb')))]);
    const defender = fakeDefender(nextGeneratedTime(), () => fx.urls());
    const first = await runIngestCycle({ config, log: silentLog, services, timer: { defender } });
    expect(first).toMatchObject({ status: 'complete', files: 2 });

    await fx.append([gz(jsonl(records(25, 5, 'tc'))), gz(jsonl(records(15, 3, 'td')))]);
    const runs = await Promise.all([0, 1].map(() => runExportTimer(timerDeps(services, memoryLog(), { defender }))));
    expect(runs.reduce((n, r) => n + r.filesQueued, 0)).toBe(2);
    const urls = fx.urls();
    expect((await queued(services)).map((m) => [m.fileIndex, m.fileCount, stripQuery(m.url)])).toEqual([
      [2, 4, stripQuery(urls[2])],
      [3, 4, stripQuery(urls[3])],
    ]);
    expect((await services.catalog.getSnapshot(SOFTWARE_INVENTORY, first.snapshotId))!).toMatchObject({ Status: 'ingesting', FileCount: 4 });

    const second = await runIngestCycle({ config, log: silentLog, services, timer: { defender } });
    expect(second).toMatchObject({ snapshotId: first.snapshotId, status: 'complete', files: 4, rows: 90 });
    expect((await services.catalog.listFiles(first.snapshotId)).map((f) => f.BlobPath)).toEqual(urls.map(stripQuery));
  }, 60_000);
});

describe('superseding an older snapshot whose files all completed', () => {
  /** A complete two-file snapshot whose flip to complete was lost: it says ingesting, with stale totals. */
  async function lostFlip(services: AppServices, config: ReturnType<typeof testConfig>, generatedTime: Date) {
    const fx = exportFixture(azurite());
    await fx.upload([gz(jsonl(records(30, 3, 'sa'))), gz(jsonl(records(20, 2, 'sb')))]);
    const done = await runIngestCycle({ config, log: silentLog, services, timer: { defender: fakeDefender(generatedTime, () => fx.urls()) } });
    expect(done.status).toBe('complete');
    await services.catalog.updateSnapshot(SOFTWARE_INVENTORY, done.snapshotId, () => ({ Status: 'ingesting', FilesCompleted: 1, RowCount: 30 }));
    return { id: done.snapshotId, fx };
  }

  it('a newer export: the older snapshot, every file complete but the flip lost, ends complete with exact totals, not failed', async () => {
    const config = testConfig(azurite());
    const services = createServices(config);
    const { id, fx } = await lostFlip(services, config, nextGeneratedTime());
    const newer = nextGeneratedTime();
    const outcome = await runExportTimer(timerDeps(services, memoryLog(), { defender: fakeDefender(newer, () => fx.urls()) }));
    expect(outcome).toMatchObject({ action: 'created', snapshotId: snapshotIdFor(newer) });
    expect((await services.catalog.getSnapshot(SOFTWARE_INVENTORY, id))!).toMatchObject({
      Status: 'complete',
      Error: '',
      FileCount: 2,
      FilesCompleted: 2,
      RowCount: 50,
    });
  }, 60_000);

  it('a newer export generated in the same minute: the older snapshot, every file complete but the flip lost, ends complete, not failed', async () => {
    const config = testConfig(azurite());
    const services = createServices(config);
    const older = nextGeneratedTime();
    const { id, fx } = await lostFlip(services, config, older);
    const log = memoryLog();
    const outcome = await runExportTimer(timerDeps(services, log, { defender: fakeDefender(new Date(older.getTime() + 30_000), () => fx.urls()) }));
    expect(outcome).toMatchObject({ action: 'none', snapshotId: id, status: 'complete', filesQueued: 0 });
    expect((await services.catalog.getSnapshot(SOFTWARE_INVENTORY, id))!).toMatchObject({
      Status: 'complete',
      Error: '',
      FileCount: 2,
      FilesCompleted: 2,
      RowCount: 50,
    });
  }, 60_000);
});
