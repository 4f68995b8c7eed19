// The analysts' additions to the query CLI (docs/query.md#trend, #device---history, #csv-output) against
// Azurite: three complete snapshots written with the pipeline's own record mapping, in which one device
// installs, upgrades and removes software, and a product's versions spread and shift; plus a snapshot still
// ingesting, whose rows must never show up in a default range.
import { mapRecord } from '../../shared/ingest/recordMapper';
import { useAzurite } from '../helpers/azurite';
import { parseCsv } from '../helpers/csv';
import { KindTable, Props, writeKindTables } from '../helpers/kindTables';
import { ok, queryInProcess, Run } from '../helpers/queryRun';
import { runTool } from '../helpers/toolProcess';

const azurite = useAzurite();

const inproc = queryInProcess(azurite);

/** CSV output as objects keyed by its header, after checking the header is exactly `columns`. */
function csvRecords(r: Run, columns: readonly string[]): Record<string, string>[] {
  const [header, ...rows] = parseCsv(ok(r));
  expect(header).toEqual(columns);
  return rows.map((f) => Object.fromEntries(header.map((h, i) => [h, f[i]])));
}

const S1 = '202506010600';
const S2 = '202506020600';
const S3 = '202506030600';
const S4 = '202506040600'; // ingesting: out of every default range

const D1 = 'a1'.repeat(20);
const D2 = 'b2'.repeat(20);
const D3 = 'c3'.repeat(20);
// a vendor and product whose text needs CSV quoting: comma, quotes and a line break
const ODD_VENDOR = 'contoso, "ltd"';
const ODD_NAME = 'tool\nedition';

type Sw = [vendor: string, name: string, version: string];

/** What each device has in each snapshot. D1: install, upgrade and removal between S1, S2 and S3. */
const FLEET: Record<string, Record<string, Sw[]>> = {
  [S1]: {
    [D1]: [
      ['microsoft', 'edge', '120.0'],
      ['legacy', 'oldapp', '3.1'],
      [ODD_VENDOR, ODD_NAME, '1.0'],
      ['apache', 'log4j', '2.14.1'],
    ],
    [D2]: [['apache', 'log4j', '2.14.1']],
    [D3]: [['apache', 'log4j', '2.17.1']],
  },
  [S2]: {
    [D1]: [
      ['microsoft', 'edge', '120.0'],
      [ODD_VENDOR, ODD_NAME, '2.0'], // upgraded
      ['igor pavlov', '7-zip', '23.01'], // installed
      ['apache', 'log4j', '2.17.1'],
    ], // oldapp removed
    [D2]: [['apache', 'log4j', '2.14.1']],
    [D3]: [
      ['apache', 'log4j', '2.17.1'],
      ['apache', 'log4j', '2.20.0'], // two versions on one device: one device all the same
    ],
  },
  [S3]: {
    [D1]: [
      ['microsoft', 'edge', '120.0'],
      [ODD_VENDOR, ODD_NAME, '2.0'],
      ['notepad++', 'notepad++', '8.6'], // installed; 7-zip removed
      ['apache', 'log4j', '2.20.0'],
    ],
    [D2]: [
      ['apache', 'log4j', '2.17.1'],
      ['other', 'log4j', '1.0'], // same name, another vendor: only without --vendor
    ],
    [D3]: [], // log4j gone, device gone
    // ten single-device chrome versions: more than the human trend shows as columns
    ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`d${String(i).padStart(39, '0')}`, [['google', 'chrome', `12${i}.0`]] as Sw[]])),
  },
  [S4]: { [D1]: [['apache', 'log4j', '9.9.9-partial']] },
};

/** A stored inventory row as the pipeline's record mapping makes it. */
function mapped(deviceId: string, [softwareVendor, softwareName, softwareVersion]: Sw): Props {
  const m = mapRecord({
    deviceId,
    deviceName: `host-${deviceId.slice(0, 4)}.contoso.com`,
    osPlatform: 'Windows11',
    rbacGroupName: 'Workstations',
    softwareVendor,
    softwareName,
    softwareVersion,
    numberOfWeaknesses: 1,
    endOfSupportStatus: 'None',
    softwareFirstSeenTimestamp: '2025-01-02 03:04:05',
    diskPaths: ['C:\\Program Files\\x, y'],
    registryPaths: [],
  });
  if (!m.ok) throw new Error(m.reason);
  return m.entity;
}

const TABLES: KindTable[] = Object.entries(FLEET).map(([id, devices]) => ({
  kind: 'SoftwareInventory',
  id,
  status: id === S4 ? 'ingesting' : 'complete',
  rows: Object.entries(devices).flatMap(([deviceId, software]) => software.map((sw) => mapped(deviceId, sw))),
}));

beforeAll(async () => {
  await writeKindTables(azurite(), TABLES);
}, 60000);

