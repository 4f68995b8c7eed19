// The simulator's upload: one part file's records as gzip JSON Lines, streamed into a block blob, counted.
import { Readable, Transform, TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { ContainerClient } from '@azure/storage-blob';
import type { KindRecord } from './kindSources';

interface UploadResult {
  rows: number;
  bytes: number;
  uncompressedBytes: number;
}

/** Lines batched into ~256 KB strings: few stream chunks, no giant string. */
function* chunkedLines(records: Iterable<KindRecord>, counts: { rows: number; uncompressedBytes: number }): Generator<string> {
  let chunk = '';
  for (const r of records) {
    const line = `${JSON.stringify(r)}\n`;
    counts.rows++;
    counts.uncompressedBytes += Buffer.byteLength(line);
    chunk += line;
    if (chunk.length >= 256 * 1024) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}

export async function uploadPart(container: ContainerClient, blobName: string, records: Iterable<KindRecord>): Promise<UploadResult> {
  const counts = { rows: 0, uncompressedBytes: 0 };
  const counter = new ByteCounter();
  const blob = container.getBlockBlobClient(blobName);
  // No Content-Encoding: Defender serves the gzip bytes as they are, clients gunzip themselves.
  const upload = blob.uploadStream(counter, 4 * 1024 * 1024, 4, { blobHTTPHeaders: { blobContentType: 'application/octet-stream' } });
  upload.catch((err: unknown) => counter.destroy(err instanceof Error ? err : new Error(String(err))));
  await Promise.all([pipeline(Readable.from(chunkedLines(records, counts)), createGzip(), counter), upload]);
  return { ...counts, bytes: counter.bytes };
}
