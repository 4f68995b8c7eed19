// The query CLI (docs/query.md) as a real process against Azurite, over snapshots built by the real pipeline
// from the Defender simulator (two fleet generations), plus direct tests of the merge-join diff and of
// Table Storage's (Azurite's) result order that the merge relies on.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createServices } from '../../shared/app/appContext';
import { SnapshotRow, SOFTWARE_INVENTORY } from '../../shared/core/contracts';
import { silentLog } from '../../shared/core/log';
import { parseDefenderDate } from '../../shared/ingest/recordMapper';
import { ensureTable } from '../../shared/storage/storageClients';
import { partitionKeyFor, rowKeyFor } from '../../shared/storage/tableKeys';
import { DefenderSimulator, PublishedExport, startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { runIngestCycle } from '../../tools/runner/localRunner';
import { compareKeys, DiffChange, DiffRow, diffStreams, OrderError } from '../../tools/query/diff';
import { CatalogRow, resolveSnapshot, resolveSnapshots } from '../../tools/query/snapshots';
import { readEntities } from '../../tools/query/tableRead';
import { useAzurite } from '../helpers/azurite';
import { queryInProcess, Run } from '../helpers/queryRun';
import { testConfig } from '../helpers/exportFixture';
import { runTool } from '../helpers/toolProcess';

const azurite = useAzurite();

function query(args: string[], env?: Record<string, string>, cwd?: string): Promise<Run> {
  return runTool('tools/bin/query.ts', args, env ?? { AzureWebJobsStorage: azurite().connectionString }, { cwd });
}

/** The same CLI in this process: for the many variants, cheaply. */
const inproc = queryInProcess(azurite);

function json<T = Record<string, unknown>[]>(r: Run): T {
  if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

// ---------------------------------------------------------------------------------------------
// Fixture: snapshots A (fleet generation 0) and B (generation 1) through the real pipeline, then a failed
// snapshot F later on B's day and one still ingesting (I) the next day, which date/latest must never pick.

const A = '202503100800';
const B = '202503110800';
const F = '202503112000';
const I = '202503120900';
const X = '202503091200'; // failed, and its table is gone
let sim: DefenderSimulator;
let gen0: PublishedExport;
let gen1: PublishedExport;

beforeAll(async () => {
  sim = await startDefenderSimulator({
    blobConnectionString: azurite().connectionString,
    devices: 50,
    seed: 11,
    generatedTime: new Date(Date.UTC(2025, 2, 10, 8, 0)),
  });
  const config = testConfig(azurite(), { DEFENDER_API_BASE_URL: sim.baseUrl });
  const services = createServices(config);
  gen0 = await sim.publish();
  expect(await runIngestCycle({ config, log: silentLog, services })).toMatchObject({ snapshotId: A, status: 'complete' });
  gen1 = await sim.publish({ generatedTime: new Date(Date.UTC(2025, 2, 11, 8, 0)) });
  expect(await runIngestCycle({ config, log: silentLog, services })).toMatchObject({ snapshotId: B, status: 'complete' });

  const stub = (id: string, Status: SnapshotRow['Status'], generated: Date): SnapshotRow => ({
    partitionKey: SOFTWARE_INVENTORY,
    rowKey: id,
    Status,
    GeneratedTime: generated,
    TableName: `SoftwareInventory${id}`,
    Method: 'files',
    FileCount: 2,
    FilesCompleted: 1,
    RowCount: 1,
    RejectedCount: 0,
    DuplicateCount: 0,
    StartedAt: generated,
    ...(Status === 'failed' ? { Error: 'superseded by a newer export' } : {}),
  });
  await services.catalog.createSnapshot(stub(F, 'failed', new Date(Date.UTC(2025, 2, 11, 20, 0))));
  await services.catalog.createSnapshot(stub(I, 'ingesting', new Date(Date.UTC(2025, 2, 12, 9, 0))));
  await services.catalog.createSnapshot(stub(X, 'failed', new Date(Date.UTC(2025, 2, 9, 12, 0))));
  // their tables hold a row that must never show up through a date or latest
  const device = [...gen1.records()][0];
  for (const id of [F, I]) {
    await ensureTable(services.inventory, `SoftwareInventory${id}`);
    await services.inventory.table(`SoftwareInventory${id}`).upsertEntity({
      partitionKey: partitionKeyFor(device.deviceId),
      rowKey: rowKeyFor(device.softwareVendor, device.softwareName, 'partial-9'),
      DeviceId: device.deviceId,
      DeviceName: device.deviceName,
      SoftwareVendor: device.softwareVendor,
      SoftwareName: device.softwareName,
      SoftwareVersion: 'partial-9',
    });
  }
  // a device whose name tries to steer the analyst's terminal
  await services.inventory.table(`SoftwareInventory${F}`).upsertEntity({
    partitionKey: 'evil-device',
    rowKey: rowKeyFor('ev\u001b[31mil', 'app', '1'),
    DeviceId: 'evil-device',
    DeviceName: 'pwn\u001b[2J\u001b]0;owned\u0007\u202eexe.txt',
    SoftwareVendor: 'ev\u001b[31mil',
    SoftwareName: 'app',
    SoftwareVersion: '1',
  });
}, 60000);

afterAll(async () => {
  await sim?.stop();
});

type Groups = Map<string, { DeviceId: string; SoftwareVendor: string; SoftwareName: string; versions: Set<string> }>;

function groupsOf(exp: PublishedExport, deviceId?: string): Groups {
  const g: Groups = new Map();
  for (const r of exp.records()) {
    if (deviceId !== undefined && r.deviceId !== deviceId) continue;
    const key = JSON.stringify([r.deviceId, r.softwareVendor, r.softwareName]);
    if (!g.has(key)) g.set(key, { DeviceId: r.deviceId, SoftwareVendor: r.softwareVendor, SoftwareName: r.softwareName, versions: new Set() });
    g.get(key)!.versions.add(r.softwareVersion);
  }
  return g;
}

/** The diff computed the obvious way, from everything both exports published. */
function bruteForceDiff(from: PublishedExport, to: PublishedExport, deviceId?: string): { lines: string[]; totals: Record<string, number> } {
  const a = groupsOf(from, deviceId);
  const b = groupsOf(to, deviceId);
  const totals = { installed: 0, removed: 0, changed: 0, unchanged: 0 };
  const lines: string[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const g = (a.get(key) ?? b.get(key))!;
    const fromVersions = [...(a.get(key)?.versions ?? [])].sort();
    const toVersions = [...(b.get(key)?.versions ?? [])].sort();
    if (JSON.stringify(fromVersions) === JSON.stringify(toVersions)) {
      totals.unchanged++;
      continue;
    }
    const change = fromVersions.length === 0 ? 'installed' : toVersions.length === 0 ? 'removed' : 'changed';
    totals[change]++;
    lines.push(JSON.stringify({ change, DeviceId: g.DeviceId, SoftwareVendor: g.SoftwareVendor, SoftwareName: g.SoftwareName, fromVersions, toVersions }));
  }
  return { lines: lines.sort(), totals };
}

// ---------------------------------------------------------------------------------------------

describe('query CLI (process)', () => {
  it('snapshots --json: every catalog row, newest first, with the stored property names; human table too', async () => {
    const [r, human] = await Promise.all([query(['snapshots', '--json']), inproc(['snapshots'])]);
    const rows = json(r);
    expect(rows.map((s) => s.SnapshotId)).toEqual([I, F, B, A, X]);
    for (const s of rows) {
      expect(Object.keys(s)).toEqual([
        'SnapshotId',
        'Kind',
        'Status',
        'GeneratedTime',
        'TableName',
        'Method',
        'FileCount',
        'FilesCompleted',
        'RowCount',
        'RejectedCount',
        'DuplicateCount',
        'StartedAt',
        'CompletedAt',
      ]);
    }
    const b = rows[2];
    expect(b).toMatchObject({
      Kind: 'SoftwareInventory',
      Status: 'complete',
      GeneratedTime: '2025-03-11T08:00:00.000Z',
      TableName: `SoftwareInventory${B}`,
      Method: 'files',
      RowCount: gen1.totalRows,
      FileCount: gen1.files.length,
      FilesCompleted: gen1.files.length,
      RejectedCount: 0,
      DuplicateCount: 0,
    });
    expect(String(b.StartedAt)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(String(b.CompletedAt)).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(rows[0]).toMatchObject({ Status: 'ingesting', CompletedAt: null });
    expect(rows[1]).toMatchObject({ Status: 'failed' });

    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(new RegExp(`${B}\\s+complete\\s+2025-03-11 08:00`));
    expect(human.stdout).toContain(`Latest complete: ${B}`);
    expect(human.stdout).toContain(`${F} failed: superseded by a newer export`);
    // the pipeline built every complete snapshot's rollup: nothing to explain
    expect(human.stdout).not.toContain('no current rollup');
  });

  it('device: by DeviceId (point query), by DeviceName exact, case-insensitive and host name; rows carry §4 names and SnapshotId', async () => {
    // the device with the most rows in generation 1 that also existed in generation 0
    const ids0 = new Set([...gen0.records()].map((r) => r.deviceId));
    const counts = new Map<string, number>();
    for (const r of gen1.records()) if (ids0.has(r.deviceId)) counts.set(r.deviceId, (counts.get(r.deviceId) ?? 0) + 1);
    const deviceId = [...counts].sort((x, y) => y[1] - x[1])[0][0];
    const expected = [...gen1.records()].filter((r) => r.deviceId === deviceId);
    const name = expected[0].deviceName;

    const [byId, byName, byUpper, byHost, unknown, human] = await Promise.all([
      query(['device', deviceId, '--json']),
      inproc(['device', name, '--json', '--at', 'latest']),
      inproc(['device', name.toUpperCase(), '--json']),
      inproc(['device', name.split('.')[0], '--json']),
      query(['device', 'no-such-device.contoso.com']),
      inproc(['device', deviceId]),
    ]);
    const rows = json(byId);
    expect(rows).toHaveLength(expected.length);
    const byVersion = new Map(rows.map((r) => [`${String(r.SoftwareVendor)}|${String(r.SoftwareName)}|${String(r.SoftwareVersion)}`, r]));
    for (const rec of expected) {
      const row = byVersion.get(`${rec.softwareVendor}|${rec.softwareName}|${rec.softwareVersion}`);
      expect(row).toEqual({
        SnapshotId: B,
        DeviceId: rec.deviceId,
        DeviceName: rec.deviceName,
        OSPlatform: rec.osPlatform,
        RbacGroupName: rec.rbacGroupName,
        SoftwareVendor: rec.softwareVendor,
        SoftwareName: rec.softwareName,
        SoftwareVersion: rec.softwareVersion,
        EndOfSupportStatus: rec.endOfSupportStatus,
        NumberOfWeaknesses: rec.numberOfWeaknesses,
        SoftwareFirstSeenTimestamp: parseDefenderDate(rec.softwareFirstSeenTimestamp)!.toISOString(),
        EndOfSupportDate: rec.endOfSupportDate ? parseDefenderDate(rec.endOfSupportDate)!.toISOString() : null,
        DiskPaths: JSON.stringify(rec.diskPaths),
        RegistryPaths: JSON.stringify(rec.registryPaths),
      });
    }
    for (const r of [byName, byUpper, byHost]) expect(json(r)).toEqual(rows);
    expect(byUpper.stderr).toBe('');

    expect(unknown.code).toBe(3);
    expect(unknown.stdout).toBe('');
    expect(unknown.stderr).toContain('unknown device "no-such-device.contoso.com"');

    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`Device ${name}  DeviceId ${deviceId}`);
    expect(human.stdout).toContain(`In snapshot ${B}`);
    expect(human.stdout).toMatch(new RegExp(`^${expected.length} rows \\(\\d+ products\\)`, 'm'));
  });

  it('software: every device with a product, filtered by vendor and version; nothing found is an empty array', async () => {
    const all = [...gen1.records()];
    // the product on the most devices, and its most common version
    const count = (rows: typeof all, key: (r: (typeof all)[0]) => string) => {
      const m = new Map<string, number>();
      for (const r of rows) m.set(key(r), (m.get(key(r)) ?? 0) + 1);
      return [...m].sort((x, y) => y[1] - x[1])[0][0];
    };
    const [vendor, name] = JSON.parse(count(all, (r) => JSON.stringify([r.softwareVendor, r.softwareName]))) as [string, string];
    const ofProduct = all.filter((r) => r.softwareVendor === vendor && r.softwareName === name);
    const version = count(ofProduct, (r) => r.softwareVersion);
    const sameName = all.filter((r) => r.softwareName === name);

    const [byName, byVendorVersion, upper, none, human] = await Promise.all([
      inproc(['software', name, '--json']),
      query(['software', name, '--vendor', vendor, '--version', version, '--json', '--at', B]),
      inproc(['software', name.toUpperCase(), '--vendor', vendor.toUpperCase(), '--json']),
      inproc(['software', 'no_such_product', '--json']),
      inproc(['software', name, '--vendor', vendor]),
    ]);
    const rows = json(byName);
    expect(rows).toHaveLength(sameName.length);
    expect(rows.every((r) => r.SnapshotId === B && r.SoftwareName === name)).toBe(true);
    expect(new Set(rows.map((r) => r.DeviceId))).toEqual(new Set(sameName.map((r) => r.deviceId)));

    const filtered = json(byVendorVersion);
    expect(filtered).toHaveLength(ofProduct.filter((r) => r.softwareVersion === version).length);
    expect(filtered.every((r) => r.SoftwareVendor === vendor && r.SoftwareVersion === version)).toBe(true);

    expect(json(upper)).toHaveLength(ofProduct.length);
    expect(upper.stderr).toContain('lower-case');
    expect(json(none)).toEqual([]);

    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`${vendor} ${name} in snapshot ${B}`);
    expect(human.stdout).toContain(`${ofProduct.length} rows on ${new Set(ofProduct.map((r) => r.deviceId)).size} devices.`);
  });

  it('diff --json: one line per changed (device, vendor, name), then totals, equal to a brute-force diff of both exports', async () => {
    const [r, human] = await Promise.all([query(['diff', A, B, '--json']), inproc(['diff', '2025-03-10', 'latest'])]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const last = JSON.parse(lines.pop()!);
    const expected = bruteForceDiff(gen0, gen1);
    expect(last).toEqual({ totals: expected.totals });
    expect(expected.totals.installed).toBeGreaterThan(0);
    expect(expected.totals.removed).toBeGreaterThan(0);
    expect(expected.totals.changed).toBeGreaterThan(0);
    expect([...lines].sort()).toEqual(expected.lines);
    for (const l of lines) expect(Object.keys(JSON.parse(l))).toEqual(['change', 'DeviceId', 'SoftwareVendor', 'SoftwareName', 'fromVersions', 'toVersions']);
    // streamed device by device, in PartitionKey order
    const devices = lines.map((l) => partitionKeyFor(JSON.parse(l).DeviceId as string));
    expect(devices).toEqual([...devices].sort(compareKeys));
    // a multi-version group is one line (Defender keeps old versions beside new ones)
    expect(lines.some((l) => (JSON.parse(l).toVersions as string[]).length > 1)).toBe(true);

    expect(human.code).toBe(0);
    const t = expected.totals;
    expect(human.stdout).toContain(`installed ${t.installed}, removed ${t.removed}, changed ${t.changed}, unchanged ${t.unchanged.toLocaleString('en-US')}.`);
    expect(human.stdout).toContain(`Changes from snapshot ${A}`);
  });

  it('diff --device: point-queries one partition in both snapshots; a device in neither is exit 3', async () => {
    const changes = bruteForceDiff(gen0, gen1).lines.map((l) => JSON.parse(l) as DiffChange);
    const deviceId = changes.find((c) => c.change === 'changed')!.DeviceId;
    const [r, unknown] = await Promise.all([inproc(['diff', A, B, '--device', deviceId, '--json']), inproc(['diff', A, B, '--device', 'nobody'])]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    const expected = bruteForceDiff(gen0, gen1, deviceId);
    expect(JSON.parse(lines.pop()!)).toEqual({ totals: expected.totals });
    expect(lines.sort()).toEqual(expected.lines);
    expect(unknown.code).toBe(3);
  });

  it('snapshot arguments: dates and latest pick complete snapshots only; an explicit failed id is allowed with a warning; no match is exit 3', async () => {
    const deviceId = [...gen1.records()][0].deviceId;
    const at = (s: string) => inproc(['device', deviceId, '--json', '--at', s]);
    const [latest, day11, day12, day10, table, failed, before, unknownId] = await Promise.all([
      at('latest'),
      at('2025-03-11'),
      at('2025-03-12'),
      at('2025-03-10'),
      at(`SoftwareInventory${A}`),
      at(F),
      at('2025-03-09'),
      at('203001010000'),
    ]);
    const snapshotOf = (r: Run) => [...new Set(json(r).map((x) => x.SnapshotId))];
    expect(snapshotOf(latest)).toEqual([B]);
    expect(snapshotOf(day11)).toEqual([B]); // F is later that day but failed
    expect(snapshotOf(day12)).toEqual([B]); // I is that day but still ingesting
    expect(json(day12).some((x) => x.SoftwareVersion === 'partial-9')).toBe(false);
    expect(snapshotOf(day10)).toEqual([A]);
    expect(snapshotOf(table)).toEqual([A]);
    expect(json(failed).map((x) => x.SoftwareVersion)).toEqual(['partial-9']);
    expect(failed.stderr).toContain(`snapshot ${F} is failed`);

    expect(before.code).toBe(3);
    expect(before.stderr).toContain('no complete snapshot generated on or before 2025-03-09');
    expect(before.stderr).toContain(`nearby: ${B} (2025-03-11 08:00 UTC), ${A} (2025-03-10 08:00 UTC)`);
    expect(unknownId.code).toBe(3);
    expect(unknownId.stderr).toContain('unknown snapshot 203001010000');
    expect(unknownId.stderr).toContain(A);

    // in the catalog, but its table is gone (retention, or a failed start)
    const gone = await inproc(['software', 'app', '--at', X]);
    expect(gone.code).toBe(3);
    expect(gone.stderr).toContain(`table SoftwareInventory${X} does not exist`);
  });

  it('human output shows control and bidi characters from stored names escaped; --json keeps them exact', async () => {
    const [human, asJson, diff] = await Promise.all([
      inproc(['device', 'evil-device', '--at', F]),
      inproc(['device', 'evil-device', '--at', F, '--json']),
      inproc(['diff', B, F]),
    ]);
    for (const r of [human, diff]) {
      expect(r.code).toBe(0);
      expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e]/);
      expect(r.stdout).toContain('pwn\\x1b[2J\\x1b]0;owned\\x07\\u{202e}exe.txt');
    }
    expect(human.stdout).toContain('ev\\x1b[31mil');
    expect(json(asJson)[0]).toMatchObject({ DeviceName: 'pwn\u001b[2J\u001b]0;owned\u0007\u202eexe.txt', SoftwareVendor: 'ev\u001b[31mil' });
  });

  it('usage errors exit 2 with the usage on stderr; --help exits 0', async () => {
    const cases = [
      [],
      ['nonsense'],
      ['snapshots', '--json=yes'],
      ['device'],
      ['diff', A],
      ['diff', A, B, 'extra-argument'],
      ['device', 'x', '--at'],
      ['device', 'x', '--vendor', 'v'],
      ['device', 'x', '--at', '2025-02-30'],
      ['diff', `${A},${B}`, B],
    ];
    const [process2, ...runs] = await Promise.all([query(['snapshots', '--bogus']), ...cases.map((c) => inproc(c)), inproc(['--help'])]);
    const help = runs.pop()!;
    runs.unshift(process2);
    cases.unshift(['snapshots', '--bogus']);
    runs.forEach((r, i) => {
      expect({ args: cases[i], code: r.code }).toEqual({ args: cases[i], code: 2 });
      expect(r.stderr).toContain('usage: npm run query --');
      expect(r.stdout).toBe('');
    });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('exit codes');
  });

  it('settings: INVENTORY_STORAGE wins over AzureWebJobsStorage, local.settings.json is read, a missing setting is exit 2 (a settings error), a refused key exit 1, without secrets', async () => {
    const cs = azurite().connectionString;
    const settingsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'query-settings-'));
    fs.writeFileSync(path.join(settingsDir, 'local.settings.json'), JSON.stringify({ IsEncrypted: false, Values: { AzureWebJobsStorage: cs } }));
    const badKey = cs.replace(/AccountKey=[^;]+/, `AccountKey=${Buffer.from('not-the-key-but-secret').toString('base64')}`);
    const [inventory, local, missing, refused] = await Promise.all([
      inproc(['snapshots', '--json'], { INVENTORY_STORAGE: cs, AzureWebJobsStorage: 'UseDevelopmentStorage=true' }),
      query(['snapshots', '--json'], {}, settingsDir),
      inproc(['snapshots'], {}),
      inproc(['snapshots'], { AzureWebJobsStorage: badKey }),
    ]);
    expect(json(inventory)).toHaveLength(5);
    expect(json(local)).toHaveLength(5);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('INVENTORY_STORAGE');
    expect(missing.stderr).toContain('AzureWebJobsStorage');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('403');
    expect(refused.stderr).not.toContain(badKey.match(/AccountKey=([^;]+)/)![1]);
    expect(refused.stderr).not.toContain(cs.match(/AccountKey=([^;]+)/)![1]);
  });
});

