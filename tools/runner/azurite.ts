// Starts a real Azurite (the npm package's server script, so the PID we hold is the server's) and
// reports the ports it actually bound. Used by the tests, the demo and the benchmark.
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';

export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface AzuriteOptions {
  /** keep data on disk in this folder; default is in-memory */
  location?: string;
  /** ports to bind; 0 (the default) lets the OS choose free ones */
  blobPort?: number;
  queuePort?: number;
  tablePort?: number;
  /** blob keep-alive in seconds (Azurite's default is 5) */
  blobKeepAliveTimeout?: number;
}

export interface Azurite {
  blobPort: number;
  queuePort: number;
  tablePort: number;
  blobEndpoint: string;
  queueEndpoint: string;
  tableEndpoint: string;
  connectionString: string;
  pid: number;
  stop(): Promise<void>;
}

export function azuriteConnectionString(blobPort: number, queuePort: number, tablePort: number): string {
  return (
    `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};` +
    `BlobEndpoint=http://127.0.0.1:${blobPort}/${AZURITE_ACCOUNT};` +
    `QueueEndpoint=http://127.0.0.1:${queuePort}/${AZURITE_ACCOUNT};` +
    `TableEndpoint=http://127.0.0.1:${tablePort}/${AZURITE_ACCOUNT};`
  );
}

function azuriteScript(): string {
  return path.join(path.dirname(require.resolve('azurite/package.json')), 'dist', 'src', 'azurite.js');
}

export async function startAzurite(opts: AzuriteOptions = {}): Promise<Azurite> {
  const args = [
    azuriteScript(),
    '--blobHost',
    '127.0.0.1',
    '--queueHost',
    '127.0.0.1',
    '--tableHost',
    '127.0.0.1',
    '--blobPort',
    String(opts.blobPort ?? 0),
    '--queuePort',
    String(opts.queuePort ?? 0),
    '--tablePort',
    String(opts.tablePort ?? 0),
    '--skipApiVersionCheck',
    '--disableTelemetry',
    '--silent',
    '--loose',
  ];
  if (opts.blobKeepAliveTimeout !== undefined) args.push('--blobKeepAliveTimeout', String(opts.blobKeepAliveTimeout));
  if (opts.location) args.push('--location', opts.location);
  else args.push('--inMemoryPersistence');

  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const ports: Record<string, number> = {};
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Azurite did not start within 30 s. Output:\n${output}`));
    }, 30000);
    const onData = (buf: Buffer) => {
      output += buf.toString();
      for (const m of output.matchAll(/Azurite (Blob|Queue|Table) service is successfully listening at http:\/\/[^:]+:(\d+)/g)) {
        ports[m[1]] = Number(m[2]);
      }
      if (ports.Blob && ports.Queue && ports.Table) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited (code ${code}) before it was ready. Output:\n${output}`));
    });
  });
  child.stdout!.removeAllListeners('data');
  child.stderr!.removeAllListeners('data');
  child.stdout!.resume();
  child.stderr!.resume();
  child.removeAllListeners('exit');

  const { Blob: blobPort, Queue: queuePort, Table: tablePort } = ports;
  let stopped: Promise<void> | undefined;
  return {
    blobPort,
    queuePort,
    tablePort,
    blobEndpoint: `http://127.0.0.1:${blobPort}/${AZURITE_ACCOUNT}`,
    queueEndpoint: `http://127.0.0.1:${queuePort}/${AZURITE_ACCOUNT}`,
    tableEndpoint: `http://127.0.0.1:${tablePort}/${AZURITE_ACCOUNT}`,
    connectionString: azuriteConnectionString(blobPort, queuePort, tablePort),
    pid: child.pid!,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const force = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGTERM');
      });
      return stopped;
    },
  };
}
