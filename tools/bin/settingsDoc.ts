// `npm run docs:settings`: writes docs/settings.md from the settings module, so the settings table cannot
// drift from the code. Names come from SETTING_NAMES, defaults from DEFAULTS; the descriptions below are
// the only hand-written part, and test/unit/settingsDoc.test.ts fails when one is missing or the file is stale.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULTS, SETTING_NAMES } from '../../shared/core/config';
import { ROOT } from '../root';

export type SettingName = (typeof SETTING_NAMES)[number];

interface SettingDescription {
  /** what the setting does and which values it takes (Markdown, one line) */
  meaning: string;
  /** shown when DEFAULTS has no entry for the setting */
  defaultNote?: string;
}

/** One entry per setting; the Record type makes a missing one a compile error, the test a runtime one. */
export const SETTING_DESCRIPTIONS: Record<SettingName, SettingDescription> = {
  DEFENDER_API_BASE_URL: {
    meaning:
      'Defender API root. Must be a known Defender host (table in `shared/defender/defenderHosts.ts`: `api.security.microsoft.com` and its regional `us`/`eu`/`uk`/`au`/`swa`/`ina` forms, the `securitycenter` hosts, GCC and GCC High/DoD) unless `DEFENDER_ALLOW_CUSTOM_ENDPOINT=true`; a loopback address (a local simulator) is always accepted. https only (http for loopback). No user info, query or fragment.',
  },
  DEFENDER_TOKEN_SCOPE: {
    meaning:
      "Token scope; must end in `/.default` and be one of the base URL host's audiences (commercial: `https://api.securitycenter.microsoft.com/.default`, `https://api.security.microsoft.com/.default`, `https://securitycenter.onmicrosoft.com/windowsatpservice/.default`; GCC and GCC High/DoD: their own host's `/.default`), unless `DEFENDER_ALLOW_CUSTOM_ENDPOINT=true`.",
  },
  DEFENDER_AUTH: {
    meaning:
      '`managedIdentity`, `clientSecret`, `default` (DefaultAzureCredential) or `none` (accepted only when the base URL is a loopback address, i.e. a local simulator).',
  },
  DEFENDER_ALLOW_CUSTOM_ENDPOINT: {
    meaning:
      '`false` or `true`. `true` lets the Defender token go to a base URL or scope outside the known Defender hosts and audiences (a proxy, a new cloud). Leave it `false` unless you mean it.',
  },
  AZURE_TENANT_ID: {
    meaning: 'Tenant of the Defender identity. Required for `clientSecret`; passed to DefaultAzureCredential with `default`.',
    defaultNote: '—',
  },
  AZURE_CLIENT_ID: {
    meaning:
      'Required for `clientSecret`. With `managedIdentity` it selects a user-assigned identity (without it, the system-assigned one); with `default` it is passed to DefaultAzureCredential.',
    defaultNote: '—',
  },
  AZURE_CLIENT_SECRET: { meaning: 'Required for `clientSecret`. Never logged or echoed in a settings error.', defaultNote: '—' },
  AZURE_AUTHORITY_HOST: {
    meaning: 'Entra authority for sovereign clouds, e.g. `https://login.microsoftonline.us`.',
    defaultNote: 'SDK default',
  },
  EXPORT_SCHEDULE: {
    meaning:
      'NCRONTAB of the timer, 6 fields (second minute hour day month day-of-week), UTC. A run whose snapshot is complete costs one API call; a run in between snapshots repairs an unfinished one. Resolved by the Functions host for the binding (`%EXPORT_SCHEDULE%`), so it must exist as an app setting in Azure.',
  },
  SNAPSHOT_INTERVAL_HOURS: {
    meaning:
      'Whole number 0–8760. A new snapshot of a kind starts only when none of its complete snapshots was generated within this many hours before now; 0 = every new export. Runs in between only re-arm an unfinished snapshot.',
  },
  SAS_VALID_HOURS: {
    meaning: '`sasValidHours` asked of the export API, 1–6. Keep it above the time a snapshot takes to ingest.',
  },
  DOWNLOAD_HOST_ALLOWLIST: {
    meaning:
      'Comma-separated host patterns (exact host or `*.suffix`; a port is ignored) that export file URLs may point at; anything else is refused. https only, except loopback hosts while `DEFENDER_API_BASE_URL` itself is loopback (a local simulator). Redirects are never followed.',
  },
  AzureWebJobsStorage: {
    meaning:
      'Functions storage: queues, and the tables unless `INVENTORY_STORAGE` is set. A connection string (`UseDevelopmentStorage=true` for Azurite), or identity-based: `AzureWebJobsStorage__accountName`, or `__tableServiceUri`/`__queueServiceUri`/`__blobServiceUri`, with `__clientId` for a user-assigned identity.',
    defaultNote: '— (required)',
  },
  INVENTORY_STORAGE: {
    meaning: 'A separate account for the four kinds of tables; same forms as `AzureWebJobsStorage`.',
    defaultNote: '`AzureWebJobsStorage`',
  },
  INGEST_QUEUE: {
    meaning:
      'Queue of per-file messages, 3–56 characters (the host appends `-poison`). Resolved by the Functions host for the binding (`%INGEST_QUEUE%`), so it must exist as an app setting in Azure.',
  },
  WRITE_CONCURRENCY: { meaning: 'Parallel table transactions per file worker, 1–64.' },
  EXPORT_METHOD: {
    meaning:
      '`files` (SoftwareInventoryExport) or `json` (paged SoftwareInventoryByMachine, for small tenants: runs inside the timer invocation into the same table layout; the snapshot id is the run\'s start minute, `Method` = `json`, one "file").',
  },
  JSON_PAGE_SIZE: { meaning: '`pageSize` of the json method, 1–200,000.' },
  EXPORT_KINDS: { meaning: 'Comma-separated export kinds; only `SoftwareInventory` is supported.' },
  RETENTION_DAYS: {
    meaning:
      'Whole number 0–36500. Drop snapshot tables older than this, with their catalog, file, reject and rollup rows, as each timer run starts; 0 keeps all. Never deletes an `ingesting` snapshot, the newest complete one, or a row whose `TableName` or `GeneratedTime` is unreadable (warned, skipped).',
  },
  WORKER_TIME_BUDGET_SECONDS: {
    meaning:
      'Whole number 10–86400. After this long a worker checkpoints and re-queues the rest of its file; keep it below `functionTimeout` (10 min in host.json).',
  },
  INGEST_FILE_CONCURRENCY: { meaning: '**Local runner only**: files ingested at once, 1–64.' },
  INGEST_VISIBILITY_TIMEOUT_SECONDS: {
    meaning:
      '**Local runner only**: how long a received message stays invisible (kept extended while its handler runs); after a crash its file is picked up again once this passes.',
  },
  APPLICATIONINSIGHTS_CONNECTION_STRING: {
    meaning:
      "Where the app's custom events and metrics go ([operations](operations.md#telemetry-custom-events-and-metrics)); the same setting the Functions host uses for its logs. Unset: no custom telemetry.",
    defaultNote: '— (the Bicep sets it)',
  },
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: {
    meaning:
      '`Authorization=AAD` (system-assigned identity) or `ClientId=<guid>;Authorization=AAD` (user-assigned): send telemetry with an Entra token, for a resource with local auth off. Unset: instrumentation-key ingestion.',
    defaultNote: '— (the Bicep sets it)',
  },
};

