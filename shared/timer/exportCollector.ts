// The timer: ask Defender for the current export, register it as a snapshot and fan out one queue
// message per file. Re-running it is always safe: a complete snapshot is left alone, an incomplete
// one is re-armed (only its unfinished files are re-queued, with fresh URLs, resuming from checkpoints).
// It runs often (hourly) but starts a new snapshot only when SNAPSHOT_INTERVAL_HOURS allows; the runs in
// between only repair. Every kind of EXPORT_KINDS is collected on its own (docs/kinds.md): its own interval,
// re-arm and supersede, its catalog partition and progress partition; one kind's failure (a refused
// permission, an API outage) is reported and the others still run, then the invocation fails.
import { QueueClient } from '@azure/storage-queue';
import { mapBounded } from '../core/concurrency';
import {
  encodeMessage,
  ExportKind,
  FileRow,
  IngestMessage,
  newFileRow,
  progressPartition,
  SnapshotRow,
  snapshotIdFor,
  snapshotTableName,
  SOFTWARE_INVENTORY,
} from '../core/contracts';
import type { DefenderExports } from '../defender/defenderClient';
import { AppError } from '../core/errors';
import type { TableClient } from '@azure/data-tables';
import { runJsonExport } from '../ingest/jsonExportIngest';
import { applyRetention } from './retention';
import { buildMissingRollups, rollupDeps } from '../rollup/buildMissing';
import { Log } from '../core/log';
import { describeError, stripQuery } from '../core/redact';
import { noTelemetry, reportSnapshotCompleted, reportSnapshotFailed, Telemetry } from '../core/telemetry';
import { isConditionFailed, isSuperseded, shortError, SnapshotCatalog, SUPERSEDED, WithEtag } from '../storage/snapshotCatalog';

export interface TimerDeps {
  catalog: SnapshotCatalog;
  /** build missing rollups after the kinds ran (default true; `npm run ingest -- --no-rollups` leaves them to a later run) */
  rollups?: boolean;
  /** creates a snapshot table (tolerating TableAlreadyExists) */
  ensureTable: (name: string) => Promise<void>;
  queue: QueueClient;
  defender: DefenderExports;
  /** EXPORT_KINDS, collected in this order; absent: the software inventory only */
  kinds?: readonly ExportKind[];
  sasValidHours: number;
  /** SNAPSHOT_INTERVAL_HOURS: no new snapshot while a complete one was generated within this many hours; absent or 0: every new export */
  snapshotIntervalHours?: number;
  log: Log;
  now?: () => Date;
  /** a queued/ingesting file untouched for this long, with no live lease, is re-queued */
  staleAfterMs?: number;
  /** EXPORT_METHOD; json pages each kind's ByMachine API inside this invocation */
  method?: 'files' | 'json';
  /** `baseUrl`: the API root; each kind's jsonPath is appended and recorded as its run's BlobPath */
  json?: { pageSize: number; baseUrl: string; table: (name: string) => TableClient; writeConcurrency: number };
  /** RETENTION_DAYS (0 keeps everything) and how to drop a table */
  retentionDays?: number;
  deleteTable?: (name: string) => Promise<void>;
  /** custom events (Application Insights); flushed at the end of the run */
  telemetry?: Telemetry;
}

export type TimerAction = 'created' | 'rearmed' | 'none';

export interface TimerOutcome {
  kind: ExportKind;
  action: TimerAction;
  snapshotId: string;
  tableName: string;
  status: SnapshotRow['Status'];
  fileCount: number;
  filesQueued: number;
}

/** One kind's result: its outcome, or the error that ended its run (the other kinds ran regardless). */
export type KindResult = { kind: ExportKind; outcome: TimerOutcome; error?: undefined } | { kind: ExportKind; outcome?: undefined; error: unknown };

/**
 * What runExportTimer returns: every kind's outcome in EXPORT_KINDS order, and at the top level the first
 * kind's (with the default EXPORT_KINDS, the only one), so single-kind callers read it as before.
 */
