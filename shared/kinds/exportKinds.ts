// The export kinds as data (docs/kinds.md): one entry per Defender per-device assessment. Everything the
// pipeline does for a kind — which endpoints to call, which permission a refusal names, how a record maps
// to a row, which columns make the RowKey — is read from here, so a further kind (browser extensions,
// certificates, firmware) is a new entry, not a new code path.

/**
 * How a source value becomes a stored property. Tolerant where Defender's docs and payloads disagree:
 * - `string`: a JSON string (cut to nothing: over 32,768 characters is a reject).
 * - `int32`: a whole JSON number in 32-bit range (the inventory's documented type; strings are rejected).
 * - `double`: a finite JSON number, or a string holding one (`"9.8"`); stored Edm.Double even when integral.
 * - `boolean`: `true`/`false`, or the strings `"true"`/`"false"` (any case).
 * - `decimalString`: documented string, examples show a number: a JSON number is stored as its decimal text,
 *   a string as received — one type (String) per column in every table.
 * - `datetime`: `yyyy-MM-dd HH:mm:ss[.fffffff]` (no zone = UTC) or ISO 8601; stored DateTime UTC; a date
 *   Table Storage cannot hold (outside 1601..9999) is left off the row and counted, not rejected.
 * - `stringArray`: a JSON array of strings, stored as its JSON text, cut to whole elements at 32,768
 *   characters with `<Name>Truncated = true`.
 */
export type ColumnType = 'string' | 'int32' | 'double' | 'boolean' | 'decimalString' | 'datetime' | 'stringArray';

export interface ColumnSpec {
  /** the documented (PascalCase) name; source keys match it case-insensitively (payloads are camelCase) */
  name: string;
  type: ColumnType;
  /** the stored property name, when the documented one cannot be stored (Table Storage's own `Timestamp`) */
  storeAs?: string;
  /** a missing, null or empty value rejects the record */
  required?: boolean;
}

export interface ExportKindSpec {
  /** the `EXPORT_KINDS` value, the catalog partition and the snapshot-table prefix */
  kind: string;
  /** one-line description for docs and the CLI */
  title: string;
  /** via files: GET → { exportFiles, generatedTime } */
  filesPath: string;
  /** JSON: paged GET → { value, @odata.nextLink } */
  jsonPath: string;
  /** the application permission Defender wants; named in the error when the call is refused (401/403) */
  permission: string;
  /**
   * The columns after DeviceId that make the RowKey, in key order, escaped and `|`-joined (docs/kinds.md).
   * A key column that is not `required` may be null or missing: it is an empty key part and no property.
   */
  keyColumns: readonly string[];
  /** every documented column, DeviceId included; anything else in a record is ignored and counted per file */
  columns: readonly ColumnSpec[];
  /** typical stored bytes per row, for capacity notes and the benchmark */
  approxRowBytes: number;
}

const DEVICE: readonly ColumnSpec[] = [
  { name: 'DeviceId', type: 'string', required: true },
  { name: 'DeviceName', type: 'string' },
  { name: 'OSPlatform', type: 'string' },
  { name: 'RbacGroupName', type: 'string' },
];

const PRODUCT: readonly ColumnSpec[] = [
  { name: 'SoftwareVendor', type: 'string', required: true },
  { name: 'SoftwareName', type: 'string', required: true },
  { name: 'SoftwareVersion', type: 'string', required: true },
];

