// Devices exposed to one CVE, snapshot by snapshot: the rows of the SoftwareVulnerabilities tables whose
// CveId is the one asked for (docs/query.md#cve), and how many devices that is at each snapshot, from the
// rollups where they are current (docs/rollups.md#reading-a-trend). Read by the `cve` command and the web UI's CVE page.
import { odata } from '@azure/data-tables';
import { hasCurrentRollup, ROLLUP_TABLE } from '../../shared/rollup/rollupKeys';
import { readSubjectRollup } from '../../shared/rollup/trendReader';
import type { Context } from './commands/common';
import { tableOf } from './commands/common';
import { UsageError } from './errors';
import { asDate } from './output';
import type { CatalogRow } from './snapshots';
import { readEntities } from './tableRead';

/** One exposed (device, product version) at one snapshot. */
export interface CveExposureRow {
  SnapshotId: string;
  CveId: string;
  DeviceId: string;
  DeviceName?: string;
  OSPlatform?: string;
  RbacGroupName?: string;
  SoftwareVendor: string;
  SoftwareName: string;
  SoftwareVersion: string;
  CvssScore?: number;
  VulnerabilitySeverityLevel?: string;
  ExploitabilityLevel?: string;
  FirstSeenTimestamp?: Date;
  SecurityUpdateAvailable?: boolean;
}

/** The columns of a CveExposureRow, in output order (JSON keys; absent values print as null). */
export const CVE_COLUMNS = [
  'SnapshotId',
  'CveId',
  'DeviceId',
  'DeviceName',
  'OSPlatform',
  'RbacGroupName',
  'SoftwareVendor',
  'SoftwareName',
  'SoftwareVersion',
  'CvssScore',
  'VulnerabilitySeverityLevel',
  'ExploitabilityLevel',
  'FirstSeenTimestamp',
  'SecurityUpdateAvailable',
] as const satisfies readonly (keyof CveExposureRow)[];

// only what the row shows travels (a vulnerability row also carries paths, ids and recommendations)
const SELECT = CVE_COLUMNS.filter((c) => c !== 'SnapshotId');

const CVE_ID = /^CVE-\d{4}-\d{4,}$/i;

/** A CVE id as Defender writes it (`CVE-2021-44228`, upper case); anything else is a usage error. */
export function parseCveId(text: string): string {
  const t = text.trim();
  if (!CVE_ID.test(t)) throw new UsageError(`"${text}" is not a CVE id: expected CVE-yyyy-nnnn (e.g. CVE-2021-44228)`);
  return t.toUpperCase();
}

/** The rows of one SoftwareVulnerabilities snapshot (a catalog row without a kind is one) that name `cveId`. */
function rowsNaming<T extends object>(ctx: Pick<Context, 'tables'>, cveId: string, s: CatalogRow, select: string[]) {
  const table = tableOf(ctx as Context, { ...s, partitionKey: s.partitionKey || 'SoftwareVulnerabilities' });
  return readEntities<T>(table, s.rowKey, { filter: odata`CveId eq ${cveId}`, select });
}

/** Rows of `snapshots` (SoftwareVulnerabilities catalog rows) for `cveId`, snapshot by snapshot in the order given. */
export async function* cveExposure(ctx: Pick<Context, 'tables'>, cveId: string, snapshots: readonly CatalogRow[]): AsyncGenerator<CveExposureRow> {
  for (const s of snapshots) {
    for await (const r of rowsNaming<Record<string, unknown>>(ctx, cveId, s, SELECT)) {
      const row: Record<string, unknown> = { SnapshotId: s.rowKey };
      for (const c of SELECT) {
        const v = r[c];
        if (v === undefined || v === null) continue;
        row[c] = c === 'FirstSeenTimestamp' ? asDate(v) : v;
      }
      yield row as unknown as CveExposureRow;
    }
  }
}

/** Distinct devices exposed to a CVE at one snapshot. */
export interface CveTrendPoint {
  snapshotId: string;
  generatedTime: Date;
  devices: number;
  /** the highest CvssScore and severity among the exposed rows (from a rollup; a scan leaves them out) */
  cvssScore?: number;
  severity?: string;
  /** where the figure came from: a stored rollup (one query for every such snapshot), or a scan of the snapshot table */
  source: 'rollup' | 'scan';
}

/**
 * Devices exposed to `cveId` at each of `snapshots` (SoftwareVulnerabilities catalog rows), oldest first. `scanned`:
 * device counts the caller already has from its own read of a snapshot's table, so that table is not read again.
 */
export async function cveTrend(
  ctx: Pick<Context, 'tables'>,
  cveId: string,
  snapshots: readonly CatalogRow[],
  scanned: ReadonlyMap<string, number> = new Map(),
): Promise<CveTrendPoint[]> {
  const ordered = [...snapshots].sort((a, b) => (a.rowKey < b.rowKey ? -1 : 1));
  const rolledUp = ordered.filter((s) => hasCurrentRollup(s)).map((s) => s.rowKey);
  const fromRollups = await readSubjectRollup(ctx.tables.table(ROLLUP_TABLE), 'SoftwareVulnerabilities', 'cve', [cveId], rolledUp);
  const points: CveTrendPoint[] = [];
  for (const s of ordered) {
    const generatedTime = new Date(s.GeneratedTime);
    const f = fromRollups?.get(s.rowKey);
    if (f) {
      points.push({ snapshotId: s.rowKey, generatedTime, devices: f.devices, cvssScore: f.cvssScore, severity: f.severity, source: 'rollup' });
      continue;
    }
    let devices = scanned.get(s.rowKey);
    if (devices === undefined) {
      const seen = new Set<string>();
      for await (const r of rowsNaming(ctx, cveId, s, ['PartitionKey'])) seen.add(r.partitionKey);
      devices = seen.size;
    }
    points.push({ snapshotId: s.rowKey, generatedTime, devices, source: 'scan' });
  }
  return points;
}
