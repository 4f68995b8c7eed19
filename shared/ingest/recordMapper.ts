// One export record (a parsed JSON line) of any kind → a typed snapshot-table entity, or a reason to reject it.
// Driven by the kind registry (shared/kinds/exportKinds.ts): each kind's columns are compiled once into a
// lookup and a list of typed conversions (docs/kinds.md#stored-types), so a further kind needs no code here.
import { InventoryEntity, SnapshotEntity } from '../core/contracts';
import { ColumnType, DEFAULT_KIND, ExportKind, kindSpec, storedName } from '../kinds/exportKinds';
import { partitionKeyFor, rowKeyForParts } from '../storage/tableKeys';
import { isWellFormed, prefixAtCodePoint, toWellFormed } from '../core/text';
import {
  fitJsonArray,
  inTableDateRange,
  optionalBoolean,
  optionalDate,
  optionalDecimalString,
  optionalDouble,
  optionalInt32,
  optionalString,
  optionalStringArray,
  Reject,
  requiredString,
  typeName,
} from './columnValues';

// the value rules, where callers and tests have always found them
export { fitJsonArray, inTableDateRange, MAX_STRING_LENGTH, parseDefenderDate } from './columnValues';

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
