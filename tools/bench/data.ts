// Benchmark input: realistic Defender records of one export kind (tools/simulator/kindSources.ts: ~0.5 KB a line for
// the inventory, ~0.9 KB for vulnerabilities), as JSON Lines, gzip export files in Azurite behind SAS URLs, and an
// arbitrarily long file streamed from a small fleet.
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import { createGzip, gzipSync } from 'node:zlib';
import { BlobSASPermissions, BlobServiceClient, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';
import { Azurite, AZURITE_ACCOUNT, AZURITE_KEY } from '../runner/azurite';
import { DEFAULT_KIND, ExportKind } from '../../shared/kinds/exportKinds';
import { generateFleet, hexId, kindRecords } from '../simulator/fleet';

export interface Line {
  deviceId: string;
  text: string;
}

/** Exactly `rows` records of a kind from a generated fleet, device by device (a device's rows together, as Defender writes them). */
export function fleetLines(rows: number, seed = 42, kind: ExportKind = DEFAULT_KIND): Line[] {
  let devices = Math.max(1, Math.ceil(rows / 25));
  for (;;) {
    const out: Line[] = [];
    for (const r of kindRecords(kind, generateFleet({ devices, seed }))) {
      out.push({ deviceId: (r as { deviceId: string }).deviceId, text: JSON.stringify(r) });
      if (out.length === rows) return out;
    }
    devices *= 2;
  }
}

/** Cut into `files` parts of about equal size, only where the device changes. */
export function splitByDevice(lines: Line[], files: number): Line[][] {
  const parts: Line[][] = [];
  let start = 0;
  for (let f = 1; f <= files && start < lines.length; f++) {
    let end = f === files ? lines.length : Math.max(start + 1, Math.round((lines.length * f) / files));
    while (end < lines.length && end > start && lines[end].deviceId === lines[end - 1].deviceId) end++;
    parts.push(lines.slice(start, end));
    start = end;
  }
  return parts;
}

export function jsonl(lines: Line[]): Buffer {
  return Buffer.from(lines.map((l) => l.text).join('\n') + '\n', 'utf8');
}

export function gzipFile(lines: Line[], level = 6): Buffer {
  return gzipSync(jsonl(lines), { level });
}

export interface UploadedExport {
  container: string;
  urls: string[];
  compressedBytes: number;
}

function sasUrl(azurite: Azurite, container: string, name: string): string {
  const cred = new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY);
  const sas = generateBlobSASQueryParameters(
    { containerName: container, blobName: name, permissions: BlobSASPermissions.parse('r'), startsOn: new Date(Date.now() - 5 * 60_000), expiresOn: new Date(Date.now() + 6 * 3600_000) },
    cred,
  ).toString();
  return `${azurite.blobEndpoint}/${container}/${name}?${sas}`;
}

function service(azurite: Azurite): BlobServiceClient {
  return new BlobServiceClient(azurite.blobEndpoint, new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY));
}

/** A blob name the way Defender names an export part (the kind's folder). */
const partName = (kind: ExportKind, i: number) => `2024-03-01/1101/${kind}/json/part-${String(i).padStart(5, '0')}-${randomUUID()}.c000.json.gz`;

/** Upload gzip files the way Defender names them, and hand out SAS URLs. */
export async function uploadExport(azurite: Azurite, files: Buffer[], kind: ExportKind = DEFAULT_KIND): Promise<UploadedExport> {
  const container = `bench-${randomUUID().slice(0, 8)}`;
  const c = service(azurite).getContainerClient(container);
  await c.createIfNotExists();
  const urls: string[] = [];
  for (let i = 0; i < files.length; i++) {
    const name = partName(kind, i);
    await c.getBlockBlobClient(name).uploadData(files[i]);
    urls.push(sasUrl(azurite, container, name));
  }
  return { container, urls, compressedBytes: files.reduce((n, f) => n + f.length, 0) };
}

export interface BigFile {
  url: string;
  lines: number;
  uncompressedBytes: number;
  compressedBytes: number;
  /** the line at which each requested uncompressed size was reached */
  linesAt: Record<string, number>;
}

/**
 * Stream a file of at least `targetBytes` uncompressed into Azurite without holding it: a small fleet's
 * lines over and over, each pass with other device ids (so every row is distinct and devices stay
 * together), gzip'd on the way (level 1: the benchmark spends its time ingesting, not compressing).
 */
