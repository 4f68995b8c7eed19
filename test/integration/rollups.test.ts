// Rollups (docs/rollups.md) against Azurite: built by the real pipeline's hooks from simulator exports, they
// must equal what a full scan of the same snapshot table counts (devices per product/version, per product,
// per OS platform, per RBAC group, in total); a rebuild writes the same rows and removes the rows the changed
// data no longer has; a trend read from rollups equals the scan's, and a snapshot without a current rollup is
// scanned and marked so. The other kinds are checked on hand-built rows in their stored shape (docs/kinds.md).
import { odata, TableClient } from '@azure/data-tables';
import { AppServices, createServices } from '../../shared/app/appContext';
import { Config } from '../../shared/core/config';
import { ExportKind, SnapshotRow, snapshotTableName } from '../../shared/core/contracts';
import { memoryLog, silentLog } from '../../shared/core/log';
import { buildMissingRollups, rollupDeps } from '../../shared/rollup/buildMissing';
import { buildRollup } from '../../shared/rollup/rollupBuilder';
import { partialPartition } from '../../shared/rollup/rollupInParts';
import { hasCurrentRollup, manifestPartition, ROLLUP_TABLE, RollupMarker } from '../../shared/rollup/rollupKeys';
import { ensureTable } from '../../shared/storage/storageClients';
import { partitionKeyFor, rowKeyForParts } from '../../shared/storage/tableKeys';
import { DefenderSimulator, startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { runIngestCycle } from '../../tools/runner/localRunner';
import { CatalogRow } from '../../tools/query/snapshots';
import { productTrend } from '../../tools/query/trend';
import { cveTrend } from '../../tools/query/cve';
import { useAzurite } from '../helpers/azurite';
import { testConfig } from '../helpers/exportFixture';

const azurite = useAzurite();

let sim: DefenderSimulator;
let config: Config;
let services: AppServices;
const ids: string[] = [];

type Row = Record<string, unknown> & { partitionKey: string; rowKey: string };

async function all(table: TableClient, filter?: string): Promise<Row[]> {
  const out: Row[] = [];
  for await (const e of table.listEntities<Row>({ queryOptions: filter ? { filter } : undefined })) out.push(e);
  return out;
}

/** A snapshot's rollup rows, without its manifest (manifest rows carry no Dimension). */
async function rollupRows(kind: ExportKind, id: string): Promise<Row[]> {
  return (await all(services.inventory.table(ROLLUP_TABLE), odata`Kind eq ${kind} and SnapshotId eq ${id}`)).filter((r) => r.Dimension !== undefined);
}

/** A stored string property ('' when absent). */
const str = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v));

const rollups = () => services.inventory.table(ROLLUP_TABLE);
const inventory = (id: string) => services.inventory.table(snapshotTableName('SoftwareInventory', id));
const catalogRow = async (kind: ExportKind, id: string) => (await services.catalog.getSnapshot(kind, id))!;

/** What a full scan of an inventory table counts, computed here independently: "dimension|subject|detail" → devices. */
function scanCounts(rows: Row[]): Map<string, number> {
  const sets = new Map<string, Set<string>>();
  const add = (key: string, device: string) => {
    let s = sets.get(key);
    if (!s) sets.set(key, (s = new Set()));
    s.add(device);
  };
  const vendorsOf = new Map<string, Set<string>>();
  for (const r of rows) {
    const [name, vendor, version] = [String(r.SoftwareName), String(r.SoftwareVendor), String(r.SoftwareVersion)];
    add('devices', r.partitionKey);
    add(`product|${name}|${vendor}`, r.partitionKey);
    add(`product|${name}|${vendor}|${version}`, r.partitionKey);
    add(`product|${name}||`, r.partitionKey); // across vendors, kept below only for names with several
    add(`product|${name}|||${version}`, r.partitionKey);
    add(`os|${str(r.OSPlatform)}`, r.partitionKey);
    add(`rbac|${str(r.RbacGroupName)}`, r.partitionKey);
    let v = vendorsOf.get(name);
    if (!v) vendorsOf.set(name, (v = new Set()));
    v.add(vendor);
  }
  const out = new Map<string, number>();
  for (const [k, s] of sets) {
    const across = /^product\|(.*)\|\|(\|.*)?$/.exec(k);
    if (across && (vendorsOf.get(across[1])?.size ?? 0) <= 1) continue;
    out.set(across ? `product|${across[1]}|${across[2] ?? ''}`.replace(/\|$/, '|') : k, s.size);
  }
  return out;
}

