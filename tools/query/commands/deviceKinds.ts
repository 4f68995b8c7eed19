// `device` over several export kinds (docs/query.md#device-and-the-other-kinds): the device's software,
// software without a product code, open vulnerabilities and failing configurations, one section per kind
// that has snapshots. The device is looked up as `device` always did (deviceLookup.ts) in the first kind
// that knows it; the other kinds are point queries on the same partitions.
import { odata } from '@azure/data-tables';
import { ExportKind, SOFTWARE_INVENTORY } from '../../../shared/core/contracts';
import { EXPORT_KIND_NAMES, kindSpec } from '../../../shared/kinds/exportKinds';
import { ParsedArgs } from '../args';
import { recordSink } from '../csv';
import { NotFoundError } from '../errors';
import { asText, fmt, printable, renderTable, shortTime } from '../output';
import { kindRow, storedColumns } from '../kindRows';
import { isFailing, isVulnerability } from '../kindDiff';
import { outputRow, StoredRow } from '../rows';
import { CatalogRow, isComplete, loadAllCatalogs, loadCatalog, parseSnapshotSpec, Resolved, resolveSnapshots } from '../snapshots';
import { readAll } from '../tableRead';
import { Context, snapshotLine, tableOf, warn } from './common';
import { groupByPartition, inventoryBlock } from './device';
import { DeviceLookup, lookupDevice } from './deviceLookup';

export interface KindSection {
  kind: ExportKind;
  snapshots: CatalogRow[];
  /** the device's rows per snapshot */
  rows: StoredRow[][];
}

export interface DeviceView {
  by: string;
  sections: KindSection[];
}

/**
 * `--at` for a kind other than the one the device is looked up in: an id names one kind's export, so in the
 * other kinds it means "as of then": the newest complete snapshot generated at or before it. Dates, latest
 * and ranges mean what they mean everywhere.
 */
export function resolveAsOf(text: string, rows: readonly CatalogRow[], kind: ExportKind): Resolved {
  const items = text.split(',').map((item) => {
    const t = item.trim();
    if (t.includes('..')) return t;
    const spec = parseSnapshotSpec(t);
    if (spec.kind !== 'id') return t;
    const hit = rows.find((r) => isComplete(r) && r.rowKey <= spec.id);
    if (!hit) throw new NotFoundError(`no complete ${kind} snapshot generated at or before ${spec.id}`);
    return hit.rowKey;
  });
  return resolveSnapshots(items.join(','), rows, kind);
}

/**
 * The kinds to show and the device's rows in each, or undefined when only the inventory is to be shown
 * (--kind SoftwareInventory, or no other kind has snapshots): then `device` prints exactly as before kinds.
 */
export async function deviceView(ctx: Context, args: ParsedArgs): Promise<DeviceView | undefined> {
  if (args.kind === SOFTWARE_INVENTORY) return undefined;
  const catalogs = args.kind ? new Map([[args.kind, await loadCatalog(ctx.catalog, args.kind)]]) : await loadAllCatalogs(ctx.catalog);
  if (!args.kind && [...catalogs.keys()].every((k) => k === SOFTWARE_INVENTORY)) return undefined;
  const at = args.at ?? 'latest';
  // the first kind (the inventory when it has snapshots) resolves --at strictly, as `device` always did
  const [primary, ...others] = [...catalogs.keys()];
  const resolved = new Map<ExportKind, Resolved>([[primary, resolveSnapshots(at, catalogs.get(primary)!, primary)]]);
  for (const k of others) {
    try {
      resolved.set(k, resolveAsOf(at, catalogs.get(k)!, k));
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      ctx.io.err(`note: no ${k} section: ${printable(err.message)}\n`);
    }
  }
  for (const r of resolved.values()) warn(ctx.io, r.warnings);

  const kinds = [...resolved.keys()];
  const query = args.positionals[0];
  let found: DeviceLookup | undefined;
  let foundIn: ExportKind | undefined;
  let firstMiss: unknown;
  for (const k of kinds) {
    try {
      found = await lookupDevice(ctx, resolved.get(k)!.snapshots, query);
      foundIn = k;
      break;
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      firstMiss ??= err;
    }
  }
  if (!found || !foundIn) throw firstMiss;
  const keys = [...new Set(found.rows.flat().map((r) => r.partitionKey))].sort();
  const sections: KindSection[] = [];
  for (const k of kinds) {
    const snapshots = resolved.get(k)!.snapshots;
    const rows =
      k === foundIn
        ? found.rows
        : await Promise.all(
            snapshots.map(async (s) =>
              (await Promise.all(keys.map((key) => readAll<StoredRow>(tableOf(ctx, s), s.rowKey, { filter: odata`PartitionKey eq ${key}` })))).flat(),
            ),
          );
    sections.push({ kind: k, snapshots, rows });
  }
  return { by: `${found.by}${foundIn === primary ? '' : ` in ${foundIn}`}`, sections };
}

