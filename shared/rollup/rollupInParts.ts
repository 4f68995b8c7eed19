// A snapshot too large for one timer run's budget, rolled up over several runs (docs/rollups.md#large-snapshots).
// Devices never cross PartitionKey ranges, so the table is counted part by part — a range of DeviceIds each — and
// each part's raw counts are stored; once every part is counted, the parts are merged (devices add up) and the
// rollup is written as a one-run build writes it. Each part carries the completion it counted (CompletedAt,
// RowCount): a re-armed snapshot's parts are counted again. Parts live in InventoryRollups under
// `<Kind>|partial|<snapshotId>` and are deleted once the rollup is marked.
import { odata } from '@azure/data-tables';
import { InventoryEntity, SnapshotRow, snapshotTableName } from '../core/contracts';
import type { ExportKind } from '../kinds/exportKinds';
import type { WithEtag } from '../storage/snapshotCatalog';
import { deleteRowRange } from '../storage/rowDeletes';
import { rowKeyForParts } from '../storage/tableKeys';
import { rangeFilters, scanEntities } from '../storage/tableScan';
import { PendingEntity, writeEntities } from '../storage/tableWriter';
import { columnsRead, rollupDimensions } from './dimensions';
import { buildRollup, RollupBuild, RollupDeps } from './rollupBuilder';
import { Bucket, countRollup, CountResult, mergeCounts } from './rollupCounter';
import { ROLLUP_TABLE } from './rollupKeys';

const HEX = '0123456789abcdef'.split('');

/** PartitionKey of a snapshot's partial counts in InventoryRollups (no dimension is called "partial"). */
export function partialPartition(kind: ExportKind, snapshotId: string): string {
  return rowKeyForParts([kind, 'partial', snapshotId]);
}

/**
 * The parts of a table: 16 ranges of DeviceIds by first hex digit, or 256 by the first two when a sixteenth would
 * not fit comfortably in one run. Each part: its filter, and split points within it (read 16 ranges at once).
 */
export function tableParts(count: 16 | 256): { filter: string; splits: string[] }[] {
  const lows = count === 16 ? HEX : HEX.flatMap((a) => HEX.map((b) => a + b));
  const filters = rangeFilters(undefined, lows.slice(1));
  return lows.map((low, i) => ({ filter: filters[i], splits: HEX.slice(1).map((h) => low + h) }));
}

const partKey = (i: number) => String(i).padStart(3, '0');
const DONE = 'done|';

interface PartMarker {
  rowKey: string;
  Parts: number;
  OfCompletedAt?: Date;
  OfRowCount: number;
  Rows: number;
  Devices: number;
}

interface StoredBucket {
  rowKey: string;
  Dimension: string;
  Subject: string;
  Detail?: string;
  Devices: number;
  Compliant: number;
  NonCompliant: number;
  NotApplicable: number;
  CvssScore?: number;
  Severity?: string;
}

export interface PartsProgress {
  /** parts counted for the snapshot's current completion, of `total` */
  counted: number;
  total: number;
  /** rows read by this call */
  rowsRead: number;
  /** the rollup, once every part was counted and merged */
  built?: RollupBuild;
}

const sameTime = (a: Date | string | undefined, b: Date | string | undefined) => new Date(a ?? 0).getTime() === new Date(b ?? 0).getTime();

/**
 * Count as many of the snapshot's uncounted parts as are expected to end before `deadlineMs` (at `rowsPerSecond`),
 * then, if none is left, merge and build. Call it again (the next timer run) to go on.
 */
