// Boots an unpacked deployment package the way the Azure Functions Node.js worker does, in its own process:
// `@azure/functions-core` is handed to the app by hooking Module.prototype.require (the worker's
// setupCoreModule does exactly this), then every file package.json "main" names is required. The real
// @azure/functions library then calls registerFunction with the metadata the host would receive.
// Plain JavaScript on purpose: it runs under bare `node` with nothing but the package on disk.
// Usage: node bootProbe.js <appRoot>   → one JSON line on stdout.
'use strict';
const Module = require('node:module');
const fs = require('node:fs');
const path = require('node:path');

const appRoot = fs.realpathSync(process.argv[2]);
const registrations = [];
let programmingModel = null;
const coreApi = {
  version: '3.12.0',
  hostVersion: '4.1040.0',
  setProgrammingModel(model) {
    programmingModel = `${model.name}@${model.version}`;
  },
  getProgrammingModel() {
    return undefined;
  },
  registerFunction(metadata, callback) {
    registrations.push({ ...metadata, callback: typeof callback });
    return { dispose() {} };
  },
  registerHook() {
    return { dispose() {} };
  },
  log() {},
};
const originalRequire = Module.prototype.require;
Module.prototype.require = new Proxy(originalRequire, {
  apply(target, thisArg, args) {
    return args[0] === '@azure/functions-core' ? coreApi : Reflect.apply(target, thisArg, args);
  },
});

// every specifier that failed to resolve, including ones a library catches (optional dependencies)
const unresolved = [];
const originalResolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  try {
    return originalResolve.call(this, request, parent, ...rest);
  } catch (err) {
    unresolved.push({ request, from: parent && parent.filename ? path.relative(appRoot, parent.filename) : null });
    throw err;
  }
};

/** package.json "main" as the worker reads it: a path or one `*` glob in the file name. */
function entryFiles() {
  const main = JSON.parse(fs.readFileSync(path.join(appRoot, 'package.json'), 'utf8')).main;
  const dir = path.join(appRoot, path.dirname(main));
  const re = new RegExp(
    `^${path
      .basename(main)
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')}$`,
  );
  return fs
    .readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => path.join(dir, f));
}

const warnings = [];
console.warn = (...a) => warnings.push(a.join(' '));

const t0 = process.hrtime.bigint();
const entries = entryFiles();
for (const f of entries) require(f);
const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
const loadedAtBoot = Object.keys(require.cache).length;

// Lazy requires (applicationinsights when telemetry is configured, the SDK's own core-rest-pipeline for the
// lean batch transport): every bare specifier the shipped code names is loaded from where the code sits.
const lazy = [];
const t1 = process.hrtime.bigint();
const walk = (dir) =>
  fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.js') ? [path.join(dir, e.name)] : []));
for (const file of walk(path.join(appRoot, 'dist'))) {
  const src = fs.readFileSync(file, 'utf8');
  for (const m of src.matchAll(/require(?:\.resolve)?\(\s*["']([^"'./][^"']*)["']/g)) {
    const spec = m[1];
    if (spec.startsWith('node:') || Module.isBuiltin(spec)) continue;
    const resolved = require.resolve(spec, { paths: [path.dirname(file)] });
    require(resolved);
    lazy.push({ spec, from: path.relative(appRoot, file), resolved: path.relative(appRoot, resolved) });
  }
}
const lazyMs = Number(process.hrtime.bigint() - t1) / 1e6;

const self = fs.realpathSync(__filename);
fs.writeSync(
  1,
  JSON.stringify({
    appRoot,
    programmingModel,
    entries: entries.map((f) => path.relative(appRoot, f)),
    registrations,
    loadMs,
    lazyMs,
    loadedAtBoot,
    lazy,
    modules: Object.keys(require.cache).filter((f) => f !== self),
    unresolved,
    warnings,
  }) + '\n',
);
// (writeSync: process.exit would cut an asynchronous pipe write short.) SDK clients may hold timers or
// sockets open; the probe's job is done
process.exit(0);
