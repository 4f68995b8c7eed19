// Process faults for real: `npm run ingest` (tools/bin/ingest.ts) runs as a child process against a real
// Azurite and a real Defender API on loopback (the simulator, or a stub serving hand-made files), is
// SIGKILLed mid-file and mid-transaction, and restarted. Outcomes are checked row for row.
import { randomUUID } from 'node:crypto';
import { odata } from '@azure/data-tables';
import { REJECTS_TABLE, rejectRowKey, snapshotIdFor } from '../../shared/core/contracts';
import { DefenderSimulator, startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { useAzurite } from '../helpers/azurite';
import { startExportApi } from '../helpers/exportApi';
import { exportFixture, gz, nextGeneratedTime, Rec, records } from '../helpers/exportFixture';
import { checkpointOf, FaultProxy, holdAfter, startFaultProxy } from '../helpers/faultProxy';
import { localIngestEnv, runIngest, startIngest, waitFor } from '../helpers/ingestProcess';
import { azuriteConnectionString } from '../../tools/runner/azurite';
import { compareSets, expectExactSnapshot, KeyFields, recordIdentity, rowIdentity, tables } from '../helpers/inventoryTables';

const azurite = useAzurite();
const VISIBILITY = 5;

function envFor(baseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return localIngestEnv(azurite().connectionString, baseUrl, 'proc', { INGEST_VISIBILITY_TIMEOUT_SECONDS: String(VISIBILITY), ...extra });
}

/** The same settings with table traffic through a proxy (blobs and queues stay direct). */
function viaProxy(env: Record<string, string>, proxy: FaultProxy): Record<string, string> {
  return { ...env, AzureWebJobsStorage: azuriteConnectionString(azurite().blobPort, azurite().queuePort, proxy.port) };
}

type Extra = { dupOf: number } | { reject: string } | { blank: true };

/**
 * An export file built line by line: after record i come `extras[i]` (a duplicate of an earlier record, a
 * bad line, a blank line). Remembers what it must yield: its rows, duplicates and reject keys.
 */
function buildFile(index: number, recs: Rec[], extras: Record<number, Extra[]>) {
  const lines: string[] = [];
  const rejectKeys: string[] = [];
  let duplicates = 0;
  recs.forEach((r, i) => {
    lines.push(JSON.stringify(r));
    for (const e of extras[i] ?? []) {
      if ('dupOf' in e) {
        lines.push(JSON.stringify(recs[e.dupOf]));
        duplicates++;
      } else if ('reject' in e) {
        lines.push(e.reject);
        rejectKeys.push(rejectRowKey(index, lines.length));
      } else {
        lines.push('');
      }
    }
  });
  return { gz: gz(lines.join('\n') + '\n'), recs, rejectKeys, duplicates, rejected: rejectKeys.length, lines: lines.length };
}

describe('process faults: SIGKILL of npm run ingest', () => {
  let sim: DefenderSimulator | undefined;
  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
  });

  it("SIGKILL mid-file: the restart takes the dead worker's file over at once and resumes from its checkpoint; exact rows", async () => {
    sim = await startDefenderSimulator({
      blobConnectionString: azurite().connectionString,
      containerName: `c-${randomUUID().slice(0, 8)}`,
      devices: 600,
      files: 2,
      seed: 11,
      generatedTime: nextGeneratedTime(),
    });
    const published = await sim.publish();
    expect(Math.min(...published.files.map((f) => f.rows))).toBeGreaterThan(5000); // a checkpoint (every 5,000 rows) before the end of each file
    const id = snapshotIdFor(published.generatedTime);
    const t = tables(azurite().connectionString);
    const env = envFor(sim.baseUrl);

    // The first run's table traffic passes a proxy that holds every request after the first checkpoint, so
    // the kill always finds that file part-way (polling and killing raced the file's last rows on a fast machine).
    const proxy = await startFaultProxy(
      azurite().tablePort,
      holdAfter((r) => checkpointOf(r)?.snapshotId === id),
    );
    const first = startIngest(viaProxy(env, proxy));
    let victim: Awaited<ReturnType<typeof t.files>>[number];
    try {
      victim = await waitFor(
        'a file with a checkpoint but not complete',
        async () => (await t.files(id)).find((f) => f.LinesCommitted > 0 && f.Status !== 'complete'),
        40_000,
        10,
      );
    } finally {
      await first.kill();
      await proxy.close();
    }
    const killedAt = Date.now();
    const dead = (await t.files(id)).find((f) => f.rowKey === victim.rowKey)!;
    expect(dead).toMatchObject({ Status: 'ingesting', Attempts: 1 });
    expect(dead.LinesCommitted).toBeGreaterThan(0);
    expect(dead.LeaseOwner).toMatch(/^local-/);
    expect(new Date(dead.LeaseExpiresAt!).getTime()).toBeGreaterThan(killedAt); // the dead worker's lease is still live

    const second = await runIngest(env, 60_000);
    expect(second.code).toBe(0);
    // the redelivered message took its own dead handler's lease over: no "another worker holds it … retrying later" wait
    const victimLabel = `file ${Number(victim.rowKey) + 1}/2`;
    expect(second.output).not.toContain(`${victimLabel}: another worker holds it`);
    expect(second.output).toContain(`${victimLabel}: resuming after line ${dead.LinesCommitted} (${dead.RowsWritten} rows already written), attempt 2`);
    // bounded by the visibility timeout plus the work left, not by the 2-minute default lease
    expect(second.ms).toBeLessThan(60_000);
    const { files } = await expectExactSnapshot(azurite().connectionString, published);
    expect(files.find((f) => f.rowKey === victim.rowKey)!.Attempts).toBe(2);
    expect(second.summary).toMatchObject({ snapshotId: id, status: 'complete', rows: published.totalRows, duplicates: 0, rejected: 0 });
  }, 120_000);

  it('SIGKILL at random moments during writes, several times: exact rows, duplicates and rejects after the last restart', async () => {
    const r0 = records(11000, 90, 'mt0-');
    const r1 = records(8000, 70, 'mt1-');
    const f0 = buildFile(0, r0, {
      2999: [{ reject: '{"deviceId": "cut-off' }],
      4500: [{ blank: true }],
      // after the first checkpoint (5,000 rows): a duplicate of a line before it, and a record without a version
      5999: [{ dupOf: 100 }, { reject: JSON.stringify({ ...r0[6000], deviceId: 'mt0-x', softwareVersion: null }) }],
      7999: [{ dupOf: 7500 }],
    });
    const f1 = buildFile(1, r1, {
      1000: [{ reject: JSON.stringify({ ...r1[1000], deviceId: 'mt1-x', numberOfWeaknesses: 'lots' }) }],
      6500: [{ dupOf: 10 }],
    });
    const fx = exportFixture(azurite());
    await fx.upload([f0.gz, f1.gz]);
    const generatedTime = nextGeneratedTime();
    const api = await startExportApi(() => ({ exportFiles: fx.urls(), generatedTime }));
    const id = snapshotIdFor(generatedTime);
    const t = tables(azurite().connectionString);
    const env = envFor(api.baseUrl);
    try {
      // Each round: start the runner, let it commit at least one new checkpoint (so the kills walk through
      // the files instead of repeating the first segment), then SIGKILL it at a random moment.
      // A proxy caps each round: after the round's first checkpoint it lets 1–8 transactions (≤ 800 rows)
      // through and then holds everything, so however fast the machine, no round can finish a file (each has
      // ≥ 1,000 lines after any checkpoint) and every round leaves work for the next one.
      const committed = async () => (await t.files(id)).reduce((n, f) => n + (f.RowsWritten ?? 0), 0);
      const kills: { afterMs: number; committed: number; landed: number }[] = [];
      let before = 0;
      for (let k = 0; k < 2; k++) {
        let budget: number | undefined;
        const proxy = await startFaultProxy(azurite().tablePort, (r) => {
          if (budget === 0) return { hold: true };
          if (budget === undefined && checkpointOf(r)?.snapshotId === id) budget = 1 + Math.floor(Math.random() * 8);
          else if (budget !== undefined && r.url.includes('$batch')) budget--;
          return undefined;
        });
        const p = startIngest(viaProxy(env, proxy));
        const progressed = await Promise.race([
          waitFor('a new checkpoint', async () => (await committed()) > before, 45_000, 20).then(() => true),
          p.exited.then(() => false),
        ]);
        if (!progressed) {
          await proxy.close();
          break;
        }
        const afterMs = Math.floor(Math.random() * 1000);
        await Promise.race([new Promise((r) => setTimeout(r, afterMs)), p.exited]);
        await p.kill();
        await proxy.close();
        const files = await t.files(id);
        if (files.every((f) => f.Status === 'complete')) break;
        before = files.reduce((n, f) => n + f.RowsWritten, 0);
        const landed = (await t.all(`SoftwareInventory${id}`)).length;
        kills.push({ afterMs, committed: before, landed });
      }
      console.log(`kills: ${JSON.stringify(kills)}`);
      expect(kills).toHaveLength(2);
      // at least one kill left rows in the table beyond the checkpoints: a write really was in flight
      expect(kills.some((k) => k.landed > k.committed)).toBe(true);

      const last = await runIngest(env, 90_000);
      expect(last.code).toBe(0);

      const rows = await t.all<KeyFields>(`SoftwareInventory${id}`);
      const diff = compareSets([...f0.recs, ...f1.recs].map(recordIdentity), rows.map(rowIdentity));
      expect(diff.missing).toEqual([]);
      expect(diff.extra).toEqual([]);
      expect(rows).toHaveLength(19000);
      const snap = await t.snapshot(id);
      expect(snap).toMatchObject({
        Status: 'complete',
        FileCount: 2,
        FilesCompleted: 2,
        RowCount: 19000,
        DuplicateCount: f0.duplicates + f1.duplicates,
        RejectedCount: f0.rejected + f1.rejected,
      });
      expect([f0.duplicates + f1.duplicates, f0.rejected + f1.rejected]).toEqual([3, 3]);
      const files = await t.files(id);
      expect(files.map((f) => [f.Status, f.RowsWritten, f.Duplicates, f.Rejected, f.LinesCommitted])).toEqual([
        ['complete', 11000, f0.duplicates, f0.rejected, f0.lines],
        ['complete', 8000, f1.duplicates, f1.rejected, f1.lines],
      ]);
      const rejects = await t.all(REJECTS_TABLE, odata`PartitionKey eq ${id}`);
      expect(rejects.map((r) => r.rowKey).sort()).toEqual([...f0.rejectKeys, ...f1.rejectKeys].sort());
    } finally {
      await api.close();
    }
  }, 150_000);
});
