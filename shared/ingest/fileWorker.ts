// The queue worker: one export file → its snapshot table, streamed end to end
// (download → gunzip → lines → JSON → entity → batched upserts), checkpointed as it goes.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { QueueClient } from '@azure/storage-queue';
import { TableClient } from '@azure/data-tables';
import { BlobGoneError, downloadBlob, DownloadProgress, ExpiredUrlError } from './blobDownload';
import { BadMessageError, encodeMessage, ExportKind, FileRow, IngestMessage, parseMessage, progressPartition, snapshotTableName } from '../core/contracts';
import { readLines } from './lineReader';
import { Log } from '../core/log';
import { ExtraColumns, mapLine } from './recordMapper';
import { describeError, stripQuery } from '../core/redact';
import { isConditionFailed, isSuperseded, shortError, SnapshotCatalog, WithEtag } from '../storage/snapshotCatalog';
import { Counters, Slots, SnapshotWriter } from './snapshotWriter';
import { FileLease, LeaseLostError } from '../storage/fileLease';
import { shorten } from '../core/text';
import { noTelemetry, reportSnapshotCompleted, reportSnapshotFailed, Telemetry } from '../core/telemetry';
import { checkDownloadUrl, UrlRefusedError } from '../defender/urlPolicy';
import { AppError } from '../core/errors';
import type { IngestTallies } from '../rollup/ingestTallies';

export interface IngestLimits {
  /** rows per checkpointed segment */
  segmentRows: number;
  /** a longer line is rejected without being buffered */
  maxLineBytes: number;
  /** how long a claim on a file lasts unless renewed (by a checkpoint or the heartbeat, every third of it) */
  leaseMs: number;
  /** gzip-bomb guards: absolute decompressed size, and compression ratio once past ratioCheckAfterBytes */
  maxDecompressedBytes: number;
  maxCompressionRatio: number;
  ratioCheckAfterBytes: number;
}

export const DEFAULT_LIMITS: IngestLimits = {
  segmentRows: 5000,
  maxLineBytes: 8 * 1024 * 1024,
  leaseMs: 120_000,
  maxDecompressedBytes: 64 * 1024 ** 3,
  // JSON Lines inventory compresses ~10-30:1; 1000:1 over more than 64 MiB is a bomb, not an export
  maxCompressionRatio: 1000,
  ratioCheckAfterBytes: 64 * 1024 * 1024,
};

export interface IngestDeps {
  catalog: SnapshotCatalog;
  /** the snapshot tables' storage */
  table: (name: string) => TableClient;
  /** INGEST_QUEUE, for continuation and retry-later messages */
  queue: QueueClient;
  downloadPolicy: { allowlist: string[]; allowLoopback: boolean };
  writeConcurrency: number;
  /** write slots shared by the files one process ingests at once (the local runner); default: the file's own WRITE_CONCURRENCY */
  writeSlots?: Slots;
  /** after this long the worker checkpoints and re-queues the rest of its file */
  timeBudgetMs: number;
  log: Log;
  now?: () => Date;
  /** identifies this invocation in leases */
  workerId?: string;
  limits?: Partial<IngestLimits>;
  /** called after each committed segment (progress display, tests that crash mid-file) */
  onProgress?: (p: { fileIndex: number; linesCommitted: number; rowsWritten: number }) => void | Promise<void>;
  /** custom events and metrics (Application Insights); flushed at the end of every invocation */
  telemetry?: Telemetry;
  /** count each snapshot's rollup from the rows as they are mapped (the local runner: docs/rollups.md#counted-during-ingest) */
  tallies?: IngestTallies;
}

export type IngestStatus = 'complete' | 'continued' | 'expired' | 'failed' | 'busy' | 'skipped';

export interface IngestOutcome {
  status: IngestStatus;
  snapshotId?: string;
  fileIndex?: number;
  rowsWritten?: number;
  detail?: string;
}

/** What one invocation did to its file, filled in as it goes (for the InventoryFileIngested event). */
interface InvocationReport {
  msg?: IngestMessage;
  attempt?: number;
  /** the file's counters when this invocation took it, and when it stopped */
  start?: Counters;
  end?: Counters;
  tableRetries: number;
}

class FileContentError extends AppError {}