const HISTORY_COLUMNS = [
  'DeviceId',
  'DeviceName',
  'SoftwareVendor',
  'SoftwareName',
  'SoftwareVersion',
  'FirstSnapshotId',
  'FirstGeneratedTime',
  'LastSnapshotId',
  'LastGeneratedTime',
  'SnapshotsSeen',
  'PresentAtNewest',
];

describe('device --history', () => {
  it('lists each version the device had with exact first and last snapshots: install, upgrade, removal', async () => {
    const r = await inproc(['device', D1, '--history', '--json']);
    const rows = JSON.parse(ok(r)) as Record<string, unknown>[];
    for (const row of rows) expect(Object.keys(row)).toEqual(HISTORY_COLUMNS);
    const brief = rows.map((e) => [
      e.SoftwareVendor,
      e.SoftwareName,
      e.SoftwareVersion,
      e.FirstSnapshotId,
      e.LastSnapshotId,
      e.SnapshotsSeen,
      e.PresentAtNewest,
    ]);
    expect(brief).toEqual([
      ['apache', 'log4j', '2.14.1', S1, S1, 1, false],
      ['apache', 'log4j', '2.17.1', S2, S2, 1, false],
      ['apache', 'log4j', '2.20.0', S3, S3, 1, true],
      [ODD_VENDOR, ODD_NAME, '1.0', S1, S1, 1, false],
      [ODD_VENDOR, ODD_NAME, '2.0', S2, S3, 2, true],
      ['igor pavlov', '7-zip', '23.01', S2, S2, 1, false],
      ['legacy', 'oldapp', '3.1', S1, S1, 1, false],
      ['microsoft', 'edge', '120.0', S1, S3, 3, true],
      ['notepad++', 'notepad++', '8.6', S3, S3, 1, true],
    ]);
    expect(rows[0]).toMatchObject({
      DeviceId: D1,
      DeviceName: 'host-a1a1.contoso.com',
      FirstGeneratedTime: '2025-06-01T06:00:00.000Z',
      LastGeneratedTime: '2025-06-01T06:00:00.000Z',
    });
    // the default is every complete snapshot: the ingesting S4 and its partial row never show, and need no warning
    expect(r.stderr).toBe('');
    expect(JSON.stringify(rows)).not.toContain('partial');
  });

  it('--at narrows the range; a name finds the device; the human table and CSV say the same', async () => {
    const [narrow, human, csv] = await Promise.all([
      inproc(['device', D1, '--history', '--at', `${S2}..${S3}`, '--json']),
      inproc(['device', 'HOST-A1A1.contoso.com', '--history']),
      inproc(['device', D1, '--history', '--csv']),
    ]);
    const edge = (JSON.parse(ok(narrow)) as Record<string, unknown>[]).find((e) => e.SoftwareName === 'edge');
    expect(edge).toMatchObject({ FirstSnapshotId: S2, LastSnapshotId: S3, SnapshotsSeen: 2, PresentAtNewest: true });

    const text = ok(human);
    expect(text).toContain(`DeviceId ${D1}; matched by DeviceName, case-insensitive`);
    expect(text).toContain(`History over 3 snapshots, ${S1} to ${S3}; the device is in 3 of them`);
    expect(text).toMatch(new RegExp(`igor pavlov\\s+7-zip\\s+23\\.01\\s+${S2}\\s+${S2}\\s+1/3\\s+no`));
    expect(text).toMatch(new RegExp(`microsoft\\s+edge\\s+120\\.0\\s+${S1}\\s+${S3}\\s+3/3\\s+yes`));
    expect(text).toContain('tool\\x0aedition'); // a line break in a stored name is shown, not obeyed
    expect(text).toContain(`9 product versions (6 products): 4 in the newest snapshot (${S3}), 5 gone.`);

    const records = csvRecords(csv, HISTORY_COLUMNS);
    expect(records).toHaveLength(9);
    expect(records.find((e) => e.SoftwareVersion === '2.0')).toEqual({
      DeviceId: D1,
      DeviceName: 'host-a1a1.contoso.com',
      SoftwareVendor: ODD_VENDOR,
      SoftwareName: ODD_NAME,
      SoftwareVersion: '2.0',
      FirstSnapshotId: S2,
      FirstGeneratedTime: '2025-06-02T06:00:00.000Z',
      LastSnapshotId: S3,
      LastGeneratedTime: '2025-06-03T06:00:00.000Z',
      SnapshotsSeen: '2',
      PresentAtNewest: 'true',
    });
  });

  it('a device that left keeps its history; an unknown one is exit 3', async () => {
    const [gone, unknown] = await Promise.all([inproc(['device', D3, '--history', '--json']), inproc(['device', 'nobody', '--history'])]);
    const rows = JSON.parse(ok(gone)) as Record<string, unknown>[];
    expect(rows.map((e) => [e.SoftwareVersion, e.FirstSnapshotId, e.LastSnapshotId, e.PresentAtNewest])).toEqual([
      ['2.17.1', S1, S2, false],
      ['2.20.0', S2, S2, false],
    ]);
    expect(gone.stderr).toContain(`not in snapshot ${S3}`);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('unknown device "nobody"');
    expect(unknown.stdout).toBe('');
  });
});