export interface TimerRun extends TimerOutcome {
  kinds: TimerOutcome[];
}

/** Thrown after every kind ran when one or more failed; the host records the invocation as failed. */
export class ExportKindsFailedError extends AppError {
  constructor(readonly results: KindResult[]) {
    const failed = results.filter((r) => r.error !== undefined);
    super(
      failed.length === 1
        ? describeError(failed[0].error)
        : `${failed.length} of ${results.length} export kinds failed: ${failed.map((r) => `${r.kind}: ${describeError(r.error)}`).join('; ')}`,
    );
  }
}

export const DEFAULT_STALE_AFTER_MS = 30 * 60 * 1000;
const HOUR_MS = 3_600_000;

function lastActivity(f: WithEtag<FileRow>): number {
  const t = f.UpdatedAt ?? f.timestamp;
  return t ? new Date(t).getTime() : 0;
}

function leaseAlive(f: FileRow, nowMs: number): boolean {
  return !!f.LeaseOwner && !!f.LeaseExpiresAt && new Date(f.LeaseExpiresAt).getTime() > nowMs;
}

/** Is someone (a queued message or a live worker) plausibly still taking care of this file? */
function isActive(f: WithEtag<FileRow>, nowMs: number, staleAfterMs: number): boolean {
  if (f.Status !== 'queued' && f.Status !== 'ingesting') return false;
  return leaseAlive(f, nowMs) || nowMs - lastActivity(f) < staleAfterMs;
}

/**
 * The timer's whole job: collect every configured kind by the configured method (each on its own: a kind
 * that fails is reported and the next one still runs), then apply retention. Throws after all kinds ran
 * when any failed, so the host records a failed invocation.
 */
export async function runExportTimer(deps: TimerDeps): Promise<TimerRun> {
  const results = await collectExports(deps);
  if (results.some((r) => r.error !== undefined)) {
    // one kind alone: its own error, unchanged (messages and status codes stay what they were)
    throw results.length === 1 ? results[0].error : new ExportKindsFailedError(results);
  }
  const kinds = results.map((r) => r.outcome!);
  return { ...kinds[0], kinds };
}

/**
 * Every configured kind's result, in order, never throwing for one kind's failure (the local runner reports
 * each), then retention. Throws only when retention fails (storage trouble), after every kind ran.
 */
export async function collectExports(deps: TimerDeps): Promise<KindResult[]> {
  const telemetry = deps.telemetry ?? noTelemetry;
  const kinds = deps.kinds?.length ? deps.kinds : [SOFTWARE_INVENTORY];
  try {
    const results: KindResult[] = [];
    for (const kind of kinds) results.push(await collectKind(deps, kind));
    if ((deps.retentionDays ?? 0) > 0 && deps.deleteTable) {
      await applyRetention({ catalog: deps.catalog, deleteTable: deps.deleteTable, retentionDays: deps.retentionDays!, log: deps.log, now: deps.now, kinds });
    }
    // rollups (docs/rollups.md): every complete snapshot without a current one; logs its own failures, never fails the run
    if (deps.rollups !== false) await buildMissingRollups(rollupDeps(deps.catalog, deps.log, { now: deps.now }), kinds);
    return results;
  } finally {
    await telemetry.flush();
  }
}

/** One kind by the configured method; its failure is logged, reported with the kind and returned. */
async function collectKind(deps: TimerDeps, kind: ExportKind): Promise<KindResult> {
  const telemetry = deps.telemetry ?? noTelemetry;
  const method = deps.method ?? 'files';
  try {
    const outcome = method === 'json' ? await runJsonMethod(deps, kind) : await runFilesMethod(deps, kind);
    telemetry.event(
      'InventoryExportChecked',
      { kind, method, action: outcome.action, snapshotId: outcome.snapshotId, status: outcome.status },
      { fileCount: outcome.fileCount, filesQueued: outcome.filesQueued },
    );
    return { kind, outcome };
  } catch (err) {
    // e.g. Defender refused the call (403 for a missing permission, DisabledFeature) or storage is unreachable:
    // alertable without log parsing; the other kinds go on
    deps.log.error(`${kind}: export run failed: ${describeError(err)}`);
    telemetry.event('InventoryExportChecked', { kind, method, action: 'error', detail: describeError(err) });
    return { kind, error: err };
  }
}

