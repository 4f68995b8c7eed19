// Three kinds exported in the same minute, ingested by the real file worker against a real Azurite: each lands
// in its own table with its stored types, its file rows and rejects in its own partition, its duplicates
// counted, and its catalog row complete (docs/kinds.md). Snapshots and file rows are registered by hand, as the
// timer would, so this suite is about the worker alone.
import { randomUUID } from 'node:crypto';
import { odata, TableClient } from '@azure/data-tables';
import { AppServices, createServices, ingestDeps } from '../../shared/app/appContext';
import {
  ExportKind,
  FileRow,
  fileRowKey,
  FILES_TABLE,
  IngestMessage,
  progressPartition,
  REJECTS_TABLE,
  RejectRow,
  SnapshotRow,
  snapshotIdFor,
  snapshotTableName,
} from '../../shared/core/contracts';
import { ingestExportFile } from '../../shared/ingest/fileWorker';
import { handlePoisonMessage } from '../../shared/ingest/poisonHandler';
import { mapRecord } from '../../shared/ingest/recordMapper';
import { memoryLog } from '../../shared/core/log';
import { stripQuery } from '../../shared/core/redact';
import { ensureTable } from '../../shared/storage/storageClients';
import { PendingEntity, writeEntities } from '../../shared/storage/tableWriter';
import { entityJson } from '../../shared/storage/transactionBody';
import { useAzurite } from '../helpers/azurite';
import { tables } from '../helpers/inventoryTables';
import { exportFixture, gz, jsonl, nextGeneratedTime, records, testConfig } from '../helpers/exportFixture';

const azurite = useAzurite();

type Typed = Record<string, { value: unknown; type: string }>;

/**
 * Every row of a table with each property's EDM type, and the raw JSON text of each row's `number` property by
 * RowKey. The service leaves Double unannotated on reads (the SDK then calls an integral one Int32), but writes it
 * with a decimal point: `10.0` is a stored Double, `10` an Int32.
 */
async function storedRows(connectionString: string, name: string, number = 'CvssScore'): Promise<{ rows: Typed[]; raw: Map<string, string> }> {
  const bodies: string[] = [];
  const table = TableClient.fromConnectionString(connectionString, name, {
    allowInsecureConnection: true,
    additionalPolicies: [
      {
        position: 'perCall',
        policy: {
          name: 'keepBody',
          sendRequest: async (req, next) => {
            const res = await next(req);
            bodies.push(res.bodyAsText ?? '');
            return res;
          },
        },
      },
    ],
  });
  const rows: Typed[] = [];
  for await (const e of table.listEntities({ disableTypeConversion: true })) rows.push(e as unknown as Typed);
  const raw = new Map<string, string>();
  const re = new RegExp(`"RowKey":"((?:[^"\\\\]|\\\\.)*)"(?:(?!"RowKey").)*?"${number}":(-?[0-9.eE+]+)`, 'g');
  for (const body of bodies) for (const m of body.matchAll(re)) raw.set(m[1], m[2]);
  return { rows, raw };
}

const vuln = (i: number, o: Record<string, unknown> = {}) => ({
  id: `dev${i % 3}_microsoft_edge_1.${i}_CVE-2024-${1000 + i}`,
  deviceId: `dev${i % 3}`,
  deviceName: `wks-${i % 3}`,
  osPlatform: 'Windows11',
  rbacGroupName: 'Workstations',
  rbacGroupId: 42, // undocumented for this kind: ignored and counted
  osVersion: '10.0.22631',
  softwareVendor: 'microsoft',
  softwareName: 'edge',
  softwareVersion: `1.${i}`,
  cveId: `CVE-2024-${1000 + i}`,
  cvssScore: 7.5,
  vulnerabilitySeverityLevel: 'High',
  exploitabilityLevel: 'ExploitIsPublic',
  firstSeenTimestamp: '2024-03-01 10:13:34.8476880',
  lastSeenTimestamp: '2024-03-02T10:13:34Z',
  recommendationReference: 'va-_-microsoft-_-edge',
  recommendedSecurityUpdate: null,
  securityUpdateAvailable: 'true',
  diskPaths: [`C:\\Program Files\\Edge\\${i}`],
  registryPaths: [],
  ...o,
});

