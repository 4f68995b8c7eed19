// Nothing outside the export is trusted by the worker: a message may only name the blob the timer
// registered for its file, and a download never follows a redirect, wherever it points.
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { createServices, ingestDeps, timerDeps } from '../../shared/app/appContext';
import { encodeMessage, IngestMessage, snapshotTableName } from '../../shared/core/contracts';
import { ingestExportFile } from '../../shared/ingest/fileWorker';
import { handlePoisonMessage } from '../../shared/ingest/poisonHandler';
import { runExportTimer } from '../../shared/timer/exportCollector';
import { memoryLog, silentLog } from '../../shared/core/log';
import { useAzurite } from '../helpers/azurite';
import { exportFixture, fakeDefender, gz, jsonl, nextGeneratedTime, records, testConfig } from '../helpers/exportFixture';
import { tables } from '../helpers/inventoryTables';

const azurite = useAzurite();

async function listen(
  handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void,
): Promise<{ server: Server; base: string; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}
const close = (s: Server) => new Promise<void>((r) => s.close(() => r()));

/** Run the timer on these export URLs and hand back the queued messages, in file order. */
async function arm(urls: () => string[]) {
  const services = createServices(testConfig(azurite()));
  const timer = await runExportTimer(timerDeps(services, silentLog, { defender: fakeDefender(nextGeneratedTime(), urls) }));
  const items = (await services.queue.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems;
  const messages = items.map((m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString()) as IngestMessage).sort((a, b) => a.fileIndex - b.fileIndex);
  return { services, timer, messages };
}

describe('a worker ingests only what the timer registered', () => {
  it('refuses a message whose URL names another blob on an allowed host (also in the poison queue): file row untouched, nothing downloaded, no secret logged', async () => {
    const fx = exportFixture(azurite());
    await fx.upload([gz(jsonl(records(20, 2)))]);
    const { services, timer, messages } = await arm(() => fx.urls());
    // another real blob, same allowed host, with a valid SAS
    const other = exportFixture(azurite());
    const [otherUrl] = await other.upload([gz(jsonl(records(30, 3, 'evil')))]);
    const before = (await services.catalog.getFile(timer.snapshotId, 0))!;

    const log = memoryLog();
    const forged: IngestMessage = { ...messages[0], url: otherUrl };
    const out = await ingestExportFile(encodeMessage(forged), ingestDeps(services, log));

    expect(out).toMatchObject({ status: 'skipped', detail: expect.stringMatching(/not the blob registered/) });
    const after = (await services.catalog.getFile(timer.snapshotId, 0))!;
    expect(after.etag).toBe(before.etag);
    expect(after).toMatchObject({ Status: 'queued', Attempts: 0, LinesCommitted: 0 });
    expect(await tables(azurite().connectionString).all(snapshotTableName('SoftwareInventory', timer.snapshotId))).toHaveLength(0);
    expect(log.lines.join('\n')).toMatch(/error .*message refused: its URL .* is not the blob registered/);
    expect(log.lines.join('\n')).not.toMatch(/sig=/);

    // nor does it reach the file through the poison queue
    await handlePoisonMessage(encodeMessage(forged), { catalog: services.catalog, log }, 5);
    expect((await services.catalog.getFile(timer.snapshotId, 0))!.etag).toBe(before.etag);
    expect((await services.catalog.getSnapshot('SoftwareInventory', timer.snapshotId))!.Status).toBe('ingesting');
    expect(log.lines.join('\n')).toMatch(/poison queue: .*message refused/);

    // the genuine message still works
    expect(await ingestExportFile(encodeMessage(messages[0]), ingestDeps(services, silentLog))).toMatchObject({ status: 'complete', rowsWritten: 20 });
  });

  it('accepts the registered blob whatever its SAS query and fragment (they change on every export call)', async () => {
    const fx = exportFixture(azurite());
    await fx.upload([gz(jsonl(records(12, 2)))]);
    const { services, messages } = await arm(() => fx.urls());
    const fresh = fx.urls({ expiresInMinutes: 30 })[0] + '#frag';
    expect(await ingestExportFile(encodeMessage({ ...messages[0], url: fresh }), ingestDeps(services, silentLog))).toMatchObject({
      status: 'complete',
      rowsWritten: 12,
    });
  });
});

describe('downloads never follow a redirect', () => {
  it('a 302 to another host: the second server receives no request; the file fails saying a redirect was refused', async () => {
    const target = await listen((_req, res) => res.end(gz(jsonl(records(5, 1)))));
    const origin = await listen((_req, res) => res.writeHead(302, { location: `${target.base}/exports/part-0.json.gz` }).end());
    try {
      const { services, timer, messages } = await arm(() => [`${origin.base}/tvm/part-0.json.gz?sv=x&sig=SECRETSIG`]);
      const log = memoryLog();
      const out = await ingestExportFile(encodeMessage(messages[0]), ingestDeps(services, log));
      expect(out.status).toBe('failed');
      expect(out.detail).toMatch(/refused: the server answered a redirect \(302\) to http:\/\/127.0.0.1:\d+\/exports\/part-0.json.gz, which is never followed/);
      expect(target.hits).toEqual([]);
      expect(origin.hits).toHaveLength(1);
      const f = (await services.catalog.getFile(timer.snapshotId, 0))!;
      expect(f).toMatchObject({ Status: 'failed' });
      expect(f.Error).toMatch(/redirect \(302\)/);
      expect(JSON.stringify(f) + log.lines.join('\n')).not.toContain('SECRETSIG');
    } finally {
      await close(origin.server);
      await close(target.server);
    }
  });

  it('a 307 to another path on the same host is not followed either', async () => {
    const site = await listen((req, res) => {
      if (req.url?.startsWith('/elsewhere')) res.end(gz(jsonl(records(5, 1))));
      else res.writeHead(307, { location: '/elsewhere/part-0.json.gz' }).end();
    });
    try {
      const { services, messages } = await arm(() => [`${site.base}/tvm/part-0.json.gz?sig=S`]);
      const out = await ingestExportFile(encodeMessage(messages[0]), ingestDeps(services, silentLog));
      expect(out).toMatchObject({ status: 'failed', detail: expect.stringMatching(/redirect \(307\)/) });
      expect(site.hits.filter((h) => h.startsWith('/elsewhere'))).toEqual([]);
    } finally {
      await close(site.server);
    }
  });
});
