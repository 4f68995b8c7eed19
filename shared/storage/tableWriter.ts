// Writes entities as entity-group transactions: ≤100 entities, one PartitionKey, < 4 MiB, each RowKey
// once; upserts in Replace mode so a retried write lands the same row. A transaction the service
// rejects for its data is split so only the bad entity is rejected and the others still land.
//
// Hot path: a transaction goes out through the lean transport (transactionBody.ts), which builds the
// changeset body itself and sends it through the TableClient's own pipeline; submitTransaction is the fallback.
// On top of the pipeline's retries, a transaction that timed out, kept failing transiently, or met
// 409 TableBeingDeleted is retried whole (it is atomic and idempotent) with backoff, a bounded number of times.
import { TableClient, TableTransaction } from '@azure/data-tables';
import { mapBounded, sleep as realSleep } from '../core/concurrency';
import { SnapshotEntity } from '../core/contracts';
import { describeError } from '../core/redact';
import { submitLean, TableTransactionError } from './transactionBody';

export const MAX_BATCH_ENTITIES = 100;
// the service limit is 4 MiB per batch request; leave room for the multipart envelope
const MAX_BATCH_BYTES = 3.5 * 1024 * 1024;

export interface PendingEntity {
  entity: SnapshotEntity;
  /** source line, for the reject row if the service refuses the entity */
  line: number;
}

export interface WriteResult {
  written: number;
  rejected: { line: number; reason: string; entity: SnapshotEntity }[];
}

export interface WriteOptions {
  /**
   * `lean` (default): changeset bodies built here, sent through the TableClient's pipeline.
   * `sdk`: TableClient.submitTransaction (the reference path; benchmarks and equivalence tests).
   */
  transport?: 'lean' | 'sdk';
  /** per-request timeout of a transaction (until the response headers); a timed-out transaction is retried whole */
  timeoutMs?: number;
  /** tries per transaction while it fails transiently (timeouts, 408/429/5xx, dropped connections) after the pipeline's own retries */
  maxAttempts?: number;
  /** tries per transaction while the service answers 409 TableBeingDeleted */
  tableBeingDeletedAttempts?: number;
  /** first backoff delay; it doubles per attempt (with jitter) up to maxDelayMs */
  baseDelayMs?: number;
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** told about every retry (logging, tests) */
  onRetry?: (info: { attempt: number; delayMs: number; error: string }) => void;
}

export const WRITE_DEFAULTS = {
  transport: 'lean',
  timeoutMs: 30_000,
  maxAttempts: 5,
  tableBeingDeletedAttempts: 8,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
} as const;

export type ResolvedWriteOptions = Required<Omit<WriteOptions, 'onRetry'>> & Pick<WriteOptions, 'onRetry'>;
type Resolved = ResolvedWriteOptions;

/** Upper bound of an entity's JSON size in UTF-8 (3 bytes per UTF-16 unit) plus envelope. */
function estimateBytes(e: SnapshotEntity): number {
  let chars = 0;
  for (const k in e) {
    const v = (e as unknown as Record<string, unknown>)[k];
    chars += typeof v === 'string' ? v.length + 40 : 40;
  }
  return chars * 3 + 600;
}

/** A transaction being filled: one partition, ≤100 entities, under the size limit, each RowKey once. */
export class OpenBatch {
  readonly items: PendingEntity[] = [];
  private bytes = 0;
  private readonly rowKeys = new Set<string>();

  /** Would this entity still fit? (An empty batch takes anything.) */
  fits(item: PendingEntity): boolean {
    if (this.items.length === 0) return true;
    return this.items.length < MAX_BATCH_ENTITIES && this.bytes + estimateBytes(item.entity) <= MAX_BATCH_BYTES && !this.rowKeys.has(item.entity.rowKey);
  }

  add(item: PendingEntity): void {
    this.items.push(item);
    this.bytes += estimateBytes(item.entity);
    this.rowKeys.add(item.entity.rowKey);
  }

  get full(): boolean {
    return this.items.length >= MAX_BATCH_ENTITIES;
  }
}

/** Group by partition (first-seen order), then cut into transaction-sized batches. */
export function planBatches(items: readonly PendingEntity[]): PendingEntity[][] {
  const byPartition = new Map<string, PendingEntity[]>();
  for (const item of items) {
    const pk = item.entity.partitionKey;
    let list = byPartition.get(pk);
    if (!list) byPartition.set(pk, (list = []));
    list.push(item);
  }
  const batches: PendingEntity[][] = [];
  for (const list of byPartition.values()) {
    let batch = new OpenBatch();
    for (const item of list) {
      if (!batch.fits(item)) {
        batches.push(batch.items);
        batch = new OpenBatch();
      }
      batch.add(item);
    }
    if (batch.items.length) batches.push(batch.items);
  }
  return batches;
}

// Errors and their classes: what a retry can help with

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown })?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

function codeOf(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' ? code : '';
}

/** A 4xx that is about the data (not throttling, not a missing table): retrying the same batch cannot help. */
function isDataError(err: unknown): boolean {
  const s = statusOf(err);
  return s !== undefined && s >= 400 && s < 500 && s !== 408 && s !== 429 && s !== 404 && !/TableBeingDeleted|TableNotFound/i.test(codeOf(err));
}

