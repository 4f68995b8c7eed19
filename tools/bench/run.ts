// The write-path benchmark for one export kind (--kind, default SoftwareInventory; docs/kinds.md): one Azurite,
// the same generated rows of that kind, measured as
//  1. ceiling   — the fastest raw batched insert into a fresh table (transactions of ≤100 per partition,
//                 best concurrency of a sweep), client work kept to building and sending the bodies;
//  2. pipeline  — the real local runner + queue worker: SAS download → gunzip → lines → JSON → map →
//                 dedupe → transactions, from gzip files in Azurite's blob service (in a clean child process);
//  3. naive     — one upsertEntity per row, sequential, time-boxed;
//  4. parse+map — lines → JSON → entity on one core, no storage;
//  5. memory    — peak RSS of a separate worker process ingesting one ≥1 GB file into a discarding sink;
//                 and of one ingesting a crafted file of 1,000 rejected 4 MiB lines (rejects keep only excerpts);
//  6. client cost — CPU-seconds (user+sys) of the ingesting process per 100,000 rows (Azurite excluded),
//                 pipeline beside raw inserts and the SDK's own submitTransaction;
//  7. whole process — the real `npm run ingest` spawned against the same export files, start to exit (the new
//                 snapshot's rollup included, as in the pipeline row: counted during the ingest), its
//                 CPU that of the whole child tree (npm, shell, node and launcher start-up included): tools/bench/wholeProcess.ts;
//  8. cold load  — `require` of the packaged app's dist/functions/*.js in fresh node processes, production
//                 dependencies only (the package `npm run package` builds): tools/bench/coldLoad.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { DEFAULTS } from '../../shared/core/config';
import { mapLine } from '../../shared/ingest/recordMapper';
import { DEFAULT_KIND, ExportKind } from '../../shared/kinds/exportKinds';
import { PendingEntity, writeEntities } from '../../shared/storage/tableWriter';
import { Azurite, startAzurite } from '../runner/azurite';
import type { ChildTimes } from './child';
import { memoryRun, rejectMemoryRun, runChild } from './children';
import { ColdLoad, measureColdLoad } from './coldLoad';
import { fleetLines, gzipFile, jsonl, Line, splitByDevice, uploadExport } from './data';
import { RollupSource, runWholeProcess } from './wholeProcess';

export interface BenchOptions {
  /** the export kind generated, mapped and ingested */
  kind: ExportKind;
  rows: number;
  /** export files the pipeline ingests (default: one per 50,000 rows, at least 2) */
  files?: number;
  /** concurrencies tried for the ceiling */
  concurrency: number[];
  /** rows per sweep step (default: a quarter of rows, at least 20,000, at most rows) */
  sweepRows?: number;
  /** ceiling and pipeline are measured this many times each, alternately; the best of each counts */
  repeat: number;
  naiveSeconds: number;
  /** rows of the SDK submitTransaction reference run (default: a quarter of rows) */
  sdkRows?: number;
  writeConcurrency: number;
  fileConcurrency: number;
  /** the memory run's file size and the early mark, uncompressed bytes; 0 skips the memory run */
  memoryBytes: number;
  memoryMarkBytes: number;
  /** the rejected-lines memory run: lines and bytes a line; 0 lines skips it */
  rejectLines: number;
  rejectLineBytes: number;
  /** fresh processes timing the packaged app's cold load; 0 skips it (and building the package) */
  coldLoadRuns: number;
  seed: number;
  log: (line: string) => void;
  azurite?: Azurite;
}

export const BENCH_DEFAULTS = {
  kind: DEFAULT_KIND,
  rows: 200_000,
  concurrency: [4, 8, 16, 32],
  repeat: 2,
  naiveSeconds: 10,
  writeConcurrency: DEFAULTS.WRITE_CONCURRENCY as number,
  fileConcurrency: DEFAULTS.INGEST_FILE_CONCURRENCY as number,
  memoryBytes: 1024 * 1024 * 1024,
  memoryMarkBytes: 100 * 1024 * 1024,
  rejectLines: 1000,
  rejectLineBytes: 4 * 1024 * 1024,
  coldLoadRuns: 5,
  seed: 42,
};

export interface Timed {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  cpuUserSeconds: number;
  cpuSystemSeconds: number;
  cpuSeconds: number;
  rowsPerCpuSecond: number;
  cpuSecondsPer100kRows: number;
  /** share of one core Azurite used meanwhile (Linux), a sign of who the bottleneck was */
  azuriteCpuShare?: number;
}

/** CPU seconds used so far by a process (Linux /proc; undefined elsewhere). */
function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

