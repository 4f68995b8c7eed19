// The query CLI over every export kind (docs/query.md#export-kinds), against Azurite. The tables are built by
// hand as entities in the stored shape of docs/kinds.md (keys from tableKeys, typed properties), so these
// tests do not depend on the mapper of the other kinds.
import { kindSpec } from '../../shared/kinds/exportKinds';
import { CVE_COLUMNS } from '../../tools/query/cve';
import { EXPOSURE_COLUMNS } from '../../tools/query/exposure';
import { useAzurite } from '../helpers/azurite';
import { createServices } from '../../shared/app/appContext';
import { silentLog } from '../../shared/core/log';
import { buildMissingRollups, rollupDeps } from '../../shared/rollup/buildMissing';
import { deviceProperties, KindTable, Props, timeOf, vulnRow, writeKindTables } from '../helpers/kindTables';
import { testConfig } from '../helpers/exportFixture';
import { ok, queryInProcess, Run } from '../helpers/queryRun';

const azurite = useAzurite();

const run = queryInProcess(azurite);
const q = (...args: string[]) => run(args);

function json<T = Record<string, unknown>[]>(r: Run): T {
  return JSON.parse(ok(r)) as T;
}

function jsonLines(r: Run): Record<string, unknown>[] {
  return ok(r)
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

// ---------------------------------------------------------------------------------------------
// Fixture: two devices; inventory I1, I2; vulnerabilities V1, V2, VF (failed), V3; configurations C1, C2; non-CPE N1.

const D1 = 'aaaa000000000000000000000000000000000001';
const D2 = 'bbbb000000000000000000000000000000000002';
const NAMES: Record<string, string> = { [D1]: 'wks-0001.contoso.com', [D2]: 'srv-0002.contoso.com' };
const I1 = '202601100900';
const I2 = '202601120900';
const V1 = '202601100700';
const V2 = '202601110700';
const VF = '202601111900';
const V3 = '202601120700';
const C1 = '202601100800';
const C2 = '202601120800';
const N1 = '202601100930';

const LOG4SHELL = { VulnerabilitySeverityLevel: 'Critical', CvssScore: 10.0, ExploitabilityLevel: 'ExploitIsInKit', SecurityUpdateAvailable: true };
const D1_44228 = () => vulnRow(D1, 'apache', 'log4j', '2.14.1', 'CVE-2021-44228', { ...LOG4SHELL, FirstSeenTimestamp: new Date('2026-01-01T00:00:00Z') });
const D1_45046 = () =>
  vulnRow(D1, 'apache', 'log4j', '2.14.1', 'CVE-2021-45046', {
    VulnerabilitySeverityLevel: 'Critical',
    CvssScore: 9.0,
    FirstSeenTimestamp: new Date('2026-01-05T12:00:00.500Z'),
  });
const D1_0778 = () => vulnRow(D1, 'openssl', 'openssl', '3.0.1', 'CVE-2022-0778', { VulnerabilitySeverityLevel: 'High', CvssScore: 7.5 }); // no FirstSeenTimestamp
const D1_CURL = () =>
  vulnRow(D1, 'haxx', 'curl', '7.0', 'CVE-2023-38545', {
    VulnerabilitySeverityLevel: 'High',
    CvssScore: 9.8,
    FirstSeenTimestamp: new Date('2026-01-10T10:00:00Z'),
  });
const D1_NOCVE = () => vulnRow(D1, 'google', 'chrome', '1.0');
const D2_44228 = () => vulnRow(D2, 'apache', 'log4j', '2.14.1', 'CVE-2021-44228', { ...LOG4SHELL, FirstSeenTimestamp: new Date('2026-01-09T06:00:00Z') });
const D2_ZLIB = () =>
  vulnRow(D2, 'zlib', 'zlib', '1.2', 'CVE-2018-25032', {
    VulnerabilitySeverityLevel: 'High',
    CvssScore: 7.5,
    FirstSeenTimestamp: new Date('2025-12-01T00:00:00Z'),
  });

function config(device: string, id: string, applicable: boolean, compliant: boolean, extra: Props = {}): Props {
  return {
    DeviceId: device,
    ConfigurationId: id,
    ConfigurationName: `Setting ${id}`,
    ConfigurationCategory: 'Network',
    ConfigurationImpact: '5',
    IsApplicable: applicable,
    IsCompliant: compliant,
    ...extra,
  };
}

function software(device: string, vendor: string, name: string, version: string): Props {
  return {
    DeviceId: device,
    SoftwareVendor: vendor,
    SoftwareName: name,
    SoftwareVersion: version,
    OSPlatform: 'Windows11',
    RbacGroupName: 'Clients',
    NumberOfWeaknesses: 3,
  };
}

const TABLES: KindTable[] = [
  { kind: 'SoftwareInventory', id: I1, rows: [software(D1, 'apache', 'log4j', '2.14.1'), software(D2, 'apache', 'log4j', '2.14.1')] },
  { kind: 'SoftwareInventory', id: I2, rows: [software(D1, 'apache', 'log4j', '2.17.1'), software(D2, 'apache', 'log4j', '2.14.1')] },
  { kind: 'SoftwareVulnerabilities', id: V1, rows: [D1_44228(), D1_45046(), D1_0778(), D1_NOCVE(), D2_44228(), D2_ZLIB()] },
  { kind: 'SoftwareVulnerabilities', id: V2, rows: [D1_44228(), D1_0778(), D1_CURL(), D1_NOCVE(), D2_ZLIB()] },
  // a failed snapshot between them: never part of an exposure window (it would "fix" everything of D1)
  { kind: 'SoftwareVulnerabilities', id: VF, status: 'failed', error: 'superseded by export 202601120700', rows: [D2_ZLIB()] },
  { kind: 'SoftwareVulnerabilities', id: V3, rows: [D1_CURL(), D1_NOCVE(), D2_44228(), D2_ZLIB()] },
  {
    kind: 'SecureConfigurations',
    id: C1,
    rows: [
      config(D1, 'scid-1', true, false, { ConfigurationImpact: '9' }),
      config(D1, 'scid-2', true, true),
      config(D1, 'scid-3', false, false),
      config(D1, 'scid-4', true, false),
      config(D2, 'scid-1', true, true),
    ],
  },
  {
    kind: 'SecureConfigurations',
    id: C2,
    rows: [
      config(D1, 'scid-1', true, true, { ConfigurationImpact: '9' }),
      config(D1, 'scid-2', true, false, { ConfigurationImpact: '7' }),
      config(D1, 'scid-3', true, false),
      config(D1, 'scid-5', true, false, { ConfigurationImpact: '2' }),
      config(D2, 'scid-1', true, true),
    ],
  },
  {
    kind: 'NonCpeSoftwareInventory',
    id: N1,
    rows: [
      { DeviceId: D1, SoftwareVendor: 'contoso', SoftwareName: 'lob-app', SoftwareVersion: '4.2', SoftwareLastSeenTimestamp: new Date('2026-01-10T08:00:00Z') },
    ],
  },
];

beforeAll(async () => {
  await writeKindTables(azurite(), TABLES, deviceProperties(NAMES));
}, 60000);

// ---------------------------------------------------------------------------------------------

describe('snapshots per kind', () => {
  it('--json lists every kind newest first with Kind; --kind one kind; human output has one section per kind', async () => {
    const [all, configs, human, vulnHuman] = await Promise.all([
      q('snapshots', '--json'),
      q('snapshots', '--kind', 'secureconfigurations', '--json'),
      q('snapshots'),
      q('snapshots', '--kind', 'SoftwareVulnerabilities'),
    ]);
    const rows = json(all);
    expect(rows.map((r) => [r.SnapshotId, r.Kind])).toEqual([
      [I2, 'SoftwareInventory'],
      [C2, 'SecureConfigurations'],
      [V3, 'SoftwareVulnerabilities'],
      [VF, 'SoftwareVulnerabilities'],
      [V2, 'SoftwareVulnerabilities'],
      [N1, 'NonCpeSoftwareInventory'],
      [I1, 'SoftwareInventory'],
      [C1, 'SecureConfigurations'],
      [V1, 'SoftwareVulnerabilities'],
    ]);
    expect(rows[2]).toMatchObject({ TableName: `SoftwareVulnerabilities${V3}`, Status: 'complete', RowCount: 4, GeneratedTime: '2026-01-12T07:00:00.000Z' });
    expect(json(configs).map((r) => [r.SnapshotId, r.Kind])).toEqual([
      [C2, 'SecureConfigurations'],
      [C1, 'SecureConfigurations'],
    ]);

    expect(human.code).toBe(0);
    const sections = human.stdout.split('\n').filter((l) => /^[A-Za-z]+: /.test(l));
    expect(sections.map((l) => l.split(':')[0])).toEqual(['SoftwareInventory', 'NonCpeSoftwareInventory', 'SoftwareVulnerabilities', 'SecureConfigurations']);
    expect(human.stdout).toContain(`Latest complete: ${V3} (2026-01-12 07:00 UTC).`);
    expect(human.stdout).toContain(`${VF} failed: superseded by export 202601120700`);
    // hand-built tables have no rollups: each kind says so, so a slow trend is explained
    expect(human.stdout).toContain(`3 of 3 complete snapshots have no current rollup yet (e.g. ${V3}): trends scan their tables`);
    expect(human.stdout).toContain(`1 of 1 complete snapshot has no current rollup yet (e.g. ${N1}): trends scan its table`);
    expect(vulnHuman.stdout).toMatch(/^SoftwareVulnerabilities: /);
    expect(vulnHuman.stdout).not.toContain(I1);
  });
});

describe('device over the kinds', () => {
  it('human: software, non-CPE software, open vulnerabilities (no CVE-less rows) and failing configurations; found by host name', async () => {
    const r = await q('device', 'wks-0001');
    expect(r.code).toBe(0);
    const out = r.stdout;
    const at = (s: string) => {
      const i = out.indexOf(s);
      expect({ missing: s, found: i >= 0 }).toEqual({ missing: s, found: true });
      return i;
    };
    // sections in registry order, each at the kind's latest complete snapshot (N1 is the only non-CPE one)
    const order = [
      at(`Device wks-0001.contoso.com  DeviceId ${D1}`),
      at(`Software without a product code of wks-0001.contoso.com  DeviceId ${D1}\nIn snapshot ${N1}`),
      at(`Open vulnerabilities of wks-0001.contoso.com  DeviceId ${D1}\nIn snapshot ${V3}`),
      at(`Failing configurations of wks-0001.contoso.com  DeviceId ${D1}\nIn snapshot ${C2}`),
    ];
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(out).toContain(`In snapshot ${I2}`);
    expect(out).toMatch(/CVE-2023-38545\s+High\s+9\.8\s+-\s+haxx\s+curl\s+7\.0\s+2026-01-10 10:00/);
    expect(out).toContain('1 open vulnerability (1 CVE: 1 High); 1 product version without a CVE.');
    // failing = applicable and not compliant, highest impact first: scid-2 (7), scid-3 (5), scid-5 (2)
    const failing = [...out.matchAll(/^(scid-\d)\s+Setting scid-\d\s+Network\s+(\d)$/gm)].map((m) => [m[1], m[2]]);
    expect(failing).toEqual([
      ['scid-2', '7'],
      ['scid-3', '5'],
      ['scid-5', '2'],
    ]);
    expect(out).toContain('3 failing of 4 applicable configurations (4 assessed).');
  });

  it('--json: inventory rows as before kinds, the other kinds carry Kind, SnapshotId and their documented columns', async () => {
    const rows = json(await q('device', D1, '--json'));
    const inv = rows.filter((r) => r.Kind === undefined);
    expect(inv).toHaveLength(1);
    expect(inv[0]).toMatchObject({ SnapshotId: I2, DeviceId: D1, SoftwareVersion: '2.17.1' });
    expect(Object.keys(inv[0])[0]).toBe('SnapshotId');
    const vulns = rows.filter((r) => r.Kind === 'SoftwareVulnerabilities');
    expect(vulns.map((r) => [r.SnapshotId, r.CveId])).toEqual([
      [V3, null],
      [V3, 'CVE-2023-38545'],
    ]);
    expect(Object.keys(vulns[1])).toEqual(['SnapshotId', 'Kind', ...kindSpec('SoftwareVulnerabilities').columns.map((c) => c.name)]);
    expect(vulns[1]).toMatchObject({
      CvssScore: 9.8,
      FirstSeenTimestamp: '2026-01-10T10:00:00.000Z',
      LastSeenTimestamp: null,
      DeviceName: 'wks-0001.contoso.com',
    });
    const configs = rows.filter((r) => r.Kind === 'SecureConfigurations');
    expect(configs.map((r) => [r.SnapshotId, r.ConfigurationId, r.IsApplicable, r.IsCompliant])).toEqual([
      [C2, 'scid-1', true, true],
      [C2, 'scid-2', true, false],
      [C2, 'scid-3', true, false],
      [C2, 'scid-5', true, false],
    ]);
    expect(Object.keys(configs[0])).toContain('AssessmentTimestamp');
    expect(rows.filter((r) => r.Kind === 'NonCpeSoftwareInventory').map((r) => r.SoftwareLastSeenTimestamp)).toEqual(['2026-01-10T08:00:00.000Z']);
  });

  it('--kind shows one kind; --at resolves per kind (an id of one kind means "as of then" in the others)', async () => {
    const [configsOnly, inventoryOnly, day10, asOf] = await Promise.all([
      q('device', D1, '--kind', 'SecureConfigurations', '--json', '--at', C1),
      q('device', D1, '--kind', 'SoftwareInventory', '--json'),
      q('device', D1, '--json', '--at', '2026-01-10'),
      q('device', D1, '--json', '--at', I1),
    ]);
    expect(json(configsOnly).map((r) => [r.Kind, r.SnapshotId, r.ConfigurationId])).toEqual(
      ['scid-1', 'scid-2', 'scid-3', 'scid-4'].map((c) => ['SecureConfigurations', C1, c]),
    );
    // --kind SoftwareInventory is exactly the pre-kinds output
    expect(json(inventoryOnly)).toEqual([expect.objectContaining({ SnapshotId: I2, SoftwareVersion: '2.17.1' })]);
    expect(json(inventoryOnly).every((r) => !('Kind' in r))).toBe(true);
    const kindsAt = (r: Run) => [...new Set(json(r).map((x) => `${(x.Kind as string | undefined) ?? 'SoftwareInventory'} ${String(x.SnapshotId)}`))];
    expect(kindsAt(day10)).toEqual([`SoftwareInventory ${I1}`, `NonCpeSoftwareInventory ${N1}`, `SoftwareVulnerabilities ${V1}`, `SecureConfigurations ${C1}`]);
    // I1 is 09:00: the vulnerabilities and configurations of 07:00 and 08:00 that day, the non-CPE of 09:30 is later
    expect(kindsAt(asOf)).toEqual([`SoftwareInventory ${I1}`, `SoftwareVulnerabilities ${V1}`, `SecureConfigurations ${C1}`]);
    expect(asOf.stderr).toContain('no NonCpeSoftwareInventory section');
  });

  it('an unknown device is exit 3; a table name of another kind under --kind is exit 2', async () => {
    const [unknown, wrongTable, badKind] = await Promise.all([
      q('device', 'nobody'),
      q('device', D1, '--kind', 'SoftwareVulnerabilities', '--at', `SoftwareInventory${I1}`),
      q('device', D1, '--kind', 'Firmware'),
    ]);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('unknown device "nobody"');
    expect(wrongTable.code).toBe(2);
    expect(wrongTable.stderr).toContain(`"SoftwareInventory${I1}" is a SoftwareInventory table`);
    expect(badKind.code).toBe(2);
    expect(badKind.stderr).toContain('--kind "Firmware" is not an export kind');
  });
});

describe('cve', () => {
  it('--json: exposed devices at each snapshot asked, as CveExposureRow columns; human: table and counts per snapshot', async () => {
    const [r, latest, human] = await Promise.all([
      q('cve', 'CVE-2021-44228', '--at', `${V1},${V3}`, '--json'),
      q('cve', 'cve-2021-44228', '--json'),
      q('cve', 'CVE-2021-44228', '--at', `${V1}..${V3}`),
    ]);
    const rows = json(r);
    expect(rows.map((x) => [x.SnapshotId, x.DeviceId])).toEqual([
      [V1, D1],
      [V1, D2],
      [V3, D2],
    ]);
    for (const x of rows) expect(Object.keys(x)).toEqual([...CVE_COLUMNS]);
    expect(rows[0]).toEqual({
      SnapshotId: V1,
      CveId: 'CVE-2021-44228',
      DeviceId: D1,
      DeviceName: 'wks-0001.contoso.com',
      OSPlatform: 'Windows11',
      RbacGroupName: 'Clients',
      SoftwareVendor: 'apache',
      SoftwareName: 'log4j',
      SoftwareVersion: '2.14.1',
      CvssScore: 10,
      VulnerabilitySeverityLevel: 'Critical',
      ExploitabilityLevel: 'ExploitIsInKit',
      FirstSeenTimestamp: '2026-01-01T00:00:00.000Z',
      SecurityUpdateAvailable: true,
    });
    expect(json(latest).map((x) => [x.SnapshotId, x.DeviceId])).toEqual([[V3, D2]]);

    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`CVE-2021-44228 in snapshot ${V1}`);
    expect(human.stdout).toMatch(
      /^srv-0002\.contoso\.com\s+bbbb0+2\s+Windows11\s+Clients\s+apache\s+log4j\s+2\.14\.1\s+10\.0\s+Critical\s+ExploitIsInKit\s+2026-01-09 06:00\s+yes$/m,
    );
    expect(human.stdout).toContain(`Devices exposed per snapshot: ${V1}: 2, ${V2}: 1, ${V3}: 1.`);
    expect(human.stderr).toContain(VF); // the range skipped the failed snapshot, with a warning
    const fixedLater = await q('cve', 'CVE-2021-45046', '--at', `${V1}..${V3}`);
    expect(fixedLater.stdout).toContain(`CVE-2021-45046: no device exposed in snapshot ${V2}`);
    expect(fixedLater.stdout).toContain(`Devices exposed per snapshot: ${V1}: 1, ${V2}: 0, ${V3}: 0.`);
  });

  it('--trend: devices exposed per complete snapshot, by scans without rollups and from the rollups once built, the same figures', async () => {
    const expected = [
      [V1, 2],
      [V2, 1],
      [V3, 1],
    ];
    const [scanned, csv, human, only] = await Promise.all([
      q('cve', 'CVE-2021-44228', '--trend', '--json'),
      q('cve', 'CVE-2021-44228', '--trend', '--csv'),
      q('cve', 'CVE-2021-44228', '--trend'),
      q('cve', 'CVE-2021-44228', '--trend', '--at', V2, '--json'),
    ]);
    type Trend = { cveId: string; points: { snapshotId: string; devices: number; cvssScore?: number; severity?: string; source: string }[] };
    const before = json<Trend>(scanned);
    expect(before.cveId).toBe('CVE-2021-44228');
    // every complete snapshot (the failed VF is not one), oldest first, counted by scanning their tables
    expect(before.points.map((p) => [p.snapshotId, p.devices, p.source])).toEqual(expected.map(([id, n]) => [id, n, 'scan']));
    expect(ok(csv).split('\r\n')).toEqual([
      'SnapshotId,GeneratedTime,Devices,CvssScore,VulnerabilitySeverityLevel,Source',
      ...before.points.map((p) => `${p.snapshotId},${new Date(timeOf(p.snapshotId)).toISOString()},${p.devices},,,scan`),
      '',
    ]);
    expect(ok(human)).toMatch(new RegExp(`^${V1}\\s+\\S+ \\S+\\s+2\\s+-\\s+-$`, 'm'));
    expect(human.stdout).toContain('Counted by scanning the snapshot tables');
    expect(json<Trend>(only).points.map((p) => p.snapshotId)).toEqual([V2]);

    // with the rollups built, one query answers, with the highest score and severity
    const services = createServices(testConfig(azurite()));
    await buildMissingRollups(rollupDeps(services.catalog, silentLog), ['SoftwareVulnerabilities']);
    const [after, humanAfter] = await Promise.all([q('cve', 'CVE-2021-44228', '--trend', '--json'), q('cve', 'CVE-2021-44228', '--trend')]);
    const fromRollups = json<Trend>(after);
    expect(fromRollups.points.map((p) => [p.snapshotId, p.devices, p.source])).toEqual(expected.map(([id, n]) => [id, n, 'rollup']));
    expect(fromRollups.points.map((p) => [p.cvssScore, p.severity])).toEqual(expected.map(() => [10, 'Critical']));
    expect(humanAfter.stdout).toContain('Read from the rollups (one query).');
  });

  it("--trend is the cve command's alone; a CVE exposing no device at any snapshot is exit 3", async () => {
    const [elsewhere, none] = await Promise.all([q('device', D1, '--trend'), q('cve', 'CVE-1999-0001', '--trend')]);
    expect(elsewhere.code).toBe(2);
    expect(elsewhere.stderr).toContain('device takes no --trend (cve <CVE-ID> --trend)');
    expect(none.code).toBe(3);
    expect(none.stdout).toBe('');
    expect(none.stderr).toContain('CVE-1999-0001 is in no SoftwareVulnerabilities snapshot asked');
  });

  it('a CVE found in none of the snapshots asked is exit 3 with nothing on stdout; a malformed id is exit 2', async () => {
    const [nowhere, notThere, malformed] = await Promise.all([
      q('cve', 'CVE-1999-0001', '--json'),
      q('cve', 'CVE-2021-45046', '--at', V3),
      q('cve', 'log4shell'),
    ]);
    expect(nowhere.code).toBe(3);
    expect(nowhere.stdout).toBe('');
    expect(nowhere.stderr).toContain(`CVE-1999-0001 is in no SoftwareVulnerabilities snapshot asked (${V3})`);
    expect(notThere.code).toBe(3);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('"log4shell" is not a CVE id');
  });
});

