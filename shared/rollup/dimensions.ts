// What a snapshot's rollup counts, per kind, as data (docs/rollups.md#dimensions). Each dimension names the
// stored columns (docs/kinds.md) that make its subject, and optionally a detail column with one row per value
// under the subject (a product's versions). Every count is of distinct devices, never of rows.
import type { ExportKind } from '../kinds/exportKinds';

export type DimensionName = 'devices' | 'product' | 'cve' | 'config' | 'os' | 'rbac';

/** Extra figures a dimension keeps beside `Devices`. */
export type Measure = 'compliance' | 'severity';

export interface RollupDimension {
  name: DimensionName;
  /** stored columns whose values name the subject, in PartitionKey order (a missing value is '') */
  subject: readonly string[];
  /** a column with one row per value under the subject (a product's versions), beside the subject's total row */
  detail?: string;
  /** rows with an empty or missing subject value are not counted here (a vulnerability row without a CVE) */
  skipEmpty?: boolean;
  /**
   * Also count across the last subject column (stored with '' there), kept only where the leading columns have
   * more than one value in the snapshot: a product by name across its vendors, which a per-vendor sum would
   * overcount for a device holding it from two vendors. '' never collides: the last column is required.
   */
  acrossLast?: boolean;
  measures?: readonly Measure[];
}

const DEVICES: RollupDimension = { name: 'devices', subject: [] };
// name first: a trend by name alone (no vendor) is one PartitionKey range
const PRODUCT: RollupDimension = { name: 'product', subject: ['SoftwareName', 'SoftwareVendor'], detail: 'SoftwareVersion', acrossLast: true };
const OS: RollupDimension = { name: 'os', subject: ['OSPlatform'] };
const RBAC: RollupDimension = { name: 'rbac', subject: ['RbacGroupName'] };

export const ROLLUP_DIMENSIONS: Record<ExportKind, readonly RollupDimension[]> = {
  SoftwareInventory: [DEVICES, PRODUCT, OS, RBAC],
  NonCpeSoftwareInventory: [DEVICES, PRODUCT, OS, RBAC],
  SoftwareVulnerabilities: [DEVICES, PRODUCT, { name: 'cve', subject: ['CveId'], skipEmpty: true, measures: ['severity'] }, OS, RBAC],
  SecureConfigurations: [DEVICES, { name: 'config', subject: ['ConfigurationId'], measures: ['compliance'] }, OS, RBAC],
};

/** The stored columns a measure reads. */
const MEASURE_COLUMNS: Record<Measure, readonly string[]> = {
  compliance: ['IsApplicable', 'IsCompliant'],
  severity: ['CvssScore', 'VulnerabilitySeverityLevel'],
};

export function rollupDimensions(kind: ExportKind): readonly RollupDimension[] {
  return ROLLUP_DIMENSIONS[kind];
}

/** The columns a scan of the kind's snapshot table must select (PartitionKey tells the device). */
export function columnsRead(kind: ExportKind): string[] {
  const cols = new Set<string>(['PartitionKey']);
  for (const d of rollupDimensions(kind)) {
    for (const c of d.subject) cols.add(c);
    if (d.detail) cols.add(d.detail);
    for (const m of d.measures ?? []) for (const c of MEASURE_COLUMNS[m]) cols.add(c);
  }
  return [...cols];
}
