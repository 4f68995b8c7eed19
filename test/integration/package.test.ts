/**
 * `npm run package` builds the zip that deploys; this proves that zip boots on its own. It is built into a
 * temp folder, unpacked by an independent unzip into an empty folder, and a separate `node` process (no
 * NODE_PATH, HOME an empty folder, nothing installed afterwards) loads package.json "main" with the real
 * @azure/functions library registering against a stand-in for the worker's @azure/functions-core
 * (test/helpers/bootProbe.js). The registrations are the metadata the Functions host would receive.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildPackage, PackageResult, RUNTIME_UNUSED } from '../../tools/bin/package';

const ROOT = path.join(__dirname, '..', '..');
const PROBE = path.join(__dirname, '..', 'helpers', 'bootProbe.js');

interface Binding {
  type: string;
  direction: string;
  schedule?: string;
  runOnStartup?: boolean;
  queueName?: string;
  connection?: string;
}
interface Probe {
  appRoot: string;
  programmingModel: string | null;
  entries: string[];
  registrations: { name: string; bindings: Record<string, Binding>; callback: string }[];
  loadMs: number;
  lazyMs: number;
  loadedAtBoot: number;
  lazy: { spec: string; from: string; resolved: string }[];
  modules: string[];
  unresolved: { request: string; from: string | null }[];
  warnings: string[];
}
interface LockEntry {
  dev?: boolean;
  version?: string;
}

/** Specifiers a production package tries and does without when they are absent, and why that is fine. */
const OPTIONAL_PEERS: Record<string, string> = {
  // debug (via the Azure SDKs' logger) colours its output when supports-color exists; jest brings it in dev
  'supports-color': 'only output colours; debug catches the failed require',
};

const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
const rootManifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  main: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The package-lock key of the package a file sits in: node_modules/a/node_modules/@s/b/lib/x.js → node_modules/a/node_modules/@s/b */
function lockKey(relFile: string): string {
  const parts = relFile.split(/[\\/]/);
  let end = 0;
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] !== 'node_modules') continue;
    end = i + (parts[i + 1]?.startsWith('@') ? 3 : 2);
  }
  return parts.slice(0, end).join('/');
}

function unzip(zip: string, dest: string): string {
  const tools: [string, string[]][] = [
    ['unzip', ['-q', zip, '-d', dest]],
    ['python3', ['-m', 'zipfile', '-e', zip, dest]],
    ['tar', ['-xf', zip, '-C', dest]], // bsdtar (Windows, macOS) reads zip
  ];
  for (const [cmd, args] of tools) {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') continue;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.error}`);
    return cmd;
  }
  throw new Error('no unzip, python3 or tar on PATH to unpack the package with');
}

function listFiles(dir: string, rel = ''): string[] {
  return fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).flatMap((e) => {
    const r = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? listFiles(dir, r) : [r];
  });
}

