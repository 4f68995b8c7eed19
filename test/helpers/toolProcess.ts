// A tools/ script (`npm run ingest`, `npm run query`, `npm start`) as a real child process, started the way
// npm starts it (ts-node, transpile-only), with every byte it prints kept for assertions.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const root = path.join(__dirname, '..', '..');
/** An empty working directory, so a developer's own local.settings.json never leaks settings into a test. */
export const emptyCwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tool-proc-'));

export interface ToolOptions {
  /** working directory (default: an empty one) */
  cwd?: string;
  /** also pass this process's environment on (default: only PATH and what `env` says) */
  inheritEnv?: boolean;
  /** modules loaded before the script (`node -r`), e.g. a fake credential */
  preload?: string[];
}

export interface ToolProcess {
  child: ChildProcess;
  pid: number;
  /** stdout and stderr, interleaved in arrival order */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** resolves when the process is gone */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** SIGKILL: no cleanup, no finally blocks, exactly like a crashed host */
  kill(): Promise<void>;
}

/** `script` is relative to the repository root, e.g. 'tools/bin/ingest.ts'. */
export function startTool(script: string, args: string[], env: Record<string, string>, opts: ToolOptions = {}): ToolProcess {
  const started = Date.now();
  const preload = (opts.preload ?? []).flatMap((m) => ['-r', m]);
  const base = opts.inheritEnv ? process.env : { PATH: process.env.PATH ?? '' };
  const child = spawn(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), ...preload, path.join(root, script), ...args], {
    cwd: opts.cwd ?? emptyCwd,
    env: { ...base, TS_NODE_PROJECT: path.join(root, 'tsconfig.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let all = '';
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
    all += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
    all += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - started })),
  );
  return {
    child,
    pid: child.pid!,
    output: () => all,
    stdout: () => out,
    stderr: () => err,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Run to the end; `code` is -1 when it died of a signal. */
export async function runTool(
  script: string,
  args: string[],
  env: Record<string, string>,
  opts: ToolOptions = {},
): Promise<{ code: number; stdout: string; stderr: string; output: string }> {
  const p = startTool(script, args, env, opts);
  const r = await p.exited;
  return { code: r.code ?? -1, stdout: p.stdout(), stderr: p.stderr(), output: p.output() };
}
