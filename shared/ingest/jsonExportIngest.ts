// EXPORT_METHOD=json: a kind's paged ByMachine API (Defender suggests it below ~100k devices; docs/kinds.md).
// It runs inside the timer invocation, page by page, into the same table layout as the files method; the
// snapshot id is the run's start minute (there is no generatedTime), and the whole run is recorded as a
// single "file" 0, in the kind's progress partition, whose lines are the records in page order.
import { ExportKind, newFileRow, progressPartition, SnapshotRow, snapshotIdFor, snapshotTableName } from '../core/contracts';
import { kindSpec } from '../kinds/exportKinds';
import type { InventoryPage } from '../defender/defenderClient';
import { Log } from '../core/log';
import { reportSnapshotCompleted, reportSnapshotFailed, Telemetry } from '../core/telemetry';
import { ExtraColumns, mapRecord } from './recordMapper';
import { describeError, stripQuery } from '../core/redact';
import { shortError, SnapshotCatalog } from '../storage/snapshotCatalog';
import { SnapshotWriter } from './snapshotWriter';
import type { TableClient } from '@azure/data-tables';

export interface JsonRunDeps {
  kind: ExportKind;
  catalog: SnapshotCatalog;
  ensureTable: (name: string) => Promise<void>;
  table: (name: string) => TableClient;
  defender: { getPages(kind: ExportKind, pageSize: number): AsyncIterable<InventoryPage> };
  /** the API root (DEFENDER_API_BASE_URL); the kind's jsonPath appended is recorded as the run's BlobPath */
  baseUrl: string;
  pageSize: number;
  writeConcurrency: number;
  log: Log;
  now?: () => Date;
  segmentRows?: number;
  telemetry?: Telemetry;
}

export interface JsonRunOutcome {
  snapshotId: string;
  tableName: string;
  status: SnapshotRow['Status'];
  rows: number;
  pages: number;
  created: boolean;
}

export async function runJsonExport(deps: JsonRunDeps): Promise<JsonRunOutcome> {
  const { catalog, log, kind } = deps;
  const now = deps.now ?? (() => new Date());
  const started = new Date(Math.floor(now().getTime() / 60000) * 60000);
  const snapshotId = snapshotIdFor(started);
  const tableName = snapshotTableName(kind, snapshotId);
  const source = `${deps.baseUrl.replace(/\/+$/, '')}${kindSpec(kind).jsonPath}`;
  // the file row's partition, and how logs name the snapshot: the bare id for the inventory, <Kind><stamp> otherwise
  const part = progressPartition(kind, snapshotId);

  await catalog.ensureTables();
  const existing = await catalog.getSnapshot(kind, snapshotId);
  if (existing) {
    log.info(`snapshot ${part} was already started this minute (${existing.Status}); nothing to do`);
    return { snapshotId, tableName, status: existing.Status, rows: existing.RowCount, pages: 0, created: false };
  }
  await deps.ensureTable(tableName);
  const created = await catalog.createSnapshot({
    partitionKey: kind,
    rowKey: snapshotId,
    Status: 'ingesting',
    GeneratedTime: started,
    TableName: tableName,
    Method: 'json',
    FileCount: 1,
    FilesCompleted: 0,
    RowCount: 0,
    RejectedCount: 0,
    DuplicateCount: 0,
    StartedAt: now(),
  });
  if (!created) {
    // another timer run registered this minute's snapshot between our read and our insert: it pages, we don't
    log.info(`snapshot ${part} was started this minute by another run; nothing to do`);
    const other = await catalog.getSnapshot(kind, snapshotId);
    return { snapshotId, tableName, status: other?.Status ?? 'ingesting', rows: other?.RowCount ?? 0, pages: 0, created: false };
  }
  await catalog.upsertFile(newFileRow(kind, snapshotId, 0, stripQuery(source), { Status: 'ingesting', Attempts: 1, UpdatedAt: now() }));
  log.info(`snapshot ${part}: paging ${stripQuery(source)} (pageSize ${deps.pageSize}) into ${tableName}`);

  const extras = new ExtraColumns();
  const writer = new SnapshotWriter({
    table: deps.table(tableName),
    rejectsTable: catalog.rejects,
    kind,
    snapshotId,
    fileIndex: 0,
    writeConcurrency: deps.writeConcurrency,
    segmentRows: deps.segmentRows ?? 5000,
    start: { lines: 0, rows: 0, rejected: 0, duplicates: 0 },
    checkpoint: async (c, final) => {
      await catalog.updateFile(part, 0, {
        LinesCommitted: c.lines,
        RowsWritten: c.rows,
        Rejected: c.rejected,
        Duplicates: c.duplicates,
        UpdatedAt: now(),
        ...(final ? { Status: 'complete' } : {}),
      });
    },
  });

  let record = 0;
  let pages = 0;
  try {
    for await (const page of deps.defender.getPages(kind, deps.pageSize)) {
      pages++;
      for (const r of page.records) {
        record++;
        writer.add(record, mapRecord(r, extras, kind), () => JSON.stringify(r));
        await writer.maybeCommit();
      }
      log.info(`snapshot ${part}: page ${page.page} (${page.records.length} records, ${record} so far)`);
    }
    await writer.finish();
  } catch (err) {
    await writer.drain().catch(() => undefined);
    writer.dispose();
    const reason = shortError(`paged export failed after ${record} records: ${describeError(err)}`);
    await catalog.updateFile(part, 0, { Status: 'failed', Error: reason, UpdatedAt: now() }).catch(() => undefined);
    await catalog.markSnapshotFailed(kind, snapshotId, reason).catch(() => undefined);
    log.error(`snapshot ${part}: ${reason}`);
    reportSnapshotFailed(deps.telemetry, { kind, snapshotId, cause: 'export', reason });
    throw err;
  }
  for (const note of extras.messages()) log.info(`snapshot ${part}: ${note}`);
  const after = await catalog.refreshSnapshot(kind, snapshotId, now);
  if (after?.completedNow) reportSnapshotCompleted(deps.telemetry, after);
  const c = writer.counters;
  log.info(`snapshot ${part} ${after?.Status ?? 'ingesting'}: ${c.rows} rows from ${pages} page(s), ${c.rejected} rejected, ${c.duplicates} duplicates`);
  return { snapshotId, tableName, status: after?.Status ?? 'ingesting', rows: c.rows, pages, created: true };
}
