/**
 * shared/core/config.ts: every setting of docs/settings.md, read from a plain env object (never process.env),
 * with its default, and a wrong value stopping with one ConfigError that names the setting and says
 * what was expected.
 */
import { readFileSync } from 'fs';
import { join } from 'path';
import { ConfigError, DEFAULTS, SETTING_NAMES, loadConfig, storageTarget, type Config } from '../../shared/core/config';
import { DEFENDER_HOSTS } from '../../shared/defender/defenderHosts';

type Env = Record<string, string | undefined>;

const DEV = 'UseDevelopmentStorage=true';
const MINIMAL: Env = { AzureWebJobsStorage: DEV };

function load(extra: Env = {}): Config {
  return loadConfig({ ...MINIMAL, ...extra });
}

/** The ConfigError loadConfig throws for this env (fails the test when it throws nothing or something else). */
function configError(env: Env): ConfigError {
  let thrown: unknown;
  try {
    loadConfig(env);
  } catch (e) {
    thrown = e;
  }
  if (thrown === undefined) throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
  expect(thrown).toBeInstanceOf(ConfigError);
  const err = thrown as ConfigError;
  expect(err.name).toBe('ConfigError');
  // the message starts by naming the setting, so a log line alone is enough to fix it
  expect(err.message.startsWith(`Setting ${err.setting}: `)).toBe(true);
  return err;
}

/** Expect exactly this setting to be refused, with a message matching `says`. */
function expectRefused(extra: Env, setting: string, says: RegExp, env: Env = { ...MINIMAL, ...extra }): ConfigError {
  const err = configError(env);
  expect([err.setting, err.message]).toEqual([setting, expect.stringMatching(says)]);
  return err;
}

describe('defaults', () => {
  test('only AzureWebJobsStorage set: every other setting takes its documented default (docs/settings.md)', () => {
    const c = loadConfig({ AzureWebJobsStorage: DEV });
    expect(c).toEqual({
      defenderApiBaseUrl: DEFAULTS.DEFENDER_API_BASE_URL,
      defenderTokenScope: DEFAULTS.DEFENDER_TOKEN_SCOPE,
      defenderAuth: 'default',
      tenantId: undefined,
      clientId: undefined,
      clientSecret: undefined,
      authorityHost: undefined,
      exportSchedule: '0 17 * * * *',
      snapshotIntervalHours: 24,
      sasValidHours: 6,
      downloadHostAllowlist: ['*.blob.core.windows.net', '*.blob.core.usgovcloudapi.net'],
      jobsStorage: { kind: 'connectionString', setting: 'AzureWebJobsStorage', connectionString: DEV },
      inventoryStorage: { kind: 'connectionString', setting: 'AzureWebJobsStorage', connectionString: DEV },
      ingestQueue: 'inventory-export-files',
      writeConcurrency: DEFAULTS.WRITE_CONCURRENCY,
      exportMethod: 'files',
      jsonPageSize: 50000,
      exportKinds: ['SoftwareInventory'],
      retentionDays: 0,
      workerTimeBudgetSeconds: DEFAULTS.WORKER_TIME_BUDGET_SECONDS,
      ingestFileConcurrency: DEFAULTS.INGEST_FILE_CONCURRENCY,
      ingestVisibilityTimeoutSeconds: 30,
    });
    expect(c.inventoryStorage).toBe(c.jobsStorage);
  });

  test('empty and blank values mean "not set"', () => {
    const blank: Env = {};
    for (const n of SETTING_NAMES) if (n !== 'AzureWebJobsStorage') blank[n] = n.length % 2 ? '' : '   ';
    expect(load(blank)).toEqual(load());
  });

  test('values are trimmed', () => {
    const c = load({ SAS_VALID_HOURS: ' 3 ', EXPORT_METHOD: ' json ', INGEST_QUEUE: ' my-queue ', EXPORT_SCHEDULE: ' 0 0 * * * * ' });
    expect([c.sasValidHours, c.exportMethod, c.ingestQueue, c.exportSchedule]).toEqual([3, 'json', 'my-queue', '0 0 * * * *']);
  });

  test('reads only the env object it is given', () => {
    const saved = process.env.SAS_VALID_HOURS;
    process.env.SAS_VALID_HOURS = 'not a number';
    try {
      expect(load().sasValidHours).toBe(6);
    } finally {
      if (saved === undefined) delete process.env.SAS_VALID_HOURS;
      else process.env.SAS_VALID_HOURS = saved;
    }
  });
});

