// Hostile but legal input end to end through the real worker and a real Azurite: strings that are not
// well-formed UTF-16, dates outside Table Storage's DateTime range, crafted column names.
import { odata } from '@azure/data-tables';
import { createServices } from '../../shared/app/appContext';
import { runJsonExport } from '../../shared/ingest/jsonExportIngest';
import { ensureTable } from '../../shared/storage/storageClients';
import { FileRow, FILES_TABLE, REJECTS_TABLE } from '../../shared/core/contracts';
import { memoryLog } from '../../shared/core/log';
import { deviceIdFromPartitionKey, MAX_KEY_LENGTH, partitionKeyFor } from '../../shared/storage/tableKeys';
import { runIngestCycle } from '../../tools/runner/localRunner';
import { useAzurite } from '../helpers/azurite';
import { tables } from '../helpers/inventoryTables';
import { exportFixture, fakeDefender, gz, jsonl, nextGeneratedTime, records, testConfig } from '../helpers/exportFixture';

const azurite = useAzurite();

const all = <T extends object>(table: string, filter?: string) => tables(azurite().connectionString).all<T>(table, filter);

const LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

async function ingest(text: string) {
  const config = testConfig(azurite());
  const fixture = exportFixture(azurite());
  await fixture.upload([gz(text)]);
  const defender = fakeDefender(nextGeneratedTime(), () => fixture.urls());
  const services = createServices(config);
  const log = memoryLog();
  const summary = await runIngestCycle({ config, log, services, timer: { defender } });
  const [file] = await all<FileRow>(FILES_TABLE, odata`PartitionKey eq ${summary.snapshotId}`);
  return { summary, file, log, rows: await all<Record<string, unknown>>(summary.table) };
}

