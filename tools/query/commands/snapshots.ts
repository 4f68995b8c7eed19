// The query CLI's `snapshots` command (docs/query.md).
import { ParsedArgs } from '../args';
import { fmt, renderTable, shortTime } from '../output';
import { recordSink } from '../csv';
import { catalogJson, isComplete, loadCatalog, whenText } from '../snapshots';
import { Context } from './common';

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
  const rows = await loadCatalog(ctx.catalog);
  if (args.json || args.csv) {
    const arr = recordSink(ctx.io, args, CSV_COLUMNS);
    for (const r of rows) await arr.add(args.csv ? { ...catalogJson(r), Error: r.Error } : catalogJson(r));
    await arr.end();
    return;
  }
  if (rows.length === 0) {
    await ctx.io.out('No snapshots yet: the catalog (table InventorySnapshots) is empty. Run a cycle first (npm start, or npm run ingest).\n');
    return;
  }
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
  await ctx.io.out(text);
}
