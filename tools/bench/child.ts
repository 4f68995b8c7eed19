// The benchmark's measured work that must run in a clean process of its own, as plain JavaScript
// (tools/bench/children.ts transpiles and starts it), for one export kind (EXPORT_KINDS=<kind>, docs/kinds.md):
//  - pipeline: the real local runner + queue worker ingest an export from Azurite into a fresh snapshot table;
//  - parseMap: lines → JSON → entity on the main thread, no storage (and the same from the gzip files);
//  - memory:   the worker ingests one big file with the snapshot table replaced by a sink that acknowledges
//              every transaction and keeps nothing, while RSS is watched.
// A clean process matters: the benchmark's own process holds 200,000 entities for the raw-insert runs,
// which makes V8 pretenure the mapper's allocations (they then go straight to the old generation) — a
// production worker never looks like that. Input: mode and one JSON argument; output: one JSON line.
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { TableClient } from '@azure/data-tables';
import { createServices } from '../../shared/app/appContext';
import { loadConfig } from '../../shared/core/config';
import { readLines } from '../../shared/ingest/lineReader';
import { Log } from '../../shared/core/log';
import { mapLine } from '../../shared/ingest/recordMapper';
import { progressPartition } from '../../shared/core/contracts';
import { DEFAULT_KIND, ExportKind } from '../../shared/kinds/exportKinds';
import { runIngestCycle } from '../runner/localRunner';
import { sinkHttpClient } from './sink';
import { rollupSource, RollupSource } from './wholeProcess';

export interface ChildTimes {
  rows: number;
  seconds: number;
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
}

export interface PipelineInput {
  /** the export kind ingested (default SoftwareInventory) */
  kind?: ExportKind;
  connectionString: string;
  urls: string[];
  generatedTime: string;
  writeConcurrency: number;
  fileConcurrency: number;
}
export interface PipelineResult extends ChildTimes {
  status: string;
  kind: ExportKind;
  table: string;
  /** read back after the timing: the catalog row in the kind's partition, and file rows of the kind in its progress partition */
  catalogRows: number;
  progressPartition: string;
  fileRows: number;
  fileRowsOfKind: number;
  files: number;
  duplicates: number;
  rejected: number;
  /** how the run built the new snapshot's rollup */
  rollupSource: RollupSource;
  warnings: string[];
}

export interface ParseMapInput {
  kind?: ExportKind;
  /** JSON Lines file, and the same rows as gzip files */
  text: string;
  gz: string[];
}
export interface ParseMapResult {
  parseMap: ChildTimes;
  decodeParseMap: ChildTimes;
}

export interface MemoryInput {
  kind?: ExportKind;
  connectionString: string;
  url: string;
  generatedTime: string;
  /** name → line number at which to record RSS (e.g. "mark") */
  marks: Record<string, number>;
  writeConcurrency: number;
}
export interface MemoryResult extends ChildTimes {
  lines: number;
  duplicates: number;
  rejected: number;
  operations: number;
  /** RSS (bytes) once the runner and SDKs are loaded, before the file */
  rssBaseline: number;
  /** peak RSS (bytes, the kernel's high-water mark of this process) up to each mark */
  peakRssAt: Record<string, number>;
  /** process.memoryUsage() at each mark */
  usageAt: Record<string, NodeJS.MemoryUsage>;
  peakRss: number;
  peakHeapUsed: number;
  warnings: string[];
}

/**
 * Peak RSS of this process image: VmHWM from /proc (reset by exec, unlike getrusage's ru_maxrss, which on
 * Linux also remembers the forked parent's size); elsewhere the resource usage figure.
 */
export function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS * 1024;
}

/** Warnings and errors, and the rollup builds' lines (which say how each was counted). */
function collectingLog(): Log & { lines: string[]; rollups: string[] } {
  const lines: string[] = [];
  const rollups: string[] = [];
  return { lines, rollups, info: (m) => (m.startsWith('rollup of ') ? rollups.push(m) : undefined), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
}

function appConfig(kind: ExportKind, connectionString: string, queue: string, writeConcurrency: number, fileConcurrency: number) {
  return loadConfig({
    AzureWebJobsStorage: connectionString,
    EXPORT_KINDS: kind,
    DEFENDER_API_BASE_URL: 'http://127.0.0.1:9',
    DEFENDER_AUTH: 'none',
    INGEST_QUEUE: queue,
    INGEST_FILE_CONCURRENCY: String(fileConcurrency),
    WRITE_CONCURRENCY: String(writeConcurrency),
    WORKER_TIME_BUDGET_SECONDS: '86400',
    // every run of the benchmark ingests its own export, minutes apart
    SNAPSHOT_INTERVAL_HOURS: '0',
  });
}

function defenderServing(urls: string[], generatedTimeText: string) {
  const generatedTime = new Date(generatedTimeText);
  return {
    async getExportFiles() {
      return { exportFiles: urls, generatedTime, generatedTimeText };
    },
  };
}

async function measure<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number; cpuUserSeconds: number; cpuSystemSeconds: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { value, seconds, cpuUserSeconds: cpu.user / 1e6, cpuSystemSeconds: cpu.system / 1e6 };
}

