// A Table Storage fault at the worst moment: every file is complete, and the catalog update that flips the
// snapshot to `complete` fails (503 on the ETag-guarded update of the InventorySnapshots row, injected by a
// proxy in front of Azurite's table endpoint, for longer than the SDK's own retries). The handler throws,
// the host retries the message; the redelivery must settle the flip instead of leaving a snapshot whose rows
// have all landed `ingesting` until the next scheduled timer run.
import { randomUUID } from 'node:crypto';
import { createServices, ingestDeps, timerDeps } from '../../shared/app/appContext';
import { CATALOG_TABLE, snapshotIdFor } from '../../shared/core/contracts';
import { ingestExportFile } from '../../shared/ingest/fileWorker';
import { runExportTimer } from '../../shared/timer/exportCollector';
import { memoryLog, silentLog } from '../../shared/core/log';
import { azuriteConnectionString } from '../../tools/runner/azurite';
import { startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { useAzurite } from '../helpers/azurite';
import { exportFixture, fakeDefender, gz, jsonl, nextGeneratedTime, records, testConfig } from '../helpers/exportFixture';
import { startFaultProxy } from '../helpers/faultProxy';
import { localIngestEnv, runIngest } from '../helpers/ingestProcess';
import { expectExactSnapshot, tables } from '../helpers/inventoryTables';

const azurite = useAzurite();

/**
 * A proxy in front of Azurite's tables whose next `failFlips(n)` ETag-guarded merges of a snapshot row
 * (refresh/flip) answer 503; the timer's own writes go through.
 */
async function flipFaultProxy() {
  let left = 0;
  const proxy = await startFaultProxy(azurite().tablePort, (r) => {
    if (left > 0 && r.method === 'PATCH' && r.url.includes(`/${CATALOG_TABLE}(`) && r.headers['if-match'] && r.headers['if-match'] !== '*') {
      left--;
      return { status: 503, body: { 'odata.error': { code: 'ServerBusy', message: { lang: 'en-US', value: 'The server is busy.' } } } };
    }
    return undefined;
  });
  return { proxy, failFlips: (n: number) => void (left = n) };
}

describe('catalog update faults', () => {
  it('npm run ingest: the flip to complete fails after the last file completed; the run still ends with the snapshot complete', async () => {
    const sim = await startDefenderSimulator({
      blobConnectionString: azurite().connectionString,
      containerName: `f-${randomUUID().slice(0, 8)}`,
      devices: 60,
      files: 1,
      seed: 7,
      generatedTime: nextGeneratedTime(),
    });
    const { proxy, failFlips } = await flipFaultProxy();
    try {
      const published = await sim.publish();
      const id = snapshotIdFor(published.generatedTime);
      failFlips(4); // the data-tables client tries 4 times (1 + 3 retries): one whole handler attempt fails
      const run = await runIngest(
        localIngestEnv(azuriteConnectionString(azurite().blobPort, azurite().queuePort, proxy.port), sim.baseUrl, 'flip', {
          AzureFunctionsJobHost__extensions__queues__visibilityTimeout: '00:00:01',
        }),
        90_000,
      );
      expect(proxy.faults).toBe(4);
      expect(run.output).toContain('handler failed on delivery 1/5');
      expect(run.code).toBe(0);
      expect(run.summary).toMatchObject({ snapshotId: id, status: 'complete', rows: published.totalRows });
      await expectExactSnapshot(azurite().connectionString, published);
      expect((await tables(azurite().connectionString).snapshot(id))!.CompletedAt).toBeInstanceOf(Date);
    } finally {
      await proxy.close();
      await sim.stop();
    }
  }, 120_000);

  it('the handler: a redelivery of a message whose file is already complete settles a flip that failed', async () => {
    const { proxy, failFlips } = await flipFaultProxy();
    try {
      const config = testConfig(azurite(), { AzureWebJobsStorage: azuriteConnectionString(azurite().blobPort, azurite().queuePort, proxy.port) });
      const fx = exportFixture(azurite());
      await fx.upload([gz(jsonl(records(300, 10)))]);
      const services = createServices(config);
      const timer = await runExportTimer(timerDeps(services, silentLog, { defender: fakeDefender(nextGeneratedTime(), () => fx.urls()) }));
      const [m] = (await services.queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;

      failFlips(4);
      await expect(ingestExportFile(m.messageText, ingestDeps(services, silentLog))).rejects.toMatchObject({ statusCode: 503 });
      expect((await services.catalog.getFile(timer.snapshotId, 0))!.Status).toBe('complete');
      expect((await services.catalog.getSnapshot('SoftwareInventory', timer.snapshotId))!.Status).toBe('ingesting');

      // the host retries the message: the file is complete, and the snapshot is settled now, not at the next timer run
      const log = memoryLog();
      const again = await ingestExportFile(m.messageText, ingestDeps(services, log));
      expect(again).toMatchObject({ status: 'skipped', detail: 'file already complete' });
      expect((await services.catalog.getSnapshot('SoftwareInventory', timer.snapshotId))!).toMatchObject({
        Status: 'complete',
        RowCount: 300,
        FilesCompleted: 1,
      });
    } finally {
      await proxy.close();
    }
  });
});
