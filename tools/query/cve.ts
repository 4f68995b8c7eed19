// Devices exposed to one CVE, snapshot by snapshot: the rows of the SoftwareVulnerabilities tables whose
// CveId is the one asked for (docs/query.md). Read by the `cve` command and the web UI's CVE page.
import { odata } from '@azure/data-tables';
import type { Context } from './commands/common';
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

/** Rows of `snapshots` (SoftwareVulnerabilities catalog rows) for `cveId`, snapshot by snapshot in the order given. */
export async function* cveExposure(ctx: Pick<Context, 'tables'>, cveId: string, snapshots: readonly CatalogRow[]): AsyncGenerator<CveExposureRow> {
  for (const s of snapshots) {
    const table = ctx.tables.table(s.TableName || `SoftwareVulnerabilities${s.rowKey}`);
    for await (const r of readEntities<Omit<CveExposureRow, 'SnapshotId'>>(table, s.rowKey, { filter: odata`CveId eq ${cveId}` })) {
      const { partitionKey: _pk, rowKey: _rk, ...props } = r as typeof r & { etag?: string; timestamp?: string };
      delete (props as { etag?: string }).etag;
      delete (props as { timestamp?: string }).timestamp;
      yield { SnapshotId: s.rowKey, ...props };
    }
  }
}