async function runJsonMethod(deps: TimerDeps, kind: ExportKind): Promise<TimerOutcome> {
  const getPages = deps.defender.getPages?.bind(deps.defender);
  if (!deps.json || !getPages) throw new Error('EXPORT_METHOD=json needs the paged API client and table access');
  const staleAfterMs = deps.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  await deps.catalog.ensureTables();
  const held = await intervalHoldsBack(deps, kind, 'no paged snapshot starts');
  if (held) {
    await supersedeOlder(deps, kind, held.rowKey, staleAfterMs);
    return leftAlone(kind, held);
  }
  const r = await runJsonExport({
    kind,
    catalog: deps.catalog,
    ensureTable: deps.ensureTable,
    table: deps.json.table,
    defender: { getPages },
    baseUrl: deps.json.baseUrl,
    pageSize: deps.json.pageSize,
    writeConcurrency: deps.json.writeConcurrency,
    log: deps.log,
    now: deps.now,
    telemetry: deps.telemetry,
  });
  await supersedeOlder(deps, kind, r.snapshotId, staleAfterMs);
  return { kind, action: r.created ? 'created' : 'none', snapshotId: r.snapshotId, tableName: r.tableName, status: r.status, fileCount: 1, filesQueued: 0 };
}

async function runFilesMethod(deps: TimerDeps, kind: ExportKind): Promise<TimerOutcome> {
  const { catalog, log } = deps;
  const now = deps.now ?? (() => new Date());
  const staleAfterMs = deps.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;

  const exp = await deps.defender.getExportFiles(kind, deps.sasValidHours);
  const snapshotId = snapshotIdFor(exp.generatedTime);
  const tableName = snapshotTableName(kind, snapshotId);
  // file rows live here, and logs name the snapshot by it: the bare id for the inventory, <Kind><stamp> otherwise
  const part = progressPartition(kind, snapshotId);
  log.info(`Defender ${kind} export generated ${exp.generatedTimeText}: ${exp.exportFiles.length} file(s) → snapshot ${part} (${tableName})`);

  await catalog.ensureTables();
  /** false: the snapshot registered under this id came from another export generated in the same minute */
  const sameExport = (snap: SnapshotRow) => !snap.GeneratedTime || new Date(snap.GeneratedTime).getTime() === exp.generatedTime.getTime();
  /** A complete snapshot whose export lists nothing unregistered and whose registered files are all complete: nothing to do. */
  const settled = async (snap: WithEtag<SnapshotRow>, files: FileRow[]): Promise<TimerOutcome | undefined> => {
    if (snap.Status !== 'complete') return undefined;
    const registered = new Set(files.map((f) => f.BlobPath));
    const late = exp.exportFiles.map(stripQuery).filter((p) => !registered.has(p));
    if (late.length === 0 && files.length === snap.FileCount && files.every((f) => f.Status === 'complete')) {
      log.info(`snapshot ${part} is already complete (${snap.RowCount} rows); nothing to do`);
      await supersedeOlder(deps, kind, snapshotId, staleAfterMs);
      return { kind, action: 'none', snapshotId, tableName, status: 'complete', fileCount: snap.FileCount, filesQueued: 0 };
    }
    if (late.length > 0) {
      log.warn(
        `snapshot ${part} is complete, but Defender's export for it now lists ${late.length} file(s) it does not hold (first: ${late[0]}); registering them and reopening the snapshot`,
      );
    }
    return undefined;
  };

  let existing = await catalog.getSnapshot(kind, snapshotId);
  if (!existing || !sameExport(existing)) {
    // this export would be a new snapshot: only when the interval allows
    const held = await intervalHoldsBack(deps, kind, `export ${exp.generatedTimeText} starts no snapshot`);
    if (held) {
      await supersedeOlder(deps, kind, held.rowKey, staleAfterMs);
      return leftAlone(kind, held);
    }
  }
  if (existing && !sameExport(existing)) return sameMinuteCollision(deps, kind, existing, exp.generatedTimeText, tableName);
  let files = existing ? await catalog.listFiles(part) : [];
  const done = existing && (await settled(existing, files));
  if (done) return done;

  // The table exists before any message does; workers never have to create it.
  await deps.ensureTable(tableName);
  await deps.queue.createIfNotExists();
  const fileCount = exp.exportFiles.length;

  let created = false;
  if (!existing) {
    const startedAt = now();
    const row: SnapshotRow = {
      partitionKey: kind,
      rowKey: snapshotId,
      Status: fileCount === 0 ? 'complete' : 'ingesting',
      GeneratedTime: exp.generatedTime,
      TableName: tableName,
      Method: 'files',
      FileCount: fileCount,
      FilesCompleted: 0,
      RowCount: 0,
      RejectedCount: 0,
      DuplicateCount: 0,
      StartedAt: startedAt,
      ...(fileCount === 0 ? { CompletedAt: startedAt } : {}),
    };
    created = await catalog.createSnapshot(row);
    if (!created) {
      // another timer run registered it between our read and our insert; carry on as a re-arm, where
      // insert-only file rows and conditional updates make each file queued by exactly one of us
      log.info(`snapshot ${part} was registered by another timer run at the same moment; queuing only what it has not`);
      existing = await catalog.getSnapshot(kind, snapshotId);
      if (!existing) throw new Error(`snapshot ${part} was registered by another run, then vanished from the catalog`);
      if (!sameExport(existing)) return sameMinuteCollision(deps, kind, existing, exp.generatedTimeText, tableName);
      files = await catalog.listFiles(part);
      const theirs = await settled(existing, files);
      if (theirs) return theirs;
    } else if (fileCount === 0) {
      log.info(`snapshot ${part}: the export has no files; complete with 0 rows`);
      reportSnapshotCompleted(deps.telemetry, row);
      await supersedeOlder(deps, kind, snapshotId, staleAfterMs);
      return { kind, action: 'created', snapshotId, tableName, status: 'complete', fileCount: 0, filesQueued: 0 };
    }
  }
  if (existing && existing.FileCount !== fileCount) {
    log.warn(`snapshot ${part}: the catalog says ${existing.FileCount} files but Defender now lists ${fileCount}; matching by blob path`);
  }

  // Match the export's URLs to file rows by blob path (the URLs' SAS part changes on every call).
  const byPath = new Map(files.map((f) => [f.BlobPath, f]));
  // A file not registered yet takes the next index after every registered one, whatever its position in
  // the list: indices stay 0..n-1 (no holes, no clash) however Defender reorders or replaces its list.
  let nextIndex = files.reduce((m, f) => Math.max(m, Number(f.rowKey) + 1), 0);
  const nowMs = now().getTime();
  const toQueue: { index: number; url: string }[] = [];
  const matched = new Set<string>();
  let registrationChanged = false;

  for (const url of exp.exportFiles) {
    const path = stripQuery(url);
    if (matched.has(path)) continue;
    matched.add(path);
    const row = byPath.get(path);
    if (!row) {
      registrationChanged = true;
      for (;;) {
        const index = nextIndex++;
        const registered = await catalog.createFile(newFileRow(kind, snapshotId, index, path, { Status: 'queued', Attempts: 0, UpdatedAt: now() }));
        if (registered) {
          toQueue.push({ index, url });
          break;
        }
        // another timer run registered a file under this index at the same moment: the same file (it queues
        // it), or another one (this file takes the next index)
        if ((await catalog.getFile(part, index))?.BlobPath === path) {
          log.info(`snapshot ${part}: file ${index} was registered by another timer run at the same moment; it queues it`);
          break;
        }
      }
    } else if (row.Status === 'complete' || isActive(row, nowMs, staleAfterMs)) {
      continue;
    } else {
      try {
        // conditional on what we read: a worker or another timer run that touched the row since decides instead
        await catalog.updateFile(part, Number(row.rowKey), { Status: 'queued', Error: '', LeaseOwner: '', UpdatedAt: now() }, row.etag);
      } catch (err) {
        if (!isConditionFailed(err)) throw err;
        log.info(`snapshot ${part}: file ${Number(row.rowKey)} changed while being re-armed (another worker or timer run); left to it`);
        continue;
      }
      log.info(`snapshot ${part}: re-arming file ${Number(row.rowKey)} (was ${row.Status}; resumes after line ${row.LinesCommitted ?? 0})`);
      toQueue.push({ index: Number(row.rowKey), url });
    }
  }

  const orphans = files.filter((f) => f.Status !== 'complete' && !matched.has(f.BlobPath));
  if (orphans.length > 0) {
    const reason = `${orphans.length} file(s) are no longer in Defender's export (first: ${orphans[0].BlobPath})`;
    for (const f of orphans) await catalog.updateFile(part, Number(f.rowKey), { Status: 'failed', Error: reason, UpdatedAt: now() });
    await catalog.markSnapshotFailed(kind, snapshotId, reason);
    log.error(`snapshot ${part}: ${reason}`);
    reportSnapshotFailed(deps.telemetry, { kind, snapshotId, cause: 'export', reason });
  }

  // FileCount is the number of registered files, so the snapshot completes only when every one of them has.
  // Listed inside the conditional update: of two runs registering at once, the last write saw every row.
  let registeredFiles: FileRow[] = files;
  if (registrationChanged || !created) {
    await catalog.updateSnapshot(kind, snapshotId, async (cur) => {
      if (registrationChanged) registeredFiles = await catalog.listFiles(part);
      const patch: Partial<SnapshotRow> = {};
      if (cur.FileCount !== registeredFiles.length) patch.FileCount = registeredFiles.length;
      // a complete snapshot with a file to do (a late file) is ingesting again; a failed one with files re-queued too
      const unfinished = registeredFiles.some((f) => f.Status !== 'complete');
      const reopen = orphans.length === 0 && (cur.Status === 'complete' ? unfinished : cur.Status === 'failed' && toQueue.length > 0);
      if (reopen) Object.assign(patch, { Status: 'ingesting', Error: '' } satisfies Partial<SnapshotRow>);
      return Object.keys(patch).length > 0 ? patch : undefined;
    });
  }
  const registeredCount = registeredFiles.length;

  // equal to registeredCount unless an older version of this code left a hole in the indices
  const messageFileCount = Math.max(
    registeredCount,
    registeredFiles.reduce((m, f) => Math.max(m, Number(f.rowKey) + 1), 0),
  );
  await mapBounded(toQueue, 16, async ({ index, url }) => {
    const msg: IngestMessage = { snapshotId, kind, fileIndex: index, fileCount: messageFileCount, url, generatedTime: exp.generatedTime.toISOString() };
    await deps.queue.sendMessage(encodeMessage(msg));
  });

  // A crash between the last file's completion and the flip would leave it ingesting: settle it here.
  const refreshed = await catalog.refreshSnapshot(kind, snapshotId, now);
  if (refreshed?.completedNow) reportSnapshotCompleted(deps.telemetry, refreshed);
  const after = refreshed ?? (await catalog.getSnapshot(kind, snapshotId));
  await supersedeOlder(deps, kind, snapshotId, staleAfterMs);
  const action: TimerAction = created ? 'created' : toQueue.length > 0 ? 'rearmed' : 'none';
  if (action === 'rearmed') log.info(`snapshot ${part}: re-queued ${toQueue.length} file(s)`);
  if (action === 'none') log.info(`snapshot ${part} is ${after?.Status ?? 'ingesting'}; all unfinished files are being worked on`);
  if (action === 'created') log.info(`snapshot ${part}: queued ${toQueue.length} file(s)`);
  return {
    kind,
    action,
    snapshotId,
    tableName,
    status: after?.Status ?? 'ingesting',
    fileCount: after?.FileCount ?? registeredCount,
    filesQueued: toQueue.length,
  };
}

