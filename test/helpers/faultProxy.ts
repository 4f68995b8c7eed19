// An HTTP proxy in front of a real service (Azurite, the Defender simulator) that injects faults by rule:
// a chosen status and body, a connection reset, a delay, or a rewritten answer, for the requests a test picks; everything else
// is forwarded untouched. Real sockets and real HTTP: the code under test cannot tell it from the service.
import * as http from 'node:http';
import { AddressInfo } from 'node:net';

export interface SeenRequest {
  method: string;
  /** path and query as sent */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export type FaultAction =
  | { status: number; headers?: Record<string, string>; body?: string | object }
  | { reset: true }
  /** forwarded untouched, but only after this long (to force an interleaving between two clients) */
  | { delayMs: number }
  /** never answered (until the proxy closes): freezes a client at a chosen point, e.g. before a SIGKILL */
  | { hold: true }
  | { rewrite: (upstreamBody: Buffer, status: number) => { status?: number; body: string | Buffer } };

export interface FaultProxy {
  port: number;
  /** base URL of the proxy, e.g. http://127.0.0.1:12345 */
  url: string;
  /** every request seen (faulted or forwarded), in order */
  requests: SeenRequest[];
  /** how many requests got a fault */
  faults: number;
  rule: (req: SeenRequest) => FaultAction | undefined;
  close(): Promise<void>;
}

export async function startFaultProxy(targetPort: number, rule: FaultProxy['rule'] = () => undefined): Promise<FaultProxy> {
  const state = { faults: 0 };
  const requests: SeenRequest[] = [];
  const proxy: FaultProxy = {
    port: 0,
    url: '',
    requests,
    get faults() {
      return state.faults;
    },
    rule,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const seen: SeenRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(parts) };
      requests.push(seen);
      const action = proxy.rule(seen);
      if (action && 'reset' in action) {
        state.faults++;
        req.socket.destroy();
        return;
      }
      if (action && 'status' in action) {
        state.faults++;
        const body = typeof action.body === 'string' || action.body === undefined ? (action.body ?? '') : JSON.stringify(action.body);
        res.writeHead(action.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...action.headers });
        res.end(body);
        return;
      }
      if (action && 'hold' in action) {
        state.faults++;
        return;
      }
      if (action && 'delayMs' in action) {
        state.faults++;
        setTimeout(() => forward(req, res, seen, undefined), action.delayMs);
        return;
      }
      forward(req, res, seen, action);
    });
  });

  function forward(req: http.IncomingMessage, res: http.ServerResponse, seen: SeenRequest, action: FaultAction | undefined): void {
    const headers = { ...req.headers, host: `127.0.0.1:${targetPort}` };
    const up = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers }, (upRes) => {
      if (action && 'rewrite' in action) {
        const chunks: Buffer[] = [];
        upRes.on('data', (d: Buffer) => chunks.push(d));
        upRes.on('end', () => {
          state.faults++;
          const out = action.rewrite(Buffer.concat(chunks), upRes.statusCode ?? 502);
          const body = typeof out.body === 'string' ? Buffer.from(out.body) : out.body;
          const h = { ...upRes.headers, 'content-length': String(body.length) };
          delete h['transfer-encoding'];
          res.writeHead(out.status ?? upRes.statusCode ?? 502, h);
          res.end(body);
        });
        return;
      }
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.destroy());
    up.end(seen.body);
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.port = (server.address() as AddressInfo).port;
  proxy.url = `http://127.0.0.1:${proxy.port}`;
  return proxy;
}

/** A worker's checkpoint: a merge on its row of InventoryExportFiles that records committed lines but not completion. */
export function checkpointOf(r: SeenRequest): { snapshotId: string; rowKey: string; lines: number } | undefined {
  if (r.method !== 'PATCH' && r.method !== 'MERGE') return undefined;
  const m = /InventoryExportFiles\(PartitionKey='([^']*)',RowKey='([^']*)'\)/.exec(decodeURIComponent(r.url));
  if (!m) return undefined;
  try {
    const body = JSON.parse(r.body.toString('utf8')) as { LinesCommitted?: number; Status?: string };
    return body.LinesCommitted && body.Status !== 'complete' ? { snapshotId: m[1], rowKey: m[2], lines: body.LinesCommitted } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A rule that forwards everything up to and including the first request `last` accepts, then holds every
 * later one: the client is frozen right after that request, however fast the machine. `fired()` tells
 * whether it happened.
 */
export function holdAfter(last: (r: SeenRequest) => boolean): FaultProxy['rule'] & { fired(): boolean } {
  let frozen = false;
  const rule = (r: SeenRequest): FaultAction | undefined => {
    if (frozen) return { hold: true };
    if (last(r)) frozen = true;
    return undefined;
  };
  return Object.assign(rule, { fired: () => frozen });
}
