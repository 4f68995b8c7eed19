// `--csv` of the export-kind commands (docs/query.md#csv-output), against Azurite: for cve, exposure, the
// vulnerability and configuration diffs and device over the kinds, the CSV read back with a strict RFC 4180
// reader holds the --json records, field for field, in the --json key order. Tables are built by hand in the
// stored shape of docs/kinds.md, with values that need quoting (commas, quotes, CR LF) in names.
import { EXPORT_KIND_NAMES } from '../../shared/kinds/exportKinds';
import { CVE_COLUMNS } from '../../tools/query/cve';
import { csvText } from '../../tools/query/csv';
import { EXPOSURE_COLUMNS } from '../../tools/query/exposure';
import { CONFIG_DIFF_COLUMNS, VULN_DIFF_COLUMNS } from '../../tools/query/kindDiff';
import { deviceKindsCsvColumns } from '../../tools/query/commands/deviceKinds';
import { useAzurite } from '../helpers/azurite';
import { parseCsv } from '../helpers/csv';
import { deviceProperties, KindTable, Props, vulnRow, writeKindTables } from '../helpers/kindTables';
import { ok, queryInProcess, Run } from '../helpers/queryRun';

const azurite = useAzurite();

const run = queryInProcess(azurite);
const q = (...args: string[]) => run(args);

type Rec = Record<string, unknown>;

/** --json output as records: an array, or JSON Lines whose last line (totals, summary) is returned apart. */
function records(r: Run): Rec[] {
  const text = ok(r);
  return text.startsWith('[')
    ? (JSON.parse(text) as Rec[])
    : text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Rec);
}

/** The CSV's header and its records, each as column → text. */
function csv(r: Run): { header: string[]; rows: Record<string, string>[] } {
  const [header, ...rest] = parseCsv(ok(r));
  for (const f of rest) expect(f).toHaveLength(header.length);
  return { header, rows: rest.map((f) => Object.fromEntries(header.map((c, i) => [c, f[i]]))) };
}

/** A --json record as CSV cells over `header` (absent and null are empty). */
function asCells(header: readonly string[], rec: Rec): Record<string, string> {
  return Object.fromEntries(header.map((c) => [c, csvText(rec[c])]));
}

/** --csv holds the --json records in order, with the header the --json keys exactly. */
function expectSameRecords(jsonRun: Run, csvRun: Run, columns: readonly string[]): { json: Rec[]; csv: Record<string, string>[] } {
  const js = records(jsonRun);
  const c = csv(csvRun);
  expect(c.header).toEqual([...columns]);
  for (const r of js) expect(Object.keys(r)).toEqual([...columns]);
  expect(c.rows).toEqual(js.map((r) => asCells(c.header, r)));
  return { json: js, csv: c.rows };
}

// ---------------------------------------------------------------------------------------------
// Fixture: two devices; inventory I1; vulnerabilities V1, V2; configurations C1, C2; non-CPE N1.

const D1 = 'cccc000000000000000000000000000000000001';
const D2 = 'dddd000000000000000000000000000000000002';
// a name that needs every kind of quoting: comma, quote, CR LF
const NAMES: Record<string, string> = { [D1]: 'wks-0001.contoso.com', [D2]: 'srv, "two"\r\nsecond line' };
const I1 = '202602010900';
const V1 = '202602010700';
const V2 = '202602030700';
const C1 = '202602010800';
const C2 = '202602030800';
const N1 = '202602010930';

const A = () =>
  vulnRow(D1, 'apache', 'log4j', '2.14.1', 'CVE-2021-44228', {
    CvssScore: 9.8,
    VulnerabilitySeverityLevel: 'Critical',
    FirstSeenTimestamp: new Date('2026-01-20T06:00:00.250Z'),
    SecurityUpdateAvailable: true,
  });
const B = () => vulnRow(D1, 'haxx', 'curl, "libcurl"', '7.0', 'CVE-2023-38545', { CvssScore: 7.5, VulnerabilitySeverityLevel: 'High' }); // no FirstSeenTimestamp
const C = () =>
  vulnRow(D1, 'tukaani', 'xz', '5.6.0', 'CVE-2024-3094', { CvssScore: 9.8, VulnerabilitySeverityLevel: 'Critical', SecurityUpdateAvailable: false });
