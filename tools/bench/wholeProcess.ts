// The whole-process row of `npm run bench`: the real `npm run ingest` (npm → sh → node tools/launch.js → the
// compiled local runner), spawned as a child and timed from spawn to exit, against the same gzip export files in Azurite
// the in-process pipeline row ingests. A tiny Defender stand-in on loopback answers the kind's export endpoint
// (its filesPath, docs/kinds.md; EXPORT_KINDS=<kind> in the child's env) with those files' SAS URLs
// (DEFENDER_AUTH=none is accepted only for a loopback base URL).
//
// CPU of the child tree: on Linux the kernel adds a child's user+system time, and that of every descendant
// it waited for, to the parent's cutime/cstime (/proc/self/stat fields 16–17) when the parent reaps it. npm
// waits for its script's shell, the shell for node, so once this process has reaped npm the delta of its
// own cutime+cstime is the whole tree's CPU, start-up included. Nothing else of ours exits meanwhile (the
// bench runs one measurement at a time; Azurite, a child that is still running, is not counted). Resolution
// is a clock tick (10 ms). Elsewhere the CPU figures are missing (0) and the row says so.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROOT } from '../root';
import type { ChildTimes } from './child';
import { DEFAULT_KIND, ExportKind, kindSpec } from '../../shared/kinds/exportKinds';
import type { RollupBuild } from '../../shared/rollup/rollupBuilder';

export interface WholeProcessInput {
  /** the export kind ingested (default SoftwareInventory) */
  kind?: ExportKind;
  connectionString: string;
  urls: string[];
  generatedTime: string;
  writeConcurrency: number;
  fileConcurrency: number;
  /** extra environment (e.g. NODE_OPTIONS for --cpu-prof) */
  env?: Record<string, string>;
}

export interface WholeProcessResult extends ChildTimes {
  status: string;
  table: string;
  files: number;
  duplicates: number;
  rejected: number;
  /** how the run built the new snapshot's rollup, from its log */
  rollupSource: RollupSource;
  /** false where the children's CPU cannot be read (not Linux) */
  cpuMeasured: boolean;
  exitCode: number | null;
  stderrTail: string;
}

export type RollupSource = RollupBuild['source'] | 'none';

/** How a run's log says the rollup of `snapshotId` was built (shared/rollup/rollupBuilder.ts's line), if it was. */
export function rollupSource(log: string, kind: ExportKind, snapshotId: string): RollupSource {
  const line = log.split('\n').find((l) => l.includes(`rollup of ${kind} snapshot ${snapshotId} (`));
  if (line === undefined) return 'none';
  return line.includes('(counted during ingest)') ? 'ingest' : line.includes('(merged from its parts)') ? 'parts' : 'scan';
}

/** User and system seconds of this process's reaped children (Linux), or undefined. */
export function reapedChildrenCpu(): { user: number; system: number } | undefined {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // after "(comm) ": state is f[0], so field n of proc(5) is f[n - 3]; cutime = 16, cstime = 17, in USER_HZ (100)
    return { user: Number(f[13]) / 100, system: Number(f[14]) / 100 };
  } catch {
    return undefined;
  }
}

/** Serve the kind's export endpoint (the only call `npm run ingest` makes to Defender for one kind) with the given files. */
async function defenderStandIn(kind: ExportKind, urls: string[], generatedTime: string): Promise<{ baseUrl: string; close: () => Promise<void> }> {
  const filesPath = kindSpec(kind).filesPath.toLowerCase();
  const server = createServer((req, res) => {
    const url = (req.url ?? '').toLowerCase();
    if (req.method === 'GET' && (url === filesPath || url.startsWith(`${filesPath}?`))) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ exportFiles: urls, generatedTime }));
    } else {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'NotFound', message: `${req.method} ${req.url}` } }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/** Run `npm run ingest` once, start to exit, and read its JSON summary (the last stdout line). */
export async function runWholeProcess(input: WholeProcessInput): Promise<WholeProcessResult> {
  const kind = input.kind ?? DEFAULT_KIND;
  const defender = await defenderStandIn(kind, input.urls, input.generatedTime);
  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      AzureWebJobsStorage: input.connectionString,
      EXPORT_KINDS: kind,
      DEFENDER_API_BASE_URL: defender.baseUrl,
      DEFENDER_AUTH: 'none',
      INGEST_QUEUE: `bench-proc-${process.pid}-${Date.now().toString(36)}`,
      INGEST_FILE_CONCURRENCY: String(input.fileConcurrency),
      WRITE_CONCURRENCY: String(input.writeConcurrency),
      WORKER_TIME_BUDGET_SECONDS: '86400',
      // every run of the benchmark ingests its own export, minutes apart
      SNAPSHOT_INTERVAL_HOURS: '0',
      // diagnostics: BENCH_PROCESS_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=DIR" profiles npm and the ingest process
      ...(process.env.BENCH_PROCESS_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_PROCESS_NODE_OPTIONS } : {}),
      ...input.env,
    };
    // npm's own variables from an outer `npm run bench` would otherwise steer the inner npm
    for (const k of Object.keys(env)) if (k.startsWith('npm_')) delete env[k];
    const cpu0 = reapedChildrenCpu();
    const t0 = performance.now();
    // as a user runs it: the rollup of the new snapshot included, counted during the ingest (docs/rollups.md#counted-during-ingest)
    const child = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'ingest'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-20_000)));
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', resolve);
    });
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = reapedChildrenCpu();
    const report = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop();
    if (exitCode !== 0 || !report) throw new Error(`npm run ingest failed, exit ${exitCode}: ${stderr.slice(-2000)}`);
    const s = JSON.parse(report) as { status: string; snapshotId: string; table: string; files: number; rows: number; duplicates: number; rejected: number };
    const cpuMeasured = cpu0 !== undefined && cpu1 !== undefined;
    return {
      rows: s.rows,
      seconds,
      cpuUserSeconds: cpuMeasured ? cpu1.user - cpu0.user : 0,
      cpuSystemSeconds: cpuMeasured ? cpu1.system - cpu0.system : 0,
      status: s.status,
      table: s.table,
      files: s.files,
      duplicates: s.duplicates,
      rejected: s.rejected,
      rollupSource: rollupSource(stderr, kind, s.snapshotId),
      cpuMeasured,
      exitCode,
      stderrTail: stderr.slice(-2000),
    };
  } finally {
    await defender.close();
  }
}