export async function buildRollupInParts(
  deps: RollupDeps,
  kind: ExportKind,
  snapshot: WithEtag<SnapshotRow>,
  opts: { deadlineMs: number; rowsPerSecond: number; budgetMs: number },
): Promise<PartsProgress> {
  const sid = snapshot.rowKey;
  await deps.ensureTable(ROLLUP_TABLE);
  const rollups = deps.table(ROLLUP_TABLE);
  const pk = partialPartition(kind, sid);
  const rowCount = snapshot.RowCount ?? 0;
  const count: 16 | 256 = (rowCount / 16 / opts.rowsPerSecond) * 1000 <= opts.budgetMs / 2 ? 16 : 256;
  const parts = tableParts(count);
  const concurrency = Math.max(1, deps.writeConcurrency ?? 8);

  // parts already counted for this completion
  const valid = new Map<number, PartMarker>();
  for await (const m of rollups.listEntities<PartMarker>({
    queryOptions: { filter: odata`PartitionKey eq ${pk} and RowKey ge ${DONE} and RowKey lt ${'done}'}` },
  })) {
    const i = Number(m.rowKey.slice(DONE.length));
    if (m.Parts === count && m.OfRowCount === rowCount && sameTime(m.OfCompletedAt, snapshot.CompletedAt)) valid.set(i, m);
  }

  const table = deps.table(snapshot.TableName || snapshotTableName(kind, sid));
  const perPartMs = (rowCount / count / opts.rowsPerSecond) * 1000;
  let rowsRead = 0;
  // parts are planned at the expected rate (a part faster than expected does not make room for more), and a slow
  // one pushes the plan back: the run stays within its budget either way
  let plannedMs = Date.now();
  for (let i = 0; i < parts.length; i++) {
    if (valid.has(i)) continue;
    if (plannedMs + perPartMs > opts.deadlineMs) break;
    // an earlier count of this part (another completion, or a run that died mid-write) goes first
    await deleteRowRange(rollups, pk, { ge: `${partKey(i)}|`, lt: `${partKey(i)}}` }, concurrency);
    const counted = await countRollup(
      kind,
      scanEntities(table, { filter: parts[i].filter, splits: parts[i].splits, select: columnsRead(kind) }),
      undefined,
      true,
    );
    rowsRead += counted.rows;
    const rows = counted.buckets.map((b, n) => stored(pk, `${partKey(i)}|${String(n).padStart(9, '0')}`, b));
    const res = await writeEntities(rollups, rows, concurrency);
    if (res.rejected.length) throw new Error(`InventoryRollups refused ${res.rejected.length} partial rows, e.g. ${res.rejected[0].reason}`);
    const marker: PartMarker = {
      rowKey: `${DONE}${partKey(i)}`,
      Parts: count,
      ...(snapshot.CompletedAt !== undefined ? { OfCompletedAt: new Date(snapshot.CompletedAt) } : {}),
      OfRowCount: rowCount,
      Rows: counted.rows,
      Devices: counted.devices,
    };
    await rollups.upsertEntity({ partitionKey: pk, ...marker }, 'Replace');
    valid.set(i, marker);
    plannedMs = Math.max(plannedMs + perPartMs, Date.now());
  }
  const progress: PartsProgress = { counted: valid.size, total: count, rowsRead };
  if (valid.size < count) return progress;

  // every part counted: merge and build as a one-run build does, then drop the parts
  const partsCounted = await readParts(deps, kind, pk, valid);
  const counted = mergeCounts(partsCounted);
  progress.built = await buildRollup(deps, kind, snapshot, counted, 'parts');
  if (progress.built.marked) await deleteRowRange(rollups, pk, undefined, concurrency);
  return progress;
}

function stored(pk: string, rowKey: string, b: Bucket): PendingEntity {
  const e: Record<string, unknown> = {
    partitionKey: pk,
    rowKey,
    Dimension: b.dimension.name,
    Subject: JSON.stringify(b.subject),
    Devices: b.devices,
    Compliant: b.compliant,
    NonCompliant: b.nonCompliant,
    NotApplicable: b.notApplicable,
  };
  if (b.detail !== undefined) e.Detail = b.detail;
  if (b.cvssScore !== undefined) e.CvssScore = { value: String(b.cvssScore), type: 'Double' };
  if (b.severity !== undefined) e.Severity = b.severity;
  return { entity: e as unknown as InventoryEntity, line: 0 };
}

async function readParts(deps: RollupDeps, kind: ExportKind, pk: string, markers: Map<number, PartMarker>): Promise<CountResult[]> {
  const dims = new Map(rollupDimensions(kind).map((d) => [d.name as string, d]));
  const byPart = new Map<number, Bucket[]>([...markers.keys()].map((i) => [i, []]));
  const rows = deps.table(ROLLUP_TABLE).listEntities<StoredBucket>({ queryOptions: { filter: odata`PartitionKey eq ${pk} and RowKey lt ${DONE}` } });
  for await (const r of rows) {
    const dimension = dims.get(r.Dimension);
    if (!dimension) throw new Error(`partial rollup row ${r.rowKey} names dimension ${r.Dimension}, which ${kind} has not`);
    const b: Bucket = {
      dimension,
      subject: JSON.parse(r.Subject) as string[],
      ...(typeof r.Detail === 'string' ? { detail: r.Detail } : {}),
      devices: r.Devices,
      compliant: r.Compliant,
      nonCompliant: r.NonCompliant,
      notApplicable: r.NotApplicable,
      ...(typeof r.CvssScore === 'number' ? { cvssScore: r.CvssScore } : {}),
      ...(typeof r.Severity === 'string' ? { severity: r.Severity } : {}),
    };
    byPart.get(Number(r.rowKey.slice(0, 3)))?.push(b);
  }
  return [...byPart].map(([i, buckets]) => ({ buckets, rows: markers.get(i)!.Rows, devices: markers.get(i)!.Devices }));
}
