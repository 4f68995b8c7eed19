// One table of SoftwareVulnerabilities rows (docs/ui.md) for the device page (a device's CVEs) and the CVE page
// (a CVE's devices): each page leads with its own columns, then the product and fix columns both show.
import { shortTime } from '../../query/output';
import { Html } from '../html';
import { dash, productLink, str } from './common';
import { Column, dataTable } from './table';

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

/** `rows` in the order given, under `lead` then the product columns. */
export function vulnerabilityTable<R extends object>(rows: readonly R[], lead: readonly Column<R>[], className?: string): Html {
  // R: the CVE page's CveExposureRow or the device page's stored row (a Record<string, unknown>, which no
  // all-optional interface bound accepts); the product columns read it as VulnerableProduct
  return dataTable(rows, [...lead, ...PRODUCT_COLUMNS], className);
}
