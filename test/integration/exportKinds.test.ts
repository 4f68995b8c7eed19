// Every export kind through the timer, the runner and retention, against Azurite and a stand-in Defender on
// 127.0.0.1 (docs/kinds.md): one kind refused with 403 fails alone, naming its permission; kinds exported in
// the same minute never share a file row or a message; retention keeps each kind's newest; the JSON and the
// files method store the same rows.
//
// Parts that need the generalised record mapper and file worker (another branch) run once every kind maps:
// until then a non-inventory record is a reject and its file rows are not found by the worker.
import { AppServices, createServices, timerDeps } from '../../shared/app/appContext';
import { CATALOG_TABLE, ExportKind, FILES_TABLE, parseMessage, progressPartition, snapshotIdFor, snapshotTableName } from '../../shared/core/contracts';
import { memoryLog, silentLog } from '../../shared/core/log';
import { memoryTelemetry } from '../../shared/core/telemetry';
import { EXPORT_KIND_NAMES, kindSpec } from '../../shared/kinds/exportKinds';
import { collectExports, ExportKindsFailedError, runExportTimer } from '../../shared/timer/exportCollector';
import { applyRetention } from '../../shared/timer/retention';
import { ensureTable } from '../../shared/storage/storageClients';
import { runIngestCycle, runIngestKinds } from '../../tools/runner/localRunner';
import { useAzurite } from '../helpers/azurite';
import { nextGeneratedTime, testConfig } from '../helpers/exportFixture';
import { tables } from '../helpers/inventoryTables';
import { KindsApi, kindRecords, startKindsApi } from '../helpers/kindsApi';
import { localIngestEnv, startIngest } from '../helpers/ingestProcess';

const azurite = useAzurite();
let api: KindsApi;
beforeAll(async () => {
  api = await startKindsApi(azurite());
  api.refuse('SoftwareVulnerabilities');
});
afterAll(async () => api?.stop());

const ALL = EXPORT_KIND_NAMES.join(',');
const OTHERS: ExportKind[] = ['SoftwareInventory', 'NonCpeSoftwareInventory', 'SecureConfigurations'];

function services(env: Record<string, string> = {}): AppServices {
  return createServices(testConfig(azurite(), { DEFENDER_API_BASE_URL: api.baseUrl, ...env }));
}

async function publishAll(generatedTime: Date, n = 12): Promise<void> {
  for (const kind of EXPORT_KIND_NAMES) await api.publish(kind, kindRecords(kind, n, 4, `k${generatedTime.getTime() % 100000}-`), { generatedTime });
}

/** A table's rows without the service's own properties, in key order: what row-for-row equality compares. */
async function rowsOf(name: string): Promise<Record<string, unknown>[]> {
  const rows = await tables(azurite().connectionString).all<Record<string, unknown>>(name);
  return rows
    .map(({ etag: _e, timestamp: _t, ...rest }) => rest)
    .sort((a, b) => (a.partitionKey + '\u0000' + a.rowKey < b.partitionKey + '\u0000' + b.rowKey ? -1 : 1));
}

