// Streaming reads of a snapshot table: page by page (Table Storage's 1,000-entity pages), with the next
// page already requested while the current one is consumed, and a missing table reported as such.
//
// A read of every row of a table (diff, the device-name scan) is split into PartitionKey ranges read at
// once, and yielded range after range, so the order is the service's (PartitionKey, RowKey) order all the
// same. Read in one stream it waits one round trip per 1,000 rows: 15,000 of them for a 15M-row snapshot.
// `npm run bench:query` measures both ways; property-filtered queries stay one stream, because there the
// ranges measured slower (16 requests for what one page answers).
import { TableClient } from '@azure/data-tables';
import { HEX_SPLITS, PageChannel, rangeFilters } from '../../shared/storage/tableScan';
import { NotFoundError } from './errors';

export { HEX_SPLITS, rangeFilters };

export interface ReadOptions {
  filter?: string;
  select?: string[];
  /** called with the number of entities of every page received */
  onPage?: (entities: number) => void;
  /**
   * A read of every row: read these PartitionKey ranges at once (default: one per hex digit, DeviceIds being
   * hex). Leave unset for point and filtered queries (see the benchmark).
   */
  scan?: boolean | { splits: readonly string[] };
  /** pages read ahead per range (memory: ranges × this × pageSize entities at most) */
  pagesAhead?: number;
  /** entities per page (Table Storage's maximum, 1,000, unless a test wants many small pages) */
  pageSize?: number;
}

export function isTableNotFound(err: unknown): boolean {
  const e = err as { statusCode?: number; code?: string };
  return e?.statusCode === 404 && (e.code === undefined || /TableNotFound|ResourceNotFound/i.test(String(e.code)));
}

type Entity<T> = T & { partitionKey: string; rowKey: string };

/** Entities of a query in the service's order ((PartitionKey, RowKey)); `snapshotId` names the table in errors. */
export async function* readEntities<T extends object>(table: TableClient, snapshotId: string, opts: ReadOptions = {}): AsyncGenerator<Entity<T>> {
  const notFound = (err: unknown) =>
    isTableNotFound(err) ? new NotFoundError(`snapshot ${snapshotId}: table ${table.tableName} does not exist (dropped by retention, or never created)`) : err;
  const pagesOf = (filter: string | undefined) =>
    table.listEntities<T>({ queryOptions: { filter, select: opts.select } }).byPage({ maxPageSize: opts.pageSize ?? 1000 }) as AsyncIterableIterator<
      Entity<T>[]
    >;
  if (!opts.scan) {
    yield* sequential(pagesOf(opts.filter), opts.onPage, notFound);
    return;
  }
  const splits = opts.scan === true ? HEX_SPLITS : opts.scan.splits;
  const channels = rangeFilters(opts.filter, splits).map((f) => new PageChannel<Entity<T>>(pagesOf(f), Math.max(1, opts.pagesAhead ?? 2)));
  try {
    for (const ch of channels) {
      for (;;) {
        let page: Entity<T>[] | undefined;
        try {
          page = await ch.take();
        } catch (err) {
          throw notFound(err);
        }
        if (page === undefined) break;
        opts.onPage?.(page.length);
        yield* page;
      }
    }
  } finally {
    // the reader stopped early or failed: stop every range, and let nothing reject unhandled
    await Promise.all(channels.map((c) => c.close()));
  }
}

async function* sequential<T>(
  pages: AsyncIterableIterator<T[]>,
  onPage: ((n: number) => void) | undefined,
  notFound: (err: unknown) => unknown,
): AsyncGenerator<T> {
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
        throw notFound(err);
      }
      if (page.done) return;
      next = request();
      onPage?.(page.value.length);
      yield* page.value;
    }
  } finally {
    await next.catch(() => undefined);
  }
}

/** All entities of a query, in memory (for point queries and small results). */
export async function readAll<T extends object>(table: TableClient, snapshotId: string, opts: ReadOptions = {}): Promise<Entity<T>[]> {
  const out: Entity<T>[] = [];
  for await (const e of readEntities<T>(table, snapshotId, opts)) out.push(e);
  return out;
}
