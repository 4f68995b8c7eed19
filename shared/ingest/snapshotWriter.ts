// Turns a stream of mapped records into committed, checkpointed segments of a snapshot table:
// in-file duplicates written once and counted, rejects recorded, and a checkpoint after every
// segment whose counters describe exactly the lines up to it. Used by the file worker and the paged
// JSON method.
//
// Writes stream: rows collect in per-partition transactions, and a transaction is sent as soon as it is
// full, or when too many rows are waiting (the least recently filled first) — not when a whole segment
// has been read. So an entity lives for milliseconds instead of a segment's time (most die young, which
// keeps the heap and RSS flat), transactions are in flight while the next rows are parsed, and one
// segment's tail overlaps the next one's start. At most WRITE_CONCURRENCY transactions are in flight;
// when all are busy, reading waits (backpressure down to the download). A segment's checkpoint follows
// all of its transactions and the previous segment's checkpoint; at most two segments are unfinished.
import { TableClient, TableTransaction } from '@azure/data-tables';
import { ExportKind, progressPartition, rejectRowKey, RejectRow } from '../core/contracts';
import { DEFAULT_KIND } from '../kinds/exportKinds';
import { excerpt, MapResult } from './recordMapper';
import { shortError } from '../storage/snapshotCatalog';
import { OpenBatch, PendingEntity, ResolvedWriteOptions, writeOptions, WriteOptions, WriteResult, writeTransaction } from '../storage/tableWriter';
import { detachedWellFormed } from '../core/text';
import { DetectorStats, DuplicateDetector } from './duplicateDetector';

export interface Counters {
  /** last line (record) committed */
  lines: number;
  rows: number;
  rejected: number;
  duplicates: number;
}

interface Segment {
  /** reason and excerpt already cut and storable: a reject never holds its line */
  rejects: RejectNote[];
  duplicates: number;
  lastLine: number;
  /** entities and rejects added (duplicates do not count): the segment is full at segmentRows */
  size: number;
  /** transactions being filled, by partition, least recently added to first */
  open: Map<string, OpenBatch>;
  openRows: number;
  /** transactions ready to send */
  ready: PendingEntity[][];
  /** transactions sent */
  writes: Promise<void>[];
  result: WriteResult;
}

interface RejectNote {
  line: number;
  reason: string;
  excerpt: string;
}

/** A reject as it will be stored: Reason and Excerpt cut on code-point boundaries, well-formed, and copied out of the line. */
function rejectNote(line: number, reason: string, text: string): RejectNote {
  return { line, reason: detachedWellFormed(shortError(reason)), excerpt: detachedWellFormed(excerpt(text)) };
}

function newSegment(lastLine: number): Segment {
  return { rejects: [], duplicates: 0, lastLine, size: 0, open: new Map(), openRows: 0, ready: [], writes: [], result: { written: 0, rejected: [] } };
}

/** Rows waiting in unsent transactions before the least recently filled one is sent anyway. */
export const DEFAULT_OPEN_ROWS = 200;

/** At most n at once, first come first served. */
export class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) {
    this.free = Math.max(1, n);
  }
  async acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((r) => this.waiting.push(r));
  }
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

export interface SnapshotWriterOptions {
  table: TableClient;
  rejectsTable: TableClient;
  /** the export kind (default SoftwareInventory): rejects go to progressPartition(kind, snapshotId) (docs/kinds.md#progress-and-rejects) */
  kind?: ExportKind;
  snapshotId: string;
  fileIndex: number;
  writeConcurrency: number;
  /** transactions in flight shared with other writers, instead of WRITE_CONCURRENCY of its own (the local runner's files share one budget) */
  slots?: Slots;
  segmentRows: number;
  /** counters as of the checkpoint we resume from */
  start: Counters;
  /** persist a checkpoint; runs after the segment's rows and rejects are written (final: the last one) */
  checkpoint: (c: Counters, final: boolean) => Promise<void>;
  /** table writer options (transport, timeouts, retries); defaults suit production */
  write?: WriteOptions;
  /** rows that may wait in unsent transactions (default DEFAULT_OPEN_ROWS) */
  openRows?: number;
  /** where the duplicate detector spills finished partitions (default: the OS temp folder) */
  spillDir?: string;
}

async function writeRejects(rejectsTable: TableClient, partition: string, fileIndex: number, rejects: Segment['rejects']): Promise<void> {
  for (let i = 0; i < rejects.length; i += 100) {
    const tx = new TableTransaction();
    for (const r of rejects.slice(i, i + 100)) {
      const row: RejectRow = { partitionKey: partition, rowKey: rejectRowKey(fileIndex, r.line), Reason: r.reason, Excerpt: r.excerpt };
      tx.upsertEntity(row, 'Replace');
    }
    await rejectsTable.submitTransaction(tx.actions);
  }
}

export class SnapshotWriter {
  readonly counters: Counters;
  private readonly dedupe: DuplicateDetector;
  private readonly slots: Slots;
  private readonly write: ResolvedWriteOptions;
  private readonly openRowsLimit: number;
  private seg: Segment;
  private inflight: Promise<void> | undefined;
  private failure: { err: unknown } | undefined;
  private lastPk: string | undefined;

