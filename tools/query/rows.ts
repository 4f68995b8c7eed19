// Snapshot-table rows as the CLI prints them: the snapshot-table property names (docs/architecture.md#snapshot-tables) plus SnapshotId.
import { InventoryEntity } from '../../shared/core/contracts';
import { isoOrNull } from './snapshots';

/** Documented columns in output order; absent ones print as null (the *Truncated flags only when stored). */
export const ROW_COLUMNS = [
  'DeviceId',
  'DeviceName',
  'OSPlatform',
  'RbacGroupName',
  'SoftwareVendor',
  'SoftwareName',
  'SoftwareVersion',
  'EndOfSupportStatus',
  'NumberOfWeaknesses',
  'SoftwareFirstSeenTimestamp',
  'EndOfSupportDate',
  'DiskPaths',
  'RegistryPaths',
] as const;

/** --csv columns of device and software rows: the --json keys in order, the *Truncated flags always (empty unless true). */
export const OUTPUT_COLUMNS: readonly string[] = ['SnapshotId', ...ROW_COLUMNS, 'DiskPathsTruncated', 'RegistryPathsTruncated'];

const DATE_COLUMNS = new Set<string>(['SoftwareFirstSeenTimestamp', 'EndOfSupportDate']);

export type StoredRow = Partial<InventoryEntity> & { partitionKey: string; rowKey: string } & Record<string, unknown>;

export interface OutputRow {
  SnapshotId: string;
  DeviceId: string;
  DeviceName: string | null;
  OSPlatform: string | null;
  RbacGroupName: string | null;
  SoftwareVendor: string;
  SoftwareName: string;
  SoftwareVersion: string;
  EndOfSupportStatus: string | null;
  NumberOfWeaknesses: number | null;
  SoftwareFirstSeenTimestamp: string | null;
  EndOfSupportDate: string | null;
  DiskPaths: string | null;
  RegistryPaths: string | null;
  DiskPathsTruncated?: boolean;
  RegistryPathsTruncated?: boolean;
}

export function outputRow(e: StoredRow, snapshotId: string): OutputRow {
  const out: Record<string, unknown> = { SnapshotId: snapshotId };
  for (const c of ROW_COLUMNS) {
    const v = e[c];
    out[c] = DATE_COLUMNS.has(c) ? isoOrNull(v) : v === undefined || v === null ? null : v;
  }
  if (e.DiskPathsTruncated === true) out.DiskPathsTruncated = true;
  if (e.RegistryPathsTruncated === true) out.RegistryPathsTruncated = true;
  return out as unknown as OutputRow;
}
