// Reading what actually landed in Azurite, and comparing it row for row with what Defender published.
import { odata, TableClient } from '@azure/data-tables';
import { CATALOG_TABLE, FileRow, FILES_TABLE, SnapshotRow, SOFTWARE_INVENTORY } from '../../shared/core/contracts';

export type Entity<T> = T & { partitionKey: string; rowKey: string; etag: string; timestamp?: string };

export function tables(connectionString: string) {
  const table = (name: string) => TableClient.fromConnectionString(connectionString, name, { allowInsecureConnection: true });
  async function all<T extends object>(name: string, filter?: string): Promise<Entity<T>[]> {
    const out: Entity<T>[] = [];
    for await (const e of table(name).listEntities<T>({ queryOptions: filter ? { filter } : undefined })) out.push(e as Entity<T>);
    return out;
  }
  return {
    table,
    all,
    files: (snapshotId: string) =>
      all<FileRow>(FILES_TABLE, odata`PartitionKey eq ${snapshotId}`).then((r) => r.sort((a, b) => (a.rowKey < b.rowKey ? -1 : 1))),
    async snapshot(snapshotId: string): Promise<Entity<SnapshotRow> | undefined> {
      try {
        return await table(CATALOG_TABLE).getEntity<SnapshotRow>(SOFTWARE_INVENTORY, snapshotId);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return undefined;
        throw err;
      }
    },
    snapshots: () => all<SnapshotRow>(CATALOG_TABLE),
  };
}

export interface KeyFields {
  DeviceId: string;
  SoftwareVendor: string;
  SoftwareName: string;
  SoftwareVersion: string;
}

/** The identity of a row: (DeviceId, vendor, name, version), exactly as received. */
export function rowIdentity(r: KeyFields): string {
  return JSON.stringify([r.DeviceId, r.SoftwareVendor, r.SoftwareName, r.SoftwareVersion]);
}

export function recordIdentity(r: { deviceId: string; softwareVendor: string; softwareName: string; softwareVersion: string }): string {
  return JSON.stringify([r.deviceId, r.softwareVendor, r.softwareName, r.softwareVersion]);
}

/** Missing and extra identities of `landed` against `expected`, plus counts; both empty means an exact match. */
export function compareSets(expected: Iterable<string>, landed: Iterable<string>): { missing: string[]; extra: string[]; expected: number; landed: number } {
  const e = new Set(expected);
  const l = new Set(landed);
  return {
    missing: [...e].filter((k) => !l.has(k)).slice(0, 20),
    extra: [...l].filter((k) => !e.has(k)).slice(0, 20),
    expected: e.size,
    landed: l.size,
  };
}

/**
 * The promise to users, checked row for row: the snapshot of `published` is complete and holds exactly the
 * (DeviceId, vendor, name, version) set Defender exported, with exact catalog and per-file totals.
 */
export async function expectExactSnapshot(
  connectionString: string,
  published: {
    generatedTime: Date;
    totalRows: number;
    files: { rows: number }[];
    records(): Iterable<{ deviceId: string; softwareVendor: string; softwareName: string; softwareVersion: string }>;
  },
) {
  const t = tables(connectionString);
  const id = snapshotIdOf(published.generatedTime);
  const rows = await t.all<KeyFields>(`SoftwareInventory${id}`);
  const diff = compareSets([...published.records()].map(recordIdentity), rows.map(rowIdentity));
  expect(diff.missing).toEqual([]);
  expect(diff.extra).toEqual([]);
  expect(diff.expected).toBe(published.totalRows);
  expect(rows).toHaveLength(published.totalRows);
  const snap = await t.snapshot(id);
  expect(snap).toMatchObject({
    Status: 'complete',
    FileCount: published.files.length,
    FilesCompleted: published.files.length,
    RowCount: published.totalRows,
    DuplicateCount: 0,
    RejectedCount: 0,
  });
  const files = await t.files(id);
  expect(files.map((f) => [f.Status, f.RowsWritten, f.Duplicates, f.Rejected])).toEqual(published.files.map((f) => ['complete', f.rows, 0, 0]));
  return { id, rows, snap: snap!, files };
}

function snapshotIdOf(t: Date): string {
  return t.toISOString().replace(/[-:T]/g, '').slice(0, 12);
}
