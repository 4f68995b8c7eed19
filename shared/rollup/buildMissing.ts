// The trigger (docs/rollups.md#when-rollups-are-built): every complete snapshot without a current rollup gets
// one. Called at the end of each timer run and by the local runner once its queue is drained; idempotent, so
// two callers at once only do the work twice. A failure is logged and retried on the next run: rollups are a
// shortcut for readers (who fall back to a scan), never a reason to fail an ingest.
import { EXPORT_KIND_NAMES, ExportKind } from '../kinds/exportKinds';
import { describeError } from '../core/redact';
import { isNotFound } from '../storage/snapshotCatalog';
import { buildRollup, RollupBuild, RollupDeps } from './rollupBuilder';
import { hasCurrentRollup, ROLLUP_TABLE } from './rollupKeys';
import { buildRollupInParts, partialPartition } from './rollupInParts';
import { deleteRowRange } from '../storage/rowDeletes';
import type { IngestTallies } from './ingestTallies';

export { rollupDeps } from './rollupBuilder';

export interface BuildMissingOptions {
  /**
   * A build starts only if it is expected to end within this long of the call (the rest waits for the next run).
   * Default 5 minutes: the timer's invocation has host.json's 10-minute functionTimeout for all its work.
   */
  budgetMs?: number;
  /** the scan rate a build is expected at, for that estimate (default: Table Storage's 20,000 entities/s per account) */
  rowsPerSecond?: number;
  /** the counts of snapshots this process ingested whole (the local runner), so they are built without a scan */
  tallies?: IngestTallies;
}

export interface BuildMissingResult {
  built: RollupBuild[];
  failed: { kind: ExportKind; snapshotId: string; error: string }[];
  /** complete snapshots still without a current rollup because their build would not fit in the budget */
  deferred: number;
}

export const DEFAULT_ROLLUP_BUDGET_MS = 5 * 60 * 1000;
export const DEFAULT_ROLLUP_ROWS_PER_SECOND = 20_000;

/** Build the rollup of every complete snapshot of `kinds` that has none (or an outdated one), newest first. */
export async function buildMissingRollups(
  deps: RollupDeps,
  kinds: readonly ExportKind[] = EXPORT_KIND_NAMES,
  opts: BuildMissingOptions = {},
): Promise<BuildMissingResult> {
  const started = Date.now();
  const budget = opts.budgetMs ?? DEFAULT_ROLLUP_BUDGET_MS;
  const rate = opts.rowsPerSecond ?? DEFAULT_ROLLUP_ROWS_PER_SECOND;
  const result: BuildMissingResult = { built: [], failed: [], deferred: 0 };
  for (const kind of kinds) {
    let snapshots;
    try {
      snapshots = await deps.catalog.listSnapshots(kind); // newest first: the one analysts ask about soonest
    } catch (err) {
      if (isNotFound(err)) continue; // no catalog yet
      deps.log.warn(`rollups of ${kind}: could not list snapshots (${describeError(err)}); next run tries again`);
      continue;
    }
    for (const s of snapshots) {
      if (s.Status !== 'complete' || hasCurrentRollup(s)) continue;
      const answer = opts.tallies?.countFor(kind, s);
      opts.tallies?.forget(kind, s.rowKey);
      if (answer && 'reason' in answer && answer.reason !== 'not ingested by this process')
        deps.log.info(`rollup of ${kind} snapshot ${s.rowKey}: scanning its table (${answer.reason})`);
      const counted = answer && 'counted' in answer ? answer.counted : undefined;
      const expectedMs = counted ? 0 : ((s.RowCount ?? 0) / rate) * 1000;
      if (expectedMs > budget) {
        // too large for any one run: counted part by part (ranges of DeviceIds) over as many runs as it takes
        try {
          const p = await buildRollupInParts(deps, kind, s, { deadlineMs: started + budget, rowsPerSecond: rate, budgetMs: budget });
          if (p.built) result.built.push(p.built);
          else {
            result.deferred++;
            deps.log.info(
              `rollup of ${kind} snapshot ${s.rowKey}: ${s.RowCount} rows need ~${Math.round(expectedMs / 1000)} s, over a run's budget of ${Math.round(budget / 1000)} s; ` +
                `counted in parts: ${p.counted} of ${p.total} done (${p.rowsRead} rows read this run), the rest in the next runs`,
            );
          }
        } catch (err) {
          const error = describeError(err);
          result.failed.push({ kind, snapshotId: s.rowKey, error });
          deps.log.warn(`rollup of ${kind} snapshot ${s.rowKey} (in parts) failed (${error}); next run goes on from the parts counted`);
        }
        continue;
      }
      if (Date.now() - started + expectedMs > budget) {
        result.deferred++;
        continue;
      }
      try {
        const built = await buildRollup(deps, kind, s, counted);
        result.built.push(built);
        // parts an earlier run counted towards this snapshot are no longer needed
        if (built.marked) await deleteRowRange(deps.table(ROLLUP_TABLE), partialPartition(kind, s.rowKey));
      } catch (err) {
        const error = describeError(err);
        result.failed.push({ kind, snapshotId: s.rowKey, error });
        deps.log.warn(`rollup of ${kind} snapshot ${s.rowKey} failed (${error}); next run tries again`);
      }
    }
  }
  if (result.deferred) deps.log.info(`rollups: ${result.deferred} snapshots left for a later run (budget of ${Math.round(budget / 1000)} s)`);
  return result;
}
