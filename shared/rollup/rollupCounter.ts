// Counts one snapshot's rows into rollup buckets (docs/rollups.md#counting). The rows come in PartitionKey
// (device) order — a scan yields every row of one device together — so each device's buckets are collected,
// de-duplicated, and added once: memory holds the buckets and one device's rows, never the table.
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

type Row = { partitionKey: string } & Record<string, unknown>;

// Defender's levels, low to high; an unknown level ranks below all of them
const SEVERITY_RANK: Record<string, number> = { low: 1, medium: 2, high: 3, critical: 4 };
const rank = (s: string) => SEVERITY_RANK[s.toLowerCase()] ?? 0;

/** A stored value as key text: the subject and detail columns are strings (docs/kinds.md); anything else is its JSON. */
function text(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function higherSeverity(a: string | undefined, b: string): string {
  if (a === undefined) return b;
  const d = rank(b) - rank(a);
  return d > 0 || (d === 0 && b < a) ? b : a; // ties: the smaller text, so the result never depends on row order
}

interface Seen {
  dimension: RollupDimension;
  subject: string[];
  detail?: string;
  compliant: boolean;
  nonCompliant: boolean;
  notApplicable: boolean;
  cvssScore?: number;
  severity?: string;
}

/** Count `rows` (one snapshot table of `kind`, in PartitionKey order) into buckets of distinct devices. */
export async function countRollup(kind: ExportKind, rows: AsyncIterable<Row>, onRow?: (rows: number, buckets: number) => void): Promise<CountResult> {
  const dims = rollupDimensions(kind);
  const buckets = new Map<string, Bucket>();
  const device = new Map<string, Seen>(); // the current device's buckets
  let current: string | undefined;
  let devices = 0;
  let rowCount = 0;

  const see = (dimension: RollupDimension, index: number, subject: string[], detail: string | undefined, r: Row) => {
    const key = JSON.stringify([index, subject, detail ?? null]);
    let s = device.get(key);
    if (!s) device.set(key, (s = { dimension, subject, detail, compliant: false, nonCompliant: false, notApplicable: false }));
    for (const m of dimension.measures ?? []) {
      if (m === 'compliance') {
        if (r.IsApplicable === false) s.notApplicable = true;
        else if (r.IsCompliant === true) s.compliant = true;
        else if (r.IsCompliant === false) s.nonCompliant = true;
      } else {
        if (typeof r.CvssScore === 'number' && Number.isFinite(r.CvssScore)) s.cvssScore = Math.max(s.cvssScore ?? -Infinity, r.CvssScore);
        if (typeof r.VulnerabilitySeverityLevel === 'string' && r.VulnerabilitySeverityLevel !== '')
          s.severity = higherSeverity(s.severity, r.VulnerabilitySeverityLevel);
      }
    }
  };

  const closeDevice = () => {
    if (current === undefined) return;
    devices++;
    for (const [key, s] of device) {
      let b = buckets.get(key);
      if (!b)
        buckets.set(key, (b = { dimension: s.dimension, subject: s.subject, detail: s.detail, devices: 0, compliant: 0, nonCompliant: 0, notApplicable: 0 }));
      b.devices++;
      if (s.compliant) b.compliant++;
      if (s.nonCompliant) b.nonCompliant++;
      if (s.notApplicable) b.notApplicable++;
      if (s.cvssScore !== undefined) b.cvssScore = Math.max(b.cvssScore ?? -Infinity, s.cvssScore);
      if (s.severity !== undefined) b.severity = higherSeverity(b.severity, s.severity);
    }
    device.clear();
  };

  for await (const r of rows) {
    if (r.partitionKey !== current) {
      // a device seen again later would be counted twice: the scan's (PartitionKey, RowKey) order rules that out
      closeDevice();
      current = r.partitionKey;
    }
    rowCount++;
    dims.forEach((d, i) => {
      const subject = d.subject.map((c) => text(r[c]));
      if (d.skipEmpty && subject.some((v) => v === '')) return;
      const subjects = d.acrossLast && subject.length > 0 ? [subject, [...subject.slice(0, -1), '']] : [subject];
      for (const s of subjects) {
        see(d, i, s, undefined, r);
        if (d.detail) see(d, i, s, text(r[d.detail]), r);
      }
    });
    onRow?.(rowCount, buckets.size);
  }
  closeDevice();
  return { buckets: dropSingleAcross(buckets), rows: rowCount, devices };
}

/** "Across the last column" buckets are kept only where the leading columns have more than one value (else they repeat it). */
function dropSingleAcross(buckets: Map<string, Bucket>): Bucket[] {
  const values = new Map<string, number>(); // leading parts → distinct last values
  const lead = (b: Bucket) => JSON.stringify([b.dimension.name, b.subject.slice(0, -1)]);
  for (const b of buckets.values()) {
    if (b.dimension.acrossLast && b.detail === undefined && b.subject.length > 0 && b.subject[b.subject.length - 1] !== '') {
      values.set(lead(b), (values.get(lead(b)) ?? 0) + 1);
    }
  }
  return [...buckets.values()].filter(
    (b) => !(b.dimension.acrossLast && b.subject.length > 0 && b.subject[b.subject.length - 1] === '' && (values.get(lead(b)) ?? 0) <= 1),
  );
}
