// Deterministic, reversible, collision-free Table Storage keys (docs/architecture.md#tables-and-keys).
import { createHash } from 'node:crypto';
import { isWellFormed, replaceLoneSurrogates } from '../core/text';

/** Table Storage allows 1 KiB per key; in UTF-16 that is 512 code units. */
export const MAX_KEY_LENGTH = 512;
const HASH_MARK = '~';
const HASH_HEX = 32; // 128 bits of SHA-256
const SEPARATOR = '|';

// Forbidden in keys: / \ # ? and control characters U+0000–U+001F, U+007F–U+009F.
// We also escape our own escape character (%), the triple separator (|) and the hash mark (~), so
// escaping is reversible and a hashed key can never equal a plain one.
const NEEDS_ESCAPE = /[%/\\#?|~\u0000-\u001f\u007f-\u009f]/g;

function escapeChar(c: string): string {
  return '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
}

// A lone surrogate (legal in JSON, seen in Windows registry names) cannot be stored nor put in a request
// URL, and replacing it with U+FFFD would give two different inputs one key. It is escaped as %uXXXX
// instead: a form no existing key holds (our own % is always escaped as %25), so keys of well-formed
// input are unchanged and the escape stays reversible.
function escapeCodeUnit(unit: number): string {
  return '%u' + unit.toString(16).toUpperCase();
}

export function escapeKeyPart(value: string): string {
  const escaped = value.replace(NEEDS_ESCAPE, escapeChar);
  return isWellFormed(escaped) ? escaped : replaceLoneSurrogates(escaped, escapeCodeUnit);
}

export function unescapeKeyPart(escaped: string): string {
  return escaped.replace(/%(?:u([0-9A-F]{4})|([0-9A-F]{2}))/g, (_, unit: string | undefined, hex: string | undefined) =>
    String.fromCharCode(parseInt(unit ?? hex!, 16)),
  );
}

/**
 * SHA-256 of the input, hex, cut to HASH_HEX. Well-formed input is hashed as UTF-8 (as it always was, so
 * existing keys stay). UTF-8 has no form for a lone surrogate (Node writes U+FFFD, so "a\ud800" and
 * "a\ufffd" would hash alike): input holding one is hashed as a 0xFF byte, which never occurs in UTF-8,
 * followed by its UTF-16LE code units — injective, and disjoint from every UTF-8 input.
 */
function shortHash(text: string): string {
  const h = createHash('sha256');
  if (isWellFormed(text)) h.update(text, 'utf8');
  else h.update(Buffer.from([0xff])).update(Buffer.from(text, 'utf16le'));
  return h.digest('hex').slice(0, HASH_HEX);
}

/** Cut an escaped key to fit: never inside a %XX or %uXXXX escape or a surrogate pair; then ~ and a hash of the full input. */
function fitKey(escaped: string, fullInput: string): string {
  if (escaped.length <= MAX_KEY_LENGTH) return escaped;
  let cut = MAX_KEY_LENGTH - HASH_HEX - HASH_MARK.length;
  const pct = escaped.lastIndexOf('%', cut - 1);
  if (pct >= 0 && pct + (escaped[pct + 1] === 'u' ? 6 : 3) > cut) cut = pct;
  const code = escaped.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut -= 1;
  return escaped.slice(0, cut) + HASH_MARK + shortHash(fullInput);
}

export function partitionKeyFor(deviceId: string): string {
  return fitKey(escapeKeyPart(deviceId), deviceId);
}

/**
 * RowKey of a kind's key columns in key order (docs/kinds.md): each escaped, `|`-joined; an absent optional
 * part (a null CveId) is the empty string. The inventory's triple gives the keys it always had.
 */
export function rowKeyForParts(parts: readonly string[]): string {
  let escaped = escapeKeyPart(parts[0]);
  for (let i = 1; i < parts.length; i++) escaped += SEPARATOR + escapeKeyPart(parts[i]);
  // JSON of the parts keeps ("a|b","c") and ("a","b|c") apart in the hash input too (and JSON.stringify
  // writes a lone surrogate as a \uXXXX escape, so that input is always well-formed).
  return escaped.length <= MAX_KEY_LENGTH ? escaped : fitKey(escaped, JSON.stringify(parts));
}

export function rowKeyFor(vendor: string, name: string, version: string): string {
  return rowKeyForParts([vendor, name, version]);
}

/** Reverse of rowKeyForParts for a kind with `count` key columns, when the key was not hashed (undefined otherwise). */
export function keyPartsFromRowKey(key: string, count: number): string[] | undefined {
  if (key.includes(HASH_MARK)) return undefined;
  const parts = key.split(SEPARATOR);
  if (parts.length !== count) return undefined;
  return parts.map(unescapeKeyPart);
}

/** Reverse of partitionKeyFor, when the key was not hashed (undefined otherwise). */
export function deviceIdFromPartitionKey(key: string): string | undefined {
  return key.includes(HASH_MARK) ? undefined : unescapeKeyPart(key);
}

/** Reverse of rowKeyFor, when the key was not hashed (undefined otherwise). */
export function tripleFromRowKey(key: string): [string, string, string] | undefined {
  if (key.includes(HASH_MARK)) return undefined;
  const parts = key.split(SEPARATOR);
  if (parts.length !== 3) return undefined;
  return parts.map(unescapeKeyPart) as [string, string, string];
}

/** RowKey range of every version of one product (for prefix queries). */
export function productRowKeyRange(vendor: string, name: string): { ge: string; lt: string } {
  const prefix = escapeKeyPart(vendor) + SEPARATOR + escapeKeyPart(name) + SEPARATOR;
  return { ge: prefix, lt: prefix.slice(0, -1) + String.fromCharCode(SEPARATOR.charCodeAt(0) + 1) };
}
