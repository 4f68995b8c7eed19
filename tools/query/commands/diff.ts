// The query CLI's `diff` command (docs/query.md).
import { ParsedArgs } from '../args';
import { CsvWriter } from '../csv';
import { DiffChange, DiffRow, diffStreams, DiffTotals } from '../diff';
import { fmt, progress, Progress, renderTable } from '../output';
import { readEntities } from '../tableRead';
import { Context, diffPair, snapshotLine, tableOf } from './common';
import { lookupDevice } from './deviceLookup';
import { isAssessmentKind, kindDiffCommand } from './kindDiff';

const DIFF_SELECT = ['PartitionKey', 'DeviceId', 'SoftwareVendor', 'SoftwareName', 'SoftwareVersion'];
/** --csv: one row per change, the --json keys; version lists as JSON arrays (versions may hold spaces or commas). */
const CSV_COLUMNS = ['change', 'DeviceId', 'SoftwareVendor', 'SoftwareName', 'fromVersions', 'toVersions'];

async function* fromArray<T>(rows: readonly T[]): AsyncGenerator<T> {
  yield* rows;
}

/** `3.0.11 -> 3.0.13  [kept 1.1.1w, 3.2.1]`: what left, what came, what stayed. */
function changeText(c: DiffChange): string {
  const to = new Set(c.toVersions);
  const from = new Set(c.fromVersions);
  const gone = c.fromVersions.filter((v) => !to.has(v));
  const came = c.toVersions.filter((v) => !from.has(v));
  const kept = c.fromVersions.filter((v) => to.has(v));
  return `${gone.join(', ') || '(none)'} -> ${came.join(', ') || '(none)'}${kept.length ? `  [kept ${kept.join(', ')}]` : ''}`;
}

export async function diffCommand(ctx: Context, args: ParsedArgs): Promise<void> {
  // vulnerabilities and configurations compare other things than version sets; NonCpe is compared like the inventory
  if (isAssessmentKind(args.kind)) return kindDiffCommand(ctx, args, args.kind);
  const kind = args.kind ?? 'SoftwareInventory';
  const [a, b] = await diffPair(ctx, args, kind);
  // Human output names devices, which costs one more property per row.
  const machine = args.json || args.csv;
  const csv = args.csv ? new CsvWriter(ctx.io, CSV_COLUMNS) : undefined;
  const select = machine ? DIFF_SELECT : [...DIFF_SELECT, 'DeviceName'];

  let fromRows: AsyncIterable<DiffRow>;
  let toRows: AsyncIterable<DiffRow>;
  let scannedFrom = 0;
  let scannedTo = 0;
  let by: string | undefined;
  let bar: Progress | undefined;
  let lines = 0;
  if (args.device !== undefined) {
    const found = await lookupDevice(ctx, [a, b], args.device, select);
    by = found.by;
    fromRows = fromArray(found.rows[0] as unknown as DiffRow[]);
    toRows = fromArray(found.rows[1] as unknown as DiffRow[]);
  } else {
    const tick = () => bar?.tick();
    const expected = (a.RowCount ?? 0) + (b.RowCount ?? 0);
    bar = progress(ctx.io, () => {
      const pct = expected > 0 ? ` (${Math.min(99, Math.floor(((scannedFrom + scannedTo) * 100) / expected))}%)` : '';
      return `diff: read ${fmt(scannedFrom)} of ~${fmt(a.RowCount ?? 0)} rows of ${a.rowKey} and ${fmt(scannedTo)} of ~${fmt(b.RowCount ?? 0)} of ${b.rowKey}${pct}; ${fmt(lines)} changes so far`;
    });
    fromRows = readEntities<DiffRow>(tableOf(ctx, a), a.rowKey, { select, scan: true, onPage: (n) => ((scannedFrom += n), tick()) });
    toRows = readEntities<DiffRow>(tableOf(ctx, b), b.rowKey, { select, scan: true, onPage: (n) => ((scannedTo += n), tick()) });
  }

  const perProduct = new Map<string, { installed: number; removed: number; changed: number }>();
  if (!machine) {
    await ctx.io.out(`Changes from ${snapshotLine(a)}\n          to ${snapshotLine(b)}${by ? `\nfor device "${args.device}" (matched by ${by})` : ''}\n\n`);
  }
  let totals: DiffTotals;
  // Human output: one block per device, aligned within the block (changes arrive device by device).
  let block: { deviceId: string; deviceName?: string; changes: DiffChange[] } | undefined;
  const flush = async () => {
    if (!block) return;
    const b = block;
    block = undefined;
    bar?.done(); // a progress line on the same terminal would garble the output
    const rows = b.changes.map((c) => [c.change, c.SoftwareVendor, c.SoftwareName, changeText(c)]);
    const table = renderTable(['', '', '', ''], rows)
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => `  ${l}\n`)
      .join('');
    await ctx.io.out(`${b.deviceName ?? '(no name)'}  ${b.deviceId}\n${table}`);
  };
  try {
    totals = await diffStreams(fromRows, toRows, async (c: DiffChange, context) => {
      lines++;
      if (csv) return csv.add(c);
      if (args.json) return ctx.io.out(`${JSON.stringify(c)}\n`);
      const product = `${c.SoftwareVendor} ${c.SoftwareName}`;
      const p = perProduct.get(product) ?? { installed: 0, removed: 0, changed: 0 };
      p[c.change]++;
      perProduct.set(product, p);
      if (block && block.deviceId !== c.DeviceId) await flush();
      block ??= { deviceId: c.DeviceId, deviceName: context.deviceName, changes: [] };
      block.changes.push(c);
    });
    await flush();
  } finally {
    bar?.done();
  }
  if (args.json) {
    await ctx.io.out(`${JSON.stringify({ totals })}\n`);
    return;
  }
  if (csv) {
    // a CSV is one table: the totals, which count unchanged groups too, go to stderr
    await csv.end();
    ctx.io.err(`totals: installed ${totals.installed}, removed ${totals.removed}, changed ${totals.changed}, unchanged ${totals.unchanged}\n`);
    return;
  }
  let text = lines === 0 ? 'No differences.\n' : '';
  if (perProduct.size > 1 && args.device === undefined) {
    const top = [...perProduct].sort((x, y) => sum(y[1]) - sum(x[1]) || x[0].localeCompare(y[0])).slice(0, 10);
    text += `\nMost changed products:\n`;
    text += renderTable(
      ['product', 'installed', 'removed', 'changed'],
      top.map(([p, n]) => [p, fmt(n.installed), fmt(n.removed), fmt(n.changed)]),
      ['left', 'right', 'right', 'right'],
    );
  }
  text += `\nTotals (device, vendor, name groups): installed ${fmt(totals.installed)}, removed ${fmt(totals.removed)}, changed ${fmt(totals.changed)}, unchanged ${fmt(totals.unchanged)}.\n`;
  await ctx.io.out(text);
}

function sum(n: { installed: number; removed: number; changed: number }): number {
  return n.installed + n.removed + n.changed;
}
