// HTML built on the server with one escaping rule (docs/ui.md#security). Software names, device names and
// versions come from the devices themselves, so every interpolated value goes through esc() unless it is
// already markup built by this same template tag: `<script>` in a software name renders as text.
import { fmt } from '../query/output';

/** Markup that was built by `html` (its parts escaped); the only thing interpolated without escaping. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escape for both text and (quoted) attribute contexts: the five HTML specials and the backtick. */
export function esc(value: string | number | boolean | null | undefined): string {
  return (value === null || value === undefined ? '' : String(value)).replace(/[&<>"'`]/g, (c) => ENTITIES[c]);
}

export type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(part: Part): string {
  if (part instanceof Html) return part.text;
  if (typeof part === 'object' && part !== null) return part.map(render).join('');
  if (part === null || part === undefined || part === false) return '';
  return esc(part);
}

/** Tagged template: literal markup kept, every `${value}` escaped (arrays joined, Html kept, null/false dropped). */
export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** A same-site URL with its query string built by URLSearchParams (undefined/empty values left out). */
export function href(path: string, params: Record<string, string | number | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** A count with thousands separators; '-' when the value is absent (e.g. a catalog row still ingesting). */
export function count(n: unknown): string {
  return typeof n === 'number' && Number.isFinite(n) ? fmt(n) : '-';
}