/**
 * --csv columns of the device sections (docs/query.md#csv-output): `SnapshotId`, `Kind`, then the documented
 * columns of `kinds` (registry order of kinds and of columns; a name several kinds share, such as DeviceName or
 * DiskPaths, is one column, where it first appears), then the `<Name>Truncated` flags. One sheet a spreadsheet
 * can filter on Kind; the columns depend only on `kinds` (--kind, else every registered kind), never on which
 * kinds have rows.
 */
export function deviceKindsCsvColumns(kinds: readonly ExportKind[]): string[] {
  const columns = new Set(['SnapshotId', 'Kind']);
  const flags = new Set<string>();
  for (const k of kinds) {
    for (const c of storedColumns(k)) columns.add(c);
    for (const c of kindSpec(k).columns) if (c.type === 'stringArray') flags.add(`${c.name}Truncated`);
  }
  return [...columns, ...flags];
}

export async function deviceKindsOutput(ctx: Context, args: ParsedArgs, view: DeviceView): Promise<void> {
  if (args.json || args.csv) {
    // JSON: inventory rows exactly as before kinds; every other kind's rows carry Kind and its documented columns.
    // CSV: the same records in one table, where the inventory's rows name their Kind too (a blank cell filters badly).
    const arr = recordSink(ctx.io, args, deviceKindsCsvColumns(args.kind ? [args.kind] : EXPORT_KIND_NAMES));
    for (const sec of view.sections) {
      for (let i = 0; i < sec.snapshots.length; i++) {
        const id = sec.snapshots[i].rowKey;
        for (const r of sec.rows[i]) {
          if (sec.kind !== SOFTWARE_INVENTORY) await arr.add(kindRow(sec.kind, r, id));
          else await arr.add(args.csv ? { ...outputRow(r, id), Kind: SOFTWARE_INVENTORY } : outputRow(r, id));
        }
      }
    }
    await arr.end();
    return;
  }
  let text = '';
  const devices = new Set<string>();
  for (const sec of view.sections) {
    for (let i = 0; i < sec.snapshots.length; i++) {
      const s = sec.snapshots[i];
      const groups = groupByPartition(sec.rows[i]);
      if (groups.length === 0) text += `${text ? '\n' : ''}${SECTION_TITLE[sec.kind]}: the device has no rows in ${snapshotLine(s)}.\n`;
      for (const rows of groups) {
        devices.add(rows[0].partitionKey);
        text += `${text ? '\n' : ''}${sectionBlock(sec.kind, s, rows, view.by)}`;
      }
    }
  }
  if (devices.size > 1) text += `\n${devices.size} devices matched "${args.positionals[0]}" (by ${view.by}).\n`;
  await ctx.io.out(text);
}

const SECTION_TITLE: Record<ExportKind, string> = {
  SoftwareInventory: 'Software',
  NonCpeSoftwareInventory: 'Software without a product code',
  SoftwareVulnerabilities: 'Open vulnerabilities',
  SecureConfigurations: 'Failing configurations',
};

const SEVERITY_ORDER = ['critical', 'high', 'medium', 'low'];

function severityRank(v: unknown): number {
  const i = SEVERITY_ORDER.indexOf(asText(v ?? '').toLowerCase());
  return i < 0 ? SEVERITY_ORDER.length : i;
}

const cell = (v: unknown) => (v === undefined || v === null || v === '' ? '-' : asText(v));

