// What the pages share: the query layer's context, catalogs per kind, links between pages, errors.
import type { TableClient } from '@azure/data-tables';
import { ExportKind, snapshotTableName } from '../../../shared/core/contracts';
import type { Context } from '../../query/commands/common';
import { UsageError } from '../../query/errors';
import { asText } from '../../query/output';
import { CatalogRow, isComplete } from '../../query/snapshots';
import { href, html, Html } from '../html';

/** The query layer's context; the UI has no terminal, so progress lines never draw. */
export type UiContext = Context;

export function completeOf(rows: readonly CatalogRow[]): CatalogRow[] {
  return rows.filter(isComplete);
}

export function tableFor(ctx: UiContext, kind: ExportKind, s: CatalogRow): TableClient {
  return ctx.tables.table(s.TableName || snapshotTableName(kind, s.rowKey));
}

/** A required query parameter, trimmed; missing or blank is a 400. */
export function required(params: URLSearchParams, name: string, what: string): string {
  const v = params.get(name)?.trim();
  if (!v) throw new UsageError(`missing ?${name}=: ${what}`);
  return v;
}

export function optional(params: URLSearchParams, name: string): string | undefined {
  const v = params.get(name)?.trim();
  return v ? v : undefined;
}

export function deviceLink(deviceId: string, label: string, at?: string): Html {
  return html`<a href="${href('/device', { id: deviceId, at })}">${label}</a>`;
}

export function productLink(name: string, vendor?: string, label: string = name): Html {
  return html`<a href="${href('/product', { name, vendor })}">${label}</a>`;
}

export function cveLink(id: string): Html {
  return html`<a href="${href('/cve', { id })}">${id}</a>`;
}

export function statusCell(row: CatalogRow): Html {
  return html`<span class="status-${row.Status}">${row.Status}</span>`;
}

/** `2025-03-10 08:00`: a snapshot as a chart label. */
export function snapshotLabel(row: CatalogRow): string {
  const t = row.GeneratedTime ? new Date(row.GeneratedTime) : undefined;
  if (t && !Number.isNaN(t.getTime())) return t.toISOString().slice(0, 16).replace('T', ' ');
  const id = row.rowKey;
  return `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)} ${id.slice(8, 10)}:${id.slice(10, 12)}`;
}

/** A stored property as text: '' when absent (values of other kinds' rows are untyped here). */
export function str(v: unknown): string {
  return v === undefined || v === null ? '' : asText(v);
}

/** str(), with '-' for absent or empty. */
export function dash(v: unknown): string {
  return str(v) || '-';
}

/** Notes of the snapshot resolution (e.g. a named snapshot that is not complete), shown above the content. */
export function warnings(list: readonly string[]): Html {
  return html`${list.map((w) => html`<p class="error" data-warning>${w}</p>`)}`;
}
