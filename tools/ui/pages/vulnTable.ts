// One table of SoftwareVulnerabilities rows (docs/ui.md) for the device page (a device's CVEs) and the CVE page
// (a CVE's devices): each page leads with its own columns, then the product and fix columns both show.
import { shortTime } from '../../query/output';
import { esc, html, Html, Part } from '../html';
import { dash, productLink, str } from './common';

export interface Column<R> {
  head: string;
  /** right-aligned (class="num") */
  num?: boolean;
  cell: (row: R) => Part;
}

/** What the shared columns read, of the CVE page's typed CveExposureRow and the device page's untyped stored rows. */
interface VulnerableProduct {
  SoftwareVendor?: unknown;
  SoftwareName?: unknown;
  SoftwareVersion?: unknown;
  FirstSeenTimestamp?: unknown;
  SecurityUpdateAvailable?: unknown;
}

const PRODUCT_COLUMNS: readonly Column<VulnerableProduct>[] = [
  { head: 'vendor', cell: (r) => dash(r.SoftwareVendor) },
  { head: 'name', cell: (r) => productLink(str(r.SoftwareName), str(r.SoftwareVendor)) },
  { head: 'version', cell: (r) => dash(r.SoftwareVersion) },
  { head: 'first seen (UTC)', cell: (r) => shortTime(r.FirstSeenTimestamp) },
  { head: 'update available', cell: (r) => (r.SecurityUpdateAvailable === undefined ? '-' : r.SecurityUpdateAvailable ? 'yes' : 'no') },
];

/** `rows` in the order given, under `lead` then the product columns; `className` names the table for the page's tests. */
export function vulnerabilityTable<R extends object>(rows: readonly R[], lead: readonly Column<R>[], className?: string): Html {
  // R: the CVE page's CveExposureRow or the device page's stored row (a Record<string, unknown>, which no
  // all-optional interface bound accepts); the product columns read it as VulnerableProduct
  const columns: readonly Column<R>[] = [...lead, ...PRODUCT_COLUMNS];
  // the open tag apart, as a string: prettier formats html`` templates as HTML and would close a lone `<table>`
  const open = new Html(className ? `<table class="${esc(className)}">` : '<table>');
  return html`${open}
    <thead>
      <tr>
        ${columns.map((c) => (c.num ? html`<th class="num">${c.head}</th>` : html`<th>${c.head}</th>`))}
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr>
            ${columns.map((c) => (c.num ? html`<td class="num">${c.cell(r)}</td>` : html`<td>${c.cell(r)}</td>`))}
          </tr>`,
      )}
    </tbody>
  </table>`;
}