describe('diff of the other kinds', () => {
  it('vulnerabilities: new and fixed per device, then totals', async () => {
    const [r, human] = await Promise.all([
      q('diff', V1, V3, '--kind', 'SoftwareVulnerabilities', '--json'),
      q('diff', V1, 'latest', '--kind', 'SoftwareVulnerabilities'),
    ]);
    const lines = jsonLines(r);
    const change = (c: string, d: string, cve: string, vendor: string, name: string, version: string) => ({
      change: c,
      DeviceId: d,
      CveId: cve,
      SoftwareVendor: vendor,
      SoftwareName: name,
      SoftwareVersion: version,
    });
    expect(lines).toEqual([
      change('fixed', D1, 'CVE-2021-44228', 'apache', 'log4j', '2.14.1'),
      change('fixed', D1, 'CVE-2021-45046', 'apache', 'log4j', '2.14.1'),
      change('fixed', D1, 'CVE-2022-0778', 'openssl', 'openssl', '3.0.1'),
      change('new', D1, 'CVE-2023-38545', 'haxx', 'curl', '7.0'),
      { totals: { new: 1, fixed: 3, unchanged: 2 } },
    ]);
    for (const l of lines.slice(0, -1)) expect(Object.keys(l)).toEqual(['change', 'DeviceId', 'CveId', 'SoftwareVendor', 'SoftwareName', 'SoftwareVersion']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`wks-0001.contoso.com  ${D1}`);
    expect(human.stdout).toMatch(/new\s+CVE-2023-38545\s+haxx\s+curl\s+7\.0\s+High\s+9\.8/);
    expect(human.stdout).toContain('Totals (device, CVE, product version): new 1, fixed 3, unchanged 2.');
  });

  it('configurations: became compliant / non-compliant, added, removed, changed; --device narrows to one device', async () => {
    const [r, one, none] = await Promise.all([
      q('diff', C1, C2, '--kind', 'SecureConfigurations', '--json'),
      q('diff', C1, C2, '--kind', 'SecureConfigurations', '--device', 'srv-0002.contoso.com', '--json'),
      q('diff', C1, C2, '--kind', 'SecureConfigurations', '--device', 'nobody'),
    ]);
    const line = (change: string, id: string, fromState: string, toState: string) => ({
      change,
      DeviceId: D1,
      ConfigurationId: id,
      ConfigurationName: `Setting ${id}`,
      fromState,
      toState,
    });
    expect(jsonLines(r)).toEqual([
      line('became-compliant', 'scid-1', 'noncompliant', 'compliant'),
      line('became-noncompliant', 'scid-2', 'compliant', 'noncompliant'),
      line('changed', 'scid-3', 'not-applicable', 'noncompliant'),
      line('removed', 'scid-4', 'noncompliant', 'absent'),
      line('added', 'scid-5', 'absent', 'noncompliant'),
      { totals: { 'became-compliant': 1, 'became-noncompliant': 1, added: 1, removed: 1, changed: 1, unchanged: 1 } },
    ]);
    expect(jsonLines(one)).toEqual([{ totals: { 'became-compliant': 0, 'became-noncompliant': 0, added: 0, removed: 0, changed: 0, unchanged: 1 } }]);
    expect(none.code).toBe(3);
  });

  it('NonCpeSoftwareInventory compares like the inventory; without --kind diff is the inventory', async () => {
    const [inv, noncpe] = await Promise.all([q('diff', I1, I2, '--json'), q('diff', N1, N1, '--kind', 'NonCpeSoftwareInventory', '--json')]);
    expect(jsonLines(inv)).toEqual([
      { change: 'changed', DeviceId: D1, SoftwareVendor: 'apache', SoftwareName: 'log4j', fromVersions: ['2.14.1'], toVersions: ['2.17.1'] },
      { totals: { installed: 0, removed: 0, changed: 1, unchanged: 1 } },
    ]);
    expect(jsonLines(noncpe)).toEqual([{ totals: { installed: 0, removed: 0, changed: 0, unchanged: 1 } }]);
  });
});