function defaultOf(name: SettingName): string {
  const defaults: Record<string, string | number> = DEFAULTS;
  if (Object.prototype.hasOwnProperty.call(defaults, name)) return '`' + String(defaults[name]) + '`';
  const note = SETTING_DESCRIPTIONS[name]?.defaultNote;
  if (note === undefined) throw new Error(`settingsDoc: ${name} has neither a DEFAULTS entry nor a defaultNote`);
  return note;
}

/** Settings in SETTING_NAMES that have no description (the test fails on any). */
export function undescribedSettings(): string[] {
  const described: Record<string, SettingDescription | undefined> = SETTING_DESCRIPTIONS;
  return SETTING_NAMES.filter((n) => !described[n]?.meaning);
}

const cell = (text: string): string => text.replace(/\|/g, '\\|');

export function renderSettingsDoc(): string {
  const missing = undescribedSettings();
  if (missing.length > 0) throw new Error(`settingsDoc: no description for ${missing.join(', ')}`);
  const rows = SETTING_NAMES.map((n) => `| \`${n}\` | ${cell(SETTING_DESCRIPTIONS[n].meaning)} | ${cell(defaultOf(n))} |`);
  return [
    '# Settings',
    '',
    '<!-- GENERATED by `npm run docs:settings` (tools/bin/settingsDoc.ts) from shared/core/config.ts. Do not edit by hand. -->',
    '',
    'Settings are app settings in Azure, and environment variables or the `Values` of `local.settings.json`',
    'locally (the environment wins). `local.settings.sample.json` lists them all. `shared/core/config.ts` reads and',
    'validates every setting once; nothing else reads `process.env`. A missing or bad value stops with one',
    'message that names the setting, for example `Setting SAS_VALID_HOURS: expected a whole number from 1 to 6,',
    'got 24`. No settings error echoes a value that may hold a secret.',
    '',
    '| setting | meaning | default |',
    '| --- | --- | --- |',
    ...rows,
    '',
    '## Identity-based storage',
    '',
    'Instead of a connection string, `AzureWebJobsStorage` and `INVENTORY_STORAGE` accept `<SETTING>__accountName`;',
    'the service URIs are then `https://<account>.{table,queue,blob}.core.windows.net`. Or give them as',
    '`<SETTING>__tableServiceUri`, `__queueServiceUri` and `__blobServiceUri` (without an account name, all three',
    'are required). `<SETTING>__clientId` selects a user-assigned managed identity; without it, the app uses',
    'DefaultAzureCredential. The Bicep deployment uses `AzureWebJobsStorage__accountName`, the three',
    '`__…ServiceUri` settings, `__credential=managedidentity` and `__clientId`.',
    '',
    '## Host-resolved settings',
    '',
    'The trigger bindings use `%EXPORT_SCHEDULE%` and `%INGEST_QUEUE%`, which the Functions host resolves',
    "itself. In Azure these two must exist as app settings: the code's defaults do not apply to the bindings.",
    'The Bicep deployment sets both. `npm run ingest` also honours',
    '`AzureFunctionsJobHost__extensions__queues__maxDequeueCount` and `…__visibilityTimeout`, as the host does.',
    '',
  ].join('\n');
}

export const SETTINGS_DOC_PATH = join(ROOT, 'docs', 'settings.md');

if (require.main === module) {
  writeFileSync(SETTINGS_DOC_PATH, renderSettingsDoc());
  process.stdout.write(`wrote ${SETTINGS_DOC_PATH}\n`);
}
