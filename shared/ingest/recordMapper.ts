// One export record (a parsed JSON line) → a typed snapshot-table entity, or a reason to reject it.
import { InventoryEntity } from '../core/contracts';
import { DEFAULT_KIND, ExportKind } from '../kinds/exportKinds';
import { partitionKeyFor, rowKeyFor } from '../storage/tableKeys';
import { isWellFormed, prefixAtCodePoint, toWellFormed } from '../core/text';

/** Table Storage's string property limit, in UTF-16 code units. */
export const MAX_STRING_LENGTH = 32768;
export const REJECT_EXCERPT_LENGTH = 1000;

type Field =
  | 'DeviceId'
  | 'DeviceName'
  | 'DiskPaths'
  | 'EndOfSupportDate'
  | 'EndOfSupportStatus'
  | 'NumberOfWeaknesses'
  | 'OSPlatform'
  | 'RbacGroupName'
  | 'RegistryPaths'
  | 'SoftwareFirstSeenTimestamp'
  | 'SoftwareName'
  | 'SoftwareVendor'
  | 'SoftwareVersion';

// Keys arrive camelCase although the docs say PascalCase: match case-insensitively.
const FIELD_BY_LOWER = new Map<string, Field>(
  (
    [
      'DeviceId',
      'DeviceName',
      'DiskPaths',
      'EndOfSupportDate',
      'EndOfSupportStatus',
      'NumberOfWeaknesses',
      'OSPlatform',
      'RbacGroupName',
      'RegistryPaths',
      'SoftwareFirstSeenTimestamp',
      'SoftwareName',
      'SoftwareVendor',
      'SoftwareVersion',
    ] as Field[]
  ).map((f) => [f.toLowerCase(), f]),
);

const FIELD_INDEX = new Map<Field, number>([...FIELD_BY_LOWER.values()].map((f, i) => [f, i]));

/** Keys longer than this are looked up without being cached: no documented column name comes close. */
export const MAX_CACHED_KEY_LENGTH = 64;
/** Exact key → field (null: not a documented column), so the usual camelCase keys are never lower-cased again. */
const FIELD_BY_KEY = new Map<string, Field | null>();
function fieldOf(key: string): Field | null {
  let f = FIELD_BY_KEY.get(key);
  if (f === undefined) {
    f = FIELD_BY_LOWER.get(key.toLowerCase()) ?? null;
    // a crafted file could otherwise park a thousand multi-megabyte keys here for the process's life
    if (FIELD_BY_KEY.size < 1000 && key.length <= MAX_CACHED_KEY_LENGTH) FIELD_BY_KEY.set(key, f);
  }
  return f;
}

/** Cache size (tests). */
export function cachedColumnNames(): number {
  return FIELD_BY_KEY.size;
}

export type MapResult = { ok: true; entity: InventoryEntity } | { ok: false; reason: string };

/** Distinct undocumented column names kept per file, and the length each is cut to (in UTF-16 code units). */
export const MAX_EXTRA_NAMES = 100;
export const MAX_EXTRA_NAME_LENGTH = 100;

/** A column name as it may appear in a log line: cut (code-point-safe), then escaped so it cannot break or forge a line. */
function loggable(name: string): string {
  const cut = prefixAtCodePoint(name, MAX_EXTRA_NAME_LENGTH);
  // JSON escaping covers quotes, backslashes, C0 controls and lone surrogates; C1 controls and U+2028/9 end lines in some viewers
  const escaped = JSON.stringify(cut)
    .slice(1, -1)
    .replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return cut.length < name.length ? `${escaped}…` : escaped;
}

/**
 * What one file's records had that is worth one log line each, not one per row: undocumented columns
 * (ignored), lone surrogates (stored as U+FFFD), dates outside Table Storage's range (dropped).
 */
export class ExtraColumns {
  /** undocumented column names, cut and escaped for logging */
  readonly names = new Set<string>();
  /** more distinct undocumented names were seen than kept */
  more = false;
  /** rows mapped with a lone surrogate replaced by U+FFFD in a property, and those properties */
  replacedRows = 0;
  readonly replacedColumns = new Set<Field>();
  /** rows mapped without a date property because the date was outside 1601-01-01..9999-12-31 UTC, and those properties */
  droppedDateRows = 0;
  readonly droppedDateColumns = new Set<Field>();
  /** raw short names already recorded, so a column present on every row costs one lookup */
  private readonly seen = new Set<string>();

