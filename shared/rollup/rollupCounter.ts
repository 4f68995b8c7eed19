// Counts a snapshot's rows into rollup buckets of distinct devices (docs/rollups.md#counting). Two callers:
// a scan of the finished table, whose rows come device by device, so only the current device's state is kept
// (`countRollup`); and the local runner's ingest, whose rows come in any order, so every device's state is kept
// (`RollupTally`, rollupTally.ts). Both count through `BucketCounter`, so they cannot disagree.
import type { ExportKind } from '../kinds/exportKinds';
import { RollupDimension, rollupDimensions } from './dimensions';

export interface Bucket {
  dimension: RollupDimension;
  /** the subject's values in the dimension's subject order ('' for missing, and for "across" the last column) */
  subject: string[];
  /** the detail value (a version), or undefined for the subject's total */
  detail?: string;
  devices: number;
  /** compliance: devices whose row is applicable and compliant / applicable and not compliant / not applicable */
  compliant: number;
  nonCompliant: number;
  notApplicable: number;
  /** severity: the highest CvssScore and VulnerabilitySeverityLevel seen for the subject */
  cvssScore?: number;
  severity?: string;
}

export interface CountResult {
  buckets: Bucket[];
  rows: number;
  devices: number;
}

/** A row as read from the table (plain values), or an entity as written (a Double as `{ value, type }`). */
export type Row = { partitionKey: string } & Record<string, unknown>;

/** What one device has been counted for in each bucket: present = counted in Devices; bits = compliance counted. */
export type DeviceState = Map<Bucket, number>;

const COMPLIANT = 1;
const NON_COMPLIANT = 2;
const NOT_APPLICABLE = 4;

// Defender's levels, low to high; an unknown level ranks below all of them
const SEVERITY_RANK: Record<string, number> = { low: 1, medium: 2, high: 3, critical: 4 };
const rank = (s: string) => SEVERITY_RANK[s.toLowerCase()] ?? 0;