/** The outcome of a run that leaves this snapshot as it is (npm run ingest's summary then describes it). */
function leftAlone(kind: ExportKind, s: SnapshotRow): TimerOutcome {
  return { kind, action: 'none', snapshotId: s.rowKey, tableName: s.TableName, status: s.Status, fileCount: s.FileCount, filesQueued: 0 };
}

/**
 * SNAPSHOT_INTERVAL_HOURS: returns the newest complete snapshot when it was generated within the interval
 * before now, so no new snapshot may start (logged, saying when the next one may); undefined when one may.
 * An unfinished snapshot newer than it, whose export Defender no longer serves (this run would otherwise
 * repair it), makes way for the newer export once nothing works on it any more: it can never finish.
 * While its workers still run it may yet complete, so it holds the newer export back like a complete one.
 */
async function intervalHoldsBack(deps: TimerDeps, kind: ExportKind, whatNot: string): Promise<WithEtag<SnapshotRow> | undefined> {
  const hours = deps.snapshotIntervalHours ?? 0;
  if (hours <= 0) return undefined;
  const nowMs = (deps.now ?? (() => new Date()))().getTime();
  const snaps = await deps.catalog.listSnapshots(kind); // newest first
  const newest = snaps.find((s) => s.Status === 'complete');
  if (!newest) return undefined;
  const generated = new Date(newest.GeneratedTime).getTime();
  if (!Number.isFinite(generated) || nowMs - generated >= hours * HOUR_MS) return undefined;
  const stranded = snaps.find((s) => s.rowKey > newest.rowKey && (s.Status === 'ingesting' || (s.Status === 'failed' && !isSuperseded(s))));
  if (stranded) {
    const files = await deps.catalog.listFiles(progressPartition(kind, stranded.rowKey));
    if (!files.some((f) => isActive(f, nowMs, deps.staleAfterMs ?? DEFAULT_STALE_AFTER_MS))) {
      deps.log.info(
        `snapshot ${progressPartition(kind, stranded.rowKey)} is ${stranded.Status}, nothing works on it and Defender no longer serves its export: the newer export replaces it`,
      );
      return undefined;
    }
    deps.log.info(
      `snapshot ${progressPartition(kind, stranded.rowKey)} is ${stranded.Status} and its export is no longer served, but files are still being worked on; it may yet complete`,
    );
  }
  deps.log.info(
    `newest complete snapshot ${progressPartition(kind, newest.rowKey)} was generated ${((nowMs - generated) / HOUR_MS).toFixed(1)} h ago (SNAPSHOT_INTERVAL_HOURS=${hours}): ${whatNot}; ` +
      `the next one starts at the first run after ${new Date(generated + hours * HOUR_MS).toISOString()}`,
  );
  return newest;
}

