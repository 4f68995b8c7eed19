// What the query commands share: their context, JSON arrays written as they go, warnings, snapshot lines.
import { TableClient } from '@azure/data-tables';
import { StorageClients } from '../../../shared/storage/storageClients';
import { SnapshotCatalog } from '../../../shared/storage/snapshotCatalog';
import { Io, printableLines, shortDate } from '../output';
import type { ExportKind } from '../../../shared/kinds/exportKinds';
import type { ParsedArgs } from '../args';
import { UsageError } from '../errors';
import { CatalogRow, isComplete, loadCatalog, resolveSnapshot, whenText } from '../snapshots';
import { StoredRow } from '../rows';

export interface Context {
  tables: Pick<StorageClients, 'table'>;
  catalog: SnapshotCatalog;
  io: Io;
}

/** A JSON array written element by element, one per line, so a large result never sits in memory. */
export class JsonArray {
  private count = 0;
  constructor(private readonly io: Io) {}
  async add(value: unknown): Promise<void> {
    await this.io.out(`${this.count++ === 0 ? '[\n' : ',\n'}${JSON.stringify(value)}`);
  }
  async end(): Promise<void> {
    await this.io.out(this.count === 0 ? '[]\n' : '\n]\n');
  }
}

export function warn(io: Io, warnings: readonly string[]): void {
  for (const w of warnings) io.err(`warning: ${printableLines(w)}\n`);
}

export function snapshotLine(s: CatalogRow): string {
  return `snapshot ${s.rowKey} (generated ${whenText(s)}${isComplete(s) ? '' : `, ${s.Status}`}), table ${s.TableName}`;
}

export function tableOf(ctx: Context, s: CatalogRow): TableClient {
  // the catalog partition is the kind, and a kind's table name is the kind and the stamp (docs/kinds.md)
  return ctx.tables.table(s.TableName || `${s.partitionKey || 'SoftwareInventory'}${s.rowKey}`);
}

/** A row's end of support for the tables: `-`, or the status and its date. */
export function eosText(r: StoredRow): string {
  const status = r.EndOfSupportStatus;
  if (!status || status === 'None') return '-';
  return r.EndOfSupportDate ? `${status} ${shortDate(r.EndOfSupportDate)}` : String(status);
}

/** The two snapshots a diff compares, each a single snapshot of `kind` (a list or range is a usage error). */
export async function diffPair(ctx: Context, args: ParsedArgs, kind: ExportKind): Promise<[CatalogRow, CatalogRow]> {
  const catalog = await loadCatalog(ctx.catalog, kind);
  for (const p of args.positionals) {
    if (p.includes(',') || p.includes('..')) throw new UsageError(`diff compares two single snapshots; "${p}" is a list or range`);
  }
  const from = resolveSnapshot(args.positionals[0], catalog, kind);
  const to = resolveSnapshot(args.positionals[1], catalog, kind);
  warn(ctx.io, [...from.warnings, ...to.warnings]);
  return [from.snapshots[0], to.snapshots[0]];
}
