import { TableClient } from '@azure/data-tables';
import { randomUUID } from 'node:crypto';
import { mapRecord } from '../../shared/ingest/recordMapper';
import { PendingEntity, planBatches, writeEntities } from '../../shared/storage/tableWriter';
import { useAzurite } from '../helpers/azurite';
import { records } from '../helpers/exportFixture';

const azurite = useAzurite();

function pending(n: number, devices: number): PendingEntity[] {
  return records(n, devices).map((r, i) => {
    const m = mapRecord(r);
    if (!m.ok) throw new Error(m.reason);
    return { entity: m.entity, line: i + 1 };
  });
}

async function freshTable(): Promise<TableClient> {
  const t = TableClient.fromConnectionString(azurite().connectionString, `W${randomUUID().replace(/-/g, '').slice(0, 12)}`, { allowInsecureConnection: true });
  await t.createTable();
  return t;
}

describe('table writer', () => {
  it('plans transactions of ≤100 entities, one partition each, each RowKey once', () => {
    const items = pending(1050, 3);
    items.push({ ...items[0], line: 9999 }); // same keys again: must go to another transaction
    const batches = planBatches(items);
    for (const b of batches) {
      expect(b.length).toBeLessThanOrEqual(100);
      expect(new Set(b.map((x) => x.entity.partitionKey)).size).toBe(1);
      expect(new Set(b.map((x) => x.entity.rowKey)).size).toBe(b.length);
    }
    expect(batches.reduce((n, b) => n + b.length, 0)).toBe(1051);
  });

  it('keeps a transaction under 4 MiB when entities are large', () => {
    const big = 'x'.repeat(30000);
    const items = pending(100, 1).map((p) => ({ ...p, entity: { ...p.entity, DiskPaths: big, RegistryPaths: big } }));
    const batches = planBatches(items);
    expect(batches.length).toBeGreaterThan(1);
  });

  it('writes every entity as upserts and is idempotent', async () => {
    const t = await freshTable();
    const items = pending(730, 4);
    expect(await writeEntities(t, items, 4)).toEqual({ written: 730, rejected: [] });
    expect(await writeEntities(t, items, 4)).toEqual({ written: 730, rejected: [] });
    let n = 0;
    for await (const _ of t.listEntities()) n++;
    expect(n).toBe(730);
  });

  it('isolates an entity the service refuses: the other 99 still land, only the bad one is rejected', async () => {
    const t = await freshTable();
    const items = pending(100, 1);
    // a property over the service's 64 KiB limit, injected past the mapper as a stand-in for any service-side refusal
    items[37].entity.DeviceName = 'x'.repeat(40000);
    const res = await writeEntities(t, items, 2);
    expect(res.written).toBe(99);
    expect(res.rejected.map((r) => r.line)).toEqual([38]);
    expect(res.rejected[0].reason).toMatch(/refused by Table Storage/);
    let n = 0;
    for await (const _ of t.listEntities()) n++;
    expect(n).toBe(99);
  });
});
