// A worker's claim on one file row. Every write to the row is conditional on the ETag of our own last
// write, so a worker that lost the file (its lease lapsed and another worker claimed it) finds out at
// once and stops. Checkpoints renew the lease; a heartbeat renews it in between, so a slow segment
// (throttled storage, a slow download) never lets the claim lapse while the worker is alive.
// A 412 is not proof of a takeover: a write applied whose answer was lost (reset, gateway 5xx, timeout)
// is retried by the SDK with the old ETag and meets our own change. So on 412 the row is read again.
import { FileRow } from '../core/contracts';
import { Log } from '../core/log';
import { describeError } from '../core/redact';
import { isConditionFailed, SnapshotCatalog } from './snapshotCatalog';
import { AppError } from '../core/errors';

export class LeaseLostError extends AppError {}

export interface FileLeaseOptions {
  catalog: SnapshotCatalog;
  /** the file row's PartitionKey: progressPartition(kind, snapshotId) (docs/kinds.md#progress-and-rejects) */
  partition: string;
  fileIndex: number;
  /** ETag of the claim's own write */
  etag: string;
  /** the LeaseToken our claim wrote: the row still holds our claim while it has this token (without it, only a
   *  row already in the exact state we wrote counts as ours after a 412) */
  token?: string;
  /** the LeaseOwner our claim wrote (a claim by a worker that writes no token still changes the owner) */
  owner?: string;
  leaseMs: number;
  /** the heartbeat stops renewing after this long: an invocation that overran it is presumed hung, and
   *  letting the lease lapse hands the file to the next delivery */
  maxHoldMs: number;
  now: () => Date;
  log: Log;
  label: string;
}

export class FileLease {
  private etag: string;
  private chain: Promise<unknown> = Promise.resolve();
  private lostError?: LeaseLostError;
  private timer?: NodeJS.Timeout;
  private renewing = false;
  private lastRenewMs = Date.now();
  private readonly startedMs = Date.now();
  /** heartbeat renewals that landed (for logs and tests) */
  renewals = 0;

  constructor(private readonly o: FileLeaseOptions) {
    this.etag = o.etag;
  }

  /** Set once any conditional write found the row changed by someone else. */
  get lost(): LeaseLostError | undefined {
    return this.lostError;
  }

  /**
   * Merge a patch into the file row, conditional on our last write, extending the lease unless the patch
   * says otherwise. Writes are serialized, so a heartbeat and a checkpoint never race on the ETag.
   */
  update(patch: Partial<FileRow>): Promise<void> {
    // a patch that gives the file up (complete, expired, handed over) ends the heartbeat with it
    if (patch.LeaseOwner === '') this.stop();
    const run = async () => {
      if (this.lostError) throw this.lostError;
      const { catalog, partition, fileIndex, leaseMs, now, token, owner } = this.o;
      const full: Partial<FileRow> = { LeaseExpiresAt: new Date(now().getTime() + leaseMs), UpdatedAt: now(), ...patch };
      for (let attempt = 0; ; attempt++) {
        try {
          this.etag = await catalog.updateFile(partition, fileIndex, full, this.etag);
          this.lastRenewMs = Date.now();
          return;
        } catch (err) {
          if (!isConditionFailed(err)) throw err;
        }
        const row = await catalog.getFile(partition, fileIndex);
        // every claim writes its own token, so a row with ours has not been claimed since
        const ours = row !== undefined && (token === undefined || row.LeaseToken === token);
        if (row && ours && holds(row, full)) {
          // our write landed; only its answer was lost
          this.o.log.warn(`${this.o.label}: a file-row write's answer was lost, but the row shows it applied; carrying on`);
          this.etag = row.etag;
          this.lastRenewMs = Date.now();
          return;
        }
        if (row && token !== undefined && ours && row.LeaseOwner === owner && attempt < 3) {
          // still ours, our patch not in it (an earlier write of ours landed unanswered): write it again
          this.o.log.warn(`${this.o.label}: a file-row write's answer was lost; the row is still ours, writing again`);
          this.etag = row.etag;
          continue;
        }
        this.lostError = new LeaseLostError('another worker took over this file');
        throw this.lostError;
      }
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Renew the lease every third of its length while no checkpoint has. */
  startHeartbeat(): void {
    const every = Math.max(50, Math.floor(this.o.leaseMs / 3));
    this.timer = setInterval(() => {
      if (!this.timer || this.lostError || this.renewing || Date.now() - this.lastRenewMs < every) return;
      if (Date.now() - this.startedMs > this.o.maxHoldMs) {
        this.o.log.warn(
          `${this.o.label}: held for over ${Math.round(this.o.maxHoldMs / 1000)} s; no longer renewing its lease, so another delivery can take over`,
        );
        this.stop();
        return;
      }
      this.renewing = true;
      this.update({})
        .then(() => this.renewals++)
        .catch((err) => {
          // a lost lease is acted on by the worker; anything else (a throttled account) is retried next beat
          if (err instanceof LeaseLostError)
            this.o.log.warn(`${this.o.label}: lease renewal found ${err.message.replace('took over', 'has taken over')}; stopping`);
          else this.o.log.warn(`${this.o.label}: lease renewal failed (${describeError(err)}); retrying`);
        })
        .finally(() => (this.renewing = false));
    }, every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Stop the heartbeat and wait for a renewal in flight, so nothing writes the row after us. */
  async settle(): Promise<void> {
    this.stop();
    await this.chain;
  }
}

/** True when every property of `patch` has the same value in `row` (dates by instant; typed values by value). */
function holds(row: Partial<FileRow>, patch: Partial<FileRow>): boolean {
  const plain = (v: unknown): unknown => {
    if (v instanceof Date) return v.getTime();
    if (v && typeof v === 'object' && 'value' in v) return plain(v.value);
    return v;
  };
  return Object.entries(patch).every(([k, v]) => plain(row[k as keyof FileRow]) === plain(v));
}
