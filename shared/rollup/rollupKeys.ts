// The InventoryRollups table's keys and the catalog marker (docs/rollups.md#table-layout). A trend partition
// holds one subject of one kind (a product, a CVE, an OS platform …) and its RowKeys start with the snapshot
// id, so a trend over any range of snapshots is one range query on one partition.
import type { ExportKind } from '../kinds/exportKinds';
import type { SnapshotRow } from '../core/contracts';
import { rowKeyForParts } from '../storage/tableKeys';
import type { DimensionName } from './dimensions';

export const ROLLUP_TABLE = 'InventoryRollups';

/** Bumped when the layout or the counting changes: every marker of an older layout is stale, so it is rebuilt. */
export const ROLLUP_LAYOUT = 1;

/** PartitionKey of a trend partition: `<Kind>|<dimension>|<subject parts…>`, each part escaped (tableKeys.ts). */
export function trendPartition(kind: ExportKind, dimension: DimensionName, subject: readonly string[]): string {
  return rowKeyForParts([kind, dimension, ...subject]);
}

/** RowKey in a trend partition: the snapshot id (the subject's total), or `<snapshotId>|<detail>` (a version). */
export function trendRowKey(snapshotId: string, detail?: string): string {
  return detail === undefined ? snapshotId : rowKeyForParts([snapshotId, detail]);
}

/** RowKey bounds of every row of the snapshots from `first` to `last` (ids sort as times). */
export function snapshotRange(first: string, last: string): { ge: string; lt: string } {
  // '}' sorts right after '|', the separator after the id; a hashed key (`~`) still starts with `<id>|`
  return { ge: first, lt: `${last}}` };
}

/** PartitionKey of a snapshot's manifest: one row per trend partition the build wrote (RowKey = that partition). */
export function manifestPartition(kind: ExportKind, snapshotId: string): string {
  return rowKeyForParts([kind, 'snapshot', snapshotId]);
}

/** Beyond-contract properties merged into the snapshot's catalog row when its rollup is in place. */
export interface RollupMarker {
  RollupLayout: number;
  RollupBuiltAt: Date;
  /** rows written to InventoryRollups (manifest rows not counted) */
  RollupRows: number;
  /** the catalog's CompletedAt and RowCount the rollup was built from: a re-armed snapshot changes them */
  RollupOfCompletedAt?: Date;
  RollupOfRowCount: number;
}

type MarkedRow = Pick<SnapshotRow, 'Status' | 'CompletedAt' | 'RowCount'> & Partial<RollupMarker>;

const timeOf = (d: Date | string | undefined) => (d === undefined ? NaN : new Date(d).getTime());

/** The snapshot is complete and its rollup was built, in this layout, from the completion it has now. */
export function hasCurrentRollup(row: MarkedRow): boolean {
  return (
    row.Status === 'complete' &&
    row.RollupLayout === ROLLUP_LAYOUT &&
    row.RollupOfRowCount === row.RowCount &&
    (row.CompletedAt === undefined ? row.RollupOfCompletedAt === undefined : timeOf(row.RollupOfCompletedAt) === timeOf(row.CompletedAt))
  );
}