describe('npm run package: the deployment zip', () => {
  let work: string;
  let pkg: PackageResult;
  let appRoot: string;
  let files: string[];
  let probe: Probe;
  let probeWallMs: number;

  beforeAll(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'package-test-'));
    pkg = buildPackage({ outDir: path.join(work, 'out'), log: () => undefined });
    appRoot = path.join(work, 'app');
    fs.mkdirSync(appRoot);
    unzip(pkg.zipPath, appRoot);
    files = listFiles(appRoot);
    const home = fs.mkdtempSync(path.join(work, 'home-'));
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [PROBE, appRoot], {
      cwd: appRoot,
      env: { PATH: process.env.PATH ?? '', HOME: home, USERPROFILE: home },
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    probeWallMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.status !== 0) throw new Error(`boot probe failed (${r.status}): ${r.stderr}`);
    probe = JSON.parse(r.stdout) as Probe;
    // measured, not asserted (machines differ): docs/deploy.md quotes these
    console.log(
      `package: ${(pkg.zipBytes / 1e6).toFixed(1)} MB zip, ${pkg.files} files, ${(pkg.unpackedBytes / 1e6).toFixed(1)} MB unpacked; ` +
        `cold load of ${probe.entries.length} function files ${probe.loadMs.toFixed(0)} ms (${probe.loadedAtBoot} modules), ` +
        `lazy SDKs ${probe.lazyMs.toFixed(0)} ms, probe process ${probeWallMs.toFixed(0)} ms, Node ${process.version}`,
    );
  }, 600_000);

  afterAll(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test('holds host.json, package.json, package-lock.json, dist/functions, dist/shared and node_modules only', () => {
    const top = [...new Set(files.map((f) => f.split('/')[0]))].sort();
    expect(top).toEqual(['dist', 'host.json', 'node_modules', 'package-lock.json', 'package.json']);
    expect([...new Set(files.filter((f) => f.startsWith('dist/')).map((f) => f.split('/')[1]))].sort()).toEqual(['functions', 'shared']);
    // compiled JavaScript only: no TypeScript, no maps, no tests or tools
    expect(files.filter((f) => f.startsWith('dist/') && !f.endsWith('.js'))).toEqual([]);
    expect(files.filter((f) => RUNTIME_UNUSED.test(f))).toEqual([]);
    const functions = fs
      .readdirSync(path.join(ROOT, 'functions'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `dist/functions/${f.replace(/\.ts$/, '.js')}`);
    expect(files.filter((f) => f.startsWith('dist/functions/')).sort()).toEqual(functions.sort());
    expect(fs.readFileSync(path.join(appRoot, 'host.json'), 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'host.json'), 'utf8'));
  });

  test("node_modules is exactly the lock file's production tree: every dependency, no dev package", () => {
    const installed = new Set(files.filter((f) => f.startsWith('node_modules/') && f.endsWith('/package.json')).map((f) => lockKey(f)));
    const production = Object.entries(lock.packages)
      .filter(([k, v]) => k.startsWith('node_modules/') && !v.dev)
      .map(([k]) => k);
    // every production package of the lock is there (optional platform packages aside)
    const missing = production.filter((k) => !installed.has(k) && !(lock.packages[k] as { optional?: boolean }).optional);
    expect(missing).toEqual([]);
    const dev = [...installed].filter((k) => k !== '' && lock.packages[k]?.dev === true);
    expect(dev).toEqual([]);
    for (const name of Object.keys(rootManifest.dependencies)) expect(installed.has(`node_modules/${name}`)).toBe(true);
    // a devDependency is there only when a production package needs it too (e.g. @types/node, semver)
    for (const name of Object.keys(rootManifest.devDependencies)) {
      const key = `node_modules/${name}`;
      expect([name, installed.has(key)]).toEqual([name, lock.packages[key]?.dev !== true]);
    }
    for (const tool of ['jest', 'typescript', 'ts-node', 'ts-jest', 'azurite']) expect([tool, installed.has(`node_modules/${tool}`)]).toEqual([tool, false]);
  });

  test('boots: the real @azure/functions registers the three functions with their triggers and bindings', () => {
    expect(probe.entries).toEqual(['dist/functions/exportTimer.js', 'dist/functions/ingestExportFile.js', 'dist/functions/ingestPoison.js']);
    expect(probe.programmingModel).toMatch(/^@azure\/functions@4\./);
    const byName = Object.fromEntries(probe.registrations.map((r) => [r.name, Object.values(r.bindings)]));
    expect(Object.keys(byName).sort()).toEqual(['exportTimer', 'ingestExportFile', 'ingestPoison']);
    for (const r of probe.registrations) expect([r.name, r.callback]).toEqual([r.name, 'function']);
    expect(byName.exportTimer).toEqual([
      expect.objectContaining({ type: 'timerTrigger', direction: 'in', schedule: '%EXPORT_SCHEDULE%', runOnStartup: false }),
    ]);
    expect(byName.ingestExportFile).toEqual([
      expect.objectContaining({ type: 'queueTrigger', direction: 'in', queueName: '%INGEST_QUEUE%', connection: 'AzureWebJobsStorage' }),
    ]);
    expect(byName.ingestPoison).toEqual([
      expect.objectContaining({ type: 'queueTrigger', direction: 'in', queueName: '%INGEST_QUEUE%-poison', connection: 'AzureWebJobsStorage' }),
    ]);
    // the library found the stand-in worker API: no "test mode" warning
    expect(probe.warnings.filter((w) => /test mode|Skipping call to register/.test(w))).toEqual([]);
  });

  test('everything loaded at boot and by the lazy requires comes from the package, and only from production packages', () => {
    // the lazy requires were found and exercised (telemetry SDK, the tables SDK's own pipeline)
    expect(probe.lazy.map((l) => l.spec)).toEqual(expect.arrayContaining(['applicationinsights', '@azure/core-rest-pipeline', '@azure/functions']));
    const appReal = fs.realpathSync(appRoot);
    const outside = probe.modules.filter((m) => !m.startsWith(appReal + path.sep));
    expect(outside).toEqual([]);
    const packages = [
      ...new Set(
        probe.modules
          .map((m) => path.relative(appReal, m))
          .filter((m) => m.startsWith('node_modules'))
          .map(lockKey),
      ),
    ];
    expect(packages.length).toBeGreaterThan(10);
    expect(packages.filter((k) => !lock.packages[k] || lock.packages[k].dev)).toEqual([]);
    // a specifier that did not resolve is a dependency the package lacks, unless it is a known optional one
    expect(probe.unresolved.filter((u) => !(u.request in OPTIONAL_PEERS))).toEqual([]);
  });
});
