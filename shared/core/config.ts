// Every setting (docs/settings.md, generated from this file) is read and validated here, once. Nothing else reads process.env.
import { defenderHost, isAudienceOf } from '../defender/defenderHosts';
import { redact } from './redact';
import type { TelemetrySettings } from './telemetry';
import { AppError } from './errors';
import { EXPORT_KIND_NAMES, ExportKind, findKind } from '../kinds/exportKinds';

export type DefenderAuth = 'managedIdentity' | 'clientSecret' | 'default' | 'none';
export type ExportMethod = 'files' | 'json';
export const SUPPORTED_EXPORT_KINDS = EXPORT_KIND_NAMES;
export type { ExportKind };

/** Where tables/queues live: a connection string, or an account reached with an Entra ID credential. */
export type StorageTarget =
  | { kind: 'connectionString'; setting: string; connectionString: string }
  | {
      kind: 'identity';
      setting: string;
      tableServiceUri: string;
      queueServiceUri: string;
      blobServiceUri: string;
      /** user-assigned managed identity client id (`<setting>__clientId`) */
      clientId?: string;
    };

export interface Config {
  defenderApiBaseUrl: string;
  defenderTokenScope: string;
  defenderAuth: DefenderAuth;
  tenantId?: string;
  clientId?: string;
  clientSecret?: string;
  authorityHost?: string;
  exportSchedule: string;
  /** a new snapshot of a kind starts only when none of its complete snapshots was generated within this many hours (0: every new export) */
  snapshotIntervalHours: number;
  sasValidHours: number;
  downloadHostAllowlist: string[];
  /** Functions storage: queues (and tables unless inventoryStorage is set). */
  jobsStorage: StorageTarget;
  /** Tables' storage: INVENTORY_STORAGE, else AzureWebJobsStorage. */
  inventoryStorage: StorageTarget;
  ingestQueue: string;
  writeConcurrency: number;
  exportMethod: ExportMethod;
  jsonPageSize: number;
  exportKinds: ExportKind[];
  retentionDays: number;
  workerTimeBudgetSeconds: number;
  ingestFileConcurrency: number;
  ingestVisibilityTimeoutSeconds: number;
  /** custom events and metrics to Application Insights; undefined: none (the host still ships logs) */
  telemetry?: TelemetrySettings;
}

export class ConfigError extends AppError {
  constructor(
    readonly setting: string,
    problem: string,
  ) {
    // redact() is a safety net; values that may hold a secret are not put in `problem` in the first place
    super(redact(`Setting ${setting}: ${problem}`));
  }
}

export const DEFAULTS = {
  DEFENDER_API_BASE_URL: 'https://api.security.microsoft.com',
  DEFENDER_TOKEN_SCOPE: 'https://api.securitycenter.microsoft.com/.default',
  DEFENDER_AUTH: 'default',
  DEFENDER_ALLOW_CUSTOM_ENDPOINT: 'false',
  // hourly: Defender regenerates exports every few hours; SNAPSHOT_INTERVAL_HOURS decides when a new snapshot starts
  EXPORT_SCHEDULE: '0 17 * * * *',
  SNAPSHOT_INTERVAL_HOURS: 24,
  SAS_VALID_HOURS: 6,
  DOWNLOAD_HOST_ALLOWLIST: '*.blob.core.windows.net,*.blob.core.usgovcloudapi.net',
  INGEST_QUEUE: 'inventory-export-files',
  WRITE_CONCURRENCY: 8,
  EXPORT_METHOD: 'files',
  JSON_PAGE_SIZE: 50000,
  EXPORT_KINDS: 'SoftwareInventory',
  RETENTION_DAYS: 0,
  // host.json sets functionTimeout to 10 minutes; leave room to checkpoint and re-queue.
  WORKER_TIME_BUDGET_SECONDS: 480,
  INGEST_FILE_CONCURRENCY: 2,
  INGEST_VISIBILITY_TIMEOUT_SECONDS: 30,
} as const;

