// Per-device comparisons of two snapshots of the assessment kinds (docs/query.md#diff-of-the-other-kinds):
// vulnerabilities new or fixed, configurations that changed state. Pure functions of one device's rows on
// each side; commands/kindDiff.ts streams the devices (join.ts). Identities come from the stored properties,
// not the keys (long keys are hashed).
import { compareKeys } from './diff';

export interface VulnRow {
  partitionKey: string;
  DeviceId: string;
  DeviceName?: string;
  SoftwareVendor: string;
  SoftwareName: string;
  SoftwareVersion: string;
  /** absent: the product has no CVE (a valid row, not a vulnerability) */
  CveId?: string;
  CvssScore?: number;
  VulnerabilitySeverityLevel?: string;
  FirstSeenTimestamp?: Date | string;
}

export const VULN_SELECT = [
  'PartitionKey',
  'DeviceId',
  'SoftwareVendor',
  'SoftwareName',
  'SoftwareVersion',
  'CveId',
  'CvssScore',
  'VulnerabilitySeverityLevel',
  'FirstSeenTimestamp',
];

export type VulnChangeKind = 'new' | 'fixed';

/** One JSON line of `diff --kind SoftwareVulnerabilities --json`: keys in this order. */
export const VULN_DIFF_COLUMNS = ['change', 'DeviceId', 'CveId', 'SoftwareVendor', 'SoftwareName', 'SoftwareVersion'] as const;

export interface VulnChange {
  change: VulnChangeKind;
  DeviceId: string;
  CveId: string;
  SoftwareVendor: string;
  SoftwareName: string;
  SoftwareVersion: string;
}

export interface VulnTotals {
  new: number;
  fixed: number;
  unchanged: number;
}

/** A vulnerability's identity on a device: (CVE, vendor, name, version). */
export function vulnIdentity(r: Pick<VulnRow, 'CveId' | 'SoftwareVendor' | 'SoftwareName' | 'SoftwareVersion'>): string {
  return JSON.stringify([r.CveId, r.SoftwareVendor, r.SoftwareName, r.SoftwareVersion]);
}

/** Rows that are vulnerabilities: a CveId is stored (a row without one is software with no CVE). */
export function isVulnerability(r: { CveId?: unknown }): boolean {
  return typeof r.CveId === 'string' && r.CveId !== '';
}

function byVuln(a: VulnChange, b: VulnChange): number {
  return (
    compareKeys(a.CveId, b.CveId) ||
    compareKeys(a.SoftwareVendor, b.SoftwareVendor) ||
    compareKeys(a.SoftwareName, b.SoftwareName) ||
    compareKeys(a.SoftwareVersion, b.SoftwareVersion)
  );
}

/** new: a (CVE, product version) in `to` only; fixed: in `from` only; unchanged: in both. Sorted by CVE, vendor, name, version. */
export function diffVulnDevice(fromRows: readonly VulnRow[], toRows: readonly VulnRow[]): { changes: VulnChange[]; unchanged: number } {
  const index = (rows: readonly VulnRow[]) => new Map(rows.filter(isVulnerability).map((r) => [vulnIdentity(r), r]));
  const from = index(fromRows);
  const to = index(toRows);
  const changes: VulnChange[] = [];
  let unchanged = 0;
  const record = (change: VulnChangeKind, r: VulnRow): VulnChange => ({
    change,
    DeviceId: r.DeviceId,
    CveId: r.CveId!,
    SoftwareVendor: r.SoftwareVendor,
    SoftwareName: r.SoftwareName,
    SoftwareVersion: r.SoftwareVersion,
  });
  for (const [k, r] of to) if (!from.has(k)) changes.push(record('new', r));
  for (const [k, r] of from) {
    if (to.has(k)) unchanged++;
    else changes.push(record('fixed', r));
  }
  return { changes: changes.sort(byVuln), unchanged };
}

// ------------------------------------------------------------------------------------------------

export interface ConfigRow {
  partitionKey: string;
  DeviceId: string;
  DeviceName?: string;
  ConfigurationId: string;
  ConfigurationName?: string;
  ConfigurationCategory?: string;
  ConfigurationImpact?: string;
  IsApplicable?: boolean;
  IsCompliant?: boolean;
}

