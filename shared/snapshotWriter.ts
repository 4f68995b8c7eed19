// Turns a stream of mapped records into committed, checkpointed segments of a snapshot table:
// in-file duplicates written once and counted, rejects recorded, and a checkpoint after every
// segment whose counters describe exactly the lines up to it. While one segment is being written the
// next is being parsed (at most two in memory). Used by the file worker and the paged JSON method.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { TableClient, TableTransaction } from '@azure/data-tables';
import { rejectRowKey, RejectRow } from './contracts';
import { excerpt, MapResult } from './recordMapper';
import { shortError } from './snapshotCatalog';
import { PendingEntity, writeEntities, WriteOptions } from './tableWriter';

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
  /** table writer options (transport, timeouts, retries); defaults suit production */
  write?: WriteOptions;
  /** where the duplicate detector spills finished partitions (default: the OS temp folder) */
  spillDir?: string;
}

// ---------------------------------------------------------------------------------------------
// In-file duplicate detection in bounded memory
//
// "An exact duplicate (same DeviceId, vendor, name and version) within one file is written once." A set of
// every key seen grows with the file (~50 bytes per row: 100 MB for a 1 GB file). Defender writes a
// device's rows together, so:
//  - the partition being read keeps an exact set of its RowKeys (memory: one device's rows);
//  - when the partition changes, its RowKeys go to a spill file as 64-bit digests (8 bytes a row, on disk)
//    and the partition is indexed (PartitionKey → where its runs are in the file): memory per device,
//    not per row;
//  - a partition that shows up again later (rare) gets its earlier runs read back as an exact set of
//    digests, so a copy of a row seen hundreds of MB earlier is still caught.
// A false positive needs two different RowKeys of the same device, in different runs, with equal 64-bit
// digests. The spill file is unlinked as soon as it is created, so nothing outlives the process.

const DIGEST_BYTES = 8;
const SPILL_BUFFER_DIGESTS = 8192;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Two independent 32-bit hashes of the UTF-16 code units (FNV-1a and a multiply-rotate), finalised. */
export function rowKeyDigest(key: string, out: Buffer, offset: number): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ key.length;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  out.writeUInt32LE(fmix32(a), offset);
  out.writeUInt32LE(fmix32(b ^ Math.imul(a, 0x27d4eb2d)), offset + 4);
}

const closeSpill = new FinalizationRegistry<{ fd: number | undefined }>((h) => {
  if (h.fd !== undefined) fs.closeSync(h.fd);
});

export interface DetectorStats {
  /** RowKeys held for the partition being read */
  runRows: number;
  /** partitions seen (index entries) */
  partitions: number;
  /** digests written to the spill file */
  spilledRows: number;
  /** partitions that came back after another one (their earlier runs were read from disk) */
  reappearances: number;
}

export class DuplicateDetector {
  private pk: string | undefined;
  private run = new Set<string>();
  /** digests of the current partition's earlier runs, only when it reappeared */
  private prior: Set<string> | undefined;
  /** PartitionKey → [first digest, count, first digest, count, ...] of its runs in the spill file */
  private readonly index = new Map<string, number[]>();
  private readonly handle: { fd: number | undefined } = { fd: undefined };
  private buffer = Buffer.alloc(SPILL_BUFFER_DIGESTS * DIGEST_BYTES);
  private buffered = 0;
  private spilled = 0;
  private reappeared = 0;
  private closed = false;
  private readonly digest = Buffer.alloc(DIGEST_BYTES);

  constructor(private readonly spillDir = os.tmpdir()) {
    closeSpill.register(this, this.handle, this);
  }

  /** True when (pk, rk) was seen before in this file; otherwise records it. */
  seen(pk: string, rk: string): boolean {
    if (pk !== this.pk) this.switchTo(pk);
    if (this.run.has(rk)) return true;
    if (this.prior) {
      rowKeyDigest(rk, this.digest, 0);
      if (this.prior.has(this.digest.toString('latin1'))) return true;
    }
    this.run.add(rk);
    return false;
  }

  stats(): DetectorStats {
    const current = this.pk !== undefined && !this.index.has(this.pk) ? 1 : 0;
    return { runRows: this.run.size, partitions: this.index.size + current, spilledRows: this.spilled + this.buffered, reappearances: this.reappeared };
  }