/** Every setting name this app reads (local.settings.sample.json and infra/ must name the same). */
export const SETTING_NAMES = [
  'DEFENDER_API_BASE_URL',
  'DEFENDER_TOKEN_SCOPE',
  'DEFENDER_AUTH',
  'DEFENDER_ALLOW_CUSTOM_ENDPOINT',
  'AZURE_TENANT_ID',
  'AZURE_CLIENT_ID',
  'AZURE_CLIENT_SECRET',
  'AZURE_AUTHORITY_HOST',
  'EXPORT_SCHEDULE',
  'SNAPSHOT_INTERVAL_HOURS',
  'SAS_VALID_HOURS',
  'DOWNLOAD_HOST_ALLOWLIST',
  'AzureWebJobsStorage',
  'INVENTORY_STORAGE',
  'INGEST_QUEUE',
  'WRITE_CONCURRENCY',
  'EXPORT_METHOD',
  'JSON_PAGE_SIZE',
  'EXPORT_KINDS',
  'RETENTION_DAYS',
  'WORKER_TIME_BUDGET_SECONDS',
  'INGEST_FILE_CONCURRENCY',
  'INGEST_VISIBILITY_TIMEOUT_SECONDS',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
] as const;

type Env = Record<string, string | undefined>;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname.toLowerCase());
}

/**
 * A setting's value as shown in an error, unless it may hold a secret: user info, a query string, key=value
 * pairs (connection strings), or a long token-like run of characters.
 */
function shown(v: string): string {
  const risky = /[@?#;&=%\\]/.test(v) || /[A-Za-z0-9+/_-]{40,}/.test(v) || v.length > 200;
  return risky ? '(value not shown: it may hold a secret)' : `"${v}"`;
}

function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

function intSetting(env: Env, name: string, def: number, min: number, max: number): number {
  const v = raw(env, name);
  if (v === undefined) return def;
  if (!/^-?\d+$/.test(v)) throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got ${shown(v)}`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got ${n}`);
  return n;
}

function oneOf<T extends string>(env: Env, name: string, def: T, allowed: readonly T[]): T {
  const v = raw(env, name) ?? def;
  const hit = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
  if (!hit) throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got ${shown(v)}`);
  return hit;
}

function urlSetting(env: Env, name: string, def?: string): URL | undefined {
  const v = raw(env, name) ?? def;
  if (v === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(name, `not a valid absolute URL: ${shown(v)}`);
  }
  // user info is never needed here and is a classic way to disguise a host; an empty one (`https://@host`) too
  if (u.username || u.password || /^[a-z][a-z0-9+.-]*:[\\/]*[^\\/?#]*@/i.test(v)) {
    throw new ConfigError(name, 'credentials (user info) in the URL are not accepted (the value is not shown)');
  }
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname))) {
    throw new ConfigError(name, `must be an https URL (http is accepted only for loopback hosts), got ${u.protocol}//${u.host}`);
  }
  return u;
}

// NCRONTAB with seconds: {second} {minute} {hour} {day} {month} {day-of-week}
const CRON_FIELD = /^(\*|\d+(-\d+)?)(\/\d+)?(,(\*|\d+(-\d+)?)(\/\d+)?)*$/;
const CRON_NAMED = /^[A-Za-z]{3}(-[A-Za-z]{3})?(,[A-Za-z]{3}(-[A-Za-z]{3})?)*$/;
export function validateNcrontab(name: string, expr: string): string {
  const fields = expr.split(/\s+/);
  if (fields.length !== 6) {
    throw new ConfigError(
      name,
      `expected an NCRONTAB expression with 6 fields (second minute hour day month day-of-week, UTC), got ${fields.length} fields in "${expr}"`,
    );
  }
  fields.forEach((f, i) => {
    const named = (i === 4 || i === 5) && CRON_NAMED.test(f);
    if (!CRON_FIELD.test(f) && !named) throw new ConfigError(name, `field ${i + 1} ("${f}") of "${expr}" is not valid NCRONTAB`);
  });
  return expr;
}

