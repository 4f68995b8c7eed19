// One export record (a parsed JSON line) of any kind → a typed snapshot-table entity, or a reason to reject it.
// Driven by the kind registry (shared/kinds/exportKinds.ts): each kind's columns are compiled once into a
// lookup and a list of typed conversions (docs/kinds.md#stored-types), so a further kind needs no code here.
import { EdmDouble, InventoryEntity, SnapshotEntity } from '../core/contracts';
import { ColumnType, DEFAULT_KIND, ExportKind, kindSpec, storedName } from '../kinds/exportKinds';
import { partitionKeyFor, rowKeyForParts } from '../storage/tableKeys';
import { isWellFormed, prefixAtCodePoint, toWellFormed } from '../core/text';

/** Table Storage's string property limit, in UTF-16 code units. */
export const MAX_STRING_LENGTH = 32768;
export const REJECT_EXCERPT_LENGTH = 1000;

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
  readonly replacedColumns = new Set<string>();
  /** rows mapped without a date property because the date was outside 1601-01-01..9999-12-31 UTC, and those properties */
  droppedDateRows = 0;
  readonly droppedDateColumns = new Set<string>();
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

class Reject {
  constructor(readonly reason: string) {}
}

function requiredString(v: unknown, name: string): string {
  if (v === undefined || v === null) throw new Reject(`missing ${name}`);
  if (typeof v !== 'string') throw new Reject(`${name}: expected a string, got ${typeName(v)}`);
  if (v.length === 0) throw new Reject(`missing ${name} (empty string)`);
  if (v.length > MAX_STRING_LENGTH) throw new Reject(`${name}: longer than ${MAX_STRING_LENGTH} characters`);
  return v;
}

function optionalString(v: unknown, name: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Reject(`${name}: expected a string, got ${typeName(v)}`);
  if (v.length > MAX_STRING_LENGTH) throw new Reject(`${name}: longer than ${MAX_STRING_LENGTH} characters`);
  return v;
}

function optionalDate(v: unknown, name: string): Date | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new Reject(`${name}: expected a date string, got ${typeName(v)}`);
  const d = parseDefenderDate(v);
  if (!d) throw new Reject(`${name}: "${prefixAtCodePoint(v, 40)}" is not a date`);
  return d;
}

function optionalInt32(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
    throw new Reject(`${name}: expected a 32-bit whole number, got ${typeof v === 'number' ? v : typeName(v)}`);
  }
  return v;
}

