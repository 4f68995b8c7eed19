// Client for the Defender export endpoints of every kind (docs/kinds.md): the via-files call and the paged
// JSON call, their paths and permissions read from the kinds registry. It only ever calls the Defender API
// itself; export file URLs are validated against the download policy, never fetched here.
import { constants as bufferConstants } from 'node:buffer';
import { ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import type { Config } from '../core/config';
import { redactingLog, type Log } from '../core/log';
import { describeError, redact, stripQuery } from '../core/redact';
import { shorten } from '../core/text';
import { INSTANT, parseTimestamp } from '../core/timestamps';
import { checkDownloadUrl, downloadPolicyFor, UrlRefusedError, type DownloadPolicy } from './urlPolicy';
import { AppError } from '../core/errors';
import { DEFAULT_KIND, ExportKind, kindSpec } from '../kinds/exportKinds';

export interface ExportFilesResult {
  exportFiles: string[];
  generatedTime: Date;
  /** generatedTime exactly as Defender sent it. */
  generatedTimeText: string;
}

export interface InventoryPage {
  records: Record<string, unknown>[];
  /** 1-based page number. */
  page: number;
}

/** What the timer needs from Defender, per kind (the client below; tests pass stand-ins). */
export interface DefenderExports {
  getExportFiles(kind: ExportKind, sasValidHours: number): Promise<ExportFilesResult>;
  /** the paged JSON method (EXPORT_METHOD=json) */
  getPages?(kind: ExportKind, pageSize: number): AsyncIterable<InventoryPage>;
}

export class DefenderApiError extends AppError {
  readonly status?: number;
  /** The API's error code (e.g. `DisabledFeature`) or a network error code (e.g. `ECONNRESET`). */
  readonly code?: string;
  /** True when trying again later may succeed (throttling, outages); false for configuration problems. */
  readonly retriable: boolean;

  constructor(message: string, opts: { status?: number; code?: string; retriable?: boolean } = {}) {
    super(redact(message));
    this.status = opts.status;
    this.code = opts.code;
    this.retriable = opts.retriable ?? false;
  }
}

export interface DefenderClientDeps {
  baseUrl: string;
  scope: string;
  /** No credential = no Authorization header (local simulator only; config enforces that). */
  credential?: TokenCredential;
  log: Log;
  downloadPolicy: DownloadPolicy;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  requestTimeoutMs?: number;
  maxAttempts?: number;
  maxRetryAfterSeconds?: number;
}

export function createDefenderCredential(config: Config): TokenCredential | undefined {
  const authorityHost = config.authorityHost;
  switch (config.defenderAuth) {
    case 'managedIdentity':
      // AZURE_CLIENT_ID alone selects a user-assigned identity; without it, the system-assigned one.
      return config.clientId ? new ManagedIdentityCredential({ clientId: config.clientId }) : new ManagedIdentityCredential();
    case 'clientSecret':
      if (!config.tenantId || !config.clientId || !config.clientSecret) {
        throw new Error('DEFENDER_AUTH=clientSecret needs AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET');
      }
      return new ClientSecretCredential(config.tenantId, config.clientId, config.clientSecret, { authorityHost });
    case 'default':
      return new DefaultAzureCredential({
        managedIdentityClientId: config.clientId,
        workloadIdentityClientId: config.clientId,
        tenantId: config.tenantId,
        authorityHost,
      });
    case 'none':
      return undefined;
  }
}

// Defender's documented per-minute limits, per endpoint (Microsoft's export API docs, the same for every kind). The hourly limits (20 / 1000) are not
// enforced here: waiting out an hour inside a function run is worse than a 429 with Retry-After.
const FILES_CALLS_PER_MINUTE = 5;
const JSON_CALLS_PER_MINUTE = 30;
const BACKOFF_BASE_MS = 1000;
const BACKOFF_MAX_MS = 30_000;
// A 2xx body that is not JSON is most likely a truncated answer from a gateway, so it is retried once;
// if it happens again, the base URL probably points at something that is not the Defender API.
const MAX_INVALID_JSON_ATTEMPTS = 2;
// Plausibility caps on the answer. The files answer is a list of SAS URLs (~300 bytes each): 10,000 files
// is far beyond any real export and still under 4 MiB, so 16 MiB leaves ample room.
export const MAX_EXPORT_FILES = 10_000;
export const MAX_FILES_ANSWER_BYTES = 16 * 1024 * 1024;
// A JSON page holds pageSize records of ~0.5-1 KB; 4 KiB each plus 1 MiB of slack covers long path lists.
// Whatever pageSize says, the body must fit in one JS string (V8's limit, ~512 MiB) to be parsed at all.
const PAGE_BYTES_PER_RECORD = 4096;
const PAGE_SLACK_BYTES = 1024 * 1024;
export function maxPageBytes(pageSize: number): number {
  return Math.min(bufferConstants.MAX_STRING_LENGTH, pageSize * PAGE_BYTES_PER_RECORD + PAGE_SLACK_BYTES);
}
// A generatedTime ahead of the clock by more than this is refused: as the newest snapshot it would
// shadow every real export until the clock caught up.
const MAX_GENERATED_AHEAD_MS = 60 * 60_000;

/** Sliding-window call budget: never more than `limit` calls in any `windowMs`. One per client. */
class CallBudget {
  private calls: number[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly label: string,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
    private readonly log: Log,
  ) {}

  /** Wait until a call is allowed, then record it. Concurrent callers queue up in order. */
  take(): Promise<void> {
    const turn = this.chain.then(() => this.acquire());
    this.chain = turn.catch(() => undefined);
    return turn;
  }

  private async acquire(): Promise<void> {
    for (;;) {
      const t = this.now();
      this.calls = this.calls.filter((c) => t - c < this.windowMs);
      if (this.calls.length < this.limit) {
        this.calls.push(t);
        return;
      }
      const wait = this.calls[0] + this.windowMs - t;
      this.log.info(`Defender API: waiting ${seconds(wait)} to stay within ${this.limit} calls per minute (${this.label})`);
      await this.sleep(wait);
    }
  }
}

/** How much body one call may read, and what to suggest when it is more. */
interface BodyLimit {
  maxBytes: number;
  hint: string;
}

/** What one attempt came to when it did not produce a usable JSON body. */
interface Failure {
  error: DefenderApiError;
  /** Server-requested wait (Retry-After), already capped. */
  retryAfterMs?: number;
}

export class DefenderClient implements DefenderExports {
  private readonly base: string;
  private readonly origin: string;
  private readonly log: Log;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly maxRetryAfterMs: number;
  /** one sliding window per endpoint path: Defender limits each API separately */
  private readonly budgets = new Map<string, CallBudget>();

  constructor(private readonly deps: DefenderClientDeps) {
    this.base = deps.baseUrl.replace(/\/+$/, '');
    this.origin = new URL(this.base).origin;
    this.log = redactingLog(deps.log);
    this.sleep = deps.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = deps.now ?? Date.now;
    this.timeoutMs = deps.requestTimeoutMs ?? 60_000;
    this.maxAttempts = Math.max(1, deps.maxAttempts ?? 5);
    this.maxRetryAfterMs = (deps.maxRetryAfterSeconds ?? 120) * 1000;
  }

  private budget(path: string, perMinute: number): CallBudget {
    let b = this.budgets.get(path);
    if (!b) {
      b = new CallBudget(perMinute, 60_000, endpointName(path), this.now, this.sleep, this.log);
      this.budgets.set(path, b);
    }
    return b;
  }

  static fromConfig(config: Config, log: Log): DefenderClient {
    return new DefenderClient({
      baseUrl: config.defenderApiBaseUrl,
      scope: config.defenderTokenScope,
      credential: createDefenderCredential(config),
      log,
      downloadPolicy: downloadPolicyFor(config),
    });
  }

  /** The via-files export of `kind`: the SAS URLs of its current export generation and when it was generated. */
  async getExportFiles(kind: ExportKind, sasValidHours: number): Promise<ExportFilesResult> {
    const spec = kindSpec(kind);
    const what = endpointName(spec.filesPath);
    const url = new URL(`${this.base}${spec.filesPath}?sasValidHours=${encodeURIComponent(String(sasValidHours))}`);
    const body = await this.getJson(url, this.budget(spec.filesPath, FILES_CALLS_PER_MINUTE), kind, {
      maxBytes: MAX_FILES_ANSWER_BYTES,
      hint: 'a list of export file URLs is far smaller; check DEFENDER_API_BASE_URL',
    });
    const payload = asObject(body, what);

    const files = field(payload, 'exportFiles');
    if (!Array.isArray(files)) throw invalidPayload(what, 'exportFiles missing or not an array');
    if (files.length > MAX_EXPORT_FILES) {
      throw invalidPayload(
        what,
        `exportFiles lists ${files.length.toLocaleString('en-US')} files; at most ${MAX_EXPORT_FILES.toLocaleString('en-US')} are accepted`,
      );
    }
    const exportFiles = files.map((f, i) => {
      if (typeof f !== 'string') throw invalidPayload(what, `exportFiles[${i}] is not a string`);
      try {
        checkDownloadUrl(f, this.deps.downloadPolicy);
      } catch (err) {
        if (err instanceof UrlRefusedError) {
          throw new DefenderApiError(`${what}: export file ${i} was refused. ${err.message}`, { code: 'UrlRefused' });
        }
        throw err;
      }
      return f;
    });

    const text = field(payload, 'generatedTime');
    // an instant: the time of day required, no zone = UTC, surrounding spaces ignored (docs/kinds.md#stored-types)
    const generatedTime = typeof text === 'string' ? parseTimestamp(text.trim(), INSTANT) : undefined;
    if (!generatedTime || typeof text !== 'string') {
      throw invalidPayload(what, `generatedTime ${JSON.stringify(text)?.slice(0, 60)} is not a valid date-time`);
    }
    const now = this.now();
    if (generatedTime.getTime() - now > MAX_GENERATED_AHEAD_MS) {
      throw invalidPayload(
        what,
        `generatedTime ${snippet(text, 40)} is more than an hour ahead of this machine's clock (${new Date(now).toISOString()}); refusing it, as it would stay the newest snapshot until the clock caught up`,
      );
    }
    return { exportFiles, generatedTime, generatedTimeText: text };
  }

  /** The software inventory's via-files export (the default kind). */
  getSoftwareInventoryExport(sasValidHours: number): Promise<ExportFilesResult> {
    return this.getExportFiles(DEFAULT_KIND, sasValidHours);
  }

  /** The paged JSON method of `kind`, following `@odata.nextLink` (same origin only). */
  async *getPages(kind: ExportKind, pageSize: number): AsyncIterable<InventoryPage> {
    const spec = kindSpec(kind);
    const what = endpointName(spec.jsonPath);
    const budget = this.budget(spec.jsonPath, JSON_CALLS_PER_MINUTE);
    let url: URL | undefined = new URL(`${this.base}${spec.jsonPath}?pageSize=${encodeURIComponent(String(pageSize))}`);
    const seen = new Set<string>();
    for (let page = 1; url; page++) {
      seen.add(url.href);
      const limit = {
        maxBytes: maxPageBytes(pageSize),
        hint: `a page of ${pageSize} records should be far smaller; lower JSON_PAGE_SIZE if records are unusually large`,
      };
      const payload = asObject(await this.getJson(url, budget, kind, limit), what);
      const value = field(payload, 'value');
      if (!Array.isArray(value)) throw invalidPayload(what, `page ${page}: value missing or not an array`);
      value.forEach((r, i) => {
        if (!isPlainObject(r)) throw invalidPayload(what, `page ${page}: value[${i}] is not an object`);
      });
      url = this.nextLink(what, field(payload, '@odata.nextLink'), url, page, seen);
      yield { records: value as Record<string, unknown>[], page };
    }
  }

  /** The software inventory's paged JSON method (the default kind). */
  getSoftwareInventoryPages(pageSize: number): AsyncIterable<InventoryPage> {
    return this.getPages(DEFAULT_KIND, pageSize);
  }

  private nextLink(what: string, link: unknown, current: URL, page: number, seen: Set<string>): URL | undefined {
    if (link === undefined || link === null || link === '') return undefined;
    if (typeof link !== 'string') throw invalidPayload(what, `page ${page}: @odata.nextLink is not a string`);
    let next: URL;
    try {
      next = new URL(link, current);
    } catch {
      throw invalidPayload(what, `page ${page}: @odata.nextLink is not a valid URL`);
    }
    // The bearer token goes with every page request, so the link must not lead anywhere else.
    if (next.origin !== this.origin || next.username || next.password) {
      throw new DefenderApiError(`${what} page ${page}: refused @odata.nextLink ${stripQuery(next.href)}: it leaves the API origin ${this.origin}`, {
        code: 'NextLinkRefused',
      });
    }
    if (seen.has(next.href)) throw invalidPayload(what, `page ${page}: @odata.nextLink repeats an earlier page (paging loop)`);
    return next;
  }

  /** GET a JSON body with auth, budget, timeout and retries. */
  private async getJson(url: URL, budget: CallBudget, kind: ExportKind, limit: BodyLimit): Promise<unknown> {
    const what = `GET ${url.pathname}`;
    let invalidJson = 0;
    let attempt = 0;
    let last: Failure | undefined;
    while (attempt < this.maxAttempts) {
      if (last) {
        const waitMs = last.retryAfterMs ?? backoffMs(attempt);
        const why = last.retryAfterMs !== undefined ? ' (Retry-After)' : '';
        this.log.warn(`Defender API ${what}: attempt ${attempt}/${this.maxAttempts} failed (${last.error.message}); retrying in ${seconds(waitMs)}${why}`);
        await this.sleep(waitMs);
      }
      attempt++;
      const headers = await this.headers();
      await budget.take();
      const result = await this.attempt(url, headers, kind, limit);
      if (!isFailure(result)) return result.body;
      last = result;
      if (!result.error.retriable) {
        const { message, status, code } = result.error;
        throw new DefenderApiError(`Defender API ${what}: ${message}`, { status, code });
      }
      if (result.error.code === 'InvalidJson' && ++invalidJson >= MAX_INVALID_JSON_ATTEMPTS) break;
    }
    const { message, status, code } = last!.error;
    throw new DefenderApiError(`Defender API ${what} gave up after ${attempt} attempt${attempt === 1 ? '' : 's'}; last: ${message}`, {
      status,
      code,
      retriable: code !== 'InvalidJson',
    });
  }

  private async headers(): Promise<Record<string, string>> {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (!this.deps.credential) return headers;
    let token;
    try {
      token = await this.deps.credential.getToken(this.deps.scope);
    } catch (err) {
      throw new DefenderApiError(`Could not get a token for ${this.deps.scope} (DEFENDER_AUTH identity): ${describeError(err)}`, { code: 'TokenUnavailable' });
    }
    if (!token?.token) throw new DefenderApiError(`Could not get a token for ${this.deps.scope}: the credential returned none`, { code: 'TokenUnavailable' });
    headers.Authorization = `Bearer ${token.token}`;
    return headers;
  }

  /** One HTTP exchange; the timeout covers the whole body, not just the headers. */
  private async attempt(url: URL, headers: Record<string, string>, kind: ExportKind, limit: BodyLimit): Promise<{ body: unknown } | Failure> {
    let res: Response;
    let text: string | undefined;
    try {
      // Redirects are not followed: the token must only ever go to the configured API.
      res = await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(this.timeoutMs) });
      text = await readCapped(res, limit.maxBytes);
    } catch (err) {
      return { error: this.networkError(err) };
    }
    if (text === undefined) {
      const error = new DefenderApiError(`HTTP ${res.status}: the answer is larger than ${mib(limit.maxBytes)}; ${limit.hint}`, {
        status: res.status,
        code: 'ResponseTooLarge',
      });
      return { error };
    }
    if (res.status >= 200 && res.status < 300) {
      try {
        return { body: JSON.parse(text) as unknown };
      } catch {
        const error = new DefenderApiError(
          `HTTP ${res.status} but the body is not valid JSON (starts with ${JSON.stringify(snippet(text, 80))}); check DEFENDER_API_BASE_URL`,
          {
            status: res.status,
            code: 'InvalidJson',
            retriable: true,
          },
        );
        return { error };
      }
    }
    const error = this.httpError(res, text, kind, url.pathname);
    const retryAfterMs = error.retriable ? this.retryAfterMs(res.headers.get('retry-after')) : undefined;
    return { error, retryAfterMs };
  }

  private networkError(err: unknown): DefenderApiError {
    const e = err as { name?: string; cause?: { code?: unknown } };
    if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
      return new DefenderApiError(`no complete answer within ${seconds(this.timeoutMs)} (request timed out)`, { code: 'Timeout', retriable: true });
    }
    const code = typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
    return new DefenderApiError(`network error: ${describeError(e?.cause ?? err, 200)}`, { code, retriable: true });
  }

  private httpError(res: Response, text: string, kind: ExportKind, path: string): DefenderApiError {
    const permission = kindSpec(kind).permission;
    const { code, message } = apiError(text);
    const apiText = code || message ? ` API error: ${[code, message].filter(Boolean).join(': ')}` : text.trim() ? ` Body: ${snippet(text, 200)}` : '';
    const status = res.status;
    const head = `HTTP ${status}${res.statusText ? ` ${res.statusText}` : ''}`;
    const fail = (hint: string, retriable = false) => new DefenderApiError(`${head}: ${hint}.${apiText}`, { status, code, retriable });
    if (status === 401) {
      return fail(
        `the token was not accepted: the ${kind} export (${path}) needs the ${permission} application permission. Check the token audience (DEFENDER_TOKEN_SCOPE, normally https://api.securitycenter.microsoft.com/.default) and that the identity belongs to the Defender tenant (AZURE_TENANT_ID)`,
      );
    }
    if (status === 403 && code === 'DisabledFeature') {
      return fail(
        'the tenant does not have the feature this API needs (Microsoft Defender Vulnerability Management); a licence or feature must be enabled, no setting here will fix it',
      );
    }
    if (status === 403) {
      return fail(
        `access denied: the ${kind} export (${path}) needs the ${permission} application permission. Either the app/identity lacks ${permission} (WindowsDefenderATP API) with admin consent, or the token has the wrong audience (check DEFENDER_TOKEN_SCOPE)`,
      );
    }
    if (status === 404) return fail('endpoint not found; check DEFENDER_API_BASE_URL (e.g. https://api.security.microsoft.com)');
    if (status >= 300 && status < 400)
      return fail(`unexpected redirect to ${stripQuery(res.headers.get('location') ?? '(none)')}; check DEFENDER_API_BASE_URL`);
    if (status === 429) return fail('throttled (too many requests)', true);
    if (status === 408 || status >= 500) return fail('the service is unavailable or failed', true);
    return fail('the request was rejected');
  }

  /**
   * `Retry-After` as delay-seconds (decimals and a leading '+' tolerated) or an HTTP-date; capped so a bogus
   * value cannot stall a run. Anything else (negative, junk) is ignored with a warning: the usual backoff applies.
   */
  private retryAfterMs(header: string | null): number | undefined {
    if (!header) return undefined;
    const h = header.trim();
    let ms: number;
    if (/^\+?\d+(\.\d+)?$/.test(h)) ms = Math.round(Number(h) * 1000);
    else if (HTTP_DATE.some((re) => re.test(h)) && !Number.isNaN(Date.parse(h))) ms = Math.max(0, Date.parse(h) - this.now());
    else {
      this.log.warn(`Defender API: ignoring Retry-After ${JSON.stringify(snippet(h, 40))} (neither seconds ≥ 0 nor an HTTP-date); backing off instead`);
      return undefined;
    }
    if (ms > this.maxRetryAfterMs) {
      this.log.warn(`Defender API asked to wait ${seconds(ms)} (Retry-After: ${snippet(h, 40)}); capping the wait at ${seconds(this.maxRetryAfterMs)}`);
      return this.maxRetryAfterMs;
    }
    return ms;
  }
}

