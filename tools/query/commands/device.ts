// The query CLI's `device` command (docs/query.md).
import { ParsedArgs } from '../args';
import { fmt, printable, renderTable, shortTime } from '../output';
import { recordSink } from '../csv';
import { outputRow, OUTPUT_COLUMNS, StoredRow } from '../rows';
import { CatalogRow, loadCatalog, resolveSnapshots } from '../snapshots';
import { Context, eosText, snapshotLine, warn } from './common';
import { deviceHistoryCommand } from './deviceHistory';
import { lookupDevice } from './deviceLookup';
import { deviceKindsOutput, deviceView } from './deviceKinds';

export function isEos(r: StoredRow): boolean {
  return !!r.EndOfSupportStatus && r.EndOfSupportStatus !== 'None';
}

export function groupByPartition(rows: readonly StoredRow[]): StoredRow[][] {
  const out = new Map<string, StoredRow[]>();
  for (const r of rows) {
    let g = out.get(r.partitionKey);
    if (!g) out.set(r.partitionKey, (g = []));
    g.push(r);
  }
  return [...out.values()];
}

export async function deviceCommand(ctx: Context, args: ParsedArgs): Promise<void> {
  if (args.history) return deviceHistoryCommand(ctx, args);
  // other kinds than the inventory to show (--kind, or snapshots of them exist): sections per kind
  const view = await deviceView(ctx, args);
  if (view) return deviceKindsOutput(ctx, args, view);
  const catalog = await loadCatalog(ctx.catalog);
  const resolved = resolveSnapshots(args.at ?? 'latest', catalog);
  warn(ctx.io, resolved.warnings);
  const query = args.positionals[0];
  const found = await lookupDevice(ctx, resolved.snapshots, query);
  const missing = resolved.snapshots.filter((_, i) => found.rows[i].length === 0);
  if (missing.length)
    ctx.io.err(`note: "${printable(query)}" is not in snapshot${missing.length === 1 ? '' : 's'} ${missing.map((s) => s.rowKey).join(', ')}\n`);

  if (args.json || args.csv) {
    const arr = recordSink(ctx.io, args, OUTPUT_COLUMNS);
    for (let i = 0; i < resolved.snapshots.length; i++) for (const r of found.rows[i]) await arr.add(outputRow(r, resolved.snapshots[i].rowKey));
    await arr.end();
    return;
  }
  let text = '';
  const devices = new Set<string>();
  for (let i = 0; i < resolved.snapshots.length; i++) {
    const s = resolved.snapshots[i];
    for (const rows of groupByPartition(found.rows[i])) {
      devices.add(rows[0].partitionKey);
      text += `${text ? '\n' : ''}${inventoryBlock(s, rows, found.by)}`;
    }
  }
  if (devices.size > 1) text += `\n${devices.size} devices matched "${query}" (by ${found.by}).\n`;
  await ctx.io.out(text);
}

/** One device's software in one snapshot: header, table, totals. */
export function inventoryBlock(s: CatalogRow, rows: readonly StoredRow[], by: string): string {
  const d = rows[0];
  let text = `Device ${d.DeviceName ?? '(no name)'}  DeviceId ${d.DeviceId}  ${d.OSPlatform ?? '-'}  RBAC group ${d.RbacGroupName ?? '-'}\n`;
  text += `In ${snapshotLine(s)}; matched by ${by}\n\n`;
  text += renderTable(
    ['vendor', 'name', 'version', 'weaknesses', 'end of support', 'first seen (UTC)'],
    rows.map((r) => [
      r.SoftwareVendor ?? '',
      r.SoftwareName ?? '',
      r.SoftwareVersion ?? '',
      r.NumberOfWeaknesses === undefined ? '-' : String(r.NumberOfWeaknesses),
      eosText(r),
      shortTime(r.SoftwareFirstSeenTimestamp),
    ]),
    ['left', 'left', 'left', 'right'],
  );
  const products = new Set(rows.map((r) => `${r.SoftwareVendor}\u0000${r.SoftwareName}`)).size;
  const weaknesses = rows.reduce((n, r) => n + (r.NumberOfWeaknesses ?? 0), 0);
  const eos = rows.filter(isEos).length;
  text += `\n${fmt(rows.length)} row${rows.length === 1 ? '' : 's'} (${fmt(products)} product${products === 1 ? '' : 's'}), ${fmt(weaknesses)} weaknesses in total, ${fmt(eos)} at or near end of support.\n`;
  return text;
}
