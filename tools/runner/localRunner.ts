// The local stand-in for the Functions host (func start cannot be installed here): it runs the timer
// handler once for every kind of EXPORT_KINDS, then drains INGEST_QUEUE (messages of any kind) with the real
// queue handler the way the host does — visibility timeout kept extended while a handler runs, dequeue
// count, the -poison queue and the poison handler — until no file of any kind is queued or in progress.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { QueueClient } from '@azure/storage-queue';
import { buildMissingRollups, rollupDeps } from '../../shared/rollup/buildMissing';
import { IngestTallies } from '../../shared/rollup/ingestTallies';
import { AppServices, createServices, ingestDeps, timerDeps } from '../../shared/app/appContext';
import { Config } from '../../shared/core/config';
import { ExportKind, progressPartition, SnapshotRow } from '../../shared/core/contracts';
import { ingestExportFile, IngestDeps, IngestOutcome } from '../../shared/ingest/fileWorker';
import { Slots } from '../../shared/ingest/snapshotWriter';
import { isSuperseded } from '../../shared/storage/snapshotCatalog';
import { handlePoisonMessage } from '../../shared/ingest/poisonHandler';
import { collectExports, TimerDeps, TimerOutcome } from '../../shared/timer/exportCollector';
import { reportSnapshotCompleted } from '../../shared/core/telemetry';
import { Log } from '../../shared/core/log';
import { describeError } from '../../shared/core/redact';
import { sleep } from '../../shared/core/concurrency';
import { ROOT } from '../root';

export interface HostQueueSettings {
  maxDequeueCount: number;
  /** delay before a failed message is retried */
  retryDelaySeconds: number;
}

const HOST_OVERRIDE = 'AzureFunctionsJobHost__extensions__queues__';

function timeSpanSeconds(text: string): number {
  const [h, m, s] = text.split(':').map(Number);
  return h * 3600 + m * 60 + s;
}

/**
 * Read the queue settings from host.json, so the runner retries exactly as the host would. Like the host,
 * app settings named `AzureFunctionsJobHost__extensions__queues__<name>` override host.json's values.
 */
export function hostQueueSettings(hostJsonPath = path.join(ROOT, 'host.json'), env: Record<string, string | undefined> = {}): HostQueueSettings {
  const host = JSON.parse(fs.readFileSync(hostJsonPath, 'utf8')) as { extensions?: { queues?: { maxDequeueCount?: number; visibilityTimeout?: string } } };
  const q = host.extensions?.queues ?? {};
  const maxDequeueCount = env[`${HOST_OVERRIDE}maxDequeueCount`] ?? q.maxDequeueCount ?? 5;
  const visibilityTimeout = env[`${HOST_OVERRIDE}visibilityTimeout`] ?? q.visibilityTimeout ?? '00:00:00';
  const settings = { maxDequeueCount: Number(maxDequeueCount), retryDelaySeconds: timeSpanSeconds(String(visibilityTimeout)) };
  if (!Number.isInteger(settings.maxDequeueCount) || settings.maxDequeueCount < 1)
    throw new Error(`queues maxDequeueCount: expected a whole number ≥ 1, got "${maxDequeueCount}"`);
  if (!/^\d+:\d{2}:\d{2}$/.test(String(visibilityTimeout))) throw new Error(`queues visibilityTimeout: expected hh:mm:ss, got "${visibilityTimeout}"`);
  return settings;
}

/** One kind's line of `npm run ingest` (docs/operations.md). */
export interface CycleSummary {
  kind: ExportKind;
  /** empty when the kind failed before a snapshot was registered (e.g. its call was refused) */
  snapshotId: string;
  table: string;
  status: SnapshotRow['Status'];
  files: number;
  rows: number;
  rejected: number;
  duplicates: number;
  seconds: number;
  /** why the kind's run failed (its timer run threw: a refused permission, an API outage) */
  error?: string;
}

export interface Progress {
  kind: ExportKind;
  snapshotId: string;
  filesTotal: number;
  filesDone: number;
  rows: number;
  rowsPerSecond: number;
  inFlight: number;
}

