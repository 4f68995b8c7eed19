// Column values of the export kinds (docs/kinds.md#stored-types): each ColumnType's conversion of a source value,
// with the reason a bad one is rejected, and the date and JSON-array rules Table Storage imposes.
import { EdmDouble } from '../core/contracts';
import { prefixAtCodePoint } from '../core/text';

/** Table Storage's string property limit, in UTF-16 code units. */
export const MAX_STRING_LENGTH = 32768;

export function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

// `yyyy-MM-dd HH:mm:ss[.fffffff]` (no zone = UTC), also ISO `T` with optional Z/offset, or a bare date.
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysInMonth(year: number, month: number): number {
  return month === 2 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0) ? 29 : MONTH_DAYS[month - 1];
}

/** The number of `n` ASCII digits at `at`, or -1. */
function digitsAt(text: string, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/**
 * The usual forms without the regex (every vulnerability row has two dates): `yyyy-MM-dd HH:mm:ss[.f…]`
 * or with `T`, and an optional `Z`, for years 100 and later. Undefined for anything else, which the regex
 * parser then reads (offsets, bare dates, early years) or refuses: the same result either way.
 */
function parseCommonDate(text: string): number | undefined {
  const len = text.length;
  if (len < 19 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return undefined;
  const sep = text.charCodeAt(10);
  if (sep !== 32 && sep !== 84) return undefined; // ' ' or 'T'
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const h = digitsAt(text, 11, 2);
  const mi = digitsAt(text, 14, 2);
  const sec = digitsAt(text, 17, 2);
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) {
    return undefined;
  }
  let at = 19;
  let ms = 0;
  if (at < len && text.charCodeAt(at) === 46) {
    let n = 0;
    for (at++; at < len && n < 10; at++, n++) {
      const d = text.charCodeAt(at) - 48;
      if (d < 0 || d > 9) break;
      if (n < 3) ms += d * (n === 0 ? 100 : n === 1 ? 10 : 1);
    }
    if (n < 1 || n > 9) return undefined;
  }
  if (at < len && (text.charCodeAt(at) | 32) === 122) at++; // 'Z' or 'z'
  if (at !== len) return undefined;
  return Date.UTC(year, month - 1, day, h, mi, sec, ms);
}

/** Parse Defender's timestamp forms to a UTC Date; undefined when the text is not one of them. */
export function parseDefenderDate(text: string): Date | undefined {
  const common = parseCommonDate(text);
  if (common !== undefined) return new Date(common);
  const m = DATE_RE.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const year = +y;
  const month = +mo;
  const day = +d;
  // reject impossible calendar dates (2021-02-30) instead of letting Date roll them over
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || +h > 23 || +mi > 59 || +s > 59) return undefined;
  const ms = frac ? Number(frac.length >= 3 ? frac.slice(0, 3) : frac.padEnd(3, '0')) : 0;
  // Date.UTC reads years 0-99 as 1900-1999, so set the year apart (.NET's 0001-01-01 sentinel is a date, if out of range)
  let t = Date.UTC(2000, month - 1, day, +h, +mi, +s, ms);
  if (year !== 2000) t = new Date(t).setUTCFullYear(year, month - 1, day);
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    t -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60000;
  }
  return new Date(t);
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
