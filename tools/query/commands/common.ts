// What the query commands share: their context, JSON arrays written as they go, warnings, snapshot lines.
import { TableClient } from '@azure/data-tables';
import { StorageClients } from '../../../shared/storage/storageClients';
import { SnapshotCatalog } from '../../../shared/storage/snapshotCatalog';
import { Io, printableLines, shortDate } from '../output';
import { CatalogRow, isComplete, whenText } from '../snapshots';
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
