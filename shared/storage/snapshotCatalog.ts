// The catalog (InventorySnapshots) and per-file progress (InventoryExportFiles): who is ingesting what,
// how far each file got, and when a snapshot is whole. Every read-modify-write uses ETags, so workers
// finishing together never lose an update.
import { odata, TableClient } from '@azure/data-tables';
import { CATALOG_TABLE, ExportKind, FILES_TABLE, FileRow, fileRowKey, progressPartition, REJECTS_TABLE, SnapshotRow, SnapshotStatus } from '../core/contracts';
import { deleteRowRange } from './rowDeletes';
import { ensureTable, StorageClients } from './storageClients';
import { shorten } from '../core/text';

export type WithEtag<T> = T & { etag: string; timestamp?: string };

export function isConditionFailed(err: unknown): boolean {
  return (err as { statusCode?: number })?.statusCode === 412;
}
export function isNotFound(err: unknown): boolean {
  return (err as { statusCode?: number })?.statusCode === 404;
}

/** 409 EntityAlreadyExists (the data-tables client leaves `code` unset and puts the service's answer in the message). */
function isEntityAlreadyExists(err: unknown): boolean {
  const e = err as { statusCode?: number; code?: string; message?: string };
  return e?.statusCode === 409 && /EntityAlreadyExists/.test(`${e.code ?? ''} ${e.message ?? ''}`);
}

/** Insert-only: false when the row already exists, so two runs racing to register it never both proceed as its creator. */
async function insertOnce(table: TableClient, row: { partitionKey: string; rowKey: string }): Promise<boolean> {
  try {
    await table.createEntity(row);
    return true;
  } catch (err) {
    if (isEntityAlreadyExists(err)) return false;
    throw err;
  }
}

function requireEtag(etag: string | undefined): string {
  if (!etag) throw new Error('Table Storage answered an update without an ETag');
  return etag;
}

/** How a snapshot's Error starts when a newer export replaced it before it could complete. */
export const SUPERSEDED = 'superseded';

/** Failed because a newer export replaced it: its URLs are no longer served, so nothing will work on it again. */
export function isSuperseded(s: Pick<SnapshotRow, 'Status' | 'Error'>): boolean {
  return s.Status === 'failed' && (s.Error ?? '').startsWith(SUPERSEDED);
}

/** Error texts stored in tables stay short. */
export function shortError(text: string, max = 1000): string {
  return shorten(text, max);
}

export interface SnapshotTotals {
  FileCount: number;
  FilesCompleted: number;
  RowCount: number;
  RejectedCount: number;
  DuplicateCount: number;
}

export class SnapshotCatalog {
  readonly catalog: TableClient;
  readonly files: TableClient;
  readonly rejects: TableClient;

  constructor(readonly clients: StorageClients) {
    this.catalog = clients.table(CATALOG_TABLE);
    this.files = clients.table(FILES_TABLE);
    this.rejects = clients.table(REJECTS_TABLE);
  }

  async ensureTables(): Promise<void> {
    for (const name of [CATALOG_TABLE, FILES_TABLE, REJECTS_TABLE]) await ensureTable(this.clients, name);
  }

  async getSnapshot(kind: string, snapshotId: string): Promise<WithEtag<SnapshotRow> | undefined> {
    return getOrUndefined<SnapshotRow>(this.catalog, kind, snapshotId);
  }

  /** Newest first. */
  async listSnapshots(kind: string): Promise<WithEtag<SnapshotRow>[]> {
    return (await listPartition<SnapshotRow>(this.catalog, kind)).reverse();
  }

  /** false when the snapshot is already registered (another timer run got there first) */
  async createSnapshot(row: SnapshotRow): Promise<boolean> {
    return insertOnce(this.catalog, row);
  }

  async getFile(partition: string, fileIndex: number): Promise<WithEtag<FileRow> | undefined> {
    return getOrUndefined<FileRow>(this.files, partition, fileRowKey(fileIndex));
  }

  /** In file-index order. `partition` is progressPartition(kind, snapshotId), as for every file-row method. */
  async listFiles(partition: string): Promise<WithEtag<FileRow>[]> {
    return listPartition<FileRow>(this.files, partition);
  }

  /** Merge a patch into a file row; with an etag the write fails (412) if someone else changed it. */
  async updateFile(partition: string, fileIndex: number, patch: Partial<FileRow>, etag?: string): Promise<string> {
    const res = await this.files.updateEntity({ partitionKey: partition, rowKey: fileRowKey(fileIndex), ...patch }, 'Merge', etag ? { etag } : undefined);
    return requireEtag(res.etag);
  }

  /** Drop one file's reject rows (its blob was replaced: they describe lines that no longer exist). Returns how many. */
  async deleteFileRejects(partition: string, fileIndex: number): Promise<number> {
    const prefix = `${fileRowKey(fileIndex)}-`;
    const upper = `${fileRowKey(fileIndex)}.`; // '.' sorts right after '-'
    return deleteRowRange(this.rejects, partition, { ge: prefix, lt: upper });
  }

