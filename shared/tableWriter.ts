// Writes entities as entity-group transactions: ≤100 entities, one PartitionKey, < 4 MiB, each RowKey
// once; upserts in Replace mode so a retried write lands the same row. A transaction the service
// rejects for its data is split so only the bad entity is rejected and the others still land.
//
// Hot path: @azure/data-tables assembles a transaction by running every entity through a throw-away
// intercepting pipeline (and builds a new TableClient per transaction), which costs more CPU than
// everything else the worker does. Here the multipart/mixed changeset body is built directly, byte for
// byte what the SDK would build (test/tableWriter.equivalence.test.ts), and still sent through the
// TableClient's own pipeline and HTTP client: its authentication (shared key, SAS, Entra ID), retry
// policy (5xx/408, throttling with Retry-After, connection resets), user agent and logging all apply.
// On top of the pipeline's retries, a transaction that timed out, kept failing transiently, or met
// 409 TableBeingDeleted is retried whole (it is atomic and idempotent) with backoff, a bounded number of times.
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { TableClient, TableTransaction } from '@azure/data-tables';
import { mapBounded, sleep as realSleep } from './concurrency';
import { InventoryEntity } from './contracts';
import { describeError } from './redact';
import { AppError } from './appError';

export const MAX_BATCH_ENTITIES = 100;
// the service limit is 4 MiB per batch request; leave room for the multipart envelope
const MAX_BATCH_BYTES = 3.5 * 1024 * 1024;
/** what a built request body may not exceed (the service's limit) */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export interface PendingEntity {
  entity: InventoryEntity;
  /** source line, for the reject row if the service refuses the entity */
  line: number;
}

export interface WriteResult {
  written: number;
  rejected: { line: number; reason: string; entity: InventoryEntity }[];
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
function estimateBytes(e: InventoryEntity): number {
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

// ---------------------------------------------------------------------------------------------
// Errors and their classes

/** A transaction the service (or the transport) did not accept. `index`: the refused operation, when the service says. */
export class TableTransactionError extends AppError {
  override name = 'TableTransactionError';
  constructor(
    message: string,
    readonly statusCode?: number,
    readonly code?: string,
    readonly index?: number,
  ) {
    super(message);
  }
}

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown })?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

function codeOf(err: unknown): string {
  return String((err as { code?: unknown })?.code ?? '');
}

/** A 4xx that is about the data (not throttling, not a missing table): retrying the same batch cannot help. */
function isDataError(err: unknown): boolean {
  const s = statusOf(err);
  return s !== undefined && s >= 400 && s < 500 && s !== 408 && s !== 429 && s !== 404 && !/TableBeingDeleted|TableNotFound/i.test(codeOf(err));
}

const NETWORK_CODES = /^(REQUEST_SEND_ERROR|ECONNRESET|ECONNREFUSED|ECONNABORTED|ETIMEDOUT|ESOCKETTIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|ENETUNREACH|EHOSTUNREACH|UND_ERR_\w+|PARSE_ERROR|UnexpectedBatchResponse)$/;

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

// ---------------------------------------------------------------------------------------------
// The lean transport: the changeset body built here, sent through the client's own pipeline

interface CoreRestPipeline {
  createPipelineRequest(options: Record<string, unknown>): unknown;
  createHttpHeaders(raw?: Record<string, string>): unknown;
}
interface RawResponse {
  status: number;
  bodyAsText?: string | null;
}
interface LeanTransport {
  batchUrl: string;
  /** what precedes `(PartitionKey=...` in a sub-request line */
  entityUrlPrefix: string;
  insecure: boolean;
  send(request: unknown): Promise<RawResponse>;
}

let core: CoreRestPipeline | null | undefined;
/** The @azure/core-rest-pipeline that @azure/data-tables itself uses (same request and header classes). */
function corePipeline(): CoreRestPipeline | null {
  if (core === undefined) {
    try {
      const tablesDir = path.dirname(require.resolve('@azure/data-tables'));
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      core = require(require.resolve('@azure/core-rest-pipeline', { paths: [tablesDir] })) as CoreRestPipeline;
    } catch {
      core = null;
    }
  }
  return core;
}

const transports = new WeakMap<TableClient, LeanTransport | null>();

/**
 * How this client sends a transaction: the same URL and the same `sendRequest` (pipeline + HTTP client)
 * that TableClient.submitTransaction uses. Undefined when the SDK no longer looks as expected: the
 * writer then falls back to submitTransaction, slower but equally correct.
 */
