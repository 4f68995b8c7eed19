// Leaving a snapshot abandoned for real: `npm run ingest` is SIGKILLed part-way through an export (one file
// at a time, so the files end up complete / part-way / queued), optionally with every queued message
// dropped too, so that nothing at all is working on the snapshot any more.
import { randomUUID } from 'node:crypto';
import { QueueClient } from '@azure/storage-queue';
import { FileRow } from '../../shared/core/contracts';
import { Azurite, azuriteConnectionString } from '../../tools/runner/azurite';
import { DefenderSimulator, startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { nextGeneratedTime } from './exportFixture';
import { checkpointOf, holdAfter, startFaultProxy } from './faultProxy';
import { killWhen, localIngestEnv, startIngest, waitFor } from './ingestProcess';
import { Entity, tables } from './inventoryTables';

export const VISIBILITY = 5;

export function ingestEnv(azurite: Azurite, sim: { baseUrl: string }): Record<string, string> {
  return localIngestEnv(azurite.connectionString, sim.baseUrl, 'stale', {
    INGEST_VISIBILITY_TIMEOUT_SECONDS: String(VISIBILITY),
    // one file at a time: when the kill comes, file 0 is complete, file 1 is part-way, file 2 is still queued
    INGEST_FILE_CONCURRENCY: '1',
  });
}

/**
 * 3 files of ~6,000 rows: each passes a checkpoint (every 5,000 rows) well before its end. The first export
 * gets a generatedTime of its own (tests sharing one Azurite never share a snapshot id by accident).
 */
export function startSim(azurite: Azurite, seed: number, generatedTime = nextGeneratedTime()): Promise<DefenderSimulator> {
  return startDefenderSimulator({
    blobConnectionString: azurite.connectionString,
    containerName: `s-${randomUUID().slice(0, 8)}`,
    devices: 650,
    files: 3,
    seed,
    generatedTime,
  });
}

/**
 * Run until file 1 has a checkpoint but is not complete, SIGKILL; with dropMessages, clear the queue too.
 * The worker's table traffic goes through a proxy that lets file 1's first checkpoint through and then holds
 * every later request: the worker is frozen part-way however fast or slow the machine is (polling the
 * tables and killing raced the last ~1,000 rows of the file on a fast machine).
 */
export async function killPartWay(azurite: Azurite, env: Record<string, string>, snapshotId: string, dropMessages: boolean): Promise<Entity<FileRow>[]> {
  const t = tables(azurite.connectionString);
  const freeze = holdAfter((r) => {
    const c = checkpointOf(r);
    return c?.snapshotId === snapshotId && c.rowKey === '00001';
  });
  const proxy = await startFaultProxy(azurite.tablePort, freeze);
  try {
    const viaProxy = { ...env, AzureWebJobsStorage: azuriteConnectionString(azurite.blobPort, azurite.queuePort, proxy.port) };
    await killWhen(startIngest(viaProxy), 'file 1 part-way', async () =>
      (await t.files(snapshotId)).find((f) => f.rowKey === '00001' && f.LinesCommitted > 0 && f.Status !== 'complete'),
    );
  } finally {
    await proxy.close();
  }
  // the checkpoint can only be seen in the table after it passed the proxy; if not, the predicate is stale
  expect(freeze.fired()).toBe(true);
  if (dropMessages) await new QueueClient(azurite.connectionString, env.INGEST_QUEUE).clearMessages();
  const files = await t.files(snapshotId);
  expect(files.map((f) => f.Status)).toEqual(['complete', 'ingesting', 'queued']);
  return files;
}

/** Wait until nothing can be working on the files any more: leases ran out and no update for staleAfterMs. */
export async function waitUntilAbandoned(azurite: Azurite, snapshotId: string, staleAfterMs: number): Promise<void> {
  const t = tables(azurite.connectionString);
  await waitFor(
    'leases expired and rows idle',
    async () => {
      const now = Date.now();
      return (await t.files(snapshotId)).every(
        (f) =>
          f.Status === 'complete' ||
          ((!f.LeaseExpiresAt || new Date(f.LeaseExpiresAt).getTime() < now) && now - new Date(f.UpdatedAt!).getTime() > staleAfterMs),
      );
    },
    60_000,
    250,
  );
}
