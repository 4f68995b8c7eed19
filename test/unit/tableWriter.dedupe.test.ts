// In-file duplicate detection of the snapshot writer in bounded memory: an exact set for the partition
// being read, earlier partitions spilled to disk as digests and read back only if a partition reappears.
// Checked against an exact reference on adversarial orders, through the SnapshotWriter (counts, resume),
// and for its memory bound.
import { mulberry32 } from '../../tools/simulator/fleet';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { TableClient } from '@azure/data-tables';
import { InventoryEntity } from '../../shared/core/contracts';
import { MapResult } from '../../shared/ingest/recordMapper';
import { Counters, SnapshotWriter } from '../../shared/ingest/snapshotWriter';
import { DuplicateDetector, rowKeyDigest } from '../../shared/ingest/duplicateDetector';
import { sinkHttpClient } from '../../tools/bench/sink';

const rng = mulberry32;

/**
 * Rows in runs per partition, like Defender's files, but with the cases that break naive designs: a
 * partition that comes back later (sometimes many times), exact copies inside a run and of rows from
 * runs long gone, the same RowKey under other partitions, runs of one row.
 */
function sequence(rows: number, seed: number, opts: { revisit: number; copy: number; partitions: number }): [string, string][] {
  const r = rng(seed);
  const out: [string, string][] = [];
  const history = new Map<string, string[]>();
  let p = 0;
  while (out.length < rows) {
    const back = history.size > 0 && r() < opts.revisit;
    const pk = back ? `dev${Math.floor(r() * Math.min(p, opts.partitions))}` : `dev${p++}`;
    const keys = history.get(pk) ?? [];
    history.set(pk, keys);
    const len = r() < 0.1 ? 1 : 1 + Math.floor(r() * 60);
    for (let i = 0; i < len && out.length < rows; i++) {
      let rk: string;
      if (keys.length > 0 && r() < opts.copy) rk = keys[Math.floor(r() * keys.length)];
      else {
        rk = `vendor${Math.floor(r() * 50)}|name${Math.floor(r() * 400)}|${Math.floor(r() * 30)}.${Math.floor(r() * 9)}`;
        keys.push(rk);
      }
      out.push([pk, rk]);
    }
  }
  return out;
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dedupe-test-'));
}

describe('duplicate detector', () => {
  it.each([
    ['contiguous partitions, copies inside runs', 1, { revisit: 0, copy: 0.05, partitions: 1e9 }],
    ['partitions that come back, copies of long-gone rows', 2, { revisit: 0.3, copy: 0.2, partitions: 1e9 }],
    ['heavy interleaving of few partitions', 3, { revisit: 0.9, copy: 0.3, partitions: 40 }],
  ])('decides exactly like a set of every key: %s', (_name, seed, opts) => {
    const dir = tempDir();
    const d = new DuplicateDetector(dir);
    const reference = new Set<string>();
    const seq = sequence(30_000, seed, opts);
    let dupes = 0;
    seq.forEach(([pk, rk], i) => {
      const key = `${pk}\u0000${rk}`;
      const expected = reference.has(key);
      reference.add(key);
      const got = d.seen(pk, rk);
      if (got !== expected) throw new Error(`row ${i} (${pk}, ${rk}): detector said ${got}, reference ${expected}`);
      if (got) dupes++;
    });
    expect(dupes).toBeGreaterThan(0);
    if (opts.revisit > 0) expect(d.stats().reappearances).toBeGreaterThan(100);
    // the spill file is unlinked at once: nothing in the folder, ever
    expect(fs.readdirSync(dir)).toEqual([]);
    d.close();
    fs.rmdirSync(dir);
  });

  it('holds only the current partition in memory; the rest is 8 bytes a row on disk', () => {
    const d = new DuplicateDetector(tempDir());
    const rowsPerDevice = 30;
    let maxRun = 0;
    for (let dev = 0; dev < 5_000; dev++) {
      for (let i = 0; i < rowsPerDevice; i++) d.seen(`device-${dev}`, `vendor|product ${i}|1.0`);
      maxRun = Math.max(maxRun, d.stats().runRows);
    }
    const s = d.stats();
    expect(maxRun).toBe(rowsPerDevice);
    expect(s.partitions).toBe(5_000);
    expect(s.spilledRows).toBe(5_000 * rowsPerDevice - rowsPerDevice); // all but the open run
    expect(s.reappearances).toBe(0);
    d.close();
  });

  it('distinguishes RowKeys by digest without collisions on a large realistic key set', () => {
    const seen = new Set<string>();
    const buf = Buffer.alloc(8);
    let n = 0;
    for (let v = 0; v < 200; v++) {
      for (let p = 0; p < 100; p++) {
        for (const ver of ['1.0', '1.0.1', '10.0.19041.1', '2024.03', 'x']) {
          rowKeyDigest(`vendor${v}|product ${p}|${ver}`, buf, 0);
          seen.add(buf.toString('hex'));
          n++;
        }
      }
    }
    expect(seen.size).toBe(n);
  });

  it('refuses use after close', () => {
    const d = new DuplicateDetector(tempDir());
    d.seen('a', 'x');
    d.close();
    expect(() => d.seen('b', 'y')).toThrow(/after close/);
  });
});

