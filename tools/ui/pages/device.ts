// `/device?id=…&at=…`: what a device had installed at a snapshot (the query CLI's device lookup), with
// first-seen dates, and its vulnerabilities and failing configurations when those kinds have snapshots.
import { odata } from '@azure/data-tables';
import { ExportKind } from '../../../shared/core/contracts';
import { eosText } from '../../query/commands/common';
import { groupByPartition } from '../../query/commands/device';
import { lookupDevice } from '../../query/commands/deviceLookup';
import { NotFoundError } from '../../query/errors';
import { shortTime } from '../../query/output';
import { StoredRow } from '../../query/rows';
import { CatalogRow, resolveSnapshot, loadCatalog } from '../../query/snapshots';
import { readAll } from '../../query/tableRead';
import { count, href, html, Html } from '../html';
import type { Page } from '../layout';
import { completeOf, cveLink, optional, productLink, required, str, dash, tableFor, UiContext, warnings } from './common';
import { dataTable } from './table';
import { vulnerabilityTable } from './vulnTable';

type Row = Record<string, unknown> & { partitionKey: string; rowKey: string };

const plural = (n: number, one: string, many = `${one}s`) => (n === 1 ? one : many);
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The newest complete snapshot of `kind` generated at or before `at` (the inventory snapshot shown). */
async function companion(ctx: UiContext, kind: ExportKind, at: CatalogRow): Promise<{ s?: CatalogRow; any: boolean }> {
  const rows = completeOf(await loadCatalog(ctx.catalog, kind));
  return { s: rows.find((r) => r.rowKey <= at.rowKey), any: rows.length > 0 };
}

async function partitionRows(ctx: UiContext, kind: ExportKind, s: CatalogRow, partitionKey: string): Promise<Row[] | string> {
  try {
    return await readAll<Row>(tableFor(ctx, kind, s), s.rowKey, { filter: odata`PartitionKey eq ${partitionKey}` });
  } catch (err) {
    if (err instanceof NotFoundError) return err.message;
    throw err;
  }
}

/**
 * A section of another kind's rows of the device, from that kind's newest complete snapshot at or before `at`
 * (a note when there is none or its table cannot be read); nothing when the kind has no complete snapshot at all.
 */
async function kindSection(
  ctx: UiContext,
  kind: ExportKind,
  title: string,
  at: CatalogRow,
  partitionKey: string,
  content: (s: CatalogRow, rows: Row[]) => Html,
): Promise<Html> {
  const { s, any } = await companion(ctx, kind, at);
  if (!any) return html``;
  let body: Html;
  if (!s) body = html`<p class="note">No complete ${kind} snapshot at or before ${at.rowKey}.</p>`;
  else {
    const rows = await partitionRows(ctx, kind, s, partitionKey);
    body = typeof rows === 'string' ? html`<p class="error">${rows}</p>` : content(s, rows);
  }
  return html`<section data-kind="${kind}">
    <h2>${title}</h2>
    ${body}
  </section>`;
}

function vulnerabilities(ctx: UiContext, at: CatalogRow, partitionKey: string): Promise<Html> {
  return kindSection(ctx, 'SoftwareVulnerabilities', 'Vulnerabilities', at, partitionKey, (s, rows) => {
    const cves = new Set(rows.map((r) => r.CveId).filter(Boolean)).size;
    rows.sort((a, b) => Number(b.CvssScore ?? -1) - Number(a.CvssScore ?? -1) || byText(str(a.CveId), str(b.CveId)));
    return html`<p class="note">Snapshot ${s.rowKey}: <span data-field="cves">${count(cves)}</span> CVEs over ${count(rows.length)} rows.</p>
      ${
        rows.length
          ? vulnerabilityTable(rows, [
              { head: 'CVE', cell: (r) => (r.CveId ? cveLink(str(r.CveId)) : html`<span class="note">(no CVE)</span>`) },
              { head: 'severity', cell: (r) => dash(r.VulnerabilitySeverityLevel) },
              { head: 'CVSS', num: true, cell: (r) => dash(r.CvssScore) },
              { head: 'exploitability', cell: (r) => dash(r.ExploitabilityLevel) },
            ])
          : ''
      }`;
  });
}

