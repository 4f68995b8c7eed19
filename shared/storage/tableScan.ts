// A read of every row of a table, split into PartitionKey ranges read at once and yielded range after range,
// so the order stays the service's (PartitionKey, RowKey) order. Read in one stream, a table waits one round
// trip per 1,000-row page; `npm run bench:query` measures both ways (docs/performance.md). The query CLI's
// reader (tools/query/tableRead.ts) and the rollup builder (shared/rollup) both read through here.
import { TableClient } from '@azure/data-tables';

/** Lower bounds of the 2nd..16th range: (-∞,'1'), ['1','2'), …, ['f', +∞) covers every key, hex or not. */
export const HEX_SPLITS: readonly string[] = '123456789abcdef'.split('');

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

export type ScannedEntity<T> = T & { partitionKey: string; rowKey: string };

export interface ScanOptions {
  filter?: string;
  select?: string[];
  /** PartitionKey split points (default: one range per hex digit, DeviceIds being hex) */
  splits?: readonly string[];
  /** pages read ahead per range (memory: ranges × this × pageSize entities at most) */
  pagesAhead?: number;
  /** entities per page (Table Storage's maximum, 1,000, unless a test wants many small pages) */
  pageSize?: number;
  /** called with the number of entities of every page received */
  onPage?: (entities: number) => void;
}

/** Every entity of `table` (matching `filter`), in (PartitionKey, RowKey) order, the ranges fetched at once. */
export async function* scanEntities<T extends object>(table: TableClient, opts: ScanOptions = {}): AsyncGenerator<ScannedEntity<T>> {
  const pagesOf = (filter: string | undefined) =>
    table.listEntities<T>({ queryOptions: { filter, select: opts.select } }).byPage({ maxPageSize: opts.pageSize ?? 1000 }) as AsyncIterableIterator<
      ScannedEntity<T>[]
    >;
  const channels = rangeFilters(opts.filter, opts.splits ?? HEX_SPLITS).map(
    (f) => new PageChannel<ScannedEntity<T>>(pagesOf(f), Math.max(1, opts.pagesAhead ?? 2)),
  );
  try {
    for (const ch of channels) {
      for (;;) {
        const page = await ch.take();
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

/** One range's pages, fetched as soon as it is created and at most `capacity` pages ahead of its reader. */
export class PageChannel<T> {
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
