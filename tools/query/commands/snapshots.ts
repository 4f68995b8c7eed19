// The query CLI's `snapshots` command (docs/query.md).
import { ExportKind } from '../../../shared/core/contracts';
import { kindSpec } from '../../../shared/kinds/exportKinds';
import { ParsedArgs } from '../args';
import { fmt, renderTable, shortTime } from '../output';
import { recordSink } from '../csv';
import { CatalogRow, catalogJson, isComplete, loadAllCatalogs, loadCatalog, newestFirst, whenText } from '../snapshots';
import { Context } from './common';
import { hasCurrentRollup } from '../../../shared/rollup/rollupKeys';

/** --csv: the --json keys, then Error (a CSV row cannot leave a column out, so it is always there, empty unless failed). */
const CSV_COLUMNS = [
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
];

export async function snapshotsCommand(ctx: Context, args: ParsedArgs): Promise<void> {
  // --kind: that kind only; else every kind that has snapshots (an inventory-only catalog prints as before kinds)
  const byKind = args.kind ? new Map<ExportKind, CatalogRow[]>([[args.kind, await loadCatalog(ctx.catalog, args.kind)]]) : await loadAllCatalogs(ctx.catalog);
  if (args.json || args.csv) {
    const arr = recordSink(ctx.io, args, CSV_COLUMNS);
    for (const r of newestFirst(byKind)) await arr.add(args.csv ? { ...catalogJson(r), Error: r.Error } : catalogJson(r));
    await arr.end();
    return;
  }
  const kinds = [...byKind].filter(([, rows]) => rows.length > 0);
  if (kinds.length === 0) {
    const what = args.kind ? `no ${args.kind} snapshot` : 'empty';
    await ctx.io.out(`No snapshots yet: the catalog (table InventorySnapshots) is ${what}. Run a cycle first (npm start, or npm run ingest).\n`);
    return;
  }
  const headed = kinds.length > 1 || (args.kind !== undefined && args.kind !== 'SoftwareInventory');
  let text = '';
  for (const [kind, rows] of kinds) {
    if (headed) text += `${text ? '\n' : ''}${kind}: ${kindSpec(kind).title}\n`;
    text += kindTable(rows);
  }
  await ctx.io.out(text);
}

function kindTable(rows: readonly CatalogRow[]): string {
  const body = rows.map((r) => [
    r.rowKey,
    r.Status,
    shortTime(r.GeneratedTime),
    r.Method ?? '-',
    `${r.FilesCompleted ?? 0}/${r.FileCount ?? 0}`,
    fmt(r.RowCount ?? 0),
    fmt(r.RejectedCount ?? 0),
    fmt(r.DuplicateCount ?? 0),
    shortTime(r.StartedAt),
    shortTime(r.CompletedAt),
    r.TableName ?? '-',
  ]);
  let text = renderTable(
    ['snapshot', 'status', 'generated (UTC)', 'method', 'files', 'rows', 'rejected', 'duplicates', 'started (UTC)', 'completed (UTC)', 'table'],
    body,
    ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'right'],
  );
  const byStatus = new Map<string, number>();
  for (const r of rows) byStatus.set(r.Status, (byStatus.get(r.Status) ?? 0) + 1);
  const latest = rows.find(isComplete);
  text += `\n${rows.length} snapshot${rows.length === 1 ? '' : 's'}: ${[...byStatus].map(([s, n]) => `${n} ${s}`).join(', ')}. `;
  text += latest ? `Latest complete: ${latest.rowKey} (${whenText(latest)}).\n` : 'None is complete yet.\n';
  const failed = rows.filter((r) => r.Status === 'failed' && r.Error);
  for (const r of failed) text += `  ${r.rowKey} failed: ${r.Error}\n`;
  if (rows.some((r) => !isComplete(r))) text += 'Only complete snapshots hold the whole inventory; latest and dates resolve to complete ones only.\n';
  // trends read rollups (docs/rollups.md): say when some complete snapshot has none yet, so a slow trend is explained
  const complete = rows.filter(isComplete);
  const unrolled = complete.filter((r) => !hasCurrentRollup(r));
  if (unrolled.length) {
    text += `${unrolled.length} of ${complete.length} complete snapshot${complete.length === 1 ? ' has' : 's have'} no current rollup yet (e.g. ${unrolled[0].rowKey}): trends scan ${unrolled.length === 1 ? 'its table' : 'their tables'} until the next npm run ingest or timer run builds ${unrolled.length === 1 ? 'it' : 'them'}.\n`;
  }
  return text;
}
