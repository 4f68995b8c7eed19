// Rows of any export kind as the query CLI prints them (docs/query.md#export-kinds): the kind's documented
// columns from the registry (docs/kinds.md), in registry order, under their stored names, plus SnapshotId
// and Kind. Every command that prints records also names its columns, so JSON, a table or CSV share one
// stable column list.
import { ExportKind } from '../../shared/core/contracts';
import { kindSpec, storedName } from '../../shared/kinds/exportKinds';
import { isoOrNull } from './snapshots';

/** The stored property names of a kind's documented columns, in registry order. */
export function storedColumns(kind: ExportKind): string[] {
  return kindSpec(kind).columns.map(storedName);
}

function dateColumns(kind: ExportKind): Set<string> {
  return new Set(
    kindSpec(kind)
      .columns.filter((c) => c.type === 'datetime')
      .map(storedName),
  );
}

/** `SnapshotId`, `Kind`, then the kind's columns (a value not stored is null; dates ISO 8601 UTC; `<Name>Truncated` only when true). */
export function kindRow(kind: ExportKind, entity: Record<string, unknown>, snapshotId: string): Record<string, unknown> {
  const dates = dateColumns(kind);
  const out: Record<string, unknown> = { SnapshotId: snapshotId, Kind: kind };
  for (const c of storedColumns(kind)) {
    const v = entity[c];
    out[c] = dates.has(c) ? isoOrNull(v) : v === undefined || v === null ? null : v;
  }
  for (const c of kindSpec(kind).columns) if (c.type === 'stringArray' && entity[`${c.name}Truncated`] === true) out[`${c.name}Truncated`] = true;
  return out;
}

/** A record with exactly `columns` as keys, in that order; absent values are null (a stable shape for JSON and CSV). */
export function ordered<C extends string>(columns: readonly C[], row: Partial<Record<C, unknown>>): Record<C, unknown> {
  const out = {} as Record<C, unknown>;
  for (const c of columns) {
    const v = row[c];
    out[c] = v === undefined ? null : v instanceof Date ? v.toISOString() : v;
  }
  return out;
}
