// Custom telemetry for Application Insights: one event per worker invocation and per snapshot outcome, and
// a rows-written metric, so throughput, rejects and failures can be charted and alerted on without parsing
// log text. The host already ships logs; this adds numbers with dimensions (customEvents, customMetrics).
//
// Telemetry must never cost an ingest: every call is fire-and-forget, a flush is bounded in time, and a
// failing collector is reported once as a warning. Values are redacted like log lines.
import type { TokenCredential } from '@azure/identity';
import { ManagedIdentityCredential } from '@azure/identity';
import { SnapshotRow } from './contracts';
import { Log } from './log';
import { describeError, redact } from './redact';

/** Event names: the KQL queries of docs/operations.md and the Bicep alert rules rely on them. */
export const TELEMETRY_EVENTS = [
  /** a worker invocation ended (complete, continued, expired, failed, busy, skipped, or error) */
  'InventoryFileIngested',
  /** the last file of a snapshot completed (or the JSON method finished) */
  'InventorySnapshotCompleted',
  /** a snapshot was marked failed: a file failed, a message went to the poison queue, or it was superseded */
  'InventorySnapshotFailed',
  /** a timer run ended: what it did with the export Defender served (action "error" when it threw) */
  'InventoryExportChecked',
] as const;
export type TelemetryEventName = (typeof TELEMETRY_EVENTS)[number];

export type TelemetryMetricName = 'InventoryRowsWritten';

export type Dimensions = Record<string, string | number | undefined>;

export interface Telemetry {
  event(name: TelemetryEventName, properties: Dimensions, measurements?: Record<string, number>): void;
  metric(name: TelemetryMetricName, value: number, properties: Dimensions): void;
  /** send what is buffered; resolves within the flush bound even when the collector hangs */
  flush(): Promise<void>;
  /** flush and stop the exporters' timers (tools call it before exiting) */
  shutdown(): Promise<void>;
}

export const noTelemetry: Telemetry = {
  event: () => {},
  metric: () => {},
  flush: async () => {},
  shutdown: async () => {},
};

export interface RecordedEvent {
  name: TelemetryEventName;
  properties: Record<string, string>;
  measurements: Record<string, number>;
}
export interface RecordedMetric {
  name: TelemetryMetricName;
  value: number;
  properties: Record<string, string>;
}

/** Keeps everything in memory (tests assert on it). */
export function memoryTelemetry(): Telemetry & { events: RecordedEvent[]; metrics: RecordedMetric[]; flushes: number } {
  const t = {
    events: [] as RecordedEvent[],
    metrics: [] as RecordedMetric[],
    flushes: 0,
    event(name: TelemetryEventName, properties: Dimensions, measurements: Record<string, number> = {}) {
      t.events.push({ name, properties: cleanProperties(properties), measurements: cleanMeasurements(measurements) });
    },
    metric(name: TelemetryMetricName, value: number, properties: Dimensions) {
      t.metrics.push({ name, value, properties: cleanProperties(properties) });
    },
    flush: async () => {
      t.flushes++;
    },
    shutdown: async () => {},
  };
  return t;
}

/** String dimensions, redacted and capped (Application Insights keeps 8,192 characters per property). */
export function cleanProperties(properties: Dimensions): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(properties)) {
    if (v === undefined) continue;
    const s = redact(String(v));
    out[k] = s.length > 1000 ? `${s.slice(0, 999)}…` : s;
  }
  return out;
}

function cleanMeasurements(measurements: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(measurements)) if (Number.isFinite(v)) out[k] = v;
  return out;
}

/** A snapshot just became complete: its totals, and how long it took from registration. */
export function reportSnapshotCompleted(t: Telemetry = noTelemetry, s: SnapshotRow): void {
  const minutes = s.CompletedAt && s.StartedAt ? (new Date(s.CompletedAt).getTime() - new Date(s.StartedAt).getTime()) / 60_000 : undefined;
  t.event(
    'InventorySnapshotCompleted',
    { kind: s.partitionKey, snapshotId: s.rowKey, table: s.TableName, method: s.Method },
    { files: s.FileCount, rows: s.RowCount, rejected: s.RejectedCount, duplicates: s.DuplicateCount, ...(minutes !== undefined ? { minutes } : {}) },
  );
}