function configurations(ctx: UiContext, at: CatalogRow, partitionKey: string): Promise<Html> {
  return kindSection(ctx, 'SecureConfigurations', 'Failing configurations', at, partitionKey, (s, rows) => {
    const applicable = rows.filter((r) => r.IsApplicable === true);
    const failing = applicable.filter((r) => r.IsCompliant === false).sort((a, b) => Number(b.ConfigurationImpact ?? 0) - Number(a.ConfigurationImpact ?? 0));
    return html`<p class="note">
        Snapshot ${s.rowKey}: <span data-field="failing">${count(failing.length)}</span> of ${count(applicable.length)} applicable configurations fail.
      </p>
      ${
        failing.length
          ? dataTable(failing, [
              { head: 'configuration', cell: (r) => dash(r.ConfigurationId) },
              { head: 'name', cell: (r) => dash(r.ConfigurationName) },
              {
                head: 'category',
                cell: (r) => html`${dash(r.ConfigurationCategory)}${r.ConfigurationSubcategory ? html` / ${str(r.ConfigurationSubcategory)}` : ''}`,
              },
              { head: 'impact', num: true, cell: (r) => dash(r.ConfigurationImpact) },
              { head: 'assessed (UTC)', cell: (r) => shortTime(r.AssessmentTimestamp) },
            ])
          : ''
      }`;
  });
}

function softwareTable(rows: StoredRow[]): Html {
  const sorted = [...rows].sort(
    (a, b) =>
      byText(a.SoftwareVendor ?? '', b.SoftwareVendor ?? '') ||
      byText(a.SoftwareName ?? '', b.SoftwareName ?? '') ||
      byText(a.SoftwareVersion ?? '', b.SoftwareVersion ?? ''),
  );
  return dataTable(
    sorted,
    [
      { head: 'vendor', field: 'vendor', cell: (r) => r.SoftwareVendor },
      { head: 'name', field: 'name', cell: (r) => productLink(r.SoftwareName ?? '', r.SoftwareVendor) },
      { head: 'version', field: 'version', cell: (r) => r.SoftwareVersion },
      { head: 'weaknesses', num: true, cell: (r) => r.NumberOfWeaknesses ?? '-' },
      { head: 'end of support', cell: (r) => eosText(r) },
      { head: 'first seen (UTC)', cell: (r) => shortTime(r.SoftwareFirstSeenTimestamp) },
    ],
    'software',
  );
}

export async function devicePage(ctx: UiContext, params: URLSearchParams): Promise<Page> {
  const query = required(params, 'id', 'a DeviceId or DeviceName');
  const at = optional(params, 'at') ?? 'latest';
  const catalog = await loadCatalog(ctx.catalog, 'SoftwareInventory');
  const resolved = resolveSnapshot(at, catalog);
  const snapshot = resolved.snapshots[0];
  const found = await lookupDevice(ctx, [snapshot], query);
  const devices = groupByPartition(found.rows[0]);
  // other snapshots of the same device: shareable links along the history
  const complete = completeOf(catalog);
  const sections: Html[] = [];
  for (const rows of devices) {
    const d = rows[0];
    const products = new Set(rows.map((r) => `${r.SoftwareVendor}\u0000${r.SoftwareName}`)).size;
    const weaknesses = rows.reduce((n, r) => n + (r.NumberOfWeaknesses ?? 0), 0);
    sections.push(
      html`<section class="device" data-device="${d.DeviceId}">
        <h2>${d.DeviceName ?? '(no name)'}</h2>
        <p>DeviceId <code>${d.DeviceId}</code> · ${d.OSPlatform ?? '-'} · RBAC group ${d.RbacGroupName ?? '-'} · matched by ${found.by}</p>
        <p class="snapshots">
          Snapshot:
          ${complete.map((s, i) => html`${i ? ' · ' : ''}<a class="${s.rowKey === snapshot.rowKey ? 'current' : ''}" href="${href('/device', { id: d.DeviceId, at: s.rowKey })}">${s.rowKey}</a>`)}
        </p>
        <h2>Software</h2>
        <p class="note">
          <span data-field="rows">${count(rows.length)}</span> ${plural(rows.length, 'row')} (<span data-field="products">${count(products)}</span>
          ${plural(products, 'product')}), ${count(weaknesses)} ${plural(weaknesses, 'weakness', 'weaknesses')} in total, in snapshot ${snapshot.rowKey}.
        </p>
        ${softwareTable(rows)} ${await vulnerabilities(ctx, snapshot, d.partitionKey)} ${await configurations(ctx, snapshot, d.partitionKey)}
      </section>`,
    );
  }
  const title = devices.length === 1 ? `Device ${devices[0][0].DeviceName ?? devices[0][0].DeviceId}` : `${devices.length} devices named ${query}`;
  return { title, body: html`${warnings(resolved.warnings)}${sections}`, search: { type: 'device', q: query } };
}
