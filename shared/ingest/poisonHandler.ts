// The poison-queue handler: a message the host gave up on marks its file and snapshot failed (or settles a
// file that is already complete), so a snapshot never waits forever on a message nobody will deliver again.
import { IngestMessage, parseMessage, progressPartition } from '../core/contracts';
import { describeError } from '../core/redact';
import { noTelemetry, reportSnapshotCompleted, Telemetry } from '../core/telemetry';
import { failFile, IngestDeps, namesRegisteredBlob, shownUrl } from './fileWorker';

/** The poison-queue handler: the host gave up on a message after maxDequeueCount deliveries. */
export async function handlePoisonMessage(
  rawMessage: unknown,
  deps: Pick<IngestDeps, 'catalog' | 'log' | 'now' | 'telemetry'>,
  dequeueCount?: number,
): Promise<void> {
  const telemetry = deps.telemetry ?? noTelemetry;
  try {
    await markPoisoned(rawMessage, deps, telemetry, dequeueCount);
  } finally {
    await telemetry.flush();
  }
}

async function markPoisoned(
  rawMessage: unknown,
  deps: Pick<IngestDeps, 'catalog' | 'log' | 'now'>,
  telemetry: Telemetry,
  dequeueCount?: number,
): Promise<void> {
  let msg: IngestMessage;
  try {
    msg = parseMessage(rawMessage);
  } catch (err) {
    deps.log.error(`poison queue: unusable message dropped (${describeError(err)})`);
    return;
  }
  const now = deps.now ?? (() => new Date());
  const file = await deps.catalog.getFile(progressPartition(msg.kind, msg.snapshotId), msg.fileIndex);
  if (file && !namesRegisteredBlob(msg, file)) {
    deps.log.error(
      `poison queue: ${msg.kind} snapshot ${msg.snapshotId} file ${msg.fileIndex}: message refused, its URL ${shownUrl(msg.url)} is not the blob registered for this file; nothing marked`,
    );
    return;
  }
  if (file?.Status === 'complete') {
    // its last delivery may have failed after the file's final checkpoint, before the snapshot's flip: settle it
    deps.log.info(`poison queue: ${msg.kind} snapshot ${msg.snapshotId} file ${msg.fileIndex} is already complete; refreshing the snapshot`);
    const settled = await deps.catalog.refreshSnapshot(msg.kind, msg.snapshotId, now);
    if (settled?.completedNow) reportSnapshotCompleted(telemetry, settled);
    return;
  }
  const reason = `gave up after ${dequeueCount ?? 'the maximum number of'} deliveries (poison queue)${file?.Error ? `; last error: ${file.Error}` : ''}`;
  await failFile({ ...deps, telemetry }, { kind: msg.kind, snapshotId: msg.snapshotId, fileIndex: msg.fileIndex, reason, cause: 'poison', hasRow: !!file });
}
