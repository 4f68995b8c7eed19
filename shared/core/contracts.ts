// The storage and message shapes of docs/architecture.md#tables-and-keys and #queue-message. Tests, tools and outside checks rely on these names.
import { AppError } from './errors';
import { DEFAULT_KIND, EXPORT_KIND_NAMES, ExportKind, isExportKind } from '../kinds/exportKinds';

export type { ExportKind } from '../kinds/exportKinds';

export const CATALOG_TABLE = 'InventorySnapshots';
export const FILES_TABLE = 'InventoryExportFiles';
export const REJECTS_TABLE = 'InventoryRejects';
export const SOFTWARE_INVENTORY = DEFAULT_KIND;

export type SnapshotStatus = 'ingesting' | 'complete' | 'failed';
export type FileStatus = 'queued' | 'ingesting' | 'complete' | 'failed' | 'expired';

/** Queue message of INGEST_QUEUE (base64 JSON on the wire). */
export interface IngestMessage {
  snapshotId: string;
  /** any registered kind (shared/kinds/exportKinds.ts); its file rows and rejects live in progressPartition(kind, snapshotId) */
  kind: ExportKind;
  fileIndex: number;
  fileCount: number;
  url: string;
  generatedTime: string;
}

/** A Double column's value as written: the SDK's typed form, so an integral score is Edm.Double, not Int32 (docs/kinds.md#stored-types). */
export type EdmDouble = { value: number; type: 'Double' };

/** A row of any kind's snapshot table: the keys, then the kind's stored columns (docs/kinds.md). */
export type SnapshotEntity = { partitionKey: string; rowKey: string } & Record<string, string | number | boolean | Date | EdmDouble>;

/** A row of a snapshot table (`SoftwareInventoryyyyyMMddHHmm`). A type, not an interface, so it is a SnapshotEntity. */
export type InventoryEntity = {
  partitionKey: string;
  rowKey: string;
  DeviceId: string;
  DeviceName?: string;
  OSPlatform?: string;
  RbacGroupName?: string;
  SoftwareVendor: string;
  SoftwareName: string;
  SoftwareVersion: string;
  EndOfSupportStatus?: string;
  NumberOfWeaknesses?: number;
  SoftwareFirstSeenTimestamp?: Date;
  EndOfSupportDate?: Date;
  DiskPaths?: string;
  RegistryPaths?: string;
  DiskPathsTruncated?: boolean;
  RegistryPathsTruncated?: boolean;
};

/** Catalog row, table InventorySnapshots. */
export interface SnapshotRow {
  partitionKey: string; // export kind
  rowKey: string; // snapshot id
  Status: SnapshotStatus;
  GeneratedTime: Date;
  TableName: string;
  Method: 'files' | 'json';
  FileCount: number;
  FilesCompleted: number;
  RowCount: number;
  RejectedCount: number;
  DuplicateCount: number;
  StartedAt: Date;
  CompletedAt?: Date;
  Error?: string;
}

/** File progress row, table InventoryExportFiles. */
export interface FileRow {
  partitionKey: string; // progressPartition(kind, snapshot id)
  rowKey: string; // zero-padded file index
  /** the export kind (rows written before kinds existed have none: they are SoftwareInventory) */
  Kind?: ExportKind;
  BlobPath: string;
  Status: FileStatus;
  LinesCommitted: number;
  RowsWritten: number;
  Rejected: number;
  Duplicates: number;
  Attempts: number;
  Error?: string;
  /** beyond the contract: which worker holds the file, and until when (two deliveries never write at once) */
  LeaseOwner?: string;
  LeaseExpiresAt?: Date;
  /** beyond the contract: a fresh id per claim (per invocation). LeaseOwner is the message id, shared by two
   *  deliveries of one message; this tells whose claim the row holds when a write's answer was lost */
  LeaseToken?: string;
  /** beyond the contract: when a worker or the timer last touched the row (stuck-file detection) */
  UpdatedAt?: Date;
  /** beyond the contract: the blob's identity (ETag, byte length) at the file's first download; a later download
   *  that finds another blob at BlobPath starts the file again instead of splicing two blobs' lines */
  BlobEtag?: string;
  BlobLength?: number;
}

/** Reject row, table InventoryRejects. */
export interface RejectRow {
  partitionKey: string; // progressPartition(kind, snapshot id)
  rowKey: string; // file index + line number, zero-padded
  Reason: string;
  Excerpt: string;
}

