/**
 * Keeps infra/ honest against the code, offline: the Bicep is read as text (no Bicep compiler here),
 * its app settings are compared with shared/core/config.ts, and the settings it would produce are fed to
 * loadConfig, so a renamed setting, a drifted default or a bound the code would reject fails here
 * instead of in Azure.
 */
import { existsSync, readdirSync, readFileSync } from 'fs';
import { join } from 'path';
import { ConfigError, DEFAULTS, SETTING_NAMES, loadConfig } from '../../shared/core/config';
import { TELEMETRY_EVENTS } from '../../shared/core/telemetry';
import { EXPORT_KINDS } from '../../shared/kinds/exportKinds';

const ROOT = join(__dirname, '..', '..');
const BICEP_PATH = join(ROOT, 'infra', 'main.bicep');
const PARAMS_PATH = join(ROOT, 'infra', 'main.parameters.json');
const README_PATH = join(ROOT, 'infra', 'README.md');
const DEPLOY_DOC_PATH = join(ROOT, 'docs', 'deploy.md');
const AZURE_YAML_PATH = join(ROOT, 'azure.yaml');
const LOCAL_SETTINGS_SAMPLE = join(ROOT, 'local.settings.sample.json');

type SettingName = (typeof SETTING_NAMES)[number];

/** SETTING_NAMES entries main.bicep leaves out on purpose, and why. */
const INTENTIONALLY_OMITTED: Partial<Record<SettingName, string>> = {
  AzureWebJobsStorage: 'shared keys are off; the identity-based AzureWebJobsStorage__* form is used instead',
  INVENTORY_STORAGE: 'optional: the tables live in the AzureWebJobsStorage account',
  AZURE_TENANT_ID: 'only for DEFENDER_AUTH=clientSecret; a managed identity knows its tenant',
  AZURE_CLIENT_SECRET: 'not used with a managed identity (and a secret would not belong in app settings)',
  AZURE_AUTHORITY_HOST: 'optional: the SDK default is right outside sovereign clouds',
  INGEST_FILE_CONCURRENCY: 'local runner only: in Azure the host and Flex scale-out decide concurrency',
  INGEST_VISIBILITY_TIMEOUT_SECONDS: 'local runner only: in Azure the host manages message visibility',
};

/** Settings that are not a parameter with the code's default, on purpose. */
const FIXED_IN_BICEP: Partial<Record<SettingName, string>> = {
  // DEFAULTS.DEFENDER_AUTH is 'default' (DefaultAzureCredential); in Azure only the managed identity exists.
  DEFENDER_AUTH: "'managedIdentity'",
  // selects the user-assigned identity for the Defender token
  AZURE_CLIENT_ID: 'identity.properties.clientId',
};

/** The host's own settings the app may carry besides SETTING_NAMES. */
const HOST_SETTING = [
  // what storageTarget() reads, plus the host's credential switch
  /^AzureWebJobsStorage__(accountName|blobServiceUri|queueServiceUri|tableServiceUri|credential|clientId)$/,
];

/** Flex Consumption rejects these (runtime and package are in functionAppConfig); AzureWebJobsStorage needs a key. */
const FORBIDDEN_SETTINGS = [
  'FUNCTIONS_WORKER_RUNTIME',
  'FUNCTIONS_EXTENSION_VERSION',
  'WEBSITE_NODE_DEFAULT_VERSION',
  'WEBSITE_RUN_FROM_PACKAGE',
  'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
  'WEBSITE_CONTENTSHARE',
  'AzureWebJobsStorage',
];

/** Built-in role definition ids the identity gets, by role name. */
const IDENTITY_ROLES: Record<string, string> = {
  'b7e6dc6d-f1e8-4753-8033-0f276bb0955b': 'Storage Blob Data Owner',
  '974c5e8b-45b9-4653-ba55-5f855dd0fb88': 'Storage Queue Data Contributor',
  '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3': 'Storage Table Data Contributor',
  '3913510d-42f4-4e42-8a64-420c390055eb': 'Monitoring Metrics Publisher',
};
/** The one role analysts (analystPrincipalIds) get: read the tables, nothing else. */
const ANALYST_ROLES: Record<string, string> = {
  '76199698-9eea-4c19-bc75-cec21354c6b6': 'Storage Table Data Reader',
};
/** Every built-in role definition id main.bicep names, by role name. */
const EXPECTED_ROLES: Record<string, string> = { ...IDENTITY_ROLES, ...ANALYST_ROLES };
// Storage Queue Data Message Processor: covered by Queue Data Contributor, so it must not be assigned too.
const QUEUE_MESSAGE_PROCESSOR = '8a0f0c08-91a1-4084-bc3d-661d67233fed';

// ------------------------------------------------------------------------------------------------
// A small, string-aware reader for the Bicep we write (not a general Bicep parser).
// ------------------------------------------------------------------------------------------------

/** Index just past the string literal starting at src[i] === "'" (handles escapes and ${...}). */
function skipString(src: string, i: number): number {
  if (src.startsWith("'''", i)) {
    const end = src.indexOf("'''", i + 3);
    if (end < 0) throw new Error(`unterminated multi-line string at ${i}`);
    return end + 3;
  }
  let j = i + 1;
  while (j < src.length) {
    const c = src[j];
    if (c === '\\') j += 2;
    else if (c === "'") return j + 1;
    else if (c === '$' && src[j + 1] === '{') j = skipBraces(src, j + 1) + 1;
    else j++;
  }
  throw new Error(`unterminated string at ${i}`);
}

