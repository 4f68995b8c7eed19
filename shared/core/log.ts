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

/**
 * A live status line at the bottom of a terminal (a progress count redrawn in place with \r), and the way to
 * print whole lines above it: each print clears the live line, writes, and redraws it in one write, so a log line
 * and the progress never share a line. On a stream that is not a TTY there is no live line: `set` and `done` do
 * nothing and `print` writes as it is.
 */
export interface LiveLine {
  /** true when the stream is a terminal */
  readonly live: boolean;
  set(text: string): void;
  print(text: string): void;
  /** leave the last state on screen and move below it */
  done(): void;
}

const CLEAR_LINE = '\r\x1b[2K';

export function liveLine(stream: NodeJS.WritableStream & { isTTY?: boolean }): LiveLine {
  const live = stream.isTTY === true;
  let current = '';
  return {
    live,
    set(text) {
      if (!live) return;
      current = text;
      stream.write(`${CLEAR_LINE}${text}`);
    },
    print(text) {
      stream.write(live && current !== '' ? `${CLEAR_LINE}${text}${current}` : text);
    },
    done() {
      if (live && current !== '') stream.write('\n');
      current = '';
    },
  };
}

/** Timestamped console logger for the tools (stderr, so stdout stays machine-readable); lines print above `live`'s line. */
export function consoleLog(prefix = '', live?: LiveLine): Log {
  const write = (text: string) => (live ? live.print(text) : process.stderr.write(text));
  const line = (level: string, m: string) => write(`${new Date().toISOString()} ${level}${prefix ? ` [${prefix}]` : ''} ${redact(m)}\n`);
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
