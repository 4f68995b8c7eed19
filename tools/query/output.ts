// Writing to stdout with backpressure (results can be millions of lines), aligned text tables, and a
// progress line on stderr that only a terminal gets.

export interface Io {
  /** stdout; resolves once the text is accepted (waits for 'drain' when the pipe is full) */
  out(text: string): Promise<void>;
  /** stderr */
  err(text: string): void;
  /** whether stderr is a terminal (progress lines only then) */
  errIsTty: boolean;
}

export function processIo(): Io {
  return {
    out: (text) =>
      new Promise<void>((resolve, reject) => {
        if (process.stdout.write(text)) return resolve();
        const onDrain = () => {
          process.stdout.off('error', onError);
          resolve();
        };
        const onError = (err: Error) => {
          process.stdout.off('drain', onDrain);
          reject(err);
        };
        process.stdout.once('drain', onDrain);
        process.stdout.once('error', onError);
      }),
    err: (text) => void process.stderr.write(text),
    errIsTty: !!process.stderr.isTTY,
  };
}

export function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

// Device names and software strings come from the devices themselves: a name carrying terminal escape
// sequences or bidi overrides must not be able to rewrite what the analyst sees. JSON output is left
// exact (JSON.stringify escapes C0 controls); human output shows such characters as \xNN / \u{NNNN}.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}

/** printable() for multi-line text: line breaks stay, everything else that could steer a terminal is shown. */
export function printableLines(text: string): string {
  return text.split('\n').map(printable).join('\n');
}

/** Human output: the same Io, with every stdout text made printable. */
export function humanIo(io: Io): Io {
  return { ...io, out: (text) => io.out(printableLines(text)) };
}

export type Align = 'left' | 'right';

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function renderTable(headers: readonly string[], body: readonly (readonly string[])[], align: readonly Align[] = []): string {
  const rows = body.map((r) => r.map(printable));
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => {
        if (i === cells.length - 1 && align[i] !== 'right') return c;
        return align[i] === 'right' ? c.padStart(widths[i]) : c.padEnd(widths[i]);
      })
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].map((l) => `${l}\n`).join('');
}

/** A stored value as text: strings as they are, anything else as JSON (never `[object Object]`). */
export function asText(v: unknown): string {
  return typeof v === 'string' ? v : (JSON.stringify(v) ?? '');
}

/** A date property (a Date, or ISO text) as a Date; an unreadable one gives an invalid Date. */
export function asDate(v: unknown): Date {
  return v instanceof Date ? v : new Date(asText(v));
}

/** `2024-01-31 11:01` from an ISO text or Date; '-' when absent. */
export function shortTime(v: unknown): string {
  if (v === undefined || v === null || v === '') return '-';
  const d = asDate(v);
  return Number.isNaN(d.getTime()) ? asText(v) : d.toISOString().slice(0, 16).replace('T', ' ');
}

export function shortDate(v: unknown): string {
  return shortTime(v).slice(0, 10);
}

export interface Progress {
  /** something moved: redraw (at most 4 times a second) */
  tick(): void;
  /** erase the line (the next tick draws it again) */
  done(): void;
}

/** A self-updating stderr line, or nothing at all when stderr is not a terminal. */
export function progress(io: Io, render: () => string): Progress {
  if (!io.errIsTty) return { tick: () => undefined, done: () => undefined };
  let last = 0;
  let shown = false;
  return {
    tick() {
      const now = Date.now();
      if (now - last < 250) return;
      last = now;
      shown = true;
      io.err(`\r\x1b[K${render()}`);
    },
    done() {
      if (shown) io.err('\r\x1b[K');
      shown = false;
    },
  };
}