// ---------------------------------------------------------------------------------------------

describe('Table Storage order (what the merge-join relies on)', () => {
  it('Azurite returns entities sorted by (PartitionKey, RowKey) in JS string order, across continuation pages', async () => {
    const services = createServices(testConfig(azurite()));
    const name = 'QueryOrderCheck';
    await ensureTable(services.inventory, name);
    const table = services.inventory.table(name);
    const ids = ['b', 'B', 'a', 'a/b', 'a#1', 'Zulu', 'é-device', '😀', 'x'.repeat(600), 'x'.repeat(599) + 'y', '0', '~tilde', 'a%b'];
    const triples: [string, string, string][] = [
      ['google', 'chrome', '1'],
      ['Mozilla', 'Firefox', '9'],
      ['a', 'b|c', 'd'],
      ['a', 'b', 'c/d'],
      ['v'.repeat(300), 'n'.repeat(300), '1.0'],
    ];
    const keys: [string, string][] = [];
    for (const id of ids) for (const t of triples) keys.push([partitionKeyFor(id), rowKeyFor(...t)]);
    // inserted in a scrambled order
    for (const [pk, rk] of [...keys].sort((x, y) => compareKeys(x[1] + x[0], y[1] + y[0]))) await table.upsertEntity({ partitionKey: pk, rowKey: rk });
    const seen: [string, string][] = [];
    for await (const page of table.listEntities().byPage({ maxPageSize: 5 })) for (const e of page) seen.push([e.partitionKey!, e.rowKey!]);
    const expected = [...keys].sort((x, y) => compareKeys(x[0], y[0]) || compareKeys(x[1], y[1]));
    expect(seen).toEqual(expected);
  });

  it('a real snapshot table streams in (PartitionKey, RowKey) order over more than one page', async () => {
    const services = createServices(testConfig(azurite()));
    let prev: [string, string] | undefined;
    let n = 0;
    let pages = 0;
    for await (const e of readEntities<DiffRow>(services.inventory.table(`SoftwareInventory${B}`), B, {
      select: ['PartitionKey', 'RowKey'],
      onPage: () => pages++,
    })) {
      if (prev) expect(compareKeys(prev[0], e.partitionKey) || compareKeys(prev[1], e.rowKey)).toBe(-1);
      prev = [e.partitionKey, e.rowKey];
      n++;
    }
    expect(n).toBe(gen1.totalRows);
    expect(pages).toBeGreaterThan(1);
  });
});

