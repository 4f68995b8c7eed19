// Telemetry for real: `npm run ingest` sends its custom events and metrics through the Application Insights
// SDK to a stand-in ingestion endpoint (HTTPS on loopback), authenticated with an Entra token from the
// managed identity (the one thing faked: the token). Handler-level tests cover the failure events.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { createServices, ingestDeps, timerDeps } from '../../shared/app/appContext';
import { ConfigError, loadConfig } from '../../shared/core/config';
import { encodeMessage, snapshotIdFor } from '../../shared/core/contracts';
import { ingestExportFile } from '../../shared/ingest/fileWorker';
import { handlePoisonMessage } from '../../shared/ingest/poisonHandler';
import { runExportTimer } from '../../shared/timer/exportCollector';
import { memoryLog, silentLog } from '../../shared/core/log';
import { memoryTelemetry } from '../../shared/core/telemetry';
import { DefenderSimulator, startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { runIngestCycle } from '../../tools/runner/localRunner';
import { useAzurite } from '../helpers/azurite';
import { exportFixture, fakeDefender, gz, nextGeneratedTime, records, testConfig } from '../helpers/exportFixture';
import { localIngestEnv, runIngest } from '../helpers/ingestProcess';
import { tables } from '../helpers/inventoryTables';
import { COLLECTOR_CA, startTelemetryCollector, TelemetryCollector } from '../helpers/telemetryCollector';

const azurite = useAzurite();
const FAKE_MI = path.join(__dirname, '..', 'helpers', 'fakeManagedIdentity.ts');
const TOKEN = 'TELEMETRY-TEST-TOKEN.aaaa.bbbb';
const IKEY = '11111111-2222-3333-4444-555555555555';
const CLIENT_ID = '99999999-8888-7777-6666-555555555555';

const baseEnv = (apiUrl: string) => localIngestEnv(azurite().connectionString, apiUrl, 'tel');

const tempDirs: string[] = [];
afterAll(() => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

/**
 * Settings for an ingest process that sends to `collector`. Its own instrumentation key and temp dir: the
 * exporter keeps unsent envelopes on disk under the temp dir, keyed by the instrumentation key, and resends
 * them from any later process with the same key (seen: a concurrent run's envelopes arriving here).
 */
function withTelemetry(env: Record<string, string>, collector: { url: string }): { env: Record<string, string>; ikey: string } {
  const ikey = randomUUID();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'telemetry-'));
  tempDirs.push(tmp);
  return {
    ikey,
    env: {
      ...env,
      APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${ikey};IngestionEndpoint=${collector.url}`,
      APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `ClientId=${CLIENT_ID};Authorization=AAD`,
      FAKE_ACCESS_TOKEN: TOKEN,
      NODE_EXTRA_CA_CERTS: COLLECTOR_CA,
      TMPDIR: tmp,
    },
  };
}

describe('telemetry settings', () => {
  const env = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };
  it('off unless APPLICATIONINSIGHTS_CONNECTION_STRING is set; Entra ingestion with the identity named in the authentication string', () => {
    expect(loadConfig(env).telemetry).toBeUndefined();
    const cs = `InstrumentationKey=${IKEY};IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/;ApplicationId=x`;
    expect(loadConfig({ ...env, APPLICATIONINSIGHTS_CONNECTION_STRING: cs }).telemetry).toEqual({ connectionString: cs });
    expect(
      loadConfig({ ...env, APPLICATIONINSIGHTS_CONNECTION_STRING: cs, APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `ClientId=${CLIENT_ID};Authorization=AAD` })
        .telemetry,
    ).toEqual({
      connectionString: cs,
      entra: { clientId: CLIENT_ID },
    });
    expect(loadConfig({ ...env, APPLICATIONINSIGHTS_CONNECTION_STRING: cs, APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD' }).telemetry).toEqual(
      { connectionString: cs, entra: {} },
    );
  });

  it.each([
    [
      { APPLICATIONINSIGHTS_CONNECTION_STRING: 'not a connection string' },
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      /expected an Application Insights connection string/,
    ],
    [{ APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=abc' }, 'APPLICATIONINSIGHTS_CONNECTION_STRING', /InstrumentationKey=<guid>/],
    [
      { APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${IKEY};IngestionEndpoint=http://example.com/` },
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      /must be an https URL/,
    ],
    [{ APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD' }, 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', /CONNECTION_STRING is not/],
    [
      { APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${IKEY}`, APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=x' },
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
      /Authorization=AAD/,
    ],
    [
      { APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${IKEY}`, APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=me;Authorization=AAD' },
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
      /GUID/,
    ],
  ])('%j is refused, naming the setting', (bad, setting, message) => {
    let err: unknown;
    try {
      loadConfig({ ...env, ...bad });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).setting).toBe(setting);
    expect((err as Error).message).toMatch(message);
  });
});

