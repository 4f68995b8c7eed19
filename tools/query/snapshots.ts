// Snapshot arguments (docs/query.md): a snapshot id, a date `yyyy-MM-dd` (the newest complete snapshot
// generated on or before the end of that UTC day) or `latest`; for --at also lists and ranges.
// Catalog rows are compared by snapshot id: the id is the generatedTime in UTC, yyyyMMddHHmm.
import { ExportKind, SnapshotRow, SOFTWARE_INVENTORY } from '../../shared/core/contracts';
import { EXPORT_KIND_NAMES, findKind } from '../../shared/kinds/exportKinds';
import { isNotFound, SnapshotCatalog } from '../../shared/storage/snapshotCatalog';
import { NotFoundError, UsageError } from './errors';
import { asDate } from './output';

export type CatalogRow = SnapshotRow & { etag?: string; timestamp?: string };

/** What a snapshot argument means before the catalog is consulted. */
export type SnapshotSpec =
  { kind: 'id'; id: string; text: string; tableKind?: ExportKind } | { kind: 'date'; day: string; text: string } | { kind: 'latest'; text: string };

// a bare id, or a snapshot table name of any kind (`SoftwareVulnerabilities202611280600`)
const ID = new RegExp(`^(${EXPORT_KIND_NAMES.join('|')})?(\\d{12})$`, 'i');
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export const SNAPSHOT_FORMS = 'a snapshot id (yyyyMMddHHmm), a date yyyy-MM-dd or latest';

/** Parse one snapshot argument; a malformed one is a usage error. */
export function parseSnapshotSpec(text: string): SnapshotSpec {
  const t = text.trim();
  if (t.toLowerCase() === 'latest') return { kind: 'latest', text: t };
  const id = ID.exec(t);
  if (id) return { kind: 'id', id: id[2], text: t, ...(id[1] ? { tableKind: findKind(id[1]) } : {}) };
  const date = DATE.exec(t);
  if (date) {
    const [, y, m, d] = date.map(Number) as [number, number, number, number];
    const check = new Date(Date.UTC(y, m - 1, d));
    if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) {
      throw new UsageError(`"${text}" is not a calendar date`);
    }
    return { kind: 'date', day: `${date[1]}${date[2]}${date[3]}`, text: t };
  }
  throw new UsageError(`"${text}" is not a snapshot argument: expected ${SNAPSHOT_FORMS}`);
}

