// SAS signatures and bearer tokens must never reach a log, an error message or a table.
import { shorten } from './text';

const SAS_SECRET_PARAM = /([?&;](?:sig|signature|client_secret|access_token|refresh_token|code)=)[^&\s"'#;]*/gi;
const BEARER = /(Bearer\s+)[A-Za-z0-9\-._~+/]+=*/gi;
const ACCOUNT_KEY = /(AccountKey=)[^;\s"']+/gi;

/** Replace every secret-looking value in a text (SAS `sig`, bearer tokens, account keys). */
export function redact(text: string): string {
  return text.replace(SAS_SECRET_PARAM, '$1REDACTED').replace(BEARER, '$1REDACTED').replace(ACCOUNT_KEY, '$1REDACTED');
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
