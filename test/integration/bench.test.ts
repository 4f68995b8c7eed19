// A small `npm run bench`: every measurement runs end to end and reports sane figures. Timings are not
// asserted (they depend on the machine); correctness of what was measured is.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { measureColdLoad } from '../../tools/bench/coldLoad';
import type { BenchResults } from '../../tools/bench/run';

const ROOT = path.join(__dirname, '..', '..');
const bench = (args: string[]) =>
  spawnSync(process.execPath, ['-r', 'ts-node/register/transpile-only', 'tools/bin/bench.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 420_000 });

describe('npm run bench (smoke)', () => {
  it('measures ceiling, pipeline, whole process, SDK, naive, parse+map, memory and memory under rejected long lines, and writes results.json', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'results.json');
    const run = bench([
      '--rows',
      '5000',
      '--concurrency',
      '4,8',
      '--repeat',
      '1',
      '--naive-seconds',
      '1',
      '--memory-mb',
      '6',
      '--memory-mark-mb',
      '1',
      '--reject-lines',
      '20',
      '--reject-line-mb',
      '0.25',
      // the cold load builds the package (npm ci of the production tree): measured on its own below
      '--cold-load-runs',
      '0',
      '--out',
      out,
    ]);
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr.slice(-3000) }).toEqual({ status: 0, stderr: '' });
    expect(run.stdout).toMatch(/ceiling \(raw batches, conc\. (4|8)\)/);
    expect(run.stdout).toMatch(/pipeline \(worker, 2 files\)/);
    expect(run.stdout).toMatch(/whole process \(npm run ingest, 2 files\)/);
    expect(run.stdout).not.toMatch(/cold load:/);
    expect(run.stdout).toMatch(/targets:/);

    const r = JSON.parse(fs.readFileSync(out, 'utf8')) as BenchResults;
    expect(r.settings).toMatchObject({ kind: 'SoftwareInventory', rows: 5000, files: 2, repeat: 1 });
    expect(run.stdout).toMatch(/Write-path benchmark — SoftwareInventory, 5,000 rows/);
    expect(r.pipeline.best.table).toMatch(/^SoftwareInventory\d{12}$/);
    expect(r.settings.avgLineBytes).toBeGreaterThan(300); // realistic ~0.5 KB records
    const sane = (t: { rows: number; seconds: number; rowsPerSecond: number; cpuSeconds: number; rowsPerCpuSecond: number }) => {
      expect(t.seconds).toBeGreaterThan(0);
      expect(t.rowsPerSecond).toBeGreaterThan(0);
      expect(t.cpuSeconds).toBeGreaterThan(0);
      expect(t.rowsPerCpuSecond).toBeGreaterThan(0);
      expect(Number.isFinite(t.rowsPerSecond)).toBe(true);
    };
    expect(r.ceiling.sweep.map((s) => s.concurrency)).toEqual([4, 8]);
    expect([4, 8]).toContain(r.ceiling.concurrency);
    expect(r.ceiling.best.rows).toBe(5000);
    sane(r.ceiling.best);
    // both build the new snapshot's rollup as npm run ingest does: counted during the ingest, no scan after it
    expect(r.pipeline.best).toMatchObject({ rows: 5000, status: 'complete', files: 2, duplicates: 0, rejected: 0, rollupSource: 'ingest' });
    sane(r.pipeline.best);
    // the real `npm run ingest`, spawned: every row written, and CPU of the whole child tree (start-up included)
    expect(r.wholeProcess.best).toMatchObject({
      rows: 5000,
      status: 'complete',
      files: 2,
      duplicates: 0,
      rejected: 0,
      rollupSource: 'ingest',
      cpuMeasured: process.platform === 'linux',
    });
    if (process.platform === 'linux') {
      sane(r.wholeProcess.best);
      // npm's start-up alone costs more CPU than the in-process worker spends on 5,000 rows
      expect(r.wholeProcess.best.cpuSeconds).toBeGreaterThan(r.pipeline.best.cpuSeconds);
    }
    expect(r.ratios.wholeProcessToCeiling).toBeGreaterThan(0);
    expect(r.sdkTransaction.rows).toBe(5000);
    sane(r.sdkTransaction);
    expect(r.naive.rows).toBeGreaterThan(0);
    sane(r.naive);
    expect(r.coldLoad).toBeUndefined();
    expect(r.parseMap.rows).toBe(5000);
    expect(r.decodeParseMap.rows).toBe(5000);
    sane(r.parseMap);

    const m = r.memory!;
    expect(m.fileBytes).toBeGreaterThanOrEqual(6 * 1024 * 1024);
    expect(m.rows).toBe(m.lines); // every line of the big file became a row in the sink, none lost
    expect(m.rssBaselineMiB).toBeGreaterThan(10);
    expect(m.peakRssAtEndMiB).toBeGreaterThanOrEqual(m.peakRssAtMarkMiB);
    expect(m.peakRssAtMarkMiB).toBeGreaterThanOrEqual(m.rssBaselineMiB * 0.9);

    // every crafted long line was read whole, rejected and counted; none became a row
    const rm = r.rejectMemory!;
    expect(rm).toMatchObject({ lines: 20, rejected: 20 });
    expect(rm.lineBytes).toBeGreaterThanOrEqual(0.25 * 1024 * 1024);
    expect(rm.fileBytes).toBe(rm.lines * rm.lineBytes);
    expect(rm.peakRssMiB).toBeGreaterThanOrEqual(rm.rssBaselineMiB);
    expect(run.stdout).toMatch(/rejects: .* of 20 rejected [\d.]+ MiB lines/);

    expect(r.ratios.pipelineToCeiling).toBeGreaterThan(0);
    expect(r.ratios.pipelineToNaive).toBeGreaterThan(0);
    expect(r.clientCost.pipelineRowsPerCpuSecond).toBe(r.pipeline.best.rowsPerCpuSecond);
    expect(r.targets.map((t) => t.name)).toEqual([
      'pipeline vs ceiling',
      'pipeline vs naive',
      'parse+map, one core',
      'client cost, end to end',
      'whole process vs ceiling',
      'whole process client cost',
      'peak RSS, whole file',
      'RSS flat as the file grows',
      'peak RSS, 20 rejected lines',
    ]);
    for (const t of r.targets) expect(typeof t.met).toBe('boolean');
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }, 450_000);

  it("--kind SoftwareVulnerabilities: generates, maps and ingests vulnerability rows (~1 KB) into the kind's tables and names the kind", () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-')), 'results.json');
    const run = bench([
      '--kind',
      'SoftwareVulnerabilities',
      '--rows',
      '3000',
      '--concurrency',
      '8',
      '--repeat',
      '1',
      '--naive-seconds',
      '0.5',
      '--memory-mb',
      '4',
      '--memory-mark-mb',
      '1',
      '--reject-lines',
      '5',
      '--reject-line-mb',
      '0.1',
      '--cold-load-runs',
      '0',
      '--out',
      out,
    ]);
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr.slice(-3000) }).toEqual({ status: 0, stderr: '' });
    expect(run.stdout).toMatch(/Write-path benchmark — SoftwareVulnerabilities, 3,000 rows/);
    expect(run.stderr).toMatch(/generating 3,000 realistic SoftwareVulnerabilities rows/);

    const r = JSON.parse(fs.readFileSync(out, 'utf8')) as BenchResults;
    expect(r.settings).toMatchObject({ kind: 'SoftwareVulnerabilities', rows: 3000, files: 2 });
    expect(r.settings.avgLineBytes).toBeGreaterThan(700); // vulnerability records are the largest, ~0.9 KB
    // the worker followed the message's kind: the rows landed in a SoftwareVulnerabilities<yyyyMMddHHmm> table (the
    // run also checked its catalog row and file rows in the kind's partitions), from `npm run ingest` with EXPORT_KINDS too
    expect(r.pipeline.best).toMatchObject({ rows: 3000, status: 'complete', files: 2, duplicates: 0, rejected: 0, rollupSource: 'ingest' });
    expect(r.pipeline.best.table).toMatch(/^SoftwareVulnerabilities\d{12}$/);
    expect(r.wholeProcess.best).toMatchObject({ rows: 3000, status: 'complete', files: 2, duplicates: 0, rejected: 0, rollupSource: 'ingest' });
    expect(r.wholeProcess.best.table).toMatch(/^SoftwareVulnerabilities\d{12}$/);
    expect(r.ceiling.best.rows).toBe(3000);
    expect(r.sdkTransaction.rows).toBe(3000);
    // the kind's mapper: every generated vulnerability line maps
    expect(r.parseMap.rows).toBe(3000);
    expect(r.decodeParseMap.rows).toBe(3000);
    // the big file repeats the pattern under new device ids (a vulnerability's `id` holds it too): every line a distinct row
    const m = r.memory!;
    expect(m.fileBytes).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    expect(m.rows).toBe(m.lines);
    expect(r.rejectMemory).toMatchObject({ lines: 5, rejected: 5 });
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }, 450_000);

  it("measures the packaged app's cold load: the package built as npm run package builds it, every function file required and registered in a fresh node", () => {
    const c = measureColdLoad(2, () => undefined);
    expect(c.loadMs).toHaveLength(2);
    expect(c.processMs).toHaveLength(2);
    expect(c.medianLoadMs).toBeGreaterThan(0);
    expect(c.medianProcessMs).toBeGreaterThanOrEqual(c.medianLoadMs);
    const functionFiles = fs.readdirSync(path.join(ROOT, 'functions')).filter((f) => f.endsWith('.ts')).length;
    expect(c.entries).toBe(functionFiles);
    expect(c.registrations).toBeGreaterThanOrEqual(functionFiles);
    expect(c.modules).toBeGreaterThan(functionFiles);
  }, 600_000);

  it('refuses bad options with exit code 2 and usage', () => {
    const run = bench(['--rows', 'many']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--rows: expected a number/);
    expect(bench(['--bogus']).stderr).toMatch(/unknown option --bogus[\s\S]*usage: npm run bench/);
    const kind = bench(['--kind', 'Vulns']);
    expect(kind.status).toBe(2);
    expect(kind.stderr).toMatch(
      /--kind: expected one of SoftwareInventory, NonCpeSoftwareInventory, SoftwareVulnerabilities, SecureConfigurations, got "Vulns"/,
    );
  });
});

