// Turns a stream of mapped records into committed, checkpointed segments of a snapshot table:
// in-file duplicates written once and counted, rejects recorded, and a checkpoint after every
// segment whose counters describe exactly the lines up to it. While one segment is being written the
// next is being parsed (at most two in memory). Used by the file worker and the paged JSON method.
import { createHash } from 'node:crypto';
import { TableClient, TableTransaction } from '@azure/data-tables';
import { rejectRowKey, RejectRow } from './contracts';
import { excerpt, MapResult } from './recordMapper';
import { shortError } from './snapshotCatalog';
import { PendingEntity, writeEntities } from './tableWriter';

export interface Counters {
  /** last line (record) committed */
  lines: number;
  rows: number;
  rejected: number;
  duplicates: number;
}

interface Segment {
  entities: PendingEntity[];
  rejects: { line: number; reason: string; text: string }[];
  duplicates: number;
  lastLine: number;
}

export interface SnapshotWriterOptions {
  table: TableClient;
  rejectsTable: TableClient;
  snapshotId: string;
  fileIndex: number;
  writeConcurrency: number;
  segmentRows: number;
  /** counters as of the checkpoint we resume from */
  start: Counters;
  /** persist a checkpoint; runs after the segment's rows and rejects are written (final: the last one) */
  checkpoint: (c: Counters, final: boolean) => Promise<void>;
}

/** 96-bit digest of the keys: exact enough for in-file duplicate detection at ~50 bytes per row. */
function dedupeKey(pk: string, rk: string): string {
  return createHash('sha1').update(pk).update('\u0000').update(rk).digest('base64').slice(0, 16);
}

async function writeRejects(rejectsTable: TableClient, snapshotId: string, fileIndex: number, rejects: Segment['rejects']): Promise<void> {
  for (let i = 0; i < rejects.length; i += 100) {
    const tx = new TableTransaction();
    for (const r of rejects.slice(i, i + 100)) {
      const row: RejectRow = { partitionKey: snapshotId, rowKey: rejectRowKey(fileIndex, r.line), Reason: shortError(r.reason), Excerpt: excerpt(r.text) };
      tx.upsertEntity(row, 'Replace');
    }
    await rejectsTable.submitTransaction(tx.actions);
  }
}

export class SnapshotWriter {
  readonly counters: Counters;
  private readonly seen = new Set<string>();
  private seg: Segment;
  private inflight: Promise<void> | undefined;

  constructor(private readonly opts: SnapshotWriterOptions) {
    this.counters = { ...opts.start };
    this.seg = { entities: [], rejects: [], duplicates: 0, lastLine: opts.start.lines };
  }

  /** A line at or before the checkpoint: only rebuild the duplicate detector, so counts stay exact across resumes. */
  replay(result: MapResult): void {
    if (result.ok) this.seen.add(dedupeKey(result.entity.partitionKey, result.entity.rowKey));
  }

  /** Add one line's outcome; `text` is kept only for a reject's excerpt. */
  add(line: number, result: MapResult | { ok: false; reason: string }, text: () => string): void {
    const seg = this.seg;
    seg.lastLine = line;
    if (!result.ok) {
      seg.rejects.push({ line, reason: result.reason, text: text() });
      return;
    }
    const key = dedupeKey(result.entity.partitionKey, result.entity.rowKey);
    if (this.seen.has(key)) {
      seg.duplicates++;
    } else {
      this.seen.add(key);
      seg.entities.push({ entity: result.entity, line });
    }
  }

  /** Hand the current segment to the writer when it is full. Returns true when it did (a checkpoint follows). */
  async maybeCommit(): Promise<boolean> {
    if (this.seg.entities.length + this.seg.rejects.length < this.opts.segmentRows) return false;
    if (this.inflight) await this.inflight;
    const full = this.seg;
    this.seg = { entities: [], rejects: [], duplicates: 0, lastLine: full.lastLine };
    this.inflight = this.commit(full);
    this.inflight.catch(() => undefined); // awaited by the next call or by drain(); not unhandled meanwhile
    return true;
  }

  /** Wait for the segment in flight (rethrowing its error). */
  async drain(): Promise<void> {
    const p = this.inflight;
    this.inflight = undefined;
    if (p) await p;
  }

  /** Commit everything still buffered; its checkpoint is the final one (the caller marks the file complete in it). */
  async finish(): Promise<void> {
    await this.drain();
    const seg = this.seg;
    this.seg = { entities: [], rejects: [], duplicates: 0, lastLine: seg.lastLine };
    await this.commit(seg, true);
  }

  private async commit(seg: Segment, final = false): Promise<void> {
    const o = this.opts;
    const result = await writeEntities(o.table, seg.entities, o.writeConcurrency);
    const rejects = seg.rejects.concat(result.rejected.map((r) => ({ line: r.line, reason: r.reason, text: JSON.stringify(r.entity) })));
    if (rejects.length) await writeRejects(o.rejectsTable, o.snapshotId, o.fileIndex, rejects);
    const c = this.counters;
    c.rows += result.written;
    c.rejected += rejects.length;
    c.duplicates += seg.duplicates;
    c.lines = seg.lastLine;
    await o.checkpoint({ ...c }, final);
  }
}
