import { randomBytes } from 'node:crypto';
import { createServices, ingestDeps, timerDeps } from '../../shared/app/appContext';
import { BlobGoneError, downloadBlob, ExpiredUrlError } from '../../shared/ingest/blobDownload';
import { ingestExportFile } from '../../shared/ingest/fileWorker';
import { runExportTimer } from '../../shared/timer/exportCollector';
import { memoryLog, silentLog } from '../../shared/core/log';
import { useAzurite } from '../helpers/azurite';
import { startDropProxy } from '../helpers/dropProxy';
import { collect, exportFixture, fakeDefender, gz, jsonl, nextGeneratedTime, records, testConfig } from '../helpers/exportFixture';

const azurite = useAzurite();
const noSleep = async () => undefined;

describe('blob download', () => {
  it('resumes a dropped connection at the byte offset: every byte once, in order', async () => {
    const body = randomBytes(3 * 1024 * 1024);
    const fx = exportFixture(azurite());
    const [url] = await fx.upload([body]);
    const proxy = await startDropProxy(azurite().blobPort, { dropAfterBytes: 700 * 1024, dropTimes: 2, onlyGet: true });
    try {
      const log = memoryLog();
      const viaProxy = url.replace(`:${azurite().blobPort}/`, `:${proxy.port}/`);
      const { chunks, progress } = downloadBlob(viaProxy, { log, sleep: noSleep });
      const got = await collect(chunks);
      expect(proxy.drops).toBe(2);
      expect(progress.resumes).toBe(2);
      expect(got.equals(body)).toBe(true);
      expect(log.lines.filter((l) => l.includes('resuming'))).toHaveLength(2);
      expect(log.lines.join('\n')).not.toMatch(/sig=(?!REDACTED)/);
    } finally {
      await proxy.close();
    }
  });

  it('gives up after too many drops instead of mistaking a drop for the end of the file', async () => {
    const fx = exportFixture(azurite());
    const [url] = await fx.upload([randomBytes(512 * 1024)]);
    const proxy = await startDropProxy(azurite().blobPort, { dropAfterBytes: 0, dropTimes: 100, onlyGet: true });
    try {
      const { chunks } = downloadBlob(url.replace(`:${azurite().blobPort}/`, `:${proxy.port}/`), { log: silentLog, sleep: noSleep, maxResumes: 3 });
      await expect(collect(chunks)).rejects.toThrow(/dropped 4 times/);
    } finally {
      await proxy.close();
    }
  });

  it('classifies 403 (expired SAS) and 404, with the query string kept out of the message', async () => {
    const fx = exportFixture(azurite());
    await fx.upload([Buffer.from('x')]);
    const [expired] = fx.urls({ expiresInMinutes: -1 });
    const err = await collect(downloadBlob(expired, { log: silentLog, sleep: noSleep }).chunks).catch((e) => e);
    expect(err).toBeInstanceOf(ExpiredUrlError);
    expect(String(err.message)).not.toContain('sig=');
    const [missing] = fx.urls();
    await fx.remove(0);
    await expect(collect(downloadBlob(missing, { log: silentLog, sleep: noSleep }).chunks)).rejects.toBeInstanceOf(BlobGoneError);
  });

  it('reads a zero-byte blob as empty', async () => {
    const fx = exportFixture(azurite());
    const [url] = await fx.upload([Buffer.alloc(0)]);
    expect((await collect(downloadBlob(url, { log: silentLog }).chunks)).length).toBe(0);
  });

  it('ingests a file whose download drops mid-stream with no lost or duplicated line', async () => {
    const recs = records(6000, 60); // ~2 MB of JSON; gzip of varied records stays large enough to cut
    const config = testConfig(azurite());
    const fx = exportFixture(azurite());
    await fx.upload([gz(jsonl(recs))]);
    const proxy = await startDropProxy(azurite().blobPort, { dropAfterBytes: 16 * 1024, dropTimes: 3, onlyGet: true });
    try {
      const services = createServices(config);
      const defender = fakeDefender(nextGeneratedTime(), () => fx.urls().map((u) => u.replace(`:${azurite().blobPort}/`, `:${proxy.port}/`)));
      const timer = await runExportTimer(timerDeps(services, silentLog, { defender }));
      const [m] = (await services.queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
      const out = await ingestExportFile(m.messageText, ingestDeps(services, silentLog, { limits: { segmentRows: 500 } }));
      expect(out.status).toBe('complete');
      expect(proxy.drops).toBe(3);
      const snap = await services.catalog.getSnapshot('SoftwareInventory', timer.snapshotId);
      expect(snap).toMatchObject({ Status: 'complete', RowCount: 6000, DuplicateCount: 0, RejectedCount: 0 });
    } finally {
      await proxy.close();
    }
  });
});
