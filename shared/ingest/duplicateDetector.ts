// In-file duplicate detection in bounded memory
//
// "An exact duplicate (same DeviceId, vendor, name and version) within one file is written once." A set of
// every key seen grows with the file (~50 bytes of heap per row: 100 MB for a 1 GB file). Defender writes a
// device's rows together, so:
//  - the partition being read keeps an exact set of its RowKeys (memory: one device's rows);
//  - when the partition changes, its rows go to a spill file as 64-bit digests (8 bytes a row, on disk),
//    and the partition goes into an index of where its runs are — typed arrays outside the JS heap,
//    ~40 bytes per device, nothing per row;
//  - a partition that shows up again later (rare) gets its earlier runs read back as an exact set of
//    digests, so a copy of a row seen hundreds of MB earlier is still caught.
// A row's digest is seeded with a second, independent 64-bit hash of its PartitionKey, so a false positive
// needs both 64-bit partition hashes of two devices to collide, or two RowKeys of one device to collide
// in 64 bits. The spill file is unlinked as soon as it is created, so nothing outlives the process.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fmix32 } from '../core/hash';

const DIGEST_BYTES = 8;
const SPILL_BUFFER_DIGESTS = 8192;

/** A 64-bit hash of the UTF-16 code units as two 32-bit halves (FNV-1a and a multiply-xorshift, finalised), seeded. */
function hash64(key: string, seedA: number, seedB: number, out: Uint32Array): void {
  let a = (0x811c9dc5 ^ seedA) >>> 0;
  let b = (0x9747b28c ^ seedB ^ key.length) >>> 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  out[0] = fmix32(a);
  out[1] = fmix32(b ^ Math.imul(a, 0x27d4eb2d));
}

/** 64-bit digest of a RowKey under a partition's seed, into out[offset..offset+8). */
export function rowKeyDigest(key: string, out: Buffer, offset: number, seed: readonly [number, number] = [0, 0]): void {
  hash64(key, seed[0], seed[1], scratch);
  out.writeUInt32LE(scratch[0], offset);
  out.writeUInt32LE(scratch[1], offset + 4);
}
const scratch = new Uint32Array(2);

/** Open-addressing hash table of 64-bit partition hashes → first run, in typed arrays (off the JS heap). */
class PartitionIndex {
  private hi = new Uint32Array(1024);
  private lo = new Uint32Array(1024);
  /** last run + 1 (0: empty slot) */
  private last = new Uint32Array(1024);
  size = 0;

  get bytes(): number {
    return this.hi.byteLength + this.lo.byteLength + this.last.byteLength;
  }

  private slot(h: number, l: number): number {
    const mask = this.last.length - 1;
    let i = (h ^ Math.imul(l, 0x9e3779b1)) & mask;
    while (this.last[i] !== 0 && (this.hi[i] !== h || this.lo[i] !== l)) i = (i + 1) & mask;
    return i;
  }

  /** The partition's most recent run, or -1. */
  get(h: number, l: number): number {
    return this.last[this.slot(h, l)] - 1;
  }

  set(h: number, l: number, run: number): void {
    let i = this.slot(h, l);
    if (this.last[i] === 0) {
      if ((this.size + 1) * 2 > this.last.length) {
        this.grow();
        i = this.slot(h, l);
      }
      this.size++;
      this.hi[i] = h;
      this.lo[i] = l;
    }
    this.last[i] = run + 1;
  }

  private grow(): void {
    const { hi, lo, last } = this;
    this.hi = new Uint32Array(last.length * 2);
    this.lo = new Uint32Array(last.length * 2);
    this.last = new Uint32Array(last.length * 2);
    for (let i = 0; i < last.length; i++) {
      if (last[i] === 0) continue;
      const j = this.slot(hi[i], lo[i]);
      this.hi[j] = hi[i];
      this.lo[j] = lo[i];
      this.last[j] = last[i];
    }
  }
}

/** Runs of spilled digests: first digest, count, previous run of the same partition (-1: none). Typed arrays. */
class RunList {
  first = new Float64Array(1024);
  count = new Uint32Array(1024);
  prev = new Int32Array(1024);
  size = 0;