function sectionBlock(kind: ExportKind, s: CatalogRow, rows: readonly StoredRow[], by: string): string {
  if (kind === SOFTWARE_INVENTORY) return inventoryBlock(s, rows, by);
  const d = rows[0];
  let out = `${SECTION_TITLE[kind]} of ${d.DeviceName ?? '(no name)'}  DeviceId ${d.DeviceId}\nIn ${snapshotLine(s)}; matched by ${by}\n\n`;
  if (kind === 'NonCpeSoftwareInventory') {
    out += renderTable(
      ['vendor', 'name', 'version', 'last seen (UTC)'],
      rows.map((r) => [cell(r.SoftwareVendor), cell(r.SoftwareName), cell(r.SoftwareVersion), shortTime(r.SoftwareLastSeenTimestamp)]),
    );
    return `${out}\n${fmt(rows.length)} row${rows.length === 1 ? '' : 's'}.\n`;
  }
  if (kind === 'SoftwareVulnerabilities') {
    const open = rows.filter((r) => isVulnerability(r as { CveId?: unknown }));
    open.sort(
      (a, b) =>
        severityRank(a.VulnerabilitySeverityLevel) - severityRank(b.VulnerabilitySeverityLevel) ||
        Number(b.CvssScore ?? -1) - Number(a.CvssScore ?? -1) ||
        String(a.CveId).localeCompare(String(b.CveId)),
    );
    if (open.length) {
      out += renderTable(
        ['cve', 'severity', 'cvss', 'exploitability', 'vendor', 'name', 'version', 'first seen (UTC)', 'update available'],
        open.map((r) => [
          cell(r.CveId),
          cell(r.VulnerabilitySeverityLevel),
          typeof r.CvssScore === 'number' ? r.CvssScore.toFixed(1) : '-',
          cell(r.ExploitabilityLevel),
          cell(r.SoftwareVendor),
          cell(r.SoftwareName),
          cell(r.SoftwareVersion),
          shortTime(r.FirstSeenTimestamp),
          r.SecurityUpdateAvailable === true ? 'yes' : r.SecurityUpdateAvailable === false ? 'no' : '-',
        ]),
        ['left', 'left', 'right'],
      );
    }
    const cves = new Set(open.map((r) => r.CveId)).size;
    const bySeverity = new Map<string, number>();
    for (const r of open) bySeverity.set(cell(r.VulnerabilitySeverityLevel), (bySeverity.get(cell(r.VulnerabilitySeverityLevel)) ?? 0) + 1);
    const spread = [...bySeverity].sort((a, b) => severityRank(a[0]) - severityRank(b[0])).map(([sev, n]) => `${fmt(n)} ${sev}`);
    const noCve = rows.length - open.length;
    return `${out}${open.length ? '\n' : ''}${fmt(open.length)} open vulnerabilit${open.length === 1 ? 'y' : 'ies'} (${fmt(cves)} CVE${cves === 1 ? '' : 's'}${spread.length ? `: ${spread.join(', ')}` : ''}); ${fmt(noCve)} product version${noCve === 1 ? '' : 's'} without a CVE.\n`;
  }
  // SecureConfigurations: failing = applicable and not compliant, highest impact first
  const failing = rows.filter((r) => isFailing(r as { IsApplicable?: boolean; IsCompliant?: boolean }));
  failing.sort(
    (a, b) => Number(b.ConfigurationImpact ?? 0) - Number(a.ConfigurationImpact ?? 0) || String(a.ConfigurationId).localeCompare(String(b.ConfigurationId)),
  );
  if (failing.length) {
    out += renderTable(
      ['configuration', 'name', 'category', 'impact'],
      failing.map((r) => [cell(r.ConfigurationId), cell(r.ConfigurationName), cell(r.ConfigurationCategory), cell(r.ConfigurationImpact)]),
      ['left', 'left', 'left', 'right'],
    );
  }
  const applicable = rows.filter((r) => r.IsApplicable === true).length;
  return `${out}${failing.length ? '\n' : ''}${fmt(failing.length)} failing of ${fmt(applicable)} applicable configuration${applicable === 1 ? '' : 's'} (${fmt(rows.length)} assessed).\n`;
}