// ---------------------------------------------------------------------------------------------

function row(pk: string, vendor: string, name: string, version: string, deviceId = pk): DiffRow {
  return { partitionKey: pk, DeviceId: deviceId, SoftwareVendor: vendor, SoftwareName: name, SoftwareVersion: version };
}

async function* stream<T>(items: readonly T[], onPull?: (n: number) => void): AsyncGenerator<T> {
  let n = 0;
  for (const it of items) {
    onPull?.(++n);
    yield it;
  }
}

async function collect(from: DiffRow[], to: DiffRow[]) {
  const changes: DiffChange[] = [];
  const totals = await diffStreams(stream(from), stream(to), (c) => void changes.push(c));
  return { changes, totals };
}

describe('merge-join diff', () => {
  it('installed, removed, changed and unchanged groups, devices on one side only, version sets not single versions', async () => {
    const longId = 'L'.repeat(700);
    const from = [
      row('d1', 'a', 'x', '1'),
      row('d1', 'a', 'y', '1'),
      row('d1', 'b', 'z', '1'),
      row('d1', 'b', 'z', '2'),
      row('d2', 'a', 'x', '1'),
      row(partitionKeyFor(longId), 'v|w', 'n', '3', longId),
    ].sort((p, q) => compareKeys(p.partitionKey, q.partitionKey));
    const to = [
      row('d1', 'a', 'x', '2'),
      row('d1', 'b', 'z', '2'),
      row('d1', 'b', 'z', '1'),
      row('d1', 'c', 'new', '10.0'),
      row('d1', 'c', 'new', '9.0'),
      row('d3', 'a', 'x', '1'),
      row(partitionKeyFor(longId), 'v|w', 'n', '3', longId),
    ].sort((p, q) => compareKeys(p.partitionKey, q.partitionKey));
    const { changes, totals } = await collect(from, to);
    expect(changes).toEqual([
      { change: 'changed', DeviceId: 'd1', SoftwareVendor: 'a', SoftwareName: 'x', fromVersions: ['1'], toVersions: ['2'] },
      { change: 'removed', DeviceId: 'd1', SoftwareVendor: 'a', SoftwareName: 'y', fromVersions: ['1'], toVersions: [] },
      { change: 'installed', DeviceId: 'd1', SoftwareVendor: 'c', SoftwareName: 'new', fromVersions: [], toVersions: ['10.0', '9.0'] },
      { change: 'removed', DeviceId: 'd2', SoftwareVendor: 'a', SoftwareName: 'x', fromVersions: ['1'], toVersions: [] },
      { change: 'installed', DeviceId: 'd3', SoftwareVendor: 'a', SoftwareName: 'x', fromVersions: [], toVersions: ['1'] },
    ]);
    // d1 b/z ({1,2} both sides) and the long-id device's group are unchanged
    expect(totals).toEqual({ installed: 2, removed: 2, changed: 1, unchanged: 2 });
    expect(await collect([], [])).toEqual({ changes: [], totals: { installed: 0, removed: 0, changed: 0, unchanged: 0 } });
  });

  it('holds one device per side: when a device is reported, neither stream has been read past the next device', async () => {
    const devices = 50;
    const perDevice = 20;
    const build = (version: string) =>
      Array.from({ length: devices * perDevice }, (_, i) => row(`dev${String(Math.floor(i / perDevice)).padStart(3, '0')}`, 'v', `p${i % perDevice}`, version));
    let pulledFrom = 0;
    let pulledTo = 0;
    let reports = 0;
    await diffStreams(
      stream(build('1'), (n) => (pulledFrom = n)),
      stream(build('2'), (n) => (pulledTo = n)),
      (c) => {
        const device = Number(c.DeviceId.slice(3));
        // rows of this device plus the first row of the next one (how the boundary is seen)
        expect(pulledFrom).toBeLessThanOrEqual((device + 1) * perDevice + 1);
        expect(pulledTo).toBeLessThanOrEqual((device + 1) * perDevice + 1);
        reports++;
      },
    );
    expect(reports).toBe(devices * perDevice);
  });

  it('refuses a source that is not in PartitionKey order instead of producing a wrong diff', async () => {
    await expect(collect([row('b', 'v', 'n', '1'), row('a', 'v', 'n', '1')], [])).rejects.toThrow(OrderError);
  });
});

