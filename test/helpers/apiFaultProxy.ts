// An HTTP proxy in front of the Defender simulator that answers chosen requests with faults
// (429 in its three Retry-After forms, 5xx, connection reset, a hung answer, bad payloads) and
// forwards the rest, so the real client and timer face a misbehaving API over a real socket.
import { createServer, request, Server } from 'node:http';
import { AddressInfo } from 'node:net';

export type ApiFault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'body'; body: string }
  | { kind: 'rewrite'; edit: (json: Record<string, unknown>) => Record<string, unknown> };

export interface ApiFaultProxy {
  baseUrl: string;
  /** faults for the next requests, in order; when empty, requests pass through */
  queue: ApiFault[];
  served: string[];
  close(): Promise<void>;
}

export async function startApiFaultProxy(targetBaseUrl: string): Promise<ApiFaultProxy> {
  const target = new URL(targetBaseUrl);
  const state: ApiFaultProxy = { baseUrl: '', queue: [], served: [], close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const fault = state.queue.shift();
    state.served.push(fault ? fault.kind + (fault.kind === 'status' ? ` ${fault.status}` : '') : 'pass');
    if (fault?.kind === 'reset') return req.socket.destroy();
    if (fault?.kind === 'hang') return; // never answers; the client's timeout must fire
    if (fault?.kind === 'status') {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...(fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {}) });
      return res.end(fault.body ?? JSON.stringify({ error: { code: 'Fault', message: `injected ${fault.status}` } }));
    }
    if (fault?.kind === 'body') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(fault.body);
    }
    const upstream = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (up) => {
      if (fault?.kind !== 'rewrite') {
        res.writeHead(up.statusCode ?? 502, up.headers);
        return up.pipe(res);
      }
      let text = '';
      up.setEncoding('utf8').on('data', (d) => (text += d));
      up.on('end', () => {
        const body = JSON.stringify(fault.edit(JSON.parse(text)));
        res.writeHead(up.statusCode ?? 502, { 'content-type': 'application/json' });
        res.end(body);
      });
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return state;
}