  add(name: string): void {
    if (this.seen.has(name)) return;
    const shown = loggable(name);
    if (this.names.has(shown)) return;
    if (this.names.size >= MAX_EXTRA_NAMES) {
      this.more = true;
      return;
    }
    if (name.length <= MAX_EXTRA_NAME_LENGTH) this.seen.add(name);
    this.names.add(shown);
  }

  /** One message per kind of note (for the file's log), none when there is nothing to say. */
  messages(): string[] {
    const out: string[] = [];
    if (this.names.size > 0) {
      out.push(`ignored ${this.names.size}${this.more ? '+' : ''} undocumented column(s): ${[...this.names].sort().join(', ')}${this.more ? ', …' : ''}`);
    }
    if (this.replacedRows > 0) {
      out.push(
        `${this.replacedRows} row(s) stored with lone surrogates (not well-formed UTF-16) replaced by U+FFFD in ${[...this.replacedColumns].sort().join(', ')}; their keys keep the exact text`,
      );
    }
    if (this.droppedDateRows > 0) {
      out.push(
        `${this.droppedDateRows} row(s) stored without a date outside Table Storage's range (1601-01-01 to 9999-12-31 UTC) in ${[...this.droppedDateColumns].sort().join(', ')}`,
      );
    }
    return out;
  }
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

// `yyyy-MM-dd HH:mm:ss[.fffffff]` (no zone = UTC), also ISO `T` with optional Z/offset, or a bare date.
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function daysInMonth(year: number, month: number): number {
  return month === 2 && ((year % 4 === 0 && year % 100 !== 0) || year % 400 === 0) ? 29 : MONTH_DAYS[month - 1];
}

/** Parse Defender's timestamp forms to a UTC Date; undefined when the text is not one of them. */
export function parseDefenderDate(text: string): Date | undefined {
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

function requiredString(v: unknown, field: Field): string {
  if (v === undefined || v === null) throw new Reject(`missing ${field}`);
  if (typeof v !== 'string') throw new Reject(`${field}: expected a string, got ${typeName(v)}`);
  if (v.length === 0) throw new Reject(`missing ${field} (empty string)`);
  if (v.length > MAX_STRING_LENGTH) throw new Reject(`${field}: longer than ${MAX_STRING_LENGTH} characters`);
  return v;
}

function optionalString(v: unknown, field: Field): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Reject(`${field}: expected a string, got ${typeName(v)}`);
  if (v.length > MAX_STRING_LENGTH) throw new Reject(`${field}: longer than ${MAX_STRING_LENGTH} characters`);
  return v;
}

function optionalDate(v: unknown, field: Field): Date | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new Reject(`${field}: expected a date string, got ${typeName(v)}`);
  const d = parseDefenderDate(v);
  if (!d) throw new Reject(`${field}: "${prefixAtCodePoint(v, 40)}" is not a date`);
  return d;
}

function optionalInt32(v: unknown, field: Field): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
    throw new Reject(`${field}: expected a 32-bit whole number, got ${typeof v === 'number' ? v : typeName(v)}`);
  }
  return v;
}

function optionalStringArray(v: unknown, field: Field): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new Reject(`${field}: expected an array of strings, got ${typeName(v)}`);
  for (const item of v) {
    if (typeof item !== 'string') throw new Reject(`${field}: expected an array of strings, found ${typeName(item)}`);
  }
  return v as string[];
}

/**
 * The array with lone surrogates replaced in its elements. (JSON.stringify would write them as \uXXXX
 * escapes, storable but a lone surrogate again for whoever parses the column: stored text holds none.)
 */
function storedArray(items: string[], field: Field, note: (f: Field) => void): string[] {
  if (items.every(isWellFormed)) return items;
  note(field);
  return items.map(toWellFormed);
}

class Reject {
  constructor(readonly reason: string) {}
}

