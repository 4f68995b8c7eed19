// Reading a product's trend from InventoryRollups (docs/rollups.md#reading-a-trend): one range query over the
// snapshots asked for, whatever their number or size. The caller decides which snapshots have a current
// rollup (rollupKeys.hasCurrentRollup); for those, no row means no device.
import { odata, TableClient } from '@azure/data-tables';
import type { ExportKind } from '../kinds/exportKinds';
import { isNotFound } from '../storage/snapshotCatalog';
import { MAX_KEY_LENGTH } from '../storage/tableKeys';
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