describe('telemetry through the Application Insights SDK (npm run ingest)', () => {
  let sim: DefenderSimulator | undefined;
  let collector: TelemetryCollector | undefined;
  afterEach(async () => {
    await sim?.stop();
    await collector?.close();
    sim = collector = undefined;
  });

  it("a full cycle sends one event per file, the snapshot completion and the rows metric, with the identity's token and no secret", async () => {
    collector = await startTelemetryCollector();
    sim = await startDefenderSimulator({
      blobConnectionString: azurite().connectionString,
      containerName: `t-${randomUUID().slice(0, 8)}`,
      devices: 60,
      files: 2,
      seed: 5,
      generatedTime: nextGeneratedTime(),
    });
    const published = await sim.publish();
    const id = snapshotIdFor(published.generatedTime);

    const { env, ikey } = withTelemetry(baseEnv(sim.baseUrl), collector);
    const run = await runIngest(env, 90_000, { preload: [FAKE_MI] });
    expect(run.code).toBe(0);
    expect(run.summary).toMatchObject({ snapshotId: id, status: 'complete', rows: published.totalRows });
    // no telemetry call failed (a slow flush on a loaded machine may warn that it did not wait: not a failure)
    expect(run.output).not.toMatch(/telemetry: .* failed/);

    // every request carried the managed identity's token: Entra ingestion, no instrumentation-key-only sends
    expect(collector.authorizations.length).toBeGreaterThan(0);
    expect(new Set(collector.authorizations)).toEqual(new Set([`Bearer ${TOKEN}`]));
    expect(collector.envelopes.every((e) => e.iKey === ikey)).toBe(true);

    const checked = collector.events('InventoryExportChecked');
    expect(checked).toHaveLength(1);
    expect(checked[0].properties).toMatchObject({ action: 'created', snapshotId: id, method: 'files', kind: 'SoftwareInventory' });
    expect(checked[0].measurements).toMatchObject({ fileCount: 2, filesQueued: 2 });

    const files = collector.events('InventoryFileIngested');
    expect(files.map((e) => e.properties.status)).toEqual(['complete', 'complete']);
    expect(files.map((e) => e.properties.fileIndex).sort()).toEqual(['0', '1']);
    expect(files.every((e) => e.properties.snapshotId === id && e.properties.fileCount === '2' && e.properties.attempt === '1')).toBe(true);
    expect(files.reduce((n, e) => n + e.measurements.rowsThisRun, 0)).toBe(published.totalRows);
    expect(files.map((e) => e.measurements.rows).sort()).toEqual(published.files.map((f) => f.rows).sort());
    for (const e of files) expect(e.measurements.seconds).toBeGreaterThan(0);

    const completed = collector.events('InventorySnapshotCompleted');
    expect(completed).toHaveLength(1); // exactly one worker saw its write flip the snapshot
    expect(completed[0].properties).toMatchObject({ snapshotId: id, table: `SoftwareInventory${id}`, method: 'files' });
    expect(completed[0].measurements).toMatchObject({ files: 2, rows: published.totalRows, rejected: 0, duplicates: 0 });
    expect(collector.events('InventorySnapshotFailed')).toEqual([]);

    const rows = collector.metrics('InventoryRowsWritten');
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.reduce((n, m) => n + m.value, 0)).toBe(published.totalRows);

    // the SDK sent nothing else of ours, and nothing secret: no SAS signature, no token
    const all = collector.bodies.join('\n');
    expect(all).not.toMatch(/\bsig=(?!REDACTED)/i);
    expect(all).not.toContain(TOKEN);
  }, 120_000);

  it('an unreachable collector never costs the ingest: the run completes and exits', async () => {
    const gone = await startTelemetryCollector();
    const url = gone.url;
    await gone.close(); // nothing listens there any more
    sim = await startDefenderSimulator({
      blobConnectionString: azurite().connectionString,
      containerName: `t-${randomUUID().slice(0, 8)}`,
      devices: 20,
      files: 1,
      seed: 6,
      generatedTime: nextGeneratedTime(),
    });
    const published = await sim.publish();
    const run = await runIngest(withTelemetry(baseEnv(sim.baseUrl), { url }).env, 90_000, { preload: [FAKE_MI] });
    expect(run.code).toBe(0);
    expect(run.summary).toMatchObject({ status: 'complete', rows: published.totalRows });
  }, 120_000);
});

