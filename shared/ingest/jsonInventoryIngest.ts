// EXPORT_METHOD=json: the paged SoftwareInventoryByMachine API (Defender suggests it below ~100k
// devices). It runs inside the timer invocation, page by page, into the same table layout as the
// files method; the snapshot id is the run's start time (there is no generatedTime), and the whole
// run is recorded as a single "file" 0 whose lines are the records in page order.
import { SnapshotRow, snapshotIdFor, snapshotTableName, SOFTWARE_INVENTORY } from '../core/contracts';
import type { InventoryPage } from '../defender/defenderClient';
import { Log } from '../core/log';
import { reportSnapshotCompleted, reportSnapshotFailed, Telemetry } from '../core/telemetry';
import { ExtraColumns, mapRecord } from './recordMapper';
import { describeError, stripQuery } from '../core/redact';
import { shortError, SnapshotCatalog } from '../storage/snapshotCatalog';
import { SnapshotWriter } from './snapshotWriter';
import type { TableClient } from '@azure/data-tables';

export interface JsonRunDeps {
  catalog: SnapshotCatalog;
  ensureTable: (name: string) => Promise<void>;
  table: (name: string) => TableClient;
  defender: { getSoftwareInventoryPages(pageSize: number): AsyncIterable<InventoryPage> };
  /** the API URL, recorded as the run's BlobPath */
  source: string;
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

export async function runJsonInventory(deps: JsonRunDeps): Promise<JsonRunOutcome> {
  const { catalog, log } = deps;
  const now = deps.now ?? (() => new Date());
  const kind = SOFTWARE_INVENTORY;
  const started = new Date(Math.floor(now().getTime() / 60000) * 60000);
  const snapshotId = snapshotIdFor(started);
  const tableName = snapshotTableName(kind, snapshotId);

  await catalog.ensureTables();
  const existing = await catalog.getSnapshot(kind, snapshotId);
  if (existing) {
    log.info(`snapshot ${snapshotId} was already started this minute (${existing.Status}); nothing to do`);
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
    log.info(`snapshot ${snapshotId} was started this minute by another run; nothing to do`);
    const other = await catalog.getSnapshot(kind, snapshotId);
    return { snapshotId, tableName, status: other?.Status ?? 'ingesting', rows: other?.RowCount ?? 0, pages: 0, created: false };
  }
  await catalog.upsertFile({
    partitionKey: snapshotId,
    rowKey: '00000',
    BlobPath: stripQuery(deps.source),
    Status: 'ingesting',
    LinesCommitted: 0,
    RowsWritten: 0,
    Rejected: 0,
    Duplicates: 0,
    Attempts: 1,
    Error: '',
    UpdatedAt: now(),
  });
  log.info(`snapshot ${snapshotId}: paging ${stripQuery(deps.source)} (pageSize ${deps.pageSize}) into ${tableName}`);

  const extras = new ExtraColumns();
  const writer = new SnapshotWriter({
    table: deps.table(tableName),
    rejectsTable: catalog.rejects,
    snapshotId,
    fileIndex: 0,
    writeConcurrency: deps.writeConcurrency,
    segmentRows: deps.segmentRows ?? 5000,
    start: { lines: 0, rows: 0, rejected: 0, duplicates: 0 },
    checkpoint: async (c, final) => {
      await catalog.updateFile(snapshotId, 0, {
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
    for await (const page of deps.defender.getSoftwareInventoryPages(deps.pageSize)) {
      pages++;
      for (const r of page.records) {
        record++;
        writer.add(record, mapRecord(r, extras), () => JSON.stringify(r));
        await writer.maybeCommit();
      }
      log.info(`snapshot ${snapshotId}: page ${page.page} (${page.records.length} records, ${record} so far)`);
    }
    await writer.finish();
  } catch (err) {
    await writer.drain().catch(() => undefined);
    writer.dispose();
    const reason = shortError(`paged export failed after ${record} records: ${describeError(err)}`);
    await catalog.updateFile(snapshotId, 0, { Status: 'failed', Error: reason, UpdatedAt: now() }).catch(() => undefined);
    await catalog.markSnapshotFailed(kind, snapshotId, reason).catch(() => undefined);
    log.error(`snapshot ${snapshotId}: ${reason}`);
    reportSnapshotFailed(deps.telemetry, { kind, snapshotId, cause: 'export', reason });
    throw err;
  }
  for (const note of extras.messages()) log.info(`snapshot ${snapshotId}: ${note}`);
  const after = await catalog.refreshSnapshot(kind, snapshotId, now);
  if (after?.completedNow) reportSnapshotCompleted(deps.telemetry, after);
  const c = writer.counters;
  log.info(`snapshot ${snapshotId} ${after?.Status ?? 'ingesting'}: ${c.rows} rows from ${pages} page(s), ${c.rejected} rejected, ${c.duplicates} duplicates`);
  return { snapshotId, tableName, status: after?.Status ?? 'ingesting', rows: c.rows, pages, created: true };
}
