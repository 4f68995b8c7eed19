import { odata } from '@azure/data-tables';
import { createServices, timerDeps } from '../../shared/app/appContext';
import { SnapshotRow } from '../../shared/core/contracts';
import { runExportTimer } from '../../shared/timer/exportCollector';
import { silentLog } from '../../shared/core/log';
import { ROLLUP_TABLE } from '../../shared/rollup/rollupKeys';
import { startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { runIngestCycle } from '../../tools/runner/localRunner';
import { useAzurite } from '../helpers/azurite';
import { exportFixture, fakeDefender, gz, jsonl, records, testConfig } from '../helpers/exportFixture';

const azurite = useAzurite();

describe('EXPORT_METHOD=json', () => {
  it('pages SoftwareInventoryByMachine through the real client into the same table layout', async () => {
    const sim = await startDefenderSimulator({ blobConnectionString: azurite().connectionString, devices: 40, seed: 7, extraColumns: true });
    try {
      const published = await sim.publish();
      const config = testConfig(azurite(), { DEFENDER_API_BASE_URL: sim.baseUrl, EXPORT_METHOD: 'json', JSON_PAGE_SIZE: '250' });
      const services = createServices(config);
      const summary = await runIngestCycle({ config, log: silentLog, services });
      expect(summary).toMatchObject({ status: 'complete', files: 1, rows: published.totalRows, rejected: 0, duplicates: 0 });
      const snap = await services.catalog.getSnapshot('SoftwareInventory', summary.snapshotId);
      expect(snap).toMatchObject({ Method: 'json', Status: 'complete', FilesCompleted: 1 });
      const pages = sim.requests.filter((r) => r.path.toLowerCase().endsWith('softwareinventorybymachine') && r.status === 200).length;
      expect(pages).toBe(Math.ceil(published.totalRows / 250));
      // same keys and properties as the files method would write
      const first = published.records().next().value!;
      const row = await services.inventory
        .table(summary.table)
        .getEntity<Record<string, unknown>>(first.deviceId, `${first.softwareVendor}|${first.softwareName}|${first.softwareVersion}`.replace(/\//g, '%2F'));
      expect(row).toMatchObject({ DeviceId: first.deviceId, SoftwareVersion: first.softwareVersion, DeviceName: first.deviceName });
      expect('cveIds' in row).toBe(false);
    } finally {
      await sim.stop();
    }
  });
});

describe('RETENTION_DAYS', () => {
  it('drops snapshots older than the limit with their bookkeeping, never the newest complete one', async () => {
    const config = testConfig(azurite(), { RETENTION_DAYS: '7' });
    const services = createServices(config);
    const fx = exportFixture(azurite());
    await fx.upload([gz(jsonl(records(20, 2)))]);
    const day = 86_400_000;
    const base = Date.UTC(2030, 0, 1, 6, 0);
    const ids: string[] = [];
    // four daily snapshots, each run "on" its own day; the retention clock is the run's clock
    for (let d = 0; d < 4; d++) {
      const now = () => new Date(base + d * 10 * day + 60_000);
      const defender = fakeDefender(new Date(base + d * 10 * day), () => fx.urls());
      const s = await runIngestCycle({ config, log: silentLog, services, timer: { defender, now } });
      expect(s.status).toBe('complete');
      ids.push(s.snapshotId);
    }
    const left = async () => (await services.catalog.listSnapshots('SoftwareInventory')).map((s: SnapshotRow) => s.rowKey).filter((id) => ids.includes(id));
    // retention runs as a cycle starts: the previous snapshot is then still the newest complete one, so it stays
    expect(await left()).toEqual([ids[3], ids[2]]);
    expect(await services.catalog.listFiles(ids[0])).toEqual([]);
    const tables: string[] = [];
    for await (const t of services.inventory.tableService.listTables()) tables.push(t.name!);
    expect(tables).toContain(`SoftwareInventory${ids[3]}`);
    for (const id of ids.slice(0, 2)) expect(tables).not.toContain(`SoftwareInventory${id}`);
    // each cycle rolled its snapshot up; a dropped snapshot's rollup rows (manifest included) went with it
    const rollupRowsOf = async (id: string) => {
      let n = 0;
      for await (const _ of services.inventory.table(ROLLUP_TABLE).listEntities({ queryOptions: { filter: odata`SnapshotId eq ${id}`, select: ['RowKey'] } }))
        n++;
      return n;
    };
    for (const id of ids.slice(0, 2)) expect(await rollupRowsOf(id)).toBe(0);
    for (const id of ids.slice(2)) expect(await rollupRowsOf(id)).toBeGreaterThan(0);

    // the next run drops it; with everything older than the limit, the newest complete snapshot still stays
    const later = () => new Date(base + 100 * day);
    await runExportTimer(timerDeps(services, silentLog, { defender: fakeDefender(new Date(base + 30 * day), () => fx.urls()), now: later }));
    expect(await left()).toEqual([ids[3]]);
    expect(await rollupRowsOf(ids[2])).toBe(0);
    expect(await rollupRowsOf(ids[3])).toBeGreaterThan(0);
  });
});
