// The trigger (docs/rollups.md#when-rollups-are-built): every complete snapshot without a current rollup gets
// one. Called at the end of each timer run and by the local runner once its queue is drained; idempotent, so
// two callers at once only do the work twice. A failure is logged and retried on the next run: rollups are a
// shortcut for readers (who fall back to a scan), never a reason to fail an ingest.
import { EXPORT_KIND_NAMES, ExportKind } from '../kinds/exportKinds';
import { describeError } from '../core/redact';
import { isNotFound } from '../storage/snapshotCatalog';
import { buildRollup, RollupBuild, RollupDeps } from './rollupBuilder';
import { hasCurrentRollup } from './rollupKeys';

export { rollupDeps } from './rollupBuilder';

export interface BuildMissingOptions {
  /** no new build starts after this long (the rest waits for the next run); default 10 minutes */
  budgetMs?: number;
}

export interface BuildMissingResult {
  built: RollupBuild[];
  failed: { kind: ExportKind; snapshotId: string; error: string }[];
  /** complete snapshots still without a current rollup because the budget ran out */
  deferred: number;
}

export const DEFAULT_ROLLUP_BUDGET_MS = 10 * 60 * 1000;

/** Build the rollup of every complete snapshot of `kinds` that has none (or an outdated one), newest first. */
export async function buildMissingRollups(
  deps: RollupDeps,
  kinds: readonly ExportKind[] = EXPORT_KIND_NAMES,
  opts: BuildMissingOptions = {},
): Promise<BuildMissingResult> {
  const started = Date.now();
  const budget = opts.budgetMs ?? DEFAULT_ROLLUP_BUDGET_MS;
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
      if (Date.now() - started >= budget) {
        result.deferred++;
        continue;
      }
      try {
        result.built.push(await buildRollup(deps, kind, s));
      } catch (err) {
        const error = describeError(err);
        result.failed.push({ kind, snapshotId: s.rowKey, error });
        deps.log.warn(`rollup of ${kind} snapshot ${s.rowKey} failed (${error}); next run tries again`);
      }
    }
  }
  if (result.deferred) deps.log.info(`rollups: ${result.deferred} snapshots left for the next run (budget of ${Math.round(budget / 1000)} s spent)`);
  return result;
}
