import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClientSecretCredential, DefaultAzureCredential, ManagedIdentityCredential, type TokenCredential } from '@azure/identity';
import { loadConfig } from '../../shared/core/config';
import { createDefenderCredential, DefenderApiError, DefenderClient, type DefenderClientDeps } from '../../shared/defender/defenderClient';
import { memoryLog } from '../../shared/core/log';
import { EXPORT_KIND_NAMES, EXPORT_KINDS } from '../../shared/kinds/exportKinds';

// A real HTTP server on 127.0.0.1 plays Defender; each test sets `handler`.
type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;
let handler: Handler;
let requests: { url: string; auth?: string }[];
let server: http.Server;
let base: string;

const SCOPE = 'https://api.securitycenter.microsoft.com/.default';
const TOKEN = 'eyJ0eXAi.FAKE-ACCESS-TOKEN.c2lnbmF0dXJl';
const SIG = 'SECRETSIGVALUE%2Bxyz%3D';
const sasUrl = (i: number, host = 'acct.blob.core.windows.net') =>
  `https://${host}/exports/file${i}.json.gz?sv=2020-08-04&se=2030-01-01T00%3A00%3A00Z&sr=b&sp=r&sig=${SIG}`;
const GENERATED = '2021-01-11T11:01:00Z';

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(text);
}
const exportOk = (files: string[] = [sasUrl(0), sasUrl(1)]) => ({ exportFiles: files, generatedTime: GENERATED });
const answer =
  (status: number, body: unknown, headers?: Record<string, string>): Handler =>
  (_req, res) =>
    send(res, status, body, headers);
/** Answers from a script, one entry per request; the last entry repeats. */
const script =
  (...steps: Handler[]): Handler =>
  (req, res, n) =>
    steps[Math.min(n, steps.length) - 1](req, res, n);

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.push({ url: req.url ?? '', auth: req.headers.authorization });
    handler(req, res, requests.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

// Every log line and error of every test is checked for secrets.
let logs: ReturnType<typeof memoryLog>[];
beforeEach(() => {
  requests = [];
  logs = [];
  handler = answer(500, 'no handler');
});
afterEach(() => {
  for (const line of logs.flatMap((l) => l.lines)) expectNoSecret(line);
});
function expectNoSecret(text: string): void {
  expect(text).not.toContain(SIG);
  expect(text).not.toContain('SECRETSIG');
  expect(text).not.toContain(TOKEN);
}

const scopesAsked: unknown[] = [];
const credential: TokenCredential = {
  getToken: async (scopes) => {
    scopesAsked.push(scopes);
    return { token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 };
  },
};

/** A client on a fake clock: sleep records the wait and advances the clock instead of sleeping. */
function makeClient(opts: Partial<DefenderClientDeps> = {}) {
  const clock = { t: Date.UTC(2024, 0, 1, 5, 30, 0) };
  const waits: number[] = [];
  const log = memoryLog();
  logs.push(log);
  const client = new DefenderClient({
    baseUrl: base,
    scope: SCOPE,
    credential,
    log,
    downloadPolicy: { allowlist: ['*.blob.core.windows.net'], allowLoopback: false },
    now: () => clock.t,
    sleep: async (ms) => {
      waits.push(ms);
      clock.t += ms;
    },
    ...opts,
  });
  return { client, clock, waits, log };
}

async function failure(p: Promise<unknown>): Promise<DefenderApiError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DefenderApiError);
  expectNoSecret((err as Error).message);
  return err as DefenderApiError;
}

