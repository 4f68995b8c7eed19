// `npm run audit`: the production dependency tree checked for known vulnerabilities.
// Live: `npm audit --omit=dev` against the registry's advisory API. Where that API cannot be reached
// (some mirrors answer it 405), the tree in package-lock.json is checked against the advisories recorded in
// security/known-advisories.json instead, and the output says plainly that this is not a live audit.
// High, critical and unrated findings fail the run unless security/audit-exceptions.json explains them.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { ROOT } from '../root';

export type Severity = 'info' | 'low' | 'moderate' | 'high' | 'critical' | 'unrated';

export interface Finding {
  package: string;
  /** installed version (known-advisory check) or the vulnerable range npm reported (live) */
  version: string;
  id: string;
  severity: Severity;
  title: string;
}

export interface KnownAdvisory {
  package: string;
  id: string;
  cve?: string;
  severity: Severity;
  /** semver range of affected versions */
  vulnerable: string;
  title: string;
}

export interface KnownAdvisories {
  recorded: string;
  advisories: KnownAdvisory[];
}

/** `exceptions`: advisory id → why it is accepted */
export interface AuditExceptions {
  exceptions: Record<string, string>;
}

/** The shape of `npm audit --json` (auditReportVersion 2) that matters here. */
interface NpmAuditReport {
  vulnerabilities?: Record<
    string,
    { name: string; severity: Severity; via: (string | { name: string; title: string; url?: string; source?: number; severity: Severity; range: string })[] }
  >;
  message?: string;
  statusCode?: number;
  error?: { code?: string; summary?: string; detail?: string };
}

export const BLOCKING: ReadonlySet<Severity> = new Set<Severity>(['high', 'critical', 'unrated']);

/** Every package npm installs for production (`npm ci --omit=dev`), from a v2/v3 lockfile. */
export function productionPackages(lock: {
  packages?: Record<string, { version?: string; dev?: boolean; link?: boolean }>;
}): { name: string; version: string }[] {
  const out = new Map<string, { name: string; version: string }>();
  for (const [path, p] of Object.entries(lock.packages ?? {})) {
    if (!path || p.dev || p.link || !p.version) continue;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    out.set(`${name}@${p.version}`, { name, version: p.version });
  }
  return [...out.values()].sort((a, b) => (a.name === b.name ? semver.compare(a.version, b.version) : a.name < b.name ? -1 : 1));
}

export function matchKnownAdvisories(pkgs: { name: string; version: string }[], known: KnownAdvisories): Finding[] {
  const findings: Finding[] = [];
  for (const a of known.advisories) {
    if (!semver.validRange(a.vulnerable)) throw new Error(`security/known-advisories.json: ${a.id} has an invalid range "${a.vulnerable}"`);
    for (const p of pkgs) {
      if (p.name === a.package && semver.satisfies(p.version, a.vulnerable, { includePrerelease: true })) {
        findings.push({ package: p.name, version: p.version, id: a.id, severity: a.severity, title: a.title });
      }
    }
  }
  return findings;
}

