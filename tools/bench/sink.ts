// An HTTP client for a TableClient that never reaches a server: it answers every entity-group transaction
// with success for each of its operations (and anything else with 204). The benchmark's memory run uses it
// as a storage sink that discards, so the real worker's full code path runs while RSS is measured; the
// equivalence tests use it to capture the exact requests the SDK and the lean writer send.
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';

export interface CapturedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
}

interface CoreHeaders {
  createHttpHeaders(raw?: Record<string, string>): unknown;
}

function core(): CoreHeaders {
  const tablesDir = path.dirname(require.resolve('@azure/data-tables'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(require.resolve('@azure/core-rest-pipeline', { paths: [tablesDir] })) as CoreHeaders;
}

function bodyText(body: unknown): string {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  throw new Error(`sink: unsupported request body type ${typeof body}`);
}

/** Count of sub-requests in a changeset body: each request line ends with " HTTP/1.1" + CRLF, which JSON text cannot contain. */
function operationsIn(text: string): number {
  let n = 0;
  for (let at = text.indexOf(' HTTP/1.1\r\n'); at >= 0; at = text.indexOf(' HTTP/1.1\r\n', at + 1)) n++;
  return n;
}

export function batchResponseText(operations: number): { text: string; contentType: string } {
  const batch = `batchresponse_${randomUUID()}`;
  const changeset = `changesetresponse_${randomUUID()}`;
  let text = `--${batch}\r\nContent-Type: multipart/mixed; boundary=${changeset}\r\n\r\n`;
  for (let i = 0; i < operations; i++) {
    text += `--${changeset}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nHTTP/1.1 204 No Content\r\nDataServiceVersion: 3.0;\r\n\r\n\r\n`;
  }
  text += `--${changeset}--\r\n--${batch}--\r\n`;
  return { text, contentType: `multipart/mixed; boundary=${batch}` };
}

export interface SinkHttpClient {
  sendRequest(request: { url: string; method: string; body?: unknown; headers: { toJSON(o?: { preserveCase?: boolean }): Record<string, string> } }): Promise<unknown>;
  /** entity operations acknowledged so far (in transactions and single upserts) */
  operations: number;
  requests: number;
}

/**
 * `capture`: keep every request (tests); leave it out for the benchmark so nothing is retained.
 * `delayMs`: answer each request after this long (simulated service latency); `onAnswer` sees each request as it is answered.
 */
export function sinkHttpClient(opts: { capture?: CapturedRequest[]; delayMs?: () => number; onAnswer?: (r: CapturedRequest) => void } = {}): SinkHttpClient {
  const createHttpHeaders = (...args: Parameters<ReturnType<typeof core>['createHttpHeaders']>) => core().createHttpHeaders(...args);
  const sink: SinkHttpClient = {
    operations: 0,
    requests: 0,
    async sendRequest(request) {
      sink.requests++;
      const text = bodyText(request.body);
      const seen = opts.capture || opts.onAnswer ? { url: request.url, method: request.method, headers: request.headers.toJSON({ preserveCase: true }), body: text } : undefined;
      if (seen) opts.capture?.push(seen);
      const delay = opts.delayMs?.() ?? 0;
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      if (seen) opts.onAnswer?.(seen);
      if (request.method === 'POST' && /\/\$batch(\?|$)/.test(request.url)) {
        const ops = operationsIn(text);
        sink.operations += ops;
        const res = batchResponseText(ops);
        return { request, status: 202, headers: createHttpHeaders({ 'content-type': res.contentType }), bodyAsText: res.text };
      }
      // a single entity upsert (PUT/MERGE on `Table(PartitionKey=..,RowKey=..)`) is one operation too
      if (/\(PartitionKey=/.test(request.url) && request.method !== 'GET' && request.method !== 'DELETE') sink.operations++;
      return { request, status: 204, headers: createHttpHeaders({}), bodyAsText: '' };
    },
  };
  return sink;
}
