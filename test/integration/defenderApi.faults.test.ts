// Defender API faults at the level the user sees: either the export lands row-for-row after the
// client rides out the faults, or the timer stops with a clear error and registers nothing.
import { odata } from '@azure/data-tables';
import { createServices, timerDeps } from '../../shared/app/appContext';
import { DefenderClient } from '../../shared/defender/defenderClient';
import { runExportTimer } from '../../shared/timer/exportCollector';
import { memoryLog, silentLog } from '../../shared/core/log';
import { startDefenderSimulator, DefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { runIngestCycle } from '../../tools/runner/localRunner';
import { useAzurite } from '../helpers/azurite';
import { ApiFault, ApiFaultProxy, startApiFaultProxy } from '../helpers/apiFaultProxy';
import { testConfig } from '../helpers/exportFixture';

const azurite = useAzurite();
let sim: DefenderSimulator;
let proxy: ApiFaultProxy;

beforeAll(async () => {
  sim = await startDefenderSimulator({ blobConnectionString: azurite().connectionString, devices: 80, seed: 11 });
  await sim.publish();
  proxy = await startApiFaultProxy(sim.baseUrl);
});
afterAll(async () => {
  await proxy?.close();
  await sim?.stop();
});

/** The real client with a virtual clock: waits are recorded and skipped, and the 5-calls-per-minute budget sees time pass. */
function client(waits: number[], log = silentLog, maxAttempts = 12) {
  let t = Date.now();
  return new DefenderClient({
    now: () => t,
    baseUrl: proxy.baseUrl,
    scope: 'https://api.securitycenter.microsoft.com/.default',
    log,
    downloadPolicy: { allowlist: ['*.blob.core.windows.net'], allowLoopback: true },
    sleep: async (ms) => {
      waits.push(ms);
      t += ms;
    },
    requestTimeoutMs: 500,
    maxAttempts,
    maxRetryAfterSeconds: 120,
  });
}

function setup() {
  const config = testConfig(azurite(), { DEFENDER_API_BASE_URL: proxy.baseUrl });
  return { config, services: createServices(config) };
}

describe('Defender API faults', () => {
  it('rides out a storm (429 ×3 forms, 500, 502, 503, reset, hang) and then lands the export row-for-row', async () => {
    const { config, services } = setup();
    const inFuture = new Date(Date.now() + 30_000).toUTCString();
    proxy.queue = [
      { kind: 'status', status: 429, retryAfter: '2' },
      { kind: 'status', status: 429, retryAfter: inFuture },
      { kind: 'status', status: 429, retryAfter: '86400' },
      { kind: 'status', status: 500 },
      { kind: 'status', status: 502 },
      { kind: 'status', status: 503 },
      { kind: 'reset' },
      { kind: 'hang' },
    ];
    const waits: number[] = [];
    const log = memoryLog();
    const summary = await runIngestCycle({ config, log, services, timer: { defender: client(waits, log) } });
    expect(proxy.queue).toHaveLength(0);
    expect(waits.slice(0, 3)).toEqual([2000, expect.any(Number), 120_000]); // seconds honoured, date form converted, absurd capped
    expect(waits[1]).toBeGreaterThan(20_000);
    expect(waits[1]).toBeLessThanOrEqual(31_000);
    expect(log.lines.some((l) => /429/.test(l))).toBe(true);

    const published = sim.current()!;
    expect(summary).toMatchObject({ status: 'complete', rows: published.totalRows, rejected: 0, duplicates: 0 });
    const landed = new Set<string>();
    for await (const e of services.inventory
      .table(summary.table)
      .listEntities<{ DeviceId: string; SoftwareVendor: string; SoftwareName: string; SoftwareVersion: string }>()) {
      landed.add(`${e.DeviceId}|${e.SoftwareVendor}|${e.SoftwareName}|${e.SoftwareVersion}`);
    }
    const expected = new Set([...published.records()].map((r) => `${r.deviceId}|${r.softwareVendor}|${r.softwareName}|${r.softwareVersion}`));
    expect(landed).toEqual(expected);
  });

  it('gives up after its attempts with a clear error and registers nothing', async () => {
    const { services } = setup();
    proxy.queue = Array.from({ length: 3 }, (): ApiFault => ({ kind: 'status', status: 503 }));
    const before = await countSnapshots(services);
    await expect(runExportTimer(timerDeps(services, silentLog, { defender: client([], silentLog, 3) }))).rejects.toThrow(/gave up after 3 attempts/);
    expect(await countSnapshots(services)).toBe(before);
  });

  it.each<[string, ApiFault[], RegExp]>([
    [
      'invalid JSON',
      [
        { kind: 'body', body: '<html>login</html>' },
        { kind: 'body', body: '{"exportFiles": [' },
      ],
      /JSON/i,
    ],
    ['exportFiles missing', [{ kind: 'rewrite', edit: ({ exportFiles: _drop, ...rest }) => rest }], /exportFiles/],
    [
      'a URL on a disallowed host',
      [{ kind: 'rewrite', edit: (j) => ({ ...j, exportFiles: ['https://evil.example.com/x.json.gz?sig=SECRET'] }) }],
      /evil\.example\.com/,
    ],
    [
      'http on a non-loopback host',
      [{ kind: 'rewrite', edit: (j) => ({ ...j, exportFiles: ['http://acct.blob.core.windows.net/c/x.json.gz?sig=SECRET'] }) }],
      /https/,
    ],
    ['an unparseable generatedTime', [{ kind: 'rewrite', edit: (j) => ({ ...j, generatedTime: 'soon' }) }], /generatedTime/],
  ])('%s: the timer fails clearly, registers no snapshot, queues nothing', async (_name, faults, message) => {
    const { services } = setup();
    proxy.queue = [...faults];
    const before = await countSnapshots(services);
    const log = memoryLog();
    const err = await runExportTimer(timerDeps(services, log, { defender: client([], log) })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('SECRET');
    expect(log.lines.join('\n')).not.toContain('SECRET');
    expect(await countSnapshots(services)).toBe(before);
    await services.queue.createIfNotExists();
    expect((await services.queue.peekMessages()).peekedMessageItems).toHaveLength(0);
    proxy.queue = [];
  });
});

async function countSnapshots(services: ReturnType<typeof createServices>): Promise<number> {
  await services.catalog.ensureTables();
  let n = 0;
  for await (const _ of services.catalog.catalog.listEntities({ queryOptions: { filter: odata`PartitionKey eq 'SoftwareInventory'` } })) n++;
  return n;
}
