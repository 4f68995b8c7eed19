// A download's resume budget is spent only by drops that made no progress, and a file is only ever
// the lines of one blob: a later download that finds a different blob at the same path starts over.
import { randomBytes } from 'node:crypto';
import { BlockBlobClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { createServices, ingestDeps, timerDeps } from '../../shared/app/appContext';
import { downloadBlob } from '../../shared/ingest/blobDownload';
import { odata } from '@azure/data-tables';
import { IngestMessage, REJECTS_TABLE, snapshotTableName } from '../../shared/core/contracts';
import { ingestExportFile } from '../../shared/ingest/fileWorker';
import { runExportTimer } from '../../shared/timer/exportCollector';
import { stripQuery } from '../../shared/core/redact';
import { memoryLog, silentLog } from '../../shared/core/log';
import { AZURITE_ACCOUNT, AZURITE_KEY } from '../../tools/runner/azurite';
import { useAzurite } from '../helpers/azurite';
import { startDropProxy } from '../helpers/dropProxy';
import { collect, exportFixture, fakeDefender, gz, jsonl, nextGeneratedTime, records, testConfig } from '../helpers/exportFixture';
import { tables } from '../helpers/inventoryTables';

const azurite = useAzurite();
const noSleep = async () => undefined;

describe('download resume budget', () => {
  it('more drops than the budget, each after progress, still completes with every byte once', async () => {
    const body = randomBytes(1024 * 1024);
    const fx = exportFixture(azurite());
    const [url] = await fx.upload([body]);
    // every connection is cut after 64 KiB: ~16 drops against a budget of 2
    const proxy = await startDropProxy(azurite().blobPort, { dropAfterBytes: 64 * 1024, dropTimes: 1000, onlyGet: true });
    try {
      const { chunks, progress } = downloadBlob(url.replace(`:${azurite().blobPort}/`, `:${proxy.port}/`), { log: silentLog, sleep: noSleep, maxResumes: 2 });
      const got = await collect(chunks);
      expect(got.equals(body)).toBe(true);
      expect(proxy.drops).toBeGreaterThan(10);
      expect(progress.resumes).toBe(proxy.drops);
    } finally {
      await proxy.close();
    }
  });

  it('drops without progress still give up once the budget is spent, even after earlier progress', async () => {
    const fx = exportFixture(azurite());
    const [url] = await fx.upload([randomBytes(512 * 1024)]);
    // the first connection delivers 100 KiB; every later one is cut before a single byte
    const proxy = await startDropProxy(azurite().blobPort, { dropAfterBytes: 0, dropTimes: 1000, onlyGet: true, cutAt: (c) => (c === 0 ? 100 * 1024 : 0) });
    try {
      const { chunks, progress } = downloadBlob(url.replace(`:${azurite().blobPort}/`, `:${proxy.port}/`), { log: silentLog, sleep: noSleep, maxResumes: 2 });
      await expect(collect(chunks)).rejects.toThrow(/dropped 3 times in a row without receiving a byte \(4 drops in all\)/);
      expect(progress.bytes).toBeGreaterThan(90 * 1024);
    } finally {
      await proxy.close();
    }
  });
});

const rejectsOf = (snapshotId: string) => tables(azurite().connectionString).all(REJECTS_TABLE, odata`PartitionKey eq ${snapshotId}`);

describe('blob identity', () => {
  it('a continuation that finds a different blob at the same path restarts the file from zero: exact rows and counters', async () => {
    const services = createServices(testConfig(azurite()));
    const fx = exportFixture(azurite());
    const old = records(300, 10).map((r) => ({ ...r, deviceName: 'old' }));
    // the old blob also has two bad lines among its first 100 (rejects of lines the new blob does not have)
    const oldText = jsonl(old.slice(0, 30)) + '{"broken\n' + jsonl(old.slice(30, 60)) + '{"deviceId":1}\n' + jsonl(old.slice(60));
    const [url] = await fx.upload([gz(oldText)]);
    const timer = await runExportTimer(timerDeps(services, silentLog, { defender: fakeDefender(nextGeneratedTime(), () => fx.urls()) }));
    const [first] = (await services.queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
    await services.queue.deleteMessage(first.messageId, first.popReceipt);

    // a time budget of 0: one 100-row segment, then a continuation message
    const part = await ingestExportFile(first.messageText, ingestDeps(services, silentLog, { timeBudgetMs: 0, limits: { segmentRows: 100 } }));
    expect(part.status).toBe('continued');
    const partial = (await services.catalog.getFile(timer.snapshotId, 0))!;
    expect(partial).toMatchObject({ LinesCommitted: 100, RowsWritten: 98, Rejected: 2, BlobLength: gz(oldText).length });
    expect(await rejectsOf(timer.snapshotId)).toHaveLength(2);
    expect(partial.BlobEtag).toMatch(/./);

    // the export is regenerated in place: same path, other content (same keys, other order and values)
    const replaced = [...old].reverse().map((r) => ({ ...r, deviceName: 'new' }));
    await new BlockBlobClient(stripQuery(url), new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY)).uploadData(gz(jsonl(replaced)));

    const [cont] = (await services.queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
    expect((JSON.parse(Buffer.from(cont.messageText, 'base64').toString()) as IngestMessage).fileIndex).toBe(0);
    const log = memoryLog();
    expect(await ingestExportFile(cont.messageText, ingestDeps(services, log))).toMatchObject({ status: 'complete', rowsWritten: 300 });
    expect(log.lines.join('\n')).toMatch(/warn .*the blob changed since this file was started .*; starting it again from line 0/);

    const f = (await services.catalog.getFile(timer.snapshotId, 0))!;
    expect(f).toMatchObject({ Status: 'complete', LinesCommitted: 300, RowsWritten: 300, Rejected: 0, Duplicates: 0, BlobLength: gz(jsonl(replaced)).length });
    expect(f.BlobEtag).not.toBe(partial.BlobEtag);
    const rows = await tables(azurite().connectionString).all<{ DeviceName: string }>(snapshotTableName('SoftwareInventory', timer.snapshotId));
    expect(rows).toHaveLength(300);
    expect(rows.every((r) => r.DeviceName === 'new')).toBe(true);
    expect(await rejectsOf(timer.snapshotId)).toHaveLength(0);
    expect(await services.catalog.getSnapshot('SoftwareInventory', timer.snapshotId)).toMatchObject({ Status: 'complete', RowCount: 300, FilesCompleted: 1 });
  });

  it('a continuation of the same blob resumes after its checkpoint (the identity matches)', async () => {
    const services = createServices(testConfig(azurite()));
    const fx = exportFixture(azurite());
    await fx.upload([gz(jsonl(records(250, 10)))]);
    const timer = await runExportTimer(timerDeps(services, silentLog, { defender: fakeDefender(nextGeneratedTime(), () => fx.urls()) }));
    const [first] = (await services.queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
    await services.queue.deleteMessage(first.messageId, first.popReceipt);
    expect(await ingestExportFile(first.messageText, ingestDeps(services, silentLog, { timeBudgetMs: 0, limits: { segmentRows: 100 } }))).toMatchObject({
      status: 'continued',
    });
    const [cont] = (await services.queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
    const log = memoryLog();
    expect(await ingestExportFile(cont.messageText, ingestDeps(services, log))).toMatchObject({ status: 'complete', rowsWritten: 250 });
    expect(log.lines.join('\n')).toMatch(/resuming after line 100/);
    expect((await services.catalog.getFile(timer.snapshotId, 0))!).toMatchObject({ Status: 'complete', LinesCommitted: 250, RowsWritten: 250 });
  });
});
