// Superseded snapshots for real: a snapshot abandoned part-way (SIGKILL of `npm run ingest`) while Defender
// moves on to a newer export. The next scheduled timer run (the production handler and settings, its clock
// 31 minutes on) marks the old snapshot failed ("superseded …"); its table is never written again (same rows,
// same ETags), leftover messages for it are ignored, and the newer export lands exactly.

/** The next scheduled run of the production timer, once the dead workers' files count as abandoned. */
async function nextScheduledRun(env: Record<string, string>) {
  const log = memoryLog();
  const outcome = await runExportTimer(
    timerDeps(createServices(loadConfig({ ...env })), log, { now: () => new Date(Date.now() + DEFAULT_STALE_AFTER_MS + 60_000) }),
  );
  return { outcome, log };
}
import { createHash } from 'node:crypto';
import { createServices, timerDeps } from '../../shared/app/appContext';
import { loadConfig } from '../../shared/core/config';
import { snapshotIdFor } from '../../shared/core/contracts';
import { DEFAULT_STALE_AFTER_MS, runExportTimer } from '../../shared/timer/exportCollector';
import { memoryLog } from '../../shared/core/log';
import { DefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { ingestEnv, killPartWay, startSim } from '../helpers/abandon';
import { useAzurite } from '../helpers/azurite';
import { runIngest } from '../helpers/ingestProcess';
import { expectExactSnapshot, tables } from '../helpers/inventoryTables';

const azurite = useAzurite();

/** Every row's keys and ETag, as one digest (and a count): equal digests mean not one row was written. */
async function tableState(name: string): Promise<{ rows: number; digest: string }> {
  const keys = (await tables(azurite().connectionString).all(name)).map((r) => `${r.partitionKey}|${r.rowKey}|${r.etag}`).sort();
  return { rows: keys.length, digest: createHash('sha256').update(keys.join('\n')).digest('hex') };
}

describe('superseded snapshots', () => {
  let sim: DefenderSimulator | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it('a newer export supersedes an abandoned snapshot: failed "superseded …", its table untouched, its leftover messages ignored', async () => {
    sim = await startSim(azurite(), 23);
    const old = await sim.publish();
    const oldId = snapshotIdFor(old.generatedTime);
    const env = ingestEnv(azurite(), sim);
    const t = tables(azurite().connectionString);

    // killed part-way, queue kept: the dead worker's message for file 1 and file 2's message stay behind
    const oldFiles = await killPartWay(azurite(), env, oldId, false);
    const oldRows = await tableState(`SoftwareInventory${oldId}`);
    expect(oldRows.rows).toBeGreaterThan(0);
    expect(oldRows.rows).toBeLessThan(old.totalRows);

    const newer = await sim.publish(); // the next fleet generation, a later generatedTime
    const newId = snapshotIdFor(newer.generatedTime);
    expect(newId > oldId).toBe(true);

    const { outcome, log } = await nextScheduledRun(env);
    expect(outcome).toMatchObject({ action: 'created', snapshotId: newId, filesQueued: 3 });
    expect(log.lines).toContain(`warn snapshot ${oldId}: superseded by export ${newId}: 2 of 3 file(s) were not complete and can no longer be downloaded`);
    const superseded = (await t.snapshot(oldId))!;
    expect(superseded.Status).toBe('failed');
    expect(superseded.Error).toMatch(new RegExp(`^superseded by export ${newId}: 2 of 3 file\\(s\\) were not complete`));

    // the workers drain the queue: the newer export's files, and the old snapshot's leftovers
    const run = await runIngest(env, 90_000);
    expect(run.code).toBe(0);
    expect(run.summary).toMatchObject({ snapshotId: newId, status: 'complete', rows: newer.totalRows });
    await expectExactSnapshot(azurite().connectionString, newer);
    // the old snapshot's leftover messages were delivered and ignored
    expect(run.output).toContain(`snapshot ${oldId} file 2/3: snapshot is failed; nothing to do`);
    // its table and file rows are exactly as the dead workers left them
    expect(await tableState(`SoftwareInventory${oldId}`)).toEqual(oldRows);
    expect((await t.files(oldId)).map((f) => f.etag)).toEqual(oldFiles.map((f) => f.etag));

    // and a later run leaves both alone
    const again = await runIngest(env, 60_000);
    expect(again.code).toBe(0);
    expect(again.output).toContain(`snapshot ${newId} is already complete`);
    expect((await t.snapshot(oldId))!.etag).toBe(superseded.etag);
  }, 150_000);

  it("a newer export generated in the same minute (same snapshot id) never writes into the older snapshot's table", async () => {
    const minute = new Date(Date.UTC(2025, 0, 2, 3, 4, 0));
    sim = await startSim(azurite(), 24, minute);
    const old = await sim.publish();
    const id = snapshotIdFor(old.generatedTime);
    const env = ingestEnv(azurite(), sim);
    const t = tables(azurite().connectionString);
    await killPartWay(azurite(), env, id, true);
    const oldRows = await tableState(`SoftwareInventory${id}`);

    const newer = await sim.publish({ generatedTime: new Date(minute.getTime() + 30_000) });
    expect(snapshotIdFor(newer.generatedTime)).toBe(id); // yyyyMMddHHmm cannot tell them apart

    const { outcome, log } = await nextScheduledRun(env);
    expect(outcome).toMatchObject({ action: 'none', snapshotId: id, status: 'failed', filesQueued: 0 });
    expect(log.lines.some((l) => l.startsWith(`error snapshot ${id}: Defender now serves export 2025-01-02T03:04:30Z, generated in the same minute`))).toBe(
      true,
    );
    expect(await tableState(`SoftwareInventory${id}`)).toEqual(oldRows);

    // npm run ingest sees the same: nothing to ingest, the snapshot failed, exit 1 — and still not one row written
    const run = await runIngest(env, 60_000);
    expect(run.code).toBe(1);
    expect(run.summary).toMatchObject({ snapshotId: id, status: 'failed' });
    expect(run.output).toContain(`snapshot ${id}: Defender now serves export 2025-01-02T03:04:30Z, generated in the same minute`);
    expect(await tableState(`SoftwareInventory${id}`)).toEqual(oldRows);
    const snap = (await t.snapshot(id))!;
    expect(snap.Status).toBe('failed');
    expect(snap.Error).toMatch(/^superseded by export 2025-01-02T03:04:30Z/);
    expect(snap.GeneratedTime).toEqual(old.generatedTime);
    expect((await t.files(id)).map((f) => f.BlobPath)).toEqual(old.files.map((f) => f.blobUrl));
  }, 150_000);
});