export interface RunnerOptions {
  config: Config;
  log: Log;
  services?: AppServices;
  /** override handler dependencies (tests: a fake Defender, small segments, crash hooks) */
  timer?: Partial<TimerDeps>;
  ingest?: Partial<IngestDeps>;
  host?: HostQueueSettings;
  /** seconds between progress callbacks */
  progressEverySeconds?: number;
  onProgress?: (p: Progress) => void;
  /** give up when nothing moves for this long (default: 3 visibility timeouts + 2 minutes) */
  stallSeconds?: number;
  pollMs?: number;
  /** build the rollups of what completed (default true); false leaves them to a later run or the timer, and readers scan meanwhile */
  rollups?: boolean;
}

interface Received {
  messageId: string;
  popReceipt: string;
  messageText: string;
  dequeueCount: number;
}

function decodeBody(text: string): unknown {
  // the host decodes base64 (messageEncoding) and hands JSON bodies over as objects
  const decoded = Buffer.from(text, 'base64').toString('utf8');
  try {
    return JSON.parse(decoded);
  } catch {
    return decoded;
  }
}

// A failed queue call is retried with a short backoff; it never ends the run (the host behaves the same way).
const QUEUE_RETRIES = 5;
const QUEUE_BACKOFF_MS = 250;
const QUEUE_BACKOFF_MAX_MS = 5000;

function queueBackoffMs(failures: number): number {
  return Math.min(QUEUE_BACKOFF_MAX_MS, QUEUE_BACKOFF_MS * 2 ** Math.max(0, failures - 1));
}

/**
 * A delete or update refused because our pop receipt is stale (the message was updated by a call whose answer
 * we lost, or it reappeared and was received again): retrying cannot help; the message's next delivery will.
 */
export function isStalePopReceipt(err: unknown): boolean {
  const e = err as { statusCode?: unknown; code?: unknown };
  return (e?.statusCode === 404 || e?.statusCode === 400) && typeof e?.code === 'string' && /^(MessageNotFound|PopReceiptMismatch)$/.test(e.code);
}

/**
 * One queue call, retried on failure. Returns false when it did not succeed: the receipt was stale (dropped at
 * once) or every retry failed. Either way the message reappears after its visibility timeout and is handled again.
 */
async function queueCall(log: Log, what: string, call: () => Promise<unknown>): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await call();
      return true;
    } catch (err) {
      if (isStalePopReceipt(err)) {
        log.warn(`could not ${what}: the pop receipt is stale (${describeError(err)}); dropped, the message will be delivered again`);
        return false;
      }
      if (attempt >= QUEUE_RETRIES) {
        log.warn(`could not ${what} after ${attempt} attempts (${describeError(err)}); giving up, the message will be delivered again`);
        return false;
      }
      const wait = queueBackoffMs(attempt);
      log.warn(`could not ${what} (${describeError(err)}); retrying in ${wait} ms`);
      await sleep(wait);
    }
  }
}

/** Keep a received message invisible while its handler runs, as the host does. */
function keepInvisible(queue: QueueClient, msg: Received, visibilitySeconds: number, log: Log): () => Promise<void> {
  let stopped = false;
  let renewing: Promise<void> = Promise.resolve();
  const timer = setInterval(
    () => {
      renewing = renewing.then(async () => {
        if (stopped) return;
        try {
          const res = await queue.updateMessage(msg.messageId, msg.popReceipt, undefined, visibilitySeconds);
          if (res.popReceipt) msg.popReceipt = res.popReceipt;
        } catch (err) {
          log.warn(`could not extend visibility of message ${msg.messageId}: ${describeError(err)}`);
        }
      });
    },
    Math.max(1000, (visibilitySeconds * 1000) / 3),
  );
  return async () => {
    stopped = true;
    clearInterval(timer);
    await renewing;
  };
}

/** One cycle, summarised for the first configured kind: for callers that configure one kind (the demo, tests). */
export async function runIngestCycle(opts: RunnerOptions): Promise<CycleSummary> {
  return (await runIngestKinds(opts))[0];
}

