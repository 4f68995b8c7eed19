// Parent side of tools/bench/child.ts: transpile the app to plain JavaScript (so a child's CPU and RSS are
// the app's, not the TypeScript compiler's), start a child for one measurement, collect its JSON report.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Azurite } from '../runner/azurite';
import { BigFile, Line, RejectFile, uploadBigFile, uploadRejectFile } from './data';
import type { MemoryInput, MemoryResult, ParseMapInput, ParseMapResult, PipelineInput, PipelineResult } from './child';
import { ROOT } from '../root';
import { DEFAULT_KIND, ExportKind } from '../../shared/kinds/exportKinds';

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

let transpiled: string | undefined;
/** Transpile shared/ and tools/ under node_modules/.cache (what `npm run build` would emit, without type checks), once per process. */
export function transpileForChild(): string {
  if (transpiled) return transpiled;
  // `npm run bench` runs compiled (tools/launch.js): the children run from the same fresh build, nothing to transpile
  if (__filename.endsWith('.js')) return (transpiled = path.join(__dirname, '..', '..'));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  const out = path.join(ROOT, 'node_modules', '.cache', `bench-js-${process.pid}`);
  for (const dir of ['shared', 'tools']) {
    for (const file of tsFiles(path.join(ROOT, dir))) {
      const js = ts.transpileModule(fs.readFileSync(file, 'utf8'), {
        fileName: file,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, resolveJsonModule: true },
      }).outputText;
      const dest = path.join(out, path.relative(ROOT, file)).replace(/\.ts$/, '.js');
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.writeFileSync(dest, js);
    }
  }
  for (const f of ['host.json', 'package.json']) fs.copyFileSync(path.join(ROOT, f), path.join(out, f));
  process.once('exit', () => fs.rmSync(out, { recursive: true, force: true }));
  transpiled = out;
  return out;
}

type ModeIO = { pipeline: [PipelineInput, PipelineResult]; parseMap: [ParseMapInput, ParseMapResult]; memory: [MemoryInput, MemoryResult] };

/** Run one measurement in a fresh process. BENCH_CHILD_NODE_FLAGS adds node flags (diagnostics: --trace-gc, --cpu-prof). */
export async function runChild<M extends keyof ModeIO>(mode: M, input: ModeIO[M][0], opts: { echo?: boolean } = {}): Promise<ModeIO[M][1]> {
  const js = transpileForChild();
  const flags = (process.env.BENCH_CHILD_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...flags, path.join(js, 'tools', 'bench', 'child.js'), mode, JSON.stringify(input)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => {
    stdout += b.toString();
    if (opts.echo) process.stderr.write(b);
  });
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
    if (opts.echo) process.stderr.write(b);
  });
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const report = stdout.split('\n').filter((l) => l.startsWith('{')).pop();
  if (code !== 0 || !report) throw new Error(`bench child (${mode}) failed, exit ${code}: ${stderr.slice(-2000)}`);
  return JSON.parse(report) as ModeIO[M][1];
}

export interface MemoryRun {
  file: BigFile;
  child: MemoryResult;
  markBytes: number;
  generateSeconds: number;
}

/** Stream a big export file into Azurite, then have a fresh worker process ingest it into a discarding sink. */
export async function memoryRun(
  azurite: Azurite,
  base: Line[],
  opts: { kind?: ExportKind; fileBytes: number; markBytes: number; writeConcurrency: number; generatedTime: Date; echo?: boolean },
): Promise<MemoryRun> {
  const kind = opts.kind ?? DEFAULT_KIND;
  const t0 = performance.now();
  const file = await uploadBigFile(azurite, base, opts.fileBytes, { mark: opts.markBytes }, kind);
  const generateSeconds = (performance.now() - t0) / 1000;
  const child = await runChild(
    'memory',
    {
      kind,
      connectionString: azurite.connectionString,
      url: file.url,
      generatedTime: opts.generatedTime.toISOString(),
      marks: { mark: file.linesAt.mark ?? file.lines, end: file.lines },
      writeConcurrency: opts.writeConcurrency,
    },
    { echo: opts.echo },
  );
  return { file, child, markBytes: opts.markBytes, generateSeconds };
}

export interface RejectMemoryRun {
  file: RejectFile;
  child: MemoryResult;
  generateSeconds: number;
}

/** A crafted file whose every line is a multi-megabyte reject, ingested by a fresh worker process while its RSS is watched. */
export async function rejectMemoryRun(
  azurite: Azurite,
  opts: { kind?: ExportKind; lines: number; lineBytes: number; writeConcurrency: number; generatedTime: Date; echo?: boolean },
): Promise<RejectMemoryRun> {
  const kind = opts.kind ?? DEFAULT_KIND;
  const t0 = performance.now();
  // an over-long SoftwareName rejects the line in every kind (SecureConfigurations: its ConfigurationId is missing)
  const file = await uploadRejectFile(azurite, opts.lines, opts.lineBytes, 42, kind);
  const generateSeconds = (performance.now() - t0) / 1000;
  const child = await runChild(
    'memory',
    { kind, connectionString: azurite.connectionString, url: file.url, generatedTime: opts.generatedTime.toISOString(), marks: { end: file.lines }, writeConcurrency: opts.writeConcurrency },
    { echo: opts.echo },
  );
  return { file, child, generateSeconds };
}
