// The query CLI's table reader: a whole-table read split into PartitionKey ranges read at once must yield
// exactly what one sequential stream yields, in the same order, whatever the keys look like; it must read
// only a bounded number of pages ahead, and stop reading when its consumer stops.
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { NotFoundError } from '../../tools/query/errors';
import { HEX_SPLITS, rangeFilters, readAll, readEntities } from '../../tools/query/tableRead';
import { azuriteConnectionString } from '../../tools/runner/azurite';
import { useAzurite } from '../helpers/azurite';
import { startFaultProxy } from '../helpers/faultProxy';

const azurite = useAzurite();

// hex device ids, and everything else a key could start with: upper case, punctuation below and above the
// digits, the split points themselves, escapes, non-ASCII, a quote. Not '': an empty DeviceId is a reject,
// and paging past an empty PartitionKey loses rows even in one stream (the SDK takes '' for "no continuation").
const ODD_KEYS = ['0', '1', '10', '9zz', 'a', 'A', 'F0', 'f', 'f~~~', 'g', 'Z', '!', '~', '%2F00', 'é', "o'brien", '0'.repeat(40), 'f'.repeat(40)];

async function tableWith(keys: string[], rowsPerKey: number): Promise<TableClient> {
  const table = TableClient.fromConnectionString(azurite().connectionString, `read${randomUUID().replace(/-/g, '').slice(0, 12)}`, {
    allowInsecureConnection: true,
  });
  await table.createTable();
  for (const pk of keys) {
    const rows = Array.from({ length: rowsPerKey }, (_, i) => ({
      partitionKey: pk,
      rowKey: String(i).padStart(4, '0'),
      Name: i % 3 === 0 ? 'chrome' : 'edge',
      N: i,
    }));
    for (let i = 0; i < rows.length; i += 100) await table.submitTransaction(rows.slice(i, i + 100).map((e) => ['upsert', e] as ['upsert', typeof e]));
  }
  return table;
}

const keysOf = (rows: { partitionKey: string; rowKey: string }[]) => rows.map((r) => `${r.partitionKey}|${r.rowKey}`);

describe('rangeFilters', () => {
  it('covers the key space from below the first split to above the last, each range ANDed with the filter', () => {
    expect(rangeFilters(undefined, ['m'])).toEqual(["PartitionKey lt 'm'", "PartitionKey ge 'm'"]);
    expect(rangeFilters("Name eq 'x'", ['1', '2'])).toEqual([
      "(Name eq 'x') and PartitionKey lt '1'",
      "(Name eq 'x') and PartitionKey ge '1' and PartitionKey lt '2'",
      "(Name eq 'x') and PartitionKey ge '2'",
    ]);
    expect(rangeFilters(undefined, ["o'"])[1]).toBe("PartitionKey ge 'o'''");
    expect(rangeFilters(undefined, HEX_SPLITS)).toHaveLength(16);
  });
});

describe('readEntities over key ranges', () => {
  it('yields exactly the sequential stream, in the same order, for any key, with and without a filter and a select', async () => {
    const hex = Array.from({ length: 40 }, (_, i) => ((i * 2654435761) >>> 0).toString(16).padStart(8, '0'));
    const table = await tableWith([...ODD_KEYS, ...hex], 7);
    const sequential = await readAll<{ Name: string; N: number }>(table, 't');
    expect(sequential).toHaveLength((ODD_KEYS.length + hex.length) * 7);
    const ranges = await readAll<{ Name: string; N: number }>(table, 't', { scan: true, pageSize: 5 });
    expect(keysOf(ranges)).toEqual(keysOf(sequential));
    expect(ranges.map((r) => [r.Name, r.N])).toEqual(sequential.map((r) => [r.Name, r.N]));

    const filter = "Name eq 'chrome'";
    const select = ['PartitionKey', 'RowKey', 'N'];
    const a = await readAll<{ N: number }>(table, 't', { filter, select });
    const b = await readAll<{ N: number }>(table, 't', { filter, select, scan: { splits: ['5', 'f', 'g~'] }, pageSize: 3 });
    expect(a.length).toBeGreaterThan(0);
    expect(keysOf(b)).toEqual(keysOf(a));
    expect(b.every((r) => (r as Record<string, unknown>).Name === undefined)).toBe(true);
  });

  it('reads at most pagesAhead pages ahead of its reader, and nothing more once the reader stops', async () => {
    const table = await tableWith(['1a', '9b'], 60);
    const proxy = await startFaultProxy(azurite().tablePort);
    try {
      const viaProxy = TableClient.fromConnectionString(azuriteConnectionString(azurite().blobPort, azurite().queuePort, proxy.port), table.tableName, {
        allowInsecureConnection: true,
      });
      const gets = () => proxy.requests.filter((r) => r.method === 'GET').length;
      // 2 ranges ('5' splits them) of 60 rows, 5 per page: 12 pages each
      const reader = readEntities(viaProxy, 't', { scan: { splits: ['5'] }, pageSize: 5, pagesAhead: 2 });
      const first = await reader.next();
      expect(first.value!.partitionKey).toBe('1a');
      await new Promise((r) => setTimeout(r, 300)); // let the producers run as far as they may
      // per range: the pages buffered (2) plus one handed to the reader; never the 24 pages of the table
      expect(gets()).toBeLessThanOrEqual(2 * (2 + 1));
      await reader.return(undefined); // the reader stops early
      const after = gets();
      await new Promise((r) => setTimeout(r, 300));
      expect(gets()).toBe(after);
    } finally {
      await proxy.close();
    }
  });

  it('walks many pages per range to the end, and names a missing table', async () => {
    const table = await tableWith(['00', '55', 'aa', 'ff'], 33);
    const all = await readAll(table, 't', { scan: true, pageSize: 4, pagesAhead: 1 });
    expect(all).toHaveLength(4 * 33);
    const gone = TableClient.fromConnectionString(azurite().connectionString, 'NoSuchTable123', { allowInsecureConnection: true });
    await expect(readAll(gone, '202601010000', { scan: true })).rejects.toThrow(NotFoundError);
    await expect(readAll(gone, '202601010000', { scan: true })).rejects.toThrow(/snapshot 202601010000: table NoSuchTable123 does not exist/);
  });
});