/** A snapshot was marked failed; `cause` is a short machine-friendly word, `reason` the catalog's Error text. */
export function reportSnapshotFailed(
  t: Telemetry = noTelemetry,
  f: { kind: string; snapshotId: string; cause: 'file' | 'poison' | 'superseded' | 'export'; reason: string; fileIndex?: number },
): void {
  t.event('InventorySnapshotFailed', { kind: f.kind, snapshotId: f.snapshotId, cause: f.cause, fileIndex: f.fileIndex, reason: f.reason });
}

/** APPLICATIONINSIGHTS_* as validated by config.ts. */
export interface TelemetrySettings {
  connectionString: string;
  /** Entra ID ingestion (the resource has local auth off): the managed identity to use, if user-assigned */
  entra?: { clientId?: string };
}

/** An invocation waits at most this long for its telemetry (an unreachable collector costs ~4 s per flush). */
export const FLUSH_TIMEOUT_MS = 3_000;
const SHUTDOWN_TIMEOUT_MS = 10_000;

/** The Application Insights SDK's isolated client (no global instrumentation, no auto-collection). */
export function appInsightsTelemetry(settings: TelemetrySettings, log: Log, credential?: TokenCredential): Telemetry {
  // loaded only when telemetry is configured: the SDK pulls in OpenTelemetry, ~100 ms of startup
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { TelemetryClient } = require('applicationinsights') as typeof import('applicationinsights');
  const client = new TelemetryClient(settings.connectionString, { useGlobalProviders: false });
  if (settings.entra) {
    client.config.aadTokenCredential =
      credential ?? (settings.entra.clientId ? new ManagedIdentityCredential({ clientId: settings.entra.clientId }) : new ManagedIdentityCredential());
  }
  // one warning per process: a broken collector would otherwise repeat it on every invocation
  let warned = false;
  const warnOnce = (text: string) => {
    if (!warned) log.warn(`telemetry: ${text}`);
    warned = true;
  };
  const failed = (what: string, err: unknown) => warnOnce(`${what} failed (${describeError(err)}); ingestion goes on without it`);
  const guard = (what: string, fn: () => void) => {
    try {
      fn();
    } catch (err) {
      failed(what, err);
    }
  };
  const bounded = async (what: string, p: Promise<void>, ms: number) => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), ms);
      timer.unref();
    });
    try {
      const r = await Promise.race([p.then(() => 'ok' as const), timeout]);
      if (r === 'timeout') warnOnce(`${what} did not finish within ${ms / 1000} s (is the ingestion endpoint reachable?); continuing without waiting`);
    } catch (err) {
      failed(what, err);
    } finally {
      clearTimeout(timer);
    }
  };
  return {
    event: (name, properties, measurements = {}) =>
      guard('an event', () => client.trackEvent({ name, properties: cleanProperties(properties), measurements: cleanMeasurements(measurements) })),
    metric: (name, value, properties) => guard('a metric', () => client.trackMetric({ name, value, properties: cleanProperties(properties) })),
    flush: () => bounded('flush', client.flush(), FLUSH_TIMEOUT_MS),
    shutdown: () =>
      bounded(
        'shutdown',
        client.flush().then(() => client.shutdown()),
        SHUTDOWN_TIMEOUT_MS,
      ),
  };
}

export function createTelemetry(settings: TelemetrySettings | undefined, log: Log): Telemetry {
  if (!settings) return noTelemetry;
  try {
    return appInsightsTelemetry(settings, log);
  } catch (err) {
    // the SDK refusing to start must not stop ingestion: say so once and run without custom telemetry
    log.warn(`telemetry: the Application Insights client could not start (${describeError(err)}); continuing without custom events`);
    return noTelemetry;
  }
}
