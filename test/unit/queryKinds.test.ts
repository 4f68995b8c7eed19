// The pure parts of the query CLI's kinds (docs/query.md#export-kinds): configuration states and changes,
// vulnerability identities, exposure records and their summary, the k-way merge by device, CVE ids and --kind.
import { parseArgs } from '../../tools/query/args';
import { parseCveId } from '../../tools/query/cve';
import { UsageError } from '../../tools/query/errors';
import { deviceExposure, durationText, summarize } from '../../tools/query/exposure';
import { fromArray, joinPartitions } from '../../tools/query/join';
import { configChangeKind, configState, ConfigState, diffVulnDevice, VulnRow } from '../../tools/query/kindDiff';
import { kindRow, ordered } from '../../tools/query/kindRows';
import { OrderError } from '../../tools/query/diff';
import { parseSnapshotSpec } from '../../tools/query/snapshots';

const v = (pk: string, cve: string | undefined, version = '1', extra: Partial<VulnRow> = {}): VulnRow => ({
  partitionKey: pk,
  DeviceId: pk,
  SoftwareVendor: 'vendor',
  SoftwareName: 'app',
  SoftwareVersion: version,
  ...(cve ? { CveId: cve } : {}),
  ...extra,
});

describe('configuration states and changes', () => {
  it('state from the two flags; unknown when a flag is not stored', () => {
    expect(configState(undefined)).toBe('absent');
    expect(configState({ IsApplicable: false, IsCompliant: false })).toBe('not-applicable');
    expect(configState({ IsApplicable: true, IsCompliant: true })).toBe('compliant');
    expect(configState({ IsApplicable: true, IsCompliant: false })).toBe('noncompliant');
    expect(configState({ IsApplicable: true })).toBe('unknown');
    expect(configState({})).toBe('unknown');
  });

  it('every transition has exactly one name', () => {
    const states: ConfigState[] = ['compliant', 'noncompliant', 'not-applicable', 'unknown', 'absent'];
    const table: Record<string, string | undefined> = {};
    for (const a of states) for (const b of states) table[`${a}>${b}`] = configChangeKind(a, b);
    expect(table['noncompliant>compliant']).toBe('became-compliant');
    expect(table['compliant>noncompliant']).toBe('became-noncompliant');
    expect(table['absent>noncompliant']).toBe('added');
    expect(table['compliant>absent']).toBe('removed');
    expect(table['not-applicable>noncompliant']).toBe('changed');
    expect(table['noncompliant>unknown']).toBe('changed');
    for (const s of states) expect(table[`${s}>${s}`]).toBeUndefined();
  });
});

describe('vulnerability diff of one device', () => {
  it('identity is (CVE, vendor, name, version); rows without a CVE are not vulnerabilities', () => {
    const from = [v('d', 'CVE-1', '1'), v('d', 'CVE-2', '1'), v('d', undefined, '1')];
    const to = [v('d', 'CVE-1', '2'), v('d', 'CVE-2', '1'), v('d', undefined, '2')];
    const { changes, unchanged } = diffVulnDevice(from, to);
    expect(changes.map((c) => `${c.change} ${c.CveId} ${c.SoftwareVersion}`)).toEqual(['fixed CVE-1 1', 'new CVE-1 2']);
    expect(unchanged).toBe(1);
  });
});

describe('exposure of one device', () => {
  const snaps = ['2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', '2026-01-03T00:00:00Z'].map((t, i) => ({ id: `s${i}`, generatedTime: new Date(t) }));

  it('fixed at the first snapshot without it; FirstSeenTimestamp or the first snapshot as the start; still open counted', () => {
    const first = [
      v('d', 'CVE-A', '1', { FirstSeenTimestamp: new Date('2025-12-31T12:00:00Z') }),
      v('d', 'CVE-B'),
      v('d', 'CVE-C'),
      v('d', undefined),
      v('d', 'CVE-D', '1', { FirstSeenTimestamp: 'not a date' }),
    ];
    const { fixed, open } = deviceExposure(snaps, [first, [v('d', 'CVE-B'), v('d', 'CVE-C'), v('d', 'CVE-D')], [v('d', 'CVE-C'), v('d', 'CVE-A')]]);
    expect(open).toBe(1); // CVE-C
    expect(fixed.map((f) => [f.CveId, f.fixedIn, f.exposureSeconds, f.exposedSinceSource, f.reappeared])).toEqual([
      ['CVE-A', 's1', 36 * 3600, 'FirstSeenTimestamp', true],
      ['CVE-B', 's2', 2 * 86400, 'snapshot', false],
      ['CVE-D', 's2', 2 * 86400, 'snapshot', false],
    ]);
  });

  it('summary: median of an even count is the mean of the middle two; nothing fixed gives nulls', () => {
    expect(summarize([4, 1, 3, 2], 5)).toEqual({ fixed: 4, open: 5, medianSeconds: 2.5, maxSeconds: 4 });
    expect(summarize([7, 1, 3], 0)).toEqual({ fixed: 3, open: 0, medianSeconds: 3, maxSeconds: 7 });
    expect(summarize([], 2)).toEqual({ fixed: 0, open: 2, medianSeconds: null, maxSeconds: null });
    expect(durationText(11 * 86400 + 7 * 3600 + 59)).toBe('11d 7h 0m');
    expect(durationText(3600 + 120)).toBe('1h 2m');
    expect(durationText(30)).toBe('0m');
    expect(durationText(-90)).toBe('-1m');
  });
});

