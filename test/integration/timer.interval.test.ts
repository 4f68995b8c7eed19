// SNAPSHOT_INTERVAL_HOURS against Azurite, through the timer handler with its own clock: the timer runs
// hourly, but a new snapshot starts only when no complete snapshot was generated within the interval; the
// runs in between repair an unfinished snapshot whose export Defender still serves, and otherwise cost
// the one API call. Each test lives in its own year, so snapshots of earlier tests are never "recent".
import { AppServices, createServices, timerDeps } from '../../shared/app/appContext';
import { SOFTWARE_INVENTORY, snapshotIdFor } from '../../shared/core/contracts';
import { runExportTimer } from '../../shared/timer/exportCollector';
import { memoryLog, silentLog } from '../../shared/core/log';
import { startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { runIngestCycle } from '../../tools/runner/localRunner';
import { useAzurite } from '../helpers/azurite';
import { exportFixture, fakeDefender, gz, jsonl, records, testConfig } from '../helpers/exportFixture';

const azurite = useAzurite();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let year = 2040;
/** Midnight of a year no earlier test used. */
function era(): number {
  return Date.UTC(++year, 0, 1);
}
const at = (ms: number) => () => new Date(ms);

async function tableNames(services: AppServices): Promise<string[]> {
  const names: string[] = [];
  for await (const t of services.inventory.tableService.listTables()) names.push(t.name!);
  return names;
}

async function messageCount(services: AppServices): Promise<number> {
  return (await services.queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems.length;
}

function setup(interval = '24') {
  const config = testConfig(azurite(), { SNAPSHOT_INTERVAL_HOURS: interval });
  return { config, services: createServices(config), fx: exportFixture(azurite()) };
}

describe('SNAPSHOT_INTERVAL_HOURS', () => {
  it('within the interval a newer export starts no snapshot: one API call, no catalog row, no table, no message; the outcome and the log name the snapshot left alone', async () => {
    const { config, services, fx } = setup();
    await fx.upload([gz(jsonl(records(20, 2, 'ia')))]);
    const base = era();
    const first = await runIngestCycle({
      config,
      log: silentLog,
      services,
      timer: { defender: fakeDefender(new Date(base), () => fx.urls()), now: at(base + 600_000) },
    });
    expect(first.status).toBe('complete');

    const newer = new Date(base + 3 * HOUR);
    const defender = fakeDefender(newer, () => fx.urls());
    const log = memoryLog();
    const outcome = await runExportTimer(timerDeps(services, log, { defender, now: at(base + 5 * HOUR) }));
    expect(outcome.kinds).toEqual([
      { kind: 'SoftwareInventory', action: 'none', snapshotId: first.snapshotId, tableName: first.table, status: 'complete', fileCount: 1, filesQueued: 0 },
    ]);
    expect(defender.calls).toBe(1);
    const newId = snapshotIdFor(newer);
    expect(await services.catalog.getSnapshot(SOFTWARE_INVENTORY, newId)).toBeUndefined();
    expect(await tableNames(services)).not.toContain(`SoftwareInventory${newId}`);
    expect(await messageCount(services)).toBe(0);
    expect(log.lines).toContain(
      `info newest complete snapshot ${first.snapshotId} was generated 5.0 h ago (SNAPSHOT_INTERVAL_HOURS=24): export ${newer.toISOString()} starts no snapshot; ` +
        `the next one starts at the first run after ${new Date(base + DAY).toISOString()}`,
    );

    // npm run ingest in between: its summary describes the snapshot it left alone
    const between = await runIngestCycle({ config, log: silentLog, services, timer: { defender, now: at(base + 6 * HOUR) } });
    expect(between).toMatchObject({ snapshotId: first.snapshotId, table: first.table, status: 'complete', files: 1, rows: 20 });
  }, 60_000);

  it('once the interval has passed (measured from now), the newer export starts a snapshot', async () => {
    const { config, services, fx } = setup();
    await fx.upload([gz(jsonl(records(20, 2, 'ib')))]);
    const base = era();
    await runIngestCycle({ config, log: silentLog, services, timer: { defender: fakeDefender(new Date(base), () => fx.urls()), now: at(base + 600_000) } });
    const newer = new Date(base + 20 * HOUR);
    const blocked = await runExportTimer(timerDeps(services, silentLog, { defender: fakeDefender(newer, () => fx.urls()), now: at(base + DAY - 60_000) }));
    expect(blocked).toMatchObject({ action: 'none', snapshotId: snapshotIdFor(new Date(base)) });
    const started = await runExportTimer(timerDeps(services, silentLog, { defender: fakeDefender(newer, () => fx.urls()), now: at(base + DAY) }));
    expect(started).toMatchObject({ action: 'created', snapshotId: snapshotIdFor(newer), filesQueued: 1 });
  }, 60_000);

  it('0 starts a snapshot for every new export', async () => {
    const { config, services, fx } = setup('0');
    await fx.upload([gz(jsonl(records(20, 2, 'ic')))]);
    const base = era();
    await runIngestCycle({ config, log: silentLog, services, timer: { defender: fakeDefender(new Date(base), () => fx.urls()), now: at(base + 600_000) } });
    const newer = new Date(base + HOUR);
    const outcome = await runExportTimer(timerDeps(services, silentLog, { defender: fakeDefender(newer, () => fx.urls()), now: at(base + HOUR + 60_000) }));
    expect(outcome).toMatchObject({ action: 'created', snapshotId: snapshotIdFor(newer) });
  }, 60_000);

  /** A complete snapshot at base, then an unfinished one an hour later (started while the interval was 0): file B's URL had expired. */
  async function completeThenUnfinished({ config, services, fx }: ReturnType<typeof setup>, base: number) {
    await runIngestCycle({ config, log: silentLog, services, timer: { defender: fakeDefender(new Date(base), () => fx.urls()), now: at(base + 600_000) } });
    const unfinished = new Date(base + HOUR);
    const s = await runIngestCycle({
      config,
      log: silentLog,
      services,
      timer: {
        defender: fakeDefender(unfinished, () => [fx.urls()[0], fx.urls({ expiresInMinutes: -10 })[1]]),
        now: at(base + HOUR + 60_000),
        snapshotIntervalHours: 0,
      },
    });
    expect(s).toMatchObject({ snapshotId: snapshotIdFor(unfinished), status: 'ingesting' });
    expect((await services.catalog.listFiles(s.snapshotId)).map((f) => f.Status)).toEqual(['complete', 'expired']);
    return { unfinished };
  }

  it('within the interval, an unfinished snapshot whose export Defender still serves is repaired (its expired file re-armed) and completes', async () => {
    const env = setup();
    const { config, services, fx } = env;
    await fx.upload([gz(jsonl(records(20, 2, 'id'))), gz(jsonl(records(10, 2, 'ie')))]);
    const base = era();
    const { unfinished } = await completeThenUnfinished(env, base);
    const defender = fakeDefender(unfinished, () => fx.urls());
    const outcome = await runExportTimer(timerDeps(services, silentLog, { defender, now: at(base + 2 * HOUR) }));
    expect(outcome).toMatchObject({ action: 'rearmed', snapshotId: snapshotIdFor(unfinished), filesQueued: 1 });
    const done = await runIngestCycle({ config, log: silentLog, services, timer: { defender, now: at(base + 2 * HOUR + 60_000) } });
    expect(done).toMatchObject({ snapshotId: snapshotIdFor(unfinished), status: 'complete', files: 2, rows: 30 });
  }, 60_000);

  it('within the interval, an unfinished snapshot whose export is gone makes way: the newer export becomes the new snapshot, the old one is superseded', async () => {
    const env = setup();
    const { config, services, fx } = env;
    await fx.upload([gz(jsonl(records(20, 2, 'if'))), gz(jsonl(records(10, 2, 'ig')))]);
    const base = era();
    const { unfinished } = await completeThenUnfinished(env, base);
    const newer = new Date(base + 2 * HOUR);
    const defender = fakeDefender(newer, () => fx.urls());
    const outcome = await runExportTimer(timerDeps(services, silentLog, { defender, now: at(base + 2 * HOUR + 60_000) }));
    expect(outcome).toMatchObject({ action: 'created', snapshotId: snapshotIdFor(newer), filesQueued: 2 });
    expect((await services.catalog.getSnapshot(SOFTWARE_INVENTORY, snapshotIdFor(unfinished)))!).toMatchObject({
      Status: 'failed',
      Error: expect.stringMatching(/^superseded by export/),
    });
    const done = await runIngestCycle({ config, log: silentLog, services, timer: { defender, now: at(base + 2 * HOUR + 120_000) } });
    expect(done).toMatchObject({ snapshotId: snapshotIdFor(newer), status: 'complete', rows: 30 });
  }, 60_000);

  it('within the interval, an unfinished snapshot whose export is gone but whose files are still being worked on holds the newer export back until nothing works on it', async () => {
    const { services, fx } = setup();
    await fx.upload([gz(jsonl(records(20, 2, 'ih')))]);
    const base = era();
    await runIngestCycle({
      config: testConfig(azurite(), { SNAPSHOT_INTERVAL_HOURS: '0' }),
      log: silentLog,
      services,
      timer: { defender: fakeDefender(new Date(base), () => fx.urls()), now: at(base + 600_000) },
    });
    // registered and queued an hour later (interval 0 then); no worker has touched it yet
    const unfinished = new Date(base + HOUR);
    const s1 = await runExportTimer(
      timerDeps(services, silentLog, { defender: fakeDefender(unfinished, () => fx.urls()), now: at(base + HOUR), snapshotIntervalHours: 0 }),
    );
    expect(s1).toMatchObject({ action: 'created', status: 'ingesting' });
    await services.queue.clearMessages();

    const newer = new Date(base + HOUR + 5 * 60_000);
    const held = await runExportTimer(timerDeps(services, silentLog, { defender: fakeDefender(newer, () => fx.urls()), now: at(base + HOUR + 10 * 60_000) }));
    expect(held).toMatchObject({ action: 'none', snapshotId: snapshotIdFor(new Date(base)), status: 'complete' });
    expect(await services.catalog.getSnapshot(SOFTWARE_INVENTORY, snapshotIdFor(newer))).toBeUndefined();
    expect((await services.catalog.getSnapshot(SOFTWARE_INVENTORY, s1.snapshotId))!.Status).toBe('ingesting');

    // an hour later its queued file has been idle past the stale bound: nothing works on it, the newer export replaces it
    const replaced = await runExportTimer(
      timerDeps(services, silentLog, { defender: fakeDefender(newer, () => fx.urls()), now: at(base + 2 * HOUR + 10 * 60_000) }),
    );
    expect(replaced).toMatchObject({ action: 'created', snapshotId: snapshotIdFor(newer) });
    expect((await services.catalog.getSnapshot(SOFTWARE_INVENTORY, s1.snapshotId))!.Status).toBe('failed');
  }, 60_000);

  it('EXPORT_METHOD=json: within the interval a run pages nothing and describes the newest complete snapshot; past it, it pages a new one', async () => {
    const sim = await startDefenderSimulator({ blobConnectionString: azurite().connectionString, devices: 20, seed: 9 });
    try {
      const published = await sim.publish();
      const config = testConfig(azurite(), { DEFENDER_API_BASE_URL: sim.baseUrl, EXPORT_METHOD: 'json', SNAPSHOT_INTERVAL_HOURS: '24' });
      const json = createServices(config);
      const pageCalls = () => sim.requests.filter((r) => r.path.toLowerCase().endsWith('softwareinventorybymachine')).length;
      const base = era();
      const first = await runExportTimer(timerDeps(json, silentLog, { now: at(base) }));
      expect(first).toMatchObject({ action: 'created', status: 'complete' });
      const calls = pageCalls();
      const log = memoryLog();
      const between = await runExportTimer(timerDeps(json, log, { now: at(base + 23 * HOUR) }));
      expect(between.kinds).toEqual([
        {
          kind: 'SoftwareInventory',
          action: 'none',
          snapshotId: first.snapshotId,
          tableName: first.tableName,
          status: 'complete',
          fileCount: 1,
          filesQueued: 0,
        },
      ]);
      expect(pageCalls()).toBe(calls);
      expect(log.lines.some((l) => l.startsWith(`info newest complete snapshot ${first.snapshotId} was generated 23.0 h ago`))).toBe(true);
      const next = await runExportTimer(timerDeps(json, silentLog, { now: at(base + DAY) }));
      expect(next).toMatchObject({ action: 'created', snapshotId: snapshotIdFor(new Date(base + DAY)), status: 'complete' });
      expect((await json.catalog.getSnapshot(SOFTWARE_INVENTORY, next.snapshotId))!.RowCount).toBe(published.totalRows);
    } finally {
      await sim.stop();
    }
  }, 60_000);
});
