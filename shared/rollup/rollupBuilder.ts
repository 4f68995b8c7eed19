// Builds one complete snapshot's rollup (docs/rollups.md#building): one scan of its table, counted into
// buckets of distinct devices, written as upserts in entity-group transactions per partition. A rebuild (a
// re-armed snapshot, a new layout) writes the same keys, deletes what an earlier build wrote and this one did
// not, and only then marks the catalog row — so a crash anywhere leaves an unmarked snapshot that the next
// run rebuilds, never a marked one with missing or extra rows.
import { TableClient } from '@azure/data-tables';
import { mapBounded } from '../core/concurrency';
import { InventoryEntity, SnapshotRow, snapshotTableName } from '../core/contracts';
import type { ExportKind } from '../kinds/exportKinds';
import { Log } from '../core/log';
import { SnapshotCatalog, WithEtag } from '../storage/snapshotCatalog';
import { ensureTable } from '../storage/storageClients';
import { scanEntities } from '../storage/tableScan';
import { deleteRowKeys, listRowKeys } from '../storage/rowDeletes';
import { PendingEntity, writeEntities } from '../storage/tableWriter';
import { columnsRead } from './dimensions';
import { Bucket, CountResult, countRollup } from './rollupCounter';
import { manifestPartition, ROLLUP_LAYOUT, ROLLUP_TABLE, RollupMarker, snapshotRange, trendPartition, trendRowKey } from './rollupKeys';

export interface RollupDeps {
  catalog: SnapshotCatalog;
  /** a client for a table of the inventory account (snapshot tables and InventoryRollups) */
  table: (name: string) => TableClient;
  ensureTable: (name: string) => Promise<void>;
  log: Log;
  now?: () => Date;
  /** parallel transactions (and stale-row deletes) */
  writeConcurrency?: number;
  /** seconds between progress lines while a table is read */
  progressEverySeconds?: number;
}

/** Deps from the catalog's own storage clients: rollups live in the account of the snapshot tables. */
export function rollupDeps(catalog: SnapshotCatalog, log: Log, overrides: Partial<RollupDeps> = {}): RollupDeps {
  return { catalog, table: (name) => catalog.clients.table(name), ensureTable: (name) => ensureTable(catalog.clients, name), log, ...overrides };
}

export interface RollupBuild {
  kind: ExportKind;
  snapshotId: string;
  /** where the counts came from: the ingest that wrote the rows, a scan of the table, or scans of its parts over several runs */
  source: 'ingest' | 'scan' | 'parts';
  /** rows counted (read from the snapshot table, or written by the ingest) */
  rowsRead: number;
  devices: number;
  /** rows written to InventoryRollups (manifest rows not counted) */
  rollupRows: number;
  partitions: number;
  /** rows of an earlier build of this snapshot that this one no longer has */
  staleDeleted: number;
  /** of `seconds`, the scan and count (0 when counted during ingest; the rest is writing) */
  scanSeconds: number;
  /** false when the snapshot changed during the build (re-armed): the rows stay, unmarked, for the next run to redo */
  marked: boolean;
  seconds: number;
}

type RollupEntity = { partitionKey: string; rowKey: string } & Record<string, unknown>;

function entityOf(kind: ExportKind, snapshot: SnapshotRow, b: Bucket): RollupEntity {
  const d = b.dimension;
  const e: RollupEntity = {
    partitionKey: trendPartition(kind, d.name, b.subject),
    rowKey: trendRowKey(snapshot.rowKey, b.detail),
    Kind: kind,
    Dimension: d.name,
    SnapshotId: snapshot.rowKey,
  };
  const generated = new Date(snapshot.GeneratedTime);
  if (Number.isFinite(generated.getTime())) e.GeneratedTime = generated;
  // the subject and detail as stored in the snapshot table: readable, and exact where a long key was hashed
  d.subject.forEach((column, i) => (e[column] = b.subject[i]));
  if (d.detail && b.detail !== undefined) e[d.detail] = b.detail;
  e.Devices = b.devices;
  if (b.detail === undefined && d.measures?.includes('compliance')) {
    e.Compliant = b.compliant;
    e.NonCompliant = b.nonCompliant;
    e.NotApplicable = b.notApplicable;
  }
  if (b.detail === undefined && d.measures?.includes('severity')) {
    // Edm.Double also when integral, as in the snapshot tables (docs/kinds.md#stored-types)
    if (b.cvssScore !== undefined) e.CvssScore = { value: String(b.cvssScore), type: 'Double' };
    if (b.severity !== undefined) e.VulnerabilitySeverityLevel = b.severity;
  }
  return e;
}

async function write(table: TableClient, entities: RollupEntity[], concurrency: number): Promise<void> {
  const items: PendingEntity[] = entities.map((e, i) => ({ entity: e as unknown as InventoryEntity, line: i }));
  const res = await writeEntities(table, items, concurrency);
  if (res.rejected.length) throw new Error(`InventoryRollups refused ${res.rejected.length} rows, e.g. ${res.rejected[0].reason}`);
}