const HOST_PATTERN = /^(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+$/;
function allowlist(env: Env): string[] {
  const v = raw(env, 'DOWNLOAD_HOST_ALLOWLIST') ?? DEFAULTS.DOWNLOAD_HOST_ALLOWLIST;
  const items = v
    .split(',')
    // strip a port, but not the tail of a bare IPv6 address ("::1" stays "::1"; "[::1]:10000" gives "[::1]")
    .map((s) =>
      s
        .trim()
        .toLowerCase()
        .replace(/^(\[[^\]]*\]|[^:]*):\d+$/, '$1'),
    )
    .filter((s) => s !== '');
  if (items.length === 0) throw new ConfigError('DOWNLOAD_HOST_ALLOWLIST', 'lists no host pattern');
  for (const p of items) {
    if (!HOST_PATTERN.test(p) && !isLoopbackHost(p)) {
      throw new ConfigError('DOWNLOAD_HOST_ALLOWLIST', `${shown(p)} is not a host name or a *.suffix pattern`);
    }
  }
  return items;
}

const QUEUE_NAME = /^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/;

/** Resolve a storage setting in any of the forms the Functions host accepts. */
export function storageTarget(
  env: Env,
  setting: string,
  needs: readonly ('table' | 'queue' | 'blob')[] = ['table', 'queue', 'blob'],
): StorageTarget | undefined {
  const cs = raw(env, setting);
  if (cs !== undefined) {
    if (cs === 'UseDevelopmentStorage=true' || /AccountName=|BlobEndpoint=|TableEndpoint=|QueueEndpoint=|SharedAccessSignature=/i.test(cs)) {
      return { kind: 'connectionString', setting, connectionString: cs };
    }
    throw new ConfigError(
      setting,
      'is not a storage connection string (expected one with AccountName and AccountKey, endpoints with a SharedAccessSignature, or UseDevelopmentStorage=true)',
    );
  }
  const account = raw(env, `${setting}__accountName`);
  const tableUri = raw(env, `${setting}__tableServiceUri`);
  const queueUri = raw(env, `${setting}__queueServiceUri`);
  const blobUri = raw(env, `${setting}__blobServiceUri`);
  if (!account && !tableUri && !queueUri) return undefined;
  if (account && !/^[a-z0-9]{3,24}$/.test(account)) {
    throw new ConfigError(`${setting}__accountName`, `${shown(account)} is not a storage account name (3-24 lowercase letters and digits)`);
  }
  const from = (svc: 'table' | 'queue' | 'blob', explicit: string | undefined, suffixName: string): string => {
    if (explicit) {
      urlSetting(env, suffixName);
      return explicit.replace(/\/+$/, '');
    }
    // a service this storage is not used for (INVENTORY_STORAGE holds only tables) needs no URI
    if (!account && !needs.includes(svc)) return '';
    if (!account) throw new ConfigError(suffixName, `is required when ${setting}__accountName is not set`);
    return `https://${account}.${svc}.core.windows.net`;
  };
  return {
    kind: 'identity',
    setting,
    tableServiceUri: from('table', tableUri, `${setting}__tableServiceUri`),
    queueServiceUri: from('queue', queueUri, `${setting}__queueServiceUri`),
    blobServiceUri: from('blob', blobUri, `${setting}__blobServiceUri`),
    clientId: raw(env, `${setting}__clientId`),
  };
}

