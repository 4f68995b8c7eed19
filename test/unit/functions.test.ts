import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvocationContext } from '@azure/functions';

// The registrations must load outside the host (the real host loads the same files from dist/).
describe('functions/ registrations', () => {
  it.each(['exportTimer', 'ingestExportFile', 'ingestPoison'])('%s loads and registers without touching settings', (name) => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    expect(() => jest.requireActual(`../../functions/${name}`)).not.toThrow();
    warn.mockRestore();
  });
});

type Registered = { handler: (...args: unknown[]) => Promise<unknown> };

/** Load one registration file in a fresh module registry, capturing what it hands to app.timer/app.storageQueue. */
function register(file: string): Record<string, Registered> {
  const registered: Record<string, Registered> = {};
  jest.isolateModules(() => {
    jest.doMock('@azure/functions', () => {
      const actual = jest.requireActual('@azure/functions');
      const capture = (name: string, options: Registered) => void (registered[name] = options);
      return { ...actual, app: { ...actual.app, timer: capture, storageQueue: capture } };
    });
    // isolateModules needs a synchronous load, so this one stays a require
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require(`../../functions/${file}`);
  });
  return registered;
}

/** A real InvocationContext (as the host builds one) whose log lines the test can read. */
function context(): InvocationContext & { lines: string[] } {
  const lines: string[] = [];
  const ctx = new InvocationContext({
    invocationId: 'inv-1',
    functionName: 'ingestPoison',
    triggerMetadata: {},
    logHandler: (_level, ...args) => void lines.push(args.map(String).join(' ')),
  });
  return Object.assign(ctx, { lines });
}

describe('errors thrown to the Functions host are redacted', () => {
  const SIG = 'HOSTSECRETSIG%2Bq%3D';
  let server: http.Server;
  let saved: NodeJS.ProcessEnv;

  beforeAll(async () => {
    // A storage endpoint that refuses every request and, like some gateways, echoes the request URL
    // (with its SAS query) in the error message the SDK turns into the thrown error's message.
    server = http.createServer((req, res) => {
      res.writeHead(403, { 'Content-Type': 'application/json;odata=minimalmetadata' });
      res.end(JSON.stringify({ 'odata.error': { code: 'AuthorizationFailure', message: { lang: 'en-US', value: `refused ${req.url}` } } }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/devstoreaccount1`;
    saved = { ...process.env };
    process.env.AzureWebJobsStorage = `TableEndpoint=${endpoint};QueueEndpoint=${endpoint};BlobEndpoint=${endpoint};SharedAccessSignature=sv=2020-08-04&ss=tq&sig=${SIG}`;
  });
  afterAll(async () => {
    process.env = saved;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('the registered poison handler rethrows the storage error with its SAS signature redacted, message and stack', async () => {
    const { ingestPoison } = register('ingestPoison');
    const message = {
      snapshotId: '202401010000',
      kind: 'SoftwareInventory',
      fileIndex: 0,
      fileCount: 1,
      url: 'https://a.blob.core.windows.net/f.gz',
      generatedTime: '2024-01-01T00:00:00Z',
    };
    const ctx = context();
    const err = await ingestPoison.handler(message, ctx).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    // the server's echo made it into the error (the test would prove nothing otherwise), redacted
    expect(err!.message).toMatch(/refused .*sig=REDACTED/);
    expect(`${err!.message}\n${err!.stack}\n${ctx.lines.join('\n')}`).not.toContain('HOSTSECRETSIG');
  });
});
