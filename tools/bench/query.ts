// The query-side benchmark (`npm run bench:query`): how long the query CLI's whole-table reads take, read as
// one sequential page stream versus PartitionKey ranges read at once (tools/query/tableRead.ts), with a
// simulated network round trip per request in front of Azurite. One run, ratios in the same run.
//
// What it can and cannot show: Azurite answers a page at once, so the gain measured here is the round trips
// saved. Azure adds server time per page (a property-filtered scan returns a page every 1,000 rows or 5 s),
// which ranges served by different partition servers overlap as well; that part is not measured here.
//
// The trend row (issue #12's target: a product's trend over 30 snapshots in under 2 s whatever the snapshot
// size) gives the table's data 29 more catalog rows (30 snapshots of the same rows, so every snapshot is full
// size), builds their rollups as the timer would (which also measures the build's scan rate), and times
// productTrend() from the rollups against the same call forced to scan every snapshot table.
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
import { createServices } from '../../shared/app/appContext';
import { snapshotIdFor, SnapshotRow, SOFTWARE_INVENTORY } from '../../shared/core/contracts';
import { buildMissingRollups, rollupDeps } from '../../shared/rollup/buildMissing';
import { productTrend } from '../query/trend';
import type { CatalogRow } from '../query/snapshots';

export interface QueryBenchOptions {
  /** devices of the simulated fleet (~28 rows each) */
  devices: number;
  /** simulated round trips, in ms, added to every request */
  rttMs: number[];
  repeat: number;
  /** snapshots of the trend row (0 leaves the row out) */
  trendSnapshots: number;
  log: (line: string) => void;
}

export const QUERY_BENCH_DEFAULTS: Omit<QueryBenchOptions, 'log'> = { devices: 3600, rttMs: [0, 20], repeat: 2, trendSnapshots: 30 };

/** issue #12: a product's trend over 30 snapshots answers in under 2 s, whatever the snapshot size */
export const TREND_TARGET_SECONDS = 2;

export interface TrendBenchRow {
  rttMs: number;
  snapshots: number;
  rowsPerSnapshot: number;
  product: string;
  /** productTrend() with every snapshot rolled up, best of the runs */
  rollupSeconds: number;
  /** the same call scanning every snapshot table (one run) */
  scanSeconds: number;
}

export interface TrendBuild {
  snapshots: number;
  rowsRead: number;
  seconds: number;
  /** rows read per second of building (scan, count and write), over all snapshots */
  rowsPerSecond: number;
  /** rows read per second of the scans alone */
  scanRowsPerSecond: number;
  rollupRowsPerSnapshot: number;
}

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
  trendBuild?: TrendBuild;
  trend: TrendBenchRow[];
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
    const trend: TrendBenchRow[] = [];
    const catalog = o.trendSnapshots > 0 ? await trendSnapshots(config, summary.snapshotId, o) : undefined;
    const trendBuild = catalog?.build;
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
      if (catalog) {
        const tables = { table: (name: string) => TableClient.fromConnectionString(azuriteConnectionString(azurite.blobPort, azurite.queuePort, proxy.port), name, { allowInsecureConnection: true }) };
        const q = { name: 'chrome', vendor: 'google' };
        let rollupMs = Infinity;
        for (let i = 0; i < o.repeat; i++) {
          const t0 = process.hrtime.bigint();
          const fast = await productTrend({ tables }, { ...q, snapshots: catalog.rows });
          rollupMs = Math.min(rollupMs, Number(process.hrtime.bigint() - t0) / 1e6);
          if (fast.points.some((p) => p.source !== 'rollup')) throw new Error('trend: a snapshot was not answered from its rollup');
        }
        // the scan: the same rows without their rollup marker
        const t1 = process.hrtime.bigint();
        const slow = await productTrend({ tables }, { ...q, snapshots: catalog.rows.map((r) => ({ ...r, RollupLayout: undefined })) });
        const scanMs = Number(process.hrtime.bigint() - t1) / 1e6;
        if (slow.points.some((p) => p.source !== 'scan')) throw new Error('trend: the scan run read a rollup');
        const seconds = (ms: number) => Math.round(ms) / 1000;
        const row = { rttMs: rtt, snapshots: catalog.rows.length, rowsPerSnapshot: summary.rows, product: 'google chrome', rollupSeconds: seconds(rollupMs), scanSeconds: seconds(scanMs) };
        o.log(`trend of ${row.product} over ${row.snapshots} snapshots at ${rtt} ms round trip: rollups ${row.rollupSeconds} s, scan ${row.scanSeconds} s`);
        trend.push(row);
      }
    }
    return { at: new Date().toISOString(), tableRows: summary.rows, devices: o.devices, rows, trendBuild, trend };
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  }
}