/** Every catalog row of one kind (default SoftwareInventory), newest first; an account without a catalog has none. */
export async function loadCatalog(catalog: SnapshotCatalog, kind: ExportKind = SOFTWARE_INVENTORY): Promise<CatalogRow[]> {
  try {
    return await catalog.listSnapshots(kind);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

/** Every kind's catalog rows (kinds in registry order, each newest first); kinds without snapshots are left out. */
export async function loadAllCatalogs(catalog: SnapshotCatalog): Promise<Map<ExportKind, CatalogRow[]>> {
  const all = await Promise.all(EXPORT_KIND_NAMES.map(async (k) => [k, await loadCatalog(catalog, k)] as const));
  return new Map(all.filter(([, rows]) => rows.length > 0));
}

/** Rows of several kinds in one list, newest first (same stamp: registry order of the kinds). */
export function newestFirst(byKind: ReadonlyMap<ExportKind, readonly CatalogRow[]>): CatalogRow[] {
  const order = (k: string) => EXPORT_KIND_NAMES.indexOf(k as ExportKind);
  return [...byKind.values()].flat().sort((a, b) => (a.rowKey < b.rowKey ? 1 : a.rowKey > b.rowKey ? -1 : order(a.partitionKey) - order(b.partitionKey)));
}

export function isComplete(row: SnapshotRow): boolean {
  return row.Status === 'complete';
}

/** `2024-01-31 11:01 UTC` */
export function whenText(row: SnapshotRow): string {
  const t = row.GeneratedTime ? new Date(row.GeneratedTime) : undefined;
  if (t && !Number.isNaN(t.getTime())) return `${t.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  const id = row.rowKey;
  return `${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)} ${id.slice(8, 10)}:${id.slice(10, 12)} UTC`;
}

function describe(row: SnapshotRow): string {
  return `${row.rowKey} (${whenText(row)}${isComplete(row) ? '' : `, ${row.Status}`})`;
}

/** "complete snapshots nearby: ..." for an error message: up to two older and two newer than `id`. */
export function nearby(rows: readonly CatalogRow[], id: string, kind: ExportKind = SOFTWARE_INVENTORY): string {
  const complete = rows.filter(isComplete); // newest first
  if (complete.length === 0) {
    return rows.length === 0
      ? `the catalog (table InventorySnapshots) holds no ${kind === SOFTWARE_INVENTORY ? '' : `${kind} `}snapshot yet`
      : `no snapshot is complete yet (catalog: ${rows.slice(0, 4).map(describe).join(', ')}${rows.length > 4 ? ', …' : ''})`;
  }
  const older = complete.filter((r) => r.rowKey < id).slice(0, 2);
  const newer = complete.filter((r) => r.rowKey > id).slice(-2);
  const near = [...newer, ...older];
  return `complete snapshots nearby: ${near.map(describe).join(', ')}`;
}

export interface Resolved {
  snapshots: CatalogRow[];
  /** notes for stderr, e.g. an explicitly named snapshot that is not complete */
  warnings: string[];
}

/** ` SoftwareVulnerabilities` in messages about a kind other than the inventory (whose messages read as before kinds). */
function ofKind(kind: ExportKind): string {
  return kind === SOFTWARE_INVENTORY ? '' : ` ${kind}`;
}

/**
 * Resolve one snapshot argument to one catalog row of `kind` (exit 3 when nothing matches). A table name of
 * another kind is a usage error: stamps of different kinds are different exports.
 */
export function resolveSnapshot(text: string, rows: readonly CatalogRow[], kind: ExportKind = SOFTWARE_INVENTORY): Resolved {
  const spec = parseSnapshotSpec(text);
  if (spec.kind === 'latest') {
    const hit = rows.find(isComplete);
    if (!hit) throw new NotFoundError(`no complete${ofKind(kind)} snapshot for "latest": ${nearby(rows, '999999999999', kind)}`);
    return { snapshots: [hit], warnings: [] };
  }
  if (spec.kind === 'date') {
    const end = `${spec.day}2359`;
    const hit = rows.find((r) => isComplete(r) && r.rowKey <= end);
    if (!hit) throw new NotFoundError(`no complete${ofKind(kind)} snapshot generated on or before ${spec.text} (end of day UTC); ${nearby(rows, end, kind)}`);
    return { snapshots: [hit], warnings: [] };
  }
  if (spec.tableKind && spec.tableKind !== kind) throw new UsageError(`"${spec.text}" is a ${spec.tableKind} table, but this reads ${kind} snapshots (--kind)`);
  const hit = rows.find((r) => r.rowKey === spec.id);
  if (!hit) throw new NotFoundError(`unknown${ofKind(kind)} snapshot ${spec.id}; ${nearby(rows, spec.id, kind)}`);
  const warnings = isComplete(hit)
    ? []
    : [`snapshot ${hit.rowKey} is ${hit.Status}, not complete: its table may be partial${hit.Error ? ` (${hit.Error})` : ''}`];
  return { snapshots: [hit], warnings };
}

/**
 * Every complete snapshot, oldest first: what trend and device --history read without --at. Like `latest`,
 * it never includes a snapshot that is not complete, so there is nothing to warn about (exit 3 when none).
 */
export function resolveAllComplete(rows: readonly CatalogRow[]): Resolved {
  const hits = rows.filter(isComplete).reverse();
  if (hits.length === 0) throw new NotFoundError(`no complete snapshot: ${nearby(rows, '999999999999')}`);
  return { snapshots: hits, warnings: [] };
}

/** Bounds of one side of a range, as snapshot ids (inclusive). */
function rangeBound(text: string, side: 'from' | 'to', rows: readonly CatalogRow[], kind: ExportKind): string {
  if (text === '') return side === 'from' ? '000000000000' : '999999999999';
  const spec = parseSnapshotSpec(text);
  if (spec.kind === 'id') return spec.id;
  if (spec.kind === 'date') return side === 'from' ? `${spec.day}0000` : `${spec.day}2359`;
  if (side === 'to') return '999999999999';
  return resolveSnapshot('latest', rows, kind).snapshots[0].rowKey;
}

/**
 * Resolve --at: one argument, a comma-separated list, or ranges `A..B` (every complete snapshot from A
 * through B, oldest first). Duplicates are dropped, the order given is kept.
 */
export function resolveSnapshots(text: string, rows: readonly CatalogRow[], kind: ExportKind = SOFTWARE_INVENTORY): Resolved {
  const items = text.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UsageError(`"${text}": an empty snapshot in the list`);
  const out: CatalogRow[] = [];
  const warnings: string[] = [];
  const add = (r: CatalogRow) => {
    if (!out.includes(r)) out.push(r);
  };
  for (const item of items) {
    const dots = item.indexOf('..');
    if (dots < 0) {
      const r = resolveSnapshot(item, rows, kind);
      r.snapshots.forEach(add);
      warnings.push(...r.warnings);
      continue;
    }
    const lo = rangeBound(item.slice(0, dots).trim(), 'from', rows, kind);
    const hi = rangeBound(item.slice(dots + 2).trim(), 'to', rows, kind);
    const inRange = rows.filter((r) => r.rowKey >= lo && r.rowKey <= hi).reverse(); // oldest first
    const hits = inRange.filter(isComplete);
    const skipped = inRange.filter((r) => !isComplete(r));
    if (skipped.length) warnings.push(`range ${item}: skipped ${skipped.length} snapshot(s) that are not complete: ${skipped.map(describe).join(', ')}`);
    if (hits.length === 0) throw new NotFoundError(`no complete${ofKind(kind)} snapshot in the range ${item}; ${nearby(rows, lo, kind)}`);
    hits.forEach(add);
  }
  return { snapshots: out, warnings };
}

/** A catalog row as `snapshots --json` prints it: the stored property names, absent values as null. */
export function catalogJson(row: CatalogRow): Record<string, unknown> {
  return {
    SnapshotId: row.rowKey,
    Kind: row.partitionKey,
    Status: row.Status ?? null,
    GeneratedTime: isoOrNull(row.GeneratedTime),
    TableName: row.TableName ?? null,
    Method: row.Method ?? null,
    FileCount: numOrNull(row.FileCount),
    FilesCompleted: numOrNull(row.FilesCompleted),
    RowCount: numOrNull(row.RowCount),
    RejectedCount: numOrNull(row.RejectedCount),
    DuplicateCount: numOrNull(row.DuplicateCount),
    StartedAt: isoOrNull(row.StartedAt),
    CompletedAt: isoOrNull(row.CompletedAt),
  };
}

export function isoOrNull(v: unknown): string | null {
  if (v === undefined || v === null || v === '') return null;
  const d = asDate(v);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function numOrNull(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