/**
 * Build (or rebuild) the rollup of one complete snapshot of `kind`: from `counted` when the rows of its table were
 * already counted exactly — by the ingest (docs/rollups.md#counted-during-ingest) or part by part
 * (docs/rollups.md#large-snapshots) — otherwise from a scan of the table.
 */
export async function buildRollup(
  deps: RollupDeps,
  kind: ExportKind,
  snapshot: WithEtag<SnapshotRow>,
  counted?: CountResult,
  countedBy: 'ingest' | 'parts' = 'ingest',
): Promise<RollupBuild> {
  const started = Date.now();
  const now = deps.now ?? (() => new Date());
  const concurrency = Math.max(1, deps.writeConcurrency ?? 8);
  const sid = snapshot.rowKey;
  const tableName = snapshot.TableName || snapshotTableName(kind, sid);
  await deps.ensureTable(ROLLUP_TABLE);
  const rollups = deps.table(ROLLUP_TABLE);

  // 1. the counts: those of the ingest, or one scan of the snapshot table, PartitionKey ranges at once, device by device
  const source = counted ? countedBy : 'scan';
  const everyMs = (deps.progressEverySeconds ?? 10) * 1000;
  let lastLog = Date.now();
  counted ??= await countRollup(kind, scanEntities(deps.table(tableName), { select: columnsRead(kind) }), (rows, buckets) => {
    if (Date.now() - lastLog < everyMs) return;
    lastLog = Date.now();
    const rate = Math.round((rows * 1000) / Math.max(1, lastLog - started));
    deps.log.info(`rollup ${tableName}: ${rows} of ${snapshot.RowCount ?? '?'} rows read (${rate}/s), ${buckets} buckets`);
  });
  const scanSeconds = Math.round((Date.now() - started) / 100) / 10;
  const entities = counted.buckets.map((b) => entityOf(kind, snapshot, b));
  const byPartition = new Map<string, Set<string>>();
  for (const e of entities) {
    let rks = byPartition.get(e.partitionKey);
    if (!rks) byPartition.set(e.partitionKey, (rks = new Set()));
    rks.add(e.rowKey);
  }

  // 2. the manifest first (the union with an earlier build's), so a crash after it still knows what to clean
  const manifestPk = manifestPartition(kind, sid);
  const earlier = await listRowKeys(rollups, manifestPk);
  await write(
    rollups,
    [...byPartition].map(([pk, rks]) => ({ partitionKey: manifestPk, rowKey: pk, Kind: kind, SnapshotId: sid, Rows: rks.size })),
    concurrency,
  );

  // 3. the rows themselves: idempotent upserts, the same keys on every build
  await write(rollups, entities, concurrency);

  // 4. what an earlier build wrote and this one did not (only a rebuild has an earlier manifest)
  // (rows gone already are no error: a concurrent rebuild, or retention, got there first)
  let staleFound = 0;
  await mapBounded(earlier, concurrency, async (pk) => {
    const keep = byPartition.get(pk);
    const stale = (await listRowKeys(rollups, pk, snapshotRange(sid, sid))).filter((rk) => !keep?.has(rk));
    staleFound += stale.length;
    await deleteRowKeys(rollups, pk, stale, 1);
  });
  await deleteRowKeys(
    rollups,
    manifestPk,
    earlier.filter((pk) => !byPartition.has(pk)),
    concurrency,
  );

  // 5. the marker, only if the snapshot is still the completion that was read
  const marker: RollupMarker = {
    RollupLayout: ROLLUP_LAYOUT,
    RollupBuiltAt: now(),
    RollupRows: entities.length,
    ...(snapshot.CompletedAt !== undefined ? { RollupOfCompletedAt: new Date(snapshot.CompletedAt) } : {}),
    RollupOfRowCount: snapshot.RowCount,
  };
  let marked = false;
  await deps.catalog.updateSnapshot(kind, sid, (cur) => {
    const same =
      cur.Status === 'complete' &&
      cur.RowCount === snapshot.RowCount &&
      new Date(cur.CompletedAt ?? 0).getTime() === new Date(snapshot.CompletedAt ?? 0).getTime();
    marked = same;
    return same ? (marker as unknown as Partial<SnapshotRow>) : undefined;
  });
  const build: RollupBuild = {
    kind,
    snapshotId: sid,
    source,
    rowsRead: counted.rows,
    devices: counted.devices,
    rollupRows: entities.length,
    partitions: byPartition.size,
    staleDeleted: staleFound,
    scanSeconds,
    marked,
    seconds: Math.round((Date.now() - started) / 100) / 10,
  };
  deps.log.info(
    `rollup of ${kind} snapshot ${sid} (${tableName}): ${build.rowsRead} rows of ${build.devices} devices → ${build.rollupRows} rollup rows in ${build.partitions} partitions` +
      `${build.staleDeleted ? `, ${build.staleDeleted} stale rows deleted` : ''} in ${build.seconds} s (${source === 'scan' ? `scan ${scanSeconds} s` : source === 'parts' ? 'merged from its parts' : 'counted during ingest'})${marked ? '' : ' (the snapshot changed meanwhile: left unmarked)'}`,
  );
  return build;
}