const config = (i: number, o: Record<string, unknown> = {}) => ({
  deviceId: `dev${i % 3}`,
  deviceName: i % 2 ? null : `wks-${i % 3}`,
  osPlatform: 'Windows11',
  rbacGroupName: 'Workstations',
  timestamp: '2024-03-01 20:55:38.6410000',
  configurationId: `scid-${10000 + i}`,
  configurationCategory: 'Security controls',
  configurationSubcategory: '',
  configurationImpact: i % 2 ? 9 : '9',
  configurationName: `Setting ${i}`,
  isApplicable: true,
  isCompliant: i % 2 ? 'False' : false,
  isExpectedUserImpact: false,
  recommendationReference: `sca-_-scid-${10000 + i}`,
  ...o,
});

/** Register a kind's snapshot, table and file rows as the timer does; returns the file messages. */
async function register(services: AppServices, kind: ExportKind, generatedTime: Date, files: string[]): Promise<IngestMessage[]> {
  const id = snapshotIdFor(generatedTime);
  const urls = await exportFixture(azurite()).upload(files.map(gz));
  const table = snapshotTableName(kind, id);
  await ensureTable(services.inventory, table);
  const snapshot: SnapshotRow = {
    partitionKey: kind,
    rowKey: id,
    Status: 'ingesting',
    GeneratedTime: generatedTime,
    TableName: table,
    Method: 'files',
    FileCount: urls.length,
    FilesCompleted: 0,
    RowCount: 0,
    RejectedCount: 0,
    DuplicateCount: 0,
    StartedAt: new Date(),
  };
  expect(await services.catalog.createSnapshot(snapshot)).toBe(true);
  const messages: IngestMessage[] = [];
  for (const [fileIndex, url] of urls.entries()) {
    const row: FileRow = {
      partitionKey: progressPartition(kind, id),
      rowKey: fileRowKey(fileIndex),
      Kind: kind,
      BlobPath: stripQuery(url),
      Status: 'queued',
      LinesCommitted: 0,
      RowsWritten: 0,
      Rejected: 0,
      Duplicates: 0,
      Attempts: 0,
    };
    expect(await services.catalog.createFile(row)).toBe(true);
    messages.push({ snapshotId: id, kind, fileIndex, fileCount: urls.length, url, generatedTime: generatedTime.toISOString() });
  }
  return messages;
}

