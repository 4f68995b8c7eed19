// A product's version adoption over snapshots: devices per version per snapshot (docs/query.md).
// The shape below is what the `trend` command and the web UI's product chart read. This first version
// counts from the snapshot tables (a filtered scan per snapshot); the rollups of issue #12 replace the
// scan for every snapshot that has one, behind the same function.
import { odata } from '@azure/data-tables';
import type { ExportKind } from '../../shared/core/contracts';
import type { Context } from './commands/common';
import { tableOf } from './commands/common';
import type { CatalogRow } from './snapshots';
import { readEntities } from './tableRead';

export interface TrendPoint {
  snapshotId: string;
  generatedTime: Date;
  /** distinct devices per version at this snapshot (versions absent: none) */
  versions: Record<string, number>;
  /** distinct devices with any version */
  devices: number;
  /** where the figures came from: a stored rollup, or a scan of the snapshot table */
  source: 'rollup' | 'scan';
}

export interface ProductTrend {
  kind: ExportKind;
  name: string;
  vendor?: string;
  /** oldest first */
  points: TrendPoint[];
}

export interface TrendQuery {
  kind?: ExportKind;
  name: string;
  vendor?: string;
  /** the snapshots to cover, any order (complete ones, as resolved from --at) */
  snapshots: readonly CatalogRow[];
}

export async function productTrend(ctx: Pick<Context, 'tables'>, q: TrendQuery): Promise<ProductTrend> {
  const kind = q.kind ?? 'SoftwareInventory';
  const points: TrendPoint[] = [];
  const ordered = [...q.snapshots].sort((a, b) => (a.rowKey < b.rowKey ? -1 : 1));
  for (const s of ordered) {
    let filter = odata`SoftwareName eq ${q.name}`;
    if (q.vendor !== undefined) filter += ` and ${odata`SoftwareVendor eq ${q.vendor}`}`;
    const byVersion = new Map<string, Set<string>>();
    const all = new Set<string>();
    const rows = readEntities<{ SoftwareVersion?: string }>(tableOf(ctx as Context, s), s.rowKey, { filter, select: ['PartitionKey', 'SoftwareVersion'] });
    for await (const r of rows) {
      const v = String(r.SoftwareVersion ?? '');
      let set = byVersion.get(v);
      if (!set) byVersion.set(v, (set = new Set()));
      set.add(r.partitionKey);
      all.add(r.partitionKey);
    }
    const versions: Record<string, number> = {};
    for (const [v, set] of [...byVersion].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) versions[v] = set.size;
    points.push({ snapshotId: s.rowKey, generatedTime: new Date(s.GeneratedTime), versions, devices: all.size, source: 'scan' });
  }
  return { kind, name: q.name, vendor: q.vendor, points };
}
