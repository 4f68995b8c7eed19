// SAS signatures, tokens and client secrets must never reach a log, an error message or a table.
import { shorten } from './text';

// A secret parameter in a query string (also JSON-escaped `\u0026sig=`); `code` is an OAuth authorization code.
const QUERY_SECRET = /((?:[?&;]|\\u0026|\\u003f)(?:sig|signature|client_secret|client_assertion|access_token|refresh_token|id_token|code)=)[^&\s"'#;\\]*/gi;
// The same in a URL-encoded URL (`%26sig%3D...`): the value ends at the next encoded `&`.
const ENCODED_SECRET = /((?:%26|%3F)(?:sig|signature|client_secret|client_assertion|access_token|refresh_token|id_token|code)%3D)(?:(?!%26)[^&\s"'#;\\])*/gi;
// A form body or free text (`client_secret=...&grant_type=...`), where nothing precedes the first parameter.
const FORM_SECRET = /(?<![A-Za-z0-9_%.-])((?:sig|client_secret|client_assertion|access_token|refresh_token|id_token)=)[^&\s"'#;\\]*/gi;
// A JSON field (`"access_token":"..."`), also inside escaped JSON (`\"sig\":\"...\"`).
const JSON_SECRET = /(\\?"(?:sig|signature|client_secret|client_assertion|access_token|refresh_token|id_token|password|accountkey)\\?"\s*:\s*\\?")[^"\\]*/gi;
const BEARER = /(Bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi;
// A JWT anywhere: three base64url segments, the first a JSON header (`{"` = `eyJ`).
const JWT = /\beyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
const ACCOUNT_KEY = /(AccountKey=)[^;\s"']+/gi;

/** Replace every secret-looking value in a text (SAS `sig`, tokens, client secrets, account keys). */
export function redact(text: string): string {
  return text
    .replace(QUERY_SECRET, '$1REDACTED')
    .replace(ENCODED_SECRET, '$1REDACTED')
    .replace(FORM_SECRET, '$1REDACTED')
    .replace(JSON_SECRET, '$1REDACTED')
    .replace(BEARER, '$1REDACTED')
    .replace(JWT, 'REDACTED')
    .replace(ACCOUNT_KEY, '$1REDACTED');
}

/**
 * The same error with its message, stack and causes redacted (in place when possible, so its class and
 * code survive); a thrown non-Error becomes an Error. For errors handed back to the Functions host, which logs them.
 */
export function redactError(err: unknown, depth = 0): Error {
  if (!(err instanceof Error)) return new Error(redact(String(err)));
  const message = redact(err.message);
  const stack = err.stack === undefined ? undefined : redact(err.stack);
  const cause = depth < 5 && err.cause !== undefined ? (err.cause instanceof Error ? redactError(err.cause, depth + 1) : err.cause) : err.cause;
  try {
    err.message = message;
    err.stack = stack;
    if (cause !== err.cause) err.cause = cause;
    if (err.message === message && err.stack === stack) return err;
  } catch {
    // frozen or read-only: fall through to a copy
  }
  const copy = new Error(message, cause === undefined ? undefined : { cause });
  copy.name = err.name;
  copy.stack = stack;
  return copy;
}

/** A URL without its query string: what we may store (BlobPath) and show. */
export function stripQuery(url: string): string {
  const i = url.search(/[?#]/);
  return i < 0 ? url : url.slice(0, i);
}

/** A short, redacted, single-line description of any thrown value. */
export function describeError(err: unknown, max = 500): string {
  let text: string;
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    const status = (err as { statusCode?: unknown }).statusCode;
    text = err.message || err.name;
    if (typeof code === 'string' && !text.includes(code)) text = `${code}: ${text}`;
    if (typeof status === 'number' && !text.includes(String(status))) text = `HTTP ${status}: ${text}`;
  } else {
    text = String(err);
  }
  text = redact(text).replace(/\s+/g, ' ').trim();
  return shorten(text, max);
}
