// Streams one export file from its SAS URL, resuming a dropped connection with a ranged request at
// the byte offset already received (pinned to the blob's ETag), so no byte is lost or read twice.
// The blob SDK's own resume is off (maxRetryRequests: 0): on Node 20 a server-side drop surfaces
// there as an AbortError (azure-sdk-for-js#32268) instead of a resume.
import { AnonymousCredential, BlobClient, BlobDownloadResponseParsed, newPipeline, StoragePipelineOptions } from '@azure/storage-blob';
import { Log } from '../core/log';
import { describeError, stripQuery } from '../core/redact';
import { AppError } from '../core/errors';

/** 403: the SAS URL has lapsed (Azure: AuthenticationFailed; Azurite: AuthorizationFailure). Not retriable with this URL. */
export class ExpiredUrlError extends AppError {}
/** 404, 412 (blob replaced mid-download) or another permanent 4xx: the file as exported cannot be had. */
export class BlobGoneError extends AppError {}

export interface DownloadOptions {
  log: Log;
  /** resumes allowed in a row after drops that received no byte; a drop after progress starts the count again */
  maxResumes?: number;
  sleep?: (ms: number) => Promise<void>;
  /** aborts the whole download (e.g. the worker is shutting down) */
  abortSignal?: AbortSignal;
}

export interface DownloadProgress {
  /** compressed bytes received so far */
  bytes: number;
  /** blob size and ETag once known (the first response): the blob's identity */
  size?: number;
  etag?: string;
  /** all resumes of this download */
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
  // Blob Storage never redirects; a 3xx comes from something else in the path, and where it points is not ours to trust
  if (status !== undefined && status >= 300 && status < 400) {
    const location = (err as { response?: { headers?: { get?(n: string): string | undefined } } }).response?.headers?.get?.('location');
    return new BlobGoneError(
      `download of ${where} refused: the server answered a redirect (${status})${location ? ` to ${redirectTarget(location, url)}` : ''}, which is never followed`,
    );
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

/** Scheme, host and path of a redirect's target (never its query, which may carry a signature). */
function redirectTarget(location: string, base: string): string {
  try {
    const u = new URL(location, base);
    return `${u.protocol}//${u.host}${u.pathname}`.slice(0, 200);
  } catch {
    return 'an unparseable location';
  }
}

/**
 * A blob client whose pipeline never follows a redirect. The SDK's default pipeline has core-rest-pipeline's
 * redirectPolicy (20 hops, same origin); `redirectOptions` is passed through to it by newPipeline though the
 * storage options type does not declare it, so test/integration/worker.trust.test.ts pins the behaviour.
 */
function blobClient(url: string): BlobClient {
  const options: StoragePipelineOptions & { redirectOptions: { maxRetries: number } } = {
    retryOptions: { maxTries: 3, retryDelayInMs: 500 },
    redirectOptions: { maxRetries: 0 },
  };
  return new BlobClient(url, newPipeline(new AnonymousCredential(), options));
}

/** The blob's bytes as an async iterator of chunks, resuming after drops. */
export function downloadBlob(url: string, opts: DownloadOptions): { chunks: AsyncGenerator<Buffer>; progress: DownloadProgress } {
  const progress: DownloadProgress = { bytes: 0, resumes: 0 };
  const maxResumes = opts.maxResumes ?? 8;
  const sleep = opts.sleep ?? defaultSleep;
  const client = blobClient(url);

  async function* chunks(): AsyncGenerator<Buffer> {
    let etag: string | undefined;
    // drops in a row that received nothing: a stream that keeps making progress is never given up
    let stalls = 0;
    for (;;) {
      let response: BlobDownloadResponseParsed | undefined;
      const bytesBefore = progress.bytes;
      try {
        response = await client.download(progress.bytes, undefined, {
          maxRetryRequests: 0,
          abortSignal: opts.abortSignal,
          conditions: etag ? { ifMatch: etag } : undefined,
        });
        if (progress.size === undefined) {
          progress.size = progress.bytes + (response.contentLength ?? 0);
          etag = response.etag;
          progress.etag = etag;
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
        stalls = progress.bytes > bytesBefore ? 0 : stalls + 1;
        if (stalls > maxResumes) {
          throw new Error(
            `download of ${stripQuery(url)} dropped ${stalls} times in a row without receiving a byte (${progress.resumes + 1} drops in all); last: ${describeError(err)}`,
          );
        }
        progress.resumes++;
        const wait = Math.min(8000, 250 * 2 ** Math.max(1, stalls)) * (0.5 + Math.random() / 2);
        opts.log.warn(
          `download of ${stripQuery(url)} dropped at byte ${progress.bytes}${progress.size !== undefined ? ` of ${progress.size}` : ''} (${describeError(err, 160)}); resuming in ${Math.round(wait)} ms`,
        );
        await sleep(wait);
      }
    }
  }
  return { chunks: chunks(), progress };
}
