import { redact } from './redact';

/** The logging surface handlers use: the Functions InvocationContext satisfies it, so does the console logger. */
export interface Log {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Wrap any logger so nothing secret gets through, whoever calls it. */
export function redactingLog(inner: Log): Log {
  return {
    info: (m) => inner.info(redact(m)),
    warn: (m) => inner.warn(redact(m)),
    error: (m) => inner.error(redact(m)),
  };
}

/** Timestamped console logger for the tools (stderr, so stdout stays machine-readable). */
export function consoleLog(prefix = ''): Log {
  const line = (level: string, m: string) => process.stderr.write(`${new Date().toISOString()} ${level}${prefix ? ` [${prefix}]` : ''} ${redact(m)}\n`);
  return { info: (m) => line('info ', m), warn: (m) => line('warn ', m), error: (m) => line('error', m) };
}

export const silentLog: Log = { info: () => {}, warn: () => {}, error: () => {} };

/** Collects every line (tests assert on it, e.g. that no secret was logged). */
export function memoryLog(): Log & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}