/** `key=value;key=value` (Application Insights strings), keys lower-cased. */
function keyValues(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of text.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1).trim());
  }
  return out;
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The same two settings the Functions host reads for its own logs, so one pair configures both. */
function telemetrySettings(env: Env): TelemetrySettings | undefined {
  const cs = raw(env, 'APPLICATIONINSIGHTS_CONNECTION_STRING');
  const auth = raw(env, 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING');
  if (!cs) {
    if (auth) throw new ConfigError('APPLICATIONINSIGHTS_AUTHENTICATION_STRING', 'is set but APPLICATIONINSIGHTS_CONNECTION_STRING is not');
    return undefined;
  }
  const kv = keyValues(cs);
  const ikey = kv.get('instrumentationkey');
  // never echo the string itself: it is not a secret, but it is not ours to spread either
  if (!ikey || !GUID.test(ikey)) {
    throw new ConfigError(
      'APPLICATIONINSIGHTS_CONNECTION_STRING',
      'expected an Application Insights connection string (InstrumentationKey=<guid>;IngestionEndpoint=https://...)',
    );
  }
  const endpoint = kv.get('ingestionendpoint');
  if (endpoint !== undefined) urlSetting({ APPLICATIONINSIGHTS_CONNECTION_STRING: endpoint }, 'APPLICATIONINSIGHTS_CONNECTION_STRING');
  if (!auth) return { connectionString: cs };
  const a = keyValues(auth);
  if (a.get('authorization')?.toLowerCase() !== 'aad') {
    throw new ConfigError(
      'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
      'expected "Authorization=AAD" (optionally "ClientId=<guid>;Authorization=AAD" for a user-assigned identity)',
    );
  }
  const clientId = a.get('clientid');
  if (clientId !== undefined && !GUID.test(clientId)) {
    throw new ConfigError('APPLICATIONINSIGHTS_AUTHENTICATION_STRING', `ClientId must be the identity's client id (a GUID), got ${shown(clientId)}`);
  }
  return { connectionString: cs, entra: clientId ? { clientId } : {} };
}

/**
 * The bearer token goes only to a Defender API host (shared/defender/defenderHosts.ts) and only for one of its
 * audiences, unless DEFENDER_ALLOW_CUSTOM_ENDPOINT=true; a loopback simulator is always accepted.
 */
function checkDefenderEndpoint(env: Env, base: URL, scope: string): void {
  if (base.search || base.hash) throw new ConfigError('DEFENDER_API_BASE_URL', 'must not carry a query string or fragment (the value is not shown)');
  const allowCustom = oneOf(env, 'DEFENDER_ALLOW_CUSTOM_ENDPOINT', DEFAULTS.DEFENDER_ALLOW_CUSTOM_ENDPOINT, ['false', 'true']) === 'true';
  if (allowCustom || isLoopbackHost(base.hostname)) return;
  const optIn = 'set DEFENDER_ALLOW_CUSTOM_ENDPOINT=true only if this endpoint is meant to receive the Defender token';
  const entry = defenderHost(base.hostname);
  if (!entry) {
    throw new ConfigError(
      'DEFENDER_API_BASE_URL',
      `${base.hostname} is not a Defender API host (e.g. https://api.security.microsoft.com, a regional https://eu.api.security.microsoft.com, or US Gov https://api-gcc.securitycenter.microsoft.us / https://api-gov.securitycenter.microsoft.us); ${optIn}`,
    );
  }
  if (!isAudienceOf(entry, scope)) {
    throw new ConfigError(
      'DEFENDER_TOKEN_SCOPE',
      `${shown(scope)} is not a token audience of ${entry.host} (expected ${entry.audiences.join(' or ')}); ${optIn}`,
    );
  }
}

/** Read and validate every setting. Throws ConfigError naming the first bad setting. */
export function loadConfig(env: Env = process.env): Config {
  const base = urlSetting(env, 'DEFENDER_API_BASE_URL', DEFAULTS.DEFENDER_API_BASE_URL)!;
  const baseLoopback = isLoopbackHost(base.hostname);
  const defenderAuth = oneOf<DefenderAuth>(env, 'DEFENDER_AUTH', DEFAULTS.DEFENDER_AUTH, ['managedIdentity', 'clientSecret', 'default', 'none']);
  if (defenderAuth === 'none' && !baseLoopback) {
    throw new ConfigError('DEFENDER_AUTH', `"none" is only accepted when DEFENDER_API_BASE_URL is a loopback address (a local simulator), not ${base.host}`);
  }
  const tenantId = raw(env, 'AZURE_TENANT_ID');
  const clientId = raw(env, 'AZURE_CLIENT_ID');
  const clientSecret = raw(env, 'AZURE_CLIENT_SECRET');
  if (defenderAuth === 'clientSecret') {
    for (const [n, v] of [
      ['AZURE_TENANT_ID', tenantId],
      ['AZURE_CLIENT_ID', clientId],
      ['AZURE_CLIENT_SECRET', clientSecret],
    ] as const) {
      if (!v) throw new ConfigError(n, 'is required when DEFENDER_AUTH=clientSecret');
    }
  }
  const scope = raw(env, 'DEFENDER_TOKEN_SCOPE') ?? DEFAULTS.DEFENDER_TOKEN_SCOPE;
  if (!/^(https?:\/\/|api:\/\/)\S+\/\.default$/.test(scope)) {
    throw new ConfigError('DEFENDER_TOKEN_SCOPE', `expected a resource scope ending in /.default, got ${shown(scope)}`);
  }
  checkDefenderEndpoint(env, base, scope);
  const authorityHost = urlSetting(env, 'AZURE_AUTHORITY_HOST')?.toString();

  const jobsStorage = storageTarget(env, 'AzureWebJobsStorage');
  if (!jobsStorage) {
    throw new ConfigError('AzureWebJobsStorage', 'is required: a storage connection string, or AzureWebJobsStorage__accountName for managed identity');
  }
  const inventoryStorage = storageTarget(env, 'INVENTORY_STORAGE', ['table']) ?? jobsStorage;

  const ingestQueue = raw(env, 'INGEST_QUEUE') ?? DEFAULTS.INGEST_QUEUE;
  // the host appends "-poison", so leave room for it within the 63-character limit
  if (!QUEUE_NAME.test(ingestQueue) || ingestQueue.length > 56) {
    throw new ConfigError('INGEST_QUEUE', `${shown(ingestQueue)} is not a valid queue name (3-56 lowercase letters, digits and single hyphens)`);
  }

  const kinds = (raw(env, 'EXPORT_KINDS') ?? DEFAULTS.EXPORT_KINDS)
    .split(',')
    .map((k) => k.trim())
    .filter(Boolean);
  if (kinds.length === 0) throw new ConfigError('EXPORT_KINDS', 'lists no export kind');
  const exportKinds: ExportKind[] = [];
  for (const k of kinds) {
    const hit = findKind(k);
    if (!hit) throw new ConfigError('EXPORT_KINDS', `${shown(k)} is not supported (supported: ${SUPPORTED_EXPORT_KINDS.join(', ')})`);
    if (exportKinds.includes(hit)) throw new ConfigError('EXPORT_KINDS', `lists ${hit} twice`);
    exportKinds.push(hit);
  }

  return {
    defenderApiBaseUrl: base.toString().replace(/\/+$/, ''),
    defenderTokenScope: scope,
    defenderAuth,
    tenantId,
    clientId,
    clientSecret,
    authorityHost,
    exportSchedule: validateNcrontab('EXPORT_SCHEDULE', raw(env, 'EXPORT_SCHEDULE') ?? DEFAULTS.EXPORT_SCHEDULE),
    snapshotIntervalHours: intSetting(env, 'SNAPSHOT_INTERVAL_HOURS', DEFAULTS.SNAPSHOT_INTERVAL_HOURS, 0, 8760),
    sasValidHours: intSetting(env, 'SAS_VALID_HOURS', DEFAULTS.SAS_VALID_HOURS, 1, 6),
    downloadHostAllowlist: allowlist(env),
    jobsStorage,
    inventoryStorage,
    ingestQueue,
    writeConcurrency: intSetting(env, 'WRITE_CONCURRENCY', DEFAULTS.WRITE_CONCURRENCY, 1, 64),
    exportMethod: oneOf<ExportMethod>(env, 'EXPORT_METHOD', DEFAULTS.EXPORT_METHOD, ['files', 'json']),
    jsonPageSize: intSetting(env, 'JSON_PAGE_SIZE', DEFAULTS.JSON_PAGE_SIZE, 1, 200000),
    exportKinds,
    retentionDays: intSetting(env, 'RETENTION_DAYS', DEFAULTS.RETENTION_DAYS, 0, 36500),
    workerTimeBudgetSeconds: intSetting(env, 'WORKER_TIME_BUDGET_SECONDS', DEFAULTS.WORKER_TIME_BUDGET_SECONDS, 10, 86400),
    ingestFileConcurrency: intSetting(env, 'INGEST_FILE_CONCURRENCY', DEFAULTS.INGEST_FILE_CONCURRENCY, 1, 64),
    ingestVisibilityTimeoutSeconds: intSetting(env, 'INGEST_VISIBILITY_TIMEOUT_SECONDS', DEFAULTS.INGEST_VISIBILITY_TIMEOUT_SECONDS, 5, 7 * 24 * 3600),
    telemetry: telemetrySettings(env),
  };
}