export const CONFIG_SELECT = [
  'PartitionKey',
  'DeviceId',
  'ConfigurationId',
  'ConfigurationName',
  'ConfigurationCategory',
  'ConfigurationImpact',
  'IsApplicable',
  'IsCompliant',
];

/**
 * A configuration's state on a device: `not-applicable` (IsApplicable false), `compliant` / `noncompliant`
 * (applicable, IsCompliant true / false), `unknown` (a flag not stored), `absent` (no row).
 */
export type ConfigState = 'compliant' | 'noncompliant' | 'not-applicable' | 'unknown' | 'absent';

export type ConfigChangeKind = 'became-compliant' | 'became-noncompliant' | 'added' | 'removed' | 'changed';

/** One JSON line of `diff --kind SecureConfigurations --json`: keys in this order. */
export const CONFIG_DIFF_COLUMNS = ['change', 'DeviceId', 'ConfigurationId', 'ConfigurationName', 'fromState', 'toState'] as const;

export interface ConfigChange {
  change: ConfigChangeKind;
  DeviceId: string;
  ConfigurationId: string;
  ConfigurationName: string | null;
  fromState: ConfigState;
  toState: ConfigState;
}

export type ConfigTotals = Record<ConfigChangeKind | 'unchanged', number>;

export function emptyConfigTotals(): ConfigTotals {
  return { 'became-compliant': 0, 'became-noncompliant': 0, added: 0, removed: 0, changed: 0, unchanged: 0 };
}

export function configState(r: Pick<ConfigRow, 'IsApplicable' | 'IsCompliant'> | undefined): ConfigState {
  if (!r) return 'absent';
  if (r.IsApplicable === false) return 'not-applicable';
  if (r.IsApplicable !== true) return 'unknown';
  return r.IsCompliant === true ? 'compliant' : r.IsCompliant === false ? 'noncompliant' : 'unknown';
}

/** Failing = applicable and not compliant (what `device` lists). */
export function isFailing(r: Pick<ConfigRow, 'IsApplicable' | 'IsCompliant'>): boolean {
  return configState(r) === 'noncompliant';
}

/**
 * The change of one configuration: noncompliant → compliant is `became-compliant`, compliant → noncompliant
 * `became-noncompliant`; appearing is `added` and disappearing `removed` (whatever the state); any other
 * change of state (to or from not-applicable or unknown) is `changed`; the same state is unchanged (undefined).
 */
export function configChangeKind(from: ConfigState, to: ConfigState): ConfigChangeKind | undefined {
  if (from === to) return undefined;
  if (from === 'noncompliant' && to === 'compliant') return 'became-compliant';
  if (from === 'compliant' && to === 'noncompliant') return 'became-noncompliant';
  if (from === 'absent') return 'added';
  if (to === 'absent') return 'removed';
  return 'changed';
}

/** Changes of one device, sorted by ConfigurationId, and the count of configurations whose state stayed. */
export function diffConfigDevice(fromRows: readonly ConfigRow[], toRows: readonly ConfigRow[]): { changes: ConfigChange[]; unchanged: number } {
  const from = new Map(fromRows.map((r) => [r.ConfigurationId, r]));
  const to = new Map(toRows.map((r) => [r.ConfigurationId, r]));
  const ids = [...new Set([...from.keys(), ...to.keys()])].sort(compareKeys);
  const changes: ConfigChange[] = [];
  let unchanged = 0;
  for (const id of ids) {
    const a = from.get(id);
    const b = to.get(id);
    const fromState = configState(a);
    const toState = configState(b);
    const change = configChangeKind(fromState, toState);
    if (!change) {
      unchanged++;
      continue;
    }
    const r = (b ?? a)!;
    changes.push({
      change,
      DeviceId: r.DeviceId,
      ConfigurationId: id,
      ConfigurationName: b?.ConfigurationName ?? a?.ConfigurationName ?? null,
      fromState,
      toState,
    });
  }
  return { changes, unchanged };
}
