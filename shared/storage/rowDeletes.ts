// Deleting rows by key: list a partition's RowKeys (or a range of them), then delete them in entity-group
// transactions of ≤100 (docs/architecture.md#tables-and-keys), a few at once. Idempotent, so a run that died
// half-way simply finishes next time: rows already gone and a missing table are no error.
import { odata, TableClient, TableTransaction } from '@azure/data-tables';
import { mapBounded } from '../core/concurrency';

/** RowKeys from `ge` (inclusive) to `lt` (exclusive). */
export interface RowKeyRange {
  ge: string;
  lt: string;
}

/** Keys listed before a round of deletes: bounds memory on a large partition. */
const ROUND = 2000;

const notFound = (err: unknown) => (err as { statusCode?: number })?.statusCode === 404;

function filterOf(partitionKey: string, range?: RowKeyRange): string {
  return range ? odata`PartitionKey eq ${partitionKey} and RowKey ge ${range.ge} and RowKey lt ${range.lt}` : odata`PartitionKey eq ${partitionKey}`;
}

/** The RowKeys of a partition (or of a range of it), in key order; none when the table does not exist. */
export async function listRowKeys(table: TableClient, partitionKey: string, range?: RowKeyRange): Promise<string[]> {
  const keys: string[] = [];
  try {
    for await (const e of table.listEntities({ queryOptions: { filter: filterOf(partitionKey, range), select: ['RowKey'] } })) keys.push(e.rowKey!);
  } catch (err) {
    if (!notFound(err)) throw err;
  }
  return keys;
}

/** Delete these rows of one partition (each key once). Returns how many this call deleted (not those already gone). */
export async function deleteRowKeys(table: TableClient, partitionKey: string, rowKeys: readonly string[], concurrency = 4): Promise<number> {
  const batches: string[][] = [];
  for (let i = 0; i < rowKeys.length; i += 100) batches.push(rowKeys.slice(i, i + 100));
  const counts = await mapBounded(batches, concurrency, async (batch) => {
    const tx = new TableTransaction();
    for (const rk of batch) tx.deleteEntity(partitionKey, rk);
    try {
      await table.submitTransaction(tx.actions);
      return batch.length;
    } catch (err) {
      if (!notFound(err)) throw err;
    }
    // one of them is gone already (another run's delete, or the table itself): the transaction is all or
    // nothing, so the rest go one by one
    let n = 0;
    for (const rk of batch) {
      try {
        await table.deleteEntity(partitionKey, rk);
        n++;
      } catch (err) {
        if (!notFound(err)) throw err;
      }
    }
    return n;
  });
  return counts.reduce((a, b) => a + b, 0);
}

/** Delete every row of a partition (or of a RowKey range of it). Returns how many this call deleted. */
export async function deleteRowRange(table: TableClient, partitionKey: string, range?: RowKeyRange, concurrency = 4): Promise<number> {
  let deleted = 0;
  let keys: string[] = [];
  try {
    for await (const e of table.listEntities({ queryOptions: { filter: filterOf(partitionKey, range), select: ['RowKey'] } })) {
      keys.push(e.rowKey!);
      if (keys.length >= ROUND) {
        deleted += await deleteRowKeys(table, partitionKey, keys, concurrency);
        keys = [];
      }
    }
  } catch (err) {
    if (!notFound(err)) throw err;
  }
  return deleted + (await deleteRowKeys(table, partitionKey, keys, concurrency));
}
