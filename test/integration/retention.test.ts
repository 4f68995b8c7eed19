// RETENTION_DAYS against Azurite: what applyRetention must never delete, whatever the catalog says, and the
// rollup rows (docs/rollups.md) it must delete with a dropped snapshot, leaving every other snapshot's alone.
// Catalog rows are written directly (that is the point: rows no run of this app would write as such);
// each test lives in its own year, after every earlier test's rows.
import { odata } from '@azure/data-tables';
import { createServices } from '../../shared/app/appContext';
import { SnapshotRow, SOFTWARE_INVENTORY, snapshotIdFor, snapshotTableName } from '../../shared/core/contracts';
import { applyRetention } from '../../shared/timer/retention';
import { memoryLog } from '../../shared/core/log';
import { buildRollup, rollupDeps } from '../../shared/rollup/rollupBuilder';
import { hasCurrentRollup, manifestPartition, ROLLUP_TABLE, RollupMarker } from '../../shared/rollup/rollupKeys';
import { deleteSnapshotRollup } from '../../shared/rollup/rollupRetention';
import { deleteRowKeys, deleteRowRange, listRowKeys } from '../../shared/storage/rowDeletes';
import { ensureTable } from '../../shared/storage/storageClients';
import { partitionKeyFor, rowKeyForParts } from '../../shared/storage/tableKeys';
import { productTrend } from '../../tools/query/trend';
import { useAzurite } from '../helpers/azurite';
import { testConfig } from '../helpers/exportFixture';

const azurite = useAzurite();
const DAY = 86_400_000;
let year = 2060;
const era = () => Date.UTC(++year, 0, 1);

function setup() {
  const services = createServices(testConfig(azurite(), { RETENTION_DAYS: '7' }));
  const log = memoryLog();
  const seeded: string[] = [];
  /** The ids of this test's snapshots that were dropped (earlier tests' leftovers may go too). */
  const run = async (nowMs: number) =>
    (
      await applyRetention({
        catalog: services.catalog,
        deleteTable: (n) => services.inventory.tableService.deleteTable(n),
        retentionDays: 7,
        log,
        now: () => new Date(nowMs),
      })
    ).filter((id) => seeded.includes(id));
  /** A snapshot with its table, one file row and one reject row; `row` overrides catalog properties. */
  const seed = async (generatedMs: number, status: SnapshotRow['Status'], row: Record<string, unknown> = {}) => {
    await services.catalog.ensureTables();
    const id = snapshotIdFor(new Date(generatedMs));
    seeded.push(id);
    const entity = {
      partitionKey: SOFTWARE_INVENTORY,
      rowKey: id,
      Status: status,
      GeneratedTime: new Date(generatedMs),
      TableName: snapshotTableName(SOFTWARE_INVENTORY, id),
      Method: 'files',
      FileCount: 1,
      FilesCompleted: status === 'complete' ? 1 : 0,
      RowCount: 0,
      RejectedCount: 0,
      DuplicateCount: 0,
      StartedAt: new Date(generatedMs),
      ...row,
    };
    for (const k of Object.keys(entity)) if ((entity as Record<string, unknown>)[k] === undefined) delete (entity as Record<string, unknown>)[k];
    await services.catalog.catalog.createEntity(entity);
    await ensureTable(services.inventory, snapshotTableName(SOFTWARE_INVENTORY, id));
    await services.catalog.files.createEntity({
      partitionKey: id,
      rowKey: '00000',
      BlobPath: 'https://x.blob.core.windows.net/c/f.json.gz',
      Status: status === 'complete' ? 'complete' : 'queued',
    });
    await services.catalog.rejects.createEntity({ partitionKey: id, rowKey: '00000-0000000001', Reason: 'r', Excerpt: 'e' });
    return id;
  };
  const tableNames = async () => {
    const names: string[] = [];
    for await (const t of services.inventory.tableService.listTables()) names.push(t.name!);
    return names;
  };
  /** Catalog row, table, file rows and rejects all still there. */
  const kept = async (id: string, table = snapshotTableName(SOFTWARE_INVENTORY, id)) => {
    expect(await services.catalog.getSnapshot(SOFTWARE_INVENTORY, id)).toBeDefined();
    expect(await tableNames()).toContain(table);
    expect(await services.catalog.listFiles(id)).toHaveLength(1);
  };
  const gone = async (id: string) => {
    expect(await services.catalog.getSnapshot(SOFTWARE_INVENTORY, id)).toBeUndefined();
    expect(await tableNames()).not.toContain(snapshotTableName(SOFTWARE_INVENTORY, id));
    expect(await services.catalog.listFiles(id)).toEqual([]);
  };
  return { services, log, run, seed, kept, gone, tableNames };
}