describe('trend', () => {
  it('--json: the ProductTrend, oldest first, devices counted once per version and once overall', async () => {
    const r = await inproc(['trend', 'log4j', '--vendor', 'apache', '--json']);
    const t = JSON.parse(ok(r));
    expect(t).toEqual({
      kind: 'SoftwareInventory',
      name: 'log4j',
      vendor: 'apache',
      points: [
        { snapshotId: S1, generatedTime: '2025-06-01T06:00:00.000Z', versions: { '2.14.1': 2, '2.17.1': 1 }, devices: 3, source: 'scan' },
        { snapshotId: S2, generatedTime: '2025-06-02T06:00:00.000Z', versions: { '2.14.1': 1, '2.17.1': 2, '2.20.0': 1 }, devices: 3, source: 'scan' },
        { snapshotId: S3, generatedTime: '2025-06-03T06:00:00.000Z', versions: { '2.17.1': 1, '2.20.0': 1 }, devices: 2, source: 'scan' },
      ],
    });
    expect(r.stderr).toBe(''); // S4 is not complete: never in the default
    // an explicit range that takes S4 in skips it with a warning, as for every command
    const ranged = await inproc(['trend', 'log4j', '--vendor', 'apache', '--json', '--at', `${S2}..`]);
    expect(JSON.parse(ok(ranged)).points.map((p: { snapshotId: string }) => p.snapshotId)).toEqual([S2, S3]);
    expect(ranged.stderr).toContain(`skipped 1 snapshot(s) that are not complete: ${S4}`);
  });

  it('--csv: one row per snapshot × version, 0 where absent; human: a snapshot × version table', async () => {
    const [csv, human, anyVendor, upper] = await Promise.all([
      inproc(['trend', 'log4j', '--vendor', 'apache', '--csv']),
      inproc(['trend', 'log4j', '--vendor', 'apache', '--at', `${S2},${S3}`]),
      inproc(['trend', 'log4j', '--json', '--at', 'latest']),
      inproc(['trend', 'LOG4J', '--vendor', 'Apache', '--json']),
    ]);
    expect(csv.stdout.split('\r\n')[0]).toBe('SnapshotId,GeneratedTime,SoftwareVersion,Devices');
    expect(csvRecords(csv, ['SnapshotId', 'GeneratedTime', 'SoftwareVersion', 'Devices']).map((r) => [r.SnapshotId, r.SoftwareVersion, r.Devices])).toEqual([
      [S1, '2.14.1', '2'],
      [S1, '2.17.1', '1'],
      [S1, '2.20.0', '0'],
      [S2, '2.14.1', '1'],
      [S2, '2.17.1', '2'],
      [S2, '2.20.0', '1'],
      [S3, '2.14.1', '0'],
      [S3, '2.17.1', '1'],
      [S3, '2.20.0', '1'],
    ]);
    expect(parseCsv(csv.stdout)[1][1]).toBe('2025-06-01T06:00:00.000Z');

    const text = ok(human);
    expect(text).toContain(`apache log4j: devices per version, 2 snapshots, ${S2} to ${S3}`);
    expect(text).toMatch(/snapshot\s+generated \(UTC\)\s+2\.14\.1\s+2\.17\.1\s+2\.20\.0\s+devices/);
    expect(text).toMatch(new RegExp(`${S2}\\s+2025-06-02 06:00\\s+1\\s+2\\s+1\\s+3`));
    expect(text).toMatch(new RegExp(`${S3}\\s+2025-06-03 06:00\\s+-\\s+1\\s+1\\s+2`));
    expect(text).toContain('Counted by scanning the snapshot tables');

    expect(JSON.parse(ok(anyVendor)).points[0].versions).toEqual({ '1.0': 1, '2.17.1': 1, '2.20.0': 1 });
    expect(JSON.parse(ok(upper))).toMatchObject({ name: 'log4j', vendor: 'apache' });
    expect(upper.stderr).toContain('lower-case');
  });

  it('many versions: the top ones as columns, the rest as "other"', async () => {
    const text = ok(await inproc(['trend', 'chrome', '--at', 'latest']));
    expect(text).toMatch(/120\.0\s+121\.0\s+122\.0\s+123\.0\s+124\.0\s+125\.0\s+126\.0\s+127\.0\s+other\s+devices/);
    expect(text).toMatch(new RegExp(`${S3}\\s+2025-06-03 06:00(\\s+1){8}\\s+2\\s+10`));
    expect(text).toContain('"other" adds up the device counts of the remaining 2');
  });

  it('a product in no snapshot is exit 3; a bad kind is a usage error', async () => {
    const [none, bogus, config] = await Promise.all([
      inproc(['trend', 'no_such_product']),
      inproc(['trend', 'log4j', '--kind', 'Bogus']),
      inproc(['trend', 'log4j', '--kind', 'SecureConfigurations']),
    ]);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain(`no device has no_such_product in snapshots ${S1}, ${S2}, ${S3}`);
    for (const r of [bogus, config]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('usage: npm run query --');
    }
    expect(bogus.stderr).toContain('--kind "Bogus" is not an export kind');
    expect(config.stderr).toContain('SecureConfigurations rows name none');
  });
});

