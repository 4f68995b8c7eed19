// Snapshot tables and their catalog rows written by hand for the query suites: entities in the stored shape of
// docs/kinds.md, keyed with the project's own key functions over the kind's key columns (docs/architecture.md#tables-and-keys),
// so a suite states its rows compactly and does not depend on any kind's mapper.
import { createServices } from '../../shared/app/appContext';
import { ExportKind, SnapshotRow, snapshotTableName } from '../../shared/core/contracts';
import { kindSpec } from '../../shared/kinds/exportKinds';
import { ensureTable } from '../../shared/storage/storageClients';
import { partitionKeyFor, rowKeyForParts } from '../../shared/storage/tableKeys';
import type { Azurite } from '../../tools/runner/azurite';
import { testConfig } from './exportFixture';

/** A stored row's properties, as the SDK writes them (strings, Int32/Double numbers, Booleans, DateTimes). */
export type Props = Record<string, string | number | boolean | Date | undefined>;

export interface KindTable {
  kind: ExportKind;
  /** the snapshot id, `yyyyMMddHHmm`: also the generation time */
  id: string;
  /** default `complete` */
  status?: SnapshotRow['Status'];
  /** the catalog row's Error (a snapshot that is not complete) */
  error?: string;
  /** each with its DeviceId and the kind's key columns (an absent optional one, a null CveId, keys as '') */
  rows: Props[];
}

/** The generation time a snapshot id stands for (UTC). */
export function timeOf(id: string): Date {
  return new Date(Date.UTC(+id.slice(0, 4), +id.slice(4, 6) - 1, +id.slice(6, 8), +id.slice(8, 10), +id.slice(10, 12)));
}

/** A SoftwareVulnerabilities row of `device`'s product version: with `cve`, or the row Defender sends for a version without one. */
export function vulnRow(device: string, vendor: string, name: string, version: string, cve?: string, extra: Props = {}): Props {
  return { DeviceId: device, SoftwareVendor: vendor, SoftwareName: name, SoftwareVersion: version, ...(cve ? { CveId: cve } : {}), ...extra };
}

/** The decoration of the suites' fixtures: each device's name from `names`, one OS and one RBAC group for all. */
export function deviceProperties(names: Record<string, string>): (row: Props) => Props {
  return (row) => ({ DeviceName: names[String(row.DeviceId)], OSPlatform: 'Windows11', RbacGroupName: 'Clients' });
}

/** The catalog row of a one-file snapshot holding `rowCount` rows: complete, or not with no file done. */
function catalogRow(t: KindTable, rowCount: number): SnapshotRow {
  const at = timeOf(t.id);
  const complete = (t.status ?? 'complete') === 'complete';
  return {
    partitionKey: t.kind,
    rowKey: t.id,
    Status: t.status ?? 'complete',
    GeneratedTime: at,
    TableName: snapshotTableName(t.kind, t.id),
    Method: 'files',
    FileCount: 1,
    FilesCompleted: complete ? 1 : 0,
    RowCount: rowCount,
    RejectedCount: 0,
    DuplicateCount: 0,
    StartedAt: at,
    ...(complete ? { CompletedAt: at } : {}),
    ...(t.error !== undefined ? { Error: t.error } : {}),
  };
}

/**
 * Writes each snapshot table (Replace upserts) and its catalog row into `azurite`. `decorate(row)` gives the
 * properties a device's rows share (DeviceName, OSPlatform, ...); they are written over the row's own.
 */
export async function writeKindTables(azurite: Azurite, tables: readonly KindTable[], decorate: (row: Props) => Props = () => ({})): Promise<void> {
  const services = createServices(testConfig(azurite));
  await services.catalog.ensureTables();
  for (const t of tables) {
    const table = snapshotTableName(t.kind, t.id);
    await ensureTable(services.inventory, table);
    const keyColumns = kindSpec(t.kind).keyColumns;
    const client = services.inventory.table(table);
    for (const r of t.rows) {
      const rowKey = rowKeyForParts(keyColumns.map((c) => (r[c] === undefined ? '' : String(r[c]))));
      // keys last: a row that came keyed (from mapRecord) gets the same keys, computed here
      await client.upsertEntity({ ...r, ...decorate(r), partitionKey: partitionKeyFor(String(r.DeviceId)), rowKey }, 'Replace');
    }
    await services.catalog.createSnapshot(catalogRow(t, t.rows.length));
  }
}
