// `npm run ingest` (tools/ingest.ts) as a real child process, for fault tests that SIGKILL it, restart it
// and read everything it printed. It runs in an empty working directory so a developer's own
// local.settings.json can never leak settings into a test.
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.join(__dirname, '..', '..');
const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'ingest-proc-'));

export interface IngestProcess {
  child: ChildProcess;
  pid: number;
  /** stdout and stderr, interleaved in arrival order */
  output(): string;
  stdout(): string;
  /** resolves when the process is gone */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>;
  /** SIGKILL: no cleanup, no finally blocks, exactly like a crashed host */
  kill(): Promise<void>;
}

/** `preload`: modules loaded before the script (`node -r`), e.g. a fake credential. */
export function startIngest(env: Record<string, string>, opts: { preload?: string[] } = {}): IngestProcess {
  const started = Date.now();
  const preload = (opts.preload ?? []).flatMap((m) => ['-r', m]);
  const child = spawn(process.execPath, ['-r', require.resolve('ts-node/register/transpile-only'), ...preload, path.join(root, 'tools/ingest.ts')], {
    cwd,
    // only what the runner needs: no inherited Azure settings from the developer's shell
    env: { PATH: process.env.PATH ?? '', TS_NODE_PROJECT: path.join(root, 'tsconfig.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let all = '';
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
    all += d;
  });
  child.stderr!.on('data', (d) => (all += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, ms: Date.now() - started })),
  );
  return {
    child,
    pid: child.pid!,
    output: () => all,
    stdout: () => out,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** Run to the end (or fail the test after timeoutMs, killing the process). */
export async function runIngest(
  env: Record<string, string>,
  timeoutMs = 60_000,
  opts: { preload?: string[] } = {},
): Promise<{ code: number | null; output: string; summary: Record<string, unknown> | undefined; ms: number }> {
  const p = startIngest(env, opts);
  const timer = setTimeout(() => void p.kill(), timeoutMs);
  const r = await p.exited;
  clearTimeout(timer);
  if (r.signal === 'SIGKILL') throw new Error(`ingest did not finish within ${timeoutMs} ms. Output:\n${p.output()}`);
  const last = p.stdout().trim().split('\n').pop();
  let summary: Record<string, unknown> | undefined;
  try {
    summary = last ? (JSON.parse(last) as Record<string, unknown>) : undefined;
  } catch {
    summary = undefined;
  }
  return { code: r.code, output: p.output(), summary, ms: r.ms };
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 30_000, everyMs = 25): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Wait for a state of the tables, then SIGKILL the process; on a timeout the error carries what it printed. */
export async function killWhen<T>(p: IngestProcess, what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 45_000): Promise<T> {
  let found: { value: T } | undefined;
  try {
    found = await Promise.race([waitFor(what, probe, timeoutMs, 10).then((value) => ({ value })), p.exited.then(() => undefined)]);
  } catch (err) {
    await p.kill();
    throw new Error(`${(err as Error).message}. Output:\n${p.output()}`);
  }
  await p.kill();
  if (!found) throw new Error(`the process exited before ${what}. Output:\n${p.output()}`);
  return found.value;
}