/** The same keys read back from a snapshot's rollup rows. */
function rollupCounts(rows: Row[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of rows) {
    const d = String(r.Dimension);
    let key: string;
    if (d === 'devices') key = 'devices';
    else if (d === 'product') {
      const vendor = String(r.SoftwareVendor);
      const base = vendor === '' ? `product|${String(r.SoftwareName)}|` : `product|${String(r.SoftwareName)}|${vendor}`;
      key = r.SoftwareVersion === undefined || r.SoftwareVersion === null ? base : `${base}|${str(r.SoftwareVersion)}`;
    } else if (d === 'os') key = `os|${String(r.OSPlatform)}`;
    else if (d === 'rbac') key = `rbac|${String(r.RbacGroupName)}`;
    else throw new Error(`unexpected dimension ${d} in an inventory rollup`);
    expect(out.has(key)).toBe(false);
    out.set(key, Number(r.Devices));
  }
  return out;
}

const sorted = (m: Map<string, number>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

async function expectExact(id: string): Promise<void> {
  const expected = scanCounts(await all(inventory(id)));
  const landed = rollupCounts(await rollupRows('SoftwareInventory', id));
  expect(sorted(landed)).toEqual(sorted(expected));
}

beforeAll(async () => {
  sim = await startDefenderSimulator({
    blobConnectionString: azurite().connectionString,
    devices: 60,
    seed: 5,
    generatedTime: new Date(Date.UTC(2026, 0, 5, 6, 0)),
  });
  config = testConfig(azurite(), { DEFENDER_API_BASE_URL: sim.baseUrl });
  services = createServices(config);
  for (let day = 0; day < 3; day++) {
    await sim.publish({ generatedTime: new Date(Date.UTC(2026, 0, 5 + day, 6, 0)) });
    const s = await runIngestCycle({ config, log: silentLog, services });
    expect(s.status).toBe('complete');
    ids.push(s.snapshotId);
  }
}, 240_000);

afterAll(async () => {
  await sim?.stop();
});

describe('rollups built at ingest', () => {
  it('leave every complete snapshot with a current rollup whose counts equal a full scan of its table', async () => {
    for (const id of ids) {
      const row = await catalogRow('SoftwareInventory', id);
      expect(hasCurrentRollup(row)).toBe(true);
      expect((row as typeof row & RollupMarker).RollupRows).toBeGreaterThan(0);
      await expectExact(id);
    }
  });

  it('answer a trend over three snapshots exactly as the scan does, marking each point from a rollup', async () => {
    const catalog = await Promise.all(ids.map((id) => catalogRow('SoftwareInventory', id)));
    const unmarked = catalog.map((r) => ({ ...r, RollupLayout: undefined }) as CatalogRow);
    const rows = await all(inventory(ids[2]));
    const products = [...new Map(rows.map((r) => [`${String(r.SoftwareVendor)}|${String(r.SoftwareName)}`, r])).values()].slice(0, 6);
    expect(products.length).toBeGreaterThan(3);
    for (const p of products) {
      for (const vendor of [String(p.SoftwareVendor), undefined]) {
        const q = { name: String(p.SoftwareName), vendor };
        const fast = await productTrend({ tables: services.inventory }, { ...q, snapshots: catalog });
        const slow = await productTrend({ tables: services.inventory }, { ...q, snapshots: unmarked });
        expect(fast.points.map((x) => x.source)).toEqual(['rollup', 'rollup', 'rollup']);
        expect(slow.points.map((x) => x.source)).toEqual(['scan', 'scan', 'scan']);
        expect(fast.points.map((x) => ({ ...x, source: 'any' }))).toEqual(slow.points.map((x) => ({ ...x, source: 'any' })));
        expect(fast.points[2].devices).toBeGreaterThan(0);
      }
    }
  });

  it('falls back to a scan, marked, for a snapshot whose rollup is missing or no longer current', async () => {
    const catalog = await Promise.all(ids.map((id) => catalogRow('SoftwareInventory', id)));
    // the middle one was re-armed and completed again since its rollup was built
    catalog[1] = { ...catalog[1], CompletedAt: new Date(new Date(catalog[1].CompletedAt!).getTime() + 1000) };
    const r = (await all(inventory(ids[1])))[0];
    const trend = await productTrend({ tables: services.inventory }, { name: String(r.SoftwareName), vendor: String(r.SoftwareVendor), snapshots: catalog });
    expect(trend.points.map((x) => [x.snapshotId, x.source])).toEqual([
      [ids[0], 'rollup'],
      [ids[1], 'scan'],
      [ids[2], 'rollup'],
    ]);
    expect(trend.points[1].devices).toBeGreaterThan(0);
  });

  it('rebuilds idempotently: the same rows twice, and after the data changed only the new counts, stale rows gone', async () => {
    const id = ids[0];
    const snapshotRows = () => rollupRows('SoftwareInventory', id);
    const strip = (rows: Row[]) =>
      rows.map(({ etag: _e, timestamp: _t, ...rest }) => rest).sort((a, b) => (a.partitionKey + a.rowKey < b.partitionKey + b.rowKey ? -1 : 1));
    const before = strip(await snapshotRows());
    const manifestBefore = await all(rollups(), odata`PartitionKey eq ${manifestPartition('SoftwareInventory', id)}`);
    const again = await buildRollup(rollupDeps(services.catalog, silentLog), 'SoftwareInventory', await catalogRow('SoftwareInventory', id));
    expect(again).toMatchObject({ marked: true, staleDeleted: 0, rollupRows: before.length });
    expect(strip(await snapshotRows())).toEqual(before);
    expect(await all(rollups(), odata`PartitionKey eq ${manifestPartition('SoftwareInventory', id)}`)).toHaveLength(manifestBefore.length);

    // the data changes (as a re-armed snapshot's would): one product disappears everywhere, one device gains a new product
    const table = inventory(id);
    const rows = await all(table);
    const gone = rows[0];
    for (const r of rows.filter((x) => x.SoftwareVendor === gone.SoftwareVendor && x.SoftwareName === gone.SoftwareName))
      await table.deleteEntity(r.partitionKey, r.rowKey);
    const device = rows[rows.length - 1];
    await table.upsertEntity({
      ...device,
      etag: undefined,
      timestamp: undefined,
      rowKey: rowKeyForParts(['newvendor', 'newapp', '1.0']),
      SoftwareVendor: 'newvendor',
      SoftwareName: 'newapp',
      SoftwareVersion: '1.0',
    });
    await services.catalog.updateSnapshot('SoftwareInventory', id, (cur) => ({ RowCount: cur.RowCount + 1, CompletedAt: new Date() }));
    expect(hasCurrentRollup(await catalogRow('SoftwareInventory', id))).toBe(false);

    const res = await buildMissingRollups(rollupDeps(services.catalog, silentLog), ['SoftwareInventory']);
    expect(res.built.map((b) => b.snapshotId)).toEqual([id]);
    expect(res.built[0].staleDeleted).toBeGreaterThan(0);
    expect(hasCurrentRollup(await catalogRow('SoftwareInventory', id))).toBe(true);
    await expectExact(id);
    const goneRows = await all(
      rollups(),
      odata`SnapshotId eq ${id} and SoftwareName eq ${String(gone.SoftwareName)} and SoftwareVendor eq ${String(gone.SoftwareVendor)}`,
    );
    expect(goneRows).toEqual([]);
    const manifest = await all(rollups(), odata`PartitionKey eq ${manifestPartition('SoftwareInventory', id)}`);
    expect(manifest.length).toBe(new Set((await snapshotRows()).map((r) => r.partitionKey)).size);
    // and nothing left to do
    expect((await buildMissingRollups(rollupDeps(services.catalog, silentLog), ['SoftwareInventory'])).built).toEqual([]);
  });
});

describe('rollups of the other kinds (hand-built rows in their stored shape)', () => {
  const stamp = '202601101200';
  async function snapshotOf(kind: ExportKind, entities: Record<string, unknown>[]): Promise<void> {
    const name = snapshotTableName(kind, stamp);
    await ensureTable(services.inventory, name);
    for (const e of entities) await services.inventory.table(name).upsertEntity(e as Row, 'Replace');
    const row: SnapshotRow = {
      partitionKey: kind,
      rowKey: stamp,
      Status: 'complete',
      GeneratedTime: new Date(Date.UTC(2026, 0, 10, 12)),
      TableName: name,
      Method: 'files',
      FileCount: 1,
      FilesCompleted: 1,
      RowCount: entities.length,
      RejectedCount: 0,
      DuplicateCount: 0,
      StartedAt: new Date(),
      CompletedAt: new Date(),
    };
    await services.catalog.createSnapshot(row);
  }
  const dev = (id: string, os: string, rbac?: string) => ({
    partitionKey: partitionKeyFor(id),
    DeviceId: id,
    OSPlatform: os,
    ...(rbac ? { RbacGroupName: rbac } : {}),
  });
  const byKey = (rows: Row[]) =>
    Object.fromEntries(rows.map(({ etag: _e, timestamp: _t, partitionKey, rowKey, ...rest }) => [`${partitionKey} ${rowKey}`, rest]));

  it('count devices per CVE (with the highest score and severity), per vulnerable product, OS and RBAC group', async () => {
    const v = (d: ReturnType<typeof dev>, vendor: string, name: string, version: string, cve?: string, cvss?: number, sev?: string) => ({
      ...d,
      rowKey: rowKeyForParts([vendor, name, version, cve ?? '']),
      SoftwareVendor: vendor,
      SoftwareName: name,
      SoftwareVersion: version,
      ...(cve ? { CveId: cve, CvssScore: { value: String(cvss), type: 'Double' }, VulnerabilitySeverityLevel: sev } : {}),
    });
    const a = dev('aa01', 'Windows11', 'Servers');
    const b = dev('bb02', 'Windows10');
    await snapshotOf('SoftwareVulnerabilities', [
      v(a, 'google', 'chrome', '1.0', 'CVE-2026-0001', 8, 'High'),
      v(a, 'google', 'chrome', '1.0', 'CVE-2026-0002', 9.5, 'Critical'),
      v(a, 'google', 'chrome', '2.0', 'CVE-2026-0001', 8, 'High'), // a second version on one device: still one device
      v(b, 'google', 'chrome', '1.0', 'CVE-2026-0001', 8, 'High'),
      v(b, 'zoom', 'zoom', '5.0'), // no CVE: counted for the product, not for any CVE
    ]);
    await buildMissingRollups(rollupDeps(services.catalog, silentLog), ['SoftwareVulnerabilities']);
    expect(hasCurrentRollup(await catalogRow('SoftwareVulnerabilities', stamp))).toBe(true);
    const got = byKey(await rollupRows('SoftwareVulnerabilities', stamp));
    const base = { Kind: 'SoftwareVulnerabilities', SnapshotId: stamp, GeneratedTime: new Date(Date.UTC(2026, 0, 10, 12)) };
    expect(got).toEqual({
      [`SoftwareVulnerabilities|devices ${stamp}`]: { ...base, Dimension: 'devices', Devices: 2 },
      [`SoftwareVulnerabilities|cve|CVE-2026-0001 ${stamp}`]: {
        ...base,
        Dimension: 'cve',
        CveId: 'CVE-2026-0001',
        Devices: 2,
        CvssScore: 8,
        VulnerabilitySeverityLevel: 'High',
      },
      [`SoftwareVulnerabilities|cve|CVE-2026-0002 ${stamp}`]: {
        ...base,
        Dimension: 'cve',
        CveId: 'CVE-2026-0002',
        Devices: 1,
        CvssScore: 9.5,
        VulnerabilitySeverityLevel: 'Critical',
      },
      [`SoftwareVulnerabilities|product|chrome|google ${stamp}`]: {
        ...base,
        Dimension: 'product',
        SoftwareName: 'chrome',
        SoftwareVendor: 'google',
        Devices: 2,
      },
      [`SoftwareVulnerabilities|product|chrome|google ${stamp}|1.0`]: {
        ...base,
        Dimension: 'product',
        SoftwareName: 'chrome',
        SoftwareVendor: 'google',
        SoftwareVersion: '1.0',
        Devices: 2,
      },
      [`SoftwareVulnerabilities|product|chrome|google ${stamp}|2.0`]: {
        ...base,
        Dimension: 'product',
        SoftwareName: 'chrome',
        SoftwareVendor: 'google',
        SoftwareVersion: '2.0',
        Devices: 1,
      },
      [`SoftwareVulnerabilities|product|zoom|zoom ${stamp}`]: { ...base, Dimension: 'product', SoftwareName: 'zoom', SoftwareVendor: 'zoom', Devices: 1 },
      [`SoftwareVulnerabilities|product|zoom|zoom ${stamp}|5.0`]: {
        ...base,
        Dimension: 'product',
        SoftwareName: 'zoom',
        SoftwareVendor: 'zoom',
        SoftwareVersion: '5.0',
        Devices: 1,
      },
      [`SoftwareVulnerabilities|os|Windows11 ${stamp}`]: { ...base, Dimension: 'os', OSPlatform: 'Windows11', Devices: 1 },
      [`SoftwareVulnerabilities|os|Windows10 ${stamp}`]: { ...base, Dimension: 'os', OSPlatform: 'Windows10', Devices: 1 },
      [`SoftwareVulnerabilities|rbac|Servers ${stamp}`]: { ...base, Dimension: 'rbac', RbacGroupName: 'Servers', Devices: 1 },
      [`SoftwareVulnerabilities|rbac| ${stamp}`]: { ...base, Dimension: 'rbac', RbacGroupName: '', Devices: 1 },
    });

    // the CVE trend reads those rows in one query, and says so; without the marker it scans and counts the same
    const row = (await catalogRow('SoftwareVulnerabilities', stamp)) as CatalogRow;
    const ctx = { tables: services.inventory };
    for (const [cve, devices, cvssScore, severity] of [
      ['CVE-2026-0001', 2, 8, 'High'],
      ['CVE-2026-0002', 1, 9.5, 'Critical'],
      ['CVE-2026-9999', 0, undefined, undefined],
    ] as const) {
      const [fast] = await cveTrend(ctx, cve, [row]);
      const [slow] = await cveTrend(ctx, cve, [{ ...row, RollupLayout: undefined } as CatalogRow]);
      expect(fast).toMatchObject({ snapshotId: stamp, devices, source: 'rollup' });
      expect([fast.cvssScore, fast.severity]).toEqual([cvssScore, severity]);
      expect(slow).toMatchObject({ snapshotId: stamp, devices, source: 'scan' });
    }
  });

  it('count devices compliant, not compliant and not applicable per configuration', async () => {
    const c = (d: ReturnType<typeof dev>, scid: string, applicable: boolean, compliant: boolean) => ({
      ...d,
      rowKey: rowKeyForParts([scid]),
      ConfigurationId: scid,
      IsApplicable: applicable,
      IsCompliant: compliant,
    });
    const a = dev('aa01', 'Windows11', 'Servers');
    const b = dev('bb02', 'Windows11', 'Servers');
    const d3 = dev('cc03', 'Linux', 'Servers');
    await snapshotOf('SecureConfigurations', [
      c(a, 'scid-1', true, true),
      c(b, 'scid-1', true, false),
      c(d3, 'scid-1', false, false),
      c(a, 'scid-2', true, false),
    ]);
    await buildMissingRollups(rollupDeps(services.catalog, silentLog), ['SecureConfigurations']);
    const got = byKey(await rollupRows('SecureConfigurations', stamp));
    expect(got[`SecureConfigurations|config|scid-1 ${stamp}`]).toMatchObject({ Devices: 3, Compliant: 1, NonCompliant: 1, NotApplicable: 1 });
    expect(got[`SecureConfigurations|config|scid-2 ${stamp}`]).toMatchObject({ Devices: 1, Compliant: 0, NonCompliant: 1, NotApplicable: 0 });
    expect(got[`SecureConfigurations|os|Windows11 ${stamp}`]).toMatchObject({ Devices: 2 });
    expect(got[`SecureConfigurations|rbac|Servers ${stamp}`]).toMatchObject({ Devices: 3 });
    expect(got[`SecureConfigurations|devices ${stamp}`]).toMatchObject({ Devices: 3 });
    expect(Object.keys(got)).toHaveLength(6);
  });
});

describe('counted during ingest (docs/rollups.md#counted-during-ingest)', () => {
  it('builds the rollup from the rows the run mapped, without reading the table back, also when a file was resumed', async () => {
    await sim.publish({ generatedTime: new Date(Date.UTC(2026, 0, 9, 6, 0)) });
    // file 0's handler fails after its first checkpoint; its retry resumes there, replaying the lines before it
    let thrown = 0;
    const onProgress = (p: { fileIndex: number }) => {
      if (p.fileIndex === 0 && thrown++ === 0) throw new Error('handler failure (test)');
    };
    const log = memoryLog();
    const s = await runIngestCycle({
      config,
      log,
      services,
      host: { maxDequeueCount: 5, retryDelaySeconds: 0 },
      ingest: { onProgress, limits: { segmentRows: 50 } },
    });
    expect(s.status).toBe('complete');
    expect(thrown).toBeGreaterThan(1);
    const text = log.lines.join('\n');
    expect(text).toMatch(/file 1\/3: resuming after line 50 \(50 rows already written\)/);
    expect(text).toMatch(new RegExp(`rollup of SoftwareInventory snapshot ${s.snapshotId} .* \\(counted during ingest\\)`));
    expect(hasCurrentRollup(await catalogRow('SoftwareInventory', s.snapshotId))).toBe(true);
    await expectExact(s.snapshotId);
  }, 120_000);
});

describe('npm run ingest -- --no-rollups', () => {
  it('leaves the new snapshot without a rollup, and the next run with rollups builds it by a scan', async () => {
    await sim.publish({ generatedTime: new Date(Date.UTC(2026, 0, 8, 6, 0)) });
    const s = await runIngestCycle({ config, log: silentLog, services, rollups: false });
    expect(s.status).toBe('complete');
    expect(hasCurrentRollup(await catalogRow('SoftwareInventory', s.snapshotId))).toBe(false);
    // the same export again: nothing to ingest, but the timer and the runner build what is missing, from the table
    const log = memoryLog();
    await runIngestCycle({ config, log, services });
    expect(hasCurrentRollup(await catalogRow('SoftwareInventory', s.snapshotId))).toBe(true);
    expect(log.lines.join('\n')).toMatch(new RegExp(`rollup of SoftwareInventory snapshot ${s.snapshotId} .* \\(scan [\\d.]+ s\\)`));
    await expectExact(s.snapshotId);
  }, 120_000);
});

describe('a snapshot too large for one run (docs/rollups.md#large-snapshots)', () => {
  it('is counted part by part over several runs, starts over when re-armed meanwhile, and ends exact with its parts gone', async () => {
    await sim.publish({ generatedTime: new Date(Date.UTC(2026, 0, 11, 6, 0)) });
    const s = await runIngestCycle({ config, log: silentLog, services, rollups: false });
    expect(s.status).toBe('complete');
    const rows = (await catalogRow('SoftwareInventory', s.snapshotId)).RowCount;
    // a rate that makes the snapshot need ~14 s against a 2 s budget: 16 parts of ~0.9 s, two per run
    const opts = { budgetMs: 2000, rowsPerSecond: rows / 16 / 0.9 };
    const partials = async () => (await all(rollups(), odata`PartitionKey eq ${partialPartition('SoftwareInventory', s.snapshotId)}`)).length;
    const run = async () => {
      const log = memoryLog();
      const r = await buildMissingRollups(rollupDeps(services.catalog, log), ['SoftwareInventory'], opts);
      return { r, text: log.lines.join('\n') };
    };

    const first = await run();
    expect(first.r.built).toEqual([]);
    expect(first.text).toMatch(new RegExp(`snapshot ${s.snapshotId}: .*counted in parts: 2 of 16 done \\(\\d+ rows read this run\\)`));
    await run();
    expect(hasCurrentRollup(await catalogRow('SoftwareInventory', s.snapshotId))).toBe(false);
    expect(await partials()).toBeGreaterThan(4);

    // re-armed and completed again meanwhile: the parts counted for the old completion do not count
    await services.catalog.updateSnapshot('SoftwareInventory', s.snapshotId, (cur) => ({ CompletedAt: new Date(new Date(cur.CompletedAt!).getTime() + 1000) }));
    expect((await run()).text).toContain('counted in parts: 2 of 16 done');

    let last = await run();
    for (let n = 0; n < 10 && last.r.built.length === 0; n++) last = await run();
    expect(last.r.built).toHaveLength(1);
    expect(last.r.built[0]).toMatchObject({ snapshotId: s.snapshotId, marked: true, source: 'parts' });
    expect(last.text).toMatch(/\(merged from its parts\)/);
    expect(hasCurrentRollup(await catalogRow('SoftwareInventory', s.snapshotId))).toBe(true);
    await expectExact(s.snapshotId);
    expect(await partials()).toBe(0);
  }, 180_000);
});