function leanTransport(table: TableClient): LeanTransport | undefined {
  let t = transports.get(table);
  if (t === undefined) {
    t = null;
    const c = corePipeline();
    const client = (table as unknown as { generatedClient?: { sendRequest?: (r: unknown) => Promise<RawResponse> } }).generatedClient;
    if (c && client && typeof client.sendRequest === 'function') {
      // as InternalTableTransaction: a SAS in the account URL goes after `$batch`
      const [base, sas] = table.url.split('?');
      const withSlash = base.endsWith('/') ? base : `${base}/`;
      // sub-request URLs: `{url}/{table}(PartitionKey='..',RowKey='..')`, normalised by the URL parser, without SAS
      const probe = new URL(`${withSlash.replace(/\/+$/, '')}/${table.tableName}(PartitionKey='p',RowKey='r')`).toString();
      t = {
        batchUrl: `${withSlash}$batch${sas !== undefined ? `?${sas}` : ''}`,
        entityUrlPrefix: probe.slice(0, probe.length - "(PartitionKey='p',RowKey='r')".length),
        insecure: base.toLowerCase().startsWith('http:'),
        send: (r) => client.sendRequest!(r),
      };
    }
    transports.set(table, t);
  }
  return t ?? undefined;
}

/** `<Name>@odata.type`, cached: entities share a handful of property names. */
const TYPE_NAME = new Map<string, string>();
function typeName(name: string): string {
  let t = TYPE_NAME.get(name);
  if (t === undefined) {
    t = `${name}@odata.type`;
    if (TYPE_NAME.size < 1000) TYPE_NAME.set(name, t);
  }
  return t;
}

/**
 * The JSON the SDK sends for an entity (its `serialize`, then JSON.stringify), for the value types our
 * entities use: string, finite number, boolean, valid Date (`Edm.DateTime`). Undefined for anything
 * else, so such a batch goes through submitTransaction unchanged. Built the SDK's way — one object, one
 * JSON.stringify — which also allocates least; a Date goes in as its ISO text (what its toJSON returns),
 * which keeps V8 on its fast serialisation path. One deliberate difference: U+2028 and U+2029 are written
 * as JSON escapes (the same characters once stored).
 */
export function entityJson(entity: object): string | undefined {
  const wire: Record<string, unknown> = {};
  for (const name of Object.keys(entity)) {
    const v = (entity as Record<string, unknown>)[name];
    // the SDK renames partitionKey/rowKey, and etag/timestamp too (those never occur in our entities)
    if (name === 'etag' || name === 'timestamp' || name === 'PartitionKey' || name === 'RowKey') return undefined;
    const prop = name === 'partitionKey' ? 'PartitionKey' : name === 'rowKey' ? 'RowKey' : name;
    const t = typeof v;
    if (t === 'string' || t === 'boolean' || (t === 'number' && Number.isFinite(v))) {
      wire[prop] = v;
    } else if (v instanceof Date && Number.isFinite(v.getTime())) {
      wire[prop] = v.toISOString();
      wire[typeName(prop)] = 'Edm.DateTime';
    } else {
      return undefined;
    }
  }
  const out = JSON.stringify(wire);
  // JSON.stringify leaves U+2028/U+2029 raw; some multipart parsers (Azurite's) take them for line
  // breaks and refuse the batch. (indexOf of a character above U+00FF in a one-byte string returns at once.)
  if (out.indexOf('\u2028') >= 0 || out.indexOf('\u2029') >= 0) return out.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
  return out;
}

