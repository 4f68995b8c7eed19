// The query CLI's `cve` command (docs/query.md#cve): devices exposed to one CVE at one or more snapshots, or with
// --trend how many, per snapshot, from the rollups where they are current.
import { ParsedArgs } from '../args';
import { recordSink } from '../csv';
import { CVE_COLUMNS, cveExposure, CveExposureRow, cveTrend, parseCveId } from '../cve';
import { NotFoundError } from '../errors';
import { ordered } from '../kindRows';
import { fmt, renderTable, shortTime } from '../output';
import { CatalogRow, loadCatalog, resolveAllComplete, resolveSnapshots } from '../snapshots';
import { Context, snapshotLine, warn } from './common';

const KIND = 'SoftwareVulnerabilities';

/** The columns of `cve --trend --csv`, one row per snapshot. */
export const CVE_TREND_CSV_COLUMNS = ['SnapshotId', 'GeneratedTime', 'Devices', 'CvssScore', 'VulnerabilitySeverityLevel', 'Source'] as const;

export async function cveCommand(ctx: Context, args: ParsedArgs): Promise<void> {
  const cveId = parseCveId(args.positionals[0]);
  const catalog = await loadCatalog(ctx.catalog, KIND);
  if (args.trend) return cveTrendCommand(ctx, args, cveId, catalog);
  const resolved = resolveSnapshots(args.at ?? 'latest', catalog, KIND);
  warn(ctx.io, resolved.warnings);
  const snapshots = resolved.snapshots;
  const notFound = () =>
    new NotFoundError(
      `${cveId} is in no ${KIND} snapshot asked (${snapshots.map((s) => s.rowKey).join(', ')}): no device was exposed to it there, or Defender does not know this id`,
    );

  if (args.json || args.csv) {
    // the array (or the CSV header) opens with its first row, so a CVE found nowhere prints nothing on stdout (exit 3)
    const arr = recordSink(ctx.io, args, CVE_COLUMNS);
    let n = 0;
    for await (const r of cveExposure(ctx, cveId, snapshots)) {
      n++;
      await arr.add(ordered(CVE_COLUMNS, r));
    }
    if (n === 0) throw notFound();
    await arr.end();
    return;
  }
  const bySnapshot = new Map<string, CveExposureRow[]>(snapshots.map((s) => [s.rowKey, []]));
  for await (const r of cveExposure(ctx, cveId, snapshots)) bySnapshot.get(r.SnapshotId)!.push(r);
  if ([...bySnapshot.values()].every((rows) => rows.length === 0)) throw notFound();

  let text = '';
  const counts: string[] = [];
  for (const s of snapshots) {
    const rows = bySnapshot.get(s.rowKey)!;
    const devices = new Set(rows.map((r) => r.DeviceId)).size;
    counts.push(`${s.rowKey}: ${fmt(devices)}`);
    if (rows.length === 0) {
      text += `${text ? '\n' : ''}${cveId}: no device exposed in ${snapshotLine(s)}.\n`;
      continue;
    }
    rows.sort(
      (a, b) => String(a.DeviceName ?? a.DeviceId).localeCompare(String(b.DeviceName ?? b.DeviceId)) || a.SoftwareVersion.localeCompare(b.SoftwareVersion),
    );
    text += `${text ? '\n' : ''}${cveId} in ${snapshotLine(s)}\n\n`;
    text += renderTable(
      ['device', 'DeviceId', 'os', 'rbac group', 'vendor', 'name', 'version', 'cvss', 'severity', 'exploitability', 'first seen (UTC)', 'update available'],
      rows.map((r) => [
        r.DeviceName ?? '-',
        r.DeviceId,
        r.OSPlatform ?? '-',
        r.RbacGroupName ?? '-',
        r.SoftwareVendor,
        r.SoftwareName,
        r.SoftwareVersion,
        typeof r.CvssScore === 'number' ? r.CvssScore.toFixed(1) : '-',
        r.VulnerabilitySeverityLevel ?? '-',
        r.ExploitabilityLevel ?? '-',
        shortTime(r.FirstSeenTimestamp),
        r.SecurityUpdateAvailable === undefined ? '-' : r.SecurityUpdateAvailable ? 'yes' : 'no',
      ]),
      ['left', 'left', 'left', 'left', 'left', 'left', 'left', 'right'],
    );
    text += `\n${fmt(devices)} device${devices === 1 ? '' : 's'} exposed (${fmt(rows.length)} product version${rows.length === 1 ? '' : 's'}).\n`;
  }
  if (snapshots.length > 1) text += `\nDevices exposed per snapshot: ${counts.join(', ')}.\n`;
  await ctx.io.out(text);
}

async function cveTrendCommand(ctx: Context, args: ParsedArgs, cveId: string, catalog: CatalogRow[]): Promise<void> {
  const resolved = args.at === undefined ? resolveAllComplete(catalog) : resolveSnapshots(args.at, catalog, KIND);
  warn(ctx.io, resolved.warnings);
  const points = await cveTrend(ctx, cveId, resolved.snapshots);
  if (points.every((p) => p.devices === 0)) {
    const ids = points.map((p) => p.snapshotId);
    throw new NotFoundError(
      `${cveId} is in no ${KIND} snapshot asked (${ids.length > 3 ? `${ids.length} snapshots, ${ids[0]} to ${ids[ids.length - 1]}` : ids.join(', ')}): no device was exposed to it there, or Defender does not know this id`,
    );
  }
  if (args.json) {
    await ctx.io.out(`${JSON.stringify({ cveId, points })}\n`);
    return;
  }
  if (args.csv) {
    const csv = recordSink(ctx.io, args, CVE_TREND_CSV_COLUMNS);
    for (const p of points) {
      await csv.add({
        SnapshotId: p.snapshotId,
        GeneratedTime: p.generatedTime,
        Devices: p.devices,
        CvssScore: p.cvssScore ?? null,
        VulnerabilitySeverityLevel: p.severity ?? null,
        Source: p.source,
      });
    }
    await csv.end();
    return;
  }
  const range =
    points.length === 1 ? `snapshot ${points[0].snapshotId}` : `${points.length} snapshots, ${points[0].snapshotId} to ${points[points.length - 1].snapshotId}`;
  let text = `${cveId}: devices exposed, ${range}\n\n`;
  text += renderTable(
    ['snapshot', 'generated (UTC)', 'devices', 'cvss', 'severity'],
    points.map((p) => [p.snapshotId, shortTime(p.generatedTime), fmt(p.devices), p.cvssScore === undefined ? '-' : p.cvssScore.toFixed(1), p.severity ?? '-']),
    ['left', 'left', 'right', 'right', 'left'],
  );
  const scanned = points.filter((p) => p.source === 'scan').length;
  text += `\n"devices" counts each device once, whatever product versions expose it. `;
  text +=
    scanned === 0
      ? 'Read from the rollups (one query).\n'
      : `${scanned === points.length ? 'Counted by scanning the snapshot tables' : `${scanned} of ${points.length} snapshots counted by scanning their tables`} (no current rollup; cvss and severity come only from rollups).\n`;
  await ctx.io.out(text);
}