describe('whole-number settings', () => {
  const ranges: [name: string, key: keyof Config, min: number, max: number][] = [
    ['SAS_VALID_HOURS', 'sasValidHours', 1, 6],
    ['JSON_PAGE_SIZE', 'jsonPageSize', 1, 200000],
    ['WRITE_CONCURRENCY', 'writeConcurrency', 1, 64],
    ['RETENTION_DAYS', 'retentionDays', 0, 36500],
    ['SNAPSHOT_INTERVAL_HOURS', 'snapshotIntervalHours', 0, 8760],
    ['WORKER_TIME_BUDGET_SECONDS', 'workerTimeBudgetSeconds', 10, 86400],
    ['INGEST_FILE_CONCURRENCY', 'ingestFileConcurrency', 1, 64],
    ['INGEST_VISIBILITY_TIMEOUT_SECONDS', 'ingestVisibilityTimeoutSeconds', 5, 604800],
  ];

  test.each(ranges)('%s accepts its bounds', (name, key, min, max) => {
    expect(load({ [name]: String(min) })[key]).toBe(min);
    expect(load({ [name]: String(max) })[key]).toBe(max);
  });

  test.each(ranges)('%s refuses values just outside its bounds, saying the range', (name, _key, min, max) => {
    for (const bad of [min - 1, max + 1]) {
      expectRefused({ [name]: String(bad) }, name, new RegExp(`expected a whole number from ${min} to ${max}, got ${bad}$`));
    }
  });

  test.each(ranges)('%s refuses what is not a whole number', (name, _key, min, max) => {
    for (const bad of ['abc', '1.5', '2e3', '0x10', '1,000', '+3', '3 hours']) {
      expectRefused({ [name]: bad }, name, new RegExp(`expected a whole number from ${min} to ${max}, got "${bad.replace(/[.+]/g, '\\$&')}"`));
    }
  });

  test('the cases docs/settings.md calls out', () => {
    expectRefused({ SAS_VALID_HOURS: '0' }, 'SAS_VALID_HOURS', /from 1 to 6, got 0/);
    expectRefused({ SAS_VALID_HOURS: '7' }, 'SAS_VALID_HOURS', /from 1 to 6, got 7/);
    expectRefused({ JSON_PAGE_SIZE: '0' }, 'JSON_PAGE_SIZE', /from 1 to 200000, got 0/);
    expectRefused({ JSON_PAGE_SIZE: '200001' }, 'JSON_PAGE_SIZE', /from 1 to 200000, got 200001/);
    expectRefused({ WRITE_CONCURRENCY: '0' }, 'WRITE_CONCURRENCY', /from 1 to 64, got 0/);
    expectRefused({ WRITE_CONCURRENCY: 'eight' }, 'WRITE_CONCURRENCY', /whole number.*"eight"/);
    expectRefused({ RETENTION_DAYS: '-1' }, 'RETENTION_DAYS', /from 0 to 36500, got -1/);
    expect(load({ RETENTION_DAYS: '0' }).retentionDays).toBe(0);
    expect(load({ RETENTION_DAYS: '30' }).retentionDays).toBe(30);
    expectRefused({ SNAPSHOT_INTERVAL_HOURS: '8761' }, 'SNAPSHOT_INTERVAL_HOURS', /from 0 to 8760, got 8761/);
    expectRefused({ SNAPSHOT_INTERVAL_HOURS: '1.5' }, 'SNAPSHOT_INTERVAL_HOURS', /whole number from 0 to 8760, got "1\.5"/);
    expect(load({ SNAPSHOT_INTERVAL_HOURS: '0' }).snapshotIntervalHours).toBe(0);
  });
});