describe('telemetry events from the handlers', () => {
  it('a file that cannot be read and a poison message each report InventorySnapshotFailed; the timer reports its errors', async () => {
    const fx = exportFixture(azurite());
    const good = gz(
      records(30, 3, 'tel-')
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    await fx.upload([good, Buffer.from('this is not gzip at all')]);
    const generatedTime = nextGeneratedTime();
    const config = testConfig(azurite());
    const services = createServices(config);
    const telemetry = memoryTelemetry();
    const log = memoryLog();
    const timer = await runExportTimer(timerDeps(services, log, { telemetry, defender: fakeDefender(generatedTime, () => fx.urls()) }));
    expect(telemetry.events.map((e) => [e.name, e.properties.action])).toEqual([['InventoryExportChecked', 'created']]);
    expect(telemetry.flushes).toBe(1);

    const messages = (await services.queue.receiveMessages({ numberOfMessages: 2 })).receivedMessageItems;
    expect(messages).toHaveLength(2);
    for (const m of messages) await ingestExportFile(m.messageText, ingestDeps(services, log, { telemetry }));
    const byStatus = telemetry.events
      .filter((e) => e.name === 'InventoryFileIngested')
      .map((e) => e.properties.status)
      .sort();
    expect(byStatus).toEqual(['complete', 'failed']);
    const failed = telemetry.events.find((e) => e.name === 'InventorySnapshotFailed')!;
    expect(failed.properties).toMatchObject({ snapshotId: timer.snapshotId, cause: 'file', fileIndex: '1' });
    expect(failed.properties.reason).toMatch(/not a valid gzip file/);
    expect(telemetry.flushes).toBe(3); // once per invocation

    // the poison handler: the host gave up on file 1's message
    const poison = encodeMessage({
      snapshotId: timer.snapshotId,
      kind: 'SoftwareInventory',
      fileIndex: 1,
      fileCount: 2,
      url: fx.urls()[1],
      generatedTime: generatedTime.toISOString(),
    });
    await handlePoisonMessage(poison, { catalog: services.catalog, log, telemetry }, 5);
    expect(telemetry.events.at(-1)).toMatchObject({
      name: 'InventorySnapshotFailed',
      properties: { cause: 'poison', fileIndex: '1', snapshotId: timer.snapshotId },
    });
    expect(telemetry.flushes).toBe(4);
    // no SAS signature in any property, whatever the reason text carried
    expect(JSON.stringify(telemetry.events)).not.toMatch(/\bsig=(?!REDACTED)/i);
    expect((await tables(azurite().connectionString).snapshot(timer.snapshotId))!.Status).toBe('failed');

    // Defender refuses the call: the timer run reports an error event, and still throws
    const refusing = { getExportFiles: async () => Promise.reject(new Error('HTTP 403 from Defender: Forbidden')) };
    await expect(runExportTimer(timerDeps(services, log, { telemetry, defender: refusing }))).rejects.toThrow(/403/);
    expect(telemetry.events.at(-1)).toMatchObject({ name: 'InventoryExportChecked', properties: { action: 'error' } });
    expect(telemetry.events.at(-1)!.properties.detail).toMatch(/403/);
    expect(telemetry.flushes).toBe(5);
  }, 60_000);

  it("EXPORT_METHOD=json: the timer run reports the paged snapshot's completion and its check", async () => {
    const sim = await startDefenderSimulator({
      blobConnectionString: azurite().connectionString,
      containerName: `j-${randomUUID().slice(0, 8)}`,
      devices: 20,
      seed: 8,
      generatedTime: nextGeneratedTime(),
    });
    try {
      const published = await sim.publish();
      const config = testConfig(azurite(), { DEFENDER_API_BASE_URL: sim.baseUrl, EXPORT_METHOD: 'json', JSON_PAGE_SIZE: '100' });
      const telemetry = memoryTelemetry();
      const summary = await runIngestCycle({ config, log: silentLog, services: { ...createServices(config), telemetry } });
      expect(summary).toMatchObject({ status: 'complete', rows: published.totalRows });
      const completed = telemetry.events.filter((e) => e.name === 'InventorySnapshotCompleted');
      expect(completed).toHaveLength(1);
      expect(completed[0]).toMatchObject({
        properties: { snapshotId: summary.snapshotId, method: 'json' },
        measurements: { files: 1, rows: published.totalRows },
      });
      expect(telemetry.events.find((e) => e.name === 'InventoryExportChecked')).toMatchObject({
        properties: { method: 'json', action: 'created', status: 'complete' },
      });
    } finally {
      await sim.stop();
    }
  }, 60_000);
});
