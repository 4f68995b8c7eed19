// A local stand-in for Defender's export APIs: for every export kind (docs/kinds.md) it serves the via-files call
// (SAS URLs to gzip JSON-Lines part files in an Azurite container) and the paged JSON call, at the registry's
// paths, all derived from one deterministic fleet (tools/simulator/fleet.ts) so the kinds agree with each other;
// with optional throttling, token checks and per-kind refusals (a missing permission).
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { BlobServiceClient, StorageSharedKeyCredential } from '@azure/storage-blob';
import { Log, redactingLog, silentLog } from '../../shared/core/log';
import { describeError, redact } from '../../shared/core/redact';
import { DEFAULT_KIND, EXPORT_KIND_NAMES, EXPORT_KINDS, ExportKind, kindSpec } from '../../shared/kinds/exportKinds';
import { evolveFleet, Fleet, fleetAt, guidFrom } from './fleet';
import { apiTime, FilePlan, floorToMinute, pad, planFiles, planRecords, ServedRecord, timePathOf } from './exportLayout';
import { KindRecord, KindSource, kindSource } from './kindSources';
import { uploadPart } from './upload';
import { accountKeyOf, blobUrlOf, signedUrl } from './sas';
import { ApiError, decodeSkipToken, encodeSkipToken, intParam, isError, queryOf, sendError, sendJson } from './server';

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
  /** the kinds published and served (default SoftwareInventory alone, so a test pays only for what it tests; the demo and the CLI ask for all four); the others' paths answer 404 */
  exportKinds?: readonly ExportKind[];
  /** answer both calls of a kind with this status, as Defender does when the app lacks the kind's permission (403) */
  refuse?: Partial<Record<ExportKind, number>>;
}

export type { ServedRecord } from './exportLayout';
export type { KindRecord } from './kindSources';

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

/** One kind's part of a publish: its files and rows. */
export interface KindExport {
  kind: ExportKind;
  files: PublishedFile[];
  totalRows: number;
  /** every row, in file order then line order (regenerated, identical to the blobs' lines) */
  records(): Generator<KindRecord>;
  /** the rows of one part file, in line order */
  fileRecords(index: number): Generator<KindRecord>;
}

/**
 * A publish: every served kind from one fleet, with one generatedTime. The top-level files and rows are the
 * SoftwareInventory's (empty when that kind is not served); `kinds` holds each served kind's.
 */
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
  /** the kinds published, in registry order */
  exportKinds: ExportKind[];
  kinds: Partial<Record<ExportKind, KindExport>>;
  /** rows per published kind: what an ingest of each kind should land */
  rowCounts: Partial<Record<ExportKind, number>>;
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
  /** fresh SAS URLs of the current export's files of a kind (what its export call returns) */
  sasUrls(validMinutes: number, kind?: ExportKind): string[];
  stop(): Promise<void>;
}

const ROWS_PER_FILE = 50_000;
const MIN_FILES = 3;
const DEFAULT_SAS_HOURS = 3; // the documented default lifetime of the URLs
const DEFAULT_PAGE_SIZE = 50_000;
const MAX_PAGE_SIZE = 200_000;
/** The OData entity each kind's JSON pages declare. */
const ENTITY: Readonly<Record<ExportKind, string>> = {
  SoftwareInventory: 'AssetSoftware',
  NonCpeSoftwareInventory: 'AssetNonCpeSoftware',
  SoftwareVulnerabilities: 'AssetVulnerability',
  SecureConfigurations: 'AssetConfiguration',
};

/** Lower-cased API path → the kind and method it serves (paths from the kinds registry). */
const ROUTES = new Map<string, { kind: ExportKind; method: 'files' | 'json' }>(
  EXPORT_KINDS.flatMap((k) => [
    [k.filesPath.toLowerCase(), { kind: k.kind, method: 'files' as const }],
    [k.jsonPath.toLowerCase(), { kind: k.kind, method: 'json' as const }],
  ]),
);

interface KindPlan {
  source: KindSource;
  plans: FilePlan[];
  /** the skip token's TimePath: the inventory keeps the export folder as before kinds existed */
  timePath: string;
}

interface Published {
  exp: PublishedExport;
  byKind: Partial<Record<ExportKind, KindPlan>>;
}

