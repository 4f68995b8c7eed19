// Which snapshots one process has counted whole while ingesting them (docs/rollups.md#counted-during-ingest).
// The file worker reports every line it maps — the replayed lines before a checkpoint as well as the new ones —
// and each file it completes. A snapshot's tally is used instead of a scan only if this process completed every
// one of its files, their rows add up to the catalog's RowCount, no row was refused by Table Storage after it
// was counted, and no file started again on a changed blob (whose old rows may stay in the table). Anything
// else — a file finished by another process or an earlier run, a tally over its memory budget — means a scan.
import type { SnapshotRow } from '../core/contracts';
import type { ExportKind } from '../kinds/exportKinds';
import type { Log } from '../core/log';
import type { CountResult, Row } from './rollupCounter';
import { PairBudget, RollupTally } from './rollupTally';

/** One invocation's view of one file: the lines it maps, from line 1 (replayed or new) to where it stops. */
export interface FileTally {
  /** a mapped line: an entity is counted, a refused line is noted (a reject in the file row, not a row) */
  line(result: { ok: true; entity: Row } | { ok: false }): void;
  /** the blob changed and the file starts again at line 0: the old blob's rows may stay in the table */
  restarted(): void;
  /** the file completed, with the totals of its final checkpoint */
  complete(totals: { rows: number; rejected: number }): void;
}

interface SnapshotTally {
  tally: RollupTally;
  /** completed files: index → rows written */
  files: Map<number, number>;
  invalid?: string;
}

export type TallyAnswer = { counted: CountResult } | { reason: string };

export class IngestTallies {
  private readonly snapshots = new Map<string, SnapshotTally>();
  private readonly budget: PairBudget;

  constructor(
    private readonly log: Log,
    maxPairs?: number,
  ) {
    this.budget = new PairBudget(maxPairs);
  }

  /** Start counting one invocation's lines of one file. */
  file(kind: ExportKind, snapshotId: string, fileIndex: number): FileTally {
    const key = `${kind}/${snapshotId}`;
    let s = this.snapshots.get(key);
    if (!s) this.snapshots.set(key, (s = { tally: new RollupTally(kind, this.budget), files: new Map() }));
    const snap = s;
    let refused = 0; // lines this invocation saw refused by the mapper (a longer-than-allowed line too)
    const giveUp = (why: string) => {
      snap.invalid ??= why;
      snap.tally.release();
    };
    return {
      line: (result) => {
        if (!result.ok) {
          refused++;
          return;
        }
        if (snap.invalid) return;
        snap.tally.add(result.entity);
        // once: giving up sets `invalid`, so no later line of any file of this snapshot gets here
        if (snap.tally.overflow) {
          this.log.info(`${kind} snapshot ${snapshotId}: not counting its rollup during ingest (${snap.tally.overflow}); it is built by a scan once complete`);
          giveUp(snap.tally.overflow);
        }
      },
      restarted: () => giveUp(`file ${fileIndex} started again on a changed blob`),
      complete: (totals) => {
        // a row refused by Table Storage after it was counted: the table lacks it, the tally has it
        if (totals.rejected !== refused) giveUp(`file ${fileIndex} has ${totals.rejected - refused} rows refused by Table Storage`);
        snap.files.set(fileIndex, totals.rows);
      },
    };
  }

  /** The counts of a complete snapshot, if this process saw every row of it; otherwise why not. */
  countFor(kind: ExportKind, snapshot: SnapshotRow): TallyAnswer {
    const s = this.snapshots.get(`${kind}/${snapshot.rowKey}`);
    if (!s) return { reason: 'not ingested by this process' };
    if (s.invalid) return { reason: s.invalid };
    const missing: number[] = [];
    for (let i = 0; i < snapshot.FileCount; i++) if (!s.files.has(i)) missing.push(i);
    if (missing.length) return { reason: `${missing.length} of its ${snapshot.FileCount} files completed elsewhere (e.g. file ${missing[0]})` };
    const rows = [...s.files.values()].reduce((a, b) => a + b, 0);
    if (rows !== snapshot.RowCount) return { reason: `its files wrote ${rows} rows here, the catalog says ${snapshot.RowCount}` };
    const counted = s.tally.result();
    if (!counted) return { reason: s.tally.overflow ?? 'released' };
    return { counted: { ...counted, rows } };
  }

  /** Drop a snapshot's state (its rollup is built, or it will be by a scan). */
  forget(kind: ExportKind, snapshotId: string): void {
    const key = `${kind}/${snapshotId}`;
    this.snapshots.get(key)?.tally.release();
    this.snapshots.delete(key);
  }
}
