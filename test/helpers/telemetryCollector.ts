// A stand-in for Application Insights' ingestion endpoint: a real HTTPS server on 127.0.0.1 (the SDK only
// speaks https) with a committed test-only certificate, that decodes and keeps every envelope posted to
// /v2.1/track. Processes that send to it need NODE_EXTRA_CA_CERTS=COLLECTOR_CA to trust it.
import * as fs from 'node:fs';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

export const COLLECTOR_CA = path.join(__dirname, '..', 'fixtures', 'tls', 'loopback.crt');
const KEY = path.join(__dirname, '..', 'fixtures', 'tls', 'loopback.key');

export interface Envelope {
  name: string;
  iKey?: string;
  data?: { baseType?: string; baseData?: Record<string, unknown> };
}

export interface CollectedEvent {
  name: string;
  properties: Record<string, string>;
  measurements: Record<string, number>;
}

export interface CollectedMetric {
  name: string;
  value: number;
  count: number;
  properties: Record<string, string>;
}

export interface TelemetryCollector {
  url: string;
  /** the Authorization header of every request */
  authorizations: (string | undefined)[];
  /** every request body, decoded (for "no secret in telemetry" checks) */
  bodies: string[];
  envelopes: Envelope[];
  events(name?: string): CollectedEvent[];
  metrics(name?: string): CollectedMetric[];
  close(): Promise<void>;
}

export async function startTelemetryCollector(): Promise<TelemetryCollector> {
  const authorizations: (string | undefined)[] = [];
  const bodies: string[] = [];
  const envelopes: Envelope[] = [];
  const server = https.createServer({ cert: fs.readFileSync(COLLECTOR_CA), key: fs.readFileSync(KEY) }, (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      let body = Buffer.concat(parts);
      if (req.headers['content-encoding'] === 'gzip') body = zlib.gunzipSync(body);
      const text = body.toString('utf8');
      authorizations.push(req.headers.authorization);
      bodies.push(text);
      let received = 0;
      if (req.method === 'POST' && (req.url ?? '').includes('/track')) {
        const parsed = JSON.parse(text) as Envelope | Envelope[];
        const list = Array.isArray(parsed) ? parsed : [parsed];
        envelopes.push(...list);
        received = list.length;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ itemsReceived: received, itemsAccepted: received, errors: [] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const baseData = (e: Envelope) => e.data?.baseData ?? {};
  return {
    url: `https://127.0.0.1:${port}/`,
    authorizations,
    bodies,
    envelopes,
    events: (name) =>
      envelopes
        .filter((e) => e.data?.baseType === 'EventData')
        .map((e) => ({
          name: String(baseData(e).name),
          properties: (baseData(e).properties ?? {}) as Record<string, string>,
          measurements: (baseData(e).measurements ?? {}) as Record<string, number>,
        }))
        .filter((e) => name === undefined || e.name === name),
    metrics: (name) =>
      envelopes
        .filter((e) => e.data?.baseType === 'MetricData')
        .flatMap((e) => {
          const d = baseData(e) as { metrics?: { name: string; value: number; count?: number }[]; properties?: Record<string, string> };
          return (d.metrics ?? []).map((m) => ({ name: m.name, value: m.value, count: m.count ?? 1, properties: d.properties ?? {} }));
        })
        .filter((m) => name === undefined || m.name === name),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