/** Defender's answer when the app lacks a kind's application permission (or another refusal a test asks for). */
function refusal(kind: ExportKind, status: number): ApiError {
  const permission = kindSpec(kind).permission;
  if (status === 403) {
    return {
      status,
      code: 'Forbidden',
      message: `The application does not have any of the required application permissions (${permission}) to access the resource.`,
    };
  }
  if (status === 401) return { status, code: 'Unauthorized', message: 'Authorization has been denied for this request.' };
  return { status, code: 'Error', message: `The simulator was told to refuse ${kind} with ${status}` };
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
  const served = new Set<ExportKind>(opts.exportKinds ?? [DEFAULT_KIND]);
  for (const k of served) kindSpec(k); // an unknown kind is a test's mistake: say so now
  const servedKinds = EXPORT_KIND_NAMES.filter((k) => served.has(k));

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
    const timePath = timePathOf(generatedTime);
    const extras = opts.extraColumns ? generatedTime : undefined;
    if (!containerReady) {
      await container.createIfNotExists();
      containerReady = true;
    }
    const started = Date.now();
    const byKind: Partial<Record<ExportKind, KindPlan>> = {};
    const kinds: Partial<Record<ExportKind, KindExport>> = {};
    await Promise.all(
      servedKinds.map(async (kind) => {
        const inventory = kind === 'SoftwareInventory';
        const source = kindSource(kind, fleet);
        const deviceRows = fleet.devices.map((d) => source.rows(d));
        const planned = deviceRows.reduce((a, b) => a + b, 0);
        const fileCount = opts.files ?? Math.max(MIN_FILES, Math.ceil(planned / ROWS_PER_FILE));
        const plans = planFiles(fleet, fileCount, deviceRows);
        // The inventory's names and tokens are as before kinds existed; other kinds get their own folder and job.
        const jobId = inventory ? guidFrom('job', seed, generation, generatedTime.getTime()) : guidFrom('job', seed, generation, generatedTime.getTime(), kind);
        const kindExtras = inventory ? extras : undefined;
        const files = await Promise.all(
          plans.map(async (plan, index): Promise<PublishedFile> => {
            const blobName = `${timePath}/${kind}/json/OrgId=${orgId}/part-${pad(index, 5)}-${jobId}.c000.json.gz`;
            const result = await uploadPart(container, blobName, planRecords(plan, 0, source, kindExtras));
            return { index, blobName, blobUrl: blobUrlOf(container, blobName), deviceCount: plan.devices.length, ...result };
          }),
        );
        byKind[kind] = { source, plans, timePath: inventory ? `${timePath}/` : `${timePath}/${kind}/` };
        kinds[kind] = {
          kind,
          files,
          totalRows: planned,
          *records() {
            for (const plan of plans) yield* planRecords(plan, 0, source, kindExtras);
          },
          fileRecords(index: number) {
            if (!plans[index]) throw new RangeError(`no ${kind} file ${index}; the export has ${plans.length}`);
            return planRecords(plans[index], 0, source, kindExtras);
          },
        };
      }),
    );
    const inventory = kinds.SoftwareInventory;
    const exp: PublishedExport = {
      generatedTime,
      generatedTimeText: apiTime(generatedTime),
      generation,
      seed,
      orgId,
      timePath,
      files: inventory?.files ?? [],
      totalRows: inventory?.totalRows ?? 0,
      extraColumns: !!opts.extraColumns,
      fleet,
      *records() {
        if (inventory) yield* inventory.records() as Generator<ServedRecord>;
      },
      fileRecords(index: number) {
        if (!inventory) throw new RangeError('SoftwareInventory is not served (exportKinds)');
        return inventory.fileRecords(index) as Generator<ServedRecord>;
      },
      exportKinds: servedKinds,
      kinds,
      rowCounts: Object.fromEntries(servedKinds.map((k) => [k, kinds[k]!.totalRows])),
    };
    published = { exp, byKind };
    const summary = servedKinds.map((k) => `${k} ${kinds[k]!.files.length} files/${kinds[k]!.totalRows} rows`).join(', ');
    const bytes = servedKinds.reduce((sum, k) => sum + kinds[k]!.files.reduce((s2, f) => s2 + f.bytes, 0), 0);
    log.info(`published export ${exp.generatedTimeText} (generation ${generation}): ${summary}; ${bytes} gzip bytes in ${Date.now() - started} ms`);
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

  function sasUrls(validMinutes: number, kind: ExportKind = 'SoftwareInventory'): string[] {
    if (!published) throw new Error('nothing published yet');
    const files = published.exp.kinds[kind]?.files;
    if (!files) throw new Error(`${kind} is not served (exportKinds: ${servedKinds.join(', ')})`);
    return files.map((f) => signedUrl(container, credential, f, validMinutes * 60_000));
  }

  async function handleExport(kind: ExportKind, q: Map<string, string>, res: ServerResponse, baseUrl: string): Promise<number> {
    const hours = intParam(q, 'sasValidHours', DEFAULT_SAS_HOURS, 1, maxSasHours);
    if (isError(hours)) return fail(res, hours);
    const { exp } = await ensurePublished();
    const urls = sasUrls(opts.sasValidMinutes ?? hours * 60, kind);
    log.info(`${kind} export ${exp.generatedTimeText}: ${urls.length} URLs, first ${urls[0] ?? '(none)'}`);
    sendJson(res, 200, {
      '@odata.context': `${baseUrl}/api/$metadata#microsoft.windowsDefenderATP.api.ExportFilesResponse`,
      exportFiles: urls,
      generatedTime: exp.generatedTimeText,
    });
    return 200;
  }

  async function handleByMachine(kind: ExportKind, q: Map<string, string>, res: ServerResponse, baseUrl: string): Promise<number> {
    const pageSize = intParam(q, 'pageSize', DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE);
    if (isError(pageSize)) return fail(res, pageSize);
    const top = intParam(q, '$top', -1, 0, Number.MAX_SAFE_INTEGER);
    if (isError(top)) return fail(res, top);
    const { exp, byKind } = await ensurePublished();
    const { plans, source, timePath } = byKind[kind]!;
    let fileIndex = 0;
    let line = 0;
    const rawToken = q.get('$skiptoken');
    if (rawToken !== undefined) {
      const token = decodeSkipToken(rawToken);
      if (!token) return fail(res, { status: 400, code: 'BadRequest', message: 'Invalid $skiptoken' });
      if (token.ExportDefinition.TimePath !== timePath) {
        return fail(res, { status: 400, code: 'BadRequest', message: 'The $skiptoken refers to an export that is no longer current; start again without it' });
      }
      fileIndex = token.ExportFileIndex;
      line = token.LineStoppedAt;
    }
    const limit = top >= 0 ? top : pageSize;
    const value: KindRecord[] = [];
    const extras = exp.extraColumns && kind === 'SoftwareInventory' ? exp.generatedTime : undefined;
    // Fill the page file by file; remember where we stopped for the next link.
    while (fileIndex < plans.length && value.length < limit) {
      for (const r of planRecords(plans[fileIndex], line, source, extras)) {
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
      '@odata.context': `${baseUrl}/api/$metadata#Collection(microsoft.windowsDefenderATP.api.${ENTITY[kind]})`,
      value,
    };
    if (top < 0 && fileIndex < plans.length) {
      const token = encodeSkipToken({ ExportDefinition: { TimePath: timePath }, ExportFileIndex: fileIndex, LineStoppedAt: line });
      body['@odata.nextLink'] = `${baseUrl}${kindSpec(kind).jsonPath}?pageSize=${pageSize}&$skiptoken=${encodeURIComponent(token)}`;
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

  async function answer(req: IncomingMessage, res: ServerResponse, baseUrl: string): Promise<number> {
    const url = new URL(req.url ?? '/', baseUrl);
    const route = ROUTES.get(url.pathname.toLowerCase().replace(/\/+$/, ''));
    if (!route) return fail(res, { status: 404, code: 'NotFound', message: `No API at ${url.pathname}` });
    if (!served.has(route.kind)) return fail(res, { status: 404, code: 'NotFound', message: `${route.kind} is not served by this simulator (exportKinds)` });
    if (req.method !== 'GET') return fail(res, { status: 405, code: 'MethodNotAllowed', message: `${req.method} is not supported; use GET` });
    if (!authorized(req)) {
      return fail(res, {
        status: 401,
        code: 'Unauthorized',
        message: 'Authorization header with a Bearer token is required',
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    }
    const refused = opts.refuse?.[route.kind];
    if (refused) return fail(res, refusal(route.kind, refused));
    apiCalls++;
    if (throttleEvery > 0 && apiCalls % throttleEvery === 0) {
      return fail(res, { status: 429, code: 'TooManyRequests', message: 'API calls quota exceeded! Try again in 1 seconds.', headers: { 'Retry-After': '1' } });
    }
    const q = queryOf(url);
    return route.method === 'files' ? handleExport(route.kind, q, res, baseUrl) : handleByMachine(route.kind, q, res, baseUrl);
  }

  const server: Server = createServer((req, res) => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const entry: RequestLogEntry = { method: req.method ?? 'GET', path: url.pathname, query: redact(url.search), status: 0 };
    void answer(req, res, baseUrl)
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