describe('--csv on the existing commands', () => {
  it('device and software: the --json rows as CSV, columns in a fixed order', async () => {
    const [dj, dc, sj, sc] = await Promise.all([
      inproc(['device', D1, '--json', '--at', S1]),
      inproc(['device', D1, '--csv', '--at', S1]),
      inproc(['software', 'log4j', '--json', '--at', `${S1}..${S3}`]),
      inproc(['software', 'log4j', '--csv', '--at', `${S1}..${S3}`]),
    ]);
    const columns = [
      'SnapshotId',
      'DeviceId',
      'DeviceName',
      'OSPlatform',
      'RbacGroupName',
      'SoftwareVendor',
      'SoftwareName',
      'SoftwareVersion',
      'EndOfSupportStatus',
      'NumberOfWeaknesses',
      'SoftwareFirstSeenTimestamp',
      'EndOfSupportDate',
      'DiskPaths',
      'RegistryPaths',
      'DiskPathsTruncated',
      'RegistryPathsTruncated',
    ];
    for (const [json, csv] of [
      [dj, dc],
      [sj, sc],
    ]) {
      const expected = (JSON.parse(ok(json)) as Record<string, unknown>[]).map((row) =>
        Object.fromEntries(columns.map((c) => [c, row[c] === null || row[c] === undefined ? '' : String(row[c] as string | number | boolean)])),
      );
      expect(expected.length).toBeGreaterThan(0);
      expect(csvRecords(csv, columns)).toEqual(expected);
    }
    // stored strings pass through exactly (quoted), not escaped as in the human table
    expect(dc.stdout).toContain(`"${ODD_VENDOR.replace(/"/g, '""')}","${ODD_NAME}",1.0,`);
    expect(dc.stdout).toContain('"[""C:\\\\Program Files\\\\x, y""]"');
  });

  it('snapshots and diff (a real process: CRLF reaches stdout untouched)', async () => {
    const [snapshots, diff, diffJson] = await Promise.all([
      runTool('tools/bin/query.ts', ['snapshots', '--csv'], { AzureWebJobsStorage: azurite().connectionString }),
      inproc(['diff', S1, S3, '--device', D1, '--csv']),
      inproc(['diff', S1, S3, '--device', D1, '--json']),
    ]);
    const catalog = csvRecords(snapshots, [
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
      'Error',
    ]);
    expect(catalog.map((c) => [c.SnapshotId, c.Status, c.CompletedAt])).toEqual([
      [S4, 'ingesting', ''],
      [S3, 'complete', '2025-06-03T06:00:00.000Z'],
      [S2, 'complete', '2025-06-02T06:00:00.000Z'],
      [S1, 'complete', '2025-06-01T06:00:00.000Z'],
    ]);

    const lines = ok(diffJson).trim().split('\n');
    const totals = JSON.parse(lines.pop()!).totals;
    const changes = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const records = csvRecords(diff, ['change', 'DeviceId', 'SoftwareVendor', 'SoftwareName', 'fromVersions', 'toVersions']);
    expect(records).toEqual(changes.map((c) => ({ ...c, fromVersions: JSON.stringify(c.fromVersions), toVersions: JSON.stringify(c.toVersions) })));
    expect(records.find((c) => c.SoftwareName === ODD_NAME)).toMatchObject({ change: 'changed', fromVersions: '["1.0"]', toVersions: '["2.0"]' });
    expect(diff.stderr).toContain(`totals: installed ${totals.installed}, removed ${totals.removed}, changed ${totals.changed}, unchanged ${totals.unchanged}`);
  });

  it('--csv with --json, or --history elsewhere than device, is a usage error (exit 2)', async () => {
    const runs = await Promise.all([
      inproc(['snapshots', '--csv', '--json']),
      inproc(['trend', 'log4j', '--json', '--csv']),
      inproc(['software', 'log4j', '--history']),
      inproc(['device', D1, '--history=yes']),
    ]);
    for (const r of runs) {
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('usage: npm run query --');
    }
  });
});
