// The query CLI's `exposure` command (docs/query.md#exposure): for each vulnerability present at <from> and
// gone by <to>, how long the device was exposed. Every SoftwareVulnerabilities snapshot from <from> through
// <to> is streamed side by side (join.ts), one device per table at a time.
import { ParsedArgs } from '../args';
import { CsvWriter } from '../csv';
import { UsageError } from '../errors';
import { deviceExposure, durationText, EXPOSURE_COLUMNS, ExposureRecord, ExposureSnapshot, summarize } from '../exposure';
import { fromArray, joinPartitions } from '../join';
import { VULN_SELECT, VulnRow } from '../kindDiff';
import { ordered } from '../kindRows';
import { fmt, progress, Progress, renderTable, shortTime } from '../output';
import { CatalogRow, isComplete, loadCatalog, resolveSnapshot } from '../snapshots';
import { readEntities } from '../tableRead';
import { Context, snapshotLine, tableOf, warn } from './common';
import { lookupDevice } from './deviceLookup';

const KIND = 'SoftwareVulnerabilities';

/** <from>, every complete snapshot strictly between, and <to>, oldest first. */
export function exposureWindow(catalog: readonly CatalogRow[], from: CatalogRow, to: CatalogRow): CatalogRow[] {
  const between = catalog.filter((r) => isComplete(r) && r.rowKey > from.rowKey && r.rowKey < to.rowKey).reverse();
  return [from, ...between, to];
}

export async function exposureCommand(ctx: Context, args: ParsedArgs): Promise<void> {
  for (const p of args.positionals) {
    if (p.includes(',') || p.includes('..')) throw new UsageError(`exposure takes two single snapshots; "${p}" is a list or range`);
  }
  const catalog = await loadCatalog(ctx.catalog, KIND);
  const from = resolveSnapshot(args.positionals[0], catalog, KIND);
  const to = resolveSnapshot(args.positionals[1], catalog, KIND);
  warn(ctx.io, [...from.warnings, ...to.warnings]);
  const [a, b] = [from.snapshots[0], to.snapshots[0]];
  if (a.rowKey >= b.rowKey) throw new UsageError(`exposure needs <from> older than <to> (got ${a.rowKey} and ${b.rowKey})`);
  const window = exposureWindow(catalog, a, b);
  const points: ExposureSnapshot[] = window.map((s) => ({ id: s.rowKey, generatedTime: new Date(s.GeneratedTime) }));
  const select = [...VULN_SELECT, 'DeviceName'];

  let sources: AsyncIterable<VulnRow>[];
  let by: string | undefined;
  let bar: Progress | undefined;
  let scanned = 0;
  if (args.device !== undefined) {
    const found = await lookupDevice(ctx, window, args.device, select);
    by = found.by;
    sources = found.rows.map((rows) => fromArray(rows as unknown as VulnRow[]));
  } else {
    const expected = window.reduce((n, s) => n + (s.RowCount ?? 0), 0);
    bar = progress(ctx.io, () => `exposure: read ${fmt(scanned)} of ~${fmt(expected)} rows of ${window.length} snapshots`);
    sources = window.map((s) =>
      readEntities<VulnRow>(tableOf(ctx, s), s.rowKey, {
        select,
        scan: true,
        onPage: (n) => {
          scanned += n;
          bar?.tick();
        },
      }),
    );
  }

  // --csv is one table of the fixed records; the summary is no row of it, so it goes to stderr (as diff's totals)
  const csv = args.csv ? new CsvWriter(ctx.io, EXPOSURE_COLUMNS) : undefined;
  const seconds: number[] = [];
  const fixed: ExposureRecord[] = [];
  let open = 0;
  try {
    for await (const d of joinPartitions(
      sources,
      window.map((s) => s.rowKey),
    )) {
      const r = deviceExposure(points, d.rows);
      open += r.open;
      for (const e of r.fixed) {
        seconds.push(e.exposureSeconds);
        // JSON Lines stream device by device; the human table is sorted, so it is held
        if (csv) await csv.add(ordered(EXPOSURE_COLUMNS, e));
        else if (args.json) await ctx.io.out(`${JSON.stringify(ordered(EXPOSURE_COLUMNS, e))}\n`);
        else fixed.push(e);
      }
    }
  } finally {
    bar?.done();
  }
  const summary = summarize(seconds, open);
  if (args.json) {
    await ctx.io.out(`${JSON.stringify({ summary })}\n`);
    return;
  }
  if (csv) {
    await csv.end();
    const or = (v: number | null) => (v === null ? '-' : String(v));
    ctx.io.err(`summary: fixed ${summary.fixed}, open ${summary.open}, medianSeconds ${or(summary.medianSeconds)}, maxSeconds ${or(summary.maxSeconds)}\n`);
    return;
  }
  const head = 'Vulnerabilities fixed from';
  let text = `${head} ${snapshotLine(a)}\n${'to'.padStart(head.length)} ${snapshotLine(b)}\n`;
  text += `(${window.length} snapshots read${by ? `; device "${args.device}" matched by ${by}` : ''})\n\n`;
  if (fixed.length) {
    fixed.sort((x, y) => y.exposureSeconds - x.exposureSeconds || x.CveId.localeCompare(y.CveId) || x.DeviceId.localeCompare(y.DeviceId));
    text += renderTable(
      ['exposure', 'device', 'DeviceId', 'cve', 'severity', 'vendor', 'name', 'version', 'exposed since (UTC)', 'fixed in'],
      fixed.map((e) => [
        durationText(e.exposureSeconds),
        e.DeviceName ?? '-',
        e.DeviceId,
        e.CveId,
        e.VulnerabilitySeverityLevel ?? '-',
        e.SoftwareVendor,
        e.SoftwareName,
        e.SoftwareVersion,
        `${shortTime(e.exposedSince)}${e.exposedSinceSource === 'snapshot' ? ' (snapshot)' : ''}`,
        `${e.fixedIn}${e.reappeared ? ' (reappeared later)' : ''}`,
      ]),
      ['right'],
    );
    text += '\n';
  }
  const median = summary.medianSeconds === null ? '-' : durationText(summary.medianSeconds);
  const max = summary.maxSeconds === null ? '-' : durationText(summary.maxSeconds);
  text += `${fmt(summary.fixed)} fixed (device, CVE, product version); exposure median ${median}, max ${max}. ${fmt(summary.open)} still open at ${b.rowKey}.\n`;
  await ctx.io.out(text);
}
