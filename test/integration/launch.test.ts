// tools/launch.js (what `npm start`, `npm run ingest`, `npm run query`, … run): a tool runs as compiled
// JavaScript, built when needed, and a stale build never runs. Exercised on a tiny project in a temp folder
// (the launcher, both tsconfigs, a tool, a module it loads; node_modules linked), so the repository's own
// build is left alone.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

let dir: string;
const write = (rel: string, text: string) => {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), text);
};
const launch = (...args: string[]) => spawnSync(process.execPath, ['tools/launch.js', ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
const built = (stderr: string) => /tools: building/.test(stderr);

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'launch-'));
  for (const f of ['tools/launch.js', 'tsconfig.json', 'tsconfig.tools.json']) write(f, fs.readFileSync(path.join(ROOT, f), 'utf8'));
  fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  write('package.json', '{ "name": "launch-test", "private": true }\n');
  write('shared/greeting.ts', "export const greeting = 'hello';\n");
  write('functions/app.ts', "export const app = 'app';\n");
  write(
    'tools/bin/hello.ts',
    "import { greeting } from '../../shared/greeting';\n" +
      "process.stdout.write(`${greeting} ${process.argv.slice(2).join(' ')} main=${require.main === module} js=${__filename.endsWith('.js')}\\n`);\n",
  );
});

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('tools/launch.js', () => {
  it('builds on the first start, then runs the compiled tool as the main module with its arguments', () => {
    const r = launch('hello', 'a', '--b');
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: 'hello a --b main=true js=true\n' });
    expect(built(r.stderr)).toBe(true);
    expect(fs.existsSync(path.join(dir, 'dist/tools-js/tools/bin/hello.js'))).toBe(true);
  }, 60_000);

  it('does not build again while no source changed', () => {
    const r = launch('hello');
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'hello  main=true js=true\n', stderr: '' });
  });

  it('rebuilds when a source changed, even when its mtime moved back in time', () => {
    const file = path.join(dir, 'shared/greeting.ts');
    const before = fs.statSync(file);
    fs.writeFileSync(file, "export const greeting = 'hi';\n");
    fs.utimesSync(file, new Date(before.mtimeMs - 3_600_000), new Date(before.mtimeMs - 3_600_000));
    const r = launch('hello', 'x');
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: 'hi x main=true js=true\n' });
    expect(built(r.stderr)).toBe(true);
  }, 60_000);

  it('rebuilds when a source is added or removed, and drops the compiled file of a removed source', () => {
    write('shared/extra.ts', 'export const extra = 1;\n');
    expect(built(launch('hello').stderr)).toBe(true);
    expect(fs.existsSync(path.join(dir, 'dist/tools-js/shared/extra.js'))).toBe(true);
    fs.rmSync(path.join(dir, 'shared/extra.ts'));
    const r = launch('hello');
    expect(r.status).toBe(0);
    expect(built(r.stderr)).toBe(true);
    expect(fs.existsSync(path.join(dir, 'dist/tools-js/shared/extra.js'))).toBe(false);
  }, 60_000);

  it('re-emits a compiled file deleted behind its back', () => {
    fs.rmSync(path.join(dir, 'dist/tools-js/shared/greeting.js'));
    const r = launch('hello');
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 0, stdout: 'hi  main=true js=true\n' });
    expect(built(r.stderr)).toBe(true);
  }, 60_000);

  it('processes started together build once; the others wait for it and run the same build', async () => {
    fs.writeFileSync(path.join(dir, 'shared/greeting.ts'), "export const greeting = 'hey';\n");
    const runs = await Promise.all(
      [1, 2, 3].map(
        () =>
          new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
            const c = spawn(process.execPath, ['tools/launch.js', 'hello'], { cwd: dir });
            let stdout = '';
            let stderr = '';
            c.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
            c.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
            c.on('close', (status) => resolve({ status, stdout, stderr }));
          }),
      ),
    );
    expect(runs.map((r) => [r.status, r.stdout])).toEqual([
      [0, 'hey  main=true js=true\n'],
      [0, 'hey  main=true js=true\n'],
      [0, 'hey  main=true js=true\n'],
    ]);
    expect(runs.filter((r) => built(r.stderr))).toHaveLength(1);
    expect(fs.existsSync(path.join(dir, 'dist/tools-js.lock'))).toBe(false);
  }, 60_000);

  it('runs despite a type error (as ts-node --transpile-only did), saying so on stderr, never on stdout', () => {
    write('shared/typo.ts', 'export const n: number = "not a number";\n');
    const r = launch('hello');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('hey  main=true js=true\n');
    expect(r.stderr).toMatch(/TS2322[\s\S]*type errors above/);
    fs.rmSync(path.join(dir, 'shared/typo.ts'));
  }, 60_000);

  it('refuses a tool that does not exist with exit code 2', () => {
    const r = launch('nope');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/usage: node tools\/launch.js <tool>/);
  });
});
