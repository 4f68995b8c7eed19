// A conditional write whose answer was lost: the file-row write (claim, checkpoint, completion) reaches
// Table Storage and is applied, then the connection is cut before the answer, or a gateway answers 503
// in its place (a proxy in front of Azurite's table endpoint). The SDK retries with the old ETag and meets 412 — our own write. The worker
// must see that the row is in the state it wrote (or still names it) and carry on in the same invocation;
// only a row that another worker really took over is handed back, by re-queueing the message.
import { createServices, ingestDeps, timerDeps } from '../../shared/app/appContext';
import { FILES_TABLE, IngestMessage } from '../../shared/core/contracts';
import { ingestExportFile } from '../../shared/ingest/fileWorker';
import { runExportTimer } from '../../shared/timer/exportCollector';
import { memoryLog, silentLog } from '../../shared/core/log';
import { useAzurite } from '../helpers/azurite';
import { exportFixture, fakeDefender, gz, jsonl, nextGeneratedTime, records, testConfig } from '../helpers/exportFixture';
import { tables } from '../helpers/inventoryTables';
import { startTableFaultProxy, TableFault, TableFaultProxy } from '../helpers/tableFaultProxy';

const azurite = useAzurite();
const ROWS = 250;

/** A one-file export registered through the proxy; the message is taken off the queue so the queue shows only what the worker adds. */
async function armed(proxy: TableFaultProxy) {
  const services = createServices(testConfig(azurite(), { AzureWebJobsStorage: proxy.connectionString }));
  const fx = exportFixture(azurite());
  await fx.upload([gz(jsonl(records(ROWS, 10)))]);
  const timer = await runExportTimer(timerDeps(services, silentLog, { defender: fakeDefender(nextGeneratedTime(), () => fx.urls()) }));
  const [m] = (await services.queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
  await services.queue.deleteMessage(m.messageId, m.popReceipt);
  return { services, id: timer.snapshotId, message: m.messageText };
}

/** Conditional merges of the file row (PATCH with a real If-Match) whose body matches `pick`. */
function isFileWrite(method: string, url: string, body: Buffer, pick: (body: string) => boolean): boolean {
  return method === 'PATCH' && url.includes(`/${FILES_TABLE}(`) && pick(body.toString('utf8'));
}

const cut: TableFault = { kind: 'resetAfterForward' };
const gateway503: TableFault = { kind: 'statusAfterForward', status: 503, code: 'ServerBusy' };
const cases: { name: string; fault: TableFault; pick: (body: string) => boolean }[] = [
  { name: 'the claim', fault: cut, pick: (b) => b.includes('"Attempts"') },
  { name: 'a checkpoint', fault: cut, pick: (b) => b.includes('"LinesCommitted":100') && !b.includes('"Status"') },
  { name: 'the completion', fault: cut, pick: (b) => b.includes('"Status":"complete"') },
  {
    name: 'a checkpoint answered 503 by a gateway after it was applied',
    fault: gateway503,
    pick: (b) => b.includes('"LinesCommitted":100') && !b.includes('"Status"'),
  },
];

describe('a conditional write whose answer was lost', () => {
  let proxy: TableFaultProxy;
  beforeEach(async () => {
    proxy = await startTableFaultProxy(azurite().tablePort, azurite().connectionString);
  });
  afterEach(async () => {
    await proxy.close();
  });

  for (const c of cases) {
    it(`${c.name}: applied, answer lost, the SDK's retry meets 412; the worker carries on and the file and snapshot complete in one invocation`, async () => {
      const { services, id, message } = await armed(proxy);
      let armedFault = true;
      proxy.setRule(({ method, url, body }) => {
        if (armedFault && isFileWrite(method, url, body, c.pick)) {
          armedFault = false;
          return c.fault;
        }
        return undefined;
      });
      const log = memoryLog();
      const out = await ingestExportFile(message, ingestDeps(services, log, { limits: { segmentRows: 100 } }));

      // the fault happened as intended: applied (204), answer lost, then retried against our own new ETag (412)
      const at = proxy.requests.findIndex((r) => r.fault === c.fault.kind);
      expect(at).toBeGreaterThanOrEqual(0);
      expect(proxy.requests[at].status).toBe(204);
      expect(proxy.requests.slice(at + 1).some((r) => r.url === proxy.requests[at].url && r.method === 'PATCH' && r.status === 412)).toBe(true);

      expect(out).toMatchObject({ status: 'complete', rowsWritten: ROWS });
      expect(log.lines.join('\n')).toMatch(/answer was lost/);
      const f = (await services.catalog.getFile(id, 0))!;
      expect(f).toMatchObject({ Status: 'complete', LinesCommitted: ROWS, RowsWritten: ROWS, Rejected: 0, Duplicates: 0, LeaseOwner: '', Attempts: 1 });
      expect(await tables(azurite().connectionString).all(`SoftwareInventory${id}`)).toHaveLength(ROWS);
      expect(await services.catalog.getSnapshot('SoftwareInventory', id)).toMatchObject({ Status: 'complete', FilesCompleted: 1, RowCount: ROWS });
      // nothing handed back: the work is done
      expect((await services.queue.getProperties()).approximateMessagesCount).toBe(0);
    });
  }

  it('a lease really lost to another worker: the message is handed back (re-queued with a delay), never dropped', async () => {
    const { services, id, message } = await armed(proxy);
    const log = memoryLog();
    const out = await ingestExportFile(
      message,
      ingestDeps(services, log, {
        limits: { segmentRows: 100, leaseMs: 1000 },
        // after the first checkpoint another worker takes the file over (its lease outlives ours)
        onProgress: async (p) => {
          if (p.linesCommitted === 100) {
            await services.catalog.updateFile(id, 0, { LeaseOwner: 'another-worker', LeaseExpiresAt: new Date(Date.now() + 60_000) });
          }
        },
      }),
    );
    expect(out).toMatchObject({ status: 'busy' });
    expect(log.lines.join('\n')).toMatch(/another worker took over this file; .*handed back/);
    expect((await services.catalog.getFile(id, 0))!).toMatchObject({ LeaseOwner: 'another-worker', LinesCommitted: 100 });

    // the handed-back message is in the queue (invisible for about a lease) and names the same file
    expect((await services.queue.getProperties()).approximateMessagesCount).toBe(1);
    let back: IngestMessage | undefined;
    for (let i = 0; i < 100 && !back; i++) {
      const [m] = (await services.queue.receiveMessages({ numberOfMessages: 1 })).receivedMessageItems;
      if (m) back = JSON.parse(Buffer.from(m.messageText, 'base64').toString()) as IngestMessage;
      else await new Promise((r) => setTimeout(r, 200));
    }
    expect(back).toMatchObject({ snapshotId: id, fileIndex: 0 });
  });

  it('two live invocations of the same message (same lease owner): the one taken over stops and hands back; the other completes the file exactly', async () => {
    const { services, id, message } = await armed(proxy);
    const gate = () => {
      let open!: () => void;
      let reached!: () => void;
      const opened = new Promise<void>((r) => (open = r));
      const arrived = new Promise<void>((r) => (reached = r));
      return { open, arrived, hold: async () => (reached(), opened) };
    };
    const a = gate();
    const b = gate();
    // the lease owner comes from the message id (Functions host, local runner), so both invocations share it
    // each invocation is held at its own first checkpoint until the test opens its gate
    const run = (g: ReturnType<typeof gate>, log = silentLog) => {
      let held = false;
      const onProgress = async () => (held ? undefined : ((held = true), g.hold()));
      return ingestExportFile(message, ingestDeps(services, log, { workerId: 'msg-same', limits: { segmentRows: 100 }, onProgress }));
    };
    const aLog = memoryLog();
    const first = run(a, aLog);
    await a.arrived;
    const second = run(b);
    await b.arrived; // the second invocation has taken the file over (resuming after line 100) and checkpointed once
    a.open();
    expect(await first).toMatchObject({ status: 'busy' });
    expect(aLog.lines.join('\n')).toMatch(/another worker took over this file/);
    b.open();
    expect(await second).toMatchObject({ status: 'complete', rowsWritten: ROWS });
    expect((await services.catalog.getFile(id, 0))!).toMatchObject({
      Status: 'complete',
      LinesCommitted: ROWS,
      RowsWritten: ROWS,
      Attempts: 2,
      LeaseOwner: '',
    });
    expect(await tables(azurite().connectionString).all(`SoftwareInventory${id}`)).toHaveLength(ROWS);
  });
});