export const EXPORT_KINDS = [
  {
    kind: 'SoftwareInventory',
    title: 'software inventory (products with a CPE)',
    filesPath: '/api/machines/SoftwareInventoryExport',
    jsonPath: '/api/machines/SoftwareInventoryByMachine',
    permission: 'Software.Read.All',
    keyColumns: ['SoftwareVendor', 'SoftwareName', 'SoftwareVersion'],
    columns: [
      ...DEVICE,
      ...PRODUCT,
      { name: 'EndOfSupportStatus', type: 'string' },
      { name: 'NumberOfWeaknesses', type: 'int32' },
      { name: 'SoftwareFirstSeenTimestamp', type: 'datetime' },
      { name: 'EndOfSupportDate', type: 'datetime' },
      { name: 'DiskPaths', type: 'stringArray' },
      { name: 'RegistryPaths', type: 'stringArray' },
    ],
    approxRowBytes: 500,
  },
  {
    kind: 'NonCpeSoftwareInventory',
    title: 'software inventory without a product code (non-CPE: line-of-business and unrecognised apps)',
    filesPath: '/api/machines/SoftwareInventoryNonCpeExport',
    jsonPath: '/api/machines/SoftwareInventoryNoProductCodeByMachine',
    permission: 'Software.Read.All',
    keyColumns: ['SoftwareVendor', 'SoftwareName', 'SoftwareVersion'],
    columns: [...DEVICE, { name: 'RbacGroupId', type: 'decimalString' }, ...PRODUCT, { name: 'SoftwareLastSeenTimestamp', type: 'datetime' }],
    approxRowBytes: 500,
  },
  {
    kind: 'SoftwareVulnerabilities',
    title: 'software vulnerabilities (one row per device, product version and CVE; a null CVE is a valid row)',
    filesPath: '/api/machines/SoftwareVulnerabilitiesExport',
    jsonPath: '/api/machines/SoftwareVulnerabilitiesByMachine',
    permission: 'Vulnerability.Read.All',
    keyColumns: ['SoftwareVendor', 'SoftwareName', 'SoftwareVersion', 'CveId'],
    columns: [
      ...DEVICE,
      ...PRODUCT,
      { name: 'CveId', type: 'string' },
      { name: 'CvssScore', type: 'double' },
      { name: 'VulnerabilitySeverityLevel', type: 'string' },
      { name: 'ExploitabilityLevel', type: 'string' },
      { name: 'FirstSeenTimestamp', type: 'datetime' },
      { name: 'LastSeenTimestamp', type: 'datetime' },
      { name: 'Id', type: 'string' },
      { name: 'RecommendationReference', type: 'string' },
      { name: 'RecommendedSecurityUpdate', type: 'string' },
      { name: 'RecommendedSecurityUpdateId', type: 'string' },
      { name: 'SecurityUpdateAvailable', type: 'boolean' },
      { name: 'DiskPaths', type: 'stringArray' },
      { name: 'RegistryPaths', type: 'stringArray' },
    ],
    approxRowBytes: 1000,
  },
  {
    kind: 'SecureConfigurations',
    title: 'secure configuration assessment (one row per device and configuration)',
    filesPath: '/api/machines/SecureConfigurationsAssessmentExport',
    jsonPath: '/api/machines/SecureConfigurationsAssessmentByMachine',
    permission: 'Vulnerability.Read.All',
    keyColumns: ['ConfigurationId'],
    columns: [
      ...DEVICE,
      { name: 'ConfigurationId', type: 'string', required: true },
      { name: 'ConfigurationName', type: 'string' },
      { name: 'ConfigurationCategory', type: 'string' },
      { name: 'ConfigurationSubcategory', type: 'string' },
      { name: 'ConfigurationImpact', type: 'decimalString' },
      { name: 'IsApplicable', type: 'boolean' },
      { name: 'IsCompliant', type: 'boolean' },
      { name: 'IsExpectedUserImpact', type: 'boolean' },
      { name: 'RecommendationReference', type: 'string' },
      // Table Storage's own Timestamp property would silently win over a stored one of that name
      { name: 'Timestamp', type: 'datetime', storeAs: 'AssessmentTimestamp' },
    ],
    approxRowBytes: 450,
  },
] as const satisfies readonly ExportKindSpec[];

export type ExportKind = (typeof EXPORT_KINDS)[number]['kind'];

export const EXPORT_KIND_NAMES: readonly ExportKind[] = EXPORT_KINDS.map((k) => k.kind);

/** The least-permission default of EXPORT_KINDS, and the kind of every pre-kinds message and row. */
export const DEFAULT_KIND: ExportKind = 'SoftwareInventory';

const BY_NAME = new Map<string, ExportKindSpec>(EXPORT_KINDS.map((k) => [k.kind, k]));

export function isExportKind(value: unknown): value is ExportKind {
  return typeof value === 'string' && BY_NAME.has(value);
}

/** The kind's facts; throws for a name that is not registered (a programming error: inputs are validated first). */
export function kindSpec(kind: string): ExportKindSpec {
  const spec = BY_NAME.get(kind);
  if (!spec) throw new Error(`unknown export kind "${kind}" (known: ${EXPORT_KIND_NAMES.join(', ')})`);
  return spec;
}

/** The registered kind whose name equals `text` ignoring case, or undefined. */
export function findKind(text: string): ExportKind | undefined {
  const lower = text.toLowerCase();
  return EXPORT_KIND_NAMES.find((k) => k.toLowerCase() === lower);
}

/** The stored property name of a column. */
export function storedName(column: ColumnSpec): string {
  return column.storeAs ?? column.name;
}
