// The rollup counted during ingest (shared/rollup/rollupTally.ts, ingestTallies.ts): rows as the worker maps them —
// in any order, from several files, some twice, a Double still as { value, type } — must count exactly what a scan
// of the finished table counts (countRollup on the stored rows in key order); and a snapshot this process did not
// see whole, row for row, must never be answered from its tally.
import type { SnapshotRow } from '../../shared/core/contracts';
import { memoryLog } from '../../shared/core/log';
import { EXPORT_KIND_NAMES, ExportKind } from '../../shared/kinds/exportKinds';
import { IngestTallies } from '../../shared/rollup/ingestTallies';
import { Bucket, countRollup, CountResult, Row } from '../../shared/rollup/rollupCounter';
import { PairBudget, RollupTally } from '../../shared/rollup/rollupTally';
import { tableParts } from '../../shared/rollup/rollupInParts';

/** A small deterministic PRNG (mulberry32), so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Stored {
  key: string;
  /** as a scan reads it back */
  read: Row;
  /** as the mapper hands it to the writer */
  entity: Row;
}

/** Rows of one snapshot of `kind`, unique by (device, key columns), in their stored and their mapped shapes. */
function snapshotRows(kind: ExportKind, seed: number, devices = 40): Stored[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const out = new Map<string, Stored>();
  for (let d = 0; d < devices; d++) {
    const device = `dev-${d}`;
    const os = pick(['Windows11', 'Windows10', 'Linux', '']);
    const rbac = pick(['Lab', 'Servers', '']);
    for (let i = 0; i < 12; i++) {
      // 'tool' comes from two vendors; 'a|b' and 'a' + '|b' must stay apart; versions repeat across devices
      const [vendor, name] = pick([
        ['google', 'chrome'],
        ['microsoft', 'edge'],
        ['acme', 'tool'],
        ['other', 'tool'],
        ['v', 'a|b'],
        ['v|a', 'b'],
      ]);
      const version = pick(['1', '2', '10.0', '']);
      const base: Record<string, unknown> = { SoftwareVendor: vendor, SoftwareName: name, SoftwareVersion: version };
      if (os) base.OSPlatform = os;
      if (rbac) base.RbacGroupName = rbac;
      let key = `${device}|${vendor}|${name}|${version}`;
      const read: Record<string, unknown> = { ...base };
      const entity: Record<string, unknown> = { ...base };
      if (kind === 'SoftwareVulnerabilities') {
        const cve = pick(['CVE-1', 'CVE-2', 'CVE-3', '']);
        key += `|${cve}`;
        if (cve) {
          read.CveId = entity.CveId = cve;
          const score = pick([5, 7.5, 9.8, undefined]);
          if (score !== undefined) {
            read.CvssScore = score;
            entity.CvssScore = { value: score, type: 'Double' };
          }
          const sev = pick(['Low', 'High', 'critical', 'Critical', undefined]);
          if (sev) read.VulnerabilitySeverityLevel = entity.VulnerabilitySeverityLevel = sev;
        }
      }
      if (kind === 'SecureConfigurations') {
        const config = pick(['scid-1', 'scid-2', 'scid-3']);
        key = `${device}|${config}`;
        for (const o of [read, entity]) {
          delete o.SoftwareVendor;
          delete o.SoftwareName;
          delete o.SoftwareVersion;
          o.ConfigurationId = config;
        }
        const applicable = pick([true, false, undefined]);
        const compliant = pick([true, false, undefined]);
        if (applicable !== undefined) read.IsApplicable = entity.IsApplicable = applicable;
        if (compliant !== undefined) read.IsCompliant = entity.IsCompliant = compliant;
      }
      out.set(key, { key, read: { partitionKey: device, ...read }, entity: { partitionKey: device, ...entity } });
    }
  }
  return [...out.values()];
}

