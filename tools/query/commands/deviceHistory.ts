// The query CLI's `device <id|name> --history` (docs/query.md#device---history): each (vendor, name, version)
// a device has had over a range of snapshots, with the first and last snapshot it was seen in. Only the
// device's partition is read in each snapshot table (single-partition queries, a bounded number at once),
// so the cost grows with the number of snapshots, not with their size.
import { odata } from '@azure/data-tables';
import { mapBounded } from '../../../shared/core/concurrency';
import { partitionKeyFor } from '../../../shared/storage/tableKeys';
import { ParsedArgs } from '../args';
import { recordSink } from '../csv';
import { NotFoundError } from '../errors';
import { fmt, printable, renderTable } from '../output';
import { StoredRow } from '../rows';
import { CatalogRow, isoOrNull, loadCatalog, resolveAllComplete, resolveSnapshots } from '../snapshots';
import { readAll } from '../tableRead';
import { Context, tableOf, warn } from './common';
import { lookupDevice } from './deviceLookup';

/** Partition reads in flight at once. */
export const HISTORY_CONCURRENCY = 8;

const SELECT = ['PartitionKey', 'DeviceId', 'DeviceName', 'SoftwareVendor', 'SoftwareName', 'SoftwareVersion'];

/** One (device, vendor, name, version) over the range; --json keys and --csv columns in this order. */
export interface HistoryEntry {
  DeviceId: string;
  /** as stored in the newest snapshot that has the entry */
  DeviceName: string | null;
  SoftwareVendor: string;
  SoftwareName: string;
  SoftwareVersion: string;
  FirstSnapshotId: string;
  FirstGeneratedTime: string | null;
  LastSnapshotId: string;
  LastGeneratedTime: string | null;
  /** snapshots of the range that hold it (fewer than the span between first and last: it went and came back) */
  SnapshotsSeen: number;
  /** whether the newest snapshot of the range holds it */
  PresentAtNewest: boolean;
}

export const HISTORY_COLUMNS: readonly (keyof HistoryEntry)[] = [
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

interface Found {
  by: string;
  /** the device's rows in each snapshot, oldest snapshot first */
  rows: StoredRow[][];
}

const byId = (a: CatalogRow, b: CatalogRow) => (a.rowKey < b.rowKey ? -1 : a.rowKey > b.rowKey ? 1 : 0);

/** The partitions' rows in every snapshot: one point query per (snapshot, partition), HISTORY_CONCURRENCY at once. */
async function partitionRows(ctx: Context, snapshots: readonly CatalogRow[], keys: readonly string[]): Promise<StoredRow[][]> {
  const pairs = snapshots.flatMap((s, i) => keys.map((k) => ({ s, i, k })));
  const read = await mapBounded(pairs, HISTORY_CONCURRENCY, ({ s, k }) =>
    readAll<StoredRow>(tableOf(ctx, s), s.rowKey, { filter: odata`PartitionKey eq ${k}`, select: SELECT }),
  );
  const out: StoredRow[][] = snapshots.map(() => []);
  pairs.forEach((p, j) => out[p.i].push(...read[j]));
  return out;
}

/**
 * The argument as a DeviceId (also lower-cased) in every snapshot; else as a name, looked up in the newest
 * snapshot only (a name lookup may scan a table: once, not once per snapshot), and then its DeviceId(s).
 */
async function findDevice(ctx: Context, snapshots: readonly CatalogRow[], query: string): Promise<Found> {
  for (const id of new Set([query, query.toLowerCase()])) {
    const rows = await partitionRows(ctx, snapshots, [partitionKeyFor(id)]);
    if (rows.some((r) => r.length > 0)) return { by: id === query ? 'DeviceId' : 'DeviceId, lower-cased', rows };
  }
  const newest = snapshots[snapshots.length - 1];
  let named;
  try {
    named = await lookupDevice(ctx, [newest], query, ['PartitionKey']);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
    throw new NotFoundError(
      `unknown device "${query}": no DeviceId matches in ${snapshots.length === 1 ? 'snapshot' : `any of the ${snapshots.length} snapshots`} ${snapshots[0].rowKey}${snapshots.length > 1 ? `..${newest.rowKey}` : ''}, and no DeviceName in the newest (${newest.rowKey}); a device gone since is found by its DeviceId`,
    );
  }
  const keys = [...new Set(named.rows[0].map((r) => r.partitionKey))].sort();
  return { by: named.by, rows: await partitionRows(ctx, snapshots, keys) };
}

/** Fold the rows (oldest snapshot first) into one entry per (device, vendor, name, version). */
export function historyOf(snapshots: readonly CatalogRow[], rows: readonly (readonly StoredRow[])[]): HistoryEntry[] {
  const entries = new Map<string, HistoryEntry>();
  const newest = snapshots[snapshots.length - 1];
  snapshots.forEach((s, i) => {
    const when = isoOrNull(s.GeneratedTime);
    for (const r of rows[i]) {
      const vendor = String(r.SoftwareVendor ?? '');
      const name = String(r.SoftwareName ?? '');
      const version = String(r.SoftwareVersion ?? '');
      const deviceId = String(r.DeviceId ?? r.partitionKey);
      const key = JSON.stringify([deviceId, vendor, name, version]);
      let e = entries.get(key);
      if (!e) {
        e = {
          DeviceId: deviceId,
          DeviceName: null,
          SoftwareVendor: vendor,
          SoftwareName: name,
          SoftwareVersion: version,
          FirstSnapshotId: s.rowKey,
          FirstGeneratedTime: when,
          LastSnapshotId: s.rowKey,
          LastGeneratedTime: when,
          SnapshotsSeen: 0,
          PresentAtNewest: false,
        };
        entries.set(key, e);
      }
      if (e.LastSnapshotId === s.rowKey && e.SnapshotsSeen > 0) continue; // one row per key per table; never count twice
      e.DeviceName = typeof r.DeviceName === 'string' ? r.DeviceName : e.DeviceName;
      e.LastSnapshotId = s.rowKey;
      e.LastGeneratedTime = when;
      e.SnapshotsSeen++;
      e.PresentAtNewest = s === newest;
    }
  });
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...entries.values()].sort(
    (a, b) =>
      cmp(a.DeviceId, b.DeviceId) ||
      cmp(a.SoftwareVendor, b.SoftwareVendor) ||
      cmp(a.SoftwareName, b.SoftwareName) ||
      cmp(a.FirstSnapshotId, b.FirstSnapshotId) ||
      cmp(a.SoftwareVersion, b.SoftwareVersion),
  );
}

