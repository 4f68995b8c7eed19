// Streaming reads of a snapshot table: page by page (Table Storage's 1,000-entity pages), with the next
// page already requested while the current one is consumed, and a missing table reported as such.
import { TableClient } from '@azure/data-tables';
import { NotFoundError } from './errors';

export interface ReadOptions {
  filter?: string;
  select?: string[];
  /** called with the number of entities of every page received */
  onPage?: (entities: number) => void;
}

export function isTableNotFound(err: unknown): boolean {
  const e = err as { statusCode?: number; code?: string };
  return e?.statusCode === 404 && (e.code === undefined || /TableNotFound|ResourceNotFound/i.test(String(e.code)));
}

/** Entities of a query in the service's order ((PartitionKey, RowKey)); `snapshotId` names the table in errors. */
export async function* readEntities<T extends object>(table: TableClient, snapshotId: string, opts: ReadOptions = {}): AsyncGenerator<T & { partitionKey: string; rowKey: string }> {
  const pages = table.listEntities<T>({ queryOptions: { filter: opts.filter, select: opts.select } }).byPage({ maxPageSize: 1000 });
  const request = () => {
    const p = pages.next();
    p.catch(() => undefined); // awaited below; never an unhandled rejection if the reader stops early
    return p;
  };
  let next = request();
  try {
    for (;;) {
      let page;
      try {
        page = await next;
      } catch (err) {
        if (isTableNotFound(err)) throw new NotFoundError(`snapshot ${snapshotId}: table ${table.tableName} does not exist (dropped by retention, or never created)`);
        throw err;
      }
      if (page.done) return;
      next = request();
      opts.onPage?.(page.value.length);
      for (const e of page.value) yield e as T & { partitionKey: string; rowKey: string };
    }
  } finally {
    await next.catch(() => undefined);
  }
}

/** All entities of a query, in memory (for point queries and small results). */
export async function readAll<T extends object>(table: TableClient, snapshotId: string, opts: ReadOptions = {}): Promise<(T & { partitionKey: string; rowKey: string })[]> {
  const out: (T & { partitionKey: string; rowKey: string })[] = [];
  for await (const e of readEntities<T>(table, snapshotId, opts)) out.push(e);
  return out;
}