async function timed<T>(rows: (value: T) => number, fn: () => Promise<T>, azuritePid?: number): Promise<Timed & { value: T }> {
  const az0 = azuritePid ? processCpuSeconds(azuritePid) : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const az1 = azuritePid ? processCpuSeconds(azuritePid) : undefined;
  const n = rows(value);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    value,
    rows: n,
    seconds: round(seconds, 3),
    rowsPerSecond: Math.round(n / seconds),
    cpuUserSeconds: round(cpu.user / 1e6, 3),
    cpuSystemSeconds: round(cpu.system / 1e6, 3),
    cpuSeconds: round(cpuSeconds, 3),
    rowsPerCpuSecond: Math.round(n / cpuSeconds),
    cpuSecondsPer100kRows: round((cpuSeconds * 100_000) / n, 2),
    ...(az0 !== undefined && az1 !== undefined ? { azuriteCpuShare: round((az1 - az0) / seconds, 2) } : {}),
  };
}

/** Figures of a measurement a child process made, with Azurite's CPU over the same time (taken here). */
async function timedChild<R extends ChildTimes>(azuritePid: number | undefined, run: () => Promise<R>): Promise<Timed & { value: R }> {
  const az0 = azuritePid ? processCpuSeconds(azuritePid) : undefined;
  const value = await run();
  const az1 = azuritePid ? processCpuSeconds(azuritePid) : undefined;
  const cpuSeconds = value.cpuUserSeconds + value.cpuSystemSeconds;
  const n = value.rows;
  return {
    value,
    rows: n,
    seconds: round(value.seconds, 3),
    rowsPerSecond: Math.round(n / value.seconds),
    cpuUserSeconds: round(value.cpuUserSeconds, 3),
    cpuSystemSeconds: round(value.cpuSystemSeconds, 3),
    cpuSeconds: round(cpuSeconds, 3),
    rowsPerCpuSecond: Math.round(n / cpuSeconds),
    cpuSecondsPer100kRows: round((cpuSeconds * 100_000) / n, 2),
    // the child's start-up is outside its own timing but inside this window: a slight underestimate
    ...(az0 !== undefined && az1 !== undefined ? { azuriteCpuShare: round((az1 - az0) / value.seconds, 2) } : {}),
  };
}