describe('snapshot writer duplicates', () => {
  const table = () =>
    TableClient.fromConnectionString(
      'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;',
      'T',
      { allowInsecureConnection: true, httpClient: sink as never },
    );
  let sink = sinkHttpClient();

  function result(pk: string, rk: string): MapResult {
    const entity: InventoryEntity = { partitionKey: pk, rowKey: rk, DeviceId: pk, SoftwareVendor: 'v', SoftwareName: rk, SoftwareVersion: '1' };
    return { ok: true, entity };
  }

  async function ingest(seq: [string, string][], resumeAt?: number): Promise<Counters> {
    const checkpoints: Counters[] = [];
    const make = (start: Counters) =>
      new SnapshotWriter({
        table: table(),
        rejectsTable: table(),
        snapshotId: 's',
        fileIndex: 0,
        writeConcurrency: 4,
        segmentRows: 500,
        start,
        checkpoint: async (c) => void checkpoints.push(c),
        spillDir: os.tmpdir(),
      });
    let w = make({ lines: 0, rows: 0, rejected: 0, duplicates: 0 });
    let startAt = 0;
    if (resumeAt !== undefined) {
      // run until the first checkpoint at or past resumeAt, then "crash" and resume from it in a new writer
      for (let i = 0; i < seq.length; i++) {
        w.add(i + 1, result(...seq[i]), () => '');
        await w.maybeCommit();
        if (checkpoints.length && checkpoints[checkpoints.length - 1].lines >= resumeAt) break;
      }
      await w.drain();
      const c = checkpoints[checkpoints.length - 1];
      w = make(c);
      for (let i = 0; i < c.lines; i++) w.replay(result(...seq[i]));
      startAt = c.lines;
    }
    for (let i = startAt; i < seq.length; i++) {
      w.add(i + 1, result(...seq[i]), () => '');
      await w.maybeCommit();
    }
    await w.finish();
    return checkpoints[checkpoints.length - 1];
  }

  it('writes each key once and counts the extra copies, across partitions that come back and across segments', async () => {
    sink = sinkHttpClient();
    const seq = sequence(20_000, 5, { revisit: 0.3, copy: 0.2, partitions: 1e9 });
    const unique = new Set(seq.map(([p, r]) => `${p}\u0000${r}`)).size;
    const c = await ingest(seq);
    expect(c).toEqual({ lines: seq.length, rows: unique, rejected: 0, duplicates: seq.length - unique });
    expect(sink.operations).toBe(unique);
  });

  it('gives the same counts when resumed from a checkpoint (replay rebuilds the detector)', async () => {
    const seq = sequence(20_000, 6, { revisit: 0.3, copy: 0.2, partitions: 1e9 });
    const unique = new Set(seq.map(([p, r]) => `${p}\u0000${r}`)).size;
    sink = sinkHttpClient();
    const resumed = await ingest(seq, 9_000);
    expect(resumed).toEqual({ lines: seq.length, rows: unique, rejected: 0, duplicates: seq.length - unique });
  });
});