/** Index of the bracket closing the one at src[i] ('{' or '['), skipping strings and comments. */
function skipBraces(src: string, i: number): number {
  const open = src[i];
  const close = open === '{' ? '}' : ']';
  let depth = 0;
  let j = i;
  while (j < src.length) {
    const c = src[j];
    if (c === "'") {
      j = skipString(src, j);
      continue;
    }
    if (c === '/' && src[j + 1] === '/') {
      const nl = src.indexOf('\n', j);
      j = nl < 0 ? src.length : nl;
      continue;
    }
    if (c === '/' && src[j + 1] === '*') {
      j = src.indexOf('*/', j) + 2;
      continue;
    }
    if (c === open) depth++;
    else if (c === close && --depth === 0) return j;
    j++;
  }
  throw new Error(`unbalanced ${open} at ${i}`);
}

/** The source without comments (strings are left alone, so 'https://...' survives). */
function stripComments(src: string): string {
  let out = '';
  let j = 0;
  while (j < src.length) {
    const c = src[j];
    if (c === "'") {
      const end = skipString(src, j);
      out += src.slice(j, end);
      j = end;
    } else if (c === '/' && src[j + 1] === '/') {
      const nl = src.indexOf('\n', j);
      j = nl < 0 ? src.length : nl;
    } else if (c === '/' && src[j + 1] === '*') {
      j = src.indexOf('*/', j) + 2;
    } else {
      out += c;
      j++;
    }
  }
  return out;
}

type Literal = string | number | boolean;
interface Param {
  name: string;
  type: string;
  /** literal default, or undefined when the default is an expression or absent */
  default?: Literal;
  defaultExpr?: string;
  minValue?: number;
  maxValue?: number;
  minLength?: number;
  maxLength?: number;
  allowed?: Literal[];
}

function parseLiteral(text: string): Literal | undefined {
  const t = text.trim();
  if (/^'([^'\\$]|\\.|\$(?!\{))*'$/.test(t)) return t.slice(1, -1).replace(/\\(.)/g, '$1');
  if (/^-?\d+$/.test(t)) return Number(t);
  if (t === 'true' || t === 'false') return t === 'true';
  return undefined;
}

function parseParams(code: string): Map<string, Param> {
  const params = new Map<string, Param>();
  let decorators: string[] = [];
  const lines = code.split('\n');
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k].trim();
    if (line.startsWith('@')) {
      // decorators may span lines: @allowed([ ... ])
      let text = line;
      while ((text.match(/\(/g) ?? []).length > (text.match(/\)/g) ?? []).length) text += '\n' + lines[++k].trim();
      decorators.push(text);
      continue;
    }
    const m = /^param\s+(\w+)\s+(\w+)(?:\s*=\s*(.+))?$/.exec(line);
    if (m) {
      const p: Param = { name: m[1], type: m[2] };
      if (m[3] !== undefined) {
        p.default = parseLiteral(m[3]);
        if (p.default === undefined) p.defaultExpr = m[3].trim();
      }
      for (const d of decorators) {
        const num = /^@(minValue|maxValue|minLength|maxLength)\((-?\d+)\)$/.exec(d);
        if (num) p[num[1] as 'minValue' | 'maxValue' | 'minLength' | 'maxLength'] = Number(num[2]);
        if (d.startsWith('@allowed(')) {
          p.allowed = d
            .replace(/^@allowed\(\s*\[/, '')
            .replace(/\]\s*\)$/, '')
            .split(/[\n,]/)
            .map((s) => s.trim())
            .filter(Boolean)
            .map((s) => {
              const v = parseLiteral(s);
              if (v === undefined) throw new Error(`@allowed item ${s} of ${p.name} is not a literal`);
              return v;
            });
        }
      }
      params.set(p.name, p);
    }
    if (line !== '' && !line.startsWith('//')) decorators = [];
  }
  return params;
}

/** The body (between the braces) of the resource declared with this type whose body matches `pick`. */
function resourceBodies(code: string, typePrefix: string): string[] {
  const bodies: string[] = [];
  const re = new RegExp(`^resource\\s+\\w+\\s+'${typePrefix.replace(/[/.]/g, '\\$&')}@[^']+'\\s*=\\s*`, 'gm');
  let m: RegExpExecArray | null;
  while ((m = re.exec(code))) {
    let start = m.index + m[0].length;
    if (code[start] === '[')
      start = code.indexOf('{', start); // a loop: [for x in y: { ... }]
    else if (code.startsWith('if', start)) start = code.indexOf('{', start);
    bodies.push(code.slice(start + 1, skipBraces(code, start)));
  }
  return bodies;
}

function resourceBody(code: string, type: string, pick: (body: string) => boolean = () => true): string {
  const hits = resourceBodies(code, type).filter(pick);
  if (hits.length !== 1) throw new Error(`expected one ${type} resource in main.bicep, found ${hits.length}`);
  return hits[0];
}

/** The object literal that follows `key:` at the top of `body`. */
function objectProperty(body: string, key: string): string {
  const m = new RegExp(`(^|\\n)\\s*${key}\\s*:\\s*\\{`).exec(body);
  if (!m) throw new Error(`no ${key}: { ... } found`);
  const start = m.index + m[0].length - 1;
  return body.slice(start + 1, skipBraces(body, start));
}

