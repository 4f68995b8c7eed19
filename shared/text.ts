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
