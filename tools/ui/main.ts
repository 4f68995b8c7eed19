// `npm run ui`: options, settings (the query CLI's: tablesTarget over the environment and local.settings.json)
// and the listening server. The process entry (tools/bin/ui.ts) stays a few lines.
import { AddressInfo } from 'node:net';
import { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { SnapshotCatalog } from '../../shared/storage/snapshotCatalog';
import { storageClients } from '../../shared/storage/storageClients';
import { UsageError } from '../query/errors';
import { tablesTarget } from '../query/main';
import { createUiServer, loopbackHosts } from './server';

export const DEFAULT_PORT = 8070;

export const USAGE = `usage: npm run ui -- [--host <address>] [--port <n>]
  --host <address>  interface to listen on (default 127.0.0.1; anything else exposes the inventory to the network)
  --port <n>        port (default ${DEFAULT_PORT}; 0 picks a free one)
settings: INVENTORY_STORAGE, else AzureWebJobsStorage (environment, or Values of ./local.settings.json), as for npm run query`;

export interface UiArgs {
  host: string;
  port: number;
  /** --host was given */
  explicitHost: boolean;
  help: boolean;
}

export function parseUiArgs(argv: readonly string[]): UiArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { host: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port takes a whole number from 0 to 65535, not "${values.port}"`);
  if (values.host !== undefined && values.host.trim() === '') throw new UsageError('--host needs an address');
  return { host: values.host ?? '127.0.0.1', port, explicitHost: values.host !== undefined, help: !!values.help };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export interface RunningUi {
  server: Server;
  url: string;
  close(): Promise<void>;
}

type Env = Record<string, string | undefined>;

/** Start the UI; settings errors surface as ConfigError before anything listens. */
export async function startUi(args: Pick<UiArgs, 'host' | 'port' | 'explicitHost'>, env: Env, log: (text: string) => void): Promise<RunningUi> {
  if (!isLoopback(args.host)) {
    // only reached with an explicit --host (the default is loopback): say loudly what it means
    if (!args.explicitHost) throw new UsageError(`refusing to listen on ${args.host} without an explicit --host`);
    log(`WARNING: listening on ${args.host}: anyone who can reach this machine can read the inventory through the UI (it has no login)`);
  }
  const clients = storageClients(tablesTarget(env));
  const server = createUiServer({
    ctx: { tables: clients, catalog: new SnapshotCatalog(clients), io: { out: async () => undefined, err: () => undefined, errIsTty: false } },
    allowedHosts: isLoopback(args.host) ? loopbackHosts() : undefined,
    logError: (text) => log(`error: ${text}`),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(args.port, args.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = args.host.includes(':') ? `[${args.host}]` : args.host === '0.0.0.0' ? '127.0.0.1' : args.host;
  return {
    server,
    url: `http://${shown}:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