describe('k-way merge by device', () => {
  const r = (pk: string, n: number) => ({ partitionKey: pk, n });
  it('yields each PartitionKey once, with its rows per source, in key order', async () => {
    const out: string[] = [];
    for await (const d of joinPartitions(
      [fromArray([r('a', 1), r('a', 2), r('c', 3)]), fromArray([r('b', 4)]), fromArray([r('a', 5), r('c', 6)])],
      ['x', 'y', 'z'],
    )) {
      out.push(`${d.key}:${d.rows.map((rows) => rows.map((x) => x.n).join('+') || '-').join('|')}`);
    }
    expect(out).toEqual(['a:1+2|-|5', 'b:-|4|-', 'c:3|-|6']);
  });

  it('refuses an unsorted source', async () => {
    const run = async () => {
      for await (const _ of joinPartitions([fromArray([r('b', 1), r('a', 2)])], ['x'])) void _;
    };
    await expect(run()).rejects.toThrow(OrderError);
  });
});

describe('arguments', () => {
  it('--kind takes a registered kind in any case; others are usage errors; CVE ids are checked and upper-cased', () => {
    expect(parseArgs(['snapshots', '--kind', 'softwarevulnerabilities']).kind).toBe('SoftwareVulnerabilities');
    expect(() => parseArgs(['snapshots', '--kind', 'Firmware'])).toThrow(UsageError);
    expect(() => parseArgs(['software', 'x', '--kind', 'SoftwareInventory'])).toThrow(/software takes no --kind/);
    expect(parseArgs(['cve', 'cve-2021-44228', '--at', 'latest'])).toMatchObject({ command: 'cve', positionals: ['cve-2021-44228'], at: 'latest' });
    expect(parseArgs(['exposure', 'a', 'b', '--device', 'd'])).toMatchObject({ command: 'exposure', device: 'd' });
    expect(parseCveId(' cve-2021-44228 ')).toBe('CVE-2021-44228');
    expect(() => parseArgs(['cve', 'log4shell'])).toThrow(/"log4shell" is not a CVE id/);
    expect(() => parseCveId('CVE-21-1')).toThrow(UsageError);
    expect(parseSnapshotSpec('SecureConfigurations202601100800')).toEqual({
      kind: 'id',
      id: '202601100800',
      text: 'SecureConfigurations202601100800',
      tableKind: 'SecureConfigurations',
    });
    expect(parseSnapshotSpec('noncpesoftwareinventory202601100800')).toMatchObject({ id: '202601100800', tableKind: 'NonCpeSoftwareInventory' });
    expect(parseSnapshotSpec('202601100800')).toEqual({ kind: 'id', id: '202601100800', text: '202601100800' });
  });

  it('records: a stable column order, absent values null, dates ISO; kind rows from the registry', () => {
    expect(ordered(['b', 'a', 'c'], { a: 1, b: new Date('2026-01-01T00:00:00Z') })).toEqual({ b: '2026-01-01T00:00:00.000Z', a: 1, c: null });
    expect(Object.keys(ordered(['b', 'a'], { a: 1, b: 2 }))).toEqual(['b', 'a']);
    const row = kindRow(
      'SecureConfigurations',
      { DeviceId: 'd', ConfigurationId: 'scid-1', AssessmentTimestamp: new Date('2026-01-01T00:00:00Z'), Extra: 1 },
      's',
    );
    expect(row).toMatchObject({
      SnapshotId: 's',
      Kind: 'SecureConfigurations',
      ConfigurationId: 'scid-1',
      AssessmentTimestamp: '2026-01-01T00:00:00.000Z',
      IsCompliant: null,
    });
    expect(row).not.toHaveProperty('Extra');
    expect(row).not.toHaveProperty('Timestamp');
  });
});