/**
 * `n` snapshots of the ingested table's data: its own catalog row and n-1 more, generated a day apart before it,
 * all naming that table; their rollups built as the timer builds them. Returns the catalog rows, rollups current.
 */
async function trendSnapshots(config: ReturnType<typeof loadConfig>, snapshotId: string, o: QueryBenchOptions): Promise<{ rows: CatalogRow[]; build: TrendBuild }> {
  const services = createServices(config);
  const real = (await services.catalog.getSnapshot(SOFTWARE_INVENTORY, snapshotId))!;
  const { etag: _etag, timestamp: _ts, ...base } = real;
  for (let i = 1; i < o.trendSnapshots; i++) {
    const generated = new Date(new Date(real.GeneratedTime).getTime() - i * 86_400_000);
    const row: SnapshotRow = { ...(base), rowKey: snapshotIdFor(generated), GeneratedTime: generated };
    for (const k of Object.keys(row)) if (k.startsWith('Rollup')) delete (row as unknown as Record<string, unknown>)[k];
    await services.catalog.createSnapshot(row);
  }
  o.log(`building the rollups of ${o.trendSnapshots - 1} more snapshots of ${real.RowCount} rows (the first was built by the ingest)`);
  // one line per build (progress lines every 10 s are left out: they would flood the bench's output)
  const buildLog = { info: (m: string) => (m.includes(' → ') ? o.log(m) : undefined), warn: o.log, error: o.log };
  const res = await buildMissingRollups(rollupDeps(services.catalog, buildLog), [SOFTWARE_INVENTORY], { budgetMs: Infinity });
  if (res.failed.length) throw new Error(`rollup builds failed: ${JSON.stringify(res.failed[0])}`);
  const rowsRead = res.built.reduce((n, b) => n + b.rowsRead, 0);
  const seconds = res.built.reduce((n, b) => n + b.seconds, 0);
  const scanSeconds = res.built.reduce((n, b) => n + b.scanSeconds, 0);
  const build = { snapshots: res.built.length, rowsRead, seconds: Math.round(seconds * 10) / 10, rowsPerSecond: Math.round(rowsRead / Math.max(0.1, seconds)),
    scanRowsPerSecond: Math.round(rowsRead / Math.max(0.1, scanSeconds)),
    rollupRowsPerSnapshot: res.built[0]?.rollupRows ?? 0,
  };
  o.log(`built ${build.snapshots} rollups: ${build.rowsRead} rows read in ${build.seconds} s (${build.rowsPerSecond} rows/s; the scans alone ${build.scanRowsPerSecond} rows/s), ${build.rollupRowsPerSnapshot} rollup rows each`);
  const rows = (await services.catalog.listSnapshots(SOFTWARE_INVENTORY)).slice(0, o.trendSnapshots);
  return { rows, build };
}

export function formatQueryResults(r: QueryBenchResults): string {
  const head = ['read', 'round trip', 'rows', 'pages (sequential)', 'sequential', '16 ranges', 'speedup'];
  const body = r.rows.map((x) => [x.read, `${x.rttMs} ms`, String(x.rows), String(x.pages), `${x.sequentialMs} ms`, `${x.rangesMs} ms`, `×${x.speedup}`]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  const out = [`query reads of a ${r.tableRows}-row snapshot table (${r.devices} devices), best of the runs`, '', line(head), ...body.map(line)];
  if (r.trendBuild) {
    const b = r.trendBuild;
    out.push('', `rollup builds: ${b.snapshots} snapshots, ${b.rowsRead} rows read in ${b.seconds} s (${b.rowsPerSecond} rows/s; the scans alone ${b.scanRowsPerSecond} rows/s), ${b.rollupRowsPerSnapshot} rollup rows per snapshot`);
  }
  for (const t of r.trend) {
    const verdict = t.rollupSeconds < TREND_TARGET_SECONDS ? 'met' : 'NOT met';
    out.push(
      `trend of ${t.product} over ${t.snapshots} snapshots of ${t.rowsPerSnapshot} rows at ${t.rttMs} ms round trip: rollups ${t.rollupSeconds} s, scan ${t.scanSeconds} s (target < ${TREND_TARGET_SECONDS} s: ${verdict})`,
    );
  }
  return out.join('\n');
}
