// The query CLI's `trend` command (docs/query.md#trend): devices per version of one product in each snapshot.
// The figures come from productTrend() (tools/query/trend.ts), which reads a rollup where one is stored and
// scans the snapshot table otherwise; this module only resolves the snapshots and renders.
import { DEFAULT_KIND, ExportKind, kindSpec } from '../../../shared/kinds/exportKinds';
import { ParsedArgs } from '../args';
import { CsvWriter } from '../csv';
import { NotFoundError, UsageError } from '../errors';
import { fmt, printable, renderTable, shortTime } from '../output';
import { loadCatalog, resolveAllComplete, resolveSnapshots } from '../snapshots';
import { productTrend, ProductTrend } from '../trend';
import { Context, warn } from './common';

/** Versions shown as their own column in the human table; beyond that, the rest is summed as "other". */
export const TREND_TOP_VERSIONS = 8;
export const TREND_CSV_COLUMNS = ['SnapshotId', 'GeneratedTime', 'SoftwareVersion', 'Devices'];

/** Versions in reading order: numbers compared as numbers (1.9 before 1.10), ties by code unit so the order is total. */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true }) || (a < b ? -1 : a > b ? 1 : 0);
}

/** --kind (already a registered kind): one whose rows name a product (SecureConfigurations has none). */
function productKind(kind: ExportKind | undefined): ExportKind {
  if (kind === undefined) return DEFAULT_KIND;
  if (!kindSpec(kind).keyColumns.includes('SoftwareName')) throw new UsageError(`trend follows a product, and ${kind} rows name none`);
  return kind;
}

const seen = (t: ProductTrend) => t.points.some((p) => p.devices > 0);

/** Every version the trend mentions, in reading order. */
function allVersions(t: ProductTrend): string[] {
  return [...new Set(t.points.flatMap((p) => Object.keys(p.versions)))].sort(compareVersions);
}

export async function trendCommand(ctx: Context, args: ParsedArgs): Promise<void> {
  const kind = productKind(args.kind);
  const catalog = await loadCatalog(ctx.catalog, kind);
  const resolved = args.at === undefined ? resolveAllComplete(catalog) : resolveSnapshots(args.at, catalog, kind);
  warn(ctx.io, resolved.warnings);
  const name = args.positionals[0];
  const snapshots = resolved.snapshots;
  let trend = await productTrend(ctx, { kind, name, vendor: args.vendor, snapshots });
  // Defender writes vendor and name in lower case: as `software` does, retry lower-cased when nothing matched
  const lower = { name: name.toLowerCase(), vendor: args.vendor?.toLowerCase() };
  if (!seen(trend) && (lower.name !== name || lower.vendor !== args.vendor)) {
    const again = await productTrend(ctx, { kind, ...lower, snapshots });
    if (seen(again)) {
      ctx.io.err(
        `note: no exact match for "${printable(name)}"${args.vendor ? ` (vendor "${printable(args.vendor)}")` : ''}; showing the lower-case "${printable(lower.name)}"\n`,
      );
      trend = again;
    }
  }
  const what = `${trend.vendor !== undefined ? `${trend.vendor} ` : ''}${trend.name}`;
  if (!seen(trend)) {
    const ids = snapshots.map((s) => s.rowKey);
    throw new NotFoundError(
      `no device has ${what}${kind === DEFAULT_KIND ? '' : ` (${kind})`} in ${ids.length === 1 ? 'snapshot' : 'snapshots'} ${ids.join(', ')} (SoftwareName${args.vendor !== undefined ? ' and SoftwareVendor' : ''} must match exactly)`,
    );
  }

  if (args.json) {
    await ctx.io.out(`${JSON.stringify(trend)}\n`);
    return;
  }
  const versions = allVersions(trend);
  if (args.csv) {
    // a full grid (0 where a version is absent), so a pivot or chart sees every snapshot × version
    const csv = new CsvWriter(ctx.io, TREND_CSV_COLUMNS);
    for (const p of trend.points) {
      for (const v of versions) await csv.add({ SnapshotId: p.snapshotId, GeneratedTime: p.generatedTime, SoftwareVersion: v, Devices: p.versions[v] ?? 0 });
    }
    await csv.end();
    return;
  }
  await ctx.io.out(humanTrend(trend, versions, what));
}

function humanTrend(trend: ProductTrend, versions: string[], what: string): string {
  const points = trend.points;
  const newest = points[points.length - 1];
  let shown = versions;
  let other: string[] = [];
  if (versions.length > TREND_TOP_VERSIONS) {
    // the versions on most devices at the newest snapshot, then over the whole range
    const total = (v: string) => points.reduce((n, p) => n + (p.versions[v] ?? 0), 0);
    const top = new Set(
      [...versions]
        .sort((a, b) => (newest.versions[b] ?? 0) - (newest.versions[a] ?? 0) || total(b) - total(a) || compareVersions(a, b))
        .slice(0, TREND_TOP_VERSIONS),
    );
    shown = versions.filter((v) => top.has(v));
    other = versions.filter((v) => !top.has(v));
  }
  const count = (n: number) => (n === 0 ? '-' : fmt(n));
  const headers = ['snapshot', 'generated (UTC)', ...shown, ...(other.length ? ['other'] : []), 'devices'];
  const body = points.map((p) => [
    p.snapshotId,
    shortTime(p.generatedTime),
    ...shown.map((v) => count(p.versions[v] ?? 0)),
    ...(other.length ? [count(other.reduce((n, v) => n + (p.versions[v] ?? 0), 0))] : []),
    fmt(p.devices),
  ]);
  const range = points.length === 1 ? `snapshot ${points[0].snapshotId}` : `${points.length} snapshots, ${points[0].snapshotId} to ${newest.snapshotId}`;
  let text = `${what}${trend.kind === DEFAULT_KIND ? '' : ` (${trend.kind})`}: devices per version, ${range}\n\n`;
  text += renderTable(
    headers,
    body,
    headers.map((_, i) => (i < 2 ? 'left' : 'right')),
  );
  text += `\n${fmt(versions.length)} version${versions.length === 1 ? '' : 's'}; "devices" counts each device once, whatever versions it has.\n`;
  if (other.length) {
    text += `Shown: the ${shown.length} versions on most devices at ${newest.snapshotId}; "other" adds up the device counts of the remaining ${other.length}.\n`;
  }
  const scanned = points.filter((p) => p.source === 'scan');
  if (scanned.length) {
    text +=
      scanned.length === points.length
        ? `Counted by scanning the snapshot tables (no rollup stored).\n`
        : `Counted by scanning the snapshot table (no rollup stored) for ${scanned.map((p) => p.snapshotId).join(', ')}.\n`;
  }
  return text;
}