function strip<T extends { value: unknown }>(t: T): Omit<T, 'value'> {
  const { value: _value, ...rest } = t;
  return rest;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

function entitiesOf(lines: Line[], kind: ExportKind): PendingEntity[] {
  return lines.map((l, i) => {
    const m = mapLine(l.text, undefined, kind);
    if (!m.ok) throw new Error(`generated line ${i + 1} does not map: ${m.reason}`);
    return { entity: m.entity, line: i + 1 };
  });
}

async function freshTable(azurite: Azurite, prefix: string): Promise<TableClient> {
  const t = TableClient.fromConnectionString(azurite.connectionString, `${prefix}${randomUUID().replace(/-/g, '').slice(0, 16)}`, { allowInsecureConnection: true });
  await t.createTable();
  return t;
}

async function rawInsert(azurite: Azurite, items: PendingEntity[], concurrency: number, transport: 'lean' | 'sdk'): Promise<Timed> {
  const table = await freshTable(azurite, transport === 'lean' ? 'BenchRaw' : 'BenchSdk');
  try {
    const r = await timed((w) => w.written, () => writeEntities(table, items, concurrency, { transport }), azurite.pid);
    if (r.value.written !== items.length) throw new Error(`raw insert wrote ${r.value.written} of ${items.length}`);
    return strip(r);
  } finally {
    await table.deleteTable().catch(() => undefined);
  }
}

let stamp = Date.UTC(2030, 0, 1, 0, 0) + Math.floor(Math.random() * 1e6) * 60_000;
const nextGeneratedTime = () => new Date((stamp += 60_000));
// `npm run ingest` asks Defender through the real client, which refuses a generatedTime ahead of the clock
let pastStamp = Date.UTC(2020, 0, 1, 0, 0) + Math.floor(Math.random() * 1e6) * 60_000;
const nextPastGeneratedTime = () => new Date((pastStamp += 60_000));

interface PipelineRun extends Timed {
  /** the snapshot table the run wrote (dropped afterwards) */
  table: string;
  files: number;
  status: string;
  duplicates: number;
  rejected: number;
  warnings: number;
  /** how the run built the new snapshot's rollup (a measured run requires 'ingest': counted while ingesting) */
  rollupSource: RollupSource;
}

/** Each measured run lands in its own snapshot table; drop it so later runs do not work against a fuller Azurite. */
async function dropSnapshotTable(azurite: Azurite, table: string): Promise<void> {
  await TableClient.fromConnectionString(azurite.connectionString, table, { allowInsecureConnection: true })
    .deleteTable()
    .catch(() => undefined);
}

async function pipelineRun(azurite: Azurite, urls: string[], expectedRows: number, o: BenchOptions): Promise<PipelineRun> {
  const r = await timedChild(azurite.pid, () =>
    runChild('pipeline', {
      kind: o.kind,
      connectionString: azurite.connectionString,
      urls,
      generatedTime: nextGeneratedTime().toISOString(),
      writeConcurrency: o.writeConcurrency,
      fileConcurrency: o.fileConcurrency,
    }),
  );
  const s = r.value;
  if (s.status !== 'complete' || s.rows !== expectedRows) {
    throw new Error(`pipeline run ended ${s.status} with ${s.rows} of ${expectedRows} rows: ${s.warnings.join(' | ')}`);
  }
  // the kind's catalog partition and progress partition (docs/kinds.md), read back by the child after its timing
  if (s.kind !== o.kind || s.catalogRows !== 1 || s.fileRows !== s.files || s.fileRowsOfKind !== s.files) {
    throw new Error(`pipeline run of ${o.kind}: catalog/file rows not where the kind's contract puts them: ${JSON.stringify({ kind: s.kind, catalogRows: s.catalogRows, progressPartition: s.progressPartition, fileRows: s.fileRows, fileRowsOfKind: s.fileRowsOfKind, files: s.files })}`);
  }
  // the row measures the ingest a user runs, rollup included: it must have been counted during the ingest, not scanned
  if (s.rollupSource !== 'ingest') throw new Error(`pipeline run of ${o.kind}: the new snapshot's rollup was ${s.rollupSource === 'scan' ? 'built by a scan' : 'not built'}, not counted during the ingest`);
  await dropSnapshotTable(azurite, s.table);
  return {
    ...strip(r),
    table: s.table,
    files: s.files,
    status: s.status,
    duplicates: s.duplicates,
    rejected: s.rejected,
    warnings: s.warnings.length,
    rollupSource: s.rollupSource,
  };
}

interface WholeProcessRun extends PipelineRun {
  /** false where the child tree's CPU could not be read (not Linux): the CPU figures are then 0 */
  cpuMeasured: boolean;
}

async function wholeProcessRun(azurite: Azurite, urls: string[], expectedRows: number, o: BenchOptions): Promise<WholeProcessRun> {
  const r = await timedChild(azurite.pid, () =>
    runWholeProcess({
      kind: o.kind,
      connectionString: azurite.connectionString,
      urls,
      generatedTime: nextPastGeneratedTime().toISOString(),
      writeConcurrency: o.writeConcurrency,
      fileConcurrency: o.fileConcurrency,
    }),
  );
  const s = r.value;
  if (s.status !== 'complete' || s.rows !== expectedRows) {
    throw new Error(`npm run ingest ended ${s.status} with ${s.rows} of ${expectedRows} rows: ${s.stderrTail}`);
  }
  if (s.rollupSource !== 'ingest') throw new Error(`npm run ingest: the new snapshot's rollup was ${s.rollupSource === 'scan' ? 'built by a scan' : 'not built'}, not counted during the ingest`);
  await dropSnapshotTable(azurite, s.table);
  const cpu = s.cpuMeasured ? {} : { cpuSeconds: 0, rowsPerCpuSecond: 0, cpuSecondsPer100kRows: 0 };
  return {
    ...strip(r),
    ...cpu,
    table: s.table,
    files: s.files,
    status: s.status,
    duplicates: s.duplicates,
    rejected: s.rejected,
    warnings: 0,
    rollupSource: s.rollupSource,
    cpuMeasured: s.cpuMeasured,
  };
}

async function naiveRun(azurite: Azurite, items: PendingEntity[], seconds: number): Promise<Timed> {
  const table = await freshTable(azurite, 'BenchNaive');
  try {
    const deadline = performance.now() + seconds * 1000;
    const r = await timed(
      (n) => n,
      async () => {
        let n = 0;
        while (n < items.length && performance.now() < deadline) await table.upsertEntity(items[n++].entity, 'Replace');
        return n;
      },
      azurite.pid,
    );
    return strip(r);
  } finally {
    await table.deleteTable().catch(() => undefined);
  }
}

/** lines → JSON → entity on one core without storage, and the same from the gzip files, in a clean process. */
async function parseMapRuns(kind: ExportKind, text: Buffer, gz: Buffer[]): Promise<{ parseMap: Timed; decodeParseMap: Timed }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-parse-'));
  try {
    const textFile = path.join(dir, 'export.json');
    fs.writeFileSync(textFile, text);
    const gzFiles = gz.map((g, i) => {
      const f = path.join(dir, `part-${i}.json.gz`);
      fs.writeFileSync(f, g);
      return f;
    });
    const r = await runChild('parseMap', { kind, text: textFile, gz: gzFiles });
    const figures = (t: ChildTimes) => timedChild(undefined, async () => t).then(strip);
    return { parseMap: await figures(r.parseMap), decodeParseMap: await figures(r.decodeParseMap) };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export interface Target {
  name: string;
  target: string;
  value: string;
  met: boolean;
}

export interface BenchResults {
  version: 1;
  startedAt: string;
  durationSeconds: number;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    node: string;
    platform: string;
    azurite: string;
    loadAverageStart: number[];
    loadAverageEnd: number[];
  };
  settings: {
    kind: ExportKind;
    rows: number;
    files: number;
    avgLineBytes: number;
    uncompressedBytes: number;
    compressedBytes: number;
    writeConcurrency: number;
    fileConcurrency: number;
    concurrencySweep: number[];
    sweepRows: number;
    repeat: number;
    naiveSeconds: number;
    memoryBytes: number;
    memoryMarkBytes: number;
    rejectLines: number;
    rejectLineBytes: number;
    coldLoadRuns: number;
  };
  ceiling: { concurrency: number; sweep: (Timed & { concurrency: number })[]; runs: Timed[]; best: Timed };
  pipeline: { runs: PipelineRun[]; best: PipelineRun };
  /** `npm run ingest` spawned, start to exit; CPU of the whole child tree */
  wholeProcess: { runs: WholeProcessRun[]; best: WholeProcessRun };
  sdkTransaction: Timed & { concurrency: number };
  naive: Timed;
  /** the packaged Functions app: require of its function files in fresh processes */
  coldLoad?: ColdLoad;
  parseMap: Timed;
  decodeParseMap: Timed;
  memory?: {
    fileBytes: number;
    compressedBytes: number;
    lines: number;
    rows: number;
    seconds: number;
    rowsPerSecond: number;
    rowsPerCpuSecond: number;
    generateSeconds: number;
    markBytes: number;
    rssBaselineMiB: number;
    peakRssAtMarkMiB: number;
    peakRssAtEndMiB: number;
    rssAtMarkMiB: number;
    rssAtEndMiB: number;
    heapTotalAtMarkMiB: number;
    heapTotalAtEndMiB: number;
    growthPercent: number;
    peakHeapUsedMiB: number;
  };
  rejectMemory?: {
    lines: number;
    lineBytes: number;
    fileBytes: number;
    compressedBytes: number;
    rejected: number;
    seconds: number;
    rssBaselineMiB: number;
    peakRssMiB: number;
    peakHeapUsedMiB: number;
  };
  ratios: { pipelineToCeiling: number; wholeProcessToCeiling: number; pipelineToNaive: number; pipelineToSdkCpu: number };
  clientCost: {
    pipelineCpuSecondsPer100kRows: number;
    pipelineRowsPerCpuSecond: number;
    wholeProcessCpuSecondsPer100kRows: number;
    wholeProcessRowsPerCpuSecond: number;
    ceilingCpuSecondsPer100kRows: number;
    ceilingRowsPerCpuSecond: number;
    sdkTransactionCpuSecondsPer100kRows: number;
    sdkTransactionRowsPerCpuSecond: number;
  };
  targets: Target[];
}

const MiB = 1024 * 1024;
const mib = (b: number) => round(b / MiB, 1);

function azuriteVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(require.resolve('azurite/package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export async function runBench(o: BenchOptions): Promise<BenchResults> {
  const started = new Date();
  const loadAverageStart = os.loadavg().map((x) => round(x, 2));
  const say = o.log;
  const azurite = o.azurite ?? (await startAzurite());
  try {
    say(`generating ${o.rows.toLocaleString('en-US')} realistic ${o.kind} rows…`);
    let lines = fleetLines(o.rows, o.seed, o.kind);
    const fileCount = o.files ?? Math.max(2, Math.ceil(o.rows / 50_000));
    const parts = splitByDevice(lines, fileCount);
    const gz = parts.map((p) => gzipFile(p));
    const text = jsonl(lines);
    const uploaded = await uploadExport(azurite, gz, o.kind);
    const items = entitiesOf(lines, o.kind);
    const base = lines.slice(0, Math.min(lines.length, 60_000)); // the memory run's pattern
    lines = [];
    const avgLineBytes = round(text.length / o.rows, 1);
    say(`${o.rows} rows, ${parts.length} files, ${mib(text.length)} MiB uncompressed, ${mib(uploaded.compressedBytes)} MiB gzip, ${avgLineBytes} bytes a line`);

    // warm up Azurite and this process's JIT on a throw-away table
    await rawInsert(azurite, items.slice(0, Math.min(items.length, 5000)), 8, 'lean');

    say('parse+map (no storage)…');
    const { parseMap, decodeParseMap } = await parseMapRuns(o.kind, text, gz);

    const sweepRows = Math.min(o.rows, o.sweepRows ?? Math.max(20_000, Math.ceil(o.rows / 4)));
    const sweep: (Timed & { concurrency: number })[] = [];
    for (const c of o.concurrency) {
      const t = await rawInsert(azurite, items.slice(0, sweepRows), c, 'lean');
      sweep.push({ concurrency: c, ...t });
      say(`ceiling sweep: concurrency ${c}: ${t.rowsPerSecond} rows/s`);
    }
    const bestConcurrency = sweep.reduce((a, b) => (b.rowsPerSecond > a.rowsPerSecond ? b : a)).concurrency;

    const ceilingRuns: Timed[] = [];
    const pipelineRuns: PipelineRun[] = [];
    const processRuns: WholeProcessRun[] = [];
    for (let i = 0; i < o.repeat; i++) {
      const c = await rawInsert(azurite, items, bestConcurrency, 'lean');
      ceilingRuns.push(c);
      say(`ceiling run ${i + 1}: ${c.rowsPerSecond} rows/s (concurrency ${bestConcurrency}), ${c.rowsPerCpuSecond} rows per CPU-second`);
      const p = await pipelineRun(azurite, uploaded.urls, o.rows, o);
      pipelineRuns.push(p);
      say(`pipeline run ${i + 1}: ${p.rowsPerSecond} rows/s, ${p.rowsPerCpuSecond} rows per CPU-second`);
      const w = await wholeProcessRun(azurite, uploaded.urls, o.rows, o);
      processRuns.push(w);
      say(`whole process (npm run ingest) run ${i + 1}: ${w.rowsPerSecond} rows/s, ${w.rowsPerCpuSecond} rows per CPU-second, ${w.seconds} s`);
    }
    const best = <T extends Timed>(runs: T[]) => runs.reduce((a, b) => (b.rowsPerSecond > a.rowsPerSecond ? b : a));
    const ceiling = best(ceilingRuns);
    const pipeline = best(pipelineRuns);
    const wholeProcess = best(processRuns);

    const sdkRows = Math.min(o.rows, o.sdkRows ?? Math.max(5000, Math.ceil(o.rows / 4)));
    say(`SDK submitTransaction reference on ${sdkRows} rows…`);
    const sdkTransaction = { concurrency: bestConcurrency, ...(await rawInsert(azurite, items.slice(0, sdkRows), bestConcurrency, 'sdk')) };

    say(`naive: one upsertEntity per row for ${o.naiveSeconds} s…`);
    const naive = await naiveRun(azurite, items, o.naiveSeconds);

    let coldLoad: ColdLoad | undefined;
    if (o.coldLoadRuns > 0) {
      say(`cold load: building the package as npm run package does, then requiring its function files in ${o.coldLoadRuns} fresh node processes…`);
      coldLoad = measureColdLoad(o.coldLoadRuns, say);
      say(`cold load: ${coldLoad.loadMs.join(', ')} ms`);
    }

    let memory: BenchResults['memory'];
    if (o.memoryBytes > 0) {
      say(`memory: streaming a ${mib(o.memoryBytes)} MiB file into Azurite, then ingesting it in a separate worker process…`);
      const m = await memoryRun(azurite, base, { kind: o.kind, fileBytes: o.memoryBytes, markBytes: o.memoryMarkBytes, writeConcurrency: o.writeConcurrency, generatedTime: nextGeneratedTime() });
      const c = m.child;
      const cpu = c.cpuUserSeconds + c.cpuSystemSeconds;
      memory = {
        fileBytes: m.file.uncompressedBytes,
        compressedBytes: m.file.compressedBytes,
        lines: m.file.lines,
        rows: c.rows,
        seconds: round(c.seconds, 2),
        rowsPerSecond: Math.round(c.rows / c.seconds),
        rowsPerCpuSecond: Math.round(c.rows / cpu),
        generateSeconds: round(m.generateSeconds, 1),
        markBytes: o.memoryMarkBytes,
        rssBaselineMiB: mib(c.rssBaseline),
        peakRssAtMarkMiB: mib(c.peakRssAt.mark),
        peakRssAtEndMiB: mib(c.peakRssAt.end),
        rssAtMarkMiB: mib(c.usageAt.mark.rss),
        rssAtEndMiB: mib(c.usageAt.end.rss),
        heapTotalAtMarkMiB: mib(c.usageAt.mark.heapTotal),
        heapTotalAtEndMiB: mib(c.usageAt.end.heapTotal),
        growthPercent: round(((c.peakRssAt.end - c.peakRssAt.mark) / c.peakRssAt.mark) * 100, 1),
        peakHeapUsedMiB: mib(c.peakHeapUsed),
      };
      if (c.rows !== c.lines - c.duplicates - c.rejected || c.operations !== c.rows) {
        throw new Error(`memory run lost rows: ${JSON.stringify({ rows: c.rows, lines: c.lines, operations: c.operations })}`);
      }
      say(`memory: peak RSS ${memory.peakRssAtMarkMiB} MiB at ${mib(o.memoryMarkBytes)} MiB, ${memory.peakRssAtEndMiB} MiB at ${mib(memory.fileBytes)} MiB (${memory.growthPercent}%)`);
    }

    let rejectMemory: BenchResults['rejectMemory'];
    if (o.rejectLines > 0) {
      say(`memory: a file of ${n(o.rejectLines)} rejected ${mib(o.rejectLineBytes)} MiB lines, ingested in a separate worker process…`);
      const m = await rejectMemoryRun(azurite, { kind: o.kind, lines: o.rejectLines, lineBytes: o.rejectLineBytes, writeConcurrency: o.writeConcurrency, generatedTime: nextGeneratedTime() });
      const c = m.child;
      if (c.rejected !== o.rejectLines || c.rows !== 0) throw new Error(`reject memory run: expected ${o.rejectLines} rejects and no row, got ${c.rejected} and ${c.rows}`);
      rejectMemory = {
        lines: m.file.lines,
        lineBytes: m.file.lineBytes,
        fileBytes: m.file.uncompressedBytes,
        compressedBytes: m.file.compressedBytes,
        rejected: c.rejected,
        seconds: round(c.seconds, 2),
        rssBaselineMiB: mib(c.rssBaseline),
        peakRssMiB: mib(c.peakRss),
        peakHeapUsedMiB: mib(c.peakHeapUsed),
      };
      say(`memory: peak RSS ${rejectMemory.peakRssMiB} MiB with ${n(rejectMemory.rejected)} rejected ${mib(rejectMemory.lineBytes)} MiB lines`);
    }

    const results: BenchResults = {
      version: 1,
      startedAt: started.toISOString(),
      durationSeconds: round((Date.now() - started.getTime()) / 1000, 1),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryGiB: round(os.totalmem() / 1024 ** 3, 1),
        node: process.version,
        platform: `${process.platform} ${os.release()}`,
        azurite: azuriteVersion(),
        loadAverageStart,
        loadAverageEnd: os.loadavg().map((x) => round(x, 2)),
      },
      settings: {
        kind: o.kind,
        rows: o.rows,
        files: parts.length,
        avgLineBytes,
        uncompressedBytes: text.length,
        compressedBytes: uploaded.compressedBytes,
        writeConcurrency: o.writeConcurrency,
        fileConcurrency: o.fileConcurrency,
        concurrencySweep: o.concurrency,
        sweepRows,
        repeat: o.repeat,
        naiveSeconds: o.naiveSeconds,
        memoryBytes: o.memoryBytes,
        memoryMarkBytes: o.memoryMarkBytes,
        rejectLines: o.rejectLines,
        rejectLineBytes: o.rejectLineBytes,
        coldLoadRuns: o.coldLoadRuns,
      },
      ceiling: { concurrency: bestConcurrency, sweep, runs: ceilingRuns, best: ceiling },
      pipeline: { runs: pipelineRuns, best: pipeline },
      wholeProcess: { runs: processRuns, best: wholeProcess },
      sdkTransaction,
      naive,
      coldLoad,
      parseMap,
      decodeParseMap,
      memory,
      rejectMemory,
      ratios: {
        pipelineToCeiling: round(pipeline.rowsPerSecond / ceiling.rowsPerSecond, 3),
        wholeProcessToCeiling: round(wholeProcess.rowsPerSecond / ceiling.rowsPerSecond, 3),
        pipelineToNaive: round(pipeline.rowsPerSecond / naive.rowsPerSecond, 1),
        pipelineToSdkCpu: round(pipeline.rowsPerCpuSecond / sdkTransaction.rowsPerCpuSecond, 2),
      },
      clientCost: {
        pipelineCpuSecondsPer100kRows: pipeline.cpuSecondsPer100kRows,
        pipelineRowsPerCpuSecond: pipeline.rowsPerCpuSecond,
        wholeProcessCpuSecondsPer100kRows: wholeProcess.cpuSecondsPer100kRows,
        wholeProcessRowsPerCpuSecond: wholeProcess.rowsPerCpuSecond,
        ceilingCpuSecondsPer100kRows: ceiling.cpuSecondsPer100kRows,
        ceilingRowsPerCpuSecond: ceiling.rowsPerCpuSecond,
        sdkTransactionCpuSecondsPer100kRows: sdkTransaction.cpuSecondsPer100kRows,
        sdkTransactionRowsPerCpuSecond: sdkTransaction.rowsPerCpuSecond,
      },
      targets: [],
    };
    results.targets = targetsOf(results);
    return results;
  } finally {
    if (!o.azurite) await azurite.stop();
  }
}

export function targetsOf(r: BenchResults): Target[] {
  const t: Target[] = [
    { name: 'pipeline vs ceiling', target: '≥ 0.85 × ceiling', value: `${r.ratios.pipelineToCeiling.toFixed(2)} ×`, met: r.ratios.pipelineToCeiling >= 0.85 },
    { name: 'pipeline vs naive', target: '≥ 5 × naive', value: `${r.ratios.pipelineToNaive.toFixed(1)} ×`, met: r.ratios.pipelineToNaive >= 5 },
    { name: 'parse+map, one core', target: '≥ 150,000 rows/s', value: `${r.parseMap.rowsPerSecond.toLocaleString('en-US')} rows/s`, met: r.parseMap.rowsPerSecond >= 150_000 },
    {
      name: 'client cost, end to end',
      target: '≥ 15,000 rows per CPU-second',
      value: `${r.clientCost.pipelineRowsPerCpuSecond.toLocaleString('en-US')} rows/CPU-s`,
      met: r.clientCost.pipelineRowsPerCpuSecond >= 15_000,
    },
    // issue #13: the command a user runs, start to exit, start-up included
    {
      name: 'whole process vs ceiling',
      target: '≥ 0.9 × ceiling',
      // three digits: 0.898 is not met, and two would print it as 0.90
      value: `${r.ratios.wholeProcessToCeiling.toFixed(3)} ×`,
      met: r.ratios.wholeProcessToCeiling >= 0.9,
    },
    {
      name: 'whole process client cost',
      target: '≥ 15,000 rows per CPU-second',
      value: r.wholeProcess.best.cpuMeasured ? `${r.clientCost.wholeProcessRowsPerCpuSecond.toLocaleString('en-US')} rows/CPU-s` : 'not measured (no /proc)',
      met: r.wholeProcess.best.cpuMeasured && r.clientCost.wholeProcessRowsPerCpuSecond >= 15_000,
    },
  ];
  if (r.coldLoad) {
    const c = r.coldLoad;
    t.push({ name: 'Functions app cold load', target: '< 1,000 ms (median)', value: `${n(c.medianLoadMs)} ms`, met: c.medianLoadMs < 1000 });
  }
  if (r.memory) {
    t.push(
      { name: 'peak RSS, whole file', target: '< 200 MiB', value: `${r.memory.peakRssAtEndMiB} MiB`, met: r.memory.peakRssAtEndMiB < 200 },
      {
        name: 'RSS flat as the file grows',
        target: `within 20% from ${mib(r.memory.markBytes)} MiB to ${mib(r.memory.fileBytes)} MiB`,
        value: `${r.memory.growthPercent >= 0 ? '+' : ''}${r.memory.growthPercent}%`,
        met: Math.abs(r.memory.growthPercent) <= 20,
      },
    );
  }
  if (r.rejectMemory) {
    const m = r.rejectMemory;
    t.push({ name: `peak RSS, ${n(m.lines)} rejected lines`, target: '< 200 MiB', value: `${m.peakRssMiB} MiB`, met: m.peakRssMiB < 200 });
  }
  return t;
}

const n = (x: number) => x.toLocaleString('en-US');
const pad = (s: string, w: number, right = false) => (right ? s.padStart(w) : s.padEnd(w));

export function formatResults(r: BenchResults): string {
  const rows: string[][] = [['measure', 'rows', 'seconds', 'rows/s', 'CPU-s /100k', 'rows/CPU-s', 'Azurite core', 'note']];
  const line = (name: string, t: Timed, note = '') =>
    rows.push([name, n(t.rows), t.seconds.toFixed(1), n(t.rowsPerSecond), t.cpuSecondsPer100kRows.toFixed(2), n(t.rowsPerCpuSecond), t.azuriteCpuShare !== undefined ? `${Math.round(t.azuriteCpuShare * 100)}%` : '', note]);
  line(`ceiling (raw batches, conc. ${r.ceiling.concurrency})`, r.ceiling.best, 'storage limit here');
  line(`pipeline (worker, ${r.settings.files} files)`, r.pipeline.best, `${r.ratios.pipelineToCeiling.toFixed(2)} × ceiling`);
  line(`whole process (npm run ingest, ${r.wholeProcess.best.files} files)`, r.wholeProcess.best, `${r.ratios.wholeProcessToCeiling.toFixed(2)} × ceiling, start to exit, rollup included`);
  line(`SDK submitTransaction (conc. ${r.sdkTransaction.concurrency})`, r.sdkTransaction, 'reference for CPU');
  line('naive (1 upsert per row)', r.naive, `pipeline ${r.ratios.pipelineToNaive.toFixed(1)} × faster`);
  line('parse+map (no storage)', r.parseMap, 'main thread only');
  line('gunzip+parse+map (no storage)', r.decodeParseMap, '');
  const widths = rows[0].map((_, i) => Math.max(...rows.map((x) => x[i].length)));
  const out: string[] = [];
  out.push(
    `Write-path benchmark — ${r.settings.kind ?? DEFAULT_KIND}, ${n(r.settings.rows)} rows (${r.settings.avgLineBytes} B a line), Azurite ${r.machine.azurite}, ${r.machine.cpus} CPUs, Node ${r.machine.node}, load ${r.machine.loadAverageStart.join('/')} → ${r.machine.loadAverageEnd.join('/')}`,
  );
  out.push(`WRITE_CONCURRENCY ${r.settings.writeConcurrency}, INGEST_FILE_CONCURRENCY ${r.settings.fileConcurrency}; best of ${r.settings.repeat} alternating runs; ceiling sweep ${r.ceiling.sweep.map((s) => `${s.concurrency}:${n(s.rowsPerSecond)}`).join(' ')}`);
  out.push('');
  for (const row of rows) out.push(row.map((c, i) => pad(c, widths[i], i > 0 && i < 7)).join('  '));
  if (r.coldLoad) {
    const c = r.coldLoad;
    out.push('');
    out.push(
      `cold load: the packaged Functions app (${c.entries} function files, ${c.registrations} registrations, ${n(c.modules)} modules, production dependencies only) required in a fresh node: median ${n(c.medianLoadMs)} ms (${c.loadMs.map(n).join(', ')} ms); process spawn to exit median ${n(c.medianProcessMs)} ms`,
    );
  }
  if (r.memory) {
    const m = r.memory;
    out.push('');
    out.push(
      `memory: ${mib(m.fileBytes)} MiB file (${n(m.lines)} lines, ${mib(m.compressedBytes)} MiB gzip) ingested by a separate worker process into a discarding sink in ${m.seconds.toFixed(1)} s (${n(m.rowsPerSecond)} rows/s, ${n(m.rowsPerCpuSecond)} rows/CPU-s)`,
    );
    out.push(`        RSS at start ${m.rssBaselineMiB} MiB; peak RSS at ${mib(m.markBytes)} MiB: ${m.peakRssAtMarkMiB} MiB; at ${mib(m.fileBytes)} MiB: ${m.peakRssAtEndMiB} MiB (${m.growthPercent >= 0 ? '+' : ''}${m.growthPercent}%); peak heap ${m.peakHeapUsedMiB} MiB`);
  }
  if (r.rejectMemory) {
    const m = r.rejectMemory;
    out.push('');
    out.push(
      `rejects: ${mib(m.fileBytes)} MiB file of ${n(m.lines)} rejected ${mib(m.lineBytes)} MiB lines (${mib(m.compressedBytes)} MiB gzip) ingested by a separate worker process in ${m.seconds.toFixed(1)} s: RSS at start ${m.rssBaselineMiB} MiB, peak RSS ${m.peakRssMiB} MiB, peak heap ${m.peakHeapUsedMiB} MiB`,
    );
  }
  out.push('');
  out.push('targets:');
  const tw = Math.max(...r.targets.map((t) => t.name.length));
  const vw = Math.max(...r.targets.map((t) => t.value.length));
  for (const t of r.targets) out.push(`  ${t.met ? 'met    ' : 'NOT MET'}  ${pad(t.name, tw)}  ${pad(t.value, vw, true)}  (target ${t.target})`);
  return out.join('\n');
}