/** A stored value as key text: the subject and detail columns are strings (docs/kinds.md); anything else is its JSON. */
function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** A number as read back, or as an entity holds an Edm.Double before it is written. */
function numberOf(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'object' && v !== null && 'value' in v ? Number(v.value) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

function higherSeverity(a: string | undefined, b: string): string {
  if (a === undefined) return b;
  const d = rank(b) - rank(a);
  return d > 0 || (d === 0 && b < a) ? b : a; // ties: the smaller text, so the result never depends on row order
}

function complianceOf(r: Row): number {
  if (r.IsApplicable === false) return NOT_APPLICABLE;
  if (r.IsCompliant === true) return COMPLIANT;
  if (r.IsCompliant === false) return NON_COMPLIANT;
  return 0;
}

/** A subject's place in a dimension's tree of values: no key strings are built per row, only the row's own strings looked up. */
interface Node {
  next?: Map<string, Node>;
  total?: Bucket;
  details?: Map<string, Bucket>;
}

function child(node: Node, value: string): Node {
  const next = (node.next ??= new Map<string, Node>());
  let n = next.get(value);
  if (!n) next.set(value, (n = {}));
  return n;
}

/** Buckets by subject, and the counting of one row of one device into them (order-independent: sets and maxima). */
export class BucketCounter {
  private readonly dims: readonly RollupDimension[];
  private readonly roots: Node[];
  private readonly buckets: Bucket[] = [];
  rows = 0;

  constructor(kind: ExportKind) {
    this.dims = rollupDimensions(kind);
    this.roots = this.dims.map(() => ({}));
  }

  get size(): number {
    return this.buckets.length;
  }

  /** Count row `r` of the device whose state is `seen`; returns how many (device, bucket) pairs were new. */
  add(r: Row, seen: DeviceState): number {
    this.rows++;
    let added = 0;
    for (let i = 0; i < this.dims.length; i++) {
      const d = this.dims[i];
      if (d.skipEmpty && d.subject.some((c) => text(r[c]) === '')) continue;
      const detail = d.detail === undefined ? undefined : text(r[d.detail]);
      added += this.count(d, this.walk(i, r, false), r, seen, detail, false);
      if (d.acrossLast && d.subject.length > 0) added += this.count(d, this.walk(i, r, true), r, seen, detail, true);
    }
    return added;
  }

  /** The counts; `raw` keeps every "across" bucket, for partial counts that are merged before the drop (rollupInParts.ts). */
  result(devices: number, raw = false): CountResult {
    return { buckets: raw ? [...this.buckets] : dropSingleAcross(this.buckets), rows: this.rows, devices };
  }

  /** The row's subject node in dimension i ('' in place of the last value when counting across it). */
  private walk(i: number, r: Row, across: boolean): Node {
    const cols = this.dims[i].subject;
    let node = this.roots[i];
    for (let c = 0; c < cols.length; c++) node = child(node, across && c === cols.length - 1 ? '' : text(r[cols[c]]));
    return node;
  }

  private bucket(d: RollupDimension, r: Row, across: boolean, detail?: string): Bucket {
    const subject = d.subject.map((c, i) => (across && i === d.subject.length - 1 ? '' : text(r[c])));
    const b: Bucket = { dimension: d, subject, detail, devices: 0, compliant: 0, nonCompliant: 0, notApplicable: 0 };
    this.buckets.push(b);
    return b;
  }

  private count(d: RollupDimension, node: Node, r: Row, seen: DeviceState, detail: string | undefined, across: boolean): number {
    const total = (node.total ??= this.bucket(d, r, across));
    let added = this.see(d, total, r, seen, true);
    if (detail !== undefined) {
      const details = (node.details ??= new Map<string, Bucket>());
      let b = details.get(detail);
      if (!b) details.set(detail, (b = this.bucket(d, r, across, detail)));
      added += this.see(d, b, r, seen, false);
    }
    return added;
  }

  private see(d: RollupDimension, b: Bucket, r: Row, seen: DeviceState, isTotal: boolean): number {
    const before = seen.get(b);
    let flags = before ?? 0;
    if (before === undefined) b.devices++;
    // the measures belong to the subject's total row only (docs/rollups.md#table-layout)
    if (isTotal && d.measures) {
      for (const m of d.measures) {
        if (m === 'compliance') {
          const f = complianceOf(r) & ~flags;
          if (f & COMPLIANT) b.compliant++;
          if (f & NON_COMPLIANT) b.nonCompliant++;
          if (f & NOT_APPLICABLE) b.notApplicable++;
          flags |= f;
        } else {
          const score = numberOf(r.CvssScore);
          if (score !== undefined) b.cvssScore = Math.max(b.cvssScore ?? -Infinity, score);
          if (typeof r.VulnerabilitySeverityLevel === 'string' && r.VulnerabilitySeverityLevel !== '')
            b.severity = higherSeverity(b.severity, r.VulnerabilitySeverityLevel);
        }
      }
    }
    if (before !== flags) seen.set(b, flags);
    return before === undefined ? 1 : 0;
  }
}

/**
 * Count `rows` (one snapshot table of `kind`, in PartitionKey order) into buckets of distinct devices. `raw`: keep
 * the "across" buckets a whole snapshot would drop (a part of the table, merged later by mergeCounts).
 */
export async function countRollup(
  kind: ExportKind,
  rows: AsyncIterable<Row>,
  onRow?: (rows: number, buckets: number) => void,
  raw = false,
): Promise<CountResult> {
  const counter = new BucketCounter(kind);
  const seen: DeviceState = new Map(); // the current device's buckets
  let current: string | undefined;
  let devices = 0;
  for await (const r of rows) {
    if (r.partitionKey !== current) {
      // a device seen again later would be counted twice: the scan's (PartitionKey, RowKey) order rules that out
      seen.clear();
      current = r.partitionKey;
      devices++;
    }
    counter.add(r, seen);
    onRow?.(counter.rows, counter.size);
  }
  return counter.result(devices, raw);
}

/**
 * The counts of a whole snapshot from raw counts of parts whose devices are disjoint (PartitionKey ranges): devices
 * and compliance add up, scores and severities take the highest, and the "across" buckets are dropped as a whole
 * snapshot's count drops them.
 */
export function mergeCounts(parts: readonly CountResult[]): CountResult {
  const merged = new Map<string, Bucket>();
  let rows = 0;
  let devices = 0;
  for (const p of parts) {
    rows += p.rows;
    devices += p.devices;
    for (const b of p.buckets) {
      const key = JSON.stringify([b.dimension.name, b.subject, b.detail ?? null]);
      const m = merged.get(key);
      if (!m) {
        merged.set(key, { ...b, subject: [...b.subject] });
        continue;
      }
      m.devices += b.devices;
      m.compliant += b.compliant;
      m.nonCompliant += b.nonCompliant;
      m.notApplicable += b.notApplicable;
      if (b.cvssScore !== undefined) m.cvssScore = Math.max(m.cvssScore ?? -Infinity, b.cvssScore);
      if (b.severity !== undefined) m.severity = higherSeverity(m.severity, b.severity);
    }
  }
  return { buckets: dropSingleAcross([...merged.values()]), rows, devices };
}

/** "Across the last column" buckets are kept only where the leading columns have more than one value (else they repeat it). */
function dropSingleAcross(buckets: readonly Bucket[]): Bucket[] {
  const values = new Map<string, number>(); // leading parts → distinct last values
  const lead = (b: Bucket) => JSON.stringify([b.dimension.name, b.subject.slice(0, -1)]);
  for (const b of buckets) {
    if (b.dimension.acrossLast && b.detail === undefined && b.subject.length > 0 && b.subject[b.subject.length - 1] !== '') {
      values.set(lead(b), (values.get(lead(b)) ?? 0) + 1);
    }
  }
  return buckets.filter((b) => !(b.dimension.acrossLast && b.subject.length > 0 && b.subject[b.subject.length - 1] === '' && (values.get(lead(b)) ?? 0) <= 1));
}