async function* inOrder(rows: Stored[]): AsyncIterable<Row> {
  for (const r of [...rows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) yield r.read;
}

const canonical = (b: Bucket) => ({
  key: `${b.dimension.name}|${JSON.stringify(b.subject)}|${b.detail ?? '(total)'}`,
  devices: b.devices,
  compliant: b.compliant,
  nonCompliant: b.nonCompliant,
  notApplicable: b.notApplicable,
  cvssScore: b.detail === undefined ? b.cvssScore : undefined,
  severity: b.detail === undefined ? b.severity : undefined,
});
const sortedBuckets = (r: CountResult) => r.buckets.map(canonical).sort((a, b) => (a.key < b.key ? -1 : 1));

function shuffled<T>(xs: T[], rnd: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

describe('RollupTally', () => {
  it.each(EXPORT_KIND_NAMES.map((k) => [k]))('counts %s rows in any order, some twice, exactly as a scan of the table does', async (kind) => {
    for (const seed of [1, 2, 3]) {
      const rows = snapshotRows(kind, seed);
      const scan = await countRollup(kind, inOrder(rows));
      const rnd = prng(seed + 100);
      const tally = new RollupTally(kind);
      // a retried segment and a resumed file's replay add rows again
      for (const r of shuffled([...rows, ...rows.slice(0, rows.length / 3)], rnd)) tally.add(r.entity);
      const counted = tally.result()!;
      expect(counted.devices).toBe(scan.devices);
      expect(sortedBuckets(counted)).toEqual(sortedBuckets(scan));
      expect(scan.buckets.length).toBeGreaterThan(10);
    }
  });

  it('gives up past its pair budget, shared by every tally of the process, and frees what it held', () => {
    const budget = new PairBudget(300);
    const a = new RollupTally('SoftwareInventory', budget);
    const b = new RollupTally('SoftwareVulnerabilities', budget);
    const rows = snapshotRows('SoftwareInventory', 4);
    for (const r of rows.slice(0, 40)) a.add(r.entity);
    expect(a.result()).toBeDefined();
    const heldByA = a.pairsHeld;
    expect(budget.held).toBe(heldByA);
    for (const r of snapshotRows('SoftwareVulnerabilities', 4)) b.add(r.entity);
    expect(b.result()).toBeUndefined();
    expect(b.overflow).toMatch(/passed 300 \(device, bucket\) pairs/);
    expect(budget.held).toBe(heldByA); // b's pairs given back
    expect(a.result()).toBeDefined();
  });
});

describe('IngestTallies', () => {
  const snapshot = (over: Partial<SnapshotRow> = {}): SnapshotRow =>
    ({ partitionKey: 'SoftwareInventory', rowKey: '202601050600', Status: 'complete', FileCount: 2, RowCount: 0, ...over }) as SnapshotRow;

  /** Two files of one snapshot's rows, each line given to `feed` as the worker would. */
  function twoFiles() {
    const rows = snapshotRows('SoftwareInventory', 9);
    const half = Math.floor(rows.length / 2);
    return { rows, files: [rows.slice(0, half), rows.slice(half)] };
  }

  it('answers a snapshot whose every file completed here, resumed or not, with the scan counts', async () => {
    const { rows, files } = twoFiles();
    const tallies = new IngestTallies(memoryLog());
    // file 0: one attempt stops after 10 lines, the next replays them and goes on; a refused line in each
    const first = tallies.file('SoftwareInventory', '202601050600', 0);
    for (const r of files[0].slice(0, 10)) first.line({ ok: true, entity: r.entity });
    first.line({ ok: false });
    const second = tallies.file('SoftwareInventory', '202601050600', 0);
    for (const r of files[0]) second.line({ ok: true, entity: r.entity });
    second.line({ ok: false });
    second.complete({ rows: files[0].length, rejected: 1 });
    const other = tallies.file('SoftwareInventory', '202601050600', 1);
    for (const r of files[1]) other.line({ ok: true, entity: r.entity });
    other.complete({ rows: files[1].length, rejected: 0 });

    const answer = tallies.countFor('SoftwareInventory', snapshot({ RowCount: rows.length }));
    expect('counted' in answer).toBe(true);
    if (!('counted' in answer)) return;
    expect(answer.counted.rows).toBe(rows.length);
    expect(sortedBuckets(answer.counted)).toEqual(sortedBuckets(await countRollup('SoftwareInventory', inOrder(rows))));
  });

  it.each([
    [
      'a file completed elsewhere',
      (t: IngestTallies, files: Stored[][]) => feedFile(t, 0, files[0]),
      {},
      /1 of its 2 files completed elsewhere \(e\.g\. file 1\)/,
    ],
    [
      'rows that do not add up to the catalog',
      (t: IngestTallies, files: Stored[][]) => files.forEach((f, i) => feedFile(t, i, f)),
      { RowCount: 1 },
      /its files wrote \d+ rows here, the catalog says 1/,
    ],
    [
      'a row refused by Table Storage after it was counted',
      (t: IngestTallies, files: Stored[][]) => files.forEach((f, i) => feedFile(t, i, f, i === 1 ? 1 : 0)),
      {},
      /file 1 has 1 rows refused by Table Storage/,
    ],
    [
      'a file started again on a changed blob',
      (t: IngestTallies, files: Stored[][]) => {
        t.file('SoftwareInventory', '202601050600', 0).restarted();
        files.forEach((f, i) => feedFile(t, i, f));
      },
      {},
      /file 0 started again on a changed blob/,
    ],
  ])('scans instead for %s', (_what, feed, over, reason) => {
    const { rows, files } = twoFiles();
    const tallies = new IngestTallies(memoryLog());
    feed(tallies, files);
    const answer = tallies.countFor('SoftwareInventory', snapshot({ RowCount: rows.length, ...over }));
    expect(answer).toEqual({ reason: expect.stringMatching(reason) });
  });

  it('says so once when a tally passes the budget, and scans; a snapshot it never saw is not its to answer', () => {
    const { rows, files } = twoFiles();
    const log = memoryLog();
    const tallies = new IngestTallies(log, 50);
    files.forEach((f, i) => feedFile(tallies, i, f));
    expect(tallies.countFor('SoftwareInventory', snapshot({ RowCount: rows.length }))).toEqual({
      reason: expect.stringMatching(/passed 50 \(device, bucket\) pairs/),
    });
    expect(log.lines.filter((l) => /not counting its rollup during ingest/.test(l))).toHaveLength(1);
    expect(tallies.countFor('SoftwareInventory', snapshot({ rowKey: '202601060600' }))).toEqual({ reason: 'not ingested by this process' });
  });

  function feedFile(t: IngestTallies, index: number, rows: Stored[], refusedByStorage = 0) {
    const f = t.file('SoftwareInventory', '202601050600', index);
    for (const r of rows) f.line({ ok: true, entity: r.entity });
    f.complete({ rows: rows.length - refusedByStorage, rejected: refusedByStorage });
  }
});

describe('tableParts (a large snapshot counted in parts: docs/rollups.md#large-snapshots)', () => {
  /** The bounds a part's filter states (`PartitionKey ge 'a' and PartitionKey lt 'b'`, either side optional). */
  const bounds = (filter: string) => ({
    ge: /PartitionKey ge '([^']*)'/.exec(filter)?.[1],
    lt: /PartitionKey lt '([^']*)'/.exec(filter)?.[1],
  });
  const inside = (key: string, b: { ge?: string; lt?: string }) => (b.ge === undefined || key >= b.ge) && (b.lt === undefined || key < b.lt);

  it.each([16, 256] as const)('%i parts cover every key exactly once, each read as 16 ranges inside it', (count) => {
    const parts = tableParts(count).map((p) => ({ ...p, b: bounds(p.filter) }));
    expect(parts).toHaveLength(count);
    const rnd = prng(count);
    const hex = () => Math.floor(rnd() * 16).toString(16);
    const keys = ['', '0', '/', 'G', 'zz', '~', 'ff', 'fff', '10', ...Array.from({ length: 2000 }, () => Array.from({ length: 40 }, hex).join(''))];
    for (const key of keys) expect(parts.filter((p) => inside(key, p.b))).toHaveLength(1);
    for (const p of parts) {
      expect(p.splits).toHaveLength(15);
      for (const s of p.splits) expect(inside(s, p.b)).toBe(true);
    }
    // hex DeviceIds spread evenly: no part is empty of them
    for (const p of parts) expect(keys.slice(9).some((k) => inside(k, p.b))).toBe(true);
  });
});