  get bytes(): number {
    return this.first.byteLength + this.count.byteLength + this.prev.byteLength;
  }

  add(first: number, count: number, prev: number): number {
    if (this.size === this.count.length) {
      const grow = <T extends Float64Array | Uint32Array | Int32Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.first = grow(this.first);
      this.count = grow(this.count);
      this.prev = grow(this.prev);
    }
    this.first[this.size] = first;
    this.count[this.size] = count;
    this.prev[this.size] = prev;
    return this.size++;
  }
}

const closeSpill = new FinalizationRegistry<{ fd: number | undefined }>((h) => {
  if (h.fd !== undefined) fs.closeSync(h.fd);
});

export interface DetectorStats {
  /** RowKeys held for the partition being read */
  runRows: number;
  /** partitions seen */
  partitions: number;
  /** digests written to the spill file (or waiting in its buffer) */
  spilledRows: number;
  /** partitions that came back after another one (their earlier runs were read from disk) */
  reappearances: number;
  /** bytes of the off-heap index (partition table and run list) */
  indexBytes: number;
}

export class DuplicateDetector {
  private pk: string | undefined;
  /** the current partition's hashes: index key, then row-digest seed */
  private readonly key = new Uint32Array(2);
  private readonly seed: [number, number] = [0, 0];
  private run = new Set<string>();
  /** digests of the current partition's earlier runs, only when it reappeared */
  private prior: Set<string> | undefined;
  private readonly index = new PartitionIndex();
  private readonly runs = new RunList();
  private readonly handle: { fd: number | undefined } = { fd: undefined };
  private readonly buffer = Buffer.alloc(SPILL_BUFFER_DIGESTS * DIGEST_BYTES);
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
      rowKeyDigest(rk, this.digest, 0, this.seed);
      if (this.prior.has(this.digest.toString('latin1'))) return true;
    }
    this.run.add(rk);
    return false;
  }

  stats(): DetectorStats {
    const current = this.pk !== undefined && this.index.get(this.key[0], this.key[1]) < 0 ? 1 : 0;
    return {
      runRows: this.run.size,
      partitions: this.index.size + current,
      spilledRows: this.spilled + this.buffered,
      reappearances: this.reappeared,
      indexBytes: this.index.bytes + this.runs.bytes,
    };
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
  }

  private switchTo(pk: string): void {
    if (this.closed) throw new Error('duplicate detector used after close');
    if (this.pk !== undefined) this.spillRun();
    this.pk = pk;
    this.run = new Set();
    this.prior = undefined;
    hash64(pk, 0x2545f491, 0x4f6cdd1d, this.key);
    hash64(pk, 0x6c078965, 0x1b873593, scratch);
    this.seed[0] = scratch[0];
    this.seed[1] = scratch[1];
    const last = this.index.get(this.key[0], this.key[1]);
    if (last >= 0) {
      this.reappeared++;
      this.prior = this.readRuns(last);
    }
  }

  private spillRun(): void {
    if (this.run.size === 0) return;
    const first = this.spilled + this.buffered;
    for (const rk of this.run) {
      if (this.buffered === SPILL_BUFFER_DIGESTS) this.flush();
      rowKeyDigest(rk, this.buffer, this.buffered * DIGEST_BYTES, this.seed);
      this.buffered++;
    }
    const run = this.runs.add(first, this.run.size, this.index.get(this.key[0], this.key[1]));
    this.index.set(this.key[0], this.key[1], run);
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

  private readRuns(last: number): Set<string> {
    this.flush();
    const set = new Set<string>();
    for (let r = last; r >= 0; r = this.runs.prev[r]) {
      const bytes = this.runs.count[r] * DIGEST_BYTES;
      const buf = Buffer.alloc(bytes);
      let done = 0;
      while (done < bytes) {
        const n = fs.readSync(this.handle.fd!, buf, done, bytes - done, this.runs.first[r] * DIGEST_BYTES + done);
        if (n === 0) throw new Error('duplicate detector: spill file shorter than its index');
        done += n;
      }
      for (let off = 0; off < bytes; off += DIGEST_BYTES) set.add(buf.toString('latin1', off, off + DIGEST_BYTES));
    }
    return set;
  }
}
