// `npm run audit`: the decision rules on npm's real report shapes, the recorded-advisory fallback on this
// repository's own lockfile, and the command itself (offline: the registry's advisory API is unreachable here).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { audit, blockingFindings, KnownAdvisories, matchKnownAdvisories, parseNpmAudit, productionPackages } from '../../tools/bin/audit';

const root = join(__dirname, '..', '..');
const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'));
const known = JSON.parse(readFileSync(join(root, 'security/known-advisories.json'), 'utf8')) as KnownAdvisories;

// what npm 11 prints for `npm audit --json` when it finds something (auditReportVersion 2)
const REPORT = JSON.stringify({
  auditReportVersion: 2,
  vulnerabilities: {
    jws: {
      name: 'jws',
      severity: 'high',
      isDirect: false,
      via: [
        {
          source: 1111244,
          name: 'jws',
          dependency: 'jws',
          title: 'auth0/node-jws Improperly Verifies HMAC Signature',
          url: 'https://github.com/advisories/GHSA-869p-cjfg-cm3x',
          severity: 'high',
          range: '<3.2.3',
        },
      ],
      effects: ['jsonwebtoken'],
      range: '<3.2.3',
      nodes: ['node_modules/jws'],
      fixAvailable: true,
    },
    jsonwebtoken: {
      name: 'jsonwebtoken',
      severity: 'high',
      isDirect: false,
      via: ['jws'],
      effects: [],
      range: '8.0.0 - 8.5.1',
      nodes: ['node_modules/jsonwebtoken'],
      fixAvailable: true,
    },
    cookie: {
      name: 'cookie',
      severity: 'low',
      via: [
        {
          source: 1099846,
          name: 'cookie',
          title: 'cookie accepts cookie name, path, and domain with out of bounds characters',
          url: 'https://github.com/advisories/GHSA-pxg6-pf52-xh8x',
          severity: 'low',
          range: '<0.7.0',
        },
      ],
    },
  },
  metadata: { vulnerabilities: { info: 0, low: 1, moderate: 0, high: 2, critical: 0, total: 3 } },
});

// what npm 11 printed here, where the registry refuses the advisory endpoint
const UNREACHABLE = JSON.stringify({
  message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
  method: 'POST',
  statusCode: 405,
  body: '',
  error: { summary: '', detail: '' },
});

describe('npm run audit', () => {
  it('reads advisories from a live report, once each, under the package they belong to', () => {
    const r = parseNpmAudit(REPORT);
    expect('findings' in r && r.findings).toEqual([
      { package: 'jws', version: '<3.2.3', id: 'GHSA-869p-cjfg-cm3x', severity: 'high', title: 'auth0/node-jws Improperly Verifies HMAC Signature' },
      {
        package: 'cookie',
        version: '<0.7.0',
        id: 'GHSA-pxg6-pf52-xh8x',
        severity: 'low',
        title: 'cookie accepts cookie name, path, and domain with out of bounds characters',
      },
    ]);
  });

  it('recognises an unreachable advisory API instead of reporting "clean"', () => {
    expect(parseNpmAudit(UNREACHABLE)).toEqual({ unreachable: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk' });
    expect(parseNpmAudit('')).toMatchObject({ unreachable: expect.stringContaining('no JSON report') });
  });

  it('blocks high, critical and unrated findings unless security/audit-exceptions.json explains them', () => {
    const findings = [
      { package: 'a', version: '1.0.0', id: 'GHSA-aaaa', severity: 'high' as const, title: 'x' },
      { package: 'b', version: '1.0.0', id: 'GHSA-bbbb', severity: 'critical' as const, title: 'x' },
      { package: 'c', version: '1.0.0', id: 'GHSA-cccc', severity: 'moderate' as const, title: 'x' },
      { package: 'd', version: '1.0.0', id: 'GHSA-dddd', severity: 'unrated' as const, title: 'x' },
    ];
    expect(blockingFindings(findings, { exceptions: {} }).map((f) => f.id)).toEqual(['GHSA-aaaa', 'GHSA-bbbb', 'GHSA-dddd']);
    expect(blockingFindings(findings, { exceptions: { 'GHSA-bbbb': 'not reachable: we never parse protobuf definitions' } }).map((f) => f.id)).toEqual([
      'GHSA-aaaa',
      'GHSA-dddd',
    ]);
  });

  it('takes the production tree from the lockfile: runtime packages in, dev-only packages out', () => {
    const pkgs = productionPackages(lock);
    const names = new Set(pkgs.map((p) => p.name));
    for (const n of ['@azure/data-tables', '@azure/identity', '@azure/msal-node', 'jws', 'fast-xml-parser', 'protobufjs']) expect(names).toContain(n);
    for (const n of ['jest', 'typescript', 'azurite', 'ts-jest']) expect(names).not.toContain(n);
    expect(pkgs.length).toBeGreaterThan(100);
  });

  it('matches recorded advisories by version range, and the locked tree matches none of them', () => {
    expect(
      matchKnownAdvisories(
        [
          { name: 'jws', version: '4.0.0' },
          { name: 'jws', version: '3.2.3' },
          { name: 'protobufjs', version: '7.5.4' },
        ],
        known,
      ).map((f) => `${f.package}@${f.version} ${f.id}`),
    ).toEqual(['jws@4.0.0 GHSA-869p-cjfg-cm3x', 'protobufjs@7.5.4 CVE-2026-41242']);
    expect(matchKnownAdvisories(productionPackages(lock), known)).toEqual([]);
  });

  it('says plainly when it fell back to the recorded advisories, and --require-live makes that a failure', () => {
    const r = audit({ root, npmAuditOutput: UNREACHABLE });
    expect(r).toMatchObject({ mode: 'recorded', exitCode: 0, blocking: [] });
    expect(r.text).toContain("The registry's advisory API could not be reached: 405 Method Not Allowed");
    expect(r.text).toMatch(/NOT a live audit: \d+ production packages from package-lock.json checked against the \d+ advisories recorded on \d{4}-\d\d-\d\d/);
    expect(audit({ root, npmAuditOutput: UNREACHABLE, requireLive: true }).exitCode).toBe(3);
  });

  it('fails on an unexplained high finding from a live report, and passes once it is explained', () => {
    const r = audit({ root, npmAuditOutput: REPORT });
    expect(r).toMatchObject({ mode: 'live', exitCode: 1 });
    expect(r.text).toContain('1 high, critical or unrated finding(s) without an explanation');

    const dir = mkdtempSync(join(tmpdir(), 'audit-'));
    mkdirSync(join(dir, 'security'));
    writeFileSync(
      join(dir, 'security/audit-exceptions.json'),
      JSON.stringify({ exceptions: { 'GHSA-869p-cjfg-cm3x': 'only HMAC verification is affected; MSAL verifies no tokens here' } }),
    );
    const ok = audit({ root: dir, npmAuditOutput: REPORT });
    expect(ok.exitCode).toBe(0);
    expect(ok.text).toContain('accepted: only HMAC verification is affected');
  });

  it('the command, end to end and offline (npm pointed at a closed port): falls back, says so, exits 0', () => {
    const env = { ...process.env, npm_config_registry: 'http://127.0.0.1:9/', npm_config_fetch_retries: '0', npm_config_offline: 'false' };
    const r = spawnSync(process.execPath, [require.resolve('ts-node/dist/bin.js'), '--transpile-only', join(root, 'tools/bin/audit.ts')], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 150_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('NOT a live audit');
    expect(r.stdout).toContain('No unexplained high or critical finding (0 finding(s) in all).');
  }, 180_000);
});
