// `--csv` (docs/query.md#csv-output): RFC 4180 text — CRLF line ends, a header row, the columns in a fixed
// order, and a field quoted only when it holds a comma, a quote, CR or LF (quotes doubled). Values stay exact
// (no printable() escaping): CSV, like --json, is for programs and spreadsheets.
import { JsonArray } from './commands/common';
import { Io } from './output';

/** One value as CSV text, unquoted: absent → empty, Date → ISO 8601 UTC, arrays and objects → JSON. */
export function csvText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value) ?? '';
}

/** One field, quoted when RFC 4180 requires it. */
export function csvField(value: unknown): string {
  const text = csvText(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record, CRLF-terminated. */
export function csvLine(fields: readonly unknown[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

/** Where a command's flat records go: a JSON array (--json) or CSV (--csv). */
export interface RecordSink {
  add(record: object): Promise<void>;
  end(): Promise<void>;
}

/**
 * CSV written record by record, so a large result never sits in memory. The header goes out with the
 * first record, or at end() for an empty result (a header-only file, never an empty one). A record's
 * properties not in `columns` are left out; columns it lacks are empty.
 */
export class CsvWriter implements RecordSink {
  private started = false;
  constructor(
    private readonly io: Io,
    private readonly columns: readonly string[],
  ) {
    if (columns.length === 0) throw new Error('CsvWriter needs at least one column');
  }

  private header(): string {
    if (this.started) return '';
    this.started = true;
    return csvLine(this.columns);
  }

  async add(record: object): Promise<void> {
    const r = record as Record<string, unknown>;
    await this.io.out(this.header() + csvLine(this.columns.map((c) => r[c])));
  }

  async end(): Promise<void> {
    const rest = this.header();
    if (rest) await this.io.out(rest);
  }
}

/** The machine output a command's flags ask for: CSV over `columns` with --csv, else a JSON array. */
export function recordSink(io: Io, flags: { csv: boolean }, columns: readonly string[]): RecordSink {
  return flags.csv ? new CsvWriter(io, columns) : new JsonArray(io);
}
