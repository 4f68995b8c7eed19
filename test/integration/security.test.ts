// Secrets never leak, checked on everything real processes print: `npm run ingest` runs as a child process
// (stdout and stderr captured whole) through failures with secrets in play — expired SAS URLs (403 on
// download), a 403 and a 401 from the API while a recognisable bearer token is in use, a client secret
// that cannot get a token, an export URL the SSRF guard refuses — and neither the output nor any Error
// stored in the catalog, file-progress or rejects tables may hold a SAS signature, a token, a client
// secret or the storage AccountKey.
import * as path from 'node:path';
import { CATALOG_TABLE, FILES_TABLE, REJECTS_TABLE, snapshotIdFor } from '../../shared/core/contracts';
import { AZURITE_KEY } from '../../tools/runner/azurite';
import { DefenderSimulator, SimulatorOptions, startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { useAzurite } from '../helpers/azurite';
import { nextGeneratedTime } from '../helpers/exportFixture';
import { FaultProxy, startFaultProxy } from '../helpers/faultProxy';
import { localIngestEnv, runIngest } from '../helpers/ingestProcess';
import { tables } from '../helpers/inventoryTables';

const azurite = useAzurite();

// Recognisable secrets: if any of these (or a telling part) shows up anywhere, it leaked.
const TOKEN = 'eyJ0eXAiOiJKV1QifQ.TOKEN-SECURITY-TEST-0f9e8d7c6b5a.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg';
const CLIENT_SECRET = 'Xy7~CLIENT-SECRET-SECURITY-TEST~q8Q';
const FAKE_MI = path.join(__dirname, '..', 'helpers', 'fakeManagedIdentity.ts');

/** The SAS signatures Defender (the simulator) handed out, read off the wire by the proxy in front of it. */
function sigsHandedOut(proxy: FaultProxy & { bodies: string[] }): string[] {
  const sigs: string[] = [];
  for (const body of proxy.bodies) {
    for (const url of (JSON.parse(body) as { exportFiles?: string[] }).exportFiles ?? []) {
      const raw = /[?&]sig=([^&]+)/.exec(url)?.[1];
      if (raw) sigs.push(raw, decodeURIComponent(raw));
    }
  }
  return sigs;
}

function expectNoSecrets(text: string, sigs: string[]): void {
  expect(text).not.toMatch(/\b(sig|signature)=(?!REDACTED)/i);
  for (const sig of sigs) expect(text).not.toContain(sig);
  expect(text).not.toContain(AZURITE_KEY);
  expect(text).not.toContain(AZURITE_KEY.slice(0, 24));
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain('TOKEN-SECURITY-TEST');
  expect(text).not.toContain(CLIENT_SECRET);
  expect(text).not.toContain('CLIENT-SECRET-SECURITY-TEST');
  expect(text).not.toMatch(/Bearer\s+(?!REDACTED)[A-Za-z0-9\-._~+/]{8,}/);
}

/** Every string property of the catalog, file-progress and rejects tables, one per line. */
async function storedText(): Promise<string> {
  const t = tables(azurite().connectionString);
  const out: string[] = [];
  for (const name of [CATALOG_TABLE, FILES_TABLE, REJECTS_TABLE]) {
    for (const row of await t.all<Record<string, unknown>>(name).catch(() => [])) {
      for (const [k, v] of Object.entries(row)) if (typeof v === 'string' && k !== 'etag') out.push(`${name} ${row.partitionKey}/${row.rowKey} ${k}: ${v}`);
    }
  }
  return out.join('\n');
}

interface Setup {
  sim: DefenderSimulator;
  /** the API as the app sees it: a proxy in front of the simulator that records answers and can inject faults */
  api: FaultProxy & { bodies: string[] };
  env: Record<string, string>;
}

async function setup(simOpts: Partial<SimulatorOptions>, env: Record<string, string> = {}): Promise<Setup> {
  const sim = await startDefenderSimulator({
    blobConnectionString: azurite().connectionString,
    containerName: `sec-${Math.random().toString(36).slice(2, 10)}`,
    devices: 40,
    files: 2,
    seed: 9,
    generatedTime: nextGeneratedTime(),
    ...simOpts,
  });
  const bodies: string[] = [];
  const api = Object.assign(
    await startFaultProxy(sim.port, (r) =>
      r.url.toLowerCase().startsWith('/api/machines/softwareinventoryexport')
        ? {
            rewrite: (body, status) => {
              if (status === 200) bodies.push(body.toString());
              return { body };
            },
          }
        : undefined,
    ),
    { bodies },
  );
  return {
    sim,
    api,
    // a connection string with the AccountKey in it, as most local setups have
    env: localIngestEnv(azurite().connectionString, api.url, 'sec', env),
  };
}

describe('secrets never leak (process level)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });
  afterAll(async () => {
    // whatever the runs above stored: no Error, Excerpt or BlobPath holds a secret
    expectNoSecrets(await storedText(), []);
  });

  it('expired SAS URLs (403 on every download): files expired, exit 1, no signature anywhere', async () => {
    const { sim, api, env } = await setup({ sasValidMinutes: -1 });
    cleanup.push(
      () => api.close(),
      () => sim.stop(),
    );
    const published = await sim.publish();
    const id = snapshotIdFor(published.generatedTime);

    const run = await runIngest(env);
    expect(run.code).toBe(1);
    expect(run.summary).toMatchObject({ snapshotId: id, status: 'ingesting', rows: 0 });
    expect(run.output).toMatch(/download refused \(403 .*\): the SAS URL of http:\/\/127\.0\.0\.1:\d+\/\S+ is no longer valid/);
    const sigs = sigsHandedOut(api);
    expect(sigs.length).toBe(4); // two files, raw and decoded
    expectNoSecrets(run.output, sigs);

    const files = await tables(azurite().connectionString).files(id);
    expect(files.map((f) => f.Status)).toEqual(['expired', 'expired']);
    for (const f of files) {
      expect(f.Error).toMatch(/403/);
      expect(f.BlobPath).not.toContain('?');
      expectNoSecrets(`${f.Error} ${f.BlobPath}`, sigs);
    }
    expectNoSecrets(await storedText(), sigs);
  }, 60_000);

  it('a 403 and a 401 from the API while a bearer token is in play: the token never shows, even when the API echoes it', async () => {
    const { sim, api, env } = await setup({ requireToken: TOKEN }, { DEFENDER_AUTH: 'managedIdentity', FAKE_ACCESS_TOKEN: TOKEN });
    cleanup.push(
      () => api.close(),
      () => sim.stop(),
    );
    await sim.publish();
    const withToken = { preload: [FAKE_MI] };

    // 403, with an error body that (carelessly) repeats the Authorization header and a SAS URL
    api.rule = (r) => ({
      status: 403,
      body: {
        error: {
          code: 'Forbidden',
          message: `Access denied for Authorization: ${r.headers.authorization}; see https://x.blob.core.windows.net/c/f?sv=1&sig=LEAKED%2Fsig`,
        },
      },
    });
    const denied = await runIngest(env, 60_000, withToken);
    expect(api.requests.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`); // the token really was sent
    expect(denied.code).toBe(1);
    expect(denied.output).toContain('HTTP 403');
    expect(denied.output).toContain('Software.Read.All');
    // the echo reached the log, redacted
    expect(denied.output).toContain('Access denied for Authorization: Bearer REDACTED; see https://x.blob.core.windows.net/c/f?sv=1&sig=REDACTED');
    expectNoSecrets(denied.output, ['LEAKED%2Fsig', 'LEAKED/sig']);

    // 401 from the simulator itself: it wants another token than the one presented
    api.rule = () => undefined;
    const other = await startDefenderSimulator({
      blobConnectionString: azurite().connectionString,
      containerName: 'sec-other',
      devices: 5,
      files: 1,
      requireToken: 'some-other-token',
    });
    cleanup.push(() => other.stop());
    const proxyToOther = await startFaultProxy(other.port);
    cleanup.push(() => proxyToOther.close());
    const rejected = await runIngest({ ...env, DEFENDER_API_BASE_URL: proxyToOther.url }, 60_000, withToken);
    expect(proxyToOther.requests.at(-1)!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(rejected.code).toBe(1);
    expect(rejected.output).toContain('HTTP 401');
    expectNoSecrets(rejected.output, []);

    // and with the token accepted, a whole successful run (SAS URLs in its progress lines) stays clean too
    const ok = await runIngest(env, 60_000, withToken);
    expect(ok.code).toBe(0);
    expectNoSecrets(ok.output, sigsHandedOut(api));
  }, 120_000);

  it('a client secret that cannot get a token: the error names the problem, never the secret', async () => {
    const { sim, api, env } = await setup({});
    cleanup.push(
      () => api.close(),
      () => sim.stop(),
    );
    const run = await runIngest(
      {
        ...env,
        DEFENDER_AUTH: 'clientSecret',
        AZURE_TENANT_ID: '72f988bf-86f1-41af-91ab-2d7cd011db47',
        AZURE_CLIENT_ID: '11111111-2222-3333-4444-555555555555',
        AZURE_CLIENT_SECRET: CLIENT_SECRET,
        // an authority that refuses connections: no request ever leaves this machine
        AZURE_AUTHORITY_HOST: 'https://127.0.0.1:1',
      },
      60_000,
    );
    expect(run.code).toBe(1);
    expect(run.output).toMatch(/Could not get a token/);
    expectNoSecrets(run.output, []);
  }, 60_000);

  it('an export URL the SSRF guard refuses: nothing is requested or registered, and its signature is not shown', async () => {
    const { sim, api, env } = await setup({});
    cleanup.push(
      () => api.close(),
      () => sim.stop(),
    );
    const published = await sim.publish();
    const blobOrigin = `http://127.0.0.1:${azurite().blobPort}`;
    api.rule = (r) =>
      r.url.toLowerCase().startsWith('/api/machines/softwareinventoryexport')
        ? {
            rewrite: (body) => {
              api.bodies.push(body.toString());
              const b = JSON.parse(body.toString()) as { exportFiles: string[] };
              b.exportFiles[1] = b.exportFiles[1].replace(blobOrigin, 'https://exports.attacker.example');
              return { body: JSON.stringify(b) };
            },
          }
        : undefined;
    const run = await runIngest(env);
    expect(run.code).toBe(1);
    expect(run.output).toMatch(
      /export file 1 was refused\. Refused download URL https:\/\/exports\.attacker\.example\/\S+: host exports\.attacker\.example is not in DOWNLOAD_HOST_ALLOWLIST/,
    );
    expectNoSecrets(run.output, sigsHandedOut(api));
    // refused before anything was registered: no snapshot, no file rows
    const t = tables(azurite().connectionString);
    expect(await t.snapshot(snapshotIdFor(published.generatedTime))).toBeUndefined();
    expect(await t.files(snapshotIdFor(published.generatedTime))).toEqual([]);
  }, 60_000);
});