const NOCVE = () => vulnRow(D1, 'google', 'chrome', '1.0', undefined);
const A2 = () =>
  vulnRow(D2, 'apache', 'log4j', '2.14.1', 'CVE-2021-44228', {
    CvssScore: 9.8,
    VulnerabilitySeverityLevel: 'Critical',
    FirstSeenTimestamp: new Date('2026-01-25T00:00:00Z'),
  });

const config = (device: string, id: string, applicable: boolean, compliant: boolean): Props => ({
  DeviceId: device,
  ConfigurationId: id,
  ConfigurationName: `Setting ${id}, "strict"`,
  ConfigurationCategory: 'Network',
  ConfigurationImpact: '5',
  IsApplicable: applicable,
  IsCompliant: compliant,
  AssessmentTimestamp: new Date('2026-02-01T07:30:00Z'),
});

const TABLES: KindTable[] = [
  {
    kind: 'SoftwareInventory',
    id: I1,
    rows: [
      {
        DeviceId: D1,
        SoftwareVendor: 'contoso',
        SoftwareName: 'tool\r\n"pro", edition',
        SoftwareVersion: '1.0',
        NumberOfWeaknesses: 2,
        DiskPaths: '["C:\\\\Program Files\\\\Tool, Inc"]',
        DiskPathsTruncated: true,
      },
      { DeviceId: D2, SoftwareVendor: 'apache', SoftwareName: 'log4j', SoftwareVersion: '2.14.1', NumberOfWeaknesses: 4 },
    ],
  },
  { kind: 'SoftwareVulnerabilities', id: V1, rows: [A(), B(), NOCVE(), A2()] },
  { kind: 'SoftwareVulnerabilities', id: V2, rows: [B(), C(), NOCVE(), A2()] },
  { kind: 'SecureConfigurations', id: C1, rows: [config(D1, 'scid-1', true, false), config(D1, 'scid-3', true, true), config(D2, 'scid-1', true, true)] },
  { kind: 'SecureConfigurations', id: C2, rows: [config(D1, 'scid-1', true, true), config(D1, 'scid-2', true, false), config(D2, 'scid-1', false, false)] },
  {
    kind: 'NonCpeSoftwareInventory',
    id: N1,
    rows: [
      {
        DeviceId: D1,
        SoftwareVendor: 'contoso',
        SoftwareName: 'lob, app',
        SoftwareVersion: '4.2',
        SoftwareLastSeenTimestamp: new Date('2026-02-01T08:00:00Z'),
      },
    ],
  },
];

beforeAll(async () => {
  await writeKindTables(azurite(), TABLES, deviceProperties(NAMES));
}, 60000);

// ---------------------------------------------------------------------------------------------

