// `/cve?id=CVE-…`: devices exposed to a CVE in each complete SoftwareVulnerabilities snapshot (cveTrend: from the
// rollups where current), as a bar chart, and the exposed devices at the newest one (cveExposure of that table).
import { cveExposure, CveExposureRow, cveTrend } from '../../query/cve';
import { NotFoundError, UsageError } from '../../query/errors';
import { stackedBars } from '../chart';
import { count, html } from '../html';
import type { Page } from '../layout';
import { loadCatalog } from '../../query/snapshots';
import { completeOf, deviceLink, required, snapshotLabel, dash, UiContext } from './common';
import { vulnerabilityTable } from './vulnTable';

// CVE ids, and Defender's own ids of the same shape for issues without one (TVM-2020-0002)
const CVE = /^[A-Z][A-Z0-9]{1,15}-\d{4}-\d{1,12}$/i;

export async function cvePage(ctx: UiContext, params: URLSearchParams): Promise<Page> {
  const raw = required(params, 'id', 'a CVE id such as CVE-2021-44228');
  if (!CVE.test(raw)) throw new UsageError(`"${raw}" is not a vulnerability id (CVE-yyyy-nnnn)`);
  const id = raw.toUpperCase();
  const snapshots = completeOf(await loadCatalog(ctx.catalog, 'SoftwareVulnerabilities')).reverse(); // oldest first
  if (snapshots.length === 0) {
    throw new NotFoundError('no complete SoftwareVulnerabilities snapshot yet: the timer collects that kind when EXPORT_KINDS lists it (docs/kinds.md)');
  }
  // the exposed rows from the newest table alone, then the counts per snapshot from the rollups (one query), the
  // newest's from those rows when it has no current rollup yet rather than from a second read of its table
  const newest = snapshots[snapshots.length - 1];
  const atNewest: CveExposureRow[] = [];
  for await (const r of cveExposure(ctx, id, [newest])) atNewest.push(r);
  const exposedNow = new Set(atNewest.map((r) => r.DeviceId)).size;
  const trend = await cveTrend(ctx, id, snapshots, new Map([[newest.rowKey, exposedNow]]));
  const points = snapshots.map((s) => ({ id: s.rowKey, label: snapshotLabel(s) }));
  const values = trend.map((p) => p.devices);
  const chart = stackedBars(`devices exposed to ${id}`, points, [{ name: 'devices exposed', values }], 'devices');
  const sample = atNewest[0];
  atNewest.sort((a, b) => ((a.DeviceName ?? a.DeviceId) < (b.DeviceName ?? b.DeviceId) ? -1 : 1));
  const body = html`${sample ? html`<p>${dash(sample.VulnerabilitySeverityLevel)} · CVSS ${dash(sample.CvssScore)} · ${dash(sample.ExploitabilityLevel)}</p>` : ''}
    <p class="note">Distinct devices with a software version exposed to ${id}, per complete SoftwareVulnerabilities snapshot.</p>
    ${chart}
    <table class="figures">
      <thead>
        <tr>
          <th>snapshot</th>
          <th class="num">devices</th>
        </tr>
      </thead>
      <tbody>
        ${snapshots.map(
          (s, i) =>
            html`<tr data-snapshot="${s.rowKey}" data-source="${trend[i].source}">
              <td>${points[i].label}</td>
              <td class="num" data-field="devices">${count(values[i])}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h2>Exposed at ${newest.rowKey} (${snapshotLabel(newest)} UTC): <span data-field="exposed">${count(exposedNow)}</span> devices</h2>
    ${
      atNewest.length
        ? vulnerabilityTable(
            atNewest,
            [
              { head: 'device', cell: (r) => deviceLink(r.DeviceId, r.DeviceName ?? r.DeviceId) },
              { head: 'OS', cell: (r) => dash(r.OSPlatform) },
            ],
            'exposed',
          )
        : html`<p>No device is exposed to ${id} at the newest snapshot.</p>`
    }`;
  return { title: id, body, search: { type: 'cve', q: id } };
}