describe('enumerations', () => {
  test('DEFENDER_AUTH accepts each mode, case-insensitively, and returns its canonical spelling', () => {
    expect(load({ DEFENDER_AUTH: 'managedIdentity' }).defenderAuth).toBe('managedIdentity');
    expect(load({ DEFENDER_AUTH: 'MANAGEDIDENTITY' }).defenderAuth).toBe('managedIdentity');
    expect(load({ DEFENDER_AUTH: 'Default' }).defenderAuth).toBe('default');
    expect(load({ DEFENDER_AUTH: 'clientsecret', AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', AZURE_CLIENT_SECRET: 's' }).defenderAuth).toBe('clientSecret');
  });

  test('DEFENDER_AUTH refuses anything else, listing the choices', () => {
    expectRefused({ DEFENDER_AUTH: 'password' }, 'DEFENDER_AUTH', /expected one of managedIdentity, clientSecret, default, none, got "password"/);
    expectRefused({ DEFENDER_AUTH: 'managed identity' }, 'DEFENDER_AUTH', /expected one of/);
  });

  test('EXPORT_METHOD accepts files and json, case-insensitively', () => {
    expect(load({ EXPORT_METHOD: 'json' }).exportMethod).toBe('json');
    expect(load({ EXPORT_METHOD: 'JSON' }).exportMethod).toBe('json');
    expect(load({ EXPORT_METHOD: 'Files' }).exportMethod).toBe('files');
  });

  test('EXPORT_METHOD refuses anything else, listing the choices', () => {
    expectRefused({ EXPORT_METHOD: 'csv' }, 'EXPORT_METHOD', /expected one of files, json, got "csv"/);
  });

  test('EXPORT_KINDS: comma-separated, case-insensitive, unknown kinds refused', () => {
    expect(load({ EXPORT_KINDS: 'softwareinventory' }).exportKinds).toEqual(['SoftwareInventory']);
    expect(load({ EXPORT_KINDS: ' SoftwareInventory , ' }).exportKinds).toEqual(['SoftwareInventory']);
    expect(load({ EXPORT_KINDS: 'SoftwareInventory,noncpesoftwareinventory,SoftwareVulnerabilities,SecureConfigurations' }).exportKinds).toEqual([
      'SoftwareInventory',
      'NonCpeSoftwareInventory',
      'SoftwareVulnerabilities',
      'SecureConfigurations',
    ]);
    expectRefused(
      { EXPORT_KINDS: 'SoftwareInventory,BrowserExtensions' },
      'EXPORT_KINDS',
      /"BrowserExtensions" is not supported \(supported: SoftwareInventory, NonCpeSoftwareInventory, SoftwareVulnerabilities, SecureConfigurations\)/,
    );
    expectRefused({ EXPORT_KINDS: 'SoftwareInventory,softwareinventory' }, 'EXPORT_KINDS', /lists SoftwareInventory twice/);
    expectRefused({ EXPORT_KINDS: ',' }, 'EXPORT_KINDS', /lists no export kind/);
  });
});

describe('EXPORT_SCHEDULE', () => {
  test('defaults to hourly at minute 17: SNAPSHOT_INTERVAL_HOURS, not the schedule, decides when a new snapshot starts', () => {
    expect(load().exportSchedule).toBe('0 17 * * * *');
    expect(DEFAULTS.EXPORT_SCHEDULE).toBe('0 17 * * * *');
  });

  test('accepts 6-field NCRONTAB expressions', () => {
    for (const ok of ['0 30 5 * * *', '0 */5 * * * *', '0 0 1,13 * * 1-5', '0 0 6 * * Mon-Fri', '0 0 0 1 Jan,Jul *']) {
      expect(load({ EXPORT_SCHEDULE: ok }).exportSchedule).toBe(ok);
    }
  });

  test('refuses a 5-field (Unix cron) expression, saying 6 fields are expected', () => {
    expectRefused({ EXPORT_SCHEDULE: '30 5 * * *' }, 'EXPORT_SCHEDULE', /expected an NCRONTAB expression with 6 fields .*got 5 fields in "30 5 \* \* \*"/);
  });

  test('refuses garbage', () => {
    expectRefused({ EXPORT_SCHEDULE: 'daily' }, 'EXPORT_SCHEDULE', /with 6 fields .*got 1 fields/);
    expectRefused({ EXPORT_SCHEDULE: '0 30 5 * * * *' }, 'EXPORT_SCHEDULE', /with 6 fields .*got 7 fields/);
    expectRefused({ EXPORT_SCHEDULE: 'a b c d e f' }, 'EXPORT_SCHEDULE', /field 1 \("a"\) of "a b c d e f" is not valid NCRONTAB/);
    expectRefused({ EXPORT_SCHEDULE: '0 30 5 ? * *' }, 'EXPORT_SCHEDULE', /field 4 \("\?"\)/);
    expectRefused({ EXPORT_SCHEDULE: '0 30 Mon * * *' }, 'EXPORT_SCHEDULE', /field 3 \("Mon"\)/);
  });
});

describe('DEFENDER_API_BASE_URL and DEFENDER_AUTH', () => {
  test('https URL accepted, trailing slash dropped', () => {
    expect(load({ DEFENDER_API_BASE_URL: 'https://eu.api.security.microsoft.com/' }).defenderApiBaseUrl).toBe('https://eu.api.security.microsoft.com');
    expect(load({ DEFENDER_API_BASE_URL: 'https://api.securitycenter.microsoft.com/api/' }).defenderApiBaseUrl).toBe(
      'https://api.securitycenter.microsoft.com/api',
    );
  });

  test('not a URL refused', () => {
    expectRefused({ DEFENDER_API_BASE_URL: 'api.security.microsoft.com' }, 'DEFENDER_API_BASE_URL', /not a valid absolute URL: "api.security.microsoft.com"/);
  });

  test('http to a non-loopback host refused; other schemes refused', () => {
    expectRefused(
      { DEFENDER_API_BASE_URL: 'http://api.security.microsoft.com' },
      'DEFENDER_API_BASE_URL',
      /must be an https URL \(http is accepted only for loopback hosts\)/,
    );
    expectRefused({ DEFENDER_API_BASE_URL: 'http://10.0.0.5:7071' }, 'DEFENDER_API_BASE_URL', /must be an https URL/);
    expectRefused({ DEFENDER_API_BASE_URL: 'ftp://api.security.microsoft.com' }, 'DEFENDER_API_BASE_URL', /must be an https URL/);
  });

  test('http to a loopback host accepted (local simulator)', () => {
    for (const u of ['http://127.0.0.1:7071', 'http://localhost:7071', 'http://[::1]:7071', 'http://LOCALHOST:7071']) {
      expect(load({ DEFENDER_API_BASE_URL: u }).defenderApiBaseUrl).toBe(new URL(u).toString().replace(/\/$/, ''));
    }
  });

  test('DEFENDER_AUTH=none refused unless the base URL is loopback', () => {
    expectRefused(
      { DEFENDER_AUTH: 'none' },
      'DEFENDER_AUTH',
      /"none" is only accepted when DEFENDER_API_BASE_URL is a loopback address.*api\.security\.microsoft\.com/,
    );
    expectRefused(
      { DEFENDER_AUTH: 'none', DEFENDER_API_BASE_URL: 'https://defender-sim.example.com' },
      'DEFENDER_AUTH',
      /only accepted when DEFENDER_API_BASE_URL is a loopback/,
    );
    expect(load({ DEFENDER_AUTH: 'none', DEFENDER_API_BASE_URL: 'http://127.0.0.1:7071' })).toMatchObject({
      defenderAuth: 'none',
      defenderApiBaseUrl: 'http://127.0.0.1:7071',
    });
  });

  test('clientSecret requires tenant, client and secret, each named', () => {
    const all = { DEFENDER_AUTH: 'clientSecret', AZURE_TENANT_ID: 'tenant', AZURE_CLIENT_ID: 'client', AZURE_CLIENT_SECRET: 'secret' };
    expect(load(all)).toMatchObject({ defenderAuth: 'clientSecret', tenantId: 'tenant', clientId: 'client', clientSecret: 'secret' });
    for (const missing of ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID', 'AZURE_CLIENT_SECRET']) {
      expectRefused({ ...all, [missing]: undefined }, missing, /is required when DEFENDER_AUTH=clientSecret/);
      expectRefused({ ...all, [missing]: '  ' }, missing, /is required when DEFENDER_AUTH=clientSecret/);
    }
  });

  test('the secret never appears in an error message', () => {
    const err = configError({ ...MINIMAL, DEFENDER_AUTH: 'clientSecret', AZURE_CLIENT_SECRET: 's3cr3t-value', AZURE_CLIENT_ID: 'c' });
    expect(err.setting).toBe('AZURE_TENANT_ID');
    expect(err.message).not.toContain('s3cr3t-value');
  });

  test('AZURE_CLIENT_ID alone (user-assigned identity) is carried for managedIdentity', () => {
    expect(load({ DEFENDER_AUTH: 'managedIdentity', AZURE_CLIENT_ID: 'abc' })).toMatchObject({ clientId: 'abc', tenantId: undefined });
  });

  test('DEFENDER_TOKEN_SCOPE must end in /.default', () => {
    expect(load({ DEFENDER_TOKEN_SCOPE: 'https://api.security.microsoft.com/.default' }).defenderTokenScope).toBe(
      'https://api.security.microsoft.com/.default',
    );
    expectRefused(
      { DEFENDER_TOKEN_SCOPE: 'https://api.securitycenter.microsoft.com' },
      'DEFENDER_TOKEN_SCOPE',
      /expected a resource scope ending in \/\.default/,
    );
  });

  test('AZURE_AUTHORITY_HOST must be an https URL', () => {
    expect(load({ AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us' }).authorityHost).toBe('https://login.microsoftonline.us/');
    expectRefused({ AZURE_AUTHORITY_HOST: 'login.microsoftonline.us' }, 'AZURE_AUTHORITY_HOST', /not a valid absolute URL/);
    expectRefused({ AZURE_AUTHORITY_HOST: 'http://login.microsoftonline.us' }, 'AZURE_AUTHORITY_HOST', /must be an https URL/);
  });
});

describe('the Defender token goes only to Defender API hosts, for their audiences', () => {
  const OPT_IN = /DEFENDER_ALLOW_CUSTOM_ENDPOINT=true/;

  test('every host of the table is accepted with each of its audiences', () => {
    expect(DEFENDER_HOSTS.length).toBeGreaterThanOrEqual(15);
    for (const h of DEFENDER_HOSTS) {
      for (const scope of h.audiences) {
        expect(load({ DEFENDER_API_BASE_URL: `https://${h.host}`, DEFENDER_TOKEN_SCOPE: scope })).toMatchObject({
          defenderApiBaseUrl: `https://${h.host}`,
          defenderTokenScope: scope,
        });
      }
    }
    // the ones the design names, regional and government included
    const hosts = DEFENDER_HOSTS.map((h) => h.host);
    for (const h of [
      'api.security.microsoft.com',
      'us.api.security.microsoft.com',
      'eu.api.security.microsoft.com',
      'uk.api.security.microsoft.com',
      'au.api.security.microsoft.com',
      'api.securitycenter.microsoft.com',
      'api-us.securitycenter.microsoft.com',
      'api-eu.securitycenter.microsoft.com',
      'api-uk.securitycenter.microsoft.com',
      'api-gcc.securitycenter.microsoft.us',
      'api-gov.securitycenter.microsoft.us',
    ]) {
      expect(hosts).toContain(h);
    }
    expect(DEFENDER_HOSTS.find((h) => h.host === 'api-gov.securitycenter.microsoft.us')?.authorityHost).toBe('https://login.microsoftonline.us');
  });

  test('any other host is refused, look-alikes included, naming the opt-in', () => {
    for (const url of [
      'https://defender.example.com',
      'https://api.security.microsoft.com.evil.example',
      'https://evilapi.security.microsoft.com',
      'https://api-xx.securitycenter.microsoft.com',
      'https://graph.microsoft.com',
    ]) {
      const err = expectRefused({ DEFENDER_API_BASE_URL: url }, 'DEFENDER_API_BASE_URL', /is not a Defender API host/);
      expect(err.message).toMatch(OPT_IN);
    }
  });

  test('a scope that is not an audience of the host is refused: another API, or another cloud', () => {
    expectRefused(
      { DEFENDER_TOKEN_SCOPE: 'https://graph.microsoft.com/.default' },
      'DEFENDER_TOKEN_SCOPE',
      /"https:\/\/graph\.microsoft\.com\/\.default" is not a token audience of api\.security\.microsoft\.com .*DEFENDER_ALLOW_CUSTOM_ENDPOINT=true/,
    );
    expectRefused(
      { DEFENDER_API_BASE_URL: 'https://api-gov.securitycenter.microsoft.us' },
      'DEFENDER_TOKEN_SCOPE',
      /is not a token audience of api-gov\.securitycenter\.microsoft\.us \(expected https:\/\/api-gov\.securitycenter\.microsoft\.us\/\.default\)/,
    );
    expectRefused(
      { DEFENDER_API_BASE_URL: 'https://eu.api.security.microsoft.com', DEFENDER_TOKEN_SCOPE: 'https://api-gcc.securitycenter.microsoft.us/.default' },
      'DEFENDER_TOKEN_SCOPE',
      /not a token audience/,
    );
  });

  test('DEFENDER_ALLOW_CUSTOM_ENDPOINT=true accepts another host and scope; anything but true/false is refused', () => {
    expect(
      load({
        DEFENDER_API_BASE_URL: 'https://defender-proxy.contoso.example',
        DEFENDER_TOKEN_SCOPE: 'api://contoso-proxy/.default',
        DEFENDER_ALLOW_CUSTOM_ENDPOINT: 'true',
      }),
    ).toMatchObject({
      defenderApiBaseUrl: 'https://defender-proxy.contoso.example',
      defenderTokenScope: 'api://contoso-proxy/.default',
    });
    expect(load({ DEFENDER_TOKEN_SCOPE: 'https://graph.microsoft.com/.default', DEFENDER_ALLOW_CUSTOM_ENDPOINT: 'TRUE' }).defenderTokenScope).toBe(
      'https://graph.microsoft.com/.default',
    );
    expectRefused({ DEFENDER_ALLOW_CUSTOM_ENDPOINT: 'yes' }, 'DEFENDER_ALLOW_CUSTOM_ENDPOINT', /expected one of false, true, got "yes"/);
    expect(DEFAULTS.DEFENDER_ALLOW_CUSTOM_ENDPOINT).toBe('false');
  });

  test('a loopback simulator is accepted with or without a credential, with any scope', () => {
    expect(load({ DEFENDER_API_BASE_URL: 'http://127.0.0.1:7071' }).defenderAuth).toBe('default');
    expect(load({ DEFENDER_API_BASE_URL: 'http://localhost:7071', DEFENDER_TOKEN_SCOPE: 'api://simulator/.default' }).defenderTokenScope).toBe(
      'api://simulator/.default',
    );
  });

  test('user info in the base URL is refused without echoing it, on loopback and with the opt-in too', () => {
    for (const env of [
      { DEFENDER_API_BASE_URL: 'https://svc:pa55word@api.security.microsoft.com' },
      { DEFENDER_API_BASE_URL: 'https://token-only@api.security.microsoft.com' },
      { DEFENDER_API_BASE_URL: 'https://@api.security.microsoft.com' },
      { DEFENDER_API_BASE_URL: 'http://svc:pa55word@127.0.0.1:7071', DEFENDER_AUTH: 'none' },
      { DEFENDER_API_BASE_URL: 'https://svc:pa55word@proxy.example', DEFENDER_ALLOW_CUSTOM_ENDPOINT: 'true' },
    ]) {
      const err = expectRefused(env, 'DEFENDER_API_BASE_URL', /credentials \(user info\) in the URL are not accepted/);
      expect(err.message).not.toMatch(/pa55word|svc|token-only/);
    }
  });

  test('a query string or fragment in the base URL is refused without echoing it', () => {
    const err = expectRefused(
      { DEFENDER_API_BASE_URL: 'https://api.security.microsoft.com/?code=SECRETCODE' },
      'DEFENDER_API_BASE_URL',
      /must not carry a query string or fragment/,
    );
    expect(err.message).not.toContain('SECRETCODE');
  });
});

describe('no settings error echoes a value that can hold a secret', () => {
  const SECRET = 'S3CRETvalue';
  test.each<[string, Env]>([
    ['a URL that does not parse, with a query', { DEFENDER_API_BASE_URL: `not a url?sig=${SECRET}` }],
    ['an http URL with a query', { DEFENDER_API_BASE_URL: `http://api.security.microsoft.com/?sig=${SECRET}` }],
    ['an authority host with user info', { AZURE_AUTHORITY_HOST: `https://user:${SECRET}@login.microsoftonline.us` }],
    ['an authority host that is http, with a query', { AZURE_AUTHORITY_HOST: `http://login.microsoftonline.us/?client_secret=${SECRET}` }],
    [
      'a storage service URI with a SAS',
      { AzureWebJobsStorage: undefined, AzureWebJobsStorage__tableServiceUri: `http://st.table.core.windows.net/?sv=1&sig=${SECRET}` },
    ],
    [
      'a storage service URI with user info',
      {
        AzureWebJobsStorage: undefined,
        AzureWebJobsStorage__accountName: 'stexample',
        AzureWebJobsStorage__queueServiceUri: `https://k:${SECRET}@st.queue.core.windows.net`,
      },
    ],
    ['a scope with a query', { DEFENDER_TOKEN_SCOPE: `https://api.security.microsoft.com/?sig=${SECRET}` }],
    ['a connection string pasted into a number', { WORKER_TIME_BUDGET_SECONDS: `AccountName=a;AccountKey=${SECRET}` }],
    ['a client secret pasted into DEFENDER_AUTH', { DEFENDER_AUTH: `Abc8Q~${SECRET}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx` }],
    ['a key pasted into the queue name', { INGEST_QUEUE: `q;sig=${SECRET}` }],
    [
      'an Application Insights connection string with a bad endpoint',
      { APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://x.example/?sig=${SECRET}` },
    ],
    [
      'an Application Insights ClientId that is a secret',
      {
        APPLICATIONINSIGHTS_CONNECTION_STRING: 'InstrumentationKey=00000000-0000-0000-0000-000000000000',
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: `ClientId=${SECRET}~x=y;Authorization=AAD`,
      },
    ],
  ])('%s', (_what, extra) => {
    const err = configError({ ...MINIMAL, ...extra });
    expect(err.message).not.toContain(SECRET);
  });
});

describe('DOWNLOAD_HOST_ALLOWLIST', () => {
  test('comma-separated, trimmed, lowercased, ports stripped, empty items skipped', () => {
    expect(load({ DOWNLOAD_HOST_ALLOWLIST: ' *.Blob.Core.Windows.NET:443 , exports.example.com,,127.0.0.1:10000, ' }).downloadHostAllowlist).toEqual([
      '*.blob.core.windows.net',
      'exports.example.com',
      '127.0.0.1',
    ]);
  });

  test('loopback hosts may be listed, including IPv6', () => {
    expect(load({ DOWNLOAD_HOST_ALLOWLIST: 'localhost,[::1]:10000,::1' }).downloadHostAllowlist).toEqual(['localhost', '[::1]', '::1']);
  });

  test('a list with no pattern refused', () => {
    expectRefused({ DOWNLOAD_HOST_ALLOWLIST: ',' }, 'DOWNLOAD_HOST_ALLOWLIST', /lists no host pattern/);
    expectRefused({ DOWNLOAD_HOST_ALLOWLIST: ' , , ' }, 'DOWNLOAD_HOST_ALLOWLIST', /lists no host pattern/);
  });

  test('patterns that are not a host or *.suffix refused', () => {
    for (const bad of ['*', '*.', 'https://x.blob.core.windows.net', 'foo.*.net', 'a/b', 'exports.example.com.', 'a..b', 'host name']) {
      expectRefused({ DOWNLOAD_HOST_ALLOWLIST: `*.blob.core.windows.net,${bad}` }, 'DOWNLOAD_HOST_ALLOWLIST', /is not a host name or a \*\.suffix pattern/);
    }
  });
});

describe('INGEST_QUEUE', () => {
  test('valid names accepted', () => {
    for (const ok of ['abc', 'inventory-export-files', 'q1-2-3', 'a'.repeat(56)]) expect(load({ INGEST_QUEUE: ok }).ingestQueue).toBe(ok);
  });

  test('invalid names refused, saying the rule', () => {
    for (const bad of [
      'Inventory',
      'inventory--files',
      '-inventory',
      'inventory-',
      'ab',
      'inventory_files',
      'inventory.files',
      'a'.repeat(57),
      'a'.repeat(64),
    ]) {
      expectRefused({ INGEST_QUEUE: bad }, 'INGEST_QUEUE', /is not a valid queue name \(3-56 lowercase letters, digits and single hyphens\)/);
    }
  });

  test('the 56-character limit leaves room for the host\'s "-poison" queue within 63', () => {
    expect(`${'a'.repeat(56)}-poison`).toHaveLength(63);
  });
});

describe('storage', () => {
  test('AzureWebJobsStorage missing is named', () => {
    expectRefused({}, 'AzureWebJobsStorage', /is required: a storage connection string, or AzureWebJobsStorage__accountName/, {});
    expectRefused({}, 'AzureWebJobsStorage', /is required/, { AzureWebJobsStorage: ' ' });
    // a __credential or __clientId alone does not say which account
    expectRefused({}, 'AzureWebJobsStorage', /is required/, { AzureWebJobsStorage__credential: 'managedidentity', AzureWebJobsStorage__clientId: 'x' });
  });

  test('connection strings accepted as they are', () => {
    const cs = 'DefaultEndpointsProtocol=https;AccountName=stexample;AccountKey=a2V5;EndpointSuffix=core.windows.net';
    expect(loadConfig({ AzureWebJobsStorage: cs }).jobsStorage).toEqual({ kind: 'connectionString', setting: 'AzureWebJobsStorage', connectionString: cs });
    const sas = 'BlobEndpoint=https://st.blob.core.windows.net/;QueueEndpoint=https://st.queue.core.windows.net/;SharedAccessSignature=sv=2022&sig=x';
    expect(loadConfig({ AzureWebJobsStorage: sas }).jobsStorage.kind).toBe('connectionString');
  });

  test('a garbage connection string refused, and not echoed back', () => {
    const err = expectRefused(
      {},
      'AzureWebJobsStorage',
      /is not a storage connection string \(expected one with AccountName and AccountKey, endpoints with a SharedAccessSignature, or UseDevelopmentStorage=true\)/,
      {
        AzureWebJobsStorage: 'hunter2-not-a-connection-string',
      },
    );
    expect(err.message).not.toContain('hunter2');
    expectRefused({}, 'INVENTORY_STORAGE', /is not a storage connection string/, { ...MINIMAL, INVENTORY_STORAGE: 'true' });
  });

  test('identity form: AzureWebJobsStorage__accountName gives the public-cloud service URIs', () => {
    const c = loadConfig({ AzureWebJobsStorage__accountName: 'stexample', AzureWebJobsStorage__credential: 'managedidentity' });
    expect(c.jobsStorage).toEqual({
      kind: 'identity',
      setting: 'AzureWebJobsStorage',
      tableServiceUri: 'https://stexample.table.core.windows.net',
      queueServiceUri: 'https://stexample.queue.core.windows.net',
      blobServiceUri: 'https://stexample.blob.core.windows.net',
      clientId: undefined,
    });
    expect(c.inventoryStorage).toBe(c.jobsStorage);
  });

  test('identity form: __clientId selects a user-assigned identity', () => {
    const c = loadConfig({ AzureWebJobsStorage__accountName: 'stexample', AzureWebJobsStorage__clientId: '00000000-0000-4000-8000-000000000001' });
    expect(c.jobsStorage).toMatchObject({ kind: 'identity', clientId: '00000000-0000-4000-8000-000000000001' });
  });

  test('identity form: explicit service URIs win over the account name, trailing slashes dropped', () => {
    const c = loadConfig({
      AzureWebJobsStorage__accountName: 'stexample',
      AzureWebJobsStorage__tableServiceUri: 'https://stexample.table.core.usgovcloudapi.net/',
    });
    expect(c.jobsStorage).toMatchObject({
      kind: 'identity',
      tableServiceUri: 'https://stexample.table.core.usgovcloudapi.net',
      queueServiceUri: 'https://stexample.queue.core.windows.net',
      blobServiceUri: 'https://stexample.blob.core.windows.net',
    });
  });

  test('identity form without an account name needs every service URI, each named', () => {
    const all = {
      AzureWebJobsStorage__tableServiceUri: 'https://t.example.net',
      AzureWebJobsStorage__queueServiceUri: 'https://q.example.net',
      AzureWebJobsStorage__blobServiceUri: 'https://b.example.net',
    };
    expect(loadConfig(all).jobsStorage).toMatchObject({
      tableServiceUri: 'https://t.example.net',
      queueServiceUri: 'https://q.example.net',
      blobServiceUri: 'https://b.example.net',
    });
    expectRefused({}, 'AzureWebJobsStorage__queueServiceUri', /is required when AzureWebJobsStorage__accountName is not set/, {
      ...all,
      AzureWebJobsStorage__queueServiceUri: undefined,
    });
    expectRefused({}, 'AzureWebJobsStorage__blobServiceUri', /is required when AzureWebJobsStorage__accountName is not set/, {
      ...all,
      AzureWebJobsStorage__blobServiceUri: undefined,
    });
  });

  test('identity form: service URIs must be https (http only on loopback, e.g. Azurite)', () => {
    expectRefused({}, 'AzureWebJobsStorage__tableServiceUri', /must be an https URL/, {
      AzureWebJobsStorage__accountName: 'stexample',
      AzureWebJobsStorage__tableServiceUri: 'http://stexample.table.core.windows.net',
    });
    expectRefused({}, 'AzureWebJobsStorage__queueServiceUri', /not a valid absolute URL/, {
      AzureWebJobsStorage__accountName: 'stexample',
      AzureWebJobsStorage__queueServiceUri: 'stexample.queue.core.windows.net',
    });
    const azurite = loadConfig({
      AzureWebJobsStorage__tableServiceUri: 'http://127.0.0.1:10002/devstoreaccount1',
      AzureWebJobsStorage__queueServiceUri: 'http://127.0.0.1:10001/devstoreaccount1',
      AzureWebJobsStorage__blobServiceUri: 'http://127.0.0.1:10000/devstoreaccount1',
    });
    expect(azurite.jobsStorage).toMatchObject({ kind: 'identity', tableServiceUri: 'http://127.0.0.1:10002/devstoreaccount1' });
  });

  test('identity form: a bad account name refused, naming the __accountName setting', () => {
    for (const bad of ['StExample', 'st-example', 'st', 'a'.repeat(25)]) {
      expectRefused({}, 'AzureWebJobsStorage__accountName', /is not a storage account name \(3-24 lowercase letters and digits\)/, {
        AzureWebJobsStorage__accountName: bad,
      });
    }
  });

  test('INVENTORY_STORAGE overrides where the tables live; queues stay on AzureWebJobsStorage', () => {
    const cs = 'DefaultEndpointsProtocol=https;AccountName=sthistory;AccountKey=a2V5;EndpointSuffix=core.windows.net';
    const c = loadConfig({ AzureWebJobsStorage__accountName: 'stfunc', INVENTORY_STORAGE: cs });
    expect(c.jobsStorage).toMatchObject({ kind: 'identity', queueServiceUri: 'https://stfunc.queue.core.windows.net' });
    expect(c.inventoryStorage).toEqual({ kind: 'connectionString', setting: 'INVENTORY_STORAGE', connectionString: cs });

    const id = loadConfig({ ...MINIMAL, INVENTORY_STORAGE__accountName: 'sthistory', INVENTORY_STORAGE__clientId: 'uami' });
    expect(id.jobsStorage).toMatchObject({ kind: 'connectionString', connectionString: DEV });
    expect(id.inventoryStorage).toEqual({
      kind: 'identity',
      setting: 'INVENTORY_STORAGE',
      tableServiceUri: 'https://sthistory.table.core.windows.net',
      queueServiceUri: 'https://sthistory.queue.core.windows.net',
      blobServiceUri: 'https://sthistory.blob.core.windows.net',
      clientId: 'uami',
    });
  });

  test('storageTarget: unset gives undefined, a connection string wins over the identity form', () => {
    expect(storageTarget({}, 'INVENTORY_STORAGE')).toBeUndefined();
    // INVENTORY_STORAGE holds only tables: a table endpoint alone is enough
    const tablesOnly = loadConfig({ ...MINIMAL, INVENTORY_STORAGE__tableServiceUri: 'https://sthistory.table.core.windows.net' });
    expect(tablesOnly.inventoryStorage).toMatchObject({ kind: 'identity', tableServiceUri: 'https://sthistory.table.core.windows.net', queueServiceUri: '' });
    expect(() => loadConfig({ AzureWebJobsStorage__tableServiceUri: 'https://stfunc.table.core.windows.net' })).toThrow(/AzureWebJobsStorage__queueServiceUri/);
    expect(storageTarget({ X: DEV, X__accountName: 'stexample' }, 'X')).toEqual({ kind: 'connectionString', setting: 'X', connectionString: DEV });
  });
});

describe('validation order: the first bad setting is the one reported', () => {
  test('two bad settings give one error', () => {
    const err = configError({ AzureWebJobsStorage: DEV, DEFENDER_AUTH: 'bogus', SAS_VALID_HOURS: '0' });
    expect(err.setting).toBe('DEFENDER_AUTH');
  });
});

describe('local.settings.sample.json', () => {
  const sample = JSON.parse(readFileSync(join(__dirname, '..', '..', 'local.settings.sample.json'), 'utf8')) as {
    IsEncrypted: boolean;
    Values: Record<string, unknown>;
  };

  test('is in the Core Tools format, with string values only', () => {
    expect(sample.IsEncrypted).toBe(false);
    expect(Object.keys(sample).sort()).toEqual(['IsEncrypted', 'Values']);
    for (const [k, v] of Object.entries(sample.Values)) expect([k, typeof v]).toEqual([k, 'string']);
    expect(sample.Values.FUNCTIONS_WORKER_RUNTIME).toBe('node');
    expect(sample.Values.AzureWebJobsStorage).toBe(DEV);
  });

  test('lists every SETTING_NAMES entry, and nothing else but the worker runtime', () => {
    const names: readonly string[] = SETTING_NAMES;
    expect(names.filter((n) => !(n in sample.Values))).toEqual([]);
    expect(Object.keys(sample.Values).filter((k) => !names.includes(k))).toEqual(['FUNCTIONS_WORKER_RUNTIME']);
  });

  test('loadConfig accepts its values, placeholder secrets included', () => {
    const c = loadConfig(sample.Values as Env);
    expect(c.defenderAuth).toBe('clientSecret');
    expect([c.tenantId, c.clientId, c.clientSecret].every((v) => typeof v === 'string' && /^<.+>$/.test(v))).toBe(true);
    expect(c.jobsStorage).toEqual({ kind: 'connectionString', setting: 'AzureWebJobsStorage', connectionString: DEV });
    expect(c.inventoryStorage).toBe(c.jobsStorage);
  });

  test('settings with a code default show that default', () => {
    for (const [name, def] of Object.entries(DEFAULTS)) {
      if (name === 'DEFENDER_AUTH') continue; // the sample picks clientSecret: a developer machine has no managed identity
      expect([name, sample.Values[name]]).toEqual([name, String(def)]);
    }
  });
});