describe('strings that are not well-formed UTF-16', () => {
  it('stores every line with a lone surrogate in any column, U+FFFD in properties, distinct reversible keys, counted once per file', async () => {
    const [base] = records(1, 1, 'sur');
    const longId = 'L'.repeat(MAX_KEY_LENGTH + 50);
    const recs = [
      { ...base, deviceId: 'dev-a', softwareName: 'App\ud800' }, // lone high surrogate
      { ...base, deviceId: 'dev-a', softwareName: 'App\ufffd' }, // what the first becomes once stored: must stay a second row
      { ...base, deviceId: 'dev-b', deviceName: 'pc\udc00' }, // lone low surrogate
      { ...base, deviceId: 'dev\ud800x' },
      { ...base, deviceId: 'dev\ufffdx' },
      { ...base, deviceId: 'dev-c', diskPaths: ['C:\\\udbff\\a.exe', 'D:\\ok'] },
      { ...base, deviceId: `${longId}\ud800` }, // hashed partition key
      { ...base, deviceId: `${longId}\ufffd` },
      { ...base, deviceId: 'dev-d', softwareVendor: 'v\ud800'.repeat(200) }, // hashed row key
      { ...base, deviceId: 'dev-d', softwareVendor: 'v\ufffd'.repeat(200) },
      { ...base, deviceId: 'dev-e' }, // plain
    ];
    const { summary, file, log, rows } = await ingest(jsonl(recs));

    expect(summary).toMatchObject({ status: 'complete', rows: recs.length, rejected: 0, duplicates: 0 });
    expect(file).toMatchObject({ Status: 'complete', RowsWritten: recs.length, Rejected: 0 });
    expect(rows).toHaveLength(recs.length);
    for (const r of rows) for (const v of Object.values(r)) if (typeof v === 'string') expect(LONE.test(v)).toBe(false);
    expect(new Set(rows.map((r) => `${r.partitionKey}\n${r.rowKey}`)).size).toBe(recs.length);

    const a = rows.filter((r) => r.DeviceId === 'dev-a').map((r) => r.SoftwareName);
    expect(a).toEqual(['App\ufffd', 'App\ufffd']);
    expect(rows.find((r) => r.DeviceId === 'dev-b')!.DeviceName).toBe('pc\ufffd');
    expect(rows.filter((r) => r.DeviceId === 'dev\ufffdx')).toHaveLength(2);
    expect(JSON.parse(rows.find((r) => r.DeviceId === 'dev-c')!.DiskPaths as string)).toEqual(['C:\\\ufffd\\a.exe', 'D:\\ok']);
    // the key keeps the exact original, reversibly
    const pk = rows.find((r) => r.DeviceId === 'dev\ufffdx' && r.partitionKey !== 'dev\ufffdx')!.partitionKey;
    expect(pk).toBe(partitionKeyFor('dev\ud800x'));
    expect(deviceIdFromPartitionKey(pk)).toBe('dev\ud800x');

    const notes = log.lines.filter((l) => l.includes('U+FFFD'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/6 row\(s\)/);
  });

  it('rejects bad lines with a storable reason and excerpt (no lone surrogate, no split pair) and completes the file', async () => {
    const [base] = records(1, 1, 'rej');
    const recs = [
      { ...base, softwareFirstSeenTimestamp: '\ud800 yesterday' },
      { ...base, softwareFirstSeenTimestamp: `${'x'.repeat(39)}😀 later` },
      { ...base, deviceId: 'ok' },
    ];
    const cutInPair = `${'{'.repeat(999)}😀 not JSON`; // the 1,000-character excerpt would end inside the pair
    const { summary, rows } = await ingest(jsonl(recs) + cutInPair + '\n');
    expect(summary).toMatchObject({ status: 'complete', rows: 1, rejected: 3 });
    expect(rows).toHaveLength(1);
    const rejects = await all<{ Reason: string; Excerpt: string }>(REJECTS_TABLE, odata`PartitionKey eq ${summary.snapshotId}`);
    expect(rejects).toHaveLength(3);
    for (const r of rejects) expect(LONE.test(r.Reason) || LONE.test(r.Excerpt)).toBe(false);
    expect(rejects[0].Reason).toContain('\ufffd yesterday');
    expect(rejects[2].Excerpt).toBe('{'.repeat(999));
  });
});

describe('optional dates outside the DateTime range of Table Storage', () => {
  it('stores the row without the property and counts the drop once per file', async () => {
    const [base] = records(1, 1, 'date');
    const recs = [
      { ...base, deviceId: 'sentinel', endOfSupportDate: '0001-01-01T00:00:00', softwareFirstSeenTimestamp: '0001-01-01 00:00:00' },
      { ...base, deviceId: 'before', softwareFirstSeenTimestamp: '1600-12-31 23:59:59.9999999' },
      { ...base, deviceId: 'after', endOfSupportDate: '9999-12-31T23:00:00-05:00' },
      { ...base, deviceId: 'first', softwareFirstSeenTimestamp: '1601-01-01 00:00:00', endOfSupportDate: '9999-12-31T23:59:59Z' },
    ];
    const { summary, file, log, rows } = await ingest(jsonl(recs));
    expect(summary).toMatchObject({ status: 'complete', rows: 4, rejected: 0 });
    expect(file).toMatchObject({ Status: 'complete', RowsWritten: 4, Rejected: 0 });
    const by = Object.fromEntries(rows.map((r) => [r.DeviceId as string, r]));
    expect('EndOfSupportDate' in by.sentinel || 'SoftwareFirstSeenTimestamp' in by.sentinel).toBe(false);
    expect(by.sentinel.SoftwareName).toBe(base.softwareName);
    expect('SoftwareFirstSeenTimestamp' in by.before).toBe(false);
    expect('EndOfSupportDate' in by.after).toBe(false);
    expect(by.after.SoftwareFirstSeenTimestamp).toEqual(new Date('2024-03-01T10:11:12Z'));
    expect(by.first.SoftwareFirstSeenTimestamp).toEqual(new Date('1601-01-01T00:00:00Z'));
    expect(by.first.EndOfSupportDate).toEqual(new Date('9999-12-31T23:59:59Z'));
    const notes = log.lines.filter((l) => l.includes('outside'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatch(/3 row\(s\)/);
  });
});

describe('the paged JSON method', () => {
  it('lands records with lone surrogates, out-of-range dates and crafted column names, each noted once on one line', async () => {
    const services = createServices(testConfig(azurite()));
    const [base] = records(1, 1, 'json');
    const forged = 'evil\n2026-01-01T00:00:00Z error snapshot 1 failed';
    const recs = [
      { ...base, deviceId: 'j\ud800', [forged]: 1 },
      { ...base, deviceId: 'j\ufffd', endOfSupportDate: '0001-01-01T00:00:00Z', ['k'.repeat(5000)]: 1 },
    ];
    const log = memoryLog();
    const out = await runJsonExport({
      kind: 'SoftwareInventory',
      catalog: services.catalog,
      ensureTable: (name) => ensureTable(services.inventory, name),
      table: (name) => services.inventory.table(name),
      defender: {
        async *getPages() {
          yield { page: 1, records: recs };
        },
      },
      baseUrl: 'http://127.0.0.1:9',
      pageSize: 10,
      writeConcurrency: 2,
      log,
      now: () => nextGeneratedTime(),
    });
    expect(out).toMatchObject({ status: 'complete', rows: 2 });
    const rows = await all<Record<string, unknown>>(out.tableName);
    expect(rows.map((r) => r.DeviceId)).toEqual(['j\ufffd', 'j\ufffd']);
    expect(rows.map((r) => [r.partitionKey, 'EndOfSupportDate' in r])).toEqual([
      ['j%uD800', true],
      ['j\ufffd', false],
    ]);
    const notes = log.lines.filter((l) => /undocumented|U\+FFFD|outside/.test(l));
    expect(notes).toHaveLength(3);
    for (const l of notes) expect(l.length).toBeLessThan(1000);
    expect(notes.join('\n').split('\n')).toHaveLength(3);
    expect(notes.some((l) => l.includes('evil\\n2026-01-01T00:00:00Z error'))).toBe(true);
  });
});
