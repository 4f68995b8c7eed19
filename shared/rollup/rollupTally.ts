// The rollup of a snapshot counted while it is ingested (docs/rollups.md#counted-during-ingest), so the local
// runner need not read the new table back: rows arrive in any order, from several files at once, some twice
// (a retry, a resumed file's replayed lines), so every device keeps the set of buckets it was counted in and
// a row counts only what is new for its device. That state grows with the snapshot; past a budget of
// (device, bucket) pairs shared by the process's tallies, the one that passes it gives up, frees it, and the rollup is built by a scan as before.
import type { ExportKind } from '../kinds/exportKinds';
import { Bucket, BucketCounter, CountResult, DeviceState, Row } from './rollupCounter';

/**
 * Default bound on the (device, bucket) pairs held by one process's tallies: about 35 bytes a pair on V8's maps
 * (measured: 1M inventory rows of 28 per device held 4.1M pairs in 135 MB of heap), so ~140 MB at the bound. An
 * inventory row adds about 2–4 pairs (its product, version, and the product by name across vendors until the
 * end shows whether it has several), so one run counts snapshots up to about a million rows this way; larger
 * ones are scanned, as before.
 */
export const DEFAULT_TALLY_MAX_PAIRS = 4_000_000;

/** (device, bucket) pairs that the tallies of one process may hold together. */
export class PairBudget {
  held = 0;
  constructor(readonly max = DEFAULT_TALLY_MAX_PAIRS) {}
}

export class RollupTally {
  private counter: BucketCounter | undefined;
  private readonly devices = new Map<string, DeviceState>();
  private pairs = 0;
  private lastDevice: string | undefined;
  private lastSeen: DeviceState | undefined;
  /** why the tally stopped counting (then it holds nothing) */
  overflow: string | undefined;

  constructor(
    readonly kind: ExportKind,
    private readonly budget = new PairBudget(),
  ) {
    this.counter = new BucketCounter(kind);
  }

  /** Count one entity as written to the snapshot table (PartitionKey = device). Adding it again changes nothing. */
  add(entity: Row): void {
    const counter = this.counter;
    if (!counter) return;
    // a file's rows mostly come device by device: the last device's state saves a lookup
    let seen = entity.partitionKey === this.lastDevice ? this.lastSeen : this.devices.get(entity.partitionKey);
    if (!seen) this.devices.set(entity.partitionKey, (seen = new Map<Bucket, number>()));
    this.lastDevice = entity.partitionKey;
    this.lastSeen = seen;
    const added = counter.add(entity, seen);
    this.pairs += added;
    this.budget.held += added;
    if (this.budget.held > this.budget.max) {
      this.overflow = `the process's tallies passed ${this.budget.max.toLocaleString('en-US')} (device, bucket) pairs`;
      this.release();
    }
  }

  /** Stop counting and give the memory back. */
  release(): void {
    this.overflow ??= 'released';
    this.counter = undefined;
    this.devices.clear();
    this.lastDevice = this.lastSeen = undefined;
    this.budget.held -= this.pairs;
    this.pairs = 0;
  }

  get pairsHeld(): number {
    return this.pairs;
  }

  /** The counts, as a scan of a table holding exactly the rows added would give them; undefined after an overflow. */
  result(): CountResult | undefined {
    return this.counter?.result(this.devices.size);
  }
}
