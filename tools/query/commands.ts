// The four commands of docs/query.md: snapshots, device, software, diff.
import { odata, TableClient } from '@azure/data-tables';
import { StorageClients } from '../../shared/storage/storageClients';
import { SnapshotCatalog } from '../../shared/storage/snapshotCatalog';
import { partitionKeyFor } from '../../shared/storage/tableKeys';
import { ParsedArgs } from './args';
import { DiffChange, DiffRow, diffStreams, DiffTotals } from './diff';
import { NotFoundError, UsageError } from './errors';
import { fmt, Io, printable, printableLines, progress, Progress, renderTable, shortDate, shortTime } from './output';
import { outputRow, StoredRow } from './rows';
import { CatalogRow, catalogJson, isComplete, loadCatalog, resolveSnapshot, resolveSnapshots, whenText } from './snapshots';
import { readAll, readEntities } from './tableRead';

export interface Context {
  tables: Pick<StorageClients, 'table'>;
  catalog: SnapshotCatalog;
  io: Io;
}

/** A JSON array written element by element, one per line, so a large result never sits in memory. */
class JsonArray {
  private count = 0;
  constructor(private readonly io: Io) {}
  async add(value: unknown): Promise<void> {
    await this.io.out(`${this.count++ === 0 ? '[\n' : ',\n'}${JSON.stringify(value)}`);
  }
  async end(): Promise<void> {
    await this.io.out(this.count === 0 ? '[]\n' : '\n]\n');
  }
}

function warn(io: Io, warnings: readonly string[]): void {
  for (const w of warnings) io.err(`warning: ${printableLines(w)}\n`);
}

function snapshotLine(s: CatalogRow): string {
  return `snapshot ${s.rowKey} (generated ${whenText(s)}${isComplete(s) ? '' : `, ${s.Status}`}), table ${s.TableName}`;
}

function tableOf(ctx: Context, s: CatalogRow): TableClient {
  return ctx.tables.table(s.TableName || `SoftwareInventory${s.rowKey}`);
}

// ---------------------------------------------------------------------------------------------
// snapshots