/** Map one parsed record of `kind`. Never throws for bad data: returns a reject reason instead. */
export function mapRecord(record: unknown, extras?: ExtraColumns, kind: ExportKind = DEFAULT_KIND): MapResult {
  if (kind !== DEFAULT_KIND) return { ok: false, reason: `export kind ${kind} is not mapped yet` };
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    return { ok: false, reason: `expected a JSON object, got ${typeName(record)}` };
  }
  const values: Partial<Record<Field, unknown>> = {};
  let seen = 0;
  for (const key of Object.keys(record)) {
    const field = fieldOf(key);
    if (field) {
      const bit = 1 << FIELD_INDEX.get(field)!;
      if (seen & bit) return { ok: false, reason: `column ${field} appears twice (keys differ only in case)` };
      seen |= bit;
      values[field] = (record as Record<string, unknown>)[key];
    } else {
      extras?.add(key);
    }
  }
  try {
    const DeviceId = requiredString(values.DeviceId, 'DeviceId');
    const SoftwareVendor = requiredString(values.SoftwareVendor, 'SoftwareVendor');
    const SoftwareName = requiredString(values.SoftwareName, 'SoftwareName');
    const SoftwareVersion = requiredString(values.SoftwareVersion, 'SoftwareVersion');
    // Lone surrogates: the keys escape them reversibly (tableKeys.ts) so distinct inputs keep distinct
    // rows; properties hold U+FFFD instead (Table Storage has no form for them), and the row is counted.
    let replaced: Field[] | undefined;
    const stored = (v: string, field: Field): string => {
      if (isWellFormed(v)) return v;
      (replaced ??= []).push(field);
      return toWellFormed(v);
    };
    const entity: InventoryEntity = {
      partitionKey: partitionKeyFor(DeviceId),
      rowKey: rowKeyFor(SoftwareVendor, SoftwareName, SoftwareVersion),
      DeviceId: stored(DeviceId, 'DeviceId'),
      SoftwareVendor: stored(SoftwareVendor, 'SoftwareVendor'),
      SoftwareName: stored(SoftwareName, 'SoftwareName'),
      SoftwareVersion: stored(SoftwareVersion, 'SoftwareVersion'),
    };
    const deviceName = optionalString(values.DeviceName, 'DeviceName');
    if (deviceName !== undefined) entity.DeviceName = stored(deviceName, 'DeviceName');
    const os = optionalString(values.OSPlatform, 'OSPlatform');
    if (os !== undefined) entity.OSPlatform = stored(os, 'OSPlatform');
    const rbac = optionalString(values.RbacGroupName, 'RbacGroupName');
    if (rbac !== undefined) entity.RbacGroupName = stored(rbac, 'RbacGroupName');
    const eos = optionalString(values.EndOfSupportStatus, 'EndOfSupportStatus');
    if (eos !== undefined) entity.EndOfSupportStatus = stored(eos, 'EndOfSupportStatus');
    const weaknesses = optionalInt32(values.NumberOfWeaknesses, 'NumberOfWeaknesses');
    if (weaknesses !== undefined) entity.NumberOfWeaknesses = weaknesses;
    // A date Table Storage cannot hold (e.g. .NET's 0001-01-01 "no date" sentinel) is left out, not a reject.
    let dropped: Field[] | undefined;
    const firstSeen = optionalDate(values.SoftwareFirstSeenTimestamp, 'SoftwareFirstSeenTimestamp');
    if (firstSeen) {
      if (inTableDateRange(firstSeen)) entity.SoftwareFirstSeenTimestamp = firstSeen;
      else (dropped ??= []).push('SoftwareFirstSeenTimestamp');
    }
    const eosDate = optionalDate(values.EndOfSupportDate, 'EndOfSupportDate');
    if (eosDate) {
      if (inTableDateRange(eosDate)) entity.EndOfSupportDate = eosDate;
      else (dropped ??= []).push('EndOfSupportDate');
    }
    const disk = optionalStringArray(values.DiskPaths, 'DiskPaths');
    if (disk) {
      const { json, truncated } = fitJsonArray(storedArray(disk, 'DiskPaths', (f) => (replaced ??= []).push(f)));
      entity.DiskPaths = json;
      if (truncated) entity.DiskPathsTruncated = true;
    }
    const registry = optionalStringArray(values.RegistryPaths, 'RegistryPaths');
    if (registry) {
      const { json, truncated } = fitJsonArray(storedArray(registry, 'RegistryPaths', (f) => (replaced ??= []).push(f)));
      entity.RegistryPaths = json;
      if (truncated) entity.RegistryPathsTruncated = true;
    }
    if (extras && replaced) {
      extras.replacedRows++;
      for (const f of replaced) extras.replacedColumns.add(f);
    }
    if (extras && dropped) {
      extras.droppedDateRows++;
      for (const f of dropped) extras.droppedDateColumns.add(f);
    }
    return { ok: true, entity };
  } catch (e) {
    if (e instanceof Reject) return { ok: false, reason: e.reason };
    throw e;
  }
}

/** Parse and map one line of a JSON Lines file of `kind`. */
export function mapLine(line: string, extras?: ExtraColumns, kind: ExportKind = DEFAULT_KIND): MapResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (e) {
    return { ok: false, reason: `malformed JSON: ${(e as Error).message.slice(0, 200)}` };
  }
  return mapRecord(parsed, extras, kind);
}

export function excerpt(line: string): string {
  return prefixAtCodePoint(line, REJECT_EXCERPT_LENGTH);
}
