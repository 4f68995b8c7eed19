// Download and file-content faults through the real worker: each file ends complete, failed or
// expired with a precise reason, and nothing else in the snapshot is disturbed.
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createServices, ingestDeps, timerDeps } from '../../shared/app/appContext';
import { IngestMessage } from '../../shared/core/contracts';
import { ingestExportFile, IngestLimits } from '../../shared/ingest/fileWorker';
import { runExportTimer } from '../../shared/timer/exportCollector';
import { memoryLog, silentLog } from '../../shared/core/log';
import { useAzurite } from '../helpers/azurite';
import { exportFixture, fakeDefender, gz, jsonl, nextGeneratedTime, records, testConfig } from '../helpers/exportFixture';

const azurite = useAzurite();

/** Register an export of these files and hand back one message per file plus the services. */
async function armed(files: Buffer[]) {
  const config = testConfig(azurite());
  const services = createServices(config);
  const fx = exportFixture(azurite());
  await fx.upload(files);
  const timer = await runExportTimer(timerDeps(services, silentLog, { defender: fakeDefender(nextGeneratedTime(), () => fx.urls()) }));
  const items = (await services.queue.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems;
  const messages = items.map((m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString()) as IngestMessage).sort((a, b) => a.fileIndex - b.fileIndex);
  const ingest = (i: number, limits: Partial<IngestLimits> = {}, log = silentLog) => ingestExportFile(messages[i], ingestDeps(services, log, { limits }));
  return { services, timer, fx, messages, ingest };
}

describe('download and file-content faults', () => {
  it('404: the file and the snapshot are failed with the reason; other files still complete', async () => {
    const { services, timer, fx, ingest } = await armed([gz(jsonl(records(10, 2))), gz(jsonl(records(10, 2, 'z')))]);
    await fx.remove(0);
    expect(await ingest(0)).toMatchObject({ status: 'failed' });
    expect(await ingest(1)).toMatchObject({ status: 'complete' });
    const [f0, f1] = await services.catalog.listFiles(timer.snapshotId);
    expect(f0).toMatchObject({ Status: 'failed' });
    expect(f0.Error).toMatch(/not found \(404\)/);
    expect(f1).toMatchObject({ Status: 'complete', RowsWritten: 10 });
    const snap = await services.catalog.getSnapshot('SoftwareInventory', timer.snapshotId);
    expect(snap).toMatchObject({ Status: 'failed' });
    expect(snap!.Error).toMatch(/^file 0: .*404/);
  });

  it('truncated gzip: rows before the cut are committed, the file fails with a gzip reason', async () => {
    const whole = gz(jsonl(records(3000, 30)));
    const { services, timer, ingest } = await armed([whole.subarray(0, Math.floor(whole.length * 0.6))]);
    const out = await ingest(0, { segmentRows: 500 });
    expect(out.status).toBe('failed');
    const [f] = await services.catalog.listFiles(timer.snapshotId);
    expect(f.Error).toMatch(/not a valid gzip file \(Z_BUF_ERROR/);
    expect(f.LinesCommitted).toBeGreaterThan(0);
    expect((await services.catalog.getSnapshot('SoftwareInventory', timer.snapshotId))!.Status).toBe('failed');
  });

  it('corrupt gzip: failed with a gzip reason, never a crash', async () => {
    const bad = Buffer.from(gz(jsonl(records(500, 5))));
    for (let i = 40; i < bad.length - 20; i += 97) bad[i] ^= 0x5a;
    const { services, timer, ingest } = await armed([bad]);
    expect(await ingest(0)).toMatchObject({ status: 'failed' });
    const [f] = await services.catalog.listFiles(timer.snapshotId);
    expect(f.Error).toMatch(/not a valid gzip file \(Z_DATA_ERROR/);
  });

  it('a file that is not gzip at all is failed with a clear reason', async () => {
    const { services, timer, ingest } = await armed([Buffer.from(jsonl(records(5, 1)))]);
    expect(await ingest(0)).toMatchObject({ status: 'failed' });
    expect((await services.catalog.listFiles(timer.snapshotId))[0].Error).toMatch(/not a valid gzip file/);
  });

  it('gzip bomb: the decompressed-size cap and the ratio cap stop it with a reason', async () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20)); // 8 MiB of spaces → ~8 KiB
    const { services, timer, ingest } = await armed([bomb, bomb]);
    expect(await ingest(0, { maxDecompressedBytes: 2 * 1024 * 1024 })).toMatchObject({ status: 'failed' });
    expect(await ingest(1, { ratioCheckAfterBytes: 1024 * 1024, maxCompressionRatio: 100 })).toMatchObject({ status: 'failed' });
    const [f0, f1] = await services.catalog.listFiles(timer.snapshotId);
    expect(f0.Error).toMatch(/decompressed size passed the 2097152-byte cap \(gzip bomb guard\)/);
    expect(f1.Error).toMatch(/compression ratio passed 100:1 \(gzip bomb guard\)/);
  });

  it('a line over the size cap is rejected without buffering it; the rest of the file lands', async () => {
    const recs = records(40, 4);
    const huge = JSON.stringify({ ...recs[0], softwareVersion: 'v'.repeat(200_000) });
    const text = jsonl(recs.slice(0, 20)) + huge + '\n' + jsonl(recs.slice(20));
    const { services, timer, ingest } = await armed([gz(text)]);
    expect(await ingest(0, { maxLineBytes: 64 * 1024 })).toMatchObject({ status: 'complete' });
    const [f] = await services.catalog.listFiles(timer.snapshotId);
    expect(f).toMatchObject({ Status: 'complete', RowsWritten: 40, Rejected: 1 });
    const reject = await services.catalog.rejects.getEntity<{ Reason: string; Excerpt: string }>(timer.snapshotId, '00000-0000000021');
    expect(reject.Reason).toMatch(/line is 20\d{4} bytes, over the 65536-byte cap/);
    expect(reject.Excerpt.length).toBe(1000);
  });

  it('refuses a URL on a disallowed host before any request is made to it (SSRF guard)', async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.end('no');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      // registered by the timer as Defender's (a fake Defender skips the client's own check), so the worker's guard decides
      const evilUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/latest/meta-data?sig=SECRETSIG`;
      const services = createServices(testConfig(azurite()));
      const timer = await runExportTimer(timerDeps(services, silentLog, { defender: fakeDefender(nextGeneratedTime(), () => [evilUrl]) }));
      const [item] = (await services.queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
      const log = memoryLog();
      const deps = ingestDeps(services, log, { downloadPolicy: { allowlist: ['*.blob.core.windows.net'], allowLoopback: false } });
      expect(await ingestExportFile(item.messageText, deps)).toMatchObject({ status: 'failed' });
      expect(hits).toBe(0);
      const [f] = await services.catalog.listFiles(timer.snapshotId);
      expect(f.Error).toMatch(/download URL refused/);
      expect(JSON.stringify(f) + log.lines.join('\n')).not.toContain('SECRETSIG');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