describe('npm run bench:query (smoke)', () => {
  it('reads the same rows both ways at each round trip, prints the table and writes query-results.json', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bench-q-')), 'query-results.json');
    const run = spawnSync(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        'tools/bin/benchQuery.ts',
        '--devices',
        '60',
        '--rtt',
        '0,5',
        '--repeat',
        '1',
        '--trend-snapshots',
        '3',
        '--out',
        out,
      ],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr.slice(-3000) }).toEqual({ status: 0, stderr: '' });
    expect(run.stdout).toMatch(/query reads of a \d+-row snapshot table \(60 devices\)/);
    const r = JSON.parse(fs.readFileSync(out, 'utf8')) as import('../../tools/bench/query').QueryBenchResults;
    expect(r.rows.map((x) => [x.read.split(':')[0], x.rttMs])).toEqual([
      ['diff', 0],
      ['device by name', 0],
      ['software', 0],
      ['diff', 5],
      ['device by name', 5],
      ['software', 5],
    ]);
    for (const x of r.rows.filter((x) => !x.read.startsWith('software'))) expect(x.rows).toBe(r.tableRows);
    for (const x of r.rows) expect(x.sequentialMs > 0 && x.rangesMs > 0 && x.speedup > 0).toBe(true);
    // the trend row: 3 snapshots from rollups and by scans, at each round trip
    expect(r.trend.map((t) => [t.snapshots, t.rttMs, t.rollupSeconds > 0, t.scanSeconds > 0])).toEqual([
      [3, 0, true, true],
      [3, 5, true, true],
    ]);
  }, 150_000);
});
