import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { BlobGoneError, downloadBlob } from '../../shared/ingest/blobDownload';
import { silentLog } from '../../shared/core/log';
import { ensureTable, storageClients } from '../../shared/storage/storageClients';
import { useAzurite } from '../helpers/azurite';
import { startTableFaultProxy, tableBeingDeleted } from '../helpers/tableFaultProxy';

const azurite = useAzurite();

describe('storage edge cases', () => {
  it('creating a table waits out 409 TableBeingDeleted (a table dropped moments ago), within a bound', async () => {
    let creates = 0;
    const proxy = await startTableFaultProxy(azurite().tablePort, azurite().connectionString, (req) =>
      req.method === 'POST' && /\/Tables/.test(req.url) && ++creates <= 2 ? tableBeingDeleted : undefined,
    );
    try {
      const clients = storageClients({ kind: 'connectionString', setting: 'AzureWebJobsStorage', connectionString: proxy.connectionString });
      const name = `T${randomUUID().replace(/-/g, '').slice(0, 10)}`;
      const waits: number[] = [];
      await ensureTable(clients, name, async (ms) => {
        waits.push(ms);
      });
      expect(waits).toEqual([1000, 2000]);
      await ensureTable(clients, name); // exists now: still fine
      let found = false;
      for await (const t of clients.tableService.listTables()) if (t.name === name) found = true;
      expect(found).toBe(true);

      proxy.setRule((req) => (req.method === 'POST' && /\/Tables/.test(req.url) ? tableBeingDeleted : undefined));
      await expect(ensureTable(clients, `${name}x`, async () => undefined)).rejects.toMatchObject({ statusCode: 409 });
    } finally {
      await proxy.close();
    }
  });

  it('a permanent 4xx on download (e.g. 409 BlobArchived) fails the file at once instead of being retried', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.writeHead(409, { 'content-type': 'application/xml', 'x-ms-error-code': 'BlobArchived' });
      res.end(
        '<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobArchived</Code><Message>This operation is not permitted on an archived blob.</Message></Error>',
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/devstoreaccount1/c/part-0.json.gz?sv=2024&sig=SECRETSIG`;
      const err = await (async () => {
        for await (const _ of downloadBlob(url, { log: silentLog, sleep: async () => undefined }).chunks) void _;
      })().catch((e: Error) => e);
      expect(err).toBeInstanceOf(BlobGoneError);
      expect(String((err as Error).message)).toMatch(/refused.*409/);
      expect(String((err as Error).message)).not.toContain('SECRETSIG');
      expect(hits).toBe(1);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
