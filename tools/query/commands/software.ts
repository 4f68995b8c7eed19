// The query CLI's `software` command (docs/query.md).
import { odata } from '@azure/data-tables';
import { ParsedArgs } from '../args';
import { fmt, printableLines, progress, renderTable } from '../output';
import { recordSink } from '../csv';
import { outputRow, OUTPUT_COLUMNS, StoredRow } from '../rows';
import { CatalogRow, loadCatalog, resolveSnapshots } from '../snapshots';
import { readEntities } from '../tableRead';
import { Context, eosText, snapshotLine, tableOf, warn } from './common';

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

  const arr = args.json || args.csv ? recordSink(ctx.io, args, OUTPUT_COLUMNS) : undefined;
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
          if (a !== attempts[0])
            ctx.io.err(
              printableLines(
                `note: no exact match for "${name}"${args.vendor ? ` (vendor "${args.vendor}")` : ''} in ${s.rowKey}; showing the lower-case "${a.name}"\n`,
              ),
            );
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
    await ctx.io.out(
      `No device has ${what} in ${resolved.snapshots.map((s) => s.rowKey).join(', ')} (SoftwareName${args.vendor ? ', SoftwareVendor' : ''}${args.version ? ', SoftwareVersion' : ''} must match exactly).\n`,
    );
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
      rows.map((r) => [
        r.DeviceName ?? '-',
        r.DeviceId ?? '',
        r.OSPlatform ?? '-',
        r.RbacGroupName ?? '-',
        r.SoftwareVendor ?? '',
        r.SoftwareName ?? '',
        r.SoftwareVersion ?? '',
        r.NumberOfWeaknesses === undefined ? '-' : String(r.NumberOfWeaknesses),
        eosText(r),
      ]),
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
