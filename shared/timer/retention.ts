// RETENTION_DAYS: drop snapshot tables older than the limit, per kind: never a kind's newest complete one, never one
// still ingesting, and never on a catalog row that cannot be trusted (a table name other than its kind +
// stamp, an unreadable date). The snapshot's file-progress, reject and rollup rows (docs/rollups.md#retention)
// go with it, its catalog row last, so a run that dies half-way simply finishes the job next time.
import { ExportKind, progressPartition, SnapshotRow, snapshotTableName, SOFTWARE_INVENTORY } from '../core/contracts';
import { Log } from '../core/log';
import { ROLLUP_TABLE } from '../rollup/rollupKeys';
import { deleteSnapshotRollup } from '../rollup/rollupRetention';
import { deleteRowRange } from '../storage/rowDeletes';
import { isNotFound, SnapshotCatalog } from '../storage/snapshotCatalog';

export interface RetentionDeps {
  catalog: SnapshotCatalog;
  deleteTable: (name: string) => Promise<void>;
  retentionDays: number;
  log: Log;
  now?: () => Date;
  /** the kinds whose catalog partitions are judged (EXPORT_KINDS); absent: the software inventory */
  kinds?: readonly ExportKind[];
}

/** Why this catalog row must not lead to a deletion, or undefined when it is safe to judge by its date. */
function untrusted(s: SnapshotRow): string | undefined {
  const expected = snapshotTableName(s.partitionKey, s.rowKey);
  if (s.TableName !== expected) return `its catalog row names table ${s.TableName}, not ${expected}`;
  if (!Number.isFinite(generatedMs(s))) return 'GeneratedTime is missing or not a date';
  return undefined;
}

function generatedMs(s: SnapshotRow): number {
  const v: unknown = s.GeneratedTime;
  return v instanceof Date || typeof v === 'string' ? new Date(v).getTime() : NaN;
}

/**
 * Returns the snapshots dropped: the bare id for the inventory, the table name (`<Kind><stamp>`) for another
 * kind, as their progress partitions name them. Each kind is judged alone: its own newest complete snapshot stays.
 */
export async function applyRetention(deps: RetentionDeps): Promise<string[]> {
  if (deps.retentionDays <= 0) return [];
  const dropped: string[] = [];
  for (const kind of deps.kinds?.length ? deps.kinds : [SOFTWARE_INVENTORY]) dropped.push(...(await retainKind(deps, kind)));
  return dropped;
}

async function retainKind(deps: RetentionDeps, kind: ExportKind): Promise<string[]> {
  const now = deps.now ?? (() => new Date());
  const cutoff = now().getTime() - deps.retentionDays * 86_400_000;
  const snaps = await deps.catalog.listSnapshots(kind); // newest first
  const newestComplete = snaps.find((s) => s.Status === 'complete')?.rowKey;
  const dropped: string[] = [];
  for (const s of snaps) {
    // a worker may still be writing it; the timer supersedes it first if it can never finish
    if (s.rowKey === newestComplete || s.Status === 'ingesting') continue;
    const problem = untrusted(s);
    const part = progressPartition(kind, s.rowKey);
    if (problem) {
      deps.log.warn(`retention: skipped snapshot ${part}: ${problem}; nothing deleted`);
      continue;
    }
    if (generatedMs(s) >= cutoff) continue;
    try {
      await deps.deleteTable(s.TableName);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    await deleteRowRange(deps.catalog.files, part);
    await deleteRowRange(deps.catalog.rejects, part);
    // the rollup lives in the account of the snapshot tables, as the catalog does (rollupDeps)
    const rollupRows = await deleteSnapshotRollup(deps.catalog.clients.table(ROLLUP_TABLE), kind, s.rowKey);
    await deps.catalog.catalog.deleteEntity(s.partitionKey, s.rowKey);
    dropped.push(part);
    deps.log.info(
      `retention: dropped snapshot ${part} (${s.TableName}, ${s.Status}, generated ${new Date(s.GeneratedTime).toISOString()}, ${rollupRows} rollup rows) — older than ${deps.retentionDays} days`,
    );
  }
  return dropped;
}