/** Findings from `npm audit --json`, or why there are none: output that is not an audit report means the API was not reached. */
export function parseNpmAudit(stdout: string): { findings: Finding[] } | { unreachable: string } {
  let report: NpmAuditReport;
  try {
    report = JSON.parse(stdout) as NpmAuditReport;
  } catch {
    return { unreachable: `npm audit printed no JSON report (${stdout.trim().slice(0, 200) || 'no output'})` };
  }
  if (!report.vulnerabilities) {
    const why = report.message ?? report.error?.summary ?? report.error?.code ?? 'no vulnerabilities section in the report';
    return { unreachable: why };
  }
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const v of Object.values(report.vulnerabilities)) {
    for (const via of v.via) {
      // a string is a dependency through which a vulnerability reaches this package: it is reported under its own name
      if (typeof via === 'string') continue;
      const id = via.url?.match(/(GHSA-[\w-]+)/)?.[1] ?? (via.source !== undefined ? `npm-${via.source}` : (via.url ?? via.title));
      const key = `${via.name}|${id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      findings.push({ package: via.name, version: via.range, id, severity: via.severity, title: via.title });
    }
  }
  return { findings };
}

export function blockingFindings(findings: Finding[], exceptions: AuditExceptions): Finding[] {
  return findings.filter((f) => BLOCKING.has(f.severity) && !exceptions.exceptions[f.id]);
}

function table(findings: Finding[], exceptions: AuditExceptions): string {
  if (findings.length === 0) return '  (none)';
  return findings
    .map((f) => {
      const excused = exceptions.exceptions[f.id];
      return `  ${f.severity.padEnd(8)} ${f.id.padEnd(22)} ${`${f.package}@${f.version}`.padEnd(34)} ${f.title}${excused ? `\n           accepted: ${excused}` : ''}`;
    })
    .join('\n');
}

/** What `npm audit --json` printed; when npm could not be run at all, a report-shaped message saying why. */
function runNpmAudit(cwd: string): string {
  // under `npm run`, npm_execpath is npm's own CLI: run that one, not whatever `npm` is first on PATH
  const execPath = process.env.npm_execpath;
  const [cmd, args] = execPath && /npm-cli\.js$/.test(execPath) ? [process.execPath, [execPath]] : ['npm', []];
  const r = spawnSync(cmd, [...args, 'audit', '--omit=dev', '--json'], { cwd, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
  return r.error ? JSON.stringify({ message: `could not run npm audit (${r.error.message})` }) : (r.stdout ?? '');
}

export interface AuditRun {
  mode: 'live' | 'recorded';
  findings: Finding[];
  blocking: Finding[];
  exitCode: number;
  text: string;
}

export function audit(opts: { root: string; requireLive?: boolean; npmAuditOutput?: string }): AuditRun {
  const read = <T>(rel: string): T => JSON.parse(readFileSync(join(opts.root, rel), 'utf8')) as T;
  const exceptions = read<AuditExceptions>('security/audit-exceptions.json');
  const live = parseNpmAudit(opts.npmAuditOutput ?? runNpmAudit(opts.root));
  const lines: string[] = [];
  let mode: AuditRun['mode'];
  let findings: Finding[];
  if ('findings' in live) {
    mode = 'live';
    findings = live.findings;
    lines.push('npm audit --omit=dev (live advisory API):');
  } else {
    const known = read<KnownAdvisories>('security/known-advisories.json');
    const pkgs = productionPackages(read('package-lock.json'));
    mode = 'recorded';
    findings = matchKnownAdvisories(pkgs, known);
    lines.push(
      `The registry's advisory API could not be reached: ${live.unreachable}.`,
      `NOT a live audit: ${pkgs.length} production packages from package-lock.json checked against the ${known.advisories.length} advisories recorded on ${known.recorded} in security/known-advisories.json.`,
    );
  }
  const blocking = blockingFindings(findings, exceptions);
  lines.push(table(findings, exceptions));
  let exitCode = 0;
  if (blocking.length > 0) {
    exitCode = 1;
    lines.push(
      `${blocking.length} high, critical or unrated finding(s) without an explanation in security/audit-exceptions.json: upgrade, or explain each there and in docs/reliability.md (dependency audit).`,
    );
  } else {
    lines.push(`No unexplained high or critical finding (${findings.length} finding(s) in all).`);
    if (mode === 'recorded' && opts.requireLive) {
      exitCode = 3;
      lines.push('--require-live: failing because the live audit could not run.');
    }
  }
  return { mode, findings, blocking, exitCode, text: lines.join('\n') };
}

if (require.main === module) {
  const r = audit({ root: ROOT, requireLive: process.argv.includes('--require-live') });
  (r.exitCode === 0 ? console.log : console.error)(r.text);
  process.exit(r.exitCode);
}
