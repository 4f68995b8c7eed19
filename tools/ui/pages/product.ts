// `/product?name=…&vendor=…`: version adoption over the complete snapshots (productTrend), as a stacked
// bar chart of the top versions plus "other", and the devices on each version at the newest snapshot.
import { odata } from '@azure/data-tables';
import { NotFoundError, UsageError } from '../../query/errors';
import { resolveSnapshots, loadCatalog } from '../../query/snapshots';
import { readEntities } from '../../query/tableRead';
import { productTrend, TrendPoint } from '../../query/trend';
import { OTHER, Series, stackedBars } from '../chart';
import { count, html, Html } from '../html';
import type { Page } from '../layout';
import { completeOf, deviceLink, optional, required, snapshotLabel, tableFor, UiContext, warnings } from './common';

/** Versions drawn as their own series; the rest are summed as "other". */
export const DEFAULT_TOP = 8;
/** Devices listed per version before "and N more". */
const DEVICES_PER_VERSION = 200;

/** Rank versions by devices at the newest point, then at any point; the first `top` get their own series. */
export function versionSeries(points: readonly TrendPoint[], top: number): Series[] {
  const newest = points[points.length - 1]?.versions ?? {};
  const peak = new Map<string, number>();
  for (const p of points) for (const [v, n] of Object.entries(p.versions)) peak.set(v, Math.max(peak.get(v) ?? 0, n));
  const ranked = [...peak.keys()].sort((a, b) => (newest[b] ?? 0) - (newest[a] ?? 0) || peak.get(b)! - peak.get(a)! || (a < b ? -1 : 1));
  const own = ranked.slice(0, top);
  const rest = ranked.slice(top);
  const series: Series[] = own.map((v) => ({ name: v, values: points.map((p) => p.versions[v] ?? 0) }));
  // "other" counts device-version pairs of the remaining versions (a device with two of them counts twice)
  if (rest.length) series.push({ name: OTHER, values: points.map((p) => rest.reduce((n, v) => n + (p.versions[v] ?? 0), 0)) });
  return series;
}

function topOf(params: URLSearchParams): number {
  const t = optional(params, 'top');
  if (t === undefined) return DEFAULT_TOP;
  const n = Number(t);
  if (!Number.isInteger(n) || n < 1 || n > 20) throw new UsageError(`?top= takes a whole number from 1 to 20, not "${t}"`);
  return n;
}

export async function productPage(ctx: UiContext, params: URLSearchParams): Promise<Page> {
  const name = required(params, 'name', 'a SoftwareName (exact, as stored: Defender writes lower case)');
  const vendor = optional(params, 'vendor');
  const top = topOf(params);
  const catalog = await loadCatalog(ctx.catalog, 'SoftwareInventory');
  // ?at= narrows the chart to a list or range of snapshots (the CLI's --at forms); default: every complete one
  const at = optional(params, 'at');
  const resolved = at === undefined ? { snapshots: completeOf(catalog), warnings: [] } : resolveSnapshots(at, catalog);
  const snapshots = [...resolved.snapshots].sort((x, y) => (x.rowKey < y.rowKey ? 1 : -1)); // newest first
  if (snapshots.length === 0) throw new NotFoundError('no complete SoftwareInventory snapshot yet');
  const trend = await productTrend(ctx, { name, vendor, snapshots });
  if (trend.points.every((p) => p.devices === 0)) {
    throw new NotFoundError(
      `no device has SoftwareName "${name}"${vendor ? ` from vendor "${vendor}"` : ''} in any complete snapshot${name !== name.toLowerCase() ? ` (Defender writes names in lower case: try "${name.toLowerCase()}")` : ''}`,
    );
  }
  const series = versionSeries(trend.points, top);
  const byId = new Map(snapshots.map((s) => [s.rowKey, s]));
  const chartPoints = trend.points.map((p) => ({ id: p.snapshotId, label: snapshotLabel(byId.get(p.snapshotId)!) }));
  const chart = stackedBars(`devices per version of ${name}`, chartPoints, series, 'devices');

  const figures = html`<table class="figures">
    <thead>
      <tr>
        <th>snapshot</th>
        ${series.map((s) => html`<th class="num">${s.name}</th>`)}
        <th class="num">devices</th>
      </tr>
    </thead>
    <tbody>
      ${trend.points.map(
        (p, i) =>
          html`<tr data-snapshot="${p.snapshotId}">
            <td>${chartPoints[i].label}</td>
            ${series.map((s) => html`<td class="num">${count(s.values[i])}</td>`)}
            <td class="num" data-field="devices">${count(p.devices)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;

  // The devices on each version at the newest snapshot.
  const newest = snapshots[0];
  let filter = odata`SoftwareName eq ${name}`;
  if (vendor !== undefined) filter += ` and ${odata`SoftwareVendor eq ${vendor}`}`;
  type Holder = { id: string; name: string; vendor: string };
  const byVersion = new Map<string, Map<string, Holder>>();
  for await (const r of readEntities<{ DeviceId?: string; DeviceName?: string; SoftwareVendor?: string; SoftwareVersion?: string }>(
    tableFor(ctx, 'SoftwareInventory', newest),
    newest.rowKey,
    { filter, select: ['PartitionKey', 'DeviceId', 'DeviceName', 'SoftwareVendor', 'SoftwareVersion'] },
  )) {
    const v = String(r.SoftwareVersion ?? '');
    let m = byVersion.get(v);
    if (!m) byVersion.set(v, (m = new Map<string, Holder>()));
    m.set(r.partitionKey, {
      id: String(r.DeviceId ?? r.partitionKey),
      name: String(r.DeviceName ?? r.DeviceId ?? r.partitionKey),
      vendor: String(r.SoftwareVendor ?? ''),
    });
  }
  const versions = [...byVersion].sort(([a, x], [b, y]) => y.size - x.size || (a < b ? -1 : 1));
  const lists: Html[] = versions.map(([v, devices]) => {
    const list = [...devices.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const vendors = new Set(list.map((d) => d.vendor));
    return html`<section class="version" data-version="${v}">
      <h3>
        ${v || '(no version)'}
        <span class="note"
          >·
          <span data-field="devices">${count(devices.size)}</span>
          device${devices.size === 1 ? '' : 's'}${vendor === undefined && vendors.size === 1 ? html` · vendor ${[...vendors][0]}` : ''}</span
        >
      </h3>
      <ul class="devices">
        ${list.slice(0, DEVICES_PER_VERSION).map((d) => html`<li>${deviceLink(d.id, d.name, newest.rowKey)}</li>`)}
      </ul>
      ${list.length > DEVICES_PER_VERSION ? html`<p class="note">and ${count(list.length - DEVICES_PER_VERSION)} more (npm run query -- software for the full list)</p>` : ''}
    </section>`;
  });
  const body = html`${warnings(resolved.warnings)}
    <p class="note">
      ${vendor ? html`Vendor ${vendor}. ` : ''}Distinct devices per version in each of the ${count(trend.points.length)} snapshots${at ? ` of ${at}` : ''}; the
      top ${count(top)} versions by devices at the newest snapshot, the rest as "other".
    </p>
    ${chart} ${figures}
    <h2>Devices on each version at ${newest.rowKey} (${snapshotLabel(newest)} UTC)</h2>
    ${lists.length ? lists : html`<p>No device has it at the newest snapshot.</p>`}`;
  return { title: `Product ${name}`, body, search: { type: 'product', q: name } };
}