export async function deviceHistoryCommand(ctx: Context, args: ParsedArgs): Promise<void> {
  const catalog = await loadCatalog(ctx.catalog);
  const resolved = args.at === undefined ? resolveAllComplete(catalog) : resolveSnapshots(args.at, catalog);
  warn(ctx.io, resolved.warnings);
  const snapshots = [...resolved.snapshots].sort(byId); // a history reads oldest first, whatever order --at listed
  const query = args.positionals[0];
  const found = await findDevice(ctx, snapshots, query);
  const missing = snapshots.filter((_, i) => found.rows[i].length === 0);
  if (missing.length)
    ctx.io.err(`note: "${printable(query)}" is not in snapshot${missing.length === 1 ? '' : 's'} ${missing.map((s) => s.rowKey).join(', ')}\n`);
  const entries = historyOf(snapshots, found.rows);

  if (args.json || args.csv) {
    const sink = recordSink(ctx.io, args, HISTORY_COLUMNS);
    for (const e of entries) await sink.add(e);
    await sink.end();
    return;
  }
  const newest = snapshots[snapshots.length - 1];
  const span = snapshots.length === 1 ? `snapshot ${newest.rowKey}` : `${snapshots.length} snapshots, ${snapshots[0].rowKey} to ${newest.rowKey}`;
  let text = '';
  for (const deviceId of [...new Set(entries.map((e) => e.DeviceId))]) {
    const rows = entries.filter((e) => e.DeviceId === deviceId);
    const name = [...rows].sort((a, b) => (a.LastSnapshotId < b.LastSnapshotId ? 1 : -1))[0].DeviceName;
    const inSnapshots = found.rows.filter((r) => r.some((x) => String(x.DeviceId ?? x.partitionKey) === deviceId)).length;
    text += `${text ? '\n' : ''}Device ${name ?? '(no name)'}  DeviceId ${deviceId}; matched by ${found.by}\n`;
    text += `History over ${span}; the device is in ${inSnapshots} of them\n\n`;
    text += renderTable(
      ['vendor', 'name', 'version', 'first snapshot', 'last snapshot', 'seen in', 'in newest'],
      rows.map((e) => [
        e.SoftwareVendor,
        e.SoftwareName,
        e.SoftwareVersion,
        e.FirstSnapshotId,
        e.LastSnapshotId,
        `${e.SnapshotsSeen}/${snapshots.length}`,
        e.PresentAtNewest ? 'yes' : 'no',
      ]),
      ['left', 'left', 'left', 'left', 'left', 'right'],
    );
    const products = new Set(rows.map((e) => JSON.stringify([e.SoftwareVendor, e.SoftwareName]))).size;
    const present = rows.filter((e) => e.PresentAtNewest).length;
    text += `\n${fmt(rows.length)} product version${rows.length === 1 ? '' : 's'} (${fmt(products)} product${products === 1 ? '' : 's'}): ${fmt(present)} in the newest snapshot (${newest.rowKey}), ${fmt(rows.length - present)} gone.\n`;
  }
  await ctx.io.out(text);
}
