// Merge-join diff of two snapshot tables. Table Storage returns a query's entities sorted by
// (PartitionKey, RowKey), so both tables are streamed side by side, one device (partition) per side at a
// time: memory stays at one device's rows however large the tables are. Groups are built from the stored
// SoftwareVendor/SoftwareName properties (long keys are hashed, so keys cannot be parsed back).
import { AppError } from '../../shared/core/errors';

export interface DiffRow {
  partitionKey: string;
  DeviceId: string;
  SoftwareVendor: string;
  SoftwareName: string;
  SoftwareVersion: string;
  DeviceName?: string;
}

export type ChangeKind = 'installed' | 'removed' | 'changed';

/** One JSON line of `diff --json` (keys in the contract's order). */
export interface DiffChange {
  change: ChangeKind;
  DeviceId: string;
  SoftwareVendor: string;
  SoftwareName: string;
  fromVersions: string[];
  toVersions: string[];
}

export interface DiffTotals {
  installed: number;
  removed: number;
  changed: number;
  unchanged: number;
}

/** Context of a change for human output (not part of the JSON line). */
export interface ChangeContext {
  deviceName?: string;
}

export class OrderError extends AppError {}

/** JS string order (UTF-16 code units): what Azurite sorts by, and Table Storage for the keys we write. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface Partition<R extends { partitionKey: string } = DiffRow> {
  key: string;
  rows: R[];
}

/** Consecutive rows of one PartitionKey; a key going backwards means the source is not sorted, which would make the merge wrong. */
export async function* partitionsOf<R extends { partitionKey: string }>(rows: AsyncIterable<R>, side: string): AsyncGenerator<Partition<R>> {
  let current: Partition<R> | undefined;
  for await (const row of rows) {
    if (current && row.partitionKey === current.key) {
      current.rows.push(row);
      continue;
    }
    if (current) {
      if (compareKeys(row.partitionKey, current.key) < 0) {
        throw new OrderError(`the ${side} table did not return its rows in PartitionKey order ("${row.partitionKey}" after "${current.key}"); cannot merge`);
      }
      yield current;
    }
    current = { key: row.partitionKey, rows: [row] };
  }
  if (current) yield current;
}

function sortVersions(versions: Iterable<string>): string[] {
  return [...versions].sort(compareKeys);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

interface Group {
  vendor: string;
  name: string;
  from: Set<string>;
  to: Set<string>;
}

/** Compare one device's rows on both sides; returns the changes (sorted by vendor, name) and the unchanged count. */
export function diffDevice(fromRows: readonly DiffRow[], toRows: readonly DiffRow[]): { changes: DiffChange[]; unchanged: number } {
  const groups = new Map<string, Group>();
  const groupOf = (r: DiffRow): Group => {
    const key = `${r.SoftwareVendor}\u0000${r.SoftwareName}`;
    let g = groups.get(key);
    if (!g) {
      g = { vendor: r.SoftwareVendor, name: r.SoftwareName, from: new Set(), to: new Set() };
      groups.set(key, g);
    }
    return g;
  };
  for (const r of fromRows) groupOf(r).from.add(r.SoftwareVersion);
  for (const r of toRows) groupOf(r).to.add(r.SoftwareVersion);
  const deviceId = (toRows[0] ?? fromRows[0])?.DeviceId ?? '';
  const changes: DiffChange[] = [];
  let unchanged = 0;
  const ordered = [...groups.values()].sort((a, b) => compareKeys(a.vendor, b.vendor) || compareKeys(a.name, b.name));
  for (const g of ordered) {
    const fromVersions = sortVersions(g.from);
    const toVersions = sortVersions(g.to);
    if (sameSet(fromVersions, toVersions)) {
      unchanged++;
      continue;
    }
    const change: ChangeKind = fromVersions.length === 0 ? 'installed' : toVersions.length === 0 ? 'removed' : 'changed';
    changes.push({ change, DeviceId: deviceId, SoftwareVendor: g.vendor, SoftwareName: g.name, fromVersions, toVersions });
  }
  return { changes, unchanged };
}

export type ChangeSink = (change: DiffChange, context: ChangeContext) => void | Promise<void>;

/**
 * Merge-join two row streams, each sorted by PartitionKey, calling `onChange` for every group whose set
 * of versions differs, device by device in PartitionKey order. Holds one partition per side at a time.
 */
export async function diffStreams(from: AsyncIterable<DiffRow>, to: AsyncIterable<DiffRow>, onChange: ChangeSink): Promise<DiffTotals> {
  const totals: DiffTotals = { installed: 0, removed: 0, changed: 0, unchanged: 0 };
  const a = partitionsOf(from, 'from')[Symbol.asyncIterator]();
  const b = partitionsOf(to, 'to')[Symbol.asyncIterator]();
  try {
    // both sides are read at once, so their page requests overlap
    let [na, nb] = await Promise.all([a.next(), b.next()]);
    while (!na.done || !nb.done) {
      const order = na.done ? 1 : nb.done ? -1 : compareKeys(na.value.key, nb.value.key);
      const fromRows = order <= 0 && !na.done ? na.value.rows : [];
      const toRows = order >= 0 && !nb.done ? nb.value.rows : [];
      const { changes, unchanged } = diffDevice(fromRows, toRows);
      totals.unchanged += unchanged;
      const context: ChangeContext = { deviceName: (toRows[0] ?? fromRows[0])?.DeviceName };
      for (const c of changes) {
        totals[c.change]++;
        await onChange(c, context);
      }
      [na, nb] = await Promise.all([order <= 0 ? a.next() : na, order >= 0 ? b.next() : nb]);
    }
  } finally {
    await Promise.all([a.return?.(undefined), b.return?.(undefined)]);
  }
  return totals;
}
