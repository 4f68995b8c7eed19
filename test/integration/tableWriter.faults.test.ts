// Table Storage faults, for real: a proxy in front of Azurite's table port answers chosen transactions
// with 503/500/409 TableBeingDeleted, never answers, answers only after executing, or resets the
// connection. The writer must land every row exactly once (transactions are atomic and idempotent
// upserts), back off, give up only after a bounded number of tries, and still isolate a refused entity.
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { mapRecord } from '../../shared/ingest/recordMapper';
import { PendingEntity, writeEntities, WriteOptions } from '../../shared/storage/tableWriter';
import { useAzurite } from '../helpers/azurite';
import { records } from '../helpers/exportFixture';
import { internalError, serverBusy, startTableFaultProxy, TableFault, TableFaultProxy, tableBeingDeleted } from '../helpers/tableFaultProxy';

const azurite = useAzurite();
let proxy: TableFaultProxy;

beforeAll(async () => {
  proxy = await startTableFaultProxy(azurite().tablePort, azurite().connectionString);
});
afterAll(async () => {
  await proxy?.close();
});
beforeEach(() => proxy.setRule(() => undefined));

function pending(n: number, devices: number): PendingEntity[] {
  return records(n, devices, `f${randomUUID().slice(0, 6)}`).map((r, i) => {
    const m = mapRecord(r);
    if (!m.ok) throw new Error(m.reason);
    return { entity: m.entity, line: i + 1 };
  });
}

