// Column values of the export kinds (docs/kinds.md#stored-types): each ColumnType's conversion of a source value,
// with the reason a bad one is rejected, and the date and JSON-array rules Table Storage imposes.
import { EdmDouble } from '../core/contracts';
import { prefixAtCodePoint } from '../core/text';
import { COLUMN_DATE, parseTimestamp } from '../core/timestamps';

/** Table Storage's string property limit, in UTF-16 code units. */
export const MAX_STRING_LENGTH = 32768;

export function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Parse Defender's timestamp forms for a column (docs/kinds.md#mapping) to a UTC Date; undefined when the text is none. */
export function parseDefenderDate(text: string): Date | undefined {
  return parseTimestamp(text, COLUMN_DATE);
}

/**
 * JSON text of a string array, cut to the longest prefix of whole elements that fits the string limit.
 * Exactly MAX_STRING_LENGTH characters is kept whole.
 */
export function fitJsonArray(items: string[]): { json: string; truncated: boolean } {
  const whole = JSON.stringify(items);
  if (whole.length <= MAX_STRING_LENGTH) return { json: whole, truncated: false };
  let length = 2; // "[" + "]"
  let count = 0;
  for (const item of items) {
    const add = JSON.stringify(item).length + (count > 0 ? 1 : 0);
    if (length + add > MAX_STRING_LENGTH) break;
    length += add;
    count++;
  }
  return { json: JSON.stringify(items.slice(0, count)), truncated: true };
}

/** Table Storage's DateTime range: 1601-01-01T00:00:00Z to 9999-12-31T23:59:59.9999999Z. */
const MIN_TABLE_DATE = Date.UTC(1601, 0, 1);
const END_TABLE_DATE = new Date(Date.UTC(2000, 0, 1)).setUTCFullYear(10000, 0, 1);

export function inTableDateRange(d: Date): boolean {
  const t = d.getTime();
  return t >= MIN_TABLE_DATE && t < END_TABLE_DATE;
}

/** Thrown by a conversion: the record is rejected with this reason (caught by the mapper, never escapes it). */
export class Reject {
  constructor(readonly reason: string) {}
}

export function requiredString(v: unknown, name: string): string {
  if (v === undefined || v === null) throw new Reject(`missing ${name}`);
  if (typeof v !== 'string') throw new Reject(`${name}: expected a string, got ${typeName(v)}`);
  if (v.length === 0) throw new Reject(`missing ${name} (empty string)`);
  if (v.length > MAX_STRING_LENGTH) throw new Reject(`${name}: longer than ${MAX_STRING_LENGTH} characters`);
  return v;
}

export function optionalString(v: unknown, name: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Reject(`${name}: expected a string, got ${typeName(v)}`);
  if (v.length > MAX_STRING_LENGTH) throw new Reject(`${name}: longer than ${MAX_STRING_LENGTH} characters`);
  return v;
}

export function optionalDate(v: unknown, name: string): Date | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new Reject(`${name}: expected a date string, got ${typeName(v)}`);
  const d = parseDefenderDate(v);
  if (!d) throw new Reject(`${name}: "${prefixAtCodePoint(v, 40)}" is not a date`);
  return d;
}

export function optionalInt32(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
    throw new Reject(`${name}: expected a 32-bit whole number, got ${typeof v === 'number' ? v : typeName(v)}`);
  }
  return v;
}

// a decimal number as text: what a payload that sends CvssScore as a string holds ("9.8"); no hex, no Infinity
const DECIMAL_RE = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** A number, or a string holding one; an empty string is no value. Stored typed, so an integral score is still Edm.Double. */
export function optionalDouble(v: unknown, name: string): EdmDouble | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Reject(`${name}: expected a finite number, got ${v}`);
    return { value: v, type: 'Double' };
  }
  if (typeof v !== 'string') throw new Reject(`${name}: expected a number, got ${typeName(v)}`);
  const n = DECIMAL_RE.test(v) ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new Reject(`${name}: "${prefixAtCodePoint(v, 40)}" is not a number`);
  return { value: n, type: 'Double' };
}

export function optionalBoolean(v: unknown, name: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') {
    const lower = v.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    throw new Reject(`${name}: "${prefixAtCodePoint(v, 40)}" is not true or false`);
  }
  throw new Reject(`${name}: expected true or false, got ${typeof v === 'number' ? v : typeName(v)}`);
}

/** Documented string, examples show a number: a number is stored as its decimal text, so the column has one type. */
export function optionalDecimalString(v: unknown, name: string): string | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Reject(`${name}: expected a finite number or a string, got ${v}`);
    return String(v);
  }
  if (v === undefined || v === null || typeof v === 'string') return optionalString(v, name);
  throw new Reject(`${name}: expected a string or a number, got ${typeName(v)}`);
}

export function optionalStringArray(v: unknown, name: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new Reject(`${name}: expected an array of strings, got ${typeName(v)}`);
  for (const item of v) {
    if (typeof item !== 'string') throw new Reject(`${name}: expected an array of strings, found ${typeName(item)}`);
  }
  return v as string[];
}