export const FILE_INDEX_WIDTH = 5;
export const LINE_NUMBER_WIDTH = 10;

export function fileRowKey(fileIndex: number): string {
  return String(fileIndex).padStart(FILE_INDEX_WIDTH, '0');
}

/** A file row as registered, before any worker touched it: no lines, rows or counts yet. */
export function newFileRow(
  kind: ExportKind,
  snapshotId: string,
  fileIndex: number,
  blobPath: string,
  state: Pick<FileRow, 'Status' | 'Attempts' | 'UpdatedAt'>,
): FileRow {
  return {
    partitionKey: progressPartition(kind, snapshotId),
    rowKey: fileRowKey(fileIndex),
    Kind: kind,
    BlobPath: blobPath,
    LinesCommitted: 0,
    RowsWritten: 0,
    Rejected: 0,
    Duplicates: 0,
    Error: '',
    ...state,
  };
}

export function rejectRowKey(fileIndex: number, lineNumber: number): string {
  return `${fileRowKey(fileIndex)}-${String(lineNumber).padStart(LINE_NUMBER_WIDTH, '0')}`;
}

/** Snapshot id = generatedTime in UTC as yyyyMMddHHmm. */
export function snapshotIdFor(generatedTime: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    p(generatedTime.getUTCFullYear(), 4) +
    p(generatedTime.getUTCMonth() + 1) +
    p(generatedTime.getUTCDate()) +
    p(generatedTime.getUTCHours()) +
    p(generatedTime.getUTCMinutes())
  );
}

export function snapshotTableName(kind: string, snapshotId: string): string {
  return `${kind}${snapshotId}`;
}

/**
 * PartitionKey of a snapshot's file rows (InventoryExportFiles) and rejects (InventoryRejects): the bare
 * snapshot id for SoftwareInventory (the contract before kinds, kept so existing history reads as before),
 * the snapshot table name (`<Kind><yyyyMMddHHmm>`) for every other kind, so two kinds exported in the same
 * minute never share a partition (docs/kinds.md#progress-and-rejects).
 */
export function progressPartition(kind: ExportKind, snapshotId: string): string {
  return kind === DEFAULT_KIND ? snapshotId : snapshotTableName(kind, snapshotId);
}

export function encodeMessage(msg: IngestMessage): string {
  return Buffer.from(JSON.stringify(msg), 'utf8').toString('base64');
}

export class BadMessageError extends AppError {}

/**
 * Validate a queue message as the Functions host hands it over (already base64-decoded and JSON-parsed
 * into an object, or a string when the body is not JSON) or as raw base64 text (local runner).
 */
export function parseMessage(input: unknown): IngestMessage {
  let v: unknown = input;
  if (typeof v === 'string') {
    const text = v.trim().startsWith('{') ? v : Buffer.from(v, 'base64').toString('utf8');
    try {
      v = JSON.parse(text);
    } catch {
      throw new BadMessageError('queue message is not JSON (nor base64 JSON)');
    }
  }
  if (typeof v !== 'object' || v === null) throw new BadMessageError('queue message is not a JSON object');
  const m = v as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof m.snapshotId !== 'string' || !/^\d{12}$/.test(m.snapshotId)) problems.push('snapshotId must be a yyyyMMddHHmm string');
  if (!isExportKind(m.kind)) problems.push(`kind must be one of ${EXPORT_KIND_NAMES.join(', ')}`);
  if (!Number.isInteger(m.fileIndex) || (m.fileIndex as number) < 0) problems.push('fileIndex must be a whole number ≥ 0');
  if (!Number.isInteger(m.fileCount) || (m.fileCount as number) < 1) problems.push('fileCount must be a whole number ≥ 1');
  if (Number.isInteger(m.fileIndex) && Number.isInteger(m.fileCount) && (m.fileIndex as number) >= (m.fileCount as number))
    problems.push('fileIndex must be below fileCount');
  if (typeof m.url !== 'string' || !/^https?:\/\//i.test(m.url)) problems.push('url must be an http(s) URL');
  if (typeof m.generatedTime !== 'string' || Number.isNaN(Date.parse(m.generatedTime))) problems.push('generatedTime must be an ISO date');
  if (problems.length) throw new BadMessageError(`bad queue message: ${problems.join('; ')}`);
  return {
    snapshotId: m.snapshotId as string,
    kind: m.kind as ExportKind,
    fileIndex: m.fileIndex as number,
    fileCount: m.fileCount as number,
    url: m.url as string,
    generatedTime: m.generatedTime as string,
  };
}