/** A table reached through the proxy; the SDK pipeline's own retry delays shortened so tests stay quick. */
async function proxiedTable(): Promise<{ viaProxy: TableClient; direct: TableClient }> {
  const name = `F${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const direct = TableClient.fromConnectionString(azurite().connectionString, name, { allowInsecureConnection: true });
  await direct.createTable();
  const viaProxy = TableClient.fromConnectionString(proxy.connectionString, name, {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 3, retryDelayInMs: 20, maxRetryDelayInMs: 100 },
  });
  return { viaProxy, direct };
}

async function count(t: TableClient): Promise<number> {
  let n = 0;
  for await (const _ of t.listEntities({ queryOptions: { select: ['RowKey'] } })) n++;
  return n;
}

/** Fault the batch requests whose (1-based) number is in `plan`. */
function onBatches(plan: Record<number, TableFault>): Parameters<TableFaultProxy['setRule']>[0] {
  return ({ isBatch, batchNumber }) => (isBatch && batchNumber !== undefined ? plan[batchNumber] : undefined);
}

function batchesSeen(from: number): { faulted: number; total: number } {
  const seen = proxy.requests.slice(from).filter((r) => r.batchNumber !== undefined);
  return { faulted: seen.filter((r) => r.fault).length, total: seen.length };
}

const quick = (retries: { attempt: number; delayMs: number; error: string }[]): WriteOptions => ({
  baseDelayMs: 10,
  maxDelayMs: 200,
  timeoutMs: 400,
  onRetry: (r) => retries.push(r),
});

describe('table writer under Table Storage faults', () => {
  it('retries 503 ServerBusy and 500 (the pipeline first, then the whole transaction) and lands every row once', async () => {
    const { viaProxy, direct } = await proxiedTable();
    const items = pending(300, 3); // three transactions of 100
    const before = proxy.requests.length;
    // the first transaction: 503, 503 (with Retry-After 0), then 500 ×4 — past the pipeline's 1 + 3 tries
    proxy.setRule(
      onBatches({ 1: serverBusy, 2: { ...serverBusy, retryAfterSeconds: 0 }, 3: internalError, 4: internalError, 5: internalError, 6: internalError }),
    );
    const retries: { attempt: number; delayMs: number; error: string }[] = [];
    expect(await writeEntities(viaProxy, items, 1, quick(retries))).toEqual({ written: 300, rejected: [] });
    expect(batchesSeen(before)).toEqual({ faulted: 6, total: 9 });
    expect(retries.length).toBe(1);
    expect(retries[0].error).toMatch(/500|InternalError/);
    expect(await count(direct)).toBe(300);
  });

  it('retries a transaction that timed out, also one the service had executed before its answer was lost', async () => {
    const { viaProxy, direct } = await proxiedTable();
    const items = pending(200, 2);
    const before = proxy.requests.length;
    proxy.setRule(onBatches({ 1: { kind: 'hang' }, 2: { kind: 'swallowResponse' }, 4: { kind: 'statusAfterForward', status: 500, code: 'InternalError' } }));
    const retries: { attempt: number; delayMs: number; error: string }[] = [];
    expect(await writeEntities(viaProxy, items, 1, quick(retries))).toEqual({ written: 200, rejected: [] });
    expect(retries.map((r) => r.attempt)).toEqual([1, 2]);
    expect(retries[0].error).toMatch(/abort/i);
    expect(batchesSeen(before).total).toBe(5);
    expect(await count(direct)).toBe(200); // executed twice, stored once: upserts are idempotent
  });

  it('reuses kept-alive connections: many transactions over at most WRITE_CONCURRENCY sockets', async () => {
    const { viaProxy, direct } = await proxiedTable();
    const before = { connections: proxy.connections, requests: proxy.requests.length };
    // no fault is injected here, so the production timeout applies: quick()'s 400 ms timed out transactions on a
    // loaded machine, and a retried transaction is an extra request on a fresh socket
    const retries: { attempt: number; delayMs: number; error: string }[] = [];
    expect(await writeEntities(viaProxy, pending(3000, 60), 4, { ...quick(retries), timeoutMs: 30_000 })).toEqual({ written: 3000, rejected: [] });
    expect(retries).toEqual([]);
    expect(proxy.requests.length - before.requests).toBe(60);
    expect(proxy.connections - before.connections).toBeLessThanOrEqual(4);
    expect(await count(direct)).toBe(3000);
  });

  it('retries a reset connection', async () => {
    const { viaProxy, direct } = await proxiedTable();
    proxy.setRule(onBatches({ 1: { kind: 'reset' }, 2: { kind: 'reset' } }));
    expect(await writeEntities(viaProxy, pending(150, 2), 2, quick([]))).toEqual({ written: 150, rejected: [] });
    expect(await count(direct)).toBe(150);
  });

  it('retries 409 TableBeingDeleted with growing backoff, and gives up after a bounded number of tries', async () => {
    const { viaProxy, direct } = await proxiedTable();
    let before = proxy.requests.length;
    proxy.setRule(onBatches({ 1: tableBeingDeleted, 2: tableBeingDeleted, 3: tableBeingDeleted }));
    const retries: { attempt: number; delayMs: number; error: string }[] = [];
    expect(await writeEntities(viaProxy, pending(100, 1), 1, { ...quick(retries), baseDelayMs: 40 })).toEqual({ written: 100, rejected: [] });
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(retries.every((r) => /TableBeingDeleted/.test(r.error))).toBe(true);
    retries.forEach((r, i) => expect(r.delayMs).toBeGreaterThanOrEqual(40 * 2 ** i * 0.5));
    expect(retries[2].delayMs).toBeGreaterThan(retries[0].delayMs);
    expect(batchesSeen(before)).toEqual({ faulted: 3, total: 4 });

    before = proxy.requests.length;
    proxy.setRule(({ isBatch }) => (isBatch ? tableBeingDeleted : undefined));
    const more = pending(100, 1);
    await expect(writeEntities(viaProxy, more, 1, { ...quick([]), tableBeingDeletedAttempts: 4 })).rejects.toMatchObject({
      statusCode: 409,
      code: 'TableBeingDeleted',
      message: expect.stringContaining('tried 4 times'),
    });
    expect(batchesSeen(before)).toEqual({ faulted: 4, total: 4 });
    expect(await count(direct)).toBe(100);
  });

  it('gives up on a transaction that keeps failing after maxAttempts, without counting its rows', async () => {
    const { viaProxy, direct } = await proxiedTable();
    const before = proxy.requests.length;
    proxy.setRule(({ isBatch }) => (isBatch ? serverBusy : undefined));
    await expect(writeEntities(viaProxy, pending(100, 1), 1, { ...quick([]), maxAttempts: 2 })).rejects.toMatchObject({ statusCode: 503 });
    // 2 writer attempts × (1 + 3 pipeline retries)
    expect(batchesSeen(before)).toEqual({ faulted: 8, total: 8 });
    expect(await count(direct)).toBe(0);
  });

  it('still lands the other 99 and rejects only the refused entity while faults are injected', async () => {
    const { viaProxy, direct } = await proxiedTable();
    const items = pending(100, 1);
    items[37].entity.DeviceName = 'x'.repeat(40000); // over the service's property limit
    const before = proxy.requests.length;
    proxy.setRule(onBatches({ 1: serverBusy, 3: internalError }));
    const res = await writeEntities(viaProxy, items, 2, quick([]));
    // the service names the refused operation ("37:..."), so no halving: 503, 400, then the other 99 (500, ok);
    // the refused entity alone goes as a plain upsert, not a batch
    expect(batchesSeen(before).total).toBe(4);
    expect(res.written).toBe(99);
    expect(res.rejected.map((r) => r.line)).toEqual([38]);
    expect(res.rejected[0].reason).toMatch(/refused by Table Storage: .*PropertyValueTooLarge|64KB/);
    expect(await count(direct)).toBe(99);
  });
});