describe('--csv of the export-kind commands reads back to the --json records', () => {
  it('cve: CVE_COLUMNS, snapshot by snapshot; a CVE found nowhere is exit 3 with nothing on stdout', async () => {
    const [j, c, none] = await Promise.all([
      q('cve', 'CVE-2021-44228', '--at', `${V1},${V2}`, '--json'),
      q('cve', 'CVE-2021-44228', '--at', `${V1},${V2}`, '--csv'),
      q('cve', 'CVE-1999-0001', '--csv'),
    ]);
    const { csv: rows } = expectSameRecords(j, c, CVE_COLUMNS);
    expect(rows.map((r) => [r.SnapshotId, r.DeviceId])).toEqual([
      [V1, D1],
      [V1, D2],
      [V2, D2],
    ]);
    expect(rows[1].DeviceName).toBe(NAMES[D2]); // CR LF, quote and comma survive quoting
    expect(rows[0]).toMatchObject({ CvssScore: '9.8', FirstSeenTimestamp: '2026-01-20T06:00:00.250Z', SecurityUpdateAvailable: 'true' });
    expect(rows[1].SecurityUpdateAvailable).toBe('');
    expect(none.code).toBe(3);
    expect(none.stdout).toBe('');
  });

  it('exposure: EXPOSURE_COLUMNS, the summary on stderr instead of a last line', async () => {
    const [j, c] = await Promise.all([q('exposure', V1, V2, '--json'), q('exposure', V1, V2, '--csv')]);
    const lines = records(j);
    const summary = lines.pop() as { summary: { fixed: number; open: number; medianSeconds: number; maxSeconds: number } };
    const js: Run = { ...j, stdout: `${JSON.stringify(lines)}\n` };
    const { csv: rows } = expectSameRecords(js, c, EXPOSURE_COLUMNS);
    expect(rows.map((r) => [r.DeviceId, r.CveId, r.fixedIn, r.exposedSinceSource])).toEqual([[D1, 'CVE-2021-44228', V2, 'FirstSeenTimestamp']]);
    expect(rows[0]).toMatchObject({ exposedSince: '2026-01-20T06:00:00.250Z', fixedAt: '2026-02-03T07:00:00.000Z', reappeared: 'false' });
    expect(Number(rows[0].exposureSeconds)).toBe((Date.parse('2026-02-03T07:00:00Z') - Date.parse('2026-01-20T06:00:00.250Z')) / 1000);
    expect(summary.summary).toMatchObject({ fixed: 1, open: 2 });
    const s = summary.summary;
    expect(c.stderr).toBe(`summary: fixed ${s.fixed}, open ${s.open}, medianSeconds ${s.medianSeconds}, maxSeconds ${s.maxSeconds}\n`);
  });

  it('exposure with nothing fixed: a header-only CSV, null median and max as "-"', async () => {
    const c = await q('exposure', V1, V2, '--csv', '--device', D2);
    expect(ok(c)).toBe(`${EXPOSURE_COLUMNS.join(',')}\r\n`);
    expect(c.stderr).toBe('summary: fixed 0, open 1, medianSeconds -, maxSeconds -\n');
  });

  it('diff --kind SoftwareVulnerabilities: VULN_DIFF_COLUMNS, totals on stderr', async () => {
    const [j, c] = await Promise.all([
      q('diff', V1, V2, '--kind', 'SoftwareVulnerabilities', '--json'),
      q('diff', V1, V2, '--kind', 'SoftwareVulnerabilities', '--csv'),
    ]);
    const lines = records(j);
    const { totals } = lines.pop() as { totals: Record<string, number> };
    const { csv: rows } = expectSameRecords({ ...j, stdout: JSON.stringify(lines) }, c, VULN_DIFF_COLUMNS);
    expect(rows.map((r) => [r.change, r.CveId, r.SoftwareName])).toEqual([
      ['fixed', 'CVE-2021-44228', 'log4j'],
      ['new', 'CVE-2024-3094', 'xz'],
    ]);
    expect(totals).toEqual({ new: 1, fixed: 1, unchanged: 2 });
    expect(c.stderr).toBe('totals: new 1, fixed 1, unchanged 2\n');
  });

  it('diff --kind SecureConfigurations: CONFIG_DIFF_COLUMNS, totals on stderr', async () => {
    const [j, c] = await Promise.all([
      q('diff', C1, C2, '--kind', 'SecureConfigurations', '--json'),
      q('diff', C1, C2, '--kind', 'SecureConfigurations', '--csv'),
    ]);
    const lines = records(j);
    const { totals } = lines.pop() as { totals: Record<string, number> };
    const { csv: rows } = expectSameRecords({ ...j, stdout: JSON.stringify(lines) }, c, CONFIG_DIFF_COLUMNS);
    expect(rows.map((r) => [r.DeviceId, r.change, r.ConfigurationId])).toEqual([
      [D1, 'became-compliant', 'scid-1'],
      [D1, 'added', 'scid-2'],
      [D1, 'removed', 'scid-3'],
      [D2, 'changed', 'scid-1'],
    ]);
    expect(rows[0].ConfigurationName).toBe('Setting scid-1, "strict"');
    expect(c.stderr).toBe(
      `totals: ${Object.entries(totals)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}\n`,
    );
  });

  it("device over every kind: one sheet, SnapshotId, Kind, the union of the kinds' columns; inventory rows name their Kind", async () => {
    const [j, c] = await Promise.all([q('device', D1, '--json'), q('device', D1, '--csv')]);
    const js = records(j);
    const { header, rows } = csv(c);
    // stable whatever kinds have rows: the inventory's columns (its --json order), then each further kind's own
    // columns in registry order; a shared name (RbacGroupName, DiskPaths, RecommendationReference) is one column
    expect(header).toEqual(deviceKindsCsvColumns(EXPORT_KIND_NAMES));
    expect(header.join(',')).toBe(
      'SnapshotId,Kind,DeviceId,DeviceName,OSPlatform,RbacGroupName,SoftwareVendor,SoftwareName,SoftwareVersion,EndOfSupportStatus,' +
        'NumberOfWeaknesses,SoftwareFirstSeenTimestamp,EndOfSupportDate,DiskPaths,RegistryPaths,RbacGroupId,SoftwareLastSeenTimestamp,' +
        'CveId,CvssScore,VulnerabilitySeverityLevel,ExploitabilityLevel,FirstSeenTimestamp,LastSeenTimestamp,Id,RecommendationReference,' +
        'RecommendedSecurityUpdate,RecommendedSecurityUpdateId,SecurityUpdateAvailable,ConfigurationId,ConfigurationName,' +
        'ConfigurationCategory,ConfigurationSubcategory,ConfigurationImpact,IsApplicable,IsCompliant,IsExpectedUserImpact,' +
        'AssessmentTimestamp,DiskPathsTruncated,RegistryPathsTruncated',
    );
    // every --json key is a column, and the inventory's rows keep exactly their --json order
    for (const r of js) expect(Object.keys(r).filter((k) => !header.includes(k))).toEqual([]);
    const inventory = js.filter((r) => r.Kind === undefined);
    expect(inventory).toHaveLength(1);
    expect(header.filter((h) => h in inventory[0])).toEqual(Object.keys(inventory[0]));
    // the CSV cells are the --json values (Kind filled in for the inventory)
    expect(rows).toEqual(js.map((r) => asCells(header, { Kind: 'SoftwareInventory', ...r })));
    expect(rows.map((r) => r.Kind)).toEqual([
      'SoftwareInventory',
      'NonCpeSoftwareInventory',
      'SoftwareVulnerabilities',
      'SoftwareVulnerabilities',
      'SoftwareVulnerabilities',
      'SecureConfigurations',
      'SecureConfigurations',
    ]);
    expect(rows[0]).toMatchObject({ SoftwareName: 'tool\r\n"pro", edition', DiskPathsTruncated: 'true', CveId: '' });
    expect(rows[0].DiskPaths).toBe('["C:\\\\Program Files\\\\Tool, Inc"]');
    expect(rows[6]).toMatchObject({ ConfigurationId: 'scid-2', IsCompliant: 'false', AssessmentTimestamp: '2026-02-01T07:30:00.000Z', SoftwareName: '' });
  });

  it("device --kind <other kind>: exactly that kind's --json keys; --kind SoftwareInventory as before kinds", async () => {
    const [j, c, inv] = await Promise.all([
      q('device', D1, '--kind', 'SecureConfigurations', '--json', '--at', C1),
      q('device', D1, '--kind', 'SecureConfigurations', '--csv', '--at', C1),
      q('device', D1, '--kind', 'SoftwareInventory', '--csv'),
    ]);
    const { csv: rows } = expectSameRecords(j, c, deviceKindsCsvColumns(['SecureConfigurations']));
    expect(rows.map((r) => [r.Kind, r.SnapshotId, r.ConfigurationId])).toEqual([
      ['SecureConfigurations', C1, 'scid-1'],
      ['SecureConfigurations', C1, 'scid-3'],
    ]);
    const { header } = csv(inv);
    expect(header).not.toContain('Kind');
    expect(header[0]).toBe('SnapshotId');
  });
});
