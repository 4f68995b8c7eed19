// A local stand-in for Defender's software-inventory export API: serves SoftwareInventoryExport (SAS URLs to
// gzip JSON-Lines part files in an Azurite container) and the paged SoftwareInventoryByMachine, from a
// deterministic fleet (tools/simulator/fleet.ts), with optional throttling and token checks.
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { Readable, Transform, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import {
  BlobSASPermissions,
  BlobServiceClient,
  ContainerClient,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { Log, redactingLog, silentLog } from '../../shared/core/log';
import { describeError, redact } from '../../shared/core/redact';
import { Device, deviceRecords, evolveFleet, Fleet, fleetAt, fleetRowCount, guidFrom, hash32, SoftwareRecord } from './fleet';

export interface SimulatorOptions {
  /** Azurite (or any account-key) connection string; SAS URLs are signed with its AccountKey */
  blobConnectionString: string;
  /** fleet size (default 2000) */
  devices?: number;
  /** part files per export (default: one per 50k rows, at least 3) */
  files?: number;
  seed?: number;
  /** fleet generation of the first publish (default 0); later publishes evolve it by one */
  generation?: number;
  /** generatedTime of the first publish (default: now, floored to the minute) */
  generatedTime?: Date;
  /** answer 429 (Retry-After: 1) on every Nth API call; 0 = never */
  throttleEvery?: number;
  /** listening port; 0 (default) = a free one */
  port?: number;
  containerName?: string;
  /** overrides sasValidHours for every URL handed out (tests of expiry); fractions allowed */
  sasValidMinutes?: number;
  /** largest sasValidHours accepted (default 24, the documented maximum; newer docs say 6) */
  maxSasValidHours?: number;
  log?: Log;
  /** add undocumented columns (`cveIds`, `softwareLastSeenTimestamp`) like the real API sometimes does */
  extraColumns?: boolean;
  /** require `Authorization: Bearer ...`: true = any token, a string = exactly that token */
  requireToken?: boolean | string;
}

/** A record as served: the documented columns, plus the undocumented ones when extraColumns is on. */
export type ServedRecord = SoftwareRecord & { cveIds?: string[]; softwareLastSeenTimestamp?: string };

export interface PublishedFile {
  index: number;
  blobName: string;
  /** blob URL without SAS (what the app stores as BlobPath) */
  blobUrl: string;
  rows: number;
  /** gzip size, what a download transfers */
  bytes: number;
  uncompressedBytes: number;
  deviceCount: number;
}

export interface PublishedExport {
  generatedTime: Date;
  /** as the API writes it: `2021-01-11T11:01:00Z` */
  generatedTimeText: string;
  generation: number;
  seed: number;
  orgId: string;
  /** `yyyy-MM-dd/HHmm`, the export's folder (and the JSON skip token's TimePath) */
  timePath: string;
  files: PublishedFile[];
  totalRows: number;
  extraColumns: boolean;
  /** the fleet the export was made from (immutable) */
  fleet: Fleet;
  /** every row, in file order then line order (regenerated, identical to the blobs' lines) */
  records(): Generator<ServedRecord>;
  /** the rows of one part file, in line order */
  fileRecords(index: number): Generator<ServedRecord>;
}

export interface PublishOptions {
  /** default: the options' generation on the first publish, then the previous one + 1 */
  generation?: number;
  /** default: the options' generatedTime on the first publish, then now (always after the previous) */
  generatedTime?: Date;
}

export interface RequestLogEntry {
  method: string;
  /** path without query */
  path: string;
  /** query string, redacted */
  query: string;
  status: number;
}

export interface DefenderSimulator {
  baseUrl: string;
  port: number;
  /** every request answered, in order */
  requests: RequestLogEntry[];
  /** generate and upload a (new) export; it becomes the current one once fully uploaded */
  publish(next?: PublishOptions): Promise<PublishedExport>;
  current(): PublishedExport | undefined;
  /** fresh SAS URLs of the current export's files (what the export call returns) */
  sasUrls(validMinutes: number): string[];
  stop(): Promise<void>;
}

const ROWS_PER_FILE = 50_000;
const MIN_FILES = 3;
const DEFAULT_SAS_HOURS = 3; // the documented default lifetime of the URLs
const DEFAULT_PAGE_SIZE = 50_000;
const MAX_PAGE_SIZE = 200_000;
const EXPORT_PATH = '/api/machines/softwareinventoryexport';
const BY_MACHINE_PATH = '/api/machines/softwareinventorybymachine';

// ---------------------------------------------------------------------------------------------
// Export layout

interface FilePlan {
  devices: Device[];
  /** rows before each device within the file, for seeking to a line */
  offsets: number[];
  rows: number;
}

/** Devices go round-robin to files; a device's rows never straddle two files (as in Defender's exports). */
function planFiles(fleet: Fleet, files: number): FilePlan[] {
  const plans: FilePlan[] = Array.from({ length: files }, () => ({ devices: [], offsets: [], rows: 0 }));
  fleet.devices.forEach((device, i) => {
    const plan = plans[i % files];
    plan.devices.push(device);
    plan.offsets.push(plan.rows);
    plan.rows += device.software.length;
  });
  return plans;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function timePathOf(t: Date): string {
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}/${pad(t.getUTCHours())}${pad(t.getUTCMinutes())}`;
}

/** `2021-01-11T11:01:00Z`: seconds, no milliseconds, as the API writes generatedTime. */
function apiTime(t: Date): string {
  return `${t.toISOString().slice(0, 19)}Z`;
}

function floorToMinute(ms: number): Date {
  return new Date(Math.floor(ms / 60_000) * 60_000);
}

function withExtras(r: SoftwareRecord, generatedTime: Date): ServedRecord {
  const h = hash32(r.deviceId, r.softwareName, r.softwareVersion);
  const cveCount = Math.min(r.numberOfWeaknesses, 3);
  const cveIds = Array.from({ length: cveCount }, (_, i) => `CVE-${2019 + ((h >>> (i * 3)) % 6)}-${1000 + ((h >>> (i * 5)) % 40000)}`);
  const lastSeen = new Date(generatedTime.getTime() - (h % 36) * 3_600_000).toISOString();
  return { ...r, cveIds, softwareLastSeenTimestamp: `${lastSeen.slice(0, 10)} ${lastSeen.slice(11, 19)}` };
}

function* planRecords(plan: FilePlan, fromLine: number, extras: Date | undefined): Generator<ServedRecord> {
  // Skip whole devices before the line, then rows within the first device.
  let d = 0;
  while (d + 1 < plan.devices.length && plan.offsets[d + 1] <= fromLine) d++;
  let line = plan.offsets[d] ?? 0;
  for (; d < plan.devices.length; d++) {
    for (const r of deviceRecords(plan.devices[d])) {
      if (line++ < fromLine) continue;
      yield extras ? withExtras(r, extras) : r;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Upload

interface UploadResult {
  rows: number;
  bytes: number;
  uncompressedBytes: number;
}

/** Lines batched into ~256 KB strings: few stream chunks, no giant string. */
function* chunkedLines(records: Iterable<ServedRecord>, counts: { rows: number; uncompressedBytes: number }): Generator<string> {
  let chunk = '';
  for (const r of records) {
    const line = `${JSON.stringify(r)}\n`;
    counts.rows++;
    counts.uncompressedBytes += Buffer.byteLength(line);
    chunk += line;
    if (chunk.length >= 256 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

async function uploadPart(container: ContainerClient, blobName: string, records: Iterable<ServedRecord>): Promise<UploadResult> {
  const counts = { rows: 0, uncompressedBytes: 0 };
  const counter = new ByteCounter();
  const blob = container.getBlockBlobClient(blobName);
  // No Content-Encoding: Defender serves the gzip bytes as they are, clients gunzip themselves.
  const upload = blob.uploadStream(counter, 4 * 1024 * 1024, 4, { blobHTTPHeaders: { blobContentType: 'application/octet-stream' } });
  upload.catch((err: unknown) => counter.destroy(err instanceof Error ? err : new Error(String(err))));
  await Promise.all([pipeline(Readable.from(chunkedLines(records, counts)), createGzip(), counter), upload]);
  return { ...counts, bytes: counter.bytes };
}

// ---------------------------------------------------------------------------------------------
// SAS

interface AccountKey {
  accountName: string;
  accountKey: string;
}

function accountKeyOf(connectionString: string): AccountKey {
  const part = (name: string) => new RegExp(`(?:^|;)\\s*${name}=([^;]+)`, 'i').exec(connectionString)?.[1];
  const accountName = part('AccountName');
  const accountKey = part('AccountKey');
  if (!accountName || !accountKey) throw new Error('blobConnectionString must name AccountName and AccountKey: the simulator signs SAS URLs with the key');
  return { accountName, accountKey };
}

/** Like Defender's URLs, `OrgId=` stays literal (the SDK would write `OrgId%3D`; both name the same blob). */
function blobUrlOf(container: ContainerClient, blobName: string): string {
  const path = blobName.split('/').map((segment) => encodeURIComponent(segment).replace(/%3D/gi, '=')).join('/');
  return `${container.url}/${path}`;
}

function signedUrl(container: ContainerClient, credential: StorageSharedKeyCredential, file: PublishedFile, validMs: number): string {
  const now = Date.now();
  const sas = generateBlobSASQueryParameters(
    {
      containerName: container.containerName,
      blobName: file.blobName,
      permissions: BlobSASPermissions.parse('r'),
      // A little slack for clock skew, as real issuers do.
      startsOn: new Date(now - 5 * 60_000),
      expiresOn: new Date(now + validMs),
    },
    credential,
  );
  return `${file.blobUrl}?${sas.toString()}`;
}

// ---------------------------------------------------------------------------------------------
// HTTP

interface ApiError {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; odata.metadata=minimal; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, e: ApiError): void {
  sendJson(res, e.status, { error: { code: e.code, message: e.message, target: guidFrom('err', Date.now(), Math.random()) } }, e.headers);
}

/** Query parameters by lower-case name: the API accepts `pageSize` and `pagesize` alike. */
function queryOf(url: URL): Map<string, string> {
  const q = new Map<string, string>();
  url.searchParams.forEach((v, k) => q.set(k.toLowerCase(), v));
  return q;
}

function intParam(q: Map<string, string>, name: string, fallback: number, min: number, max: number): number | ApiError {
  const raw = q.get(name.toLowerCase());
  if (raw === undefined) return fallback;
  const n = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) return { status: 400, code: 'BadRequest', message: `${name} must be a whole number from ${min} to ${max}, got '${raw}'` };
  return n;
}

function isError(v: unknown): v is ApiError {
  return typeof v === 'object' && v !== null && 'code' in v && 'status' in v;
}

interface SkipToken {
  ExportDefinition: { TimePath: string };
  ExportFileIndex: number;
  LineStoppedAt: number;
}

// Same shape as the real token (base64 JSON naming the export folder, file index and line).
function encodeSkipToken(t: SkipToken): string {
  return Buffer.from(JSON.stringify(t), 'utf8').toString('base64');
}

function decodeSkipToken(raw: string): SkipToken | undefined {
  try {
    const t = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as SkipToken;
    if (typeof t?.ExportDefinition?.TimePath !== 'string' || !Number.isInteger(t.ExportFileIndex) || !Number.isInteger(t.LineStoppedAt)) return undefined;
    if (t.ExportFileIndex < 0 || t.LineStoppedAt < 0) return undefined;
    return t;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// The simulator

interface Published {
  exp: PublishedExport;
  plans: FilePlan[];
}

export async function startDefenderSimulator(opts: SimulatorOptions): Promise<DefenderSimulator> {
  const log = redactingLog(opts.log ?? silentLog);
  const devices = opts.devices ?? 2000;
  const seed = opts.seed ?? 1;
  const throttleEvery = opts.throttleEvery ?? 0;
  const maxSasHours = opts.maxSasValidHours ?? 24;
  const { accountName, accountKey } = accountKeyOf(opts.blobConnectionString);
  const credential = new StorageSharedKeyCredential(accountName, accountKey);
  const container = BlobServiceClient.fromConnectionString(opts.blobConnectionString).getContainerClient(opts.containerName ?? 'tvm-export');
  const orgId = guidFrom('org', seed);
  const requests: RequestLogEntry[] = [];

  let published: Published | undefined;
  let publishing: Promise<PublishedExport> | undefined;
  let fleetCache: Fleet | undefined;
  let apiCalls = 0;
  let containerReady = false;

  function fleetFor(generation: number): Fleet {
    // Evolve forward from the last fleet when we can: a 20k-device fleet costs seconds per replay.
    let fleet = fleetCache && fleetCache.generation <= generation ? fleetCache : fleetAt({ devices, seed });
    while (fleet.generation < generation) fleet = evolveFleet(fleet, { generation: fleet.generation + 1 });
    fleetCache = fleet;
    return fleet;
  }

  function nextTime(next: PublishOptions | undefined): Date {
    if (next?.generatedTime) return new Date(Math.floor(next.generatedTime.getTime() / 1000) * 1000);
    if (!published && opts.generatedTime) return new Date(Math.floor(opts.generatedTime.getTime() / 1000) * 1000);
    const now = floorToMinute(Date.now());
    const after = published ? published.exp.generatedTime.getTime() + 60_000 : 0;
    return now.getTime() >= after ? now : new Date(after);
  }

  async function doPublish(next?: PublishOptions): Promise<PublishedExport> {
    const generation = next?.generation ?? (published ? published.exp.generation + 1 : (opts.generation ?? 0));
    const generatedTime = nextTime(next);
    const fleet = fleetFor(generation);
    const totalRows = fleetRowCount(fleet);
    const fileCount = opts.files ?? Math.max(MIN_FILES, Math.ceil(totalRows / ROWS_PER_FILE));
    const plans = planFiles(fleet, fileCount);
    const timePath = timePathOf(generatedTime);
    const jobId = guidFrom('job', seed, generation, generatedTime.getTime());
    const extras = opts.extraColumns ? generatedTime : undefined;
    if (!containerReady) {
      await container.createIfNotExists();
      containerReady = true;
    }
    const started = Date.now();
    const files = await Promise.all(
      plans.map(async (plan, index): Promise<PublishedFile> => {
        const blobName = `${timePath}/SoftwareInventory/json/OrgId=${orgId}/part-${pad(index, 5)}-${jobId}.c000.json.gz`;
        const result = await uploadPart(container, blobName, planRecords(plan, 0, extras));
        return { index, blobName, blobUrl: blobUrlOf(container, blobName), deviceCount: plan.devices.length, ...result };
      }),
    );
    const exp: PublishedExport = {
      generatedTime,
      generatedTimeText: apiTime(generatedTime),
      generation,
      seed,
      orgId,
      timePath,
      files,
      totalRows,
      extraColumns: !!opts.extraColumns,
      fleet,
      *records() {
        for (const plan of plans) yield* planRecords(plan, 0, extras);
      },
      fileRecords(index: number) {
        if (!plans[index]) throw new RangeError(`no file ${index}; the export has ${plans.length}`);
        return planRecords(plans[index], 0, extras);
      },
    };
    published = { exp, plans };
    log.info(`published export ${exp.generatedTimeText} (generation ${generation}): ${files.length} files, ${totalRows} rows, ${files.reduce((s, f) => s + f.bytes, 0)} gzip bytes in ${Date.now() - started} ms`);
    return exp;
  }

  function publish(next?: PublishOptions): Promise<PublishedExport> {
    // One publish at a time; a lazy first API call and an explicit publish share the work.
    const run = (publishing ?? Promise.resolve()).catch(() => undefined).then(() => doPublish(next));
    publishing = run;
    return run.finally(() => {
      if (publishing === run) publishing = undefined;
    });
  }

  async function ensurePublished(): Promise<Published> {
    if (!published) await (publishing ?? publish());
    return published!;
  }

  function sasUrls(validMinutes: number): string[] {
    if (!published) throw new Error('nothing published yet');
    return published.exp.files.map((f) => signedUrl(container, credential, f, validMinutes * 60_000));
  }

  async function handleExport(q: Map<string, string>, res: ServerResponse, baseUrl: string): Promise<number> {
    const hours = intParam(q, 'sasValidHours', DEFAULT_SAS_HOURS, 1, maxSasHours);
    if (isError(hours)) return fail(res, hours);
    const { exp } = await ensurePublished();
    const urls = sasUrls(opts.sasValidMinutes ?? hours * 60);
    log.info(`export ${exp.generatedTimeText}: ${urls.length} URLs, first ${urls[0] ?? '(none)'}`);
    sendJson(res, 200, {
      '@odata.context': `${baseUrl}/api/$metadata#microsoft.windowsDefenderATP.api.ExportFilesResponse`,
      exportFiles: urls,
      generatedTime: exp.generatedTimeText,
    });
    return 200;
  }

  async function handleByMachine(q: Map<string, string>, res: ServerResponse, baseUrl: string): Promise<number> {
    const pageSize = intParam(q, 'pageSize', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
    if (isError(pageSize)) return fail(res, pageSize);
    const top = intParam(q, '$top', -1, 0, Number.MAX_SAFE_INTEGER);
    if (isError(top)) return fail(res, top);
    const { exp, plans } = await ensurePublished();
    let fileIndex = 0;
    let line = 0;
    const rawToken = q.get('$skiptoken');
    if (rawToken !== undefined) {
      const token = decodeSkipToken(rawToken);
      if (!token) return fail(res, { status: 400, code: 'BadRequest', message: 'Invalid $skiptoken' });
      if (token.ExportDefinition.TimePath !== `${exp.timePath}/`) {
        return fail(res, { status: 400, code: 'BadRequest', message: 'The $skiptoken refers to an export that is no longer current; start again without it' });
      }
      fileIndex = token.ExportFileIndex;
      line = token.LineStoppedAt;
    }
    const limit = top >= 0 ? top : pageSize;
    const value: ServedRecord[] = [];
    const extras = exp.extraColumns ? exp.generatedTime : undefined;
    // Fill the page file by file; remember where we stopped for the next link.
    while (fileIndex < plans.length && value.length < limit) {
      for (const r of planRecords(plans[fileIndex], line, extras)) {
        if (value.length >= limit) break;
        value.push(r);
        line++;
      }
      if (line >= plans[fileIndex].rows) {
        fileIndex++;
        line = 0;
      }
    }
    while (fileIndex < plans.length && line >= plans[fileIndex].rows) {
      fileIndex++;
      line = 0;
    }
    const body: Record<string, unknown> = {
      '@odata.context': `${baseUrl}/api/$metadata#Collection(microsoft.windowsDefenderATP.api.AssetSoftware)`,
      value,
    };
    if (top < 0 && fileIndex < plans.length) {
      const token = encodeSkipToken({ ExportDefinition: { TimePath: `${exp.timePath}/` }, ExportFileIndex: fileIndex, LineStoppedAt: line });
      body['@odata.nextLink'] = `${baseUrl}/api/machines/SoftwareInventoryByMachine?pageSize=${pageSize}&$skiptoken=${encodeURIComponent(token)}`;
    }
    sendJson(res, 200, body);
    return 200;
  }

  function fail(res: ServerResponse, e: ApiError): number {
    sendError(res, e);
    return e.status;
  }

  function authorized(req: IncomingMessage): boolean {
    if (!opts.requireToken) return true;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (!m) return false;
    return opts.requireToken === true || m[1] === opts.requireToken;
  }

  async function route(req: IncomingMessage, res: ServerResponse, baseUrl: string): Promise<number> {
    const url = new URL(req.url ?? '/', baseUrl);
    const path = url.pathname.toLowerCase().replace(/\/+$/, '');
    if (path !== EXPORT_PATH && path !== BY_MACHINE_PATH) {
      return fail(res, { status: 404, code: 'NotFound', message: `No API at ${url.pathname}` });
    }
    if (req.method !== 'GET') return fail(res, { status: 405, code: 'MethodNotAllowed', message: `${req.method} is not supported; use GET` });
    if (!authorized(req)) {
      return fail(res, { status: 401, code: 'Unauthorized', message: 'Authorization header with a Bearer token is required', headers: { 'WWW-Authenticate': 'Bearer' } });
    }
    apiCalls++;
    if (throttleEvery > 0 && apiCalls % throttleEvery === 0) {
      return fail(res, { status: 429, code: 'TooManyRequests', message: 'API calls quota exceeded! Try again in 1 seconds.', headers: { 'Retry-After': '1' } });
    }
    const q = queryOf(url);
    return path === EXPORT_PATH ? handleExport(q, res, baseUrl) : handleByMachine(q, res, baseUrl);
  }

  const server: Server = createServer((req, res) => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const entry: RequestLogEntry = { method: req.method ?? 'GET', path: url.pathname, query: redact(url.search), status: 0 };
    route(req, res, baseUrl)
      .catch((err: unknown) => {
        log.error(`${entry.method} ${entry.path} failed: ${describeError(err)}`);
        if (!res.headersSent) return fail(res, { status: 500, code: 'InternalServerError', message: describeError(err) });
        res.destroy();
        return 500;
      })
      .then((status) => {
        entry.status = status;
        requests.push(entry);
        log.info(`${entry.method} ${entry.path}${entry.query} -> ${status} (${Date.now() - started} ms)`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;

  return {
    baseUrl,
    port,
    requests,
    publish,
    current: () => published?.exp,
    sasUrls,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