/** A download whose first response has arrived: the blob's identity is known before any line is read. */
interface OpenedBlob {
  chunks: AsyncGenerator<Buffer>;
  progress: DownloadProgress;
  first: IteratorResult<Buffer>;
}

async function openBlob(url: string, deps: IngestDeps): Promise<OpenedBlob> {
  const { chunks, progress } = downloadBlob(url, { log: deps.log });
  return { chunks, progress, first: await chunks.next() };
}

/** Decompressed bytes of the blob, with gzip-bomb guards; a zero-byte blob is an empty file. */
async function* decompressed({ chunks, progress, first }: OpenedBlob, limits: IngestLimits): AsyncGenerator<Buffer> {
  if (first.done) return;
  const gunzip = createGunzip({ chunkSize: 64 * 1024 });
  const source = Readable.from(
    (async function* () {
      yield first.value;
      yield* chunks;
    })(),
  );
  source.on('error', (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  let out = 0;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      out += chunk.length;
      if (out > limits.maxDecompressedBytes) {
        throw new FileContentError(`decompressed size passed the ${limits.maxDecompressedBytes}-byte cap (gzip bomb guard)`);
      }
      if (out > limits.ratioCheckAfterBytes && out / Math.max(1, progress.bytes) > limits.maxCompressionRatio) {
        throw new FileContentError(`compression ratio passed ${limits.maxCompressionRatio}:1 (gzip bomb guard)`);
      }
      yield chunk;
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR' || code === 'Z_STREAM_ERROR') {
      throw new FileContentError(`not a valid gzip file (${code}: ${(err as Error).message}) after ${progress.bytes} compressed bytes`);
    }
    throw err;
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}

/** A URL reduced to what names the blob (scheme, host, path), parsed as the SDK parses it; undefined if unparseable or carrying userinfo. */
function blobIdentity(url: string): string | undefined {
  try {
    const u = new URL(stripQuery(url));
    if (u.username || u.password) return undefined;
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return undefined;
  }
}

/** The message's URL names the blob the timer registered for its file (any SAS query). */
export function namesRegisteredBlob(msg: IngestMessage, file: FileRow): boolean {
  const named = blobIdentity(msg.url);
  return named !== undefined && named === blobIdentity(file.BlobPath);
}

/** A URL safe for logs: scheme, host and path only, short. */
export function shownUrl(url: string): string {
  return shorten(blobIdentity(url) ?? 'an unusable URL', 200);
}

/** Re-deliver this message later without spending a dequeue count. */
async function requeue(deps: IngestDeps, msg: IngestMessage, delaySeconds: number): Promise<void> {
  await deps.queue.sendMessage(encodeMessage(msg), { visibilityTimeout: Math.max(0, Math.ceil(delaySeconds)) });
}

export async function ingestExportFile(rawMessage: unknown, deps: IngestDeps): Promise<IngestOutcome> {
  const telemetry = deps.telemetry ?? noTelemetry;
  const startedMs = Date.now();
  const report: InvocationReport = { tableRetries: 0 };
  let outcome: IngestOutcome | undefined;
  let thrown: unknown;
  try {
    outcome = await ingestOnce(rawMessage, deps, report, startedMs);
    return outcome;
  } catch (err) {
    thrown = err;
    throw err;
  } finally {
    reportInvocation(telemetry, report, outcome, thrown, Date.now() - startedMs);
    await telemetry.flush();
  }
}

function reportInvocation(telemetry: Telemetry, r: InvocationReport, outcome: IngestOutcome | undefined, thrown: unknown, ms: number): void {
  const end = r.end ?? r.start;
  const rowsThisRun = end && r.start ? end.rows - r.start.rows : 0;
  const dims = {
    kind: r.msg?.kind,
    snapshotId: r.msg?.snapshotId ?? outcome?.snapshotId,
    fileIndex: r.msg?.fileIndex ?? outcome?.fileIndex,
    fileCount: r.msg?.fileCount,
  };
  telemetry.event(
    'InventoryFileIngested',
    { ...dims, status: outcome?.status ?? 'error', attempt: r.attempt, detail: thrown !== undefined ? describeError(thrown) : outcome?.detail },
    {
      seconds: ms / 1000,
      rowsThisRun,
      rowsPerSecond: ms > 0 ? rowsThisRun / (ms / 1000) : 0,
      ...(end ? { rows: end.rows, rejected: end.rejected, duplicates: end.duplicates, lines: end.lines } : {}),
      tableRetries: r.tableRetries,
    },
  );
  if (rowsThisRun > 0) telemetry.metric('InventoryRowsWritten', rowsThisRun, { kind: dims.kind, snapshotId: dims.snapshotId });
}

async function ingestOnce(rawMessage: unknown, deps: IngestDeps, report: InvocationReport, startedMs: number): Promise<IngestOutcome> {
  const limits: IngestLimits = { ...DEFAULT_LIMITS, ...deps.limits };
  const now = deps.now ?? (() => new Date());
  const workerId = deps.workerId ?? randomUUID();
  const { log, catalog } = deps;

  let msg: IngestMessage;
  try {
    msg = parseMessage(rawMessage);
  } catch (err) {
    if (err instanceof BadMessageError) {
      // retrying cannot fix it, so don't let it wander to the poison queue: say so loudly and drop it
      log.error(`dropped an unusable queue message: ${err.message}`);
      return { status: 'skipped', detail: err.message };
    }
    throw err;
  }
  report.msg = msg;
  const { snapshotId, fileIndex } = msg;
  // the kind's file rows and rejects: a partition of their own, so two kinds of one minute never meet (docs/kinds.md)
  const partition = progressPartition(msg.kind, snapshotId);
  const label = `${msg.kind} snapshot ${snapshotId} file ${fileIndex + 1}/${msg.fileCount}`;

  const snapshot = await catalog.getSnapshot(msg.kind, snapshotId);
  if (!snapshot) {
    log.error(`${label}: the snapshot is not in the catalog; message dropped`);
    return { status: 'skipped', snapshotId, fileIndex, detail: 'snapshot not in catalog' };
  }
  if (snapshot.Status === 'complete' || isSuperseded(snapshot)) {
    log.info(`${label}: snapshot is ${snapshot.Status}; nothing to do`);
    return { status: 'skipped', snapshotId, fileIndex, detail: `snapshot ${snapshot.Status}` };
  }
  const file = await catalog.getFile(partition, fileIndex);
  if (!file) {
    log.error(`${label}: no progress row in InventoryExportFiles; message dropped`);
    return { status: 'skipped', snapshotId, fileIndex, detail: 'file row missing' };
  }
  // Only the blob the timer registered for this file: a message naming any other blob (forged or corrupted)
  // is refused before it can claim, fail or download anything.
  if (!namesRegisteredBlob(msg, file)) {
    const detail = `message refused: its URL ${shownUrl(msg.url)} is not the blob registered for this file (${shownUrl(file.BlobPath)})`;
    log.error(`${label}: ${detail}`);
    return { status: 'skipped', snapshotId, fileIndex, detail };
  }
  if (file.Status === 'complete') {
    log.info(`${label}: already complete (${file.RowsWritten} rows); duplicate delivery ignored`);
    // a retried delivery after the flip failed (the file's final checkpoint landed, the catalog update did not): settle it
    const settled = await catalog.refreshSnapshot(msg.kind, snapshotId, now);
    if (settled?.completedNow) reportSnapshotCompleted(deps.telemetry, settled);
    return { status: 'skipped', snapshotId, fileIndex, rowsWritten: file.RowsWritten, detail: 'file already complete' };
  }

  // SSRF guard: the URL must be on an allowed host before any request is made to it
  try {
    checkDownloadUrl(msg.url, deps.downloadPolicy);
  } catch (err) {
    if (!(err instanceof UrlRefusedError)) throw err;
    await failFile(deps, { kind: msg.kind, snapshotId, fileIndex, reason: `download URL refused: ${err.message}`, cause: 'file' });
    return { status: 'failed', snapshotId, fileIndex, detail: err.message };
  }

  // Claim the file so a second delivery of the same message never writes beside us.
  const leaseLeftMs = file.LeaseExpiresAt ? new Date(file.LeaseExpiresAt).getTime() - now().getTime() : 0;
  if (file.Status === 'ingesting' && file.LeaseOwner && file.LeaseOwner !== workerId && leaseLeftMs > 0) {
    log.info(`${label}: another worker holds it for ${Math.ceil(leaseLeftMs / 1000)} s more; retrying later`);
    await requeue(deps, msg, leaseLeftMs / 1000 + 1);
    return { status: 'busy', snapshotId, fileIndex };
  }
  let claimEtag: string;
  // the owner may be shared by two deliveries of one message; the token is this invocation's alone
  const leaseToken = randomUUID();
  try {
    claimEtag = await catalog.updateFile(
      partition,
      fileIndex,
      {
        Status: 'ingesting',
        LeaseOwner: workerId,
        LeaseToken: leaseToken,
        LeaseExpiresAt: new Date(now().getTime() + limits.leaseMs),
        Attempts: (file.Attempts ?? 0) + 1,
        Error: '',
        UpdatedAt: now(),
      },
      file.etag,
    );
  } catch (err) {
    if (!isConditionFailed(err)) throw err;
    // the claim may have landed with its answer lost (the SDK's retry then meets our own ETag change)
    const row = await catalog.getFile(partition, fileIndex);
    if (row?.LeaseToken === leaseToken && row.LeaseOwner === workerId && row.Status === 'ingesting') {
      log.warn(`${label}: the claim's answer was lost, but the row shows it applied; carrying on`);
      claimEtag = row.etag;
    } else {
      log.info(`${label}: another worker claimed it at the same moment; retrying later`);
      await requeue(deps, msg, limits.leaseMs / 1000);
      return { status: 'busy', snapshotId, fileIndex };
    }
  }

  const lease = new FileLease({
    catalog,
    partition,
    fileIndex,
    etag: claimEtag,
    token: leaseToken,
    owner: workerId,
    leaseMs: limits.leaseMs,
    maxHoldMs: deps.timeBudgetMs + 2 * limits.leaseMs,
    now,
    log,
    label,
  });
  lease.startHeartbeat();
  try {
    report.attempt = (file.Attempts ?? 0) + 1;
    return await ingestClaimedFile({ msg, partition, file, lease, deps, limits, startedMs, label, now, report });
  } finally {
    await lease.settle();
  }
}

interface Claimed {
  msg: IngestMessage;
  /** progressPartition(msg.kind, msg.snapshotId): where the file row and the rejects live */
  partition: string;
  file: WithEtag<FileRow>;
  lease: FileLease;
  deps: IngestDeps;
  limits: IngestLimits;
  startedMs: number;
  label: string;
  now: () => Date;
  report: InvocationReport;
}

const TOO_LONG = { ok: false as const };

/** The file is ours (lease held): stream it from its last checkpoint to the end or to the time budget. */
async function ingestClaimedFile({ msg, partition, file, lease, deps, limits, startedMs, label, now, report }: Claimed): Promise<IngestOutcome> {
  const { log, catalog } = deps;
  const { snapshotId, fileIndex } = msg;
  let resumeFrom = file.LinesCommitted ?? 0;
  let start: Counters = { lines: resumeFrom, rows: file.RowsWritten ?? 0, rejected: file.Rejected ?? 0, duplicates: file.Duplicates ?? 0 };
  report.start = start;

  const extras = new ExtraColumns();
  const tally = deps.tallies?.file(msg.kind, snapshotId, fileIndex);
  let writer: SnapshotWriter | undefined;
  let outOfTime = false;
  let continued = false;
  try {
    const blob = await openBlob(msg.url, deps);
    // The checkpoint counts lines of one particular blob: if the blob at BlobPath is another one now (a retry,
    // continuation or re-arm after Defender rewrote it), resuming would splice two blobs' lines; start over.
    const identity = { BlobEtag: blob.progress.etag ?? '', BlobLength: blob.progress.size ?? 0 };
    const known = file.BlobEtag !== undefined && file.BlobLength !== undefined;
    if (known && (file.BlobEtag !== identity.BlobEtag || file.BlobLength !== identity.BlobLength)) {
      log.warn(
        `${label}: the blob changed since this file was started (ETag ${file.BlobEtag} → ${identity.BlobEtag}, ${file.BlobLength} → ${identity.BlobLength} bytes); ` +
          `starting it again from line 0 (${start.lines} lines and ${start.rows} rows counted from the old blob are discarded)`,
      );
      resumeFrom = 0;
      tally?.restarted();
      start = { lines: 0, rows: 0, rejected: 0, duplicates: 0 };
      report.start = start;
      await lease.update({ LinesCommitted: 0, RowsWritten: 0, Rejected: 0, Duplicates: 0, ...storedIdentity(identity) });
      // the old blob's rejects name lines of a blob that is gone; the new blob's own rejects replace them
      const dropped = await catalog.deleteFileRejects(partition, fileIndex);
      if (dropped > 0) log.warn(`${label}: dropped ${dropped} reject row(s) of the old blob`);
    } else if (!known) {
      await lease.update(storedIdentity(identity));
    }
    log.info(
      resumeFrom > 0
        ? `${label}: resuming after line ${resumeFrom} (${start.rows} rows already written), attempt ${(file.Attempts ?? 0) + 1}`
        : `${label}: ingesting ${stripQuery(msg.url)}`,
    );

    writer = new SnapshotWriter({
      table: deps.table(snapshotTableName(msg.kind, snapshotId)),
      rejectsTable: catalog.rejects,
      kind: msg.kind,
      snapshotId,
      fileIndex,
      writeConcurrency: deps.writeConcurrency,
      slots: deps.writeSlots,
      segmentRows: limits.segmentRows,
      // transient Table Storage faults are retried by the writer; say so, so a throttled account shows in the logs
      write: {
        onRetry: (r) => {
          report.tableRetries++;
          log.warn(`${label}: table transaction retry ${r.attempt} in ${r.delayMs} ms after ${r.error}`);
        },
      },
      start,
      checkpoint: async (c, final) => {
        await lease.update({
          LinesCommitted: c.lines,
          RowsWritten: c.rows,
          Rejected: c.rejected,
          Duplicates: c.duplicates,
          ...(final ? { Status: 'complete', LeaseOwner: '', Error: '' } : {}),
        });
        await deps.onProgress?.({ fileIndex, linesCommitted: c.lines, rowsWritten: c.rows });
      },
    });
    // the writer updates this object at each commit, so the report sees committed counts however the invocation ends
    report.end = writer.counters;

    for await (const line of readLines(decompressed(blob, limits), { maxLineBytes: limits.maxLineBytes })) {
      // the heartbeat found another worker on this file: stop now, not at the next checkpoint
      if (lease.lost) throw lease.lost;
      if (line.number <= resumeFrom) {
        const replayed = line.tooLongBytes ? TOO_LONG : mapLine(line.text, undefined, msg.kind);
        if (replayed.ok) writer.replay(replayed);
        tally?.line(replayed);
        continue;
      }
      const result = line.tooLongBytes
        ? { ok: false as const, reason: `line is ${line.tooLongBytes} bytes, over the ${limits.maxLineBytes}-byte cap` }
        : mapLine(line.text, extras, msg.kind);
      writer.add(line.number, result, () => line.text);
      tally?.line(result);
      if ((await writer.maybeCommit()) && Date.now() - startedMs >= deps.timeBudgetMs) {
        outOfTime = true;
        break;
      }
    }
    if (outOfTime) {
      await writer.drain();
      writer.dispose();
      // checkpointed; hand the rest of the file to a fresh invocation before the host's timeout
      await requeue(deps, msg, 0);
      continued = true;
      await lease.update({ Status: 'queued', LeaseOwner: '', LeaseExpiresAt: now() });
      log.info(`${label}: time budget of ${Math.round(deps.timeBudgetMs / 1000)} s used after line ${writer.counters.lines}; continuation queued`);
      return { status: 'continued', snapshotId, fileIndex, rowsWritten: writer.counters.rows };
    }
    await writer.finish();
    tally?.complete(writer.counters);
  } catch (err) {
    await writer?.drain().catch(() => undefined);
    writer?.dispose();
    const linesCommitted = writer?.counters.lines ?? resumeFrom;
    // another worker holds the file now; if it dies, this message must still exist: hand it back, never drop it
    const handBack = async (e: LeaseLostError): Promise<IngestOutcome> => {
      if (!continued) await requeue(deps, msg, limits.leaseMs / 1000);
      log.warn(
        `${label}: ${e.message}; stopping without further writes, message handed back${continued ? ' (its continuation is queued)' : ` for ${Math.ceil(limits.leaseMs / 1000)} s from now`}`,
      );
      return { status: 'busy', snapshotId, fileIndex };
    };
    if (err instanceof LeaseLostError) return handBack(err);
    if (err instanceof ExpiredUrlError) {
      const lost = await lease.update({ Status: 'expired', Error: shortError(describeError(err)), LeaseOwner: '', LeaseExpiresAt: now() }).then(
        () => undefined,
        (e) => (e instanceof LeaseLostError ? e : Promise.reject(e)),
      );
      if (lost) return handBack(lost);
      log.warn(
        `${label}: ${describeError(err)}. The file is marked expired; the next timer run re-arms it with a fresh URL and resumes after line ${linesCommitted}.`,
      );
      return { status: 'expired', snapshotId, fileIndex, detail: describeError(err) };
    }
    if (err instanceof BlobGoneError || err instanceof FileContentError) {
      await failFile(deps, { kind: msg.kind, snapshotId, fileIndex, reason: describeError(err), cause: 'file' });
      return { status: 'failed', snapshotId, fileIndex, detail: describeError(err) };
    }
    // anything else may be transient (storage unavailable, network gone): record it, free the file, let the host retry
    await lease.update({ Error: shortError(describeError(err)), LeaseOwner: '', LeaseExpiresAt: now() }).catch(() => undefined);
    throw err;
  }

  const counters = writer.counters;
  // once per file: undocumented columns (names cut and escaped), lone surrogates replaced, out-of-range dates dropped
  for (const note of extras.messages()) log.info(`${label}: ${note}`);
  log.info(
    `${label}: complete — ${counters.rows} rows, ${counters.rejected} rejected, ${counters.duplicates} duplicates, ${counters.lines} lines in ${((Date.now() - startedMs) / 1000).toFixed(1)} s`,
  );
  const after = await catalog.refreshSnapshot(msg.kind, snapshotId, now);
  if (after?.completedNow) reportSnapshotCompleted(deps.telemetry, after);
  if (after?.Status === 'complete') {
    log.info(
      `${msg.kind} snapshot ${snapshotId} complete: ${after.RowCount} rows in ${after.TableName} (${after.FileCount} files, ${after.RejectedCount} rejected, ${after.DuplicateCount} duplicates)`,
    );
  }
  return { status: 'complete', snapshotId, fileIndex, rowsWritten: counters.rows };
}

/** The blob identity as stored: the length typed Edm.Double, since an untyped integer is Int32 and a file may pass 2 GiB. */
function storedIdentity(id: { BlobEtag: string; BlobLength: number }): Partial<FileRow> {
  return { BlobEtag: id.BlobEtag, BlobLength: { value: id.BlobLength, type: 'Double' } as unknown as number };
}

/**
 * A file that cannot be ingested (a refused URL, a gone or corrupt blob, the poison queue): its row and its snapshot
 * are marked failed with the reason, logged, and reported. Without a file row (poison of an unregistered file) only
 * the snapshot is marked.
 */
export async function failFile(
  deps: Pick<IngestDeps, 'catalog' | 'log' | 'now' | 'telemetry'>,
  f: { kind: ExportKind; snapshotId: string; fileIndex: number; reason: string; cause: 'file' | 'poison'; hasRow?: boolean },
): Promise<void> {
  const now = deps.now ?? (() => new Date());
  if (f.hasRow ?? true) {
    await deps.catalog.updateFile(progressPartition(f.kind, f.snapshotId), f.fileIndex, {
      Status: 'failed',
      Error: shortError(f.reason),
      LeaseOwner: '',
      LeaseExpiresAt: now(),
      UpdatedAt: now(),
    });
  }
  await deps.catalog.markSnapshotFailed(f.kind, f.snapshotId, `file ${f.fileIndex}: ${f.reason}`);
  deps.log.error(`${f.kind} snapshot ${f.snapshotId} file ${f.fileIndex}: failed — ${f.reason}`);
  reportSnapshotFailed(deps.telemetry, { kind: f.kind, snapshotId: f.snapshotId, cause: f.cause, fileIndex: f.fileIndex, reason: f.reason });
}