/** A key as it appears in the sub-request URL (quotes doubled, then URI-encoded), as the generated client writes it. */
function urlKey(key: string): string {
  return encodeURIComponent(key.includes("'") ? key.replace(/'/g, "''") : key);
}

const CRLF = '\r\n';

/** The multipart/mixed body of one changeset of Replace-mode upserts, exactly as TableClient.submitTransaction builds it. */
export function buildChangesetBody(entityUrlPrefix: string, entities: readonly InventoryEntity[], batchId: string, changesetId: string): string | undefined {
  const part = `${CRLF}--changeset_${changesetId}${CRLF}content-type: application/http${CRLF}content-transfer-encoding: binary${CRLF}${CRLF}PUT ${entityUrlPrefix}(PartitionKey='`;
  const headers = ` HTTP/1.1${CRLF}Content-Type: application/json${CRLF}DataServiceVersion: 3.0${CRLF}Accept: application/json${CRLF}${CRLF}${CRLF}`;
  // one join at the end: the pieces are not copied into ever longer intermediate strings
  const pieces: string[] = [`--batch_${batchId}${CRLF}content-type: multipart/mixed; boundary=changeset_${changesetId}${CRLF}${CRLF}`];
  let pk = '';
  let pkUrl = '';
  for (const e of entities) {
    const json = entityJson(e);
    if (json === undefined) return undefined;
    if (e.partitionKey !== pk) {
      pk = e.partitionKey;
      pkUrl = urlKey(pk);
    }
    pieces.push(part, pkUrl, "',RowKey='", urlKey(e.rowKey), "')", headers, json);
  }
  pieces.push(`${CRLF}--changeset_${changesetId}--${CRLF}--batch_${batchId}--${CRLF}`);
  return pieces.join('');
}

function errorFromJson(json: string, status: number): TableTransactionError {
  let code: string | undefined;
  let message = 'Transaction Failed';
  let index: number | undefined;
  try {
    const e = (JSON.parse(json) as { 'odata.error'?: { code?: string; message?: { value?: string } } })['odata.error'];
    if (e) {
      code = e.code;
      message = e.message?.value ?? message;
    }
  } catch {
    // not JSON: keep the generic message
  }
  const m = /^(\d+):/.exec(message);
  if (m) {
    index = Number(m[1]);
    message = message.slice(m[0].length);
  }
  // drop the service's RequestId/Time lines: they make every reject reason unique for no benefit
  message = message.replace(/\s*RequestId:[\s\S]*$/, '');
  return new TableTransactionError(message, status, code, index);
}

/** Check a batch response: every operation answered 2xx, or the error of the one that was refused. */
export function parseBatchResponse(status: number, text: string, operations: number): void {
  if (status < 200 || status >= 300) {
    const brace = text.indexOf('{');
    throw errorFromJson(brace >= 0 ? text.slice(brace) : '', status);
  }
  let ok = 0;
  let pos = 0;
  for (;;) {
    const at = text.indexOf('HTTP/1.1 ', pos);
    if (at < 0) break;
    const sub = Number(text.slice(at + 9, at + 12));
    pos = at + 12;
    if (sub >= 200 && sub < 300) {
      ok++;
      continue;
    }
    const end = text.indexOf(`${CRLF}--changesetresponse_`, pos);
    const part = text.slice(pos, end < 0 ? undefined : end);
    const brace = part.indexOf('{');
    throw errorFromJson(brace >= 0 ? part.slice(brace, part.lastIndexOf('}') + 1) : '', Number.isFinite(sub) ? sub : 500);
  }
  if (ok !== operations) {
    // never count a row as written unless the service said so
    throw new TableTransactionError(`batch response acknowledged ${ok} of ${operations} operations`, undefined, 'UnexpectedBatchResponse');
  }
}

const BATCH_HEADERS = {
  accept: 'application/json',
  'x-ms-version': '2019-02-02',
  DataServiceVersion: '3.0;',
  MaxDataServiceVersion: '3.0;NetFx',
  'Accept-Charset': 'UTF-8',
  Connection: 'Keep-Alive',
};

/** One attempt at one transaction. */
async function submitOnce(table: TableClient, batch: readonly PendingEntity[], o: Resolved): Promise<void> {
  if (batch.length === 1) {
    // a lone entity (a refused one being isolated, or a partition's single row) goes as a plain upsert
    await table.upsertEntity(batch[0].entity, 'Replace', { requestOptions: { timeout: o.timeoutMs } });
    return;
  }
  const lean = o.transport === 'lean' ? leanTransport(table) : undefined;
  const c = lean && corePipeline();
  if (lean && c) {
    const batchId = randomUUID();
    const body = buildChangesetBody(
      lean.entityUrlPrefix,
      batch.map((b) => b.entity),
      batchId,
      randomUUID(),
    );
    if (body !== undefined) {
      const bytes = Buffer.byteLength(body, 'utf8');
      if (bytes > MAX_REQUEST_BYTES) {
        throw new TableTransactionError(`transaction body of ${bytes} bytes is over the 4 MiB limit`, 413, 'RequestBodyTooLarge');
      }
      // a string body, as the SDK sends it, so every policy and the HTTP client treat it the same way
      const request = c.createPipelineRequest({
        url: lean.batchUrl,
        method: 'POST',
        body,
        headers: c.createHttpHeaders({ ...BATCH_HEADERS, 'Content-Type': `multipart/mixed; boundary=batch_${batchId}` }),
        allowInsecureConnection: lean.insecure,
        timeout: o.timeoutMs,
      });
      const res = await lean.send(request);
      parseBatchResponse(res.status, res.bodyAsText ?? '', batch.length);
      return;
    }
  }
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

export async function writeEntities(table: TableClient, items: readonly PendingEntity[], concurrency: number, options: WriteOptions = {}): Promise<WriteResult> {
  const o = writeOptions(options);
  const result: WriteResult = { written: 0, rejected: [] };
  await mapBounded(planBatches(items), concurrency, (batch) => writeBatch(table, batch, result, o));
  return result;
}