  constructor(private readonly opts: SnapshotWriterOptions) {
    this.counters = { ...opts.start };
    this.dedupe = new DuplicateDetector(opts.spillDir);
    this.slots = opts.slots ?? new Slots(opts.writeConcurrency);
    this.write = writeOptions(opts.write);
    this.openRowsLimit = opts.openRows ?? DEFAULT_OPEN_ROWS;
    this.seg = newSegment(opts.start.lines);
  }

  /** A line at or before the checkpoint: only rebuild the duplicate detector, so counts stay exact across resumes. */
  replay(result: MapResult): void {
    if (result.ok) this.dedupe.seen(result.entity.partitionKey, result.entity.rowKey);
  }

  /** Add one line's outcome; `text` is read only for a reject, whose excerpt is all that is kept of it. */
  add(line: number, result: MapResult | { ok: false; reason: string }, text: () => string): void {
    const seg = this.seg;
    seg.lastLine = line;
    if (!result.ok) {
      seg.rejects.push(rejectNote(line, result.reason, text()));
      seg.size++;
      return;
    }
    const { entity } = result;
    if (this.dedupe.seen(entity.partitionKey, entity.rowKey)) {
      seg.duplicates++;
      return;
    }
    seg.size++;
    const item: PendingEntity = { entity, line };
    const pk = entity.partitionKey;
    let batch = seg.open.get(pk);
    if (batch && !batch.fits(item)) {
      this.close(seg, pk, batch);
      batch = undefined;
    }
    if (!batch) {
      seg.open.set(pk, (batch = new OpenBatch()));
    } else if (pk !== this.lastPk) {
      // most recently filled last
      seg.open.delete(pk);
      seg.open.set(pk, batch);
    }
    batch.add(item);
    seg.openRows++;
    if (batch.full) this.close(seg, pk, batch);
    this.lastPk = pk;
  }

  /**
   * Send what is ready (waiting for a write slot when all are busy), and hand the segment over when it is
   * full. Returns true when it did (its checkpoint follows once its transactions are written).
   */
  async maybeCommit(): Promise<boolean> {
    if (this.failure) throw this.failure.err;
    const seg = this.seg;
    while (seg.ready.length > 0 || seg.openRows > this.openRowsLimit) {
      if (seg.ready.length === 0) {
        const [pk, batch] = seg.open.entries().next().value as [string, OpenBatch];
        this.close(seg, pk, batch);
      }
      await this.send(seg, seg.ready.shift()!);
    }
    if (seg.size < this.opts.segmentRows) return false;
    await this.sendAll(seg);
    if (this.inflight) await this.inflight;
    this.seg = newSegment(seg.lastLine);
    this.inflight = this.commit(seg);
    this.inflight.catch(() => undefined); // awaited by the next call or by drain(); not unhandled meanwhile
    return true;
  }

  /** Wait for everything in flight: the segment being committed and transactions already sent (rethrowing the first error). Sends nothing new. */
  async drain(): Promise<void> {
    const p = this.inflight;
    this.inflight = undefined;
    const sent = await Promise.allSettled(this.seg.writes);
    if (p) await p;
    const failed = sent.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Release the duplicate detector's spill file now (error and hand-over paths); finish() does it itself. */
  dispose(): void {
    this.dedupe.close();
  }

  /** Commit everything still buffered; its checkpoint is the final one (the caller marks the file complete in it). */
  async finish(): Promise<void> {
    if (this.failure) throw this.failure.err;
    const seg = this.seg;
    await this.sendAll(seg);
    const p = this.inflight;
    this.inflight = undefined;
    if (p) await p;
    this.seg = newSegment(seg.lastLine);
    this.dedupe.close();
    await this.commit(seg, true);
  }

  /** Duplicate detector figures (tests, benchmark). */
  dedupeStats(): DetectorStats {
    return this.dedupe.stats();
  }

  private close(seg: Segment, pk: string, batch: OpenBatch): void {
    seg.open.delete(pk);
    seg.openRows -= batch.items.length;
    seg.ready.push(batch.items);
  }

  private async send(seg: Segment, items: PendingEntity[]): Promise<void> {
    await this.slots.acquire();
    const p = writeTransaction(this.opts.table, items, seg.result, this.write)
      .catch((err: unknown) => {
        this.failure ??= { err };
        throw err;
      })
      .finally(() => this.slots.release());
    p.catch(() => undefined); // awaited by the segment's commit or by drain()
    seg.writes.push(p);
  }

  private async sendAll(seg: Segment): Promise<void> {
    for (const [pk, batch] of [...seg.open]) this.close(seg, pk, batch);
    while (seg.ready.length > 0) await this.send(seg, seg.ready.shift()!);
  }

  private async commit(seg: Segment, final = false): Promise<void> {
    const o = this.opts;
    await Promise.all(seg.writes);
    const result = seg.result;
    const rejects = seg.rejects.concat(result.rejected.map((r) => rejectNote(r.line, r.reason, JSON.stringify(r.entity))));
    if (rejects.length) await writeRejects(o.rejectsTable, progressPartition(o.kind ?? DEFAULT_KIND, o.snapshotId), o.fileIndex, rejects);
    const c = this.counters;
    c.rows += result.written;
    c.rejected += rejects.length;
    c.duplicates += seg.duplicates;
    c.lines = seg.lastLine;
    await o.checkpoint({ ...c }, final);
  }
}