/**
 * Defender serves a newer export generated in the same minute as an existing snapshot: both map to the same
 * snapshot id and table. Writing the newer one there would mix two exports in one table, so it is not
 * ingested (the next export gets its own snapshot); the older snapshot, if unfinished, can no longer be
 * completed and is marked superseded. Its table stays as it is.
 */
async function sameMinuteCollision(
  deps: TimerDeps,
  kind: ExportKind,
  existing: WithEtag<SnapshotRow>,
  newerText: string,
  tableName: string,
): Promise<TimerOutcome> {
  const snapshotId = existing.rowKey;
  const olderText = new Date(existing.GeneratedTime).toISOString();
  deps.log.error(
    `snapshot ${progressPartition(kind, snapshotId)}: Defender now serves export ${newerText}, generated in the same minute as this snapshot's export (${olderText}); ` +
      `both map to ${tableName}, so the newer export is not ingested (a table holds one export); the next export gets its own snapshot`,
  );
  const staleAfterMs = deps.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  let status = existing.Status;
  if (status !== 'complete') {
    const reason = `${SUPERSEDED} by export ${newerText}, generated in the same minute; this export's files can no longer be downloaded`;
    const marked = await markSuperseded(deps, kind, snapshotId, () => reason, staleAfterMs);
    if (marked?.changed) reportSnapshotFailed(deps.telemetry, { kind, snapshotId, cause: 'superseded', reason });
    status = marked?.status ?? status;
  }
  await supersedeOlder(deps, kind, snapshotId, staleAfterMs);
  return { kind, action: 'none', snapshotId, tableName, status, fileCount: existing.FileCount, filesQueued: 0 };
}

