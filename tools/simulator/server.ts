// The simulator's HTTP helpers: JSON answers and API errors shaped like Defender's, query parameters as the
// API reads them (case-insensitive names), and the paged API's $skiptoken.
import { ServerResponse } from 'node:http';
import { guidFrom } from './fleet';

export interface ApiError {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; odata.metadata=minimal; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, e: ApiError): void {
  sendJson(res, e.status, { error: { code: e.code, message: e.message, target: guidFrom('err', Date.now(), Math.random()) } }, e.headers);
}

/** Query parameters by lower-case name: the API accepts `pageSize` and `pagesize` alike. */
export function queryOf(url: URL): Map<string, string> {
  const q = new Map<string, string>();
  url.searchParams.forEach((v, k) => q.set(k.toLowerCase(), v));
  return q;
}

export function intParam(q: Map<string, string>, name: string, fallback: number, min: number, max: number): number | ApiError {
  const raw = q.get(name.toLowerCase());
  if (raw === undefined) return fallback;
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    return { status: 400, code: 'BadRequest', message: `${name} must be a whole number from ${min} to ${max}, got '${raw}'` };
  return n;
}

export function isError(v: unknown): v is ApiError {
  return typeof v === 'object' && v !== null && 'code' in v && 'status' in v;
}

interface SkipToken {
  ExportDefinition: { TimePath: string };
  ExportFileIndex: number;
  LineStoppedAt: number;
}

// Same shape as the real token (base64 JSON naming the export folder, file index and line).
export function encodeSkipToken(t: SkipToken): string {
  return Buffer.from(JSON.stringify(t), 'utf8').toString('base64');
}

export function decodeSkipToken(raw: string): SkipToken | undefined {
  try {
    const t = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as SkipToken;
    if (typeof t?.ExportDefinition?.TimePath !== 'string' || !Number.isInteger(t.ExportFileIndex) || !Number.isInteger(t.LineStoppedAt)) return undefined;
    if (t.ExportFileIndex < 0 || t.LineStoppedAt < 0) return undefined;
    return t;
  } catch {
    return undefined;
  }
}
