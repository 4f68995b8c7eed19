// The core pipeline end to end through the real handlers, the local runner and a real Azurite.
import { odata, TableClient } from '@azure/data-tables';
import { createServices, ingestDeps, timerDeps } from '../../shared/app/appContext';
import { CATALOG_TABLE, encodeMessage, FileRow, FILES_TABLE, IngestMessage, REJECTS_TABLE, SnapshotRow } from '../../shared/core/contracts';
import { ingestExportFile } from '../../shared/ingest/fileWorker';
import { handlePoisonMessage } from '../../shared/ingest/poisonHandler';
import { runExportTimer } from '../../shared/timer/exportCollector';
import { memoryLog, silentLog } from '../../shared/core/log';
import { runIngestCycle } from '../../tools/runner/localRunner';
import { useAzurite } from '../helpers/azurite';
import { tables } from '../helpers/inventoryTables';
import { exportFixture, fakeDefender, gz, jsonl, nextGeneratedTime, records, testConfig } from '../helpers/exportFixture';

const azurite = useAzurite();

const tableOf = (name: string): TableClient => tables(azurite().connectionString).table(name);
const all = <T extends object>(table: string, filter?: string) => tables(azurite().connectionString).all<T>(table, filter);

/** Every property with its EDM type, as stored. */
async function typedRows(table: string): Promise<Record<string, { value: unknown; type: string }>[]> {
  const out: Record<string, { value: unknown; type: string }>[] = [];
  for await (const e of tableOf(table).listEntities({ disableTypeConversion: true }))
    out.push(e as unknown as Record<string, { value: unknown; type: string }>);
  return out;
}

async function setup(files: Buffer[], env: Record<string, string> = {}) {
  const config = testConfig(azurite(), env);
  const fixture = exportFixture(azurite());
  await fixture.upload(files);
  const generatedTime = nextGeneratedTime();
  const defender = fakeDefender(generatedTime, () => fixture.urls());
  const services = createServices(config);
  return { config, fixture, generatedTime, defender, services };
}