export async function uploadBigFile(azurite: Azurite, base: Line[], targetBytes: number, marks: Record<string, number>, kind: ExportKind = DEFAULT_KIND): Promise<BigFile> {
  const container = `bench-mem-${randomUUID().slice(0, 8)}`;
  const c = service(azurite).getContainerClient(container);
  await c.createIfNotExists();
  const name = partName(kind, 0);
  const stats = { lines: 0, bytes: 0, compressed: 0 };
  const linesAt: Record<string, number> = {};
  const pending = Object.entries(marks).sort((a, b) => a[1] - b[1]);
  function* text(): Generator<Buffer> {
    for (let pass = 0; stats.bytes < targetBytes; pass++) {
      const ids = new Map<string, string>();
      let chunk: string[] = [];
      let chunkBytes = 0;
      for (const l of base) {
        let id = ids.get(l.deviceId);
        if (id === undefined) ids.set(l.deviceId, (id = pass === 0 ? l.deviceId : hexId('bench', pass, l.deviceId)));
        // every occurrence: a vulnerability's `id` starts with its device id, ahead of `deviceId` itself
        const line = (pass === 0 ? l.text : l.text.replaceAll(l.deviceId, id)) + '\n';
        chunk.push(line);
        chunkBytes += Buffer.byteLength(line);
        stats.lines++;
        stats.bytes += Buffer.byteLength(line);
        while (pending.length && stats.bytes >= pending[0][1]) linesAt[pending.shift()![0]] = stats.lines;
        if (chunkBytes >= 1 << 20) {
          yield Buffer.from(chunk.join(''));
          chunk = [];
          chunkBytes = 0;
        }
      }
      if (chunk.length) yield Buffer.from(chunk.join(''));
    }
  }
  const counted = new Transform({
    transform(chunk: Buffer, _enc, done) {
      stats.compressed += chunk.length;
      done(null, chunk);
    },
  });
  const flow = pipeline(Readable.from(text()), createGzip({ level: 1 }), counted);
  await Promise.all([flow, c.getBlockBlobClient(name).uploadStream(counted, 4 * 1024 * 1024, 4)]);
  for (const [k] of pending) linesAt[k] = stats.lines;
  return { url: sasUrl(azurite, container, name), lines: stats.lines, uncompressedBytes: stats.bytes, compressedBytes: stats.compressed, linesAt };
}

export interface RejectFile {
  url: string;
  lines: number;
  lineBytes: number;
  uncompressedBytes: number;
  compressedBytes: number;
}

/**
 * A crafted file of `lines` lines of `lineBytes` each, every one a reject (valid JSON whose SoftwareName is
 * over the 32,768-character property limit), under the line cap so each is buffered and parsed whole.
 * Gzip'd once and uploaded as that many concatenated gzip members (a valid gzip file, cheap to make).
 * The text repeats a random 20 KiB block: compressible (~90:1), yet under the worker's 1000:1 bomb guard.
 */
export async function uploadRejectFile(azurite: Azurite, lines: number, lineBytes: number, seed = 42, kind: ExportKind = DEFAULT_KIND): Promise<RejectFile> {
  let x = seed >>> 0 || 1;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  let block = '';
  for (let i = 0; i < 20 * 1024; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    block += alphabet[(x >>> 0) % 64];
  }
  const head = '{"deviceId":"bench-reject","softwareVendor":"bench","softwareVersion":"1","softwareName":"';
  const tail = '"}\n';
  const fill = Math.max(0, lineBytes - head.length - tail.length);
  const line = head + block.repeat(Math.ceil(fill / block.length)).slice(0, fill) + tail;
  const member = gzipSync(Buffer.from(line, 'utf8'), { level: 6 });
  const container = `bench-rej-${randomUUID().slice(0, 8)}`;
  const c = service(azurite).getContainerClient(container);
  await c.createIfNotExists();
  const name = partName(kind, 0);
  function* members(): Generator<Buffer> {
    for (let i = 0; i < lines; i++) yield member;
  }
  await c.getBlockBlobClient(name).uploadStream(Readable.from(members()), 4 * 1024 * 1024, 4);
  return { url: sasUrl(azurite, container, name), lines, lineBytes: line.length, uncompressedBytes: line.length * lines, compressedBytes: member.length * lines };
}