export async function snapshotsCommand(ctx: Context, args: ParsedArgs): Promise<void> {
  const rows = await loadCatalog(ctx.catalog);
  if (args.json) {
    const arr = new JsonArray(ctx.io);
    for (const r of rows) await arr.add(catalogJson(r));
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

// ---------------------------------------------------------------------------------------------
// device lookup (device, diff --device)

interface DeviceLookup {
  /** how the argument matched */
  by: string;
  /** the rows of the matched device(s) in each snapshot, in (PartitionKey, RowKey) order */
  rows: StoredRow[][];
}

/**
 * Find a device in some snapshots: by DeviceId (a point query on its partition; also lower-cased), else by
 * DeviceName (exact, server-side filter), else by a scan: DeviceName case-insensitively, then the host name
 * before the first dot. A name can match several devices (reimaged machines keep their names).
 */
export async function lookupDevice(ctx: Context, snapshots: readonly CatalogRow[], query: string, select?: string[]): Promise<DeviceLookup> {
  const tables = snapshots.map((s) => tableOf(ctx, s));
  const each = (filter: string) => Promise.all(tables.map((t, i) => readAll<StoredRow>(t, snapshots[i].rowKey, { filter, select })));
  const found = (rows: StoredRow[][]) => rows.some((r) => r.length > 0);

  for (const id of new Set([query, query.toLowerCase()])) {
    const rows = await each(odata`PartitionKey eq ${partitionKeyFor(id)}`);
    if (found(rows)) return { by: id === query ? 'DeviceId' : 'DeviceId, lower-cased', rows };
  }
  const exact = await each(odata`DeviceName eq ${query}`);
  if (found(exact)) return { by: 'DeviceName', rows: exact };

  // No exact name: scan the names (only PartitionKey and DeviceName travel).
  const wanted = query.toLowerCase();
  const ci = new Set<string>();
  const short = new Set<string>();
  let scanned = 0;
  const bar = progress(ctx.io, () => `scanning device names: ${fmt(scanned)} rows`);
  try {
    for (let i = 0; i < tables.length; i++) {
      const onPage = (n: number) => {
        scanned += n;
        bar.tick();
      };
      for await (const e of readEntities<{ DeviceName?: string }>(tables[i], snapshots[i].rowKey, { select: ['PartitionKey', 'DeviceName'], onPage, scan: true })) {
        const name = typeof e.DeviceName === 'string' ? e.DeviceName.toLowerCase() : undefined;
        if (name === undefined) continue;
        if (name === wanted) ci.add(e.partitionKey);
        else if (!wanted.includes('.') && name.split('.')[0] === wanted) short.add(e.partitionKey);
      }
    }
  } finally {
    bar.done();
  }
  const keys = [...(ci.size ? ci : short)].sort();
  if (keys.length) {
    const rows = await Promise.all(
      tables.map(async (t, i) => (await Promise.all(keys.map((k) => readAll<StoredRow>(t, snapshots[i].rowKey, { filter: odata`PartitionKey eq ${k}`, select })))).flat()),
    );
    return { by: ci.size ? 'DeviceName, case-insensitive' : 'host name, DeviceName before the first dot', rows };
  }
  const where = snapshots.length === 1 ? `snapshot ${snapshots[0].rowKey}` : `snapshots ${snapshots.map((s) => s.rowKey).join(', ')}`;
  throw new NotFoundError(`unknown device "${query}": no DeviceId or DeviceName matches in ${where}`);
}

// ---------------------------------------------------------------------------------------------
// device

function eosText(r: StoredRow): string {
  const status = r.EndOfSupportStatus;
  if (!status || status === 'None') return '-';
  return r.EndOfSupportDate ? `${status} ${shortDate(r.EndOfSupportDate)}` : String(status);
}

function isEos(r: StoredRow): boolean {
  return !!r.EndOfSupportStatus && r.EndOfSupportStatus !== 'None';
}

function groupByPartition(rows: readonly StoredRow[]): StoredRow[][] {
  const out = new Map<string, StoredRow[]>();
  for (const r of rows) {
    let g = out.get(r.partitionKey);
    if (!g) out.set(r.partitionKey, (g = []));
    g.push(r);
  }
  return [...out.values()];
}

export async function deviceCommand(ctx: Context, args: ParsedArgs): Promise<void> {
  const catalog = await loadCatalog(ctx.catalog);
  const resolved = resolveSnapshots(args.at ?? 'latest', catalog);
  warn(ctx.io, resolved.warnings);
  const query = args.positionals[0];
  const found = await lookupDevice(ctx, resolved.snapshots, query);
  const missing = resolved.snapshots.filter((_, i) => found.rows[i].length === 0);
  if (missing.length) ctx.io.err(`note: "${printable(query)}" is not in snapshot${missing.length === 1 ? '' : 's'} ${missing.map((s) => s.rowKey).join(', ')}\n`);

  if (args.json) {
    const arr = new JsonArray(ctx.io);
    for (let i = 0; i < resolved.snapshots.length; i++) for (const r of found.rows[i]) await arr.add(outputRow(r, resolved.snapshots[i].rowKey));
    await arr.end();
    return;
  }
  let text = '';
  const devices = new Set<string>();
  for (let i = 0; i < resolved.snapshots.length; i++) {
    const s = resolved.snapshots[i];
    for (const rows of groupByPartition(found.rows[i])) {
      const d = rows[0];
      devices.add(d.partitionKey);
      text += `${text ? '\n' : ''}Device ${d.DeviceName ?? '(no name)'}  DeviceId ${d.DeviceId}  ${d.OSPlatform ?? '-'}  RBAC group ${d.RbacGroupName ?? '-'}\n`;
      text += `In ${snapshotLine(s)}; matched by ${found.by}\n\n`;
      text += renderTable(
        ['vendor', 'name', 'version', 'weaknesses', 'end of support', 'first seen (UTC)'],
        rows.map((r) => [r.SoftwareVendor ?? '', r.SoftwareName ?? '', r.SoftwareVersion ?? '', r.NumberOfWeaknesses === undefined ? '-' : String(r.NumberOfWeaknesses), eosText(r), shortTime(r.SoftwareFirstSeenTimestamp)]),
        ['left', 'left', 'left', 'right'],
      );
      const products = new Set(rows.map((r) => `${r.SoftwareVendor}\u0000${r.SoftwareName}`)).size;
      const weaknesses = rows.reduce((n, r) => n + (r.NumberOfWeaknesses ?? 0), 0);
      const eos = rows.filter(isEos).length;
      text += `\n${fmt(rows.length)} row${rows.length === 1 ? '' : 's'} (${fmt(products)} product${products === 1 ? '' : 's'}), ${fmt(weaknesses)} weaknesses in total, ${fmt(eos)} at or near end of support.\n`;
    }
  }
  if (devices.size > 1) text += `\n${devices.size} devices matched "${query}" (by ${found.by}).\n`;
  await ctx.io.out(text);
}

// ---------------------------------------------------------------------------------------------
// software

export async function softwareCommand(ctx: Context, args: ParsedArgs): Promise<void> {
  const catalog = await loadCatalog(ctx.catalog);
  const resolved = resolveSnapshots(args.at ?? 'latest', catalog);
  warn(ctx.io, resolved.warnings);
  const name = args.positionals[0];
  const filterFor = (n: string, vendor?: string, version?: string) => {
    let f = odata`SoftwareName eq ${n}`;
    if (vendor !== undefined) f += ` and ${odata`SoftwareVendor eq ${vendor}`}`;
    if (version !== undefined) f += ` and ${odata`SoftwareVersion eq ${version}`}`;
    return f;
  };
  // Defender writes vendor and name in lower case; if the exact text finds nothing, the lower-cased one is tried.
  const attempts = [{ name, vendor: args.vendor }];
  const lower = { name: name.toLowerCase(), vendor: args.vendor?.toLowerCase() };
  if (lower.name !== name || lower.vendor !== args.vendor) attempts.push(lower);

  const arr = args.json ? new JsonArray(ctx.io) : undefined;
  const human: { s: CatalogRow; r: StoredRow }[] = [];
  let matched = 0;
  let total = 0;
  const bar = progress(ctx.io, () => `reading: ${fmt(total)} matching rows`);
  try {
    for (const s of resolved.snapshots) {
      const table = tableOf(ctx, s);
      let count = 0;
      for (const a of attempts) {
        for await (const r of readEntities<StoredRow>(table, s.rowKey, { filter: filterFor(a.name, a.vendor, args.version) })) {
          count++;
          total++;
          bar.tick();
          if (arr) await arr.add(outputRow(r, s.rowKey));
          else human.push({ s, r });
        }
        if (count > 0) {
          if (a !== attempts[0]) ctx.io.err(printableLines(`note: no exact match for "${name}"${args.vendor ? ` (vendor "${args.vendor}")` : ''} in ${s.rowKey}; showing the lower-case "${a.name}"\n`));
          break;
        }
      }
      matched += count;
    }
  } finally {
    bar.done();
  }
  if (arr) {
    await arr.end();
    return;
  }
  const what = `${args.vendor ? `${args.vendor} ` : ''}${name}${args.version ? ` ${args.version}` : ''}`;
  if (matched === 0) {
    await ctx.io.out(`No device has ${what} in ${resolved.snapshots.map((s) => s.rowKey).join(', ')} (SoftwareName${args.vendor ? ', SoftwareVendor' : ''}${args.version ? ', SoftwareVersion' : ''} must match exactly).\n`);
    return;
  }
  let text = '';
  for (const s of resolved.snapshots) {
    const rows = human.filter((h) => h.s === s).map((h) => h.r);
    if (rows.length === 0) {
      text += `${text ? '\n' : ''}${what}: not installed anywhere in ${snapshotLine(s)}.\n`;
      continue;
    }
    // most exposed first: weaknesses, then version, then device name
    rows.sort(
      (a, b) =>
        (b.NumberOfWeaknesses ?? -1) - (a.NumberOfWeaknesses ?? -1) ||
        String(a.SoftwareVersion).localeCompare(String(b.SoftwareVersion), 'en', { numeric: true }) ||
        String(a.DeviceName ?? a.DeviceId).localeCompare(String(b.DeviceName ?? b.DeviceId)),
    );
    text += `${text ? '\n' : ''}${what} in ${snapshotLine(s)}\n\n`;
    text += renderTable(
      ['device', 'DeviceId', 'os', 'rbac group', 'vendor', 'name', 'version', 'weaknesses', 'end of support'],
      rows.map((r) => [r.DeviceName ?? '-', r.DeviceId ?? '', r.OSPlatform ?? '-', r.RbacGroupName ?? '-', r.SoftwareVendor ?? '', r.SoftwareName ?? '', r.SoftwareVersion ?? '', r.NumberOfWeaknesses === undefined ? '-' : String(r.NumberOfWeaknesses), eosText(r)]),
      ['left', 'left', 'left', 'left', 'left', 'left', 'left', 'right'],
    );
    const oneProduct = new Set(rows.map((r) => `${r.SoftwareVendor}\u0000${r.SoftwareName}`)).size === 1;
    const versions = new Map<string, Set<string>>();
    for (const r of rows) {
      const v = oneProduct ? String(r.SoftwareVersion) : `${r.SoftwareVendor} ${r.SoftwareName} ${r.SoftwareVersion}`;
      if (!versions.has(v)) versions.set(v, new Set());
      versions.get(v)!.add(r.partitionKey);
    }
    const byCount = [...versions].sort((a, b) => b[1].size - a[1].size || a[0].localeCompare(b[0]));
    const devices = new Set(rows.map((r) => r.partitionKey)).size;
    text += `\nVersions (devices): ${byCount.map(([v, d]) => `${v} (${fmt(d.size)})`).join(', ')}\n`;
    text += `${fmt(rows.length)} row${rows.length === 1 ? '' : 's'} on ${fmt(devices)} device${devices === 1 ? '' : 's'}.\n`;
  }
  await ctx.io.out(text);
}

// ---------------------------------------------------------------------------------------------
// diff

const DIFF_SELECT = ['PartitionKey', 'DeviceId', 'SoftwareVendor', 'SoftwareName', 'SoftwareVersion'];

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
  const catalog = await loadCatalog(ctx.catalog);
  for (const p of args.positionals) {
    if (p.includes(',') || p.includes('..')) throw new UsageError(`diff compares two single snapshots; "${p}" is a list or range`);
  }
  const from = resolveSnapshot(args.positionals[0], catalog);
  const to = resolveSnapshot(args.positionals[1], catalog);
  warn(ctx.io, [...from.warnings, ...to.warnings]);
  const [a, b] = [from.snapshots[0], to.snapshots[0]];
  // Human output names devices, which costs one more property per row.
  const select = args.json ? DIFF_SELECT : [...DIFF_SELECT, 'DeviceName'];

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
  if (!args.json) {
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
    const table = renderTable(['', '', '', ''], rows).split('\n').slice(1).filter(Boolean).map((l) => `  ${l}\n`).join('');
    await ctx.io.out(`${b.deviceName ?? '(no name)'}  ${b.deviceId}\n${table}`);
  };
  try {
    totals = await diffStreams(fromRows, toRows, async (c: DiffChange, context) => {
      lines++;
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
