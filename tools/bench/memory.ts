// Parent side of the memory run: stream a big export file into Azurite, then run tools/bench/memoryChild
// as plain JavaScript in a process of its own (transpiled here, so the measured RSS is the app's, not the
// TypeScript compiler's) and collect its report.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Azurite } from '../azurite';
import { BigFile, Line, uploadBigFile } from './data';
import type { MemoryChildInput, MemoryChildResult } from './memoryChild';

const ROOT = path.join(__dirname, '..', '..');

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...tsFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Transpile shared/ and tools/ to JavaScript under node_modules/.cache (what `npm run build` would emit, without type checks). */
export function transpileForChild(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  const out = path.join(ROOT, 'node_modules', '.cache', 'bench-js');
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
  return out;
}

export interface MemoryRun {
  file: BigFile;
  child: MemoryChildResult;
  markBytes: number;
  generateSeconds: number;
}

export async function memoryRun(azurite: Azurite, base: Line[], opts: { fileBytes: number; markBytes: number; writeConcurrency: number; generatedTime: Date; childStderr?: boolean }): Promise<MemoryRun> {
  const t0 = performance.now();
  const file = await uploadBigFile(azurite, base, opts.fileBytes, { mark: opts.markBytes });
  const generateSeconds = (performance.now() - t0) / 1000;
  const js = transpileForChild();
  const input: MemoryChildInput = {
    connectionString: azurite.connectionString,
    url: file.url,
    generatedTime: opts.generatedTime.toISOString(),
    marks: { mark: file.linesAt.mark ?? file.lines, end: file.lines },
    writeConcurrency: opts.writeConcurrency,
  };
  // BENCH_CHILD_NODE_FLAGS: extra node flags for the worker process (diagnostics: --trace-gc, --cpu-prof, ...)
  const flags = (process.env.BENCH_CHILD_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(process.execPath, [...flags, path.join(js, 'tools', 'bench', 'memoryChild.js'), JSON.stringify(input)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', opts.childStderr ? 'inherit' : 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (b: Buffer) => {
    stdout += b.toString();
    if (opts.childStderr) process.stderr.write(b); // diagnostics (e.g. --trace-gc prints to stdout)
  });
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`memory run failed (exit ${code}): ${stderr.slice(-2000)}`);
  const result = JSON.parse(stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop()!) as MemoryChildResult;
  return { file, child: result, markBytes: opts.markBytes, generateSeconds };
}