describe('snapshot argument resolution', () => {
  const cat = (id: string, Status: SnapshotRow['Status']): CatalogRow =>
    ({
      partitionKey: SOFTWARE_INVENTORY,
      rowKey: id,
      Status,
      TableName: `SoftwareInventory${id}`,
      GeneratedTime: new Date(Date.UTC(+id.slice(0, 4), +id.slice(4, 6) - 1, +id.slice(6, 8), +id.slice(8, 10), +id.slice(10))),
    }) as CatalogRow;
  const rows = [
    cat('202402030600', 'ingesting'),
    cat('202402020600', 'complete'),
    cat('202402012359', 'complete'),
    cat('202402010000', 'failed'),
    cat('202401310600', 'complete'),
  ];
  const ids = (text: string) => resolveSnapshots(text, rows).snapshots.map((s) => s.rowKey);

  it('single forms', () => {
    expect(resolveSnapshot('latest', rows).snapshots[0].rowKey).toBe('202402020600');
    expect(resolveSnapshot('2024-02-01', rows).snapshots[0].rowKey).toBe('202402012359'); // the day's last minute counts
    expect(resolveSnapshot('2024-01-31', rows).snapshots[0].rowKey).toBe('202401310600');
    expect(() => resolveSnapshot('2024-01-30', rows)).toThrow(/nearby: .*202401310600/);
    expect(() => resolveSnapshot('latest', [rows[0]])).toThrow(/no snapshot is complete yet/);
    expect(() => resolveSnapshot('last', rows)).toThrow(/not a snapshot argument/);
  });

  it('lists and ranges (--at): complete snapshots only in ranges, oldest first; lists keep their order', () => {
    expect(ids('2024-01-31..2024-02-02')).toEqual(['202401310600', '202402012359', '202402020600']);
    expect(ids('2024-02-01..')).toEqual(['202402012359', '202402020600']);
    expect(ids('..2024-01-31')).toEqual(['202401310600']);
    expect(ids('202402012359..latest')).toEqual(['202402012359', '202402020600']);
    expect(ids('latest,2024-01-31,202402020600')).toEqual(['202402020600', '202401310600']);
    expect(resolveSnapshots('2024-02-01..', rows).warnings.join()).toContain('202402030600');
    expect(() => ids('2025-01-01..')).toThrow(/no complete snapshot in the range/);
  });
});