describe('RETENTION_DAYS never deletes', () => {
  it('a snapshot that is still ingesting, however old', async () => {
    const r = setup();
    const base = era();
    const ingesting = await r.seed(base, 'ingesting');
    const failed = await r.seed(base + DAY, 'failed');
    const complete = await r.seed(base + 2 * DAY, 'complete');
    expect(await r.run(base + 100 * DAY)).toEqual([failed]);
    await r.kept(ingesting);
    await r.kept(complete);
    await r.gone(failed);
  });

  it('the newest complete snapshot, even when every snapshot is older than the limit and failed ones are newer', async () => {
    const r = setup();
    const base = era();
    const older = await r.seed(base, 'complete');
    const newest = await r.seed(base + DAY, 'complete');
    const failed = await r.seed(base + 2 * DAY, 'failed');
    expect((await r.run(base + 100 * DAY)).sort()).toEqual([older, failed].sort());
    await r.kept(newest);
    await r.gone(older);
  });

  it("a table whose name is not its catalog row's kind + stamp: the row is skipped with a warning, the table it names stays", async () => {
    const r = setup();
    const base = era();
    const newest = await r.seed(base + 3 * DAY, 'complete');
    // old rows pointing at the newest snapshot's table and at the catalog itself
    const atNewest = await r.seed(base, 'failed', { TableName: snapshotTableName(SOFTWARE_INVENTORY, newest) });
    const atCatalog = await r.seed(base + DAY, 'failed', { TableName: 'InventorySnapshots' });
    expect(await r.run(base + 100 * DAY)).toEqual([]);
    await r.kept(newest);
    await r.kept(atNewest);
    await r.kept(atCatalog);
    expect(await r.tableNames()).toContain('InventorySnapshots');
    expect(r.log.lines).toContain(
      `warn retention: skipped snapshot ${atNewest}: its catalog row names table ${snapshotTableName(SOFTWARE_INVENTORY, newest)}, not ${snapshotTableName(SOFTWARE_INVENTORY, atNewest)}; nothing deleted`,
    );
    expect(r.log.lines).toContain(
      `warn retention: skipped snapshot ${atCatalog}: its catalog row names table InventorySnapshots, not ${snapshotTableName(SOFTWARE_INVENTORY, atCatalog)}; nothing deleted`,
    );
  });

  it('a snapshot whose GeneratedTime is missing or unreadable: skipped with a warning, not compared as NaN', async () => {
    const r = setup();
    const base = era();
    const missing = await r.seed(base, 'failed', { GeneratedTime: undefined });
    const junk = await r.seed(base + DAY, 'failed', { GeneratedTime: 'not a date' });
    await r.seed(base + 2 * DAY, 'complete');
    expect(await r.run(base + 100 * DAY)).toEqual([]);
    await r.kept(missing);
    await r.kept(junk);
    expect(r.log.lines).toContain(`warn retention: skipped snapshot ${missing}: GeneratedTime is missing or not a date; nothing deleted`);
    expect(r.log.lines).toContain(`warn retention: skipped snapshot ${junk}: GeneratedTime is missing or not a date; nothing deleted`);
  });
});

