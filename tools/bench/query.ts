// The query-side benchmark (`npm run bench:query`): how long the query CLI's whole-table reads take, read as
// one sequential page stream versus PartitionKey ranges read at once (tools/query/tableRead.ts), with a
// simulated network round trip per request in front of Azurite. One run, ratios in the same run.
//
// What it can and cannot show: Azurite answers a page at once, so the gain measured here is the round trips
// saved. Azure adds server time per page (a property-filtered scan returns a page every 1,000 rows or 5 s),
// which ranges served by different partition servers overlap as well; that part is not measured here.
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { loadConfig } from '../../shared/core/config';
import { silentLog } from '../../shared/core/log';
import { readEntities, ReadOptions } from '../query/tableRead';
import { Azurite, azuriteConnectionString, startAzurite } from '../runner/azurite';
import { startDefenderSimulator } from '../simulator/defenderSimulator';
import { runIngestCycle } from '../runner/localRunner';

export interface QueryBenchOptions {
  /** devices of the simulated fleet (~28 rows each) */
  devices: number;
  /** simulated round trips, in ms, added to every request */
  rttMs: number[];
  repeat: number;
  log: (line: string) => void;
}

export const QUERY_BENCH_DEFAULTS: Omit<QueryBenchOptions, 'log'> = { devices: 3600, rttMs: [0, 20], repeat: 2 };

export interface QueryBenchRow {
  read: string;
  rttMs: number;
  rows: number;
  pages: number;
  sequentialMs: number;
  rangesMs: number;
  /** sequential time / ranges time */
  speedup: number;
}

export interface QueryBenchResults {
  at: string;
  tableRows: number;
  devices: number;
  rows: QueryBenchRow[];
}

/** Forwards to Azurite after `delayMs`: a network round trip, on loopback. */
async function startLatencyProxy(targetPort: number, delayMs: number): Promise<{ port: number; close(): Promise<void> }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () =>
      setTimeout(() => {
        const up = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers: { ...req.headers, host: `127.0.0.1:${targetPort}` }, agent }, (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        });
        up.on('error', () => res.destroy());
        up.end(Buffer.concat(parts));
      }, delayMs),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function timeRead(table: TableClient, opts: ReadOptions): Promise<{ ms: number; rows: number; pages: number }> {
  let pages = 0;
  let rows = 0;
  const started = process.hrtime.bigint();
  for await (const _ of readEntities(table, 'bench', { ...opts, onPage: () => pages++ })) rows++;
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, rows, pages };
}

export async function runQueryBench(o: QueryBenchOptions): Promise<QueryBenchResults> {
  const azurite: Azurite = await startAzurite();
  const cleanups: (() => Promise<void>)[] = [() => azurite.stop()];
  try {
    o.log(`filling a snapshot table: simulated fleet of ${o.devices} devices, through the ingest pipeline`);
    const sim = await startDefenderSimulator({ blobConnectionString: azurite.connectionString, containerName: `qb-${randomUUID().slice(0, 8)}`, devices: o.devices, seed: 7, log: silentLog });
    cleanups.push(() => sim.stop());
    await sim.publish();
    const config = loadConfig({ AzureWebJobsStorage: azurite.connectionString, DEFENDER_API_BASE_URL: sim.baseUrl, DEFENDER_AUTH: 'none', INGEST_QUEUE: 'query-bench' });
    const summary = await runIngestCycle({ config, log: silentLog });
    if (summary.status !== 'complete') throw new Error(`the bench table did not land: ${JSON.stringify(summary)}`);
    o.log(`table ${summary.table}: ${summary.rows} rows`);

    // what the commands read: diff (a whole table, four properties), the device-name scan, software (a property filter)
    const reads: { name: string; opts: ReadOptions }[] = [
      { name: 'diff: whole table, 4 properties', opts: { select: ['PartitionKey', 'RowKey', 'SoftwareVersion', 'DeviceName'] } },
      { name: 'device by name: PartitionKey, DeviceName', opts: { select: ['PartitionKey', 'DeviceName'] } },
      { name: "software: SoftwareName eq 'chrome'", opts: { filter: "SoftwareVendor eq 'google' and SoftwareName eq 'chrome'" } },
    ];
    const rows: QueryBenchRow[] = [];
    for (const rtt of o.rttMs) {
      const proxy = await startLatencyProxy(azurite.tablePort, rtt);
      cleanups.push(() => proxy.close());
      const table = TableClient.fromConnectionString(azuriteConnectionString(azurite.blobPort, azurite.queuePort, proxy.port), summary.table, { allowInsecureConnection: true });
      for (const r of reads) {
        let seq = Infinity;
        let par = Infinity;
        let seen = { rows: 0, pages: 0 };
        // alternate, best of `repeat`: both modes see the same machine noise
        for (let i = 0; i < o.repeat; i++) {
          const a = await timeRead(table, { ...r.opts, scan: false });
          const b = await timeRead(table, { ...r.opts, scan: true });
          if (a.rows !== b.rows) throw new Error(`${r.name}: sequential read ${a.rows} rows, ranges ${b.rows}`);
          seq = Math.min(seq, a.ms);
          par = Math.min(par, b.ms);
          seen = { rows: a.rows, pages: a.pages };
        }
        const row = { read: r.name, rttMs: rtt, rows: seen.rows, pages: seen.pages, sequentialMs: Math.round(seq), rangesMs: Math.round(par), speedup: Math.round((seq / par) * 100) / 100 };
        o.log(`${row.read} at ${rtt} ms round trip: sequential ${row.sequentialMs} ms, ranges ${row.rangesMs} ms (×${row.speedup})`);
        rows.push(row);
      }
    }
    return { at: new Date().toISOString(), tableRows: summary.rows, devices: o.devices, rows };
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}

export function formatQueryResults(r: QueryBenchResults): string {
  const head = ['read', 'round trip', 'rows', 'pages (sequential)', 'sequential', '16 ranges', 'speedup'];
  const body = r.rows.map((x) => [x.read, `${x.rttMs} ms`, String(x.rows), String(x.pages), `${x.sequentialMs} ms`, `${x.rangesMs} ms`, `×${x.speedup}`]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [`query reads of a ${r.tableRows}-row snapshot table (${r.devices} devices), best of the runs`, '', line(head), ...body.map(line)].join('\n');
}
