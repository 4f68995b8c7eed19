// The snapshot writer streams transactions while it reads: few entities wait, at most WRITE_CONCURRENCY
// transactions are in flight, and every checkpoint still describes exactly the lines before it, even when
// transactions complete out of order.
import { TableClient } from '@azure/data-tables';
import { InventoryEntity } from '../../shared/core/contracts';
import { MapResult } from '../../shared/ingest/recordMapper';
import { Counters, Slots, SnapshotWriter } from '../../shared/ingest/snapshotWriter';
import { CapturedRequest, sinkHttpClient } from '../../tools/bench/sink';

const CS = 'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;';

/** Row lines acknowledged in a request (RowKeys are `r<line>`). */
function linesIn(r: CapturedRequest): number[] {
  return [...r.body.matchAll(/RowKey='r(\d+)'/g), ...r.url.matchAll(/RowKey='r(\d+)'/g)].map((m) => Number(m[1]));
}

function entity(line: number, device: number): MapResult {
  const e: InventoryEntity = {
    partitionKey: `dev${device}`,
    rowKey: `r${line}`,
    DeviceId: `dev${device}`,
    SoftwareVendor: 'v',
    SoftwareName: `n${line}`,
    SoftwareVersion: '1',
  };
  return { ok: true, entity: e };
}

describe('snapshot writer streaming', () => {
  it('keeps few rows waiting, bounds transactions in flight, and checkpoints only what is acknowledged', async () => {
    const acked = new Set<number>();
    let inFlight = 0;
    let maxInFlight = 0;
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const sink = sinkHttpClient({
      delayMs: () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        return 1 + Math.floor(rand() * 15); // out-of-order completion
      },
      onAnswer: (r) => {
        inFlight--;
        for (const l of linesIn(r)) acked.add(l);
      },
    });
    const table = TableClient.fromConnectionString(CS, 'T', { allowInsecureConnection: true, httpClient: sink as never });
    const checkpoints: Counters[] = [];
    const added: number[] = [];
    const writer = new SnapshotWriter({
      table,
      rejectsTable: table,
      snapshotId: 's',
      fileIndex: 0,
      writeConcurrency: 4,
      segmentRows: 700,
      openRows: 300,
      start: { lines: 0, rows: 0, rejected: 0, duplicates: 0 },
      checkpoint: async (c) => {
        // every row at or before the checkpoint's line has been acknowledged by the service
        const missing = added.filter((l) => l <= c.lines && !acked.has(l));
        expect(missing).toEqual([]);
        checkpoints.push(c);
      },
    });
    let maxWaiting = 0;
    let line = 0;
    for (let device = 0; device < 300; device++) {
      const rows = 1 + ((device * 37) % 140); // 1..140 rows: some devices need two transactions
      for (let i = 0; i < rows; i++) {
        line++;
        writer.add(line, entity(line, device), () => '');
        added.push(line);
        await writer.maybeCommit();
        maxWaiting = Math.max(maxWaiting, added.length - acked.size);
      }
    }
    await writer.finish();
    expect(acked.size).toBe(line);
    expect(maxInFlight).toBeLessThanOrEqual(4);
    // waiting: ≤ openRows in unsent transactions, + one transaction being filled, + 4 in flight
    expect(maxWaiting).toBeLessThanOrEqual(300 + 100 + 4 * 100);
    expect(checkpoints.map((c) => c.lines)).toEqual([...checkpoints.map((c) => c.lines)].sort((a, b) => a - b));
    expect(checkpoints[checkpoints.length - 1]).toEqual({ lines: line, rows: line, rejected: 0, duplicates: 0 });
    expect(checkpoints.length).toBeGreaterThan(10);
  });

  it('writers sharing one budget of slots (the local runner) never exceed it together, and the last one running gets all of it', async () => {
    const budget = new Slots(8);
    let total = 0;
    let maxTotal = 0;
    const inFlight = { a: 0, b: 0 };
    const maxAlone = { a: 0, b: 0 };
    const finished = { a: false, b: false };
    const writerFor = (name: 'a' | 'b') => {
      const sink = sinkHttpClient({
        delayMs: () => {
          inFlight[name]++;
          maxTotal = Math.max(maxTotal, ++total);
          // in flight while the other writer is done: the tail of a run
          if (finished[name === 'a' ? 'b' : 'a']) maxAlone[name] = Math.max(maxAlone[name], inFlight[name]);
          return 3;
        },
        onAnswer: () => {
          inFlight[name]--;
          total--;
        },
      });
      const table = TableClient.fromConnectionString(CS, name, { allowInsecureConnection: true, httpClient: sink as never });
      const checkpoints: Counters[] = [];
      const writer = new SnapshotWriter({
        table,
        rejectsTable: table,
        snapshotId: 's',
        fileIndex: name === 'a' ? 0 : 1,
        writeConcurrency: 4,
        slots: budget,
        segmentRows: 1000,
        start: { lines: 0, rows: 0, rejected: 0, duplicates: 0 },
        checkpoint: async (c) => void checkpoints.push(c),
      });
      return { writer, checkpoints };
    };
    const feed = async (name: 'a' | 'b', devices: number) => {
      const { writer, checkpoints } = writerFor(name);
      let line = 0;
      for (let device = 0; device < devices; device++) {
        for (let i = 0; i < 100; i++) {
          line++;
          writer.add(line, entity(line, device), () => '');
          await writer.maybeCommit();
        }
      }
      await writer.finish();
      finished[name] = true;
      return checkpoints[checkpoints.length - 1];
    };
    const [a, b] = await Promise.all([feed('a', 120), feed('b', 20)]);
    expect(a).toEqual({ lines: 12_000, rows: 12_000, rejected: 0, duplicates: 0 });
    expect(b).toEqual({ lines: 2_000, rows: 2_000, rejected: 0, duplicates: 0 });
    expect(maxTotal).toBeLessThanOrEqual(8);
    // alone, the longer file used more than the 4 slots of its own a writer would have had
    expect(maxAlone.a).toBeGreaterThan(4);
  });

  it('surfaces a failed transaction at the next call, without waiting for the segment to end', async () => {
    let calls = 0;
    const failing = {
      async sendRequest(request: { url: string }) {
        calls++;
        throw Object.assign(new Error('socket hang up'), { name: 'Error', code: 'EPROTO', request });
      },
    };
    const table = TableClient.fromConnectionString(CS, 'T', { allowInsecureConnection: true, httpClient: failing, retryOptions: { maxRetries: 0 } });
    const writer = new SnapshotWriter({
      table,
      rejectsTable: table,
      snapshotId: 's',
      fileIndex: 0,
      writeConcurrency: 2,
      segmentRows: 100_000,
      start: { lines: 0, rows: 0, rejected: 0, duplicates: 0 },
      checkpoint: async () => undefined,
      write: { maxAttempts: 1 },
    });
    let thrown: unknown;
    for (let line = 1; line <= 5000 && !thrown; line++) {
      writer.add(line, entity(line, Math.floor(line / 100)), () => '');
      await writer.maybeCommit().catch((e: unknown) => (thrown = e));
    }
    expect(String(thrown)).toMatch(/socket hang up/);
    expect(calls).toBeLessThan(10);
    await expect(writer.drain()).rejects.toThrow(/socket hang up/);
  });
});