describe('getSoftwareInventoryExport', () => {
  it('returns the files and generatedTime of a camelCase answer, sending the bearer token of the scope', async () => {
    handler = answer(200, exportOk());
    const { client } = makeClient();
    const r = await client.getSoftwareInventoryExport(6);
    expect(r.exportFiles).toEqual([sasUrl(0), sasUrl(1)]);
    expect(r.generatedTime.toISOString()).toBe('2021-01-11T11:01:00.000Z');
    expect(r.generatedTimeText).toBe(GENERATED);
    expect(requests).toEqual([{ url: '/api/machines/SoftwareInventoryExport?sasValidHours=6', auth: `Bearer ${TOKEN}` }]);
    expect(scopesAsked).toContain(SCOPE);
  });

  it('accepts the documented PascalCase keys too', async () => {
    handler = answer(200, { ExportFiles: [sasUrl(0)], GeneratedTime: '2021-01-11T11:01:00.1234567Z' });
    const r = await makeClient().client.getSoftwareInventoryExport(1);
    expect(r.exportFiles).toEqual([sasUrl(0)]);
    expect(r.generatedTime.toISOString()).toBe('2021-01-11T11:01:00.123Z');
  });

  it('reads a generatedTime with surrounding spaces, no zone (UTC) and a space separator, keeping the text as sent', async () => {
    handler = answer(200, { exportFiles: [sasUrl(0)], generatedTime: ' 2021-01-11 11:01:00 ' });
    const r = await makeClient().client.getSoftwareInventoryExport(1);
    expect(r.generatedTime.toISOString()).toBe('2021-01-11T11:01:00.000Z');
    expect(r.generatedTimeText).toBe(' 2021-01-11 11:01:00 ');
  });

  it('sends no Authorization header without a credential (local simulator)', async () => {
    handler = answer(200, exportOk());
    await makeClient({ credential: undefined }).client.getSoftwareInventoryExport(6);
    expect(requests[0].auth).toBeUndefined();
  });

  it('accepts an empty exportFiles (an export with zero files)', async () => {
    handler = answer(200, exportOk([]));
    expect((await makeClient().client.getSoftwareInventoryExport(6)).exportFiles).toEqual([]);
  });

  describe('retries', () => {
    it('honours Retry-After in seconds on 429', async () => {
      handler = script(answer(429, { error: { code: 'TooManyRequests', message: 'slow down' } }, { 'Retry-After': '7' }), answer(200, exportOk()));
      const { client, waits, log } = makeClient();
      expect((await client.getSoftwareInventoryExport(6)).exportFiles).toHaveLength(2);
      expect(waits).toEqual([7000]);
      expect(requests).toHaveLength(2);
      expect(log.lines.join('\n')).toMatch(/warn .*429.*retrying in 7 s \(Retry-After\)/);
    });

    it('honours Retry-After in HTTP-date form', async () => {
      const { client, clock, waits } = makeClient();
      handler = script(answer(429, '', { 'Retry-After': new Date(clock.t + 30_000).toUTCString() }), answer(200, exportOk()));
      await client.getSoftwareInventoryExport(6);
      expect(waits).toEqual([30_000]);
    });

    it.each([
      ['1.5', 1500],
      ['+5', 5000],
      ['0.25', 250],
      ['0', 0],
    ])('Retry-After %j (decimal seconds, optional +) waits %d ms', async (value, ms) => {
      handler = script(answer(429, '', { 'Retry-After': value }), answer(200, exportOk()));
      const { client, waits } = makeClient();
      await client.getSoftwareInventoryExport(6);
      expect(waits).toEqual([ms]);
    });

    it.each(['-1', '-0.5', 'soon', '1.5.2', '5 s', '1e3', 'Nov 6 1994'])(
      'Retry-After %j is ignored with a warning: the usual backoff applies, not a wait of 0',
      async (value) => {
        handler = script(answer(429, '', { 'Retry-After': value }), answer(200, exportOk()));
        const { client, waits, log } = makeClient();
        await client.getSoftwareInventoryExport(6);
        expect(waits).toHaveLength(1);
        // first backoff: between half and all of 1 s
        expect(waits[0]).toBeGreaterThanOrEqual(500);
        expect(waits[0]).toBeLessThanOrEqual(1000);
        expect(log.lines.join('\n')).toMatch(/warn .*ignoring Retry-After/);
        expect(log.lines.join('\n')).not.toMatch(/\(Retry-After\)/);
      },
    );

    it('honours the obsolete HTTP-date forms (RFC 850, asctime) and waits 0 for a date in the past', async () => {
      const { client, clock, waits } = makeClient();
      const at = new Date(clock.t + 20_000);
      const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
      const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
      const p2 = (n: number) => String(n).padStart(2, '0');
      const time = `${p2(at.getUTCHours())}:${p2(at.getUTCMinutes())}:${p2(at.getUTCSeconds())}`;
      const rfc850 = `${days[at.getUTCDay()]}, ${p2(at.getUTCDate())}-${months[at.getUTCMonth()]}-${String(at.getUTCFullYear()).slice(2)} ${time} GMT`;
      const asctime = `${days[at.getUTCDay()].slice(0, 3)} ${months[at.getUTCMonth()]} ${String(at.getUTCDate()).padStart(2, ' ')} ${time} ${at.getUTCFullYear()}`;
      handler = script(
        answer(429, '', { 'Retry-After': rfc850 }),
        answer(429, '', { 'Retry-After': asctime }),
        answer(429, '', { 'Retry-After': 'Sun, 06 Nov 1994 08:49:37 GMT' }),
        answer(200, exportOk()),
      );
      await client.getSoftwareInventoryExport(6);
      expect(waits).toEqual([20_000, 0, 0]);
    });

    it('caps absurd Retry-After values (seconds and dates)', async () => {
      handler = script(
        answer(429, '', { 'Retry-After': '86400' }),
        answer(429, '', { 'Retry-After': 'Fri, 01 Jan 2100 00:00:00 GMT' }),
        answer(200, exportOk()),
      );
      const { client, waits, log } = makeClient({ maxRetryAfterSeconds: 90 });
      await client.getSoftwareInventoryExport(6);
      expect(waits).toEqual([90_000, 90_000]);
      expect(log.lines.join('\n')).toMatch(/capping the wait at 90 s/);
    });

    it('uses the default cap of 120 s', async () => {
      handler = script(answer(429, '', { 'Retry-After': '99999999' }), answer(200, exportOk()));
      const { client, waits } = makeClient();
      await client.getSoftwareInventoryExport(6);
      expect(waits).toEqual([120_000]);
    });

    it('backs off (jittered, growing) on 500, 502 and 503, then succeeds', async () => {
      handler = script(answer(500, { error: { code: 'InternalError', message: 'x' } }), answer(502, 'bad gateway'), answer(503, ''), answer(200, exportOk()));
      const { client, waits } = makeClient();
      await client.getSoftwareInventoryExport(6);
      expect(requests).toHaveLength(4);
      expect(waits).toHaveLength(3);
      [
        [500, 1000],
        [1000, 2000],
        [2000, 4000],
      ].forEach(([lo, hi], i) => {
        expect(waits[i]).toBeGreaterThanOrEqual(lo);
        expect(waits[i]).toBeLessThanOrEqual(hi);
      });
    });

    it('retries after the server resets the connection', async () => {
      handler = script((req) => req.socket.destroy(), answer(200, exportOk()));
      const { client, waits, log } = makeClient();
      await client.getSoftwareInventoryExport(6);
      expect(requests.length).toBeGreaterThanOrEqual(2);
      expect(waits.length).toBeGreaterThanOrEqual(1);
      expect(log.lines.join('\n')).toMatch(/network error/);
    });

    it('times out a request the server never answers, and gives up after maxAttempts', async () => {
      handler = () => undefined; // never answers
      const { client } = makeClient({ requestTimeoutMs: 200, maxAttempts: 2 });
      const err = await failure(client.getSoftwareInventoryExport(6));
      expect(err.message).toMatch(/gave up after 2 attempts; last: .*timed out/);
      expect(err.retriable).toBe(true);
      expect(requests).toHaveLength(2);
    });

    it('gives up after maxAttempts and says what happened last', async () => {
      handler = answer(503, { error: { code: 'ServiceUnavailable', message: 'try later' } });
      const { client, waits } = makeClient({ maxAttempts: 3 });
      const err = await failure(client.getSoftwareInventoryExport(6));
      expect(err.message).toMatch(/gave up after 3 attempts; last: HTTP 503.*ServiceUnavailable: try later/);
      expect(err.status).toBe(503);
      expect(err.retriable).toBe(true);
      expect(requests).toHaveLength(3);
      expect(waits).toHaveLength(2); // no pointless wait after the last attempt
    });
  });

  describe('errors that are not retried', () => {
    it('401: points at the token audience and tenant', async () => {
      handler = answer(401, { error: { code: 'Unauthorized', message: 'Invalid audience' } });
      const err = await failure(makeClient().client.getSoftwareInventoryExport(6));
      expect(err.status).toBe(401);
      expect(err.retriable).toBe(false);
      expect(err.message).toMatch(/DEFENDER_TOKEN_SCOPE/);
      expect(err.message).toMatch(/AZURE_TENANT_ID/);
      expect(err.message).toMatch(/Unauthorized: Invalid audience/);
      expect(requests).toHaveLength(1);
    });

    it('403: names the missing Software.Read.All permission / admin consent, or the wrong audience', async () => {
      handler = answer(403, { error: { code: 'Forbidden', message: 'The application does not have any of the required application permissions' } });
      const err = await failure(makeClient().client.getSoftwareInventoryExport(6));
      expect(err.status).toBe(403);
      expect(err.retriable).toBe(false);
      expect(err.message).toMatch(/Software\.Read\.All/);
      expect(err.message).toMatch(/admin consent/);
      expect(err.message).toMatch(/audience/);
      expect(err.message).toMatch(/required application permissions/);
      expect(requests).toHaveLength(1);
    });

    it('403 DisabledFeature: says the tenant lacks Defender Vulnerability Management', async () => {
      handler = answer(403, { error: { code: 'DisabledFeature', message: 'The feature is disabled for this tenant', target: 'x' } });
      const err = await failure(makeClient().client.getSoftwareInventoryExport(6));
      expect(err.code).toBe('DisabledFeature');
      expect(err.message).toMatch(/Defender Vulnerability Management/);
      expect(err.message).not.toMatch(/Software\.Read\.All/);
      expect(requests).toHaveLength(1);
    });

    it.each([400, 404])('%i is not retried', async (status) => {
      handler = answer(status, { error: { code: 'BadRequest', message: 'nope' } });
      const err = await failure(makeClient().client.getSoftwareInventoryExport(6));
      expect(err.status).toBe(status);
      expect(err.retriable).toBe(false);
      expect(requests).toHaveLength(1);
    });

    it('never echoes a secret the API puts in its error body', async () => {
      handler = answer(403, { error: { code: 'Forbidden', message: `bad url ${sasUrl(0)} with header Bearer ${TOKEN}` } });
      const err = await failure(makeClient().client.getSoftwareInventoryExport(6));
      expect(err.message).toMatch(/sig=REDACTED/);
    });
  });

  describe('payload validation', () => {
    it('invalid JSON is retried once, then fails clearly', async () => {
      handler = answer(200, '<html>login page</html>');
      const err = await failure(makeClient().client.getSoftwareInventoryExport(6));
      expect(err.message).toMatch(/not valid JSON/);
      expect(err.message).toMatch(/DEFENDER_API_BASE_URL/);
      expect(err.retriable).toBe(false);
      expect(requests).toHaveLength(2);
    });

    it('a single truncated answer is retried', async () => {
      handler = script(answer(200, '{"exportFiles": ["htt'), answer(200, exportOk()));
      expect((await makeClient().client.getSoftwareInventoryExport(6)).exportFiles).toHaveLength(2);
    });

    it.each([
      ['exportFiles missing', { generatedTime: GENERATED }, /exportFiles missing/],
      ['exportFiles not an array', { exportFiles: 'x', generatedTime: GENERATED }, /exportFiles missing/],
      ['a non-string file', { exportFiles: [sasUrl(0), 42], generatedTime: GENERATED }, /exportFiles\[1\] is not a string/],
      ['not an object', [sasUrl(0)], /not a JSON object/],
      ['generatedTime unparseable', { exportFiles: [sasUrl(0)], generatedTime: 'yesterday' }, /generatedTime "yesterday" is not a valid date-time/],
      ['generatedTime impossible', { exportFiles: [sasUrl(0)], generatedTime: '2021-02-30T11:01:00Z' }, /generatedTime/],
      ['generatedTime missing', { exportFiles: [sasUrl(0)] }, /generatedTime/],
    ])('%s → error, not retried', async (_what, body, message) => {
      handler = answer(200, body);
      const err = await failure(makeClient().client.getSoftwareInventoryExport(6));
      expect(err.message).toMatch(message);
      expect(err.retriable).toBe(false);
      expect(requests).toHaveLength(1);
    });

    it('refuses a files answer over 16 MiB (announced by Content-Length) without reading it or retrying', async () => {
      const big = `{"exportFiles":[],"generatedTime":"${GENERATED}","pad":"${'x'.repeat(16 * 1024 * 1024)}"}`;
      handler = answer(200, big);
      const err = await failure(makeClient().client.getSoftwareInventoryExport(6));
      expect(err.code).toBe('ResponseTooLarge');
      expect(err.message).toMatch(/SoftwareInventoryExport.*answer is larger than 16 MiB/);
      expect(err.retriable).toBe(false);
      expect(requests).toHaveLength(1);
    });

    it('stops reading an endless streamed answer (no Content-Length) at the cap', async () => {
      let written = 0;
      let finished!: () => void;
      const closed = new Promise<void>((resolve) => (finished = resolve));
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      handler = (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.on('close', finished);
        const pump = () => {
          // 64 MiB at most, so a client that never stops reading still ends the test
          while (!res.destroyed && written < 64 * chunk.length) {
            written += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
      };
      const err = await failure(makeClient().client.getSoftwareInventoryExport(6));
      expect(err.code).toBe('ResponseTooLarge');
      await closed;
      expect(written).toBeLessThan(64 * chunk.length);
    });

    it('refuses more than 10,000 export files', async () => {
      handler = answer(200, exportOk(Array.from({ length: 10_001 }, (_, i) => sasUrl(i))));
      const err = await failure(makeClient().client.getSoftwareInventoryExport(6));
      expect(err.message).toMatch(/exportFiles lists 10,001 files; at most 10,000 are accepted/);
      expect(err.retriable).toBe(false);
    });

    it('accepts 10,000 export files', async () => {
      handler = answer(200, exportOk(Array.from({ length: 10_000 }, (_, i) => sasUrl(i))));
      expect((await makeClient().client.getSoftwareInventoryExport(6)).exportFiles).toHaveLength(10_000);
    });

    it('refuses a generatedTime more than an hour ahead of the clock (it would stay "latest" forever)', async () => {
      // the client's clock is 2024-01-01T05:30:00Z
      handler = answer(200, { exportFiles: [sasUrl(0)], generatedTime: '2024-01-01T06:30:01Z' });
      const err = await failure(makeClient().client.getSoftwareInventoryExport(6));
      expect(err.message).toMatch(/generatedTime 2024-01-01T06:30:01Z is more than an hour ahead of this machine's clock \(2024-01-01T05:30:00.000Z\)/);
      expect(err.retriable).toBe(false);
      handler = answer(200, { exportFiles: [sasUrl(0)], generatedTime: '2024-01-01T06:30:00Z' });
      expect((await makeClient().client.getSoftwareInventoryExport(6)).generatedTimeText).toBe('2024-01-01T06:30:00Z');
    });

    it('refuses a file URL on a host not in the allowlist (message without the query string)', async () => {
      handler = answer(200, exportOk([sasUrl(0), sasUrl(1, 'evil.example.com')]));
      const err = await failure(makeClient().client.getSoftwareInventoryExport(6));
      expect(err.code).toBe('UrlRefused');
      expect(err.retriable).toBe(false);
      expect(err.message).toMatch(
        /export file 1 was refused.*https:\/\/evil\.example\.com\/exports\/file1\.json\.gz: host evil\.example\.com is not in DOWNLOAD_HOST_ALLOWLIST/,
      );
      expect(err.message).not.toContain('?');
    });

    it('refuses an http file URL on a non-loopback host', async () => {
      handler = answer(200, exportOk([sasUrl(0).replace('https:', 'http:')]));
      const err = await failure(
        makeClient({ downloadPolicy: { allowlist: ['*.blob.core.windows.net'], allowLoopback: true } }).client.getSoftwareInventoryExport(6),
      );
      expect(err.message).toMatch(/scheme http is not allowed/);
    });

    it('accepts a loopback file URL only with allowLoopback, and never requests it', async () => {
      const local = `${base}/devstoreaccount1/exports/file0.json.gz?sv=1&sig=${SIG}`;
      handler = answer(200, exportOk([local]));
      const refused = await failure(makeClient().client.getSoftwareInventoryExport(6));
      expect(refused.code).toBe('UrlRefused');
      const allowed = makeClient({ downloadPolicy: { allowlist: ['*.blob.core.windows.net'], allowLoopback: true } });
      expect((await allowed.client.getSoftwareInventoryExport(6)).exportFiles).toEqual([local]);
      expect(requests.map((r) => r.url)).toEqual([
        '/api/machines/SoftwareInventoryExport?sasValidHours=6',
        '/api/machines/SoftwareInventoryExport?sasValidHours=6',
      ]);
    });
  });

  it('never makes more than 5 calls in any rolling minute (the 6th waits)', async () => {
    handler = answer(200, exportOk());
    const { client, clock, waits, log } = makeClient();
    for (let i = 0; i < 5; i++) {
      await client.getSoftwareInventoryExport(6);
      clock.t += 10_000; // calls at 0, 10, 20, 30, 40 s
    }
    expect(waits).toEqual([]);
    await client.getSoftwareInventoryExport(6); // at 50 s: must wait until the first call is 60 s old
    expect(waits).toEqual([10_000]);
    expect(requests).toHaveLength(6);
    expect(log.lines.join('\n')).toMatch(/within 5 calls per minute/);
  });

  it('counts retries against the budget too', async () => {
    handler = script(...Array.from({ length: 5 }, () => answer(503, '', { 'Retry-After': '0' })), answer(200, exportOk()));
    const { client, waits } = makeClient({ maxAttempts: 6 });
    await client.getSoftwareInventoryExport(6);
    expect(waits).toEqual([0, 0, 0, 0, 0, 60_000]);
  });
});

describe('getSoftwareInventoryPages', () => {
  const record = (i: number) => ({ deviceId: `d${i}`, softwareVendor: 'v', softwareName: 'n', softwareVersion: '1' });
  const pagesOf = async (client: DefenderClient) => {
    const pages = [];
    for await (const p of client.getSoftwareInventoryPages(2)) pages.push(p);
    return pages;
  };

  it('follows @odata.nextLink across 3 pages with the bearer token', async () => {
    handler = (req, res) => {
      const u = new URL(req.url ?? '', base);
      const page = Number(u.searchParams.get('$skiptoken') ?? '1');
      const next = page < 3 ? `${base}/api/machines/SoftwareInventoryByMachine?pageSize=2&$skiptoken=${page + 1}` : undefined;
      send(res, 200, { '@odata.context': 'x', value: [record(page * 2 - 1), record(page * 2)], ...(next ? { '@odata.nextLink': next } : {}) });
    };
    const pages = await pagesOf(makeClient().client);
    expect(pages.map((p) => p.page)).toEqual([1, 2, 3]);
    expect(pages.flatMap((p) => p.records.map((r) => r.deviceId))).toEqual(['d1', 'd2', 'd3', 'd4', 'd5', 'd6']);
    expect(requests.map((r) => r.url)).toEqual([
      '/api/machines/SoftwareInventoryByMachine?pageSize=2',
      '/api/machines/SoftwareInventoryByMachine?pageSize=2&$skiptoken=2',
      '/api/machines/SoftwareInventoryByMachine?pageSize=2&$skiptoken=3',
    ]);
    expect(requests.every((r) => r.auth === `Bearer ${TOKEN}`)).toBe(true);
  });

  it.each([
    ['another host', 'https://evil.example.com/api/machines/SoftwareInventoryByMachine?pageSize=2'],
    ['another port', 'http://127.0.0.1:1/api/machines/SoftwareInventoryByMachine?pageSize=2'],
    ['another host name for the same machine', 'http://localhost:PORT/api/machines/SoftwareInventoryByMachine?pageSize=2'],
  ])('refuses a cross-origin nextLink (%s) and never requests it', async (_what, link) => {
    handler = answer(200, { value: [record(1)], '@odata.nextLink': link.replace('PORT', base.split(':')[2]) });
    const err = await failure(pagesOf(makeClient().client));
    expect(err.message).toMatch(/refused @odata\.nextLink .*leaves the API origin/);
    expect(err.retriable).toBe(false);
    expect(requests).toHaveLength(1);
  });

  it('refuses a page far larger than pageSize records can be (4 KiB per record + 1 MiB), naming JSON_PAGE_SIZE', async () => {
    handler = answer(200, { value: [{ deviceId: 'd', pad: 'x'.repeat(2 * 1024 * 1024) }] });
    const err = await failure(
      (async () => {
        for await (const _ of makeClient().client.getSoftwareInventoryPages(10)) void _;
      })(),
    );
    expect(err.code).toBe('ResponseTooLarge');
    expect(err.message).toMatch(/SoftwareInventoryByMachine.*larger than 1\.0 MiB.*JSON_PAGE_SIZE/);
    expect(requests).toHaveLength(1);
  });

  it('stops a paging loop', async () => {
    handler = answer(200, { value: [record(1)], '@odata.nextLink': `${base}/api/machines/SoftwareInventoryByMachine?pageSize=2` });
    const err = await failure(pagesOf(makeClient().client));
    expect(err.message).toMatch(/paging loop/);
  });

  it.each([
    ['value missing', {}, /value missing/],
    ['a record that is not an object', { value: [record(1), 'x'] }, /value\[1\] is not an object/],
  ])('validates the page: %s', async (_what, body, message) => {
    handler = answer(200, body);
    expect((await failure(pagesOf(makeClient().client))).message).toMatch(message);
  });

  it('retries like the export method, within 30 calls per minute', async () => {
    handler = (req, res, n) => {
      if (n === 1) return send(res, 429, '', { 'Retry-After': '3' });
      const page = Number(new URL(req.url ?? '', base).searchParams.get('p') ?? '1');
      send(res, 200, {
        value: [record(page)],
        ...(page < 31 ? { '@odata.nextLink': `${base}/api/machines/SoftwareInventoryByMachine?pageSize=2&p=${page + 1}` } : {}),
      });
    };
    const { client, waits } = makeClient();
    const pages = await pagesOf(client);
    expect(pages).toHaveLength(31);
    // 32 calls: the 429 at 0 s, then 29 pages at 3 s fill the budget; the 31st call waits for the
    // 0 s call to age out (57 s), the 32nd for the first 3 s call (3 s more).
    expect(waits).toEqual([3000, 57_000, 3000]);
  });
});

describe('credentials', () => {
  const env = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };
  it('builds the credential DEFENDER_AUTH asks for', () => {
    expect(createDefenderCredential(loadConfig({ ...env, DEFENDER_AUTH: 'managedIdentity' }))).toBeInstanceOf(ManagedIdentityCredential);
    expect(
      createDefenderCredential(loadConfig({ ...env, DEFENDER_AUTH: 'managedIdentity', AZURE_CLIENT_ID: '00000000-0000-0000-0000-000000000001' })),
    ).toBeInstanceOf(ManagedIdentityCredential);
    const secret = {
      DEFENDER_AUTH: 'clientSecret',
      AZURE_TENANT_ID: 't',
      AZURE_CLIENT_ID: 'c',
      AZURE_CLIENT_SECRET: 's',
      AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.us',
    };
    expect(createDefenderCredential(loadConfig({ ...env, ...secret }))).toBeInstanceOf(ClientSecretCredential);
    expect(createDefenderCredential(loadConfig(env))).toBeInstanceOf(DefaultAzureCredential);
    expect(createDefenderCredential(loadConfig({ ...env, DEFENDER_AUTH: 'none', DEFENDER_API_BASE_URL: 'http://127.0.0.1:1' }))).toBeUndefined();
  });

  it('fromConfig talks to a local simulator without auth and trusts its loopback file URLs', async () => {
    const local = `${base}/devstoreaccount1/exports/file0.json.gz?sig=${SIG}`;
    handler = answer(200, exportOk([local]));
    const log = memoryLog();
    logs.push(log);
    const client = DefenderClient.fromConfig(loadConfig({ ...env, DEFENDER_AUTH: 'none', DEFENDER_API_BASE_URL: base }), log);
    expect((await client.getSoftwareInventoryExport(3)).exportFiles).toEqual([local]);
    expect(requests).toEqual([{ url: '/api/machines/SoftwareInventoryExport?sasValidHours=3', auth: undefined }]);
  });
});

describe('every export kind (docs/kinds.md)', () => {
  it("calls each kind's own via-files and JSON endpoints from the registry", async () => {
    handler = (req, res) => (req.url!.includes('sasValidHours') ? send(res, 200, exportOk()) : send(res, 200, { value: [{ deviceId: 'd' }] }));
    const { client } = makeClient();
    for (const k of EXPORT_KINDS) {
      await client.getExportFiles(k.kind, 4);
      for await (const p of client.getPages(k.kind, 10)) void p;
    }
    expect(requests.map((r) => r.url)).toEqual(EXPORT_KINDS.flatMap((k) => [`${k.filesPath}?sasValidHours=4`, `${k.jsonPath}?pageSize=10`]));
  });

  it.each([
    ['SoftwareVulnerabilities', 403, '/api/machines/SoftwareVulnerabilitiesExport', 'Vulnerability.Read.All'],
    ['SecureConfigurations', 403, '/api/machines/SecureConfigurationsAssessmentExport', 'Vulnerability.Read.All'],
    ['NonCpeSoftwareInventory', 401, '/api/machines/SoftwareInventoryNonCpeExport', 'Software.Read.All'],
  ] as const)('a %s call refused with %d names the kind, the endpoint and the permission, and is not retried', async (kind, status, path, permission) => {
    handler = answer(status, { error: { code: 'Forbidden', message: 'Missing application roles' } });
    const err = await failure(makeClient().client.getExportFiles(kind, 6));
    expect(err.message).toContain(`the ${kind} export (${path}`);
    expect(err.message).toContain(`needs the ${permission} application permission`);
    expect(err.status).toBe(status);
    expect(err.retriable).toBe(false);
    expect(requests).toHaveLength(1);
  });

  it("a refused JSON page names the kind's JSON endpoint and permission", async () => {
    handler = answer(403, { error: { code: 'Forbidden', message: 'no' } });
    const { client } = makeClient();
    const err = await failure(
      (async () => {
        for await (const p of client.getPages('SoftwareVulnerabilities', 10)) void p;
      })(),
    );
    expect(err.message).toContain(
      'the SoftwareVulnerabilities export (/api/machines/SoftwareVulnerabilitiesByMachine) needs the Vulnerability.Read.All application permission',
    );
  });

  it('keeps a call budget per endpoint: five calls to one kind do not hold back another kind', async () => {
    handler = answer(200, exportOk());
    const { client, waits } = makeClient();
    for (let i = 0; i < 5; i++) await client.getExportFiles('SoftwareInventory', 6);
    for (const k of EXPORT_KIND_NAMES.filter((n) => n !== 'SoftwareInventory')) await client.getExportFiles(k, 6);
    expect(waits).toEqual([]);
    await client.getExportFiles('SoftwareInventory', 6); // the 6th inventory call in the same minute waits
    expect(waits).toEqual([60_000]);
  });
});
