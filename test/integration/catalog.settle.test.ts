// Every registered file complete ⇒ the snapshot is complete, with exact totals, whatever happened before:
// a failure (poison, superseded) that its files outlived, a lost flip, a file list that grew.
import { createServices, ingestDeps, timerDeps } from '../../shared/app/appContext';
import { encodeMessage, fileRowKey, IngestMessage } from '../../shared/core/contracts';
import { ingestExportFile } from '../../shared/ingest/fileWorker';
import { handlePoisonMessage } from '../../shared/ingest/poisonHandler';
import { runExportTimer } from '../../shared/timer/exportCollector';
import { silentLog } from '../../shared/core/log';
import { stripQuery } from '../../shared/core/redact';
import { useAzurite } from '../helpers/azurite';
import { exportFixture, fakeDefender, gz, jsonl, nextGeneratedTime, records, testConfig } from '../helpers/exportFixture';

const azurite = useAzurite();
const KIND = 'SoftwareInventory';

/** An export of `counts.length` files registered by the timer, its messages in file order. */
async function registered(counts: number[]) {
  const services = createServices(testConfig(azurite()));
  const fx = exportFixture(azurite());
  await fx.upload(counts.map((n, i) => gz(jsonl(records(n, 5, `f${i}-`)))));
  const timer = await runExportTimer(timerDeps(services, silentLog, { defender: fakeDefender(nextGeneratedTime(), () => fx.urls()) }));
  const items = (await services.queue.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems;
  for (const m of items) await services.queue.deleteMessage(m.messageId, m.popReceipt);
  const messages = items.map((m) => JSON.parse(Buffer.from(m.messageText, 'base64').toString()) as IngestMessage).sort((a, b) => a.fileIndex - b.fileIndex);
  const ingest = (i: number) => ingestExportFile(encodeMessage(messages[i]), ingestDeps(services, silentLog));
  const snapshot = async () => (await services.catalog.getSnapshot(KIND, timer.snapshotId))!;
  return { services, fx, id: timer.snapshotId, messages, ingest, snapshot };
}

describe('snapshot settles to complete when every file is', () => {
  it('a file completed by a redelivery after it was poisoned flips the failed snapshot to complete with exact totals', async () => {
    const { services, messages, ingest, snapshot } = await registered([40, 30]);
    expect(await ingest(1)).toMatchObject({ status: 'complete' });
    await handlePoisonMessage(encodeMessage(messages[0]), { catalog: services.catalog, log: silentLog }, 5);
    expect(await snapshot()).toMatchObject({ Status: 'failed', Error: expect.stringMatching(/^file 0: gave up after 5 deliveries/) });

    // the message of a snapshot failed for another reason than superseded is not skipped
    expect(await ingest(0)).toMatchObject({ status: 'complete', rowsWritten: 40 });
    const s = await snapshot();
    expect(s).toMatchObject({ Status: 'complete', Error: '', FileCount: 2, FilesCompleted: 2, RowCount: 70, RejectedCount: 0, DuplicateCount: 0 });
    expect(s.CompletedAt).toBeInstanceOf(Date);
  });

  it('refreshSnapshot flips a snapshot failed as superseded whose files all completed, and says so exactly once', async () => {
    const { services, id, ingest, snapshot } = await registered([20, 25]);
    expect(await ingest(0)).toMatchObject({ status: 'complete' });
    expect(await ingest(1)).toMatchObject({ status: 'complete' });
    // as if the supersede had been decided on a stale read, after both files had landed
    await services.catalog.updateSnapshot(KIND, id, () => ({
      Status: 'failed',
      Error: 'superseded by export 209901010000: 2 of 2 file(s) were not complete',
      FilesCompleted: 0,
      RowCount: 0,
    }));

    const first = await services.catalog.refreshSnapshot(KIND, id, () => new Date());
    expect(first).toMatchObject({ Status: 'complete', Error: '', completedNow: true, FilesCompleted: 2, RowCount: 45 });
    const again = await services.catalog.refreshSnapshot(KIND, id, () => new Date());
    expect(again).toMatchObject({ Status: 'complete', completedNow: false });
    expect(await snapshot()).toMatchObject({ Status: 'complete', FileCount: 2, FilesCompleted: 2, RowCount: 45 });
  });

  it('a failed snapshot with a file still unfinished stays failed, with refreshed totals', async () => {
    const { services, id, ingest, snapshot } = await registered([20, 25]);
    await services.catalog.markSnapshotFailed(KIND, id, 'file 1: gone');
    expect(await ingest(0)).toMatchObject({ status: 'complete' });
    const after = await services.catalog.refreshSnapshot(KIND, id, () => new Date());
    expect(after).toMatchObject({ completedNow: false });
    expect(await snapshot()).toMatchObject({ Status: 'failed', Error: 'file 1: gone', FilesCompleted: 1, RowCount: 20 });
  });

  it('a poison message for a file that is already complete settles a snapshot whose flip was lost', async () => {
    const { services, id, messages, ingest, snapshot } = await registered([15, 10]);
    expect(await ingest(0)).toMatchObject({ status: 'complete' });
    expect(await ingest(1)).toMatchObject({ status: 'complete' });
    // the flip to complete was lost: the row still says ingesting with stale totals
    await services.catalog.updateSnapshot(KIND, id, () => ({ Status: 'ingesting', FilesCompleted: 1, RowCount: 15 }));

    await handlePoisonMessage(encodeMessage(messages[1]), { catalog: services.catalog, log: silentLog }, 5);
    expect(await snapshot()).toMatchObject({ Status: 'complete', FilesCompleted: 2, RowCount: 25 });
    expect((await services.catalog.getFile(id, 1))!).toMatchObject({ Status: 'complete', RowsWritten: 10 });
  });

  it('with more file rows than FileCount (the export list grew), the snapshot completes only when every registered file is, and reports them all', async () => {
    const { services, id, ingest, snapshot } = await registered([12, 14]);
    // a third file registered beside the two (as a re-arm does when Defender's list for the same generatedTime changed)
    const late = exportFixture(azurite());
    const [lateUrl] = await late.upload([gz(jsonl(records(9, 3, 'late')))]);
    expect(
      await services.catalog.createFile({
        partitionKey: id,
        rowKey: fileRowKey(2),
        BlobPath: stripQuery(lateUrl),
        Status: 'queued',
        LinesCommitted: 0,
        RowsWritten: 0,
        Rejected: 0,
        Duplicates: 0,
        Attempts: 0,
        Error: '',
      }),
    ).toBe(true);

    expect(await ingest(0)).toMatchObject({ status: 'complete' });
    expect(await ingest(1)).toMatchObject({ status: 'complete' });
    expect(await snapshot()).toMatchObject({ Status: 'ingesting', FileCount: 3, FilesCompleted: 2, RowCount: 26 });

    const msg: IngestMessage = { snapshotId: id, kind: KIND, fileIndex: 2, fileCount: 3, url: lateUrl, generatedTime: new Date().toISOString() };
    expect(await ingestExportFile(encodeMessage(msg), ingestDeps(services, silentLog))).toMatchObject({ status: 'complete', rowsWritten: 9 });
    expect(await snapshot()).toMatchObject({ Status: 'complete', FileCount: 3, FilesCompleted: 3, RowCount: 35 });
  });
});