/**
 * Mark a snapshot failed as superseded, but only once nothing is working on it any more (a live worker
 * may still finish its file), and never one whose files all completed (it is refreshed to complete first).
 * An earlier failure's reason (e.g. a poison message) is kept after the notice. Returns the status
 * afterwards and the reason, or undefined when a file is still active.
 */
async function markSuperseded(
  deps: TimerDeps,
  kind: ExportKind,
  snapshotId: string,
  reasonFor: (files: FileRow[]) => string,
  staleAfterMs: number,
): Promise<{ status?: SnapshotRow['Status']; reason: string; changed: boolean; completed?: true } | undefined> {
  const now = deps.now ?? (() => new Date());
  // every file may have completed with the flip to complete lost (a crash, a lost answer): then it is whole, not superseded
  const refreshed = await deps.catalog.refreshSnapshot(kind, snapshotId, now);
  if (refreshed?.completedNow) reportSnapshotCompleted(deps.telemetry, refreshed);
  if (refreshed?.Status === 'complete') {
    return { status: 'complete', reason: `every file is complete: complete with ${refreshed.RowCount} rows, not superseded`, changed: false, completed: true };
  }
  const nowMs = now().getTime();
  const files = await deps.catalog.listFiles(progressPartition(kind, snapshotId));
  if (files.some((f) => isActive(f, nowMs, staleAfterMs))) return undefined;
  const reason = reasonFor(files);
  let changed = false;
  const after = await deps.catalog.updateSnapshot(kind, snapshotId, (cur) => {
    changed = !(cur.Status === 'complete' || (cur.Error ?? '').startsWith(SUPERSEDED));
    return changed ? { Status: 'failed', Error: shortError(cur.Error ? `${reason}; earlier: ${cur.Error}` : reason) } : undefined;
  });
  return { status: after?.Status, reason, changed };
}

