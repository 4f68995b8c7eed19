// Runs a tool as compiled JavaScript: `node tools/launch.js <name> [args…]` runs tools/bin/<name>.ts as
// dist/tools-js/tools/bin/<name>.js, building first when any source changed since the last build. The npm
// scripts (`npm start`, `npm run ingest`, `npm run query -- …`, `npm run bench`, …) call this. Under ts-node
// every start transpiled every module again (~2.4 CPU-s of the ~15 of `npm run ingest` on 200,000 rows);
// compiled, a tool starts in a few tenths of a second. Plain JavaScript, so it needs no build itself.
//
// A stale build never runs. The build stamp (dist/tools-js/.stamp) lists every input of the build (the .ts
// files under functions/, shared/ and tools/, the two tsconfigs and this file), each with its size and
// mtime as read *before* that build started. The tool runs only when the inputs on disk match that list
// exactly; any file edited, added or removed, or an mtime moved either way (a checkout, a restore), means
// a build: `tsc -p tsconfig.tools.json`, incremental. A file changed while tsc runs no longer matches the
// list written after it, so the next start builds again. A compiled file deleted since is emitted again.
// Checking costs a few milliseconds of stat calls.
//
// Processes started together (tests, a benchmark and a query at once) build once: the build runs under a
// lock folder (dist/tools-js.lock), and whoever waited for it checks again before building. Like
// ts-node --transpile-only before, a type error does not stop a tool: tsc still emits, its diagnostics go
// to stderr, and the tool runs (`npm run typecheck` and `npm test` are where types are enforced).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const ROOT = path.join(__dirname, '..');
const OUT = path.join(ROOT, 'dist', 'tools-js');
const STAMP = path.join(OUT, '.stamp');
const BUILD_INFO = path.join(OUT, '.tsbuildinfo');
const LOCK = path.join(ROOT, 'dist', 'tools-js.lock');
const TSCONFIG = path.join(ROOT, 'tsconfig.tools.json');
const SOURCE_DIRS = ['functions', 'shared', 'tools'];
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.tools.json', 'tools/launch.js'];
const LOCK_WAIT_MS = 5 * 60 * 1000;

/** The .ts files of the build, relative to the root with '/' separators, sorted. */
function sources() {
  const out = [];
  const walk = (rel) => {
    for (const e of fs.readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') walk(r);
      } else if (e.name.endsWith('.ts')) out.push(r);
    }
  };
  for (const d of SOURCE_DIRS) walk(d);
  return out.sort();
}

/** One line per input: path, size, mtime (ms). */
function manifest(files) {
  return [...CONFIG_FILES, ...files]
    .map((rel) => {
      const s = fs.statSync(path.join(ROOT, rel));
      return `${rel}\t${s.size}\t${s.mtimeMs}`;
    })
    .join('\n');
}

function readStamp() {
  try {
    return fs.readFileSync(STAMP, 'utf8');
  } catch {
    return undefined;
  }
}

const outputOf = (rel) => path.join(OUT, rel.replace(/\.ts$/, '.js'));

const sleepSync = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

/** Take the build lock (a folder: mkdir is atomic); a lock whose holder died is taken over. */
function lock() {
  fs.mkdirSync(path.dirname(LOCK), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (let said = false; ;) {
    try {
      fs.mkdirSync(LOCK);
      fs.writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    let holder;
    try {
      holder = Number(fs.readFileSync(path.join(LOCK, 'pid'), 'utf8'));
    } catch {
      // just created, pid not written yet; or just released
    }
    if (holder && !alive(holder)) {
      fs.rmSync(LOCK, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${LOCK} is still held after ${LOCK_WAIT_MS / 1000} s (by pid ${holder}); delete it if no build is running`);
    if (!said) process.stderr.write('tools: waiting for another process building them…\n');
    said = true;
    sleepSync(100);
  }
}

const unlock = () => fs.rmSync(LOCK, { recursive: true, force: true });

function build(files, wanted) {
  // compiled files whose source is gone would otherwise still be found by a require
  const expected = new Set(files.filter((f) => !f.endsWith('.d.ts')).map(outputOf));
  let missing = false;
  for (const f of expected) if (!fs.existsSync(f)) missing = true;
  const prune = (dir) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) prune(p);
      else if (e.name.endsWith('.js') && !expected.has(p)) fs.rmSync(p);
    }
  };
  for (const d of SOURCE_DIRS) prune(path.join(OUT, d));
  // incremental tsc does not emit again what it emitted before, even when the output has since been deleted
  if (missing) fs.rmSync(BUILD_INFO, { force: true });
  fs.rmSync(STAMP, { force: true });
  process.stderr.write('tools: building (tsc -p tsconfig.tools.json)…\n');
  // tsc prints its diagnostics on stdout: send them to stderr, where a tool's stdout (JSON summaries) is not
  const r = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', TSCONFIG], { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (r.error) throw r.error;
  // 0: built; 2: built, with type errors (reported above); anything else: nothing usable was emitted
  if (r.status !== 0 && r.status !== 2) throw new Error(`tsc -p tsconfig.tools.json exited with ${r.status ?? r.signal}`);
  if (r.status === 2) process.stderr.write('tools: type errors above; running the emitted JavaScript anyway (npm run typecheck)\n');
  for (const f of expected) if (!fs.existsSync(f)) throw new Error(`tsc did not emit ${path.relative(ROOT, f)}`);
  const tmp = `${STAMP}.${process.pid}`;
  fs.writeFileSync(tmp, wanted);
  fs.renameSync(tmp, STAMP);
}

/** The last build's inputs are exactly the files on disk now, and each of its outputs is still there. */
const upToDate = (files, wanted) => readStamp() === wanted && files.every((f) => f.endsWith('.d.ts') || fs.existsSync(outputOf(f)));

function ensureBuilt() {
  let files = sources();
  let wanted = manifest(files);
  if (upToDate(files, wanted)) return;
  lock();
  try {
    // look again under the lock: another process may have just built, or a file changed meanwhile
    files = sources();
    wanted = manifest(files);
    if (!upToDate(files, wanted)) build(files, wanted);
  } finally {
    unlock();
  }
}

function main() {
  const name = process.argv[2];
  if (!name || !/^[A-Za-z0-9_-]+$/.test(name) || !fs.existsSync(path.join(ROOT, 'tools', 'bin', `${name}.ts`))) {
    process.stderr.write(`usage: node tools/launch.js <tool> [args…], where tools/bin/<tool>.ts exists (got ${name ?? 'nothing'})\n`);
    process.exit(2);
  }
  try {
    ensureBuilt();
  } catch (err) {
    process.stderr.write(`tools: build failed: ${err.message}\n`);
    process.exit(1);
  }
  // run the tool as the main module, as `node dist/tools-js/tools/bin/<name>.js args…` would (require.main,
  // process.argv); ts-node's own binary starts scripts the same way
  process.argv = [process.argv[0], path.join(OUT, 'tools', 'bin', `${name}.js`), ...process.argv.slice(3)];
  require('node:module').runMain();
}

main();