  async upsertFile(row: FileRow): Promise<void> {
    await this.files.upsertEntity(row, 'Replace');
  }

  /** false when the file row already exists (another timer run registered it, and queues it) */
  async createFile(row: FileRow): Promise<boolean> {
    return insertOnce(this.files, row);
  }

  /**
   * Merge a patch into the catalog row with optimistic concurrency, re-reading and re-deciding on
   * conflict. `decide` sees the current row and returns the patch (or undefined for "nothing to do").
   */
  async updateSnapshot(
    kind: string,
    snapshotId: string,
    decide: (current: WithEtag<SnapshotRow>) => Promise<Partial<SnapshotRow> | undefined> | Partial<SnapshotRow> | undefined,
  ): Promise<WithEtag<SnapshotRow> | undefined> {
    for (let attempt = 0; ; attempt++) {
      const current = await this.getSnapshot(kind, snapshotId);
      if (!current) return undefined;
      const patch = await decide(current);
      if (!patch) return current;
      try {
        const res = await this.catalog.updateEntity({ partitionKey: kind, rowKey: snapshotId, ...patch }, 'Merge', { etag: current.etag });
        return { ...current, ...patch, etag: requireEtag(res.etag) };
      } catch (err) {
        if (!isConditionFailed(err) || attempt >= 50) throw err;
        await new Promise((r) => setTimeout(r, 10 + Math.random() * 40 * Math.min(attempt + 1, 10)));
      }
    }
  }

  /**
   * Recompute the snapshot's progress from its file rows (so totals are exact sums, never increments)
   * and flip it to complete when every registered file is, whatever it was before: a `failed` snapshot
   * (poisoned, superseded) whose files all completed after all is complete; one that is not keeps `failed`
   * with refreshed totals. Safe to call from any number of workers at once.
   */
  async refreshSnapshot(kind: string, snapshotId: string, now: () => Date): Promise<(WithEtag<SnapshotRow> & { completedNow: boolean }) | undefined> {
    // true when this call's write flipped the snapshot to complete (exactly one caller sees it)
    let completedNow = false;
    const row = await this.updateSnapshot(kind, snapshotId, async (current) => {
      completedNow = false;
      if (current.Status === 'complete') return undefined;
      const files = await this.listFiles(progressPartition(kind as ExportKind, snapshotId));
      // more rows than FileCount when Defender's list for this export grew: every registered file counts
      const totals = totalsOf(files, Math.max(current.FileCount ?? 0, files.length));
      const patch: Partial<SnapshotRow> = { ...totals };
      if (files.length >= (current.FileCount ?? 0) && files.every((f) => f.Status === 'complete')) {
        patch.Status = 'complete' satisfies SnapshotStatus;
        patch.CompletedAt = now();
        patch.Error = '';
      }
      const same =
        patch.Status === undefined &&
        current.FileCount === totals.FileCount &&
        current.FilesCompleted === totals.FilesCompleted &&
        current.RowCount === totals.RowCount &&
        current.RejectedCount === totals.RejectedCount &&
        current.DuplicateCount === totals.DuplicateCount;
      completedNow = patch.Status === 'complete';
      return same ? undefined : patch;
    });
    return row && { ...row, completedNow };
  }

  async markSnapshotFailed(kind: string, snapshotId: string, error: string): Promise<void> {
    await this.updateSnapshot(kind, snapshotId, (current) => (current.Status === 'complete' ? undefined : { Status: 'failed', Error: shortError(error) }));
  }
}

async function getOrUndefined<T extends object>(table: TableClient, pk: string, rk: string): Promise<WithEtag<T> | undefined> {
  try {
    return await table.getEntity<T>(pk, rk);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Every row of one partition, in RowKey order. */
async function listPartition<T extends { rowKey: string }>(table: TableClient, pk: string): Promise<WithEtag<T>[]> {
  const rows: WithEtag<T>[] = [];
  for await (const r of table.listEntities<T>({ queryOptions: { filter: odata`PartitionKey eq ${pk}` } })) rows.push(r);
  return rows.sort((a, b) => (a.rowKey < b.rowKey ? -1 : 1));
}

export function totalsOf(files: readonly FileRow[], fileCount: number): SnapshotTotals {
  const totals: SnapshotTotals = { FileCount: fileCount, FilesCompleted: 0, RowCount: 0, RejectedCount: 0, DuplicateCount: 0 };
  for (const f of files) {
    if (f.Status === 'complete') totals.FilesCompleted++;
    totals.RowCount += f.RowsWritten ?? 0;
    totals.RejectedCount += f.Rejected ?? 0;
    totals.DuplicateCount += f.Duplicates ?? 0;
  }
  return totals;
}
