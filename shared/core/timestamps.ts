// Defender's timestamps, read to a UTC Date: `yyyy-MM-dd HH:mm:ss[.f…]` with no zone = UTC (docs/kinds.md#stored-types)
// and the ISO 8601 forms. One parser for the export columns (ingest, every row) and an export's generatedTime
// (the client); a TimestampForm says what a caller accepts beyond the shared forms.

/** What a caller accepts beyond `yyyy-MM-dd[ T]HH:mm[:ss[.f…]]` with an optional `Z` or `±hh[:]mm`. */
export interface TimestampForm {
  /** A bare `yyyy-MM-dd`, read as midnight UTC. */
  readonly dateOnly: boolean;
  /** The most fractional-second digits accepted; milliseconds are kept, further digits dropped. */
  readonly maxFractionDigits: number;
}

/** Export column values (docs/kinds.md#mapping): also bare dates (`EndOfSupportDate`), at most 9 fractional digits. */
export const COLUMN_DATE: TimestampForm = { dateOnly: true, maxFractionDigits: 9 };

/** An instant such as an export's generatedTime: the time of day is required, any number of fractional digits. */
export const INSTANT: TimestampForm = { dateOnly: false, maxFractionDigits: Infinity };

/** Read `text` as one of the forms `form` accepts; undefined when it is none, or names an impossible date or time. */
export function parseTimestamp(text: string, form: TimestampForm): Date | undefined {
  const common = parseCommon(text);
  if (common !== undefined) return new Date(common);
  return parseGeneral(text, form);
}

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
 * The usual forms without a regex (every vulnerability row has two dates): `yyyy-MM-dd HH:mm:ss[.f…]` or with
 * `T`, at most 9 fractional digits, an optional `Z`, years 100 and later; the time in ms, or undefined for anything
 * else, which parseGeneral then reads or refuses: the same result either way, so every form may take this path.
 */
function parseCommon(text: string): number | undefined {
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

// Everything else: a bare date, no seconds, `t`, spaces before the zone, an offset, years before 100, long fractions.
const GENERAL = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

function parseGeneral(text: string, form: TimestampForm): Date | undefined {
  const m = GENERAL.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi = '0', s = '0', frac = '', zone] = m;
  if (h === undefined && !form.dateOnly) return undefined;
  if (frac.length > form.maxFractionDigits) return undefined;
  const year = +y;
  const month = +mo;
  const day = +d;
  const hour = h === undefined ? 0 : +h;
  // refuse impossible dates and times (2021-02-30, 24:00) instead of letting Date roll them over
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || +mi > 59 || +s > 59) return undefined;
  const ms = frac ? Number(frac.length >= 3 ? frac.slice(0, 3) : frac.padEnd(3, '0')) : 0;
  // Date.UTC reads years 0-99 as 1900-1999, so set the year apart (.NET's 0001-01-01 sentinel is a date, if out of range)
  let t = Date.UTC(2000, month - 1, day, hour, +mi, +s, ms);
  if (year !== 2000) t = new Date(t).setUTCFullYear(year, month - 1, day);
  if (zone && zone.toUpperCase() !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(-2));
    if (zh > 23 || zm > 59) return undefined;
    t -= (zone[0] === '-' ? -1 : 1) * (zh * 60 + zm) * 60_000;
  }
  return new Date(t);
}