// a decimal number as text: what a payload that sends CvssScore as a string holds ("9.8"); no hex, no Infinity
const DECIMAL_RE = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** A number, or a string holding one; an empty string is no value. Stored typed, so an integral score is still Edm.Double. */
function optionalDouble(v: unknown, name: string): EdmDouble | undefined {
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

function optionalBoolean(v: unknown, name: string): boolean | undefined {
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
function optionalDecimalString(v: unknown, name: string): string | undefined {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Reject(`${name}: expected a finite number or a string, got ${v}`);
    return String(v);
  }
  if (v === undefined || v === null || typeof v === 'string') return optionalString(v, name);
  throw new Reject(`${name}: expected a string or a number, got ${typeName(v)}`);
}

function optionalStringArray(v: unknown, name: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new Reject(`${name}: expected an array of strings, got ${typeName(v)}`);
  for (const item of v) {
    if (typeof item !== 'string') throw new Reject(`${name}: expected an array of strings, found ${typeName(item)}`);
  }
  return v as string[];
}

// Lone surrogates: the keys escape them reversibly (tableKeys.ts) so distinct inputs keep distinct rows;
// properties hold U+FFFD instead (Table Storage has no form for them), and the row is counted. The columns
// where the record being mapped had one (mapRecord is synchronous: a module scratch saves a closure per row).
let replacedNow: string[] | undefined;

function storedText(v: string, name: string): string {
  if (isWellFormed(v)) return v;
  (replacedNow ??= []).push(name);
  return toWellFormed(v);
}

/**
 * The array with lone surrogates replaced in its elements. (JSON.stringify would write them as \uXXXX
 * escapes, storable but a lone surrogate again for whoever parses the column: stored text holds none.)
 */
function storedArray(items: string[], name: string): string[] {
  if (items.every(isWellFormed)) return items;
  (replacedNow ??= []).push(name);
  return items.map(toWellFormed);
}

/** One documented column of a kind, ready to map. */
interface Column {
  /** the documented name: reject reasons and notes use it */
  name: string;
  /** the stored property name (`Timestamp` → `AssessmentTimestamp`) */
  stored: string;
  /** `<stored>Truncated`, for a string array */
  truncated: string;
  type: ColumnType;
  required: boolean;
  /** position in the RowKey's parts, -1 when not a key column */
  keyPart: number;
}

/** A kind's spec compiled once: source key → column, and the columns in the order they are checked and written. */
interface CompiledKind {
  /** required columns first, then the others, each in registry order (the inventory's order before kinds existed) */
  columns: Column[];
  byLower: Map<string, number>;
  /** exact source key → column index (-1: undocumented), so the usual camelCase keys are never lower-cased again */
  byKey: Map<string, number>;
  /** index of DeviceId, the PartitionKey */
  device: number;
  keyParts: number;
  /** per column, the call of mapRecord that last saw it (finds a column twice without allocating per record) */
  seenAt: Int32Array;
  calls: number;
}

/** Keys longer than this are looked up without being cached: no documented column name comes close. */
export const MAX_CACHED_KEY_LENGTH = 64;
const MAX_CACHED_KEYS = 1000;

const KEY_TYPES: readonly ColumnType[] = ['string', 'decimalString'];

function compile(kind: ExportKind): CompiledKind {
  const spec = kindSpec(kind);
  const ordered = [...spec.columns.filter((c) => c.required), ...spec.columns.filter((c) => !c.required)];
  const columns = ordered.map((c): Column => ({
    name: c.name,
    stored: storedName(c),
    truncated: `${storedName(c)}Truncated`,
    type: c.type,
    required: c.required === true,
    keyPart: spec.keyColumns.indexOf(c.name),
  }));
  const byLower = new Map<string, number>();
  columns.forEach((c, i) => {
    if (byLower.has(c.name.toLowerCase())) throw new Error(`export kind ${kind}: column ${c.name} is listed twice`);
    byLower.set(c.name.toLowerCase(), i);
  });
  const device = byLower.get('deviceid');
  if (device === undefined || !columns[device].required || columns[device].type !== 'string') {
    throw new Error(`export kind ${kind}: DeviceId must be a required string column (it is the PartitionKey)`);
  }
  for (const key of spec.keyColumns) {
    const c = columns[byLower.get(key.toLowerCase()) ?? -1];
    if (!c || !KEY_TYPES.includes(c.type)) throw new Error(`export kind ${kind}: key column ${key} must be a string column`);
  }
  return { columns, byLower, byKey: new Map(), device, keyParts: spec.keyColumns.length, seenAt: new Int32Array(columns.length), calls: 0 };
}

const COMPILED = new Map<string, CompiledKind>();
function compiled(kind: ExportKind): CompiledKind {
  let c = COMPILED.get(kind);
  if (!c) COMPILED.set(kind, (c = compile(kind)));
  return c;
}

function columnIndex(c: CompiledKind, key: string): number {
  let i = c.byKey.get(key);
  if (i === undefined) {
    i = c.byLower.get(key.toLowerCase()) ?? -1;
    // a crafted file could otherwise park a thousand multi-megabyte keys here for the process's life
    if (c.byKey.size < MAX_CACHED_KEYS && key.length <= MAX_CACHED_KEY_LENGTH) c.byKey.set(key, i);
  }
  return i;
}

/** Cached source keys, all kinds (tests). */
export function cachedColumnNames(): number {
  let n = 0;
  for (const c of COMPILED.values()) n += c.byKey.size;
  return n;
}

export type MapResult<E extends SnapshotEntity = SnapshotEntity> = { ok: true; entity: E } | { ok: false; reason: string };

/** Map one parsed record of `kind`. Never throws for bad data: returns a reject reason instead. */
export function mapRecord(record: unknown, extras?: ExtraColumns, kind?: typeof DEFAULT_KIND): MapResult<InventoryEntity>;
export function mapRecord(record: unknown, extras: ExtraColumns | undefined, kind: ExportKind): MapResult;
export function mapRecord(record: unknown, extras?: ExtraColumns, kind: ExportKind = DEFAULT_KIND): MapResult {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    return { ok: false, reason: `expected a JSON object, got ${typeName(record)}` };
  }
  const c = compiled(kind);
  const { columns } = c;
  const values: unknown[] = new Array(columns.length);
  // a fresh number per call; before it could wrap round to a number some column still holds, start over
  if (c.calls >= 0x3fffffff) {
    c.seenAt.fill(0);
    c.calls = 0;
  }
  const call = ++c.calls;
  for (const key of Object.keys(record)) {
    const i = columnIndex(c, key);
    if (i >= 0) {
      if (c.seenAt[i] === call) return { ok: false, reason: `column ${columns[i].name} appears twice (keys differ only in case)` };
      c.seenAt[i] = call;
      values[i] = (record as Record<string, unknown>)[key];
    } else {
      extras?.add(key);
    }
  }
  try {
    // keys first, so they lead the entity's properties (and its JSON on the wire) as they always did
    const entity = { partitionKey: '', rowKey: '' } as SnapshotEntity;
    // a null or missing optional key part is the empty string (docs/kinds.md#tables-and-keys)
    const parts: string[] = new Array<string>(c.keyParts).fill('');
    replacedNow = undefined;
    // A date Table Storage cannot hold (e.g. .NET's 0001-01-01 "no date" sentinel) is left out, not a reject.
    let dropped: string[] | undefined;
    let deviceId = '';
    for (let i = 0; i < columns.length; i++) {
      const col = columns[i];
      const v = values[i];
      switch (col.type) {
        case 'string':
        case 'decimalString': {
          if (col.required && (v === undefined || v === null || v === '')) requiredString(v, col.name); // throws its reason
          const s = col.type === 'string' ? optionalString(v, col.name) : optionalDecimalString(v, col.name);
          if (s === undefined) break;
          if (i === c.device) deviceId = s;
          if (col.keyPart >= 0) {
            parts[col.keyPart] = s;
            // an empty optional key part is no value: the row's key ends in `|` and it has no property
            if (s === '') break;
          }
          entity[col.stored] = storedText(s, col.name);
          break;
        }
        case 'int32': {
          if (col.required && (v === undefined || v === null)) throw new Reject(`missing ${col.name}`);
          const n = optionalInt32(v, col.name);
          if (n !== undefined) entity[col.stored] = n;
          break;
        }
        case 'double': {
          if (col.required && (v === undefined || v === null || v === '')) throw new Reject(`missing ${col.name}`);
          const d = optionalDouble(v, col.name);
          if (d !== undefined) entity[col.stored] = d;
          break;
        }
        case 'boolean': {
          if (col.required && (v === undefined || v === null)) throw new Reject(`missing ${col.name}`);
          const b = optionalBoolean(v, col.name);
          if (b !== undefined) entity[col.stored] = b;
          break;
        }
        case 'datetime': {
          if (col.required && (v === undefined || v === null || v === '')) throw new Reject(`missing ${col.name}`);
          const d = optionalDate(v, col.name);
          if (!d) break;
          if (inTableDateRange(d)) entity[col.stored] = d;
          else (dropped ??= []).push(col.name);
          break;
        }
        case 'stringArray': {
          if (col.required && (v === undefined || v === null)) throw new Reject(`missing ${col.name}`);
          const items = optionalStringArray(v, col.name);
          if (!items) break;
          const { json, truncated } = fitJsonArray(storedArray(items, col.name));
          entity[col.stored] = json;
          if (truncated) entity[col.truncated] = true;
          break;
        }
      }
    }
    entity.partitionKey = partitionKeyFor(deviceId);
    entity.rowKey = rowKeyForParts(parts);
    const replaced = replacedNow as string[] | undefined; // set by storedText/storedArray: not narrowed by the assignment above
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
export function mapLine(line: string, extras?: ExtraColumns, kind?: typeof DEFAULT_KIND): MapResult<InventoryEntity>;
export function mapLine(line: string, extras: ExtraColumns | undefined, kind: ExportKind): MapResult;
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