const NETWORK_CODES =
  /^(REQUEST_SEND_ERROR|ECONNRESET|ECONNREFUSED|ECONNABORTED|ETIMEDOUT|ESOCKETTIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|ENETUNREACH|EHOSTUNREACH|UND_ERR_\w+|PARSE_ERROR|UnexpectedBatchResponse)$/;

type Fault = 'data' | 'transient' | 'tableBeingDeleted' | 'fatal';

function classify(err: unknown): Fault {
  if (isDataError(err)) return 'data';
  const s = statusOf(err);
  if (s === 409 && /TableBeingDeleted/i.test(codeOf(err))) return 'tableBeingDeleted';
  if (s === 408 || s === 429 || (s !== undefined && s >= 500)) return 'transient';
  // our request timeout surfaces as an AbortError from the HTTP client (the pipeline does not retry it)
  if (s === undefined && ((err as Error)?.name === 'AbortError' || NETWORK_CODES.test(codeOf(err)))) return 'transient';
  return 'fatal';
}

/** One attempt at one transaction. */
async function submitOnce(table: TableClient, batch: readonly PendingEntity[], o: Resolved): Promise<void> {
  if (batch.length === 1) {
    // a lone entity (a refused one being isolated, or a partition's single row) goes as a plain upsert
    await table.upsertEntity(batch[0].entity, 'Replace', { requestOptions: { timeout: o.timeoutMs } });
    return;
  }
  if (o.transport === 'lean' && (await submitLean(table, batch, o.timeoutMs))) return;
  const tx = new TableTransaction();
  for (const item of batch) tx.upsertEntity(item.entity, 'Replace');
  // submitTransaction hands its options to createPipelineRequest, where `timeout` is the request timeout
  await table.submitTransaction(tx.actions, { timeout: o.timeoutMs } as Parameters<TableClient['submitTransaction']>[1]);
}

function backoffMs(attempt: number, o: Resolved): number {
  const exp = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exp * (0.5 + Math.random() / 2));
}

/** A transaction, retried whole while it fails for reasons that are not about its data. */
async function submitWithRetry(table: TableClient, batch: readonly PendingEntity[], o: Resolved): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await submitOnce(table, batch, o);
      return;
    } catch (err) {
      const fault = classify(err);
      if (fault === 'data' || fault === 'fatal') throw err;
      const limit = fault === 'tableBeingDeleted' ? o.tableBeingDeletedAttempts : o.maxAttempts;
      if (attempt >= limit) {
        if (err instanceof Error) err.message = `${err.message} (transaction of ${batch.length} tried ${attempt} times)`;
        throw err;
      }
      const delayMs = backoffMs(attempt, o);
      o.onRetry?.({ attempt, delayMs, error: describeError(err, 200) });
      await o.sleep(delayMs);
    }
  }
}

function refusal(err: unknown): string {
  return `refused by Table Storage: ${describeError(err, 300)}`;
}

/** Resolve options against the defaults (undefined values leave a default alone). */
export function writeOptions(options: WriteOptions = {}): Resolved {
  const o = { ...WRITE_DEFAULTS, sleep: realSleep } as Resolved;
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as unknown as Record<string, unknown>)[k] = v;
  return o;
}

/**
 * Write one transaction (one partition, ≤100 entities), retrying transient faults; if the service
 * refuses it for its data, the refused entities are isolated into `result.rejected` and the rest still land.
 */
export async function writeTransaction(table: TableClient, batch: PendingEntity[], result: WriteResult, options: ResolvedWriteOptions): Promise<void> {
  await writeBatch(table, batch, result, options);
}

async function writeBatch(table: TableClient, batch: PendingEntity[], result: WriteResult, o: Resolved): Promise<void> {
  try {
    await submitWithRetry(table, batch, o);
    result.written += batch.length;
    return;
  } catch (err) {
    if (!isDataError(err)) throw err;
    if (batch.length === 1) {
      result.rejected.push({ line: batch[0].line, entity: batch[0].entity, reason: refusal(err) });
      return;
    }
    const index = (err as TableTransactionError).index;
    if (index !== undefined && Number.isInteger(index) && index >= 0 && index < batch.length) {
      // the service named the refused operation: the others go together, the named one alone (so it is
      // rejected only if it really is refused on its own)
      await writeBatch(table, batch.slice(0, index).concat(batch.slice(index + 1)), result, o);
      await writeBatch(table, [batch[index]], result, o);
      return;
    }
    // isolate the bad entity: halve until the refusals are single entities
    const mid = Math.ceil(batch.length / 2);
    await writeBatch(table, batch.slice(0, mid), result, o);
    await writeBatch(table, batch.slice(mid), result, o);
  }
}

export async function writeEntities(
  table: TableClient,
  items: readonly PendingEntity[],
  concurrency: number,
  options: WriteOptions = {},
): Promise<WriteResult> {
  const o = writeOptions(options);
  const result: WriteResult = { written: 0, rejected: [] };
  await mapBounded(planBatches(items), concurrency, (batch) => writeBatch(table, batch, result, o));
  return result;
}
