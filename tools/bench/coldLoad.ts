// The Functions app's cold load, a line of `npm run bench` (issue #13: under 1 s). The deployment package is
// built exactly as `npm run package` builds it (tools/bin/package.ts: functions/ and shared/ compiled fresh,
// the production dependencies only, into a temp folder), then each run starts a fresh `node` that requires
// every dist/functions/*.js package.json "main" names and times that inside the process: the boot probe
// test/integration/package.test.ts boots the deployed zip with (test/helpers/bootProbe.js, which hands the
// app the worker's @azure/functions-core, as the Functions worker does). No NODE_PATH, an empty HOME.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildPackage } from '../bin/package';
import { ROOT } from '../root';

export interface ColdLoad {
  /** the require of the function files in each run, ms (inside the process, after node's own start) */
  loadMs: number[];
  /** each probe process from spawn to exit, ms (node start-up, the load, writing the report) */
  processMs: number[];
  medianLoadMs: number;
  medianProcessMs: number;
  /** function files required, registrations they made, modules loaded by then */
  entries: number;
  registrations: number;
  modules: number;
  packageSeconds: number;
}

const PROBE = path.join(ROOT, 'test', 'helpers', 'bootProbe.js');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export function measureColdLoad(runs: number, log: (line: string) => void): ColdLoad {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-package-'));
  try {
    const t0 = performance.now();
    const pkg = buildPackage({ outDir: work, log: (line) => log(`package: ${line}`) });
    const packageSeconds = (performance.now() - t0) / 1000;
    const home = fs.mkdtempSync(path.join(work, 'home-'));
    const loadMs: number[] = [];
    const processMs: number[] = [];
    let last: { entries: string[]; registrations: unknown[]; loadedAtBoot: number } | undefined;
    for (let i = 0; i < runs; i++) {
      const started = performance.now();
      const r = spawnSync(process.execPath, [PROBE, pkg.stageDir], {
        cwd: pkg.stageDir,
        env: { PATH: process.env.PATH ?? '', HOME: home, USERPROFILE: home },
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      });
      processMs.push(performance.now() - started);
      if (r.status !== 0) throw new Error(`boot probe failed (${r.status}): ${r.stderr}`);
      const probe = JSON.parse(r.stdout) as { loadMs: number; entries: string[]; registrations: unknown[]; loadedAtBoot: number };
      if (probe.entries.length === 0 || probe.registrations.length === 0) throw new Error(`boot probe: no function file loaded or registered (${r.stdout.slice(0, 500)})`);
      loadMs.push(probe.loadMs);
      last = probe;
    }
    return {
      loadMs: loadMs.map((x) => Math.round(x)),
      processMs: processMs.map((x) => Math.round(x)),
      medianLoadMs: Math.round(median(loadMs)),
      medianProcessMs: Math.round(median(processMs)),
      entries: last?.entries.length ?? 0,
      registrations: last?.registrations.length ?? 0,
      modules: last?.loadedAtBoot ?? 0,
      packageSeconds: Math.round(packageSeconds * 10) / 10,
    };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