  /** Release the spill file. */
  close(): void {
    this.closed = true;
    if (this.handle.fd !== undefined) {
      fs.closeSync(this.handle.fd);
      this.handle.fd = undefined;
    }
    closeSpill.unregister(this);
    this.run = new Set();
    this.prior = undefined;
    this.index.clear();
  }

  private switchTo(pk: string): void {
    if (this.closed) throw new Error('duplicate detector used after close');
    if (this.pk !== undefined) this.spillRun();
    this.pk = pk;
    this.run = new Set();
    this.prior = undefined;
    const runs = this.index.get(pk);
    if (runs) {
      this.reappeared++;
      this.prior = this.readRuns(runs);
    }
  }

  private spillRun(): void {
    const pk = this.pk!;
    if (this.run.size === 0) return;
    const first = this.spilled + this.buffered;
    for (const rk of this.run) {
      if (this.buffered === SPILL_BUFFER_DIGESTS) this.flush();
      rowKeyDigest(rk, this.buffer, this.buffered * DIGEST_BYTES);
      this.buffered++;
    }
    const runs = this.index.get(pk);
    if (runs) runs.push(first, this.run.size);
    else this.index.set(pk, [first, this.run.size]);
  }

  private flush(): void {
    if (this.buffered === 0) return;
    if (this.handle.fd === undefined) {
      const file = path.join(this.spillDir, `inventory-dedupe-${process.pid}-${randomUUID()}.bin`);
      this.handle.fd = fs.openSync(file, 'wx+', 0o600);
      fs.unlinkSync(file); // nothing to clean up later, whatever happens to this process
    }
    const bytes = this.buffered * DIGEST_BYTES;
    let done = 0;
    while (done < bytes) done += fs.writeSync(this.handle.fd, this.buffer, done, bytes - done, this.spilled * DIGEST_BYTES + done);
    this.spilled += this.buffered;
    this.buffered = 0;
  }

  private readRuns(runs: number[]): Set<string> {
    this.flush();
    const set = new Set<string>();
    for (let i = 0; i < runs.length; i += 2) {
      const bytes = runs[i + 1] * DIGEST_BYTES;
      const buf = Buffer.alloc(bytes);
      let done = 0;
      while (done < bytes) {
        const n = fs.readSync(this.handle.fd!, buf, done, bytes - done, runs[i] * DIGEST_BYTES + done);
        if (n === 0) throw new Error('duplicate detector: spill file shorter than its index');
        done += n;
      }
      for (let off = 0; off < bytes; off += DIGEST_BYTES) set.add(buf.toString('latin1', off, off + DIGEST_BYTES));
    }
    return set;
  }
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
  private readonly dedupe: DuplicateDetector;
  private seg: Segment;
  private inflight: Promise<void> | undefined;

  constructor(private readonly opts: SnapshotWriterOptions) {
    this.counters = { ...opts.start };
    this.dedupe = new DuplicateDetector(opts.spillDir);
    this.seg = { entities: [], rejects: [], duplicates: 0, lastLine: opts.start.lines };
  }

  /** A line at or before the checkpoint: only rebuild the duplicate detector, so counts stay exact across resumes. */
  replay(result: MapResult): void {
    if (result.ok) this.dedupe.seen(result.entity.partitionKey, result.entity.rowKey);
  }

  /** Add one line's outcome; `text` is kept only for a reject's excerpt. */
  add(line: number, result: MapResult | { ok: false; reason: string }, text: () => string): void {
    const seg = this.seg;
    seg.lastLine = line;
    if (!result.ok) {
      seg.rejects.push({ line, reason: result.reason, text: text() });
      return;
    }
    if (this.dedupe.seen(result.entity.partitionKey, result.entity.rowKey)) {
      seg.duplicates++;
    } else {
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
    this.dedupe.close();
    await this.commit(seg, true);
  }

  /** Duplicate detector figures (tests, benchmark). */
  dedupeStats(): DetectorStats {
    return this.dedupe.stats();
  }

  private async commit(seg: Segment, final = false): Promise<void> {
    const o = this.opts;
    const result = await writeEntities(o.table, seg.entities, o.writeConcurrency, o.write);
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