async function pipeline(input: PipelineInput): Promise<PipelineResult> {
  const kind = input.kind ?? DEFAULT_KIND;
  const config = appConfig(kind, input.connectionString, `bench-${process.pid}`, input.writeConcurrency, input.fileConcurrency);
  const services = createServices(config);
  const log = collectingLog();
  // as npm run ingest runs it: the new snapshot's rollup counted during the ingest and written after the drain
  const m = await measure(() => runIngestCycle({ config, log, services, pollMs: 50, timer: { defender: defenderServing(input.urls, input.generatedTime) } }));
  const s = m.value;
  const partition = progressPartition(s.kind, s.snapshotId);
  const snapshot = await services.catalog.getSnapshot(s.kind, s.snapshotId);
  const fileRows = await services.catalog.listFiles(partition);
  return {
    rows: s.rows,
    seconds: m.seconds,
    cpuUserSeconds: m.cpuUserSeconds,
    cpuSystemSeconds: m.cpuSystemSeconds,
    status: s.status,
    kind: s.kind,
    table: s.table,
    catalogRows: snapshot ? 1 : 0,
    progressPartition: partition,
    fileRows: fileRows.length,
    fileRowsOfKind: fileRows.filter((f) => f.Kind === s.kind).length,
    files: s.files,
    duplicates: s.duplicates,
    rejected: s.rejected,
    rollupSource: rollupSource(log.rollups.join('\n'), s.kind, s.snapshotId),
    warnings: log.lines.slice(-5),
  };
}

async function* slices(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function parseMap(input: ParseMapInput): Promise<ParseMapResult> {
  const kind = input.kind ?? DEFAULT_KIND;
  const text = fs.readFileSync(input.text);
  const gz = input.gz.map((f) => fs.readFileSync(f));
  const lineOptions = { maxLineBytes: 8 * 1024 * 1024 };
  const pm = async () => {
    let ok = 0;
    for await (const line of readLines(slices(text, 64 * 1024), lineOptions)) if (mapLine(line.text, undefined, kind).ok) ok++;
    return ok;
  };
  const decode = async () => {
    let ok = 0;
    for (const f of gz) {
      const gunzip = createGunzip({ chunkSize: 64 * 1024 });
      Readable.from([f]).pipe(gunzip);
      for await (const line of readLines(gunzip as AsyncIterable<Buffer>, lineOptions)) if (mapLine(line.text, undefined, kind).ok) ok++;
    }
    return ok;
  };
  // a short warm-up (the JIT), then the measured passes
  const warm = text.subarray(0, Math.min(text.length, 5 * 1024 * 1024));
  for await (const line of readLines(slices(warm, 64 * 1024), lineOptions)) mapLine(line.text, undefined, kind);
  const a = await measure(pm);
  const b = await measure(decode);
  const times = (x: typeof a): ChildTimes => ({ rows: x.value, seconds: x.seconds, cpuUserSeconds: x.cpuUserSeconds, cpuSystemSeconds: x.cpuSystemSeconds });
  return { parseMap: times(a), decodeParseMap: times(b) };
}

async function memory(input: MemoryInput): Promise<MemoryResult> {
  const config = appConfig(input.kind ?? DEFAULT_KIND, input.connectionString, `bench-mem-${process.pid}`, input.writeConcurrency, 1);
  const services = createServices(config);
  const sink = sinkHttpClient();
  const log = collectingLog();
  let peakHeap = 0;
  // BENCH_MEMORY_TIMELINE=1: print (lines, rss, heap, external) every 100 ms to stderr, to see where memory goes
  const timeline = process.env.BENCH_MEMORY_TIMELINE === '1';
  const sample = setInterval(() => {
    const u = process.memoryUsage();
    peakHeap = Math.max(peakHeap, u.heapUsed);
    if (timeline) process.stderr.write(`timeline ${lines} ${(u.rss / 1048576).toFixed(1)} ${(u.heapTotal / 1048576).toFixed(1)} ${(u.heapUsed / 1048576).toFixed(1)} ${(u.external / 1048576).toFixed(1)} ${(u.arrayBuffers / 1048576).toFixed(1)} ${(peakRss() / 1048576).toFixed(1)}\n`);
  }, 100);
  const marks = Object.entries(input.marks).sort((a, b) => a[1] - b[1]);
  const usageAt: Record<string, NodeJS.MemoryUsage> = {};
  const peakRssAt: Record<string, number> = {};
  let lines = 0;
  const record = (name: string) => {
    usageAt[name] = process.memoryUsage();
    peakRssAt[name] = peakRss();
  };
  const rssBaseline = process.memoryUsage().rss;
  const m = await measure(() =>
    runIngestCycle({
      config,
      log,
      services,
      pollMs: 50,
      rollups: false,
      timer: { defender: defenderServing([input.url], input.generatedTime) },
      ingest: {
        table: (name) => TableClient.fromConnectionString(input.connectionString, name, { allowInsecureConnection: true, httpClient: sink as never }),
        onProgress: (p) => {
          lines = p.linesCommitted;
          while (marks.length && lines >= marks[0][1]) record(marks.shift()![0]);
        },
      },
    }),
  );
  clearInterval(sample);
  for (const [name] of marks) record(name);
  const s = m.value;
  if (s.status !== 'complete') throw new Error(`memory run: snapshot ${s.status}: ${log.lines.slice(-3).join(' | ')}`);
  return {
    rows: s.rows,
    seconds: m.seconds,
    cpuUserSeconds: m.cpuUserSeconds,
    cpuSystemSeconds: m.cpuSystemSeconds,
    lines,
    duplicates: s.duplicates,
    rejected: s.rejected,
    operations: sink.operations,
    rssBaseline,
    peakRssAt,
    usageAt,
    peakRss: peakRss(),
    peakHeapUsed: peakHeap,
    warnings: log.lines.slice(-5),
  };
}

const modes: Record<string, (input: never) => Promise<unknown>> = { pipeline, parseMap, memory };

async function main(): Promise<void> {
  const [mode, json] = process.argv.slice(2);
  const run = modes[mode];
  if (!run) throw new Error(`unknown mode ${mode}`);
  const result = await run(JSON.parse(json) as never);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