/** One cycle of every kind of EXPORT_KINDS: their summaries, in that order. */
export async function runIngestKinds(opts: RunnerOptions): Promise<CycleSummary[]> {
  const started = Date.now();
  const { config, log } = opts;
  const services = opts.services ?? createServices(config);
  const host = opts.host ?? hostQueueSettings();
  const visibility = config.ingestVisibilityTimeoutSeconds;
  const pollMs = opts.pollMs ?? 500;
  const stallMs = (opts.stallSeconds ?? visibility * 3 + 120) * 1000;
  // A live worker renews its lease only at checkpoints, so the lease must outlast a slow segment (30 s floor);
  // a dead worker's own message takes its file over at once anyway (lease owner = message id, below).
  const leaseSeconds = Math.max(30, visibility * 2);
  const { queue, poisonQueue, catalog } = services;

  // A crashed worker's file is picked up again once its message reappears; the timer also re-queues
  // files whose lease ran out and that saw no progress for two visibility timeouts.
  // Each kind on its own: a kind whose run failed (refused, API error) is reported and the others are drained.
  const results = await collectExports(timerDeps(services, log, { staleAfterMs: visibility * 2000, rollups: opts.rollups, ...opts.timer }));
  await queue.createIfNotExists();
  await poisonQueue.createIfNotExists();
  const running: TimerOutcome[] = results.flatMap((r) => (r.outcome ? [r.outcome] : []));

  let inFlight = 0;
  let lastMove = Date.now();
  let rearms = 0;

  // The files in progress share one budget of transactions in flight, first come first served: while every
  // worker has a file, each gets about WRITE_CONCURRENCY; in the tail of a run, when fewer files remain than
  // workers, the idle workers' share goes to the files still running, so storage stays busy to the last row.
  const writeSlotCount = config.ingestFileConcurrency * config.writeConcurrency;
  const writeSlots = new Slots(writeSlotCount);
  // The rollups are counted from the rows as they are mapped, so building them after the drain needs no second
  // read of the new tables (docs/rollups.md#counted-during-ingest); a snapshot not seen whole here is scanned.
  const tallies = opts.rollups === false ? undefined : new IngestTallies(log);

  // Idle waits (an empty queue, the supervisor between checks) end as soon as a handler finishes, so the run
  // ends when its last file does, not up to a poll later, and a continuation is picked up at once.
  const naps = new Set<() => void>();
  const nap = (ms: number) =>
    new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        naps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      naps.add(wake);
    });
  const wakeAll = () => {
    for (const wake of [...naps]) wake();
  };

  const handle = async (msg: Received): Promise<void> => {
    const body = decodeBody(msg.messageText);
    if (msg.dequeueCount > host.maxDequeueCount) {
      await moveToPoison(msg);
      return;
    }
    const release = keepInvisible(queue, msg, visibility, log);
    let outcome: IngestOutcome | undefined;
    let failure: unknown;
    try {
      // The lease belongs to the message, not to this process: the runner (like the host) keeps a message
      // invisible while its handler lives, so the same message showing up again means that handler died,
      // and its new delivery takes the file over at once instead of waiting out the dead holder's lease.
      // The lease follows the visibility timeout, so a file whose message was lost is free again soon after.
      outcome = await ingestExportFile(
        body,
        ingestDeps(services, log, {
          workerId: `local-${msg.messageId}`,
          writeSlots,
          tallies,
          ...opts.ingest,
          limits: { leaseMs: leaseSeconds * 1000, ...opts.ingest?.limits },
        }),
      );
    } catch (err) {
      failure = err;
    } finally {
      await release();
    }
    if (failure === undefined) {
      // a delete that does not happen only means one more delivery, which finds the file done
      await queueCall(log, `delete message ${msg.messageId}`, () => queue.deleteMessage(msg.messageId, msg.popReceipt));
      if (outcome && outcome.status !== 'busy' && outcome.status !== 'skipped') lastMove = Date.now();
      return;
    }
    log.warn(`handler failed on delivery ${msg.dequeueCount}/${host.maxDequeueCount}: ${describeError(failure)}`);
    if (msg.dequeueCount >= host.maxDequeueCount) {
      await moveToPoison(msg);
    } else {
      // if this fails, the message still reappears, only after the visibility timeout instead of the retry delay
      await queueCall(log, `update message ${msg.messageId} for a retry in ${host.retryDelaySeconds} s`, () =>
        queue.updateMessage(msg.messageId, msg.popReceipt, undefined, host.retryDelaySeconds),
      );
    }
  };

  const moveToPoison = async (msg: Received): Promise<void> => {
    // delete only once the copy is in the poison queue; otherwise the message comes back and gets here again
    if (!(await queueCall(log, `send message ${msg.messageId} to ${poisonQueue.name}`, () => poisonQueue.sendMessage(msg.messageText)))) return;
    await queueCall(log, `delete message ${msg.messageId}`, () => queue.deleteMessage(msg.messageId, msg.popReceipt));
    log.error(`message ${msg.messageId} moved to ${poisonQueue.name} after ${msg.dequeueCount} deliveries`);
  };

  // A failure here is logged and left for the next poll: a poison message not yet handled stays in its queue.
  const drainPoison = async (): Promise<void> => {
    for (;;) {
      let items;
      try {
        items = (await poisonQueue.receiveMessages({ numberOfMessages: 32, visibilityTimeout: visibility })).receivedMessageItems;
      } catch (err) {
        log.warn(`could not receive messages from ${poisonQueue.name} (${describeError(err)}); retrying at the next poll`);
        return;
      }
      if (items.length === 0) return;
      for (const m of items) {
        try {
          // m.dequeueCount counts receives from the poison queue (1), not the failed deliveries that put it there
          await handlePoisonMessage(decodeBody(m.messageText), { catalog, log, telemetry: services.telemetry }, host.maxDequeueCount);
        } catch (err) {
          log.warn(`poison message ${m.messageId}: handler failed (${describeError(err)}); it will be delivered again`);
          continue;
        }
        await queueCall(log, `delete message ${m.messageId} from ${poisonQueue.name}`, () => poisonQueue.deleteMessage(m.messageId, m.popReceipt));
        lastMove = Date.now();
      }
    }
  };

  // Files still to do, and a fingerprint of their checkpoints: a long file that keeps checkpointing is
  // progress too, even while no handler has finished for a while.
  let lastFingerprint = '';
  const pendingOf = async (t: TimerOutcome): Promise<{ count: number; fingerprint: string }> => {
    const snap = await catalog.getSnapshot(t.kind, t.snapshotId);
    // workers ignore a superseded snapshot's messages, so its unfinished files stay unfinished: nothing to wait for
    if (!snap || snap.Status === 'complete' || isSuperseded(snap)) return { count: 0, fingerprint: '' };
    const files = await catalog.listFiles(progressPartition(t.kind, t.snapshotId));
    const fingerprint = files.map((f) => `${f.Status}:${f.LinesCommitted ?? 0}`).join(',');
    return { count: files.filter((f) => f.Status === 'queued' || f.Status === 'ingesting').length, fingerprint };
  };
  const pendingFiles = async (): Promise<number> => {
    let count = 0;
    let fingerprint = '';
    for (const t of running) {
      const p = await pendingOf(t);
      count += p.count;
      fingerprint += `${t.kind}:${p.fingerprint};`;
    }
    if (fingerprint !== lastFingerprint) {
      lastFingerprint = fingerprint;
      lastMove = Date.now();
      rearms = 0;
    }
    return count;
  };

  let progressTimer: NodeJS.Timeout | undefined;
  if (opts.onProgress) {
    const last = new Map<ExportKind, { rows: number; at: number }>();
    const report = async () => {
      for (const r of running) {
        const snap = await catalog.getSnapshot(r.kind, r.snapshotId).catch(() => undefined);
        const files = await catalog.listFiles(progressPartition(r.kind, r.snapshotId)).catch(() => []);
        const rows = files.reduce((n, f) => n + (f.RowsWritten ?? 0), 0);
        const t = Date.now();
        const before = last.get(r.kind) ?? { rows: 0, at: started };
        opts.onProgress?.({
          kind: r.kind,
          snapshotId: r.snapshotId,
          filesTotal: snap?.FileCount ?? files.length,
          filesDone: files.filter((f) => f.Status === 'complete').length,
          rows,
          rowsPerSecond: ((rows - before.rows) * 1000) / Math.max(1, t - before.at),
          inFlight,
        });
        last.set(r.kind, { rows, at: t });
      }
    };
    progressTimer = setInterval(() => void report(), (opts.progressEverySeconds ?? 2) * 1000);
  }

  const workers: Promise<void>[] = [];
  let done = false;
  const workerLoop = async () => {
    let receiveFailures = 0;
    while (!done) {
      let res;
      try {
        res = await queue.receiveMessages({ numberOfMessages: 1, visibilityTimeout: visibility });
        receiveFailures = 0;
      } catch (err) {
        const wait = queueBackoffMs(++receiveFailures);
        log.warn(`could not receive messages from ${queue.name} (${describeError(err)}); retrying in ${wait} ms`);
        await sleep(wait);
        continue;
      }
      const m = res.receivedMessageItems[0];
      if (!m) {
        await nap(pollMs);
        continue;
      }
      inFlight++;
      try {
        await handle({ messageId: m.messageId, popReceipt: m.popReceipt, messageText: m.messageText, dequeueCount: m.dequeueCount });
      } finally {
        inFlight--;
        wakeAll();
      }
    }
  };

  try {
    for (let i = 0; i < config.ingestFileConcurrency; i++) workers.push(workerLoop());
    const failedWorker = Promise.race(workers.map((w) => w.then(() => new Promise<never>(() => undefined))));
    const supervise = async () => {
      for (;;) {
        await drainPoison();
        const pending = await pendingFiles();
        if (inFlight === 0 && pending === 0) return;
        if (Date.now() - lastMove > stallMs) {
          if (rearms >= 2) {
            throw new Error(`no progress for ${Math.round(stallMs / 1000)} s with files still queued or in progress; run again to re-arm them`);
          }
          // messages may have been lost (e.g. a crash between registering a file and queueing it)
          rearms++;
          log.warn('no progress: asking the timer handler to re-arm unfinished files');
          // a kind that fails again here was reported by its first run; the others are re-armed regardless
          await collectExports(timerDeps(services, log, { staleAfterMs: 0, rollups: opts.rollups, ...opts.timer }));
          lastMove = Date.now();
        }
        await nap(pollMs);
      }
    };
    await Promise.race([supervise(), failedWorker]);
    // Every file is done, but the flip to complete may have failed after the last checkpoint (its handler
    // threw and the message waits for a retry): settle it now, as the timer would on its next run.
    for (const r of running) {
      const settled = await catalog.refreshSnapshot(r.kind, r.snapshotId, () => new Date());
      if (settled?.completedNow) reportSnapshotCompleted(services.telemetry, settled);
    }
    // rollups (docs/rollups.md), so `npm start` / `npm run ingest` leave them behind like the hourly timer does; no function
    // timeout here, and the drained queue leaves every write slot to the rollup rows (mostly one per partition)
    if (opts.rollups !== false)
      await buildMissingRollups(rollupDeps(catalog, log, { writeConcurrency: writeSlotCount }), config.exportKinds, { budgetMs: Infinity, tallies });
  } finally {
    done = true;
    wakeAll();
    if (progressTimer) clearInterval(progressTimer);
    await Promise.allSettled(workers);
    // ours to stop (its exporters hold timers); a caller's services are the caller's
    if (!opts.services) await services.telemetry.shutdown();
  }

  const seconds = Math.round((Date.now() - started) / 100) / 10;
  const kinds: CycleSummary[] = [];
  for (const r of results) {
    if (!r.outcome) {
      const error = describeError(r.error, 1000);
      kinds.push({ kind: r.kind, snapshotId: '', table: '', status: 'failed', files: 0, rows: 0, rejected: 0, duplicates: 0, seconds, error });
      continue;
    }
    const timer = r.outcome;
    const snap = await catalog.getSnapshot(timer.kind, timer.snapshotId);
    kinds.push({
      kind: timer.kind,
      snapshotId: timer.snapshotId,
      table: timer.tableName,
      status: snap?.Status ?? timer.status,
      files: snap?.FileCount ?? timer.fileCount,
      rows: snap?.RowCount ?? 0,
      rejected: snap?.RejectedCount ?? 0,
      duplicates: snap?.DuplicateCount ?? 0,
      seconds,
    });
  }
  return kinds;
}
