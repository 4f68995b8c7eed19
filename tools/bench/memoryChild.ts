// The benchmark's memory run, in a process of its own (so its RSS is the worker's alone): the real local
// runner and queue worker ingest one big export file from Azurite (download stream → gunzip → lines →
// JSON → entities → in-file dedupe → transactions), with the snapshot table replaced by a sink that
// acknowledges every transaction and keeps nothing. Reports peak RSS as the file goes by.
// Input: one JSON argument (MemoryChildInput); output: one JSON line (MemoryChildResult) on stdout.
import { TableClient } from '@azure/data-tables';
import { createServices } from '../../shared/appContext';
import { loadConfig } from '../../shared/config';
import { Log } from '../../shared/log';
import { runIngestCycle } from '../localRunner';
import { sinkHttpClient } from './sink';

export interface MemoryChildInput {
  connectionString: string;
  url: string;
  generatedTime: string;
  /** name → line number at which to record RSS (e.g. "100MB") */
  marks: Record<string, number>;
  writeConcurrency: number;
}

export interface MemoryChildResult {
  rows: number;
  lines: number;
  duplicates: number;
  rejected: number;
  operations: number;
  seconds: number;
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  /** RSS (bytes) once the runner and SDKs are loaded, before the file */
  rssBaseline: number;
  /** peak RSS (bytes) up to each mark */
  peakRssAt: Record<string, number>;
  /** RSS (bytes) sampled at each mark */
  rssAt: Record<string, number>;
  /** process.memoryUsage() at each mark */
  usageAt: Record<string, NodeJS.MemoryUsage>;
  peakRss: number;
  peakHeapUsed: number;
  warnings: string[];
}

const peakRss = () => process.resourceUsage().maxRSS * 1024;

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2]) as MemoryChildInput;
  const config = loadConfig({
    AzureWebJobsStorage: input.connectionString,
    DEFENDER_API_BASE_URL: 'http://127.0.0.1:9',
    DEFENDER_AUTH: 'none',
    INGEST_QUEUE: `bench-mem-${process.pid}`,
    INGEST_FILE_CONCURRENCY: '1',
    WRITE_CONCURRENCY: String(input.writeConcurrency),
    WORKER_TIME_BUDGET_SECONDS: '86400',
  });
  const services = createServices(config);
  const sink = sinkHttpClient();
  const warnings: string[] = [];
  const log: Log = { info: () => {}, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
  const generatedTime = new Date(input.generatedTime);
  const defender = {
    async getSoftwareInventoryExport() {
      return { exportFiles: [input.url], generatedTime, generatedTimeText: input.generatedTime };
    },
  };

  let peakHeap = 0;
  const sample = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 100);
  const marks = Object.entries(input.marks).sort((a, b) => a[1] - b[1]);
  const rssAt: Record<string, number> = {};
  const usageAt: Record<string, NodeJS.MemoryUsage> = {};
  const peakRssAt: Record<string, number> = {};
  let lines = 0;
  const rssBaseline = process.memoryUsage().rss;

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const summary = await runIngestCycle({
    config,
    log,
    services,
    pollMs: 50,
    timer: { defender },
    ingest: {
      table: (name) => TableClient.fromConnectionString(input.connectionString, name, { allowInsecureConnection: true, httpClient: sink as never }),
      onProgress: (p) => {
        lines = p.linesCommitted;
        while (marks.length && lines >= marks[0][1]) {
          const [name] = marks.shift()!;
          usageAt[name] = process.memoryUsage();
          rssAt[name] = usageAt[name].rss;
          peakRssAt[name] = peakRss();
        }
      },
    },
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sample);
  for (const [name] of marks) {
    usageAt[name] = process.memoryUsage();
    rssAt[name] = usageAt[name].rss;
    peakRssAt[name] = peakRss();
  }
  if (summary.status !== 'complete') throw new Error(`memory run: snapshot ${summary.status}: ${warnings.slice(-3).join(' | ')}`);
  const result: MemoryChildResult = {
    rows: summary.rows,
    lines,
    duplicates: summary.duplicates,
    rejected: summary.rejected,
    operations: sink.operations,
    seconds,
    cpuUserSeconds: cpu.user / 1e6,
    cpuSystemSeconds: cpu.system / 1e6,
    rssBaseline,
    peakRssAt,
    rssAt,
    usageAt,
    peakRss: peakRss(),
    peakHeapUsed: peakHeap,
    warnings: warnings.slice(-5),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