describe('file worker: every export kind', () => {
  it('ingests three kinds with the same stamp into three tables, three progress partitions and three complete catalog rows', async () => {
    const cfg = testConfig(azurite());
    const services = createServices(cfg);
    await services.catalog.ensureTables();
    const log = memoryLog();
    const generatedTime = nextGeneratedTime();
    const id = snapshotIdFor(generatedTime);

    // line numbers matter: every kind has a reject on line 3, so their reject RowKeys are equal
    const files: Record<ExportKind, string[]> = {
      SoftwareVulnerabilities: [
        jsonl([vuln(0), vuln(1, { cveId: null, cvssScore: 10 }), { ...vuln(2), cvssScore: 'high' }, vuln(1, { cveId: null, cvssScore: 10 }), vuln(3)]),
        jsonl([vuln(4, { cvssScore: '9.8', securityUpdateAvailable: false }), vuln(5, { cvssScore: 10 })]) + '{"deviceId": "broken",\n',
      ],
      SecureConfigurations: [jsonl([config(0), config(1), config(2, { configurationId: undefined }), config(1), config(3)])],
      NonCpeSoftwareInventory: [],
      SoftwareInventory: [jsonl([...records(2, 2), { ...records(3, 2)[2], numberOfWeaknesses: 'many' }, records(1, 2)[0], ...records(5, 2).slice(3)])],
    };
    const kinds = (Object.keys(files) as ExportKind[]).filter((k) => files[k].length > 0);

    const messages: IngestMessage[] = [];
    for (const kind of kinds) messages.push(...(await register(services, kind, generatedTime, files[kind])));
    const deps = ingestDeps(services, log, { workerId: `w-${randomUUID()}` });
    const outcomes = await Promise.all(messages.map((m) => ingestExportFile(m, deps)));
    expect(outcomes.map((o) => o.status)).toEqual(messages.map(() => 'complete'));

    // catalog: one complete row per kind, under the kind, with exact totals
    const t = tables(azurite().connectionString);
    const catalogRow = (kind: ExportKind) => services.catalog.getSnapshot(kind, id);
    expect(await catalogRow('SoftwareVulnerabilities')).toMatchObject({
      Status: 'complete',
      TableName: `SoftwareVulnerabilities${id}`,
      FileCount: 2,
      FilesCompleted: 2,
      RowCount: 5,
      RejectedCount: 2,
      DuplicateCount: 1,
    });
    expect(await catalogRow('SecureConfigurations')).toMatchObject({
      Status: 'complete',
      FileCount: 1,
      FilesCompleted: 1,
      RowCount: 3,
      RejectedCount: 1,
      DuplicateCount: 1,
    });
    expect(await catalogRow('SoftwareInventory')).toMatchObject({
      Status: 'complete',
      FileCount: 1,
      FilesCompleted: 1,
      RowCount: 4,
      RejectedCount: 1,
      DuplicateCount: 1,
    });
    expect(await catalogRow('NonCpeSoftwareInventory')).toBeUndefined();

    // file rows: three partitions, the inventory's the bare stamp, each row naming its kind
    const mine = (await t.all<FileRow>(FILES_TABLE)).filter((r) => r.partitionKey.endsWith(id));
    expect(mine.map((r) => [r.partitionKey, r.rowKey, r.Kind, r.Status, r.RowsWritten, r.Rejected, r.Duplicates]).sort()).toEqual(
      [
        [id, '00000', 'SoftwareInventory', 'complete', 4, 1, 1],
        [`SecureConfigurations${id}`, '00000', 'SecureConfigurations', 'complete', 3, 1, 1],
        [`SoftwareVulnerabilities${id}`, '00000', 'SoftwareVulnerabilities', 'complete', 3, 1, 1],
        [`SoftwareVulnerabilities${id}`, '00001', 'SoftwareVulnerabilities', 'complete', 2, 1, 0],
      ].sort(),
    );

    // rejects: the same RowKey in three partitions, each with its own reason
    const rejects = async (kind: ExportKind) =>
      (await t.all<RejectRow>(REJECTS_TABLE, odata`PartitionKey eq ${progressPartition(kind, id)}`)).map((r) => [r.rowKey, r.Reason]).sort();
    expect(await rejects('SoftwareVulnerabilities')).toEqual([
      ['00000-0000000003', 'CvssScore: "high" is not a number'],
      ['00001-0000000003', expect.stringMatching(/^malformed JSON/)],
    ]);
    expect(await rejects('SecureConfigurations')).toEqual([['00000-0000000003', 'missing ConfigurationId']]);
    expect(await rejects('SoftwareInventory')).toEqual([['00000-0000000003', 'NumberOfWeaknesses: expected a 32-bit whole number, got string']]);

    // vulnerabilities: stored types read back with their EDM metadata
    const { rows: vulns, raw } = await storedRows(azurite().connectionString, `SoftwareVulnerabilities${id}`);
    expect(vulns).toHaveLength(5);
    const byKey = new Map(vulns.map((r) => [r.RowKey?.value ?? (r as unknown as { rowKey: string }).rowKey, r]));
    const nullCve = byKey.get('microsoft|edge|1.1|')!;
    expect(nullCve).toBeDefined();
    expect(nullCve.CveId).toBeUndefined();
    // integral, still Double (`10.0` as the service writes it back; an Int32 would read `10`)
    expect(raw.get('microsoft|edge|1.1|')).toBe('10.0');
    expect(raw.get('microsoft|edge|1.5|CVE-2024-1005')).toBe('10.0');
    expect(raw.get('microsoft|edge|1.4|CVE-2024-1004')).toBe('9.8');
    expect(byKey.get('microsoft|edge|1.4|CVE-2024-1004')!.CvssScore).toEqual({ value: '9.8', type: 'Double' });
    const full = byKey.get('microsoft|edge|1.0|CVE-2024-1000')!;
    expect(full).toMatchObject({
      CveId: { value: 'CVE-2024-1000', type: 'String' },
      CvssScore: { value: '7.5', type: 'Double' },
      SecurityUpdateAvailable: { value: 'true', type: 'Boolean' },
      FirstSeenTimestamp: { value: '2024-03-01T10:13:34.847Z', type: 'DateTime' },
      LastSeenTimestamp: { value: '2024-03-02T10:13:34.000Z', type: 'DateTime' },
      Id: { value: 'dev0_microsoft_edge_1.0_CVE-2024-1000', type: 'String' },
      DiskPaths: { value: JSON.stringify(['C:\\Program Files\\Edge\\0']), type: 'String' },
      RegistryPaths: { value: '[]', type: 'String' },
    });
    expect(byKey.get('microsoft|edge|1.4|CVE-2024-1004')!.SecurityUpdateAvailable).toEqual({ value: 'false', type: 'Boolean' });
    for (const r of vulns) expect(Object.keys(r).filter((k) => /rbacGroupId|osVersion|RecommendedSecurityUpdate$/i.test(k))).toEqual([]);

    // secure configurations: AssessmentTimestamp, decimal-string impact, booleans from strings, a null name omitted
    const { rows: configs } = await storedRows(azurite().connectionString, `SecureConfigurations${id}`);
    expect(configs).toHaveLength(3);
    for (const r of configs) {
      expect(r.AssessmentTimestamp).toEqual({ value: '2024-03-01T20:55:38.641Z', type: 'DateTime' });
      expect(r.ConfigurationImpact).toEqual({ value: '9', type: 'String' });
      expect(r.IsCompliant).toEqual({ value: 'false', type: 'Boolean' });
    }
    const odd = configs.find((r) => JSON.stringify(r).includes('scid-10001'))!;
    expect(odd.DeviceName).toBeUndefined();

    // the inventory is untouched by its siblings: its own table, its own keys
    const inventory = await t.all<Record<string, unknown>>(`SoftwareInventory${id}`);
    expect(inventory.map((r) => r.rowKey).sort()).toEqual([
      'google|product_0|1.1.1',
      'google|product_2|1.4.4',
      'microsoft|product_0|1.0.0',
      'microsoft|product_1|1.3.3',
    ]);

    // each file's log lines name its kind
    expect(log.lines.filter((l) => / file \d\/\d: complete — /.test(l)).map((l) => l.split(' ')[1])).toEqual(
      expect.arrayContaining(['SoftwareVulnerabilities', 'SecureConfigurations', 'SoftwareInventory']),
    );
    expect(log.lines.some((l) => l.includes('SoftwareVulnerabilities snapshot') && l.includes('undocumented column(s): osVersion, rbacGroupId'))).toBe(true);
  });

  it('writes an integral Double the same way through the lean body and the SDK transaction', async () => {
    const table = TableClient.fromConnectionString(azurite().connectionString, `Dbl${randomUUID().replace(/-/g, '').slice(0, 10)}`, {
      allowInsecureConnection: true,
    });
    await table.createTable();
    const items = (rowSuffix: string): PendingEntity[] =>
      [10, 9.8, 0].map((cvssScore, i) => {
        const m = mapRecord(vuln(i, { cvssScore, cveId: `CVE-${rowSuffix}-${i}` }), undefined, 'SoftwareVulnerabilities');
        if (!m.ok) throw new Error(m.reason);
        return { entity: { ...m.entity, partitionKey: 'p' }, line: i + 1 };
      });
    // the lean body writes the typed value as the SDK's serializer does: the number, then its type
    expect(entityJson(items('x')[0].entity)).toContain('"CvssScore":10,"CvssScore@odata.type":"Edm.Double"');
    expect(await writeEntities(table, items('lean'), 1, { transport: 'lean' })).toEqual({ written: 3, rejected: [] });
    expect(await writeEntities(table, items('sdk'), 1, { transport: 'sdk' })).toEqual({ written: 3, rejected: [] });
    // control: a plain number, which the SDK sends untyped, is stored Int32
    await table.upsertEntity({ partitionKey: 'p', rowKey: 'control', CvssScore: 10 }, 'Replace');
    const { raw } = await storedRows(azurite().connectionString, table.tableName);
    const scores = (suffix: string) => [0, 1, 2].map((i) => raw.get(`microsoft|edge|1.${i}|CVE-${suffix}-${i}`));
    expect(scores('lean')).toEqual(['10.0', '9.8', '0.0']);
    expect(scores('sdk')).toEqual(scores('lean'));
    expect(raw.get('control')).toBe('10');
  });
  it("resumes a kind from its checkpoints: continuations replay with the kind's mapper, so duplicates stay exact", async () => {
    const services = createServices(testConfig(azurite()));
    await services.catalog.ensureTables();
    const generatedTime = nextGeneratedTime();
    const id = snapshotIdFor(generatedTime);
    // 12 lines; line 10 repeats line 2 (a null CVE), found only by replaying the earlier segments' lines
    const lines = Array.from({ length: 12 }, (_, i) => (i === 9 ? vuln(1, { cveId: null }) : vuln(i, i === 1 ? { cveId: null } : {})));
    const [msg] = await register(services, 'SoftwareVulnerabilities', generatedTime, [jsonl(lines)]);
    await services.queue.createIfNotExists(); // where the continuations go (delivered by hand below)
    // a time budget of 0: every invocation commits one segment of 4 lines, then queues the rest of the file
    const deps = ingestDeps(services, memoryLog(), { timeBudgetMs: 0, limits: { segmentRows: 4 } });
    const statuses: string[] = [];
    for (let i = 0; i < 10 && statuses.at(-1) !== 'complete'; i++) statuses.push((await ingestExportFile(msg, deps)).status);
    expect(statuses).toEqual(['continued', 'continued', 'complete']);
    expect(await services.catalog.getSnapshot('SoftwareVulnerabilities', id)).toMatchObject({
      Status: 'complete',
      RowCount: 11,
      DuplicateCount: 1,
      RejectedCount: 0,
    });
    const file = await services.catalog.getFile(progressPartition('SoftwareVulnerabilities', id), 0);
    expect(file).toMatchObject({ Status: 'complete', LinesCommitted: 12, RowsWritten: 11, Duplicates: 1, Attempts: 3 });
    expect(await services.catalog.getFile(id, 0)).toBeUndefined(); // nothing in the inventory's partition
  });

  it("a poisoned message of a kind fails that kind's file and snapshot only, not the inventory's of the same minute", async () => {
    const services = createServices(testConfig(azurite()));
    await services.catalog.ensureTables();
    const generatedTime = nextGeneratedTime();
    const id = snapshotIdFor(generatedTime);
    const [config0] = await register(services, 'SecureConfigurations', generatedTime, [jsonl([config(0)])]);
    const [inventory0] = await register(services, 'SoftwareInventory', generatedTime, [jsonl(records(2, 2))]);
    const log = memoryLog();
    await handlePoisonMessage(config0, { catalog: services.catalog, log }, 5);
    expect(await services.catalog.getFile(progressPartition('SecureConfigurations', id), 0)).toMatchObject({ Status: 'failed' });
    expect(await services.catalog.getSnapshot('SecureConfigurations', id)).toMatchObject({ Status: 'failed' });
    expect(await services.catalog.getFile(id, 0)).toMatchObject({ Status: 'queued' });
    expect(await services.catalog.getSnapshot('SoftwareInventory', id)).toMatchObject({ Status: 'ingesting' });
    expect(log.lines.some((l) => l.includes(`SecureConfigurations snapshot ${id} file 0: failed — gave up after 5 deliveries`))).toBe(true);
    // the inventory's file still ingests, and its snapshot completes
    expect((await ingestExportFile(inventory0, ingestDeps(services, memoryLog()))).status).toBe('complete');
    expect(await services.catalog.getSnapshot('SoftwareInventory', id)).toMatchObject({ Status: 'complete', RowCount: 2 });
  });
});
