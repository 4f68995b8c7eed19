// `diff --kind SoftwareVulnerabilities|SecureConfigurations` (docs/query.md#diff-of-the-other-kinds): both
// tables streamed side by side and merge-joined by device (join.ts), as the inventory's diff does.
import { ParsedArgs } from '../args';
import { CsvWriter } from '../csv';
import { fromArray, joinPartitions } from '../join';
import {
  CONFIG_DIFF_COLUMNS,
  CONFIG_SELECT,
  ConfigChange,
  ConfigRow,
  diffConfigDevice,
  diffVulnDevice,
  emptyConfigTotals,
  VULN_DIFF_COLUMNS,
  VULN_SELECT,
  VulnChange,
  vulnIdentity,
  VulnRow,
  VulnTotals,
} from '../kindDiff';
import { ordered } from '../kindRows';
import { fmt, progress, Progress, renderTable } from '../output';
import { readEntities } from '../tableRead';
import { Context, diffPair, snapshotLine, tableOf } from './common';
import { lookupDevice } from './deviceLookup';

export type AssessmentKind = 'SoftwareVulnerabilities' | 'SecureConfigurations';

type Row = VulnRow & ConfigRow;

export async function kindDiffCommand(ctx: Context, args: ParsedArgs, kind: AssessmentKind): Promise<void> {
  const [a, b] = await diffPair(ctx, args, kind);
  const base = kind === 'SoftwareVulnerabilities' ? VULN_SELECT : CONFIG_SELECT;
  // human output names devices, which costs one more property per row
  const machine = args.json || args.csv;
  const select = machine ? base : [...base, 'DeviceName'];
  // --csv: one table of the change lines; the totals are no row of it, so they go to stderr (as the inventory diff's)
  const csv = args.csv ? new CsvWriter(ctx.io, kind === 'SoftwareVulnerabilities' ? VULN_DIFF_COLUMNS : CONFIG_DIFF_COLUMNS) : undefined;

  let sources: AsyncIterable<Row>[];
  let by: string | undefined;
  let bar: Progress | undefined;
  const scanned = [0, 0];
  if (args.device !== undefined) {
    const found = await lookupDevice(ctx, [a, b], args.device, select);
    by = found.by;
    sources = found.rows.map((rows) => fromArray(rows as unknown as Row[]));
  } else {
    bar = progress(
      ctx.io,
      () => `diff: read ${fmt(scanned[0])} of ~${fmt(a.RowCount ?? 0)} rows of ${a.rowKey} and ${fmt(scanned[1])} of ~${fmt(b.RowCount ?? 0)} of ${b.rowKey}`,
    );
    sources = [a, b].map((s, i) =>
      readEntities<Row>(tableOf(ctx, s), s.rowKey, {
        select,
        scan: true,
        onPage: (n) => {
          scanned[i] += n;
          bar?.tick();
        },
      }),
    );
  }
  if (!machine) {
    await ctx.io.out(
      `${kind} changes from ${snapshotLine(a)}\n${' '.repeat(kind.length + 1)}          to ${snapshotLine(b)}${by ? `\nfor device "${args.device}" (matched by ${by})` : ''}\n\n`,
    );
  }
  const vulnTotals: VulnTotals = { new: 0, fixed: 0, unchanged: 0 };
  const configTotals = emptyConfigTotals();
  let lines = 0;
  try {
    for await (const d of joinPartitions(sources, ['from', 'to'])) {
      const [fromRows, toRows] = d.rows;
      let out = '';
      let records: readonly object[] = [];
      if (kind === 'SoftwareVulnerabilities') {
        const { changes, unchanged } = diffVulnDevice(fromRows, toRows);
        vulnTotals.unchanged += unchanged;
        for (const c of changes) vulnTotals[c.change]++;
        records = changes;
        if (!csv) out = args.json ? changes.map((c) => `${JSON.stringify(ordered(VULN_DIFF_COLUMNS, c))}\n`).join('') : vulnBlock(changes, fromRows, toRows);
        lines += changes.length;
      } else {
        const { changes, unchanged } = diffConfigDevice(fromRows, toRows);
        configTotals.unchanged += unchanged;
        for (const c of changes) configTotals[c.change]++;
        records = changes;
        if (!csv)
          out = args.json ? changes.map((c) => `${JSON.stringify(ordered(CONFIG_DIFF_COLUMNS, c))}\n`).join('') : configBlock(changes, fromRows, toRows);
        lines += changes.length;
      }
      if (records.length) bar?.done(); // a progress line on the same terminal would garble the output
      if (csv) for (const c of records) await csv.add(c);
      if (out) await ctx.io.out(out);
    }
  } finally {
    bar?.done();
  }
  const totals = kind === 'SoftwareVulnerabilities' ? vulnTotals : configTotals;
  if (args.json) {
    await ctx.io.out(`${JSON.stringify({ totals })}\n`);
    return;
  }
  if (csv) {
    await csv.end();
    ctx.io.err(
      `totals: ${Object.entries(totals as Record<string, number>)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}\n`,
    );
    return;
  }
  const what = kind === 'SoftwareVulnerabilities' ? '(device, CVE, product version)' : '(device, configuration)';
  const parts = Object.entries(totals as Record<string, number>).map(([k, n]) => `${k} ${fmt(n)}`);
  await ctx.io.out(`${lines === 0 ? 'No differences.\n' : ''}\nTotals ${what}: ${parts.join(', ')}.\n`);
}

function deviceHeader(fromRows: readonly Row[], toRows: readonly Row[]): string {
  const d = toRows[0] ?? fromRows[0];
  return `${d?.DeviceName ?? '(no name)'}  ${d?.DeviceId ?? ''}\n`;
}

/** The change lines of one device, indented under its name, aligned within the block. */
function block(fromRows: readonly Row[], toRows: readonly Row[], cells: string[][]): string {
  if (cells.length === 0) return '';
  const table = renderTable(
    cells[0].map(() => ''),
    cells,
  )
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((l) => `  ${l}\n`)
    .join('');
  return deviceHeader(fromRows, toRows) + table;
}

function vulnBlock(changes: readonly VulnChange[], fromRows: readonly Row[], toRows: readonly Row[]): string {
  const rows = new Map([...fromRows, ...toRows].map((r) => [vulnIdentity(r), r]));
  return block(
    fromRows,
    toRows,
    changes.map((c) => {
      const r = rows.get(vulnIdentity(c));
      const cvss = typeof r?.CvssScore === 'number' ? r.CvssScore.toFixed(1) : '-';
      return [c.change, c.CveId, c.SoftwareVendor, c.SoftwareName, c.SoftwareVersion, r?.VulnerabilitySeverityLevel ?? '-', cvss];
    }),
  );
}

function configBlock(changes: readonly ConfigChange[], fromRows: readonly Row[], toRows: readonly Row[]): string {
  return block(
    fromRows,
    toRows,
    changes.map((c) => [c.change, c.ConfigurationId, c.ConfigurationName ?? '-', `${c.fromState} -> ${c.toState}`]),
  );
}

export function isAssessmentKind(kind: string | undefined): kind is AssessmentKind {
  return kind === 'SoftwareVulnerabilities' || kind === 'SecureConfigurations';
}