describe('core pipeline', () => {
  it('lands a multi-file export in a dated table with exact catalog totals and typed properties', async () => {
    const camel = records(120, 12, 'camel');
    const pascal = records(60, 6, 'pascal').map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k[0].toUpperCase() + k.slice(1), v])));
    const messy = records(30, 3, 'messy');
    const messyText =
      '\ufeff' +
      messy
        .slice(0, 10)
        .map((r) => JSON.stringify(r))
        .join('\r\n') +
      '\r\n\r\n   \r\n' +
      '{"deviceId": "broken",\n' + // line 13: malformed JSON (10 records, then blank lines 11 and 12)
      JSON.stringify({ ...messy[10], softwareVersion: undefined }) +
      '\n' + // line 14: missing version
      JSON.stringify({ ...messy[11], numberOfWeaknesses: 'many' }) +
      '\n' + // line 15: wrong type
      JSON.stringify(messy[0]) +
      '\n' + // line 16: exact duplicate of line 1
      messy
        .slice(11)
        .map((r) => JSON.stringify({ ...r, cveIds: ['CVE-2024-1'] }))
        .join('\n') +
      '\n';
    const files = [gz(jsonl(camel)), gz(jsonl(pascal)), gz(messyText), Buffer.alloc(0), gz('')];
    const { config, generatedTime, defender, services } = await setup(files);
    const log = memoryLog();

    const summary = await runIngestCycle({ config, log, services, timer: { defender } });

    const id = summary.snapshotId;
    const expectedId = generatedTime.toISOString().replace(/[-:T]/g, '').slice(0, 12);
    expect(id).toBe(expectedId);
    expect(summary).toMatchObject({ table: `SoftwareInventory${id}`, status: 'complete', files: 5, rows: 120 + 60 + 29, rejected: 3, duplicates: 1 });

    const rows = await all<Record<string, unknown>>(summary.table);
    expect(rows).toHaveLength(209);
    const snap = await tableOf(CATALOG_TABLE).getEntity<SnapshotRow>('SoftwareInventory', id);
    expect(snap).toMatchObject({
      Status: 'complete',
      TableName: summary.table,
      Method: 'files',
      FileCount: 5,
      FilesCompleted: 5,
      RowCount: 209,
      RejectedCount: 3,
      DuplicateCount: 1,
    });
    expect(snap.GeneratedTime).toEqual(generatedTime);
    expect(snap.CompletedAt).toBeInstanceOf(Date);

    const fileRows = await all<FileRow>(FILES_TABLE, odata`PartitionKey eq ${id}`);
    expect(fileRows.map((f) => [f.rowKey, f.Status, f.RowsWritten, f.Rejected, f.Duplicates])).toEqual([
      ['00000', 'complete', 120, 0, 0],
      ['00001', 'complete', 60, 0, 0],
      ['00002', 'complete', 29, 3, 1],
      ['00003', 'complete', 0, 0, 0],
      ['00004', 'complete', 0, 0, 0],
    ]);
    for (const f of fileRows) expect(f.BlobPath).not.toContain('?');

    const rejects = await all<{ Reason: string; Excerpt: string }>(REJECTS_TABLE, odata`PartitionKey eq ${id}`);
    expect(rejects.map((r) => [r.rowKey, r.Reason.split(':')[0]])).toEqual([
      ['00002-0000000013', 'malformed JSON'],
      ['00002-0000000014', 'missing SoftwareVersion'],
      ['00002-0000000015', 'NumberOfWeaknesses'],
    ]);
    expect(rejects[0].Excerpt).toBe('{"deviceId": "broken",');

    // property names and EDM types exactly as docs/architecture.md#tables-and-keys says
    const typed = (await typedRows(summary.table)).find((r) => (r.DeviceId as unknown as { value: string }).value === 'camel0000');
    expect(typed).toBeDefined();
    const types = Object.fromEntries(
      Object.entries(typed!)
        .filter(([k]) => !['partitionKey', 'rowKey', 'timestamp', 'etag'].includes(k))
        .map(([k, v]) => [k, v.type]),
    );
    expect(types).toEqual({
      DeviceId: 'String',
      DeviceName: 'String',
      OSPlatform: 'String',
      RbacGroupName: 'String',
      SoftwareVendor: 'String',
      SoftwareName: 'String',
      SoftwareVersion: 'String',
      EndOfSupportStatus: 'String',
      NumberOfWeaknesses: 'Int32',
      SoftwareFirstSeenTimestamp: 'DateTime',
      EndOfSupportDate: 'DateTime',
      DiskPaths: 'String',
      RegistryPaths: 'String',
    });

    // PascalCase input lands exactly like camelCase input would
    const pascalRow = rows.find((r) => r.DeviceId === 'pascal0001' && r.SoftwareVersion === '1.1.1');
    expect(pascalRow).toMatchObject({
      SoftwareVendor: 'google',
      SoftwareName: 'product_0',
      NumberOfWeaknesses: 1,
      DiskPaths: '["C:\\\\Program Files\\\\p1\\\\app.exe"]',
      RegistryPaths: '[]',
    });
    // the undocumented column was ignored and reported once for the file
    expect(rows.some((r) => 'cveIds' in r)).toBe(false);
    expect(log.lines.filter((l) => l.includes('undocumented column(s): cveIds'))).toHaveLength(1);
  });

  it('is idempotent: a second run of the same export changes nothing and creates no second table', async () => {
    const { config, defender, services } = await setup([gz(jsonl(records(50, 5))), gz(jsonl(records(40, 4, 'other')))]);
    const first = await runIngestCycle({ config, log: silentLog, services, timer: { defender } });
    const before = await all<Record<string, unknown>>(first.table);
    const tablesBefore: string[] = [];
    for await (const t of services.inventory.tableService.listTables()) tablesBefore.push(t.name!);

    const second = await runIngestCycle({ config, log: silentLog, services, timer: { defender } });
    expect({ ...second, seconds: 0 }).toEqual({ ...first, seconds: 0 });
    const after = await all<Record<string, unknown>>(first.table);
    expect(after.map((r) => [r.partitionKey, r.rowKey, r.etag])).toEqual(before.map((r) => [r.partitionKey, r.rowKey, r.etag]));
    const tablesAfter: string[] = [];
    for await (const t of services.inventory.tableService.listTables()) tablesAfter.push(t.name!);
    expect(tablesAfter).toEqual(tablesBefore);
  });

  it('completes an export with zero files at once, with 0 rows', async () => {
    const { config, defender, services } = await setup([]);
    const summary = await runIngestCycle({ config, log: silentLog, services, timer: { defender } });
    expect(summary).toMatchObject({ status: 'complete', files: 0, rows: 0 });
    await expect(tableOf(summary.table).listEntities().next()).resolves.toMatchObject({ done: true });
  });

  it('ignores a message delivered twice, sequentially and at the same time, with exact totals', async () => {
    const recs = records(300, 10);
    const { defender, services } = await setup([gz(jsonl(recs)), gz(jsonl(records(100, 5, 'b')))]);
    const timer = await runExportTimer(timerDeps(services, silentLog, { defender }));
    const received = await services.queue.receiveMessages({ numberOfMessages: 32 });
    const bodies = received.receivedMessageItems.map((m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString()) as IngestMessage);
    expect(bodies.map((b) => b.fileIndex).sort()).toEqual([0, 1]);
    const file0 = bodies.find((b) => b.fileIndex === 0)!;
    const deps = (worker: string) => ingestDeps(services, silentLog, { workerId: worker, limits: { segmentRows: 50 } });

    // two workers handed the same message at once: one claims the file, the other backs off
    const [a, b] = await Promise.all([ingestExportFile(file0, deps('w1')), ingestExportFile(file0, deps('w2'))]);
    expect([a.status, b.status].sort()).toEqual(['busy', 'complete']);
    // and once more later: already complete
    const again = await ingestExportFile(encodeMessage(file0), deps('w3'));
    expect(again).toMatchObject({ status: 'skipped', detail: 'file already complete' });

    await ingestExportFile(
      bodies.find((x) => x.fileIndex === 1)!,
      deps('w4'),
    );
    const snap = await services.catalog.getSnapshot('SoftwareInventory', timer.snapshotId);
    expect(snap).toMatchObject({ Status: 'complete', RowCount: 400, FilesCompleted: 2 });
    expect(await all(timer.tableName)).toHaveLength(400);
  });

  it('flips the snapshot exactly once when workers finish together', async () => {
    const files = Array.from({ length: 6 }, (_, i) => gz(jsonl(records(20 + i, 4, `f${i}-`))));
    const { defender, services } = await setup(files);
    const timer = await runExportTimer(timerDeps(services, silentLog, { defender }));
    const received = await services.queue.receiveMessages({ numberOfMessages: 32 });
    const bodies = received.receivedMessageItems.map((m) => m.messageText);
    const outcomes = await Promise.all(bodies.map((m, i) => ingestExportFile(m, ingestDeps(services, silentLog, { workerId: `w${i}` }))));
    expect(outcomes.every((o) => o.status === 'complete')).toBe(true);
    const snap = await services.catalog.getSnapshot('SoftwareInventory', timer.snapshotId);
    const expected = Array.from({ length: 6 }, (_, i) => 20 + i).reduce((a, b) => a + b, 0);
    expect(snap).toMatchObject({ Status: 'complete', FilesCompleted: 6, RowCount: expected, RejectedCount: 0, DuplicateCount: 0 });
  });

  it('resumes a file from its checkpoint after a crash mid-file, with no missing or extra row and exact counts', async () => {
    const recs = records(1000, 25);
    const withDup = [...recs.slice(0, 500), recs[10], ...recs.slice(500), recs[900]]; // line 501 duplicates line 11, the last duplicates line 902
    const { defender, services } = await setup([gz(jsonl(withDup))]);
    const timer = await runExportTimer(timerDeps(services, silentLog, { defender }));
    const [m] = (await services.queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;

    let segments = 0;
    const crashing = ingestDeps(services, silentLog, {
      workerId: 'doomed',
      limits: { segmentRows: 100 },
      onProgress: () => {
        if (++segments === 6) throw new Error('simulated crash');
      },
    });
    await expect(ingestExportFile(m.messageText, crashing)).rejects.toThrow('simulated crash');
    const mid = (await services.catalog.getFile(timer.snapshotId, 0))!;
    expect(mid.Status).toBe('ingesting');
    expect(mid.LinesCommitted).toBeGreaterThanOrEqual(500);
    expect(mid.LinesCommitted).toBeLessThan(1002);

    const log = memoryLog();
    const resumed = await ingestExportFile(m.messageText, ingestDeps(services, log, { workerId: 'second', limits: { segmentRows: 100 } }));
    expect(resumed.status).toBe('complete');
    expect(log.lines.some((l) => l.includes(`resuming after line ${mid.LinesCommitted}`))).toBe(true);

    const file = (await services.catalog.getFile(timer.snapshotId, 0))!;
    expect(file).toMatchObject({ Status: 'complete', RowsWritten: 1000, Duplicates: 2, Rejected: 0, LinesCommitted: 1002, Attempts: 2 });
    const rows = await all<{ DeviceId: string; SoftwareVersion: string }>(timer.tableName);
    expect(rows).toHaveLength(1000);
    expect(new Set(rows.map((r) => `${r.DeviceId}/${r.SoftwareVersion}`))).toEqual(new Set(recs.map((r) => `${r.deviceId}/${r.softwareVersion}`)));
    const snap = await services.catalog.getSnapshot('SoftwareInventory', timer.snapshotId);
    expect(snap).toMatchObject({ Status: 'complete', RowCount: 1000, DuplicateCount: 2 });
  });

  it('stops at the time budget, checkpoints, queues a continuation, and completes across invocations', async () => {
    const { defender, services } = await setup([gz(jsonl(records(450, 9)))]);
    const timer = await runExportTimer(timerDeps(services, silentLog, { defender }));
    let invocations = 0;
    for (;;) {
      const [m] = (await services.queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
      expect(m).toBeDefined();
      await services.queue.deleteMessage(m.messageId, m.popReceipt);
      invocations++;
      // a zero budget: every invocation commits one segment of 100 rows, then hands over
      const out = await ingestExportFile(m.messageText, ingestDeps(services, silentLog, { timeBudgetMs: 0, limits: { segmentRows: 100 } }));
      if (out.status === 'complete') break;
      expect(out.status).toBe('continued');
      expect((await services.catalog.getFile(timer.snapshotId, 0))!.Status).toBe('queued');
    }
    expect(invocations).toBe(5);
    const snap = await services.catalog.getSnapshot('SoftwareInventory', timer.snapshotId);
    expect(snap).toMatchObject({ Status: 'complete', RowCount: 450, DuplicateCount: 0 });
    expect(await all(timer.tableName)).toHaveLength(450);
  });

  it('marks an expired SAS URL expired without failing, and the next timer run re-arms only that file', async () => {
    const { config, fixture, generatedTime, services } = await setup([gz(jsonl(records(30, 3, 'x'))), gz(jsonl(records(40, 4, 'y')))]);
    let expired = true;
    const defender = fakeDefender(generatedTime, () => {
      const fresh = fixture.urls();
      const stale = fixture.urls({ expiresInMinutes: -1 });
      return expired ? [fresh[0], stale[1]] : fresh;
    });
    const first = await runIngestCycle({ config, log: silentLog, services, timer: { defender } });
    expect(first).toMatchObject({ status: 'ingesting', rows: 30 });
    const files = await services.catalog.listFiles(first.snapshotId);
    expect(files.map((f) => f.Status)).toEqual(['complete', 'expired']);
    expect(files[1].Error).toMatch(/403/);
    expect(files[1].Error).not.toMatch(/sig=(?!REDACTED)/);

    expired = false;
    const log = memoryLog();
    const second = await runIngestCycle({ config, log, services, timer: { defender } });
    expect(second).toMatchObject({ snapshotId: first.snapshotId, status: 'complete', rows: 70, files: 2 });
    expect(log.lines.some((l) => l.includes('re-arming file 1 (was expired'))).toBe(true);
    expect(log.lines.some((l) => /re-arming file 0/.test(l))).toBe(false);
  });

  it('marks file and snapshot failed from the poison queue, with the reason', async () => {
    const { defender, services } = await setup([gz(jsonl(records(10, 2)))]);
    const timer = await runExportTimer(timerDeps(services, silentLog, { defender }));
    const [m] = (await services.queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
    await services.catalog.updateFile(timer.snapshotId, 0, { Error: 'HTTP 503: ServerBusy' });
    await handlePoisonMessage(m.messageText, { catalog: services.catalog, log: silentLog }, 5);
    const file = await services.catalog.getFile(timer.snapshotId, 0);
    expect(file).toMatchObject({ Status: 'failed' });
    expect(file!.Error).toContain('gave up after 5 deliveries');
    expect(file!.Error).toContain('ServerBusy');
    const snap = await services.catalog.getSnapshot('SoftwareInventory', timer.snapshotId);
    expect(snap).toMatchObject({ Status: 'failed' });
    expect(snap!.Error).toContain('file 0');
  });
});
