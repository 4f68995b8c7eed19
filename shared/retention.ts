// RETENTION_DAYS: drop snapshot tables older than the limit, never the newest complete one. The
// snapshot's catalog, file-progress and reject rows go with it (catalog row last, so a run that
// dies half-way simply finishes the job next time).
import { odata, TableClient, TableTransaction } from '@azure/data-tables';
import { SOFTWARE_INVENTORY } from './contracts';
import { Log } from './log';
import { isNotFound, SnapshotCatalog } from './snapshotCatalog';

export interface RetentionDeps {
  catalog: SnapshotCatalog;
  deleteTable: (name: string) => Promise<void>;
  retentionDays: number;
  log: Log;
  now?: () => Date;
}

async function deletePartition(table: TableClient, partitionKey: string): Promise<number> {
  const keys: string[] = [];
  for await (const e of table.listEntities({ queryOptions: { filter: odata`PartitionKey eq ${partitionKey}`, select: ['RowKey'] } })) keys.push(e.rowKey!);
  for (let i = 0; i < keys.length; i += 100) {
    const tx = new TableTransaction();
    for (const rk of keys.slice(i, i + 100)) tx.deleteEntity(partitionKey, rk);
    await table.submitTransaction(tx.actions);
  }
  return keys.length;
}

/** Returns the snapshot ids dropped. */
export async function applyRetention(deps: RetentionDeps): Promise<string[]> {
  if (deps.retentionDays <= 0) return [];
  const now = deps.now ?? (() => new Date());
  const cutoff = now().getTime() - deps.retentionDays * 86_400_000;
  const snaps = await deps.catalog.listSnapshots(SOFTWARE_INVENTORY); // newest first
  const newestComplete = snaps.find((s) => s.Status === 'complete')?.rowKey;
  const dropped: string[] = [];
  for (const s of snaps) {
    if (s.rowKey === newestComplete || new Date(s.GeneratedTime).getTime() >= cutoff) continue;
    try {
      await deps.deleteTable(s.TableName);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    await deletePartition(deps.catalog.files, s.rowKey);
    await deletePartition(deps.catalog.rejects, s.rowKey);
    await deps.catalog.catalog.deleteEntity(s.partitionKey, s.rowKey);
    dropped.push(s.rowKey);
    deps.log.info(`retention: dropped snapshot ${s.rowKey} (${s.TableName}, ${s.Status}, generated ${new Date(s.GeneratedTime).toISOString()}) — older than ${deps.retentionDays} days`);
  }
  return dropped;
}
