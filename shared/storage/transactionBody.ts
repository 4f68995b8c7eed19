// The lean transport of the table writer: one transaction's multipart/mixed $batch body built by hand and
// sent through the TableClient's own pipeline, and the batch response checked operation by operation.
//
// Why: @azure/data-tables assembles a transaction by running every entity through a throw-away
// intercepting pipeline (and builds a new TableClient per transaction), which costs more CPU than
// everything else the worker does. Here the multipart/mixed changeset body is built directly, byte for
// byte what the SDK would build (test/integration/tableWriter.equivalence.test.ts), and still sent through the
// TableClient's own pipeline and HTTP client: its authentication (shared key, SAS, Entra ID), retry
// policy (5xx/408, throttling with Retry-After, connection resets), user agent and logging all apply.
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { EdmDouble, SnapshotEntity } from '../core/contracts';
import { AppError } from '../core/errors';

/** what a built request body may not exceed (the service's limit) */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

/** A transaction the service (or the transport) did not accept. `index`: the refused operation, when the service says. */
export class TableTransactionError extends AppError {
  constructor(
    message: string,
    readonly statusCode?: number,
    readonly code?: string,
    readonly index?: number,
  ) {
    super(message);
  }
}

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

/** `{ value, type: 'Double' }` with a finite number (what the record mapper writes for a Double column). */
function isEdmDouble(v: unknown): v is EdmDouble {
  return (
    typeof v === 'object' &&
    v !== null &&
    (v as EdmDouble).type === 'Double' &&
    typeof (v as EdmDouble).value === 'number' &&
    Number.isFinite((v as EdmDouble).value)
  );
}

/**
 * The JSON the SDK sends for an entity (its `serialize`, then JSON.stringify), for the value types our
 * entities use: string, finite number, boolean, valid Date (`Edm.DateTime`), a typed Double (`Edm.Double`). Undefined for anything
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
    } else if (isEdmDouble(v)) {
      // untyped, an integral number would be stored Int32: the SDK's typed form writes it with its type
      wire[prop] = v.value;
      wire[typeName(prop)] = 'Edm.Double';
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
export function buildChangesetBody(entityUrlPrefix: string, entities: readonly SnapshotEntity[], batchId: string, changesetId: string): string | undefined {
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

/**
 * Send one transaction of Replace-mode upserts through the lean transport. False when it cannot be sent
 * this way (the SDK no longer looks as expected, or an entity holds a value type the body builder does not
 * write): the caller then uses TableClient.submitTransaction. Throws what the service or transport refused.
 */
export async function submitLean(table: TableClient, batch: readonly { entity: SnapshotEntity }[], timeoutMs: number): Promise<boolean> {
  const lean = leanTransport(table);
  const c = lean && corePipeline();
  if (lean && c) {
    const entities = batch.map((b) => b.entity);
    const batchId = randomUUID();
    const body = buildChangesetBody(lean.entityUrlPrefix, entities, batchId, randomUUID());
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
        timeout: timeoutMs,
      });
      const res = await lean.send(request);
      parseBatchResponse(res.status, res.bodyAsText ?? '', entities.length);
      return true;
    }
  }
  return false;
}
