// RETENTION_DAYS against Azurite: what applyRetention must never delete, whatever the catalog says.
// Catalog rows are written directly (that is the point: rows no run of this app would write as such);
// each test lives in its own year, after every earlier test's rows.
import { createServices } from '../../shared/app/appContext';
import { SnapshotRow, SOFTWARE_INVENTORY, snapshotIdFor, snapshotTableName } from '../../shared/core/contracts';
import { applyRetention } from '../../shared/timer/retention';
import { memoryLog } from '../../shared/core/log';
import { ensureTable } from '../../shared/storage/storageClients';
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
