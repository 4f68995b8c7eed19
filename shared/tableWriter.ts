// Writes entities as entity-group transactions: ≤100 entities, one PartitionKey, < 4 MiB, each RowKey
// once; upserts in Replace mode so a retried write lands the same row. A transaction the service
// rejects for its data is split so only the bad entity is rejected and the others still land.
import { TableClient, TableTransaction } from '@azure/data-tables';
import { mapBounded } from './concurrency';
import { InventoryEntity } from './contracts';
import { describeError } from './redact';

export const MAX_BATCH_ENTITIES = 100;
// the service limit is 4 MiB per batch request; leave room for the multipart envelope
const MAX_BATCH_BYTES = 3.5 * 1024 * 1024;

export interface PendingEntity {
  entity: InventoryEntity;
  /** source line, for the reject row if the service refuses the entity */
  line: number;
}

export interface WriteResult {
  written: number;
  rejected: { line: number; reason: string; entity: InventoryEntity }[];
}

/** Upper bound of an entity's JSON size in UTF-8 (3 bytes per UTF-16 unit) plus envelope. */
function estimateBytes(e: InventoryEntity): number {
  let chars = 0;
  for (const v of Object.values(e)) chars += typeof v === 'string' ? v.length + 40 : 40;
  return chars * 3 + 600;
}

/** Group by partition (first-seen order), then cut into transaction-sized batches. */
export function planBatches(items: readonly PendingEntity[]): PendingEntity[][] {
  const byPartition = new Map<string, PendingEntity[]>();
  for (const item of items) {
    const pk = item.entity.partitionKey;
    let list = byPartition.get(pk);
    if (!list) byPartition.set(pk, (list = []));
    list.push(item);
  }
  const batches: PendingEntity[][] = [];
  for (const list of byPartition.values()) {
    let batch: PendingEntity[] = [];
    let bytes = 0;
    let rowKeys = new Set<string>();
    for (const item of list) {
      const size = estimateBytes(item.entity);
      if (batch.length > 0 && (batch.length >= MAX_BATCH_ENTITIES || bytes + size > MAX_BATCH_BYTES || rowKeys.has(item.entity.rowKey))) {
        batches.push(batch);
        batch = [];
        bytes = 0;
        rowKeys = new Set();
      }
      batch.push(item);
      bytes += size;
      rowKeys.add(item.entity.rowKey);
    }
    if (batch.length) batches.push(batch);
  }
  return batches;
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown })?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

/** A 4xx that is about the data (not throttling, not a missing table): retrying the same batch cannot help. */
function isDataError(err: unknown): boolean {
  const s = statusOf(err);
  const code = String((err as { code?: unknown })?.code ?? '');
  return s !== undefined && s >= 400 && s < 500 && s !== 408 && s !== 429 && s !== 404 && !/TableBeingDeleted|TableNotFound/i.test(code);
}

async function writeBatch(table: TableClient, batch: PendingEntity[], result: WriteResult): Promise<void> {
  if (batch.length === 1) {
    try {
      await table.upsertEntity(batch[0].entity, 'Replace');
      result.written++;
    } catch (err) {
      if (!isDataError(err)) throw err;
      result.rejected.push({ line: batch[0].line, entity: batch[0].entity, reason: `refused by Table Storage: ${describeError(err, 300)}` });
    }
    return;
  }
  const tx = new TableTransaction();
  for (const item of batch) tx.upsertEntity(item.entity, 'Replace');
  try {
    await table.submitTransaction(tx.actions);
    result.written += batch.length;
  } catch (err) {
    if (!isDataError(err)) throw err;
    // isolate the bad entity: halve until the refusals are single entities
    const mid = Math.ceil(batch.length / 2);
    await writeBatch(table, batch.slice(0, mid), result);
    await writeBatch(table, batch.slice(mid), result);
  }
}

export async function writeEntities(table: TableClient, items: readonly PendingEntity[], concurrency: number): Promise<WriteResult> {
  const result: WriteResult = { written: 0, rejected: [] };
  await mapBounded(planBatches(items), concurrency, (batch) => writeBatch(table, batch, result));
  return result;
}