describe('EXPORT_KINDS with every kind, SoftwareVulnerabilities refused (403)', () => {
  it('the refused kind fails naming Vulnerability.Read.All; the other three register their snapshot, table, file rows (with Kind) and messages, all for the same generatedTime without colliding', async () => {
    const s = services({ EXPORT_KINDS: ALL });
    const generatedTime = nextGeneratedTime();
    await publishAll(generatedTime);
    const id = snapshotIdFor(generatedTime);
    const log = memoryLog();
    const telemetry = memoryTelemetry();

    const err = await runExportTimer(timerDeps(s, log, { telemetry })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(
      /SoftwareVulnerabilities export \(\/api\/machines\/SoftwareVulnerabilitiesExport\) needs the Vulnerability\.Read\.All application permission/,
    );
    expect(log.lines.some((l) => l.startsWith('error SoftwareVulnerabilities: export run failed: ') && l.includes('Vulnerability.Read.All'))).toBe(true);

    // every other kind: its catalog partition, its dated table, file rows in its own progress partition
    const t = tables(azurite().connectionString);
    for (const kind of OTHERS) {
      expect(await s.catalog.getSnapshot(kind, id)).toMatchObject({
        partitionKey: kind,
        rowKey: id,
        Status: 'ingesting',
        TableName: `${kind}${id}`,
        FileCount: 2,
      });
      const files = await s.catalog.listFiles(progressPartition(kind, id));
      expect(files.map((f) => [f.partitionKey, f.rowKey, f.Kind, f.Status])).toEqual([
        [progressPartition(kind, id), '00000', kind, 'queued'],
        [progressPartition(kind, id), '00001', kind, 'queued'],
      ]);
      expect(await t.all(snapshotTableName(kind, id))).toEqual([]); // created, empty until the workers run
    }
    expect(progressPartition('SoftwareInventory', id)).toBe(id);
    expect(await s.catalog.getSnapshot('SoftwareVulnerabilities', id)).toBeUndefined();
    expect(await s.catalog.listFiles(progressPartition('SoftwareVulnerabilities', id))).toEqual([]);
    const fileRows = await t.all(FILES_TABLE);
    expect(
      fileRows
        .filter((r) => String(r.partitionKey).endsWith(id))
        .map((r) => r.partitionKey)
        .sort(),
    ).toEqual([id, id, `NonCpeSoftwareInventory${id}`, `NonCpeSoftwareInventory${id}`, `SecureConfigurations${id}`, `SecureConfigurations${id}`].sort());

    // one message per file, each naming its kind; the same snapshot id and file index never mean the same file
    const peeked = (await s.queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.map((m) => parseMessage(m.messageText));
    expect(peeked.map((m) => `${m.kind}/${m.snapshotId}/${m.fileIndex}`).sort()).toEqual(OTHERS.flatMap((k) => [`${k}/${id}/0`, `${k}/${id}/1`]).sort());
    expect(new Set(peeked.map((m) => m.url.split('?')[0])).size).toBe(6);

    // telemetry: one check per kind, the refused one as an error naming the permission
    const checks = telemetry.events.filter((e) => e.name === 'InventoryExportChecked').map((e) => [e.properties.kind, e.properties.action]);
    expect(checks).toEqual([
      ['SoftwareInventory', 'created'],
      ['NonCpeSoftwareInventory', 'created'],
      ['SoftwareVulnerabilities', 'error'],
      ['SecureConfigurations', 'created'],
    ]);
    expect(telemetry.events.find((e) => e.properties.action === 'error')!.properties.detail).toMatch(/Vulnerability\.Read\.All/);
    // each kind called its own endpoint
    for (const kind of EXPORT_KIND_NAMES) expect(api.requests).toContain(kindSpec(kind).filesPath);
  }, 60_000);

  it('a second run re-arms nothing that is queued and registers nothing twice; the refused kind fails again on its own', async () => {
    const s = services({ EXPORT_KINDS: ALL });
    const generatedTime = nextGeneratedTime();
    await publishAll(generatedTime, 6);
    const id = snapshotIdFor(generatedTime);
    const first = await collectExports(timerDeps(s, silentLog));
    const second = await collectExports(timerDeps(s, silentLog));
    expect(first.map((r) => [r.kind, r.outcome?.action ?? 'error'])).toEqual([
      ['SoftwareInventory', 'created'],
      ['NonCpeSoftwareInventory', 'created'],
      ['SoftwareVulnerabilities', 'error'],
      ['SecureConfigurations', 'created'],
    ]);
    expect(second.map((r) => [r.kind, r.outcome?.action ?? 'error'])).toEqual([
      ['SoftwareInventory', 'none'],
      ['NonCpeSoftwareInventory', 'none'],
      ['SoftwareVulnerabilities', 'error'],
      ['SecureConfigurations', 'none'],
    ]);
    for (const kind of OTHERS) expect(await s.catalog.listFiles(progressPartition(kind, id))).toHaveLength(2);
    const err = new ExportKindsFailedError(second);
    expect(err.message).toMatch(/^SoftwareVulnerabilities export|Vulnerability\.Read\.All/);
  }, 60_000);

  it('npm run ingest (the runner) with the inventory and the refused kind: one summary per kind in EXPORT_KINDS order, the inventory complete, the refused kind failed naming the permission', async () => {
    const s = services({ EXPORT_KINDS: 'SoftwareVulnerabilities,SoftwareInventory' });
    const generatedTime = nextGeneratedTime();
    await publishAll(generatedTime, 10);
    const id = snapshotIdFor(generatedTime);
    const progress: string[] = [];
    const kinds = await runIngestKinds({ config: s.config, log: silentLog, services: s, progressEverySeconds: 0.2, onProgress: (p) => progress.push(p.kind) });
    expect(kinds.map((k) => [k.kind, k.status])).toEqual([
      ['SoftwareVulnerabilities', 'failed'],
      ['SoftwareInventory', 'complete'],
    ]);
    expect(kinds[0]).toMatchObject({ snapshotId: '', table: '', files: 0, rows: 0 });
    expect(kinds[0].error).toMatch(/needs the Vulnerability\.Read\.All application permission/);
    expect(kinds[1]).toMatchObject({ snapshotId: id, table: `SoftwareInventory${id}`, files: 2, rows: 10, rejected: 0, duplicates: 0 });
    expect(Object.keys(kinds[1])).toEqual(['kind', 'snapshotId', 'table', 'status', 'files', 'rows', 'rejected', 'duplicates', 'seconds']);
    if (progress.length) expect(progress).not.toContain('SoftwareVulnerabilities');
  }, 120_000);

  it('the whole cycle with every kind: three dated tables and catalog partitions complete with every record, the refused kind failed', async () => {
    const s = services({ EXPORT_KINDS: ALL });
    const generatedTime = nextGeneratedTime();
    await publishAll(generatedTime, 16);
    const id = snapshotIdFor(generatedTime);
    const kinds = await runIngestKinds({ config: s.config, log: silentLog, services: s });
    expect(kinds.map((k) => [k.kind, k.status, k.rows, k.rejected])).toEqual([
      ['SoftwareInventory', 'complete', 16, 0],
      ['NonCpeSoftwareInventory', 'complete', 16, 0],
      ['SoftwareVulnerabilities', 'failed', 0, 0],
      ['SecureConfigurations', 'complete', 16, 0],
    ]);
    const t = tables(azurite().connectionString);
    for (const kind of OTHERS) {
      expect(await t.all(snapshotTableName(kind, id))).toHaveLength(16);
      expect((await s.catalog.listFiles(progressPartition(kind, id))).map((f) => [f.Kind, f.Status])).toEqual([
        [kind, 'complete'],
        [kind, 'complete'],
      ]);
    }
    const catalog = await t.all<{ Status: string }>(CATALOG_TABLE);
    expect(
      catalog
        .filter((r) => r.rowKey === id)
        .map((r) => [r.partitionKey, r.Status])
        .sort(),
    ).toEqual(OTHERS.map((k) => [k, 'complete']).sort());
  }, 180_000);
});

describe('JSON method per kind', () => {
  // a Defender that refuses nothing
  let open: KindsApi;
  beforeAll(async () => {
    open = await startKindsApi(azurite());
  });
  afterAll(async () => open?.stop());
  const servicesOf = (env: Record<string, string>) => createServices(testConfig(azurite(), { DEFENDER_API_BASE_URL: open.baseUrl, ...env }));

  for (const kind of EXPORT_KIND_NAMES) {
    it(`${kind}: the paged method stores the same rows as the files method, row for row, and records its run as file 0 in the kind's progress partition`, async () => {
      const generatedTime = nextGeneratedTime();
      const recs = kindRecords(kind, 23, 5, `j${generatedTime.getTime() % 100000}-`);
      await open.publish(kind, recs, { generatedTime, files: 3 });

      const viaFiles = servicesOf({ EXPORT_KINDS: kind });
      const files = await runIngestCycle({ config: viaFiles.config, log: silentLog, services: viaFiles });
      expect(files).toMatchObject({ kind, status: 'complete', rows: 23, rejected: 0 });

      const runMinute = new Date(generatedTime.getTime() + 30 * 60_000);
      const viaJson = servicesOf({ EXPORT_KINDS: kind, EXPORT_METHOD: 'json', JSON_PAGE_SIZE: '7' });
      const [json] = await collectExports(timerDeps(viaJson, silentLog, { now: () => runMinute }));
      const jsonId = snapshotIdFor(runMinute);
      expect(json.error).toBeUndefined();
      expect(json.outcome).toMatchObject({ kind, action: 'created', snapshotId: jsonId, tableName: `${kind}${jsonId}`, status: 'complete' });
      expect(await viaJson.catalog.getSnapshot(kind, jsonId)).toMatchObject({ Method: 'json', Status: 'complete', RowCount: 23, FileCount: 1 });
      expect((await viaJson.catalog.listFiles(progressPartition(kind, jsonId))).map((f) => [f.rowKey, f.Kind, f.Status])).toEqual([
        ['00000', kind, 'complete'],
      ]);
      expect((await viaJson.catalog.listFiles(progressPartition(kind, jsonId)))[0].BlobPath).toBe(`${open.baseUrl}${kindSpec(kind).jsonPath}`);

      expect(await rowsOf(`${kind}${jsonId}`)).toEqual(await rowsOf(files.table));
    }, 120_000);
  }
});

describe('RETENTION_DAYS per kind', () => {
  it("drops each kind's old snapshots with their file rows and rejects in the kind's progress partition, and keeps each kind's newest complete one", async () => {
    const s = services();
    await s.catalog.ensureTables();
    const DAY = 86_400_000;
    const base = Date.UTC(2071, 0, 1);
    const seed = async (kind: ExportKind, generatedMs: number, status: 'complete' | 'failed') => {
      const id = snapshotIdFor(new Date(generatedMs));
      const part = progressPartition(kind, id);
      await s.catalog.catalog.createEntity({
        partitionKey: kind,
        rowKey: id,
        Status: status,
        GeneratedTime: new Date(generatedMs),
        TableName: snapshotTableName(kind, id),
        Method: 'files',
        FileCount: 1,
        FilesCompleted: 1,
        RowCount: 0,
        RejectedCount: 0,
        DuplicateCount: 0,
        StartedAt: new Date(generatedMs),
      });
      await ensureTable(s.inventory, snapshotTableName(kind, id));
      await s.catalog.files.createEntity({
        partitionKey: part,
        rowKey: '00000',
        Kind: kind,
        BlobPath: 'https://x.blob.core.windows.net/c/f.json.gz',
        Status: status,
      });
      await s.catalog.rejects.createEntity({ partitionKey: part, rowKey: '00000-0000000001', Reason: 'r', Excerpt: 'e' });
      return part;
    };
    // the inventory: two old, one newest complete (old too); configurations: an old one and a newer failed one
    const invOld = await seed('SoftwareInventory', base, 'complete');
    const invNewest = await seed('SoftwareInventory', base + DAY, 'complete');
    const cfgNewest = await seed('SecureConfigurations', base, 'complete');
    const cfgFailed = await seed('SecureConfigurations', base + 2 * DAY, 'failed');
    const log = memoryLog();
    const dropped = await applyRetention({
      catalog: s.catalog,
      deleteTable: (n) => s.inventory.tableService.deleteTable(n),
      retentionDays: 7,
      log,
      now: () => new Date(base + 30 * DAY),
      kinds: ['SoftwareInventory', 'SecureConfigurations'],
    });
    // (earlier tests' snapshots, older than the limit, may go too)
    expect(dropped.filter((d) => [invOld, invNewest, cfgNewest, cfgFailed].includes(d)).sort()).toEqual([invOld, cfgFailed].sort());
    expect(await s.catalog.listFiles(invOld)).toEqual([]);
    expect(await s.catalog.listFiles(cfgFailed)).toEqual([]);
    // each kind's newest complete snapshot stays, with its bookkeeping
    expect(await s.catalog.listFiles(invNewest)).toHaveLength(1);
    expect(await s.catalog.listFiles(cfgNewest)).toHaveLength(1);
    // another kind's snapshot is named by its table name, as its progress partition is
    expect(log.lines).toContain(
      `info retention: dropped snapshot ${cfgFailed} (${cfgFailed}, failed, generated ${new Date(base + 2 * DAY).toISOString()}, 0 rollup rows) — older than 7 days`,
    );
  }, 60_000);
});

describe('npm run ingest (a real process)', () => {
  let open: KindsApi;
  beforeAll(async () => {
    open = await startKindsApi(azurite());
  });
  afterAll(async () => open?.stop());

  async function ingest(apiBaseUrl: string, kinds: string): Promise<{ code: number | null; lines: Record<string, unknown>[]; stderr: string }> {
    const p = startIngest(localIngestEnv(azurite().connectionString, apiBaseUrl, 'kinds', { EXPORT_KINDS: kinds }));
    const timer = setTimeout(() => void p.kill(), 150_000);
    const r = await p.exited;
    clearTimeout(timer);
    const lines = p
      .stdout()
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { code: r.code, lines, stderr: p.output() };
  }

  it('one kind refused: one line per kind in EXPORT_KINDS order, the refused one failed with an error naming the permission, exit code 1', async () => {
    const generatedTime = nextGeneratedTime();
    await publishAll(generatedTime, 8);
    const id = snapshotIdFor(generatedTime);
    const r = await ingest(api.baseUrl, 'SoftwareInventory,SoftwareVulnerabilities');
    expect(r.code).toBe(1);
    expect(r.lines.map((l) => [l.kind, l.status])).toEqual([
      ['SoftwareInventory', 'complete'],
      ['SoftwareVulnerabilities', 'failed'],
    ]);
    expect(r.lines[0]).toMatchObject({ snapshotId: id, table: `SoftwareInventory${id}`, files: 2, rows: 8, rejected: 0, duplicates: 0 });
    expect(r.lines[1]).toMatchObject({ snapshotId: '', table: '' });
    expect(r.lines[1].error).toMatch(
      /SoftwareVulnerabilities export \(\/api\/machines\/SoftwareVulnerabilitiesExport\) needs the Vulnerability\.Read\.All application permission/,
    );
  }, 180_000);

  it('the default single kind prints exactly one line, as before, with "kind"', async () => {
    const generatedTime = nextGeneratedTime();
    await open.publish('SoftwareInventory', kindRecords('SoftwareInventory', 6, 3, 'one-'), { generatedTime });
    const r = await ingest(open.baseUrl, 'SoftwareInventory');
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(1);
    expect(Object.keys(r.lines[0])).toEqual(['kind', 'snapshotId', 'table', 'status', 'files', 'rows', 'rejected', 'duplicates', 'seconds']);
    expect(r.lines[0]).toMatchObject({ kind: 'SoftwareInventory', snapshotId: snapshotIdFor(generatedTime), status: 'complete', rows: 6 });
  }, 180_000);

  it('every kind: four dated tables and four catalog partitions, exactly the records published', async () => {
    const generatedTime = nextGeneratedTime();
    const id = snapshotIdFor(generatedTime);
    for (const kind of EXPORT_KIND_NAMES) await open.publish(kind, kindRecords(kind, 10, 4, 'all-'), { generatedTime });
    const r = await ingest(open.baseUrl, ALL);
    expect(r.code).toBe(0);
    expect(r.lines.map((l) => [l.kind, l.status, l.table, l.rows, l.rejected])).toEqual(EXPORT_KIND_NAMES.map((k) => [k, 'complete', `${k}${id}`, 10, 0]));
    const t = tables(azurite().connectionString);
    for (const kind of EXPORT_KIND_NAMES) expect(await t.all(`${kind}${id}`)).toHaveLength(10);
    const catalog = await t.all(CATALOG_TABLE);
    expect(
      catalog
        .filter((c) => c.rowKey === id)
        .map((c) => c.partitionKey)
        .sort(),
    ).toEqual([...EXPORT_KIND_NAMES].sort());
  }, 180_000);
});
