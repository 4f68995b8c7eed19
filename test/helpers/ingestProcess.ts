// `npm run ingest` (tools/bin/ingest.ts) as a real child process, for fault tests that SIGKILL it, restart it
// and read everything it printed. It runs in an empty working directory so a developer's own
// local.settings.json can never leak settings into a test.
import { randomUUID } from 'node:crypto';
import { startTool, ToolProcess } from './toolProcess';

export type IngestProcess = ToolProcess;

/**
 * Settings of a local `npm run ingest` against a Defender API on loopback: a queue of its own (so tests
 * sharing one Azurite never share messages), a 5 s visibility timeout (a dead worker's file comes back
 * soon) and SNAPSHOT_INTERVAL_HOURS=0 (each newer export is a new snapshot, as tests that publish several
 * exports minutes apart expect); `extra` adds or overrides settings.
 */
export function localIngestEnv(storage: string, apiBaseUrl: string, queuePrefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AzureWebJobsStorage: storage,
    DEFENDER_API_BASE_URL: apiBaseUrl,
    DEFENDER_AUTH: 'none',
    INGEST_QUEUE: `${queuePrefix}-${randomUUID().slice(0, 8)}`,
    INGEST_VISIBILITY_TIMEOUT_SECONDS: '5',
    SNAPSHOT_INTERVAL_HOURS: '0',
    ...extra,
  };
}

/** `npm run ingest` with only the given settings; `preload`: modules loaded before it, e.g. a fake credential. */
export function startIngest(env: Record<string, string>, opts: { preload?: string[] } = {}): IngestProcess {
  return startTool('tools/bin/ingest.ts', [], env, opts);
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
