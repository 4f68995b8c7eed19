// Streaming reads of a snapshot table: page by page (Table Storage's 1,000-entity pages), with the next
// page already requested while the current one is consumed, and a missing table reported as such.
//
// A read of every row of a table (diff, the device-name scan) is split into PartitionKey ranges read at
// once, and yielded range after range, so the order is the service's (PartitionKey, RowKey) order all the
// same. Read in one stream it waits one round trip per 1,000 rows: 15,000 of them for a 15M-row snapshot.
// `npm run bench:query` measures both ways; property-filtered queries stay one stream, because there the
// ranges measured slower (16 requests for what one page answers).
import { TableClient } from '@azure/data-tables';
import { NotFoundError } from './errors';

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

/** Lower bounds of the 2nd..16th range: (-∞,'1'), ['1','2'), …, ['f', +∞) covers every key, hex or not. */
export const HEX_SPLITS: readonly string[] = '123456789abcdef'.split('');

export function isTableNotFound(err: unknown): boolean {
  const e = err as { statusCode?: number; code?: string };
  return e?.statusCode === 404 && (e.code === undefined || /TableNotFound|ResourceNotFound/i.test(String(e.code)));
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The filters of the ranges between the split points, in key order, each ANDed with `filter`. */
export function rangeFilters(filter: string | undefined, splits: readonly string[]): string[] {
  const bounds = [undefined, ...splits, undefined];
  const out: string[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const parts = [
      ...(filter ? [`(${filter})`] : []),
      ...(bounds[i] !== undefined ? [`PartitionKey ge ${quote(bounds[i]!)}`] : []),
      ...(bounds[i + 1] !== undefined ? [`PartitionKey lt ${quote(bounds[i + 1]!)}`] : []),
    ];
    out.push(parts.join(' and '));
  }
  return out;
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

/** One range's pages, fetched as soon as it is created and at most `capacity` pages ahead of its reader. */
class PageChannel<T> {
  private readonly buffer: T[][] = [];
  private finished = false;
  private failure: { err: unknown } | undefined;
  private closed = false;
  private wakeReader: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;
  private readonly producing: Promise<void>;

  constructor(
    private readonly pages: AsyncIterableIterator<T[]>,
    private readonly capacity: number,
  ) {
    this.producing = this.produce();
  }

  private async produce(): Promise<void> {
    try {
      while (!this.closed) {
        while (this.buffer.length >= this.capacity && !this.closed) await new Promise<void>((r) => (this.wakeProducer = r));
        if (this.closed) break;
        const r = await this.pages.next();
        if (r.done) break;
        this.buffer.push(r.value);
        this.wake();
      }
    } catch (err) {
      this.failure = { err };
    } finally {
      this.finished = true;
      this.wake();
    }
  }

  private wake(): void {
    const w = this.wakeReader;
    this.wakeReader = undefined;
    w?.();
  }

  /** The next page, or undefined when the range is exhausted. */
  async take(): Promise<T[] | undefined> {
    for (;;) {
      const page = this.buffer.shift();
      if (page) {
        const w = this.wakeProducer;
        this.wakeProducer = undefined;
        w?.();
        return page;
      }
      if (this.failure) throw this.failure.err;
      if (this.finished) return undefined;
      await new Promise<void>((r) => (this.wakeReader = r));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const w = this.wakeProducer;
    this.wakeProducer = undefined;
    w?.();
    await this.producing;
  }
}

/** All entities of a query, in memory (for point queries and small results). */
export async function readAll<T extends object>(table: TableClient, snapshotId: string, opts: ReadOptions = {}): Promise<Entity<T>[]> {
  const out: Entity<T>[] = [];
  for await (const e of readEntities<T>(table, snapshotId, opts)) out.push(e);
  return out;
}
