// Streams one export file from its SAS URL, resuming a dropped connection with a ranged request at
// the byte offset already received (pinned to the blob's ETag), so no byte is lost or read twice.
// The blob SDK's own resume is off (maxRetryRequests: 0): on Node 20 a server-side drop surfaces
// there as an AbortError (azure-sdk-for-js#32268) instead of a resume.
import { BlobClient, BlobDownloadResponseParsed } from '@azure/storage-blob';
import { Log } from './log';
import { describeError, stripQuery } from './redact';

/** 403: the SAS URL has lapsed (Azure: AuthenticationFailed; Azurite: AuthorizationFailure). Not retriable with this URL. */
export class ExpiredUrlError extends Error {
  override name = 'ExpiredUrlError';
}
/** 404, 412 (blob replaced mid-download) or another permanent 4xx: the file as exported cannot be had. */
export class BlobGoneError extends Error {
  override name = 'BlobGoneError';
}

export interface DownloadOptions {
  log: Log;
  /** resumes allowed after drops, per download */
  maxResumes?: number;
  sleep?: (ms: number) => Promise<void>;
  /** aborts the whole download (e.g. the worker is shutting down) */
  abortSignal?: AbortSignal;
}

export interface DownloadProgress {
  /** compressed bytes received so far */
  bytes: number;
  /** blob size once known */
  size?: number;
  resumes: number;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function statusOf(err: unknown): number | undefined {
  const s = (err as { statusCode?: unknown })?.statusCode;
  return typeof s === 'number' ? s : undefined;
}

function classify(err: unknown, url: string): Error | undefined {
  const status = statusOf(err);
  const where = stripQuery(url);
  if (status === 403) {
    return new ExpiredUrlError(`download refused (403 ${describeError(err, 160)}): the SAS URL of ${where} is no longer valid`);
  }
  if (status === 404) return new BlobGoneError(`export file not found (404): ${where}`);
  if (status === 412) return new BlobGoneError(`export file changed while it was being downloaded (412): ${where}`);
  // any other 4xx (e.g. 409 BlobArchived, 400): retrying the same request cannot help, so fail the file now
  // rather than spending the message's deliveries on it
  if (status === 416 || (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429)) {
    return new BlobGoneError(`download of ${where} refused: ${describeError(err)}`);
  }
  return undefined; // network error, timeout, 408/429/5xx: worth resuming
}

/** The blob's bytes as an async iterator of chunks, resuming after drops. */
export function downloadBlob(url: string, opts: DownloadOptions): { chunks: AsyncGenerator<Buffer>; progress: DownloadProgress } {
  const progress: DownloadProgress = { bytes: 0, resumes: 0 };
  const maxResumes = opts.maxResumes ?? 8;
  const sleep = opts.sleep ?? defaultSleep;
  const client = new BlobClient(url, undefined, { retryOptions: { maxTries: 3, retryDelayInMs: 500 } });

  async function* chunks(): AsyncGenerator<Buffer> {
    let etag: string | undefined;
    for (;;) {
      let response: BlobDownloadResponseParsed | undefined;
      try {
        response = await client.download(progress.bytes, undefined, {
          maxRetryRequests: 0,
          abortSignal: opts.abortSignal,
          conditions: etag ? { ifMatch: etag } : undefined,
        });
        if (progress.size === undefined) {
          progress.size = progress.bytes + (response.contentLength ?? 0);
          etag = response.etag;
        }
        const body = response.readableStreamBody;
        if (body) {
          for await (const chunk of body as AsyncIterable<Buffer>) {
            progress.bytes += chunk.length;
            yield chunk;
          }
        }
        if (progress.bytes >= (progress.size ?? 0)) return;
        throw new Error(`stream ended at byte ${progress.bytes} of ${progress.size}`);
      } catch (err) {
        if (opts.abortSignal?.aborted) throw err;
        // a zero-byte blob asked for a range past its end: it is simply empty
        if (statusOf(err) === 416 && progress.bytes === 0 && progress.size === undefined) return;
        const fatal = classify(err, url);
        if (fatal) throw fatal;
        if (progress.resumes >= maxResumes) {
          throw new Error(`download of ${stripQuery(url)} dropped ${progress.resumes + 1} times; last: ${describeError(err)}`);
        }
        progress.resumes++;
        const wait = Math.min(8000, 250 * 2 ** progress.resumes) * (0.5 + Math.random() / 2);
        opts.log.warn(`download of ${stripQuery(url)} dropped at byte ${progress.bytes}${progress.size !== undefined ? ` of ${progress.size}` : ''} (${describeError(err, 160)}); resuming in ${Math.round(wait)} ms`);
        await sleep(wait);
      }
    }
  }
  return { chunks: chunks(), progress };
}