describe('exposure', () => {
  it('each vulnerability fixed between two snapshots, with its exact exposure; the failed snapshot between is not part of the window', async () => {
    const [r, human, oneDevice] = await Promise.all([
      q('exposure', V1, V3, '--json'),
      q('exposure', '2026-01-10', 'latest'),
      q('exposure', V1, V3, '--device', D2, '--json'),
    ]);
    const lines = jsonLines(r);
    const summary = lines.pop();
    const byKey = new Map(lines.map((l) => [`${String(l.DeviceId)} ${String(l.CveId)}`, l]));
    expect([...byKey.keys()].sort()).toEqual([`${D1} CVE-2021-44228`, `${D1} CVE-2021-45046`, `${D1} CVE-2022-0778`, `${D2} CVE-2021-44228`]);
    for (const l of lines) expect(Object.keys(l)).toEqual([...EXPOSURE_COLUMNS]);
    expect(byKey.get(`${D1} CVE-2021-44228`)).toMatchObject({
      exposedSince: '2026-01-01T00:00:00.000Z',
      exposedSinceSource: 'FirstSeenTimestamp',
      fixedIn: V3,
      fixedAt: '2026-01-12T07:00:00.000Z',
      exposureSeconds: 11 * 86400 + 7 * 3600,
      reappeared: false,
      SoftwareVendor: 'apache',
      CvssScore: 10,
      DeviceName: 'wks-0001.contoso.com',
    });
    expect(byKey.get(`${D1} CVE-2021-45046`)).toMatchObject({ fixedIn: V2, exposureSeconds: 5 * 86400 + 19 * 3600 - 0.5 });
    // no FirstSeenTimestamp: from <from>'s generation time
    expect(byKey.get(`${D1} CVE-2022-0778`)).toMatchObject({
      exposedSince: '2026-01-10T07:00:00.000Z',
      exposedSinceSource: 'snapshot',
      fixedIn: V3,
      exposureSeconds: 2 * 86400,
    });
    expect(byKey.get(`${D2} CVE-2021-44228`)).toMatchObject({ fixedIn: V2, exposureSeconds: 2 * 86400 + 3600, reappeared: true });
    // zlib on D2 stays open; curl appeared after <from>
    const sorted = [2 * 86400, 2 * 86400 + 3600, 5 * 86400 + 19 * 3600 - 0.5, 11 * 86400 + 7 * 3600];
    expect(summary).toEqual({ summary: { fixed: 4, open: 1, medianSeconds: (sorted[1] + sorted[2]) / 2, maxSeconds: sorted[3] } });

    expect(human.code).toBe(0);
    const table = human.stdout.split('\n').filter((l) => /^\s*\d+d /.test(l));
    expect(table.map((l) => l.trim().split(/\s+/).slice(0, 2).join(' '))).toEqual(['11d 7h', '5d 18h', '2d 1h', '2d 0h']);
    expect(human.stdout).toContain(`4 fixed (device, CVE, product version); exposure median 3d 21h 59m, max 11d 7h 0m. 1 still open at ${V3}.`);
    expect(human.stdout).toContain('(reappeared later)');

    const d2 = jsonLines(oneDevice);
    expect(d2.map((l) => l.CveId ?? l.summary)).toEqual([
      'CVE-2021-44228',
      { fixed: 1, open: 1, medianSeconds: 2 * 86400 + 3600, maxSeconds: 2 * 86400 + 3600 },
    ]);
  });

  it('usage and not-found exit codes: from not older than to is 2, an unknown snapshot 3', async () => {
    const [backwards, same, unknown, range] = await Promise.all([
      q('exposure', V3, V1),
      q('exposure', V1, V1),
      q('exposure', '209901010000', V3),
      q('exposure', `${V1}..${V3}`, V3),
    ]);
    expect([backwards.code, same.code, unknown.code, range.code]).toEqual([2, 2, 3, 2]);
    expect(backwards.stderr).toContain('exposure needs <from> older than <to>');
    expect(unknown.stderr).toContain('unknown SoftwareVulnerabilities snapshot 209901010000');
  });
});
