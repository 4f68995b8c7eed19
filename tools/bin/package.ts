// `npm run package`: the exact zip that deploys (azd deploy, `az functionapp deployment source config-zip`,
// Flex Consumption one-deploy). What the Functions host needs and nothing else:
//   host.json, package.json (its "main" names dist/functions/*.js), package-lock.json,
//   dist/functions + dist/shared compiled fresh with tsconfig.build.json (a stale dist/ cannot leak in),
//   node_modules with the production dependencies only (`npm ci --omit=dev` in the staging folder).
// No remote build: the zip carries no TypeScript and needs nothing installed after upload.
// test/integration/package.test.ts unpacks this zip into an empty folder and boots the registrations from it.
//
// The zip is written here with node:zlib (deflate + crc32) rather than the `zip` CLI, which Windows and
// slim CI images lack, or a new dependency: ~60 lines of the plain PKWARE format (no zip64: the package
// stays far below 4 GB and 65,535 entries, and the writer refuses otherwise). Entries are sorted and carry
// a fixed timestamp, so the same tree gives the same bytes.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { crc32, deflateRawSync } from 'node:zlib';
import { ROOT } from '../root';

/** Copied into the package as they are. */
const APP_FILES = ['host.json', 'package.json', 'package-lock.json'];

export interface PackageResult {
  zipPath: string;
  /** the unpacked tree the zip was made from */
  stageDir: string;
  zipBytes: number;
  files: number;
  unpackedBytes: number;
}

export interface PackageOptions {
  /** folder for the staging tree and app.zip (default .package/) */
  outDir?: string;
  log?: (line: string) => void;
}

function run(cmd: string, args: string[], cwd: string): void {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'inherit', 'inherit'], shell: process.platform === 'win32' && !cmd.endsWith('.js') });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

/** npm itself: the one that runs this script when started by `npm run`, else the one on PATH. */
function npm(args: string[], cwd: string): void {
  const cli = process.env.npm_execpath;
  if (cli && /npm-cli\.js$/.test(cli)) run(process.execPath, [cli, ...args], cwd);
  else run('npm', args, cwd);
}

/** Every file under dir, relative, with '/' separators, sorted (so the zip's order does not depend on the disk). */
function listFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, r));
    else if (e.isFile()) out.push(r);
    else throw new Error(`${r}: not a regular file or folder (symlinks do not survive every unzip on the way to Azure)`);
  }
  return out.sort();
}

// 1980-01-01 00:00 in MS-DOS date/time: the earliest a zip can say, and the same on every build.
const DOS_TIME = 0;
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/** Writes every file under dir into a zip (deflated when that is smaller). */
export function writeZip(dir: string, zipPath: string): { files: number; bytes: number; unpackedBytes: number } {
  const files = listFiles(dir);
  if (files.length >= 0xffff) throw new Error(`${files.length} files: this writer does not do zip64`);
  const chunks: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  let unpackedBytes = 0;
  for (const rel of files) {
    const full = path.join(dir, rel);
    const data = fs.readFileSync(full);
    unpackedBytes += data.length;
    const deflated = deflateRawSync(data);
    const stored = deflated.length >= data.length;
    const body = stored ? data : deflated;
    const name = Buffer.from(rel, 'utf8');
    const crc = crc32(data);
    if (offset + 30 + name.length + body.length > 0xffffffff) throw new Error('package over 4 GB: this writer does not do zip64');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: 2.0 (deflate)
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(stored ? 0 : 8, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const entry = Buffer.alloc(46);
    entry.writeUInt32LE(0x02014b50, 0);
    entry.writeUInt16LE((3 << 8) | 20, 4); // made by: Unix, so the mode below is read
    entry.writeUInt16LE(20, 6);
    entry.writeUInt16LE(0x0800, 8);
    entry.writeUInt16LE(stored ? 0 : 8, 10);
    entry.writeUInt16LE(DOS_TIME, 12);
    entry.writeUInt16LE(DOS_DATE, 14);
    entry.writeUInt32LE(crc, 16);
    entry.writeUInt32LE(body.length, 20);
    entry.writeUInt32LE(data.length, 24);
    entry.writeUInt16LE(name.length, 28);
    // extra, comment, disk number, internal attributes: 0
    const executable = (fs.statSync(full).mode & 0o111) !== 0;
    entry.writeUInt32LE(((executable ? 0o100755 : 0o100644) << 16) >>> 0, 38);
    entry.writeUInt32LE(offset, 42);
    chunks.push(local, name, body);
    central.push(entry, name);
    offset += local.length + name.length + body.length;
  }
  const centralSize = central.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  const zip = Buffer.concat([...chunks, ...central, end]);
  fs.mkdirSync(path.dirname(zipPath), { recursive: true });
  fs.writeFileSync(zipPath, zip);
  return { files: files.length, bytes: zip.length, unpackedBytes };
}

/**
 * Files no `require` ever reads: source maps, TypeScript sources and declarations, Markdown. They are two
 * thirds of the production tree (~35,000 files, ~118 MB of ~176 MB with the SDK versions of 2026-11), and
 * every one of them would be uploaded and unpacked on each cold instance. LICENSE files stay.
 */
export const RUNTIME_UNUSED = /\.(map|ts|mts|cts|md|markdown)$/i;

export function pruneForRuntime(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const rel of listFiles(dir)) {
    if (!RUNTIME_UNUSED.test(rel)) continue;
    const full = path.join(dir, rel);
    bytes += fs.statSync(full).size;
    fs.rmSync(full);
    files++;
  }
  return { files, bytes };
}

export function buildPackage(opts: PackageOptions = {}): PackageResult {
  const log = opts.log ?? ((line: string) => console.log(line));
  const outDir = path.resolve(opts.outDir ?? path.join(ROOT, '.package'));
  const stageDir = path.join(outDir, 'stage');
  const zipPath = path.join(outDir, 'app.zip');
  fs.rmSync(stageDir, { recursive: true, force: true });
  fs.rmSync(zipPath, { force: true });
  fs.mkdirSync(stageDir, { recursive: true });

  log(`compiling functions/ and shared/ into ${path.relative(ROOT, stageDir) || stageDir}/dist`);
  run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', path.join(stageDir, 'dist')], ROOT);
  for (const f of APP_FILES) fs.copyFileSync(path.join(ROOT, f), path.join(stageDir, f));

  // Exactly the lock file's production tree. --ignore-scripts: no package code runs while packaging (the
  // production tree has no native add-on; protobufjs's postinstall only prints a version hint).
  log('installing production dependencies (npm ci --omit=dev)');
  npm(['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], stageDir);
  // .bin holds symlinks to CLIs the host never runs
  fs.rmSync(path.join(stageDir, 'node_modules', '.bin'), { recursive: true, force: true });
  const pruned = pruneForRuntime(path.join(stageDir, 'node_modules'));
  log(`left out ${pruned.files} source maps, TypeScript sources/declarations and Markdown files (${(pruned.bytes / 1e6).toFixed(1)} MB) that Node never loads`);

  const z = writeZip(stageDir, zipPath);
  log(
    `${path.relative(process.cwd(), zipPath) || zipPath}: ${(z.bytes / 1e6).toFixed(1)} MB, ${z.files} files (${(z.unpackedBytes / 1e6).toFixed(1)} MB unpacked)`,
  );
  return { zipPath, stageDir, zipBytes: z.bytes, files: z.files, unpackedBytes: z.unpackedBytes };
}

if (require.main === module) {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  try {
    buildPackage({ outDir: values.out });
  } catch (err) {
    console.error(`package: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
