// An HTTP proxy in front of Azurite's table port that injects Table Storage faults on chosen requests:
// 503 ServerBusy, 500, 409 TableBeingDeleted, a request that is never answered (client timeout), a
// request that is executed but whose answer is withheld (committed, yet the client times out), a
// reset connection, and one reset only after the service applied the request (its answer lost). Everything else is forwarded untouched, so clients sign and talk as they would to
// the real service.
import * as http from 'node:http';
import { AddressInfo, Socket } from 'node:net';

export type TableFault =
  | { kind: 'status'; status: number; code: string; message?: string; retryAfterSeconds?: number }
  /** hold the request, never forward it, never answer */
  | { kind: 'hang' }
  /** forward it (the service executes it), then never answer */
  | { kind: 'swallowResponse' }
  /** forward it, then answer with this status instead of the real one */
  | { kind: 'statusAfterForward'; status: number; code: string }
  /** destroy the connection without an answer */
  | { kind: 'reset' }
  /** forward it, wait for the service's answer (it is applied), then destroy the connection instead of answering */
  | { kind: 'resetAfterForward' };

export type StatusFault = Extract<TableFault, { kind: 'status' }>;
export const serverBusy: StatusFault = { kind: 'status', status: 503, code: 'ServerBusy', message: 'The server is busy.' };
export const internalError: StatusFault = { kind: 'status', status: 500, code: 'InternalError', message: 'The server encountered an internal error.' };
export const tableBeingDeleted: StatusFault = {
  kind: 'status',
  status: 409,
  code: 'TableBeingDeleted',
  message: 'The specified table is being deleted. Try operation later.',
};

export interface ProxiedRequest {
  method: string;
  url: string;
  /** 1-based count of batch ($batch) requests since the rule was set */
  batchNumber?: number;
  fault?: TableFault['kind'];
  /** the service's status for a forwarded request, once it answered */
  status?: number;
}

export interface TableFaultProxy {
  port: number;
  /** the table endpoint to give clients instead of Azurite's */
  endpoint: string;
  connectionString: string;
  requests: ProxiedRequest[];
  /** TCP connections accepted so far (keep-alive reuse shows as few connections for many requests) */
  readonly connections: number;
  /** decide the fault of each request (undefined: forward it); batch numbering starts again at 1 */
  setRule(rule: FaultRule): void;
  close(): Promise<void>;
}

export type FaultRule = (req: { method: string; url: string; isBatch: boolean; batchNumber?: number; body: Buffer }) => TableFault | undefined;

function errorBody(code: string, message: string): string {
  return JSON.stringify({
    'odata.error': { code, message: { lang: 'en-US', value: `${message}\nRequestId:00000000-0000-0000-0000-000000000000\nTime:${new Date().toISOString()}` } },
  });
}

/** `connectionString` of the Azurite behind it; the proxy's endpoint replaces its TableEndpoint. */
export async function startTableFaultProxy(targetPort: number, connectionString: string, rule: FaultRule = () => undefined): Promise<TableFaultProxy> {
  let current = rule;
  let batches = 0;
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  const held = new Set<http.ServerResponse>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const url = req.url ?? '/';
      const isBatch = req.method === 'POST' && /\/\$batch(\?|$)/.test(url);
      const batchNumber = isBatch ? ++batches : undefined;
      const fault = current({ method: req.method ?? 'GET', url, isBatch, batchNumber, body });
      const record: ProxiedRequest = { method: req.method ?? 'GET', url, batchNumber, fault: fault?.kind };
      requests.push(record);

      if (fault?.kind === 'status') {
        const headers: Record<string, string> = {
          'content-type': 'application/json;odata=minimalmetadata;streaming=true;charset=utf-8',
          'x-ms-error-code': fault.code,
        };
        if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
        res.writeHead(fault.status, headers).end(errorBody(fault.code, fault.message ?? fault.code));
        return;
      }
      if (fault?.kind === 'hang') {
        held.add(res);
        return;
      }
      if (fault?.kind === 'reset') {
        req.socket.destroy();
        return;
      }
      const upstream = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: url, headers: req.headers }, (up) => {
        record.status = up.statusCode;
        if (fault?.kind === 'resetAfterForward') {
          up.resume();
          up.on('end', () => req.socket.destroy());
          return;
        }
        if (fault?.kind === 'swallowResponse') {
          up.resume();
          held.add(res);
          return;
        }
        if (fault?.kind === 'statusAfterForward') {
          up.resume();
          res.writeHead(fault.status, { 'content-type': 'application/json', 'x-ms-error-code': fault.code }).end(errorBody(fault.code, fault.code));
          return;
        }
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  let connections = 0;
  server.on('connection', (s: Socket) => {
    connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const account = /AccountName=([^;]+)/.exec(connectionString)?.[1] ?? 'devstoreaccount1';
  const endpoint = `http://127.0.0.1:${port}/${account}`;
  return {
    port,
    endpoint,
    connectionString: connectionString.replace(/TableEndpoint=[^;]+;?/, `TableEndpoint=${endpoint};`),
    requests,
    get connections() {
      return connections;
    },
    setRule(r) {
      current = r;
      batches = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of held) r.destroy();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