describe('RETENTION_DAYS and rollups', () => {
  /** Chrome on six devices (version by device and `shift`), Office on the even ones: real rows for a real rollup. */
  const fill = async (r: ReturnType<typeof setup>, id: string, shift: number) => {
    const table = r.services.inventory.table(snapshotTableName(SOFTWARE_INVENTORY, id));
    const chrome: Record<string, number> = {};
    let rows = 0;
    for (let i = 0; i < 6; i++) {
      const device = `dev-${i}`;
      const version = `12${(i + shift) % 3}.0`;
      chrome[version] = (chrome[version] ?? 0) + 1;
      const products = [['google', 'chrome', version], ...(i % 2 ? [] : [['microsoft', 'office', '16.0']])];
      for (const [vendor, name, v] of products) {
        await table.upsertEntity({
          partitionKey: partitionKeyFor(device),
          rowKey: rowKeyForParts([vendor, name, v]),
          DeviceId: device,
          DeviceName: `${device}.contoso.com`,
          SoftwareVendor: vendor,
          SoftwareName: name,
          SoftwareVersion: v,
          OSPlatform: 'Windows11',
          RbacGroupName: i < 3 ? 'europe' : 'americas',
        });
        rows++;
      }
    }
    await r.services.catalog.updateSnapshot(SOFTWARE_INVENTORY, id, () => ({ RowCount: rows }));
    return chrome;
  };
  /** The rollup as the timer builds it, by a scan of the table. */
  const rollUp = async (r: ReturnType<typeof setup>, id: string) => {
    const build = await buildRollup(rollupDeps(r.services.catalog, r.log), SOFTWARE_INVENTORY, (await r.services.catalog.getSnapshot(SOFTWARE_INVENTORY, id))!);
    expect(build.marked).toBe(true);
    return build.rollupRows;
  };
  const rollups = (r: ReturnType<typeof setup>) => r.services.inventory.table(ROLLUP_TABLE);
  /** Every InventoryRollups row, keys and ETags included. */
  const everyRollupRow = async (r: ReturnType<typeof setup>) => {
    const out: Record<string, unknown>[] = [];
    for await (const e of rollups(r).listEntities()) out.push(e);
    return out;
  };
  /** The snapshot's own rows: its RowKeys in any partition, and its manifest. */
  const ownRows = async (r: ReturnType<typeof setup>, id: string) =>
    (await everyRollupRow(r)).filter((e) => String(e.rowKey).startsWith(id) || e.partitionKey === manifestPartition(SOFTWARE_INVENTORY, id));
  const dropLine = (id: string, status: string, generatedMs: number, rollupRows: number) =>
    `info retention: dropped snapshot ${id} (${snapshotTableName(SOFTWARE_INVENTORY, id)}, ${status}, generated ${new Date(generatedMs).toISOString()}, ${rollupRows} rollup rows) — older than 7 days`;

  it("drops a snapshot's rollup rows with it, leaves another snapshot's untouched and its trend read from them; a second run is a no-op", async () => {
    const r = setup();
    const base = era();
    const old = await r.seed(base, 'complete');
    await fill(r, old, 0);
    const oldRollupRows = await rollUp(r, old);
    const newest = await r.seed(base + DAY, 'complete');
    const chrome = await fill(r, newest, 1);
    await rollUp(r, newest);
    const bare = await r.seed(base + 2 * DAY, 'failed'); // never rolled up
    const oldBefore = await ownRows(r, old);
    expect(oldBefore.filter((e) => e.Dimension !== undefined)).toHaveLength(oldRollupRows);
    expect(oldBefore.filter((e) => e.Dimension === undefined).length).toBeGreaterThan(1); // its manifest
    const newestBefore = await ownRows(r, newest);

    expect((await r.run(base + 100 * DAY)).sort()).toEqual([old, bare].sort());
    await r.gone(old);
    await r.gone(bare);
    expect(await ownRows(r, old)).toEqual([]);
    expect(await ownRows(r, newest)).toEqual(newestBefore); // same rows, same ETags
    expect(r.log.lines).toContain(dropLine(old, 'complete', base, oldRollupRows));
    expect(r.log.lines).toContain(dropLine(bare, 'failed', base + 2 * DAY, 0));

    const row = (await r.services.catalog.getSnapshot(SOFTWARE_INVENTORY, newest))!;
    expect(hasCurrentRollup(row as typeof row & Partial<RollupMarker>)).toBe(true);
    const trend = await productTrend({ tables: r.services.inventory }, { name: 'chrome', vendor: 'google', snapshots: [row] });
    expect(trend.points).toMatchObject([{ snapshotId: newest, source: 'rollup', devices: 6, versions: chrome }]);

    const everything = await everyRollupRow(r);
    const lines = r.log.lines.length;
    expect(await r.run(base + 100 * DAY)).toEqual([]);
    expect(await everyRollupRow(r)).toEqual(everything);
    expect(r.log.lines.slice(lines).filter((l) => l.includes('dropped snapshot'))).toEqual([]);
    await r.kept(newest);
  });

  it('finishes the drop of a run that died half-way through a rollup: rows already gone are no error', async () => {
    const r = setup();
    const base = era();
    const old = await r.seed(base, 'complete');
    await fill(r, old, 2);
    const rollupRows = await rollUp(r, old);
    await r.seed(base + DAY, 'complete');
    // the dead run had dropped the table and about half the trend rows, not yet the manifest nor the catalog row
    await r.services.inventory.tableService.deleteTable(snapshotTableName(SOFTWARE_INVENTORY, old));
    const trendRows = (await ownRows(r, old)).filter((e) => e.Dimension !== undefined);
    const gone = trendRows.filter((_, i) => i % 2 === 0);
    for (const e of gone) await rollups(r).deleteEntity(String(e.partitionKey), String(e.rowKey));

    expect(await r.run(base + 100 * DAY)).toEqual([old]);
    await r.gone(old);
    expect(await ownRows(r, old)).toEqual([]);
    expect(r.log.lines).toContain(dropLine(old, 'complete', base, rollupRows - gone.length));
  });

  it('deletes in transactions, one by one where some rows are gone already; a missing table holds nothing', async () => {
    const r = setup();
    await ensureTable(r.services.inventory, 'RetentionScratch');
    const table = r.services.inventory.table('RetentionScratch');
    const keys = Array.from({ length: 250 }, (_, i) => `k${String(i).padStart(4, '0')}`);
    for (const rk of keys) await table.upsertEntity({ partitionKey: 'p', rowKey: rk, V: 1 });
    await table.upsertEntity({ partitionKey: 'q', rowKey: 'k0001', V: 1 });
    // 10 of the first transaction's rows and one of the last's went earlier
    for (const rk of [...keys.slice(40, 50), keys[240]]) await table.deleteEntity('p', rk);
    expect(await deleteRowKeys(table, 'p', keys)).toBe(250 - 11);
    expect(await listRowKeys(table, 'p')).toEqual([]);
    expect(await listRowKeys(table, 'q')).toEqual(['k0001']);
    expect(await deleteRowRange(table, 'q', { ge: 'k0002', lt: 'k0003' })).toBe(0);
    expect(await deleteRowRange(table, 'q')).toBe(1);

    const missing = r.services.inventory.table('NoSuchRollupTable');
    expect(await listRowKeys(missing, 'p', { ge: 'a', lt: 'b' })).toEqual([]);
    expect(await deleteRowRange(missing, 'p')).toBe(0);
    expect(await deleteSnapshotRollup(missing, SOFTWARE_INVENTORY, '206001010000')).toBe(0);
    expect(
      await (async () => {
        const names: string[] = [];
        for await (const t of r.services.inventory.tableService.listTables({ queryOptions: { filter: odata`TableName eq ${'NoSuchRollupTable'}` } }))
          names.push(t.name!);
        return names;
      })(),
    ).toEqual([]);
    await r.services.inventory.tableService.deleteTable('RetentionScratch');
  });
});
