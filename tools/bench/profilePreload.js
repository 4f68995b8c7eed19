// Profiles every node process of the whole-process row (npm and the tool it starts both read NODE_OPTIONS):
//   BENCH_PROFILE_DIR=/tmp/prof BENCH_PROCESS_NODE_OPTIONS="--require $PWD/tools/bench/profilePreload.js" npm run bench -- …
// Node 20 refuses --cpu-prof in NODE_OPTIONS, so this starts node:inspector's sampling profiler (1 ms) in
// the process itself and, on exit, writes <dir>/<script>-<pid>.cpuprofile (open it in Chrome DevTools or
// speedscope) and <script>-<pid>.json: the process's own CPU (process.cpuUsage) and wall time since the
// preload ran. Plain JavaScript: npm loads it before anything of ours is built.
'use strict';
const fs = require('node:fs');
const inspector = require('node:inspector');
const path = require('node:path');

const dir = process.env.BENCH_PROFILE_DIR || process.cwd();
const name = `${path.basename(process.argv[1] || 'node').replace(/\.[cm]?js$/, '')}-${process.pid}`;
const started = Date.now();
const session = new inspector.Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.setSamplingInterval', { interval: 1000 });
session.post('Profiler.start');

process.on('exit', () => {
  // a same-thread inspector session answers synchronously, so this completes inside the exit handler
  session.post('Profiler.stop', (err, res) => {
    fs.mkdirSync(dir, { recursive: true });
    if (!err) fs.writeFileSync(path.join(dir, `${name}.cpuprofile`), JSON.stringify(res.profile));
    const cpu = process.cpuUsage();
    fs.writeFileSync(
      path.join(dir, `${name}.json`),
      JSON.stringify({ argv: process.argv, wallSeconds: (Date.now() - started) / 1000, userSeconds: cpu.user / 1e6, systemSeconds: cpu.system / 1e6 }),
    );
  });
});
