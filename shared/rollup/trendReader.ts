// Reading trends from InventoryRollups (docs/rollups.md#reading-a-trend): a product's versions, or any other
// subject's totals (a CVE's devices), in one range query over the snapshots asked for, whatever their number or size. The caller decides which snapshots have a current
// rollup (rollupKeys.hasCurrentRollup); for those, no row means no device.
import { odata, TableClient } from '@azure/data-tables';
import type { ExportKind } from '../kinds/exportKinds';
import { isNotFound } from '../storage/snapshotCatalog';
import { MAX_KEY_LENGTH } from '../storage/tableKeys';
import { DimensionName, rollupDimensions } from './dimensions';
import { snapshotRange, trendPartition } from './rollupKeys';

export interface ProductFigures {
  /** distinct devices per version */
  versions: Record<string, number>;
  /** distinct devices with any version */
  devices: number;
}

interface ProductRow {
  rowKey: string;
  SnapshotId: string;
  SoftwareName: string;
  SoftwareVendor: string;
  SoftwareVersion?: string;
  Devices: number;
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A product's figures at each of `snapshotIds` (ids of snapshots whose rollup is current), or undefined when
 * the rollups cannot answer (no rollup table; a name so long its partition keys are hashed, so no prefix range
 * finds its vendors). `vendor` undefined: the name across vendors, as the scan counts it.
 */
export async function readProductRollup(
  table: TableClient,
  kind: ExportKind,
  name: string,
  vendor: string | undefined,
  snapshotIds: readonly string[],
): Promise<Map<string, ProductFigures> | undefined> {
  if (snapshotIds.length === 0) return new Map();
  const ids = [...snapshotIds].sort(byText);
  const range = snapshotRange(ids[0], ids[ids.length - 1]);
  let filter: string;
  if (vendor !== undefined) {
    filter = odata`PartitionKey eq ${trendPartition(kind, 'product', [name, vendor])}`;
  } else {
    // every vendor's partition of this name, and the across-vendors one (vendor ''): `<kind>|product|<name>|…`
    const prefix = trendPartition(kind, 'product', [name, '']);
    if (prefix.length >= MAX_KEY_LENGTH - 64) return undefined;
    filter = odata`PartitionKey ge ${prefix} and PartitionKey lt ${`${prefix.slice(0, -1)}}`}`;
  }
  filter += ` and ${odata`RowKey ge ${range.ge} and RowKey lt ${range.lt}`}`;

  // per snapshot, per vendor ('' = across vendors): the total and the versions
  const wanted = new Set(ids);
  const seen = new Map<string, Map<string, ProductFigures>>();
  try {
    const rows = table.listEntities<ProductRow>({
      queryOptions: { filter, select: ['RowKey', 'SnapshotId', 'SoftwareName', 'SoftwareVendor', 'SoftwareVersion', 'Devices'] },
    });
    for await (const r of rows) {
      // properties, not keys: exact even where a long key was hashed
      if (!wanted.has(r.SnapshotId) || r.SoftwareName !== name || (vendor !== undefined && r.SoftwareVendor !== vendor)) continue;
      let vendors = seen.get(r.SnapshotId);
      if (!vendors) seen.set(r.SnapshotId, (vendors = new Map<string, ProductFigures>()));
      let f = vendors.get(r.SoftwareVendor);
      if (!f) vendors.set(r.SoftwareVendor, (f = { versions: {}, devices: 0 }));
      // the total's RowKey is the bare snapshot id (a selected property a row lacks may come back null)
      if (r.rowKey === r.SnapshotId) f.devices = r.Devices;
      else f.versions[String(r.SoftwareVersion)] = r.Devices;
    }
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }

  const out = new Map<string, ProductFigures>();
  for (const id of ids) {
    const vendors = seen.get(id);
    // one vendor: its own rows; several: the across-vendors rows the build wrote for exactly that case
    const f = !vendors || vendors.size === 0 ? { versions: {}, devices: 0 } : vendors.size === 1 ? [...vendors.values()][0] : vendors.get('');
    if (!f) return undefined; // several vendors but no across row: not a layout this build writes
    const versions: Record<string, number> = {};
    for (const v of Object.keys(f.versions).sort(byText)) versions[v] = f.versions[v];
    out.set(id, { versions, devices: f.devices });
  }
  return out;
}

/** A subject's total at one snapshot (a CVE, a configuration, an OS platform …): devices, and its measures where it has them. */
export interface SubjectFigures {
  devices: number;
  compliant?: number;
  nonCompliant?: number;
  notApplicable?: number;
  cvssScore?: number;
  severity?: string;
}

interface SubjectRow {
  rowKey: string;
  SnapshotId: string;
  Devices: number;
  Compliant?: number;
  NonCompliant?: number;
  NotApplicable?: number;
  CvssScore?: number;
  VulnerabilitySeverityLevel?: string;
}

/**
 * One subject's totals at each of `snapshotIds` (ids of snapshots whose rollup is current; no row: 0 devices), from
 * its one partition (docs/rollups.md#table-layout), or undefined without a rollup table. `subject` holds the
 * dimension's subject values as stored (dimensions.ts), e.g. `[cveId]` for 'cve'.
 */
export async function readSubjectRollup(
  table: TableClient,
  kind: ExportKind,
  dimension: DimensionName,
  subject: readonly string[],
  snapshotIds: readonly string[],
): Promise<Map<string, SubjectFigures> | undefined> {
  const out = new Map<string, SubjectFigures>();
  if (snapshotIds.length === 0) return out;
  const ids = [...snapshotIds].sort(byText);
  const range = snapshotRange(ids[0], ids[ids.length - 1]);
  const filter = odata`PartitionKey eq ${trendPartition(kind, dimension, subject)} and RowKey ge ${range.ge} and RowKey lt ${range.lt}`;
  const wanted = new Set(ids);
  const columns = rollupDimensions(kind).find((d) => d.name === dimension)?.subject ?? [];
  try {
    for await (const r of table.listEntities<SubjectRow & Record<string, unknown>>({ queryOptions: { filter } })) {
      // the subject's total only (RowKey = the bare id), matched on its stored values: exact where a long key was hashed
      if (r.rowKey !== r.SnapshotId || !wanted.has(r.SnapshotId) || columns.some((c, i) => (r[c] ?? '') !== subject[i])) continue;
      const f: SubjectFigures = { devices: r.Devices };
      if (typeof r.Compliant === 'number') Object.assign(f, { compliant: r.Compliant, nonCompliant: r.NonCompliant, notApplicable: r.NotApplicable });
      if (typeof r.CvssScore === 'number') f.cvssScore = r.CvssScore;
      if (typeof r.VulnerabilitySeverityLevel === 'string') f.severity = r.VulnerabilitySeverityLevel;
      out.set(r.SnapshotId, f);
    }
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  for (const id of ids) if (!out.has(id)) out.set(id, { devices: 0 });
  return out;
}
