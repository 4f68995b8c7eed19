// Cutting text for logs, error columns and reject excerpts. A cut between the two halves of a
// surrogate pair would leave a lone surrogate, which Table Storage refuses and which turns a clean
// excerpt into a reason to fail the write, so cuts land on code-point boundaries.

/** The longest prefix of `text` of at most `max` UTF-16 code units that does not split a surrogate pair. */
export function prefixAtCodePoint(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max);
  const c = text.charCodeAt(end - 1);
  if (end > 0 && c >= 0xd800 && c <= 0xdbff) end--;
  return text.slice(0, end);
}

/** `text` cut to at most `max` code units, ending in `…` when it was cut (never mid-character). */
export function shorten(text: string, max: number): string {
  return text.length > max ? `${prefixAtCodePoint(text, max - 1)}…` : text;
}

// Lone surrogates (a UTF-16 code unit D800–DFFF not part of a pair) are legal in JSON (`"\ud800"`) and
// occur in Windows registry names, but have no UTF-8 form: Table Storage cannot hold them, and a key
// holding one cannot even be put in a request URL (encodeURIComponent throws).
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** True when `text` has no lone surrogate (as a function, to pass to `every`). */
export function isWellFormed(text: string): boolean {
  return text.isWellFormed();
}

/** `text` with every lone surrogate replaced by U+FFFD (what a UTF-8 encoder writes for one). */
export function toWellFormed(text: string): string {
  return text.toWellFormed();
}

/** Replace each lone surrogate in `text` with what `escape` makes of its code unit. */
export function replaceLoneSurrogates(text: string, escape: (codeUnit: number) => string): string {
  return text.replace(LONE_SURROGATE, (c) => escape(c.charCodeAt(0)));
}

/**
 * A well-formed copy of `text` that shares no memory with any other string. V8 keeps a slice (or a
 * concatenation holding one) as a view of its parent, so a 1,000-character excerpt of a 4 MiB line
 * would keep the whole line alive for as long as the excerpt lives.
 */
export function detachedWellFormed(text: string): string {
  return Buffer.from(toWellFormed(text), 'utf16le').toString('utf16le');
}