/** `key: value` lines of a flat object literal (comments removed). */
function flatEntries(objectBody: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const raw of stripComments(objectBody).split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.+)$/.exec(line);
    if (!m) throw new Error(`cannot read app setting line: ${line}`);
    if (/^[{[]/.test(m[2])) throw new Error(`app setting ${m[1]} is not a flat value`);
    if (entries.has(m[1])) throw new Error(`app setting ${m[1]} appears twice`);
    entries.set(m[1], m[2].trim());
  }
  return entries;
}

/** The parameter an app setting value is bound to: `name` or `string(name)`. */
function boundParam(value: string, params: Map<string, Param>): Param | undefined {
  const m = /^(?:string\((\w+)\)|(\w+))$/.exec(value);
  const name = m?.[1] ?? m?.[2];
  return name !== undefined ? params.get(name) : undefined;
}

// Stand-ins for the values only Azure knows, to evaluate the settings the template would produce.
const PLACEHOLDER_CLIENT_ID = '00000000-0000-4000-8000-000000000001';
const KNOWN_EXPRESSIONS: Record<string, string> = {
  'storage.name': 'stexample',
  'identity.properties.clientId': PLACEHOLDER_CLIENT_ID,
  'environment().suffixes.storage': 'core.windows.net',
  'appInsights.properties.ConnectionString':
    'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://example.in.applicationinsights.azure.com/',
};

function evaluate(value: string, params: Map<string, Param>): string {
  const lit = parseLiteral(value);
  if (lit !== undefined) return String(lit);
  const p = boundParam(value, params);
  if (p) {
    if (p.default === undefined) throw new Error(`parameter ${p.name} has no literal default`);
    return String(p.default);
  }
  if (value in KNOWN_EXPRESSIONS) return KNOWN_EXPRESSIONS[value];
  const interp = /^'(.*)'$/.exec(value);
  if (interp) {
    return interp[1].replace(/\$\{([^}]*)\}/g, (_, expr: string) => {
      const e = expr.trim();
      if (e in KNOWN_EXPRESSIONS) return KNOWN_EXPRESSIONS[e];
      throw new Error(`test does not know how to evaluate \${${e}} (add it to KNOWN_EXPRESSIONS)`);
    });
  }
  throw new Error(`test does not know how to evaluate ${value} (add it to KNOWN_EXPRESSIONS)`);
}

function configErrorSetting(env: Record<string, string>): string | undefined {
  try {
    loadConfig(env);
    return undefined;
  } catch (e) {
    if (e instanceof ConfigError) return e.setting;
    throw e;
  }
}

// ------------------------------------------------------------------------------------------------

const bicep = readFileSync(BICEP_PATH, 'utf8');
const code = stripComments(bicep);
const params = parseParams(bicep);
const appSettings = flatEntries(
  objectProperty(
    resourceBody(bicep, 'Microsoft.Web/sites/config', (b) => /name:\s*'appsettings'/.test(b)),
    'properties',
  ),
);
const settingNames: readonly string[] = SETTING_NAMES;

/** The environment the deployed app would see, with placeholders for Azure-assigned values. */
function deployedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of appSettings) env[k] = evaluate(v, params);
  return env;
}

