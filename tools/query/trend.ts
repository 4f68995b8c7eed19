// A product's version adoption over snapshots: devices per version per snapshot (docs/query.md).
// The shape below is what the `trend` command and the web UI's product chart read. Snapshots with a current
// rollup are answered from InventoryRollups in one range query (docs/rollups.md#reading-a-trend), whatever
// their size; any other snapshot (built before rollups, re-armed, or not rolled up yet) is counted from its
// table with a filtered scan, and its point says so in `source`.
import { odata } from '@azure/data-tables';
import type { ExportKind } from '../../shared/core/contracts';
import { hasCurrentRollup, ROLLUP_TABLE } from '../../shared/rollup/rollupKeys';
import { readProductRollup } from '../../shared/rollup/trendReader';
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
  const rolledUp = ordered.filter((s) => hasCurrentRollup(s)).map((s) => s.rowKey);
  const fromRollups = await readProductRollup(ctx.tables.table(ROLLUP_TABLE), kind, q.name, q.vendor, rolledUp);
  for (const s of ordered) {
    const figures = fromRollups?.get(s.rowKey);
    if (figures) {
      points.push({ snapshotId: s.rowKey, generatedTime: new Date(s.GeneratedTime), ...figures, source: 'rollup' });
      continue;
    }
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