// HTTP-date (RFC 7231 §7.1.1.1): IMF-fixdate and the two obsolete forms. Only these reach Date.parse, which
// would otherwise read "1.5" or "-1" as dates in 2001 and make the wait 0.
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const HTTP_DATE = [
  new RegExp(`^${DAY}, \\d{2} ${MONTH} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT$`),
  new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \\d{2}-${MONTH}-\\d{2} \\d{2}:\\d{2}:\\d{2} GMT$`),
  new RegExp(`^${DAY} ${MONTH} [ \\d]\\d \\d{2}:\\d{2}:\\d{2} \\d{4}$`),
];

/** The body as text, or undefined once it exceeds maxBytes (reading stops there and the stream is cancelled). */
async function readCapped(res: Response, maxBytes: number): Promise<string | undefined> {
  const announced = Number(res.headers.get('content-length'));
  if (Number.isFinite(announced) && announced > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (!res.body) return '';
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

function mib(bytes: number): string {
  const m = bytes / (1024 * 1024);
  return `${Number.isInteger(m) ? m : m.toFixed(1)} MiB`;
}

function isFailure(r: { body: unknown } | Failure): r is Failure {
  return 'error' in r;
}

/** Full-jitter-ish exponential backoff: between half and all of min(30 s, 1 s · 2^(n-1)). */
function backoffMs(failures: number): number {
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, failures - 1));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

function snippet(text: string, max: number): string {
  const t = redact(text).replace(/\s+/g, ' ').trim();
  return shorten(t, max);
}

/** `{ "error": { "code", "message" } }`, the API's error shape; anything else yields nothing. */
function apiError(text: string): { code?: string; message?: string } {
  try {
    const err = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } })?.error;
    return {
      code: typeof err?.code === 'string' && err.code ? snippet(err.code, 80) : undefined,
      message: typeof err?.message === 'string' && err.message ? snippet(err.message, 300) : undefined,
    };
  } catch {
    return {};
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function asObject(body: unknown, what: string): Record<string, unknown> {
  if (!isPlainObject(body)) throw invalidPayload(what, 'the answer is not a JSON object');
  return body;
}

/** Defender documents PascalCase but sends camelCase: look keys up case-insensitively. */
function field(obj: Record<string, unknown>, name: string): unknown {
  if (name in obj) return obj[name];
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : obj[key];
}

/** `SoftwareVulnerabilitiesExport` for `/api/machines/SoftwareVulnerabilitiesExport`: how logs and errors name an endpoint. */
function endpointName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function invalidPayload(what: string, problem: string): DefenderApiError {
  return new DefenderApiError(`${what}: unexpected answer: ${problem}`, { code: 'InvalidPayload' });
}