describe('infra/main.bicep app settings', () => {
  test('every app setting is one the code or the Functions host knows', () => {
    const unknown = [...appSettings.keys()].filter((k) => !settingNames.includes(k) && !HOST_SETTING.some((re) => re.test(k)));
    expect(unknown).toEqual([]);
  });

  test('no setting Flex Consumption rejects, and no key-based storage connection', () => {
    expect(FORBIDDEN_SETTINGS.filter((k) => appSettings.has(k))).toEqual([]);
    expect(code).not.toMatch(/AccountKey=|listKeys\(/);
  });

  test('every SETTING_NAMES entry is set, or its omission is listed with a reason', () => {
    const missing = settingNames.filter((n) => !appSettings.has(n) && !(n in INTENTIONALLY_OMITTED));
    expect(missing).toEqual([]);
    // the omission list stays true: nothing listed there is actually set, and it names only real settings
    for (const n of Object.keys(INTENTIONALLY_OMITTED)) {
      expect(settingNames).toContain(n);
      expect(appSettings.has(n)).toBe(false);
    }
  });

  test('host storage is identity-based with the user-assigned identity', () => {
    expect(appSettings.get('AzureWebJobsStorage__accountName')).toBe('storage.name');
    expect(appSettings.get('AzureWebJobsStorage__credential')).toBe("'managedidentity'");
    expect(appSettings.get('AzureWebJobsStorage__clientId')).toBe('identity.properties.clientId');
    expect(appSettings.get('APPLICATIONINSIGHTS_CONNECTION_STRING')).toBe('appInsights.properties.ConnectionString');
    expect(appSettings.get('APPLICATIONINSIGHTS_AUTHENTICATION_STRING')).toBe("'ClientId=${identity.properties.clientId};Authorization=AAD'");
  });

  test('the timer runs hourly and SNAPSHOT_INTERVAL_HOURS (0-8760, default 24) decides when a snapshot starts; the no-snapshot alert waits longer than that', () => {
    expect(appSettings.get('EXPORT_SCHEDULE')).toBe('exportSchedule');
    expect(params.get('exportSchedule')!.default).toBe('0 17 * * * *');
    expect(appSettings.get('SNAPSHOT_INTERVAL_HOURS')).toBe('string(snapshotIntervalHours)');
    const p = params.get('snapshotIntervalHours')!;
    expect([p.type, p.default, p.minValue, p.maxValue]).toEqual(['int', 24, 0, 8760]);
    expect(params.get('alertNoSnapshotHours')!.default as number).toBeGreaterThan(p.default as number);
  });

  test('settings fixed in the template (not parameters) have the intended values', () => {
    for (const [name, value] of Object.entries(FIXED_IN_BICEP)) expect([name, appSettings.get(name)]).toEqual([name, value]);
  });

  test('every other setting with a code default is a parameter whose default equals shared/core/config.ts DEFAULTS', () => {
    const checked: string[] = [];
    for (const [name, def] of Object.entries(DEFAULTS)) {
      const value = appSettings.get(name);
      if (value === undefined || name in FIXED_IN_BICEP) continue;
      const p = boundParam(value, params);
      if (!p) throw new Error(`${name} is neither a parameter nor listed in FIXED_IN_BICEP: ${value}`);
      if (typeof def === 'number') {
        expect([name, p.type, value]).toEqual([name, 'int', `string(${p.name})`]);
      } else {
        expect([name, p.type, value]).toEqual([name, 'string', p.name]);
      }
      expect([name, p.default]).toEqual([name, def]);
      checked.push(name);
    }
    // all DEFAULTS that reach Azure were compared
    expect(checked.sort()).toEqual(
      Object.keys(DEFAULTS)
        .filter((n) => !(n in INTENTIONALLY_OMITTED) && !(n in FIXED_IN_BICEP))
        .sort(),
    );
  });

  test('parameter bounds are the ones loadConfig enforces', () => {
    const base = deployedEnv();
    let bounded = 0;
    for (const [name, value] of appSettings) {
      const p = boundParam(value, params);
      if (!p) continue;
      if (p.type === 'int') {
        expect([name, p.minValue !== undefined && p.maxValue !== undefined]).toEqual([name, true]);
        for (const ok of [p.minValue!, p.maxValue!]) expect([name, ok, configErrorSetting({ ...base, [name]: String(ok) })]).toEqual([name, ok, undefined]);
        for (const bad of [p.minValue! - 1, p.maxValue! + 1])
          expect([name, bad, configErrorSetting({ ...base, [name]: String(bad) })]).toEqual([name, bad, name]);
        bounded++;
      }
      for (const allowed of p.allowed ?? []) {
        expect([name, allowed, configErrorSetting({ ...base, [name]: String(allowed) })]).toEqual([name, allowed, undefined]);
      }
    }
    // every numeric setting that reaches Azure is an int parameter with both bounds
    expect(bounded).toBe(Object.entries(DEFAULTS).filter(([n, d]) => typeof d === 'number' && appSettings.has(n)).length);
    // INGEST_QUEUE length bounds: the code leaves room for the host's "-poison" suffix
    const q = boundParam(appSettings.get('INGEST_QUEUE')!, params)!;
    expect([q.minLength, q.maxLength]).toEqual([3, 56]);
    expect(configErrorSetting({ ...base, INGEST_QUEUE: 'q'.repeat(56) })).toBeUndefined();
    expect(configErrorSetting({ ...base, INGEST_QUEUE: 'q'.repeat(57) })).toBe('INGEST_QUEUE');
    expect(configErrorSetting({ ...base, INGEST_QUEUE: 'q'.repeat(3) })).toBeUndefined();
    expect(configErrorSetting({ ...base, INGEST_QUEUE: 'q'.repeat(2) })).toBe('INGEST_QUEUE');
  });

  test('the settings the template produces pass loadConfig', () => {
    const config = loadConfig(deployedEnv());
    expect(config.defenderAuth).toBe('managedIdentity');
    expect(config.clientId).toBe(PLACEHOLDER_CLIENT_ID);
    expect(config.jobsStorage).toEqual({
      kind: 'identity',
      setting: 'AzureWebJobsStorage',
      tableServiceUri: 'https://stexample.table.core.windows.net',
      queueServiceUri: 'https://stexample.queue.core.windows.net',
      blobServiceUri: 'https://stexample.blob.core.windows.net',
      clientId: PLACEHOLDER_CLIENT_ID,
    });
    expect(config.inventoryStorage).toBe(config.jobsStorage);
    expect(config.ingestQueue).toBe(DEFAULTS.INGEST_QUEUE);
  });
});

describe('infra/main.bicep resources', () => {
  test('role assignments use exactly the expected built-in roles, each commented with its name', () => {
    const guids = [...bicep.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi)].map((m) => m[0].toLowerCase());
    expect([...new Set(guids)].sort()).toEqual(Object.keys(EXPECTED_ROLES).sort());
    expect(guids).not.toContain(QUEUE_MESSAGE_PROCESSOR);
    for (const line of bicep.split('\n')) {
      const g = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i.exec(line)?.[0].toLowerCase();
      if (g) expect([g, line.includes(`// ${EXPECTED_ROLES[g]}`)]).toEqual([g, true]);
    }
  });

  test('role assignments go to the identity, scoped to the storage account and Application Insights', () => {
    const all = resourceBodies(code, 'Microsoft.Authorization/roleAssignments');
    expect(all).toHaveLength(3); // the identity's storage loop, its Application Insights one, the analysts' loop
    const assignments = all.filter((a) => /principalId:\s*identity\.properties\.principalId/.test(a));
    expect(assignments).toHaveLength(2);
    for (const a of assignments) {
      expect(a).toMatch(/principalId:\s*identity\.properties\.principalId/);
      expect(a).toMatch(/principalType:\s*'ServicePrincipal'/);
      expect(a).toMatch(/roleDefinitionId:\s*subscriptionResourceId\('Microsoft\.Authorization\/roleDefinitions',/);
    }
    expect(assignments.filter((a) => /scope:\s*storage\b/.test(a))).toHaveLength(1);
    expect(assignments.filter((a) => /scope:\s*appInsights\b/.test(a) && /monitoringMetricsPublisherRoleId/.test(a))).toHaveLength(1);
    expect(code).toMatch(/for role in storageRoles:/);
  });

  test('storage account: no shared keys, https only, TLS 1.2, no public blob access', () => {
    const props = objectProperty(resourceBody(code, 'Microsoft.Storage/storageAccounts'), 'properties');
    expect(props).toMatch(/\ballowSharedKeyAccess:\s*false\b/);
    expect(props).toMatch(/\bsupportsHttpsTrafficOnly:\s*true\b/);
    expect(props).toMatch(/\bminimumTlsVersion:\s*'TLS1_2'/);
    expect(props).toMatch(/\ballowBlobPublicAccess:\s*false\b/);
  });

  test('the ingest queue and its poison queue exist with the code default name', () => {
    expect(params.get('ingestQueue')?.default).toBe(DEFAULTS.INGEST_QUEUE);
    expect(appSettings.get('INGEST_QUEUE')).toBe('ingestQueue');
    expect(code).toMatch(/var poisonQueue = '\$\{ingestQueue\}-poison'/);
    expect(resourceBodies(code, 'Microsoft.Storage/storageAccounts/queueServices/queues')).toHaveLength(1);
    expect(code).toMatch(/var queueNames = \[\s*ingestQueue\s+poisonQueue\s*\]/);
    expect(code).toMatch(/queues@[^']+' = \[\s*for queueName in queueNames:/);
  });

  test('Flex Consumption: FC1 Linux plan, node runtime, identity-based deployment storage, 2048 MB', () => {
    const plan = resourceBody(code, 'Microsoft.Web/serverfarms');
    expect(plan).toMatch(/name:\s*'FC1'/);
    expect(plan).toMatch(/tier:\s*'FlexConsumption'/);
    expect(plan).toMatch(/reserved:\s*true/);
    const site = resourceBody(code, 'Microsoft.Web/sites');
    expect(site).toMatch(/kind:\s*'functionapp,linux'/);
    expect(site).toMatch(/type:\s*'UserAssigned'/);
    const fac = objectProperty(site, 'functionAppConfig');
    expect(fac).toMatch(/type:\s*'blobContainer'/);
    expect(fac).toMatch(/type:\s*'UserAssignedIdentity'/);
    expect(fac).toMatch(/userAssignedIdentityResourceId:\s*identity\.id/);
    expect(fac).toMatch(/instanceMemoryMB:\s*instanceMemoryMB/);
    expect(fac).toMatch(/maximumInstanceCount:\s*maximumInstanceCount/);
    expect(fac).toMatch(/name:\s*'node'/);
    expect(params.get('instanceMemoryMB')?.default).toBe(2048);
    // Node 20 is out of support (2026-04-30): 22 is the default and the only choice
    expect(params.get('nodeVersion')).toMatchObject({ default: '22', allowed: ['22'] });
    expect(params.get('maximumInstanceCount')?.type).toBe('int');
    // Application Insights takes telemetry with the identity only
    expect(objectProperty(resourceBody(code, 'Microsoft.Insights/components'), 'properties')).toMatch(/DisableLocalAuth:\s*true/);
  });

  test('outputs: function app name, storage account name, identity client id', () => {
    expect(code).toMatch(/^output functionAppName string = /m);
    expect(code).toMatch(/^output storageAccountName string = /m);
    expect(code).toMatch(/^output identityClientId string = identity\.properties\.clientId$/m);
  });
});

describe('infra/main.bicep alert rules', () => {
  const rules = resourceBodies(code, 'Microsoft.Insights/scheduledQueryRules');

  test('two log alert rules on Application Insights, deployed unless deployAlerts is false', () => {
    expect(rules).toHaveLength(2);
    expect(code.match(/^resource \w+ 'Microsoft\.Insights\/scheduledQueryRules@[^']+' = if \(deployAlerts\) \{/gm)).toHaveLength(2);
    for (const r of rules) {
      expect(r).toMatch(/kind:\s*'LogAlert'/);
      expect(r).toMatch(/scopes:\s*\[\s*appInsights\.id\s*\]/);
      expect(r).toMatch(/actions:\s*alertActions\b/);
      expect(r).toMatch(/timeAggregation:\s*'Count'/);
    }
    expect(params.get('deployAlerts')).toMatchObject({ type: 'bool', default: true });
    expect(params.get('alertEmail')).toMatchObject({ type: 'string', default: '' });
    // the e-mail action group exists only with an address
    expect(code).toMatch(/resource alertActionGroup 'Microsoft\.Insights\/actionGroups@[^']+' = if \(deployAlerts && !empty\(alertEmail\)\)/);
  });

  test('their queries name only events the code sends, with the dimensions it sets', () => {
    const queries = rules.map((r) => /query:\s*'((?:[^'\\]|\\.)*)'/.exec(r)?.[1] ?? '');
    const named = queries.flatMap((q) => [...q.matchAll(/name == "(\w+)"/g)].map((m) => m[1]));
    expect(named.length).toBeGreaterThanOrEqual(3);
    const known: readonly string[] = TELEMETRY_EVENTS;
    expect(named.filter((n) => !known.includes(n))).toEqual([]);
    for (const q of queries) expect(q).toMatch(/^customEvents \|/);
    // the failure rule's action == "error" is what the timer reports when a run throws
    expect(queries.some((q) => q.includes('tostring(customDimensions.action) == "error"'))).toBe(true);
    expect(readFileSync(join(ROOT, 'shared', 'timer', 'exportCollector.ts'), 'utf8')).toMatch(/'InventoryExportChecked', \{[^}]*action: 'error'/);
  });
});

describe('infra/main.parameters.json and README', () => {
  // azd substitutes ${NAME} / ${NAME=default} from the azd environment before it deploys
  const AZD_PLACEHOLDER = /^\$\{([A-Z][A-Z0-9_]*)(?:=([^}]*))?\}$/;

  test('names only parameters main.bicep declares, with values the code accepts', () => {
    const file = JSON.parse(readFileSync(PARAMS_PATH, 'utf8')) as { parameters: Record<string, { value: unknown }> };
    const env = deployedEnv();
    for (const [name, entry] of Object.entries(file.parameters)) {
      const p = params.get(name);
      let value = entry.value;
      const azd = typeof value === 'string' ? AZD_PLACEHOLDER.exec(value) : null;
      if (azd) {
        // azd's own values (environment name, region) have no default, and azd leaves out a parameter whose
        // variable is unset (the analysts: a JSON array when set); the others default to the Bicep one
        if (azd[2] === undefined) {
          const unsetOk: Record<string, string> = {
            environmentName: 'AZURE_ENV_NAME',
            location: 'AZURE_LOCATION',
            analystPrincipalIds: 'ANALYST_PRINCIPAL_IDS',
          };
          expect([name, azd[1]]).toEqual([name, unsetOk[name]]);
          continue;
        }
        value = p?.type === 'bool' ? azd[2] === 'true' : p?.type === 'int' ? Number(azd[2]) : azd[2];
        if (p?.default !== undefined) expect([name, value]).toEqual([name, p.default]);
      }
      expect([name, p !== undefined]).toEqual([name, true]);
      expect([name, typeof value]).toEqual([name, ({ int: 'number', bool: 'boolean' } as Record<string, string>)[p!.type] ?? p!.type]);
      // a literal here would pin the value against later changes of the Bicep default (e.g. the schedule)
      expect([name, azd !== null]).toEqual([name, true]);
      if (p!.allowed) expect(p!.allowed).toContain(value);
      if (typeof value === 'number') {
        if (p!.minValue !== undefined) expect(value).toBeGreaterThanOrEqual(p!.minValue);
        if (p!.maxValue !== undefined) expect(value).toBeLessThanOrEqual(p!.maxValue);
      }
      const setting = [...appSettings].find(([, v]) => boundParam(v, params)?.name === name)?.[0];
      if (setting) env[setting] = String(value);
    }
    expect(() => loadConfig(env)).not.toThrow();
  });

  test('docs/deploy.md tells the admin to grant Software.Read.All on WindowsDefenderATP, and gives both deployment paths', () => {
    const doc = readFileSync(DEPLOY_DOC_PATH, 'utf8');
    expect(doc).toContain('Software.Read.All');
    expect(doc).toContain('fc780465-2017-40d4-a0c5-307022471b92');
    for (const cmd of [
      'azd auth login',
      'azd up',
      'azd deploy',
      'azd down',
      'npm run package',
      'az bicep build',
      'az deployment group what-if',
      'az deployment group create',
    ]) {
      expect([cmd, doc.includes(cmd)]).toEqual([cmd, true]);
    }
    // Core Tools cannot tell the worker runtime without local.settings.json (git-ignored)
    expect(doc).toMatch(/func azure functionapp publish \S+ --typescript/);
    expect(readFileSync(README_PATH, 'utf8')).toContain('docs/deploy.md');
  });
});

describe('infra/main.bicep security posture', () => {
  test('maximumInstanceCount defaults to what one storage account absorbs, by the scale math of docs/performance.md', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'performance.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Scale math for Azure'));
    const perAccount = Number(/\*\*([\d,]+) entities\/s per storage account\.\*\*/.exec(section)?.[1].replace(/,/g, ''));
    const perInstance = [...section.matchAll(/T = ([\d,]+) rows\/s/g)].map((m) => Number(m[1].replace(/,/g, '')));
    expect(perAccount).toBe(20000);
    expect(perInstance.length).toBeGreaterThanOrEqual(2);
    // the most instances that stay within the account at the slower per-instance estimate
    const p = params.get('maximumInstanceCount')!;
    expect(p.default).toBe(Math.floor(perAccount / Math.min(...perInstance)));
    expect(p.minValue).toBe(1);
    // the reasoning sits next to it
    expect(bicep).toMatch(
      /\/\/ Why 4 \(docs\/performance.md "Scale math for Azure"\)[^\n]*\n(\/\/[^\n]*\n)+@description[^\n]*\n@minValue\(1\)\n@maxValue\(1000\)\nparam maximumInstanceCount int = 4/,
    );
  });

  test('every role assignment has a one-line reason for its scope, and analysts only read tables', () => {
    const raw = resourceBodies(bicep, 'Microsoft.Authorization/roleAssignments');
    expect(raw).toHaveLength(3);
    for (const a of raw) expect(a).toMatch(/\n\s*\/\/ [^\n]{20,}\n\s*scope:\s*(storage|appInsights)\n/);
    const analysts = raw.find((a) => /principalId:\s*principalId\b/.test(a))!;
    expect(analysts).toMatch(/scope:\s*storage\n/);
    expect(analysts).toMatch(/subscriptionResourceId\('Microsoft\.Authorization\/roleDefinitions', storageTableDataReaderRoleId\)/);
    expect(code).toMatch(/= \[\s*for principalId in analystPrincipalIds:/);
    expect(params.get('analystPrincipalIds')?.type).toBe('array');
    expect(bicep).toMatch(/^param analystPrincipalIds array = \[\]$/m);
  });

  test('alert rules skip query validation (a new workspace has no customEvents yet)', () => {
    const rules = resourceBodies(code, 'Microsoft.Insights/scheduledQueryRules');
    expect(rules).toHaveLength(2);
    for (const r of rules) expect(r).toMatch(/\bskipQueryValidation:\s*true\b/);
  });

  test('Log Analytics local auth off and SCM/FTP basic publishing off by default', () => {
    expect(params.get('logAnalyticsDisableLocalAuth')).toMatchObject({ type: 'bool', default: true });
    expect(objectProperty(resourceBody(code, 'Microsoft.OperationalInsights/workspaces'), 'features')).toMatch(
      /disableLocalAuth:\s*logAnalyticsDisableLocalAuth\b/,
    );
    expect(params.get('allowBasicPublishingCredentials')).toMatchObject({ type: 'bool', default: false });
    const policies = resourceBody(code, 'Microsoft.Web/sites/basicPublishingCredentialsPolicies');
    expect(code).toMatch(/basicPublishingCredentialsPolicies@[^']+' = \[\s*for policy in \[\s*'scm'\s*'ftp'\s*\]:/);
    expect(policies).toMatch(/parent:\s*functionApp\b/);
    expect(policies).toMatch(/allow:\s*allowBasicPublishingCredentials\b/);
  });

  test('vnetEnabled (off by default): Flex subnet, private endpoints and DNS zones for blob, queue and table, storage public access off', () => {
    expect(params.get('vnetEnabled')).toMatchObject({ type: 'bool', default: false });
    const vnet = resourceBody(code, 'Microsoft.Network/virtualNetworks');
    expect(code).toMatch(/resource vnet 'Microsoft\.Network\/virtualNetworks@[^']+' = if \(vnetEnabled\)/);
    expect(vnet).toMatch(/serviceName:\s*'Microsoft\.App\/environments'/);
    expect(code).toMatch(/var privateStorageServices = \[\s*'blob'\s*'queue'\s*'table'\s*\]/);
    for (const type of [
      'Microsoft.Network/privateDnsZones',
      'Microsoft.Network/privateDnsZones/virtualNetworkLinks',
      'Microsoft.Network/privateEndpoints',
      'Microsoft.Network/privateEndpoints/privateDnsZoneGroups',
    ]) {
      const decl = new RegExp(
        `^resource \\w+ '${type.replace(/[/.]/g, '\\$&')}@[^']+' = \\[\\s*for (svc|\\(svc, i\\)) in privateStorageServices: if \\(vnetEnabled\\) \\{`,
        'm',
      );
      expect([type, decl.test(code)]).toEqual([type, true]);
    }
    expect(resourceBody(code, 'Microsoft.Network/privateDnsZones')).toMatch(/name:\s*'privatelink\.\$\{svc\}\.\$\{environment\(\)\.suffixes\.storage\}'/);
    const pe = resourceBody(code, 'Microsoft.Network/privateEndpoints');
    expect(pe).toMatch(/privateLinkServiceId:\s*storage\.id/);
    expect(pe).toMatch(/groupIds:\s*\[\s*svc\s*\]/);
    const storageProps = objectProperty(resourceBody(code, 'Microsoft.Storage/storageAccounts'), 'properties');
    expect(storageProps).toMatch(/publicNetworkAccess:\s*vnetEnabled \? 'Disabled' : 'Enabled'/);
    expect(storageProps).toMatch(/networkAcls:\s*vnetEnabled \? \{\s*bypass:\s*'None'\s*defaultAction:\s*'Deny'/);
    const site = resourceBody(code, 'Microsoft.Web/sites');
    expect(site).toMatch(/virtualNetworkSubnetId:\s*vnetEnabled \? appSubnetId : null/);
    expect(code).toMatch(/var appSubnetId = resourceId\('Microsoft\.Network\/virtualNetworks\/subnets', vnetName, appSubnetName\)/);
  });
});

describe('azd: azure.yaml, tags, region and outputs', () => {
  const yaml = existsSync(AZURE_YAML_PATH) ? readFileSync(AZURE_YAML_PATH, 'utf8') : '';

  test('azure.yaml: one function service in TypeScript, shipped prebuilt by npm run package (no remote build)', () => {
    const services = /\nservices:\n((?:  .*\n|\n)+)/.exec(yaml)?.[1] ?? '';
    const names = [...services.matchAll(/^  (\w[\w-]*):\s*$/gm)].map((m) => m[1]);
    expect(names).toEqual(['app']);
    expect(services).toMatch(/^    host: function$/m);
    expect(services).toMatch(/^    language: ts$/m);
    expect(services).toMatch(/^    remoteBuild: false$/m);
    // azd zips and deploys the tree npm run package staged (the tree of the zip test/integration/package.test.ts boots)
    expect(services).toMatch(/^    dist: \.package\/stage$/m);
    expect(services).toMatch(/^    project: \.$/m);
    expect(services).toMatch(/prepackage:[\s\S]*npm run package/);
    expect(yaml).toMatch(/postprovision:[\s\S]*infra\/hooks\/postprovision\.sh[\s\S]*infra\/hooks\/postprovision\.ps1/);
    for (const f of ['postprovision.sh', 'postprovision.ps1']) expect([f, existsSync(join(ROOT, 'infra', 'hooks', f))]).toEqual([f, true]);
  });

  test('the function app carries the azd-service-name tag azure.yaml names; every resource the azd-env-name tag', () => {
    expect(code).toMatch(/var azdServiceName = 'app'/);
    expect(resourceBody(code, 'Microsoft.Web/sites')).toMatch(/tags:\s*union\(resourceTags, \{ 'azd-service-name': azdServiceName \}\)/);
    expect(code).toMatch(/var resourceTags = union\(tags, empty\(environmentName\) \? \{\} : \{ 'azd-env-name': environmentName \}\)/);
    expect(code).not.toMatch(/\btags:\s*tags\b/);
  });

  test('location is limited to Flex Consumption regions and azd asks for it', () => {
    const loc = params.get('location')!;
    expect(loc.allowed?.length).toBeGreaterThanOrEqual(20);
    for (const r of ['westeurope', 'northeurope', 'eastus', 'eastus2', 'swedencentral', 'uksouth']) expect(loc.allowed).toContain(r);
    expect(loc.allowed).not.toContain('eastus2euap'); // a canary region, not for customers
    expect(bicep).toMatch(/@metadata\(\{\s*azd:\s*\{\s*type:\s*'location'\s*\}\s*\}\)\nparam location string/);
  });

  test('azd-style outputs for the hook and the docs', () => {
    for (const o of [
      'AZURE_LOCATION',
      'AZURE_TENANT_ID',
      'AZURE_FUNCTION_APP_NAME',
      'AZURE_STORAGE_ACCOUNT_NAME',
      'AZURE_IDENTITY_CLIENT_ID',
      'AZURE_IDENTITY_PRINCIPAL_ID',
      'EXPORT_KINDS',
      'SERVICE_APP_NAME',
    ]) {
      expect([o, new RegExp(`^output ${o} string = `, 'm').test(code)]).toEqual([o, true]);
    }
    expect(code).toMatch(/^output AZURE_IDENTITY_PRINCIPAL_ID string = identity\.properties\.principalId$/m);
    expect(code).toMatch(/^output EXPORT_KINDS string = exportKinds$/m);
  });

  test('EXPORT_KINDS: azd passes it through, and the parameter names every registered kind with the permission it needs', () => {
    const parameters = JSON.parse(readFileSync(join(ROOT, 'infra', 'main.parameters.json'), 'utf8')) as { parameters: Record<string, { value: string }> };
    expect(parameters.parameters.exportKinds.value).toBe('${EXPORT_KINDS=SoftwareInventory}');
    expect(params.get('exportKinds')?.default).toBe('SoftwareInventory');
    const description = /@description\('(EXPORT_KINDS:[^']*)'\)\nparam exportKinds string/.exec(code)?.[1] ?? '';
    for (const k of EXPORT_KINDS) {
      expect([k.kind, description.includes(k.kind)]).toEqual([k.kind, true]);
      expect([k.permission, description.includes(k.permission)]).toEqual([k.permission, true]);
    }
  });
});

describe('infra/main.bicep against the host configuration', () => {
  const hostJson = join(ROOT, 'host.json');
  const functionsDir = join(ROOT, 'functions');

  (existsSync(hostJson) ? test : test.skip)('WORKER_TIME_BUDGET_SECONDS default leaves room below host.json functionTimeout', () => {
    const timeout = (JSON.parse(readFileSync(hostJson, 'utf8')) as { functionTimeout?: string }).functionTimeout;
    // Flex Consumption's default function timeout is 30 minutes
    const m = /^(\d+):(\d{2}):(\d{2})$/.exec(timeout ?? '00:30:00');
    expect(m).not.toBeNull();
    const seconds = Number(m![1]) * 3600 + Number(m![2]) * 60 + Number(m![3]);
    expect(Number(params.get('workerTimeBudgetSeconds')?.default)).toBeLessThan(seconds);
  });

  (existsSync(functionsDir) ? test : test.skip)('every %SETTING% a trigger binds to is an app setting, and the poison queue it names exists', () => {
    const sources = readdirSync(functionsDir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(join(functionsDir, f), 'utf8'))
      .join('\n');
    const referenced = [...new Set([...sources.matchAll(/%([A-Za-z_][A-Za-z0-9_]*)%/g)].map((m) => m[1]))];
    expect(referenced.filter((n) => !appSettings.has(n))).toEqual([]);
    if (sources.includes('%INGEST_QUEUE%-poison')) expect(code).toMatch(/var poisonQueue = '\$\{ingestQueue\}-poison'/);
  });
});

// The lead engineer writes local.settings.sample.json; check it only once it exists.
const describeSample = existsSync(LOCAL_SETTINGS_SAMPLE) ? describe : describe.skip;
describeSample('local.settings.sample.json', () => {
  test('lists every SETTING_NAMES entry', () => {
    const text = readFileSync(LOCAL_SETTINGS_SAMPLE, 'utf8');
    JSON.parse(text); // must be valid JSON
    const missing = settingNames.filter((n) => !new RegExp(`"${n}"\\s*:`).test(text));
    expect(missing).toEqual([]);
  });
});
