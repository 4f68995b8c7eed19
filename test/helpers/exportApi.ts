// A minimal Defender export API on loopback, for tests that need hand-made export files (duplicates,
// bad lines) behind the real client in a real `npm run ingest` process. The richer simulator
// (tools/simulator/defenderSimulator.ts) serves generated fleets; this one serves whatever URLs the test hands it.
import * as http from 'node:http';
import { AddressInfo } from 'node:net';

export interface ExportApi {
  baseUrl: string;
  calls: number;
  close(): Promise<void>;
}

export async function startExportApi(answer: () => { exportFiles: string[]; generatedTime: Date }): Promise<ExportApi> {
  const state = { calls: 0 };
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname.toLowerCase();
    if (req.method !== 'GET' || path !== '/api/machines/softwareinventoryexport') {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: { code: 'NotFound', message: 'no such API' } }));
      return;
    }
    state.calls++;
    const { exportFiles, generatedTime } = answer();
    const body = JSON.stringify({ exportFiles, generatedTime: `${generatedTime.toISOString().slice(0, 19)}Z` });
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get calls() {
      return state.calls;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