/**
 * An older snapshot that is still unfinished while Defender serves a newer export can never be
 * completed (its URLs belong to an export Defender no longer hands out). Once nothing is working on
 * it, mark it failed; its table stays as it is.
 */
async function supersedeOlder(deps: TimerDeps, kind: ExportKind, currentId: string, staleAfterMs: number): Promise<void> {
  for (const snap of await deps.catalog.listSnapshots(kind)) {
    if (snap.rowKey >= currentId || snap.Status === 'complete') continue;
    if (isSuperseded(snap)) continue;
    const marked = await markSuperseded(
      deps,
      kind,
      snap.rowKey,
      (files) =>
        `${SUPERSEDED} by export ${currentId}: ${files.filter((f) => f.Status !== 'complete').length} of ${snap.FileCount} file(s) were not complete and can no longer be downloaded`,
      staleAfterMs,
    );
    if (marked?.completed) deps.log.info(`snapshot ${progressPartition(kind, snap.rowKey)}: ${marked.reason}`);
    else if (marked) deps.log.warn(`snapshot ${progressPartition(kind, snap.rowKey)}: ${marked.reason}`);
    if (marked?.changed) reportSnapshotFailed(deps.telemetry, { kind, snapshotId: snap.rowKey, cause: 'superseded', reason: marked.reason });
  }
}
