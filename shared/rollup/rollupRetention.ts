// A dropped snapshot's rollup rows (docs/rollups.md#table-layout), found through its manifest: the snapshot's
// RowKey range in every trend partition the manifest names, then the manifest itself, last, so a run that dies
// half-way still knows next time where the rest is. Rows already gone and a missing table are no error.
import { TableClient } from '@azure/data-tables';
import { mapBounded } from '../core/concurrency';
import type { ExportKind } from '../kinds/exportKinds';
import { deleteRowKeys, deleteRowRange, listRowKeys } from '../storage/rowDeletes';
import { manifestPartition, snapshotRange } from './rollupKeys';
import { partialPartition } from './rollupInParts';

/**
 * Delete every InventoryRollups row of one snapshot of `kind` (`snapshotId`: the bare stamp, the catalog's
 * RowKey). Returns how many trend rows went (manifest rows not counted, as in the catalog's `RollupRows`).
 */
export async function deleteSnapshotRollup(table: TableClient, kind: ExportKind, snapshotId: string, concurrency = 8): Promise<number> {
  const manifest = manifestPartition(kind, snapshotId);
  const partitions = await listRowKeys(table, manifest);
  // few rows per partition (a total and its versions): the partitions are what runs in parallel
  const counts = await mapBounded(partitions, concurrency, (pk) => deleteRowRange(table, pk, snapshotRange(snapshotId, snapshotId), 1));
  await deleteRowKeys(table, manifest, partitions, concurrency);
  // partial counts of a build in parts that had not finished (rollupInParts.ts)
  await deleteRowRange(table, partialPartition(kind, snapshotId), undefined, concurrency);
  return counts.reduce((a, b) => a + b, 0);
}
