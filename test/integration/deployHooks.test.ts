/**
 * The azd postprovision hook (infra/hooks/postprovision.sh), run for real under sh (dash here) and bash
 * with a stand-in `az` first on PATH: a small script that answers the few calls the hook makes with
 * canned JSON/TSV, records every call, and keeps the granted app role ids in a file, so a POST shows up
 * in the next GET the way Microsoft Graph behaves. The PowerShell twin runs the same cases when pwsh exists.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EXPORT_KINDS } from '../../shared/kinds/exportKinds';

const ROOT = path.join(__dirname, '..', '..');
const SH_HOOK = path.join(ROOT, 'infra', 'hooks', 'postprovision.sh');
const PS_HOOK = path.join(ROOT, 'infra', 'hooks', 'postprovision.ps1');

const PRINCIPAL = '0f0f0f0f-1111-4222-8333-444444444444';
const DEFENDER_SP = '5e5e5e5e-aaaa-4bbb-8ccc-dddddddddddd';
const SOFTWARE_ROLE = '37f71c98-d198-41ae-964d-2c49aab74926';
const VULN_ROLE = '41269fc5-d04d-4bfd-bce7-43a51cea049a';

// The stand-in az. Scenario knobs: AZ_STATE (granted role ids, one a line), AZ_LOG, AZ_SIGNED_IN, AZ_POST_FAILS.
const STUB_AZ = `#!/bin/sh
printf '%s\\n' "$*" >> "$AZ_LOG"
case "$*" in
  "account show"*) [ "\${AZ_SIGNED_IN:-1}" = 1 ] && echo '{"user":{"name":"admin@contoso.com"}}' && exit 0; echo "ERROR: Please run 'az login' to setup account." >&2; exit 1 ;;
  *"ad sp show --id fc780465-2017-40d4-a0c5-307022471b92 --query id "*) echo ${DEFENDER_SP} ;;
  *"appRoles[?value=='Software.Read.All']"*) echo ${SOFTWARE_ROLE} ;;
  *"appRoles[?value=='Vulnerability.Read.All']"*) echo ${VULN_ROLE} ;;
  "rest --method GET "*"/servicePrincipals/${PRINCIPAL}/appRoleAssignments"*) cat "$AZ_STATE" ;;
  "rest --method POST "*"/servicePrincipals/${PRINCIPAL}/appRoleAssignments"*)
    [ "\${AZ_POST_FAILS:-0}" = 1 ] && echo "ERROR: Forbidden({\\"error\\":{\\"code\\":\\"Authorization_RequestDenied\\"}})" >&2 && exit 1
    body=$(printf '%s' "$*" | sed -n 's/.*--body \\([^ ]*\\).*/\\1/p')
    case "$body" in @*) body=$(cat "\${body#@}") ;; esac
    printf '%s' "$body" | sed -n 's/.*"appRoleId":"\\([^"]*\\)".*/\\1/p' >> "$AZ_STATE"
    echo '{"id":"assignment"}' ;;
  *) echo "stub az: unexpected call: $*" >&2; exit 2 ;;
esac
`;

interface Run {
  code: number | null;
  out: string;
  calls: string[];
  granted: string[];
}

let work: string;
let bin: string;

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'azd-hook-'));
  bin = path.join(work, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, 'az'), STUB_AZ, { mode: 0o755 });
});
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function run(shell: string[], env: Record<string, string>, granted: string[] = []): Run {
  const dir = fs.mkdtempSync(path.join(work, 'case-'));
  const state = path.join(dir, 'state');
  const log = path.join(dir, 'log');
  fs.writeFileSync(state, granted.map((g) => `${g}\n`).join(''));
  fs.writeFileSync(log, '');
  const r = spawnSync(shell[0], shell.slice(1), {
    env: { PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}`, HOME: dir, AZ_STATE: state, AZ_LOG: log, ...env },
    encoding: 'utf8',
  });
  return {
    code: r.status,
    out: `${r.stdout}${r.stderr}`,
    calls: fs.readFileSync(log, 'utf8').split('\n').filter(Boolean),
    granted: fs.readFileSync(state, 'utf8').split('\n').filter(Boolean),
  };
}

const base = { AZURE_IDENTITY_PRINCIPAL_ID: PRINCIPAL };

/** The command lines the hook printed for an administrator (indented, from the first variable or az call). */
function printedCommands(out: string): string {
  const lines = out.split('\n');
  const start = lines.findIndex((l) => /^  (DEFENDER_SP=|ROLE_ID=|# |az rest)/.test(l));
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines.slice(start, end).join('\n');
}
const posts = (r: Run) => r.calls.filter((c) => c.startsWith('rest --method POST'));

function has(cmd: string): boolean {
  return spawnSync(cmd, ['-c', 'exit 0']).status === 0;
}

describe('infra/hooks/postprovision.sh', () => {
  test('parses under sh and bash', () => {
    for (const sh of ['sh', 'bash']) {
      const r = spawnSync(sh, ['-n', SH_HOOK], { encoding: 'utf8' });
      expect([sh, r.status, r.stderr]).toEqual([sh, 0, '']);
    }
  });

  describe.each(['sh', 'bash'].filter(has))('under %s', (sh) => {
    test('without the opt-in: grants nothing, prints the exact command with the real ids, and lists the role as missing', () => {
      const r = run([sh, SH_HOOK], base);
      expect(r.code).toBe(0);
      expect(posts(r)).toEqual([]);
      expect(r.out).toContain('MISSING  Software.Read.All');
      expect(r.out).not.toContain('Vulnerability.Read.All');
      expect(r.out).toContain(`az rest --method POST --uri https://graph.microsoft.com/v1.0/servicePrincipals/${PRINCIPAL}/appRoleAssignments`);
      expect(r.out).toContain(`--body "{\\"principalId\\":\\"${PRINCIPAL}\\",\\"resourceId\\":\\"${DEFENDER_SP}\\",\\"appRoleId\\":\\"${SOFTWARE_ROLE}\\"}"`);
      expect(r.out).toContain("DEFENDER_GRANT is not 'true'");
      // the verification read the identity's assignments
      expect(r.calls.some((c) => c.startsWith('rest --method GET'))).toBe(true);
    });

    test('the printed command is one a shell runs as printed: the same az call the opt-in makes', () => {
      const r = run([sh, '-c', printedCommands(run([sh, SH_HOOK], base).out)], base);
      expect(r.code).toBe(0);
      expect(r.granted).toEqual([SOFTWARE_ROLE]);
    });

    test('DEFENDER_GRANT=true: grants the missing role once and verifies it', () => {
      const r = run([sh, SH_HOOK], { ...base, DEFENDER_GRANT: 'true' });
      expect(r.code).toBe(0);
      expect(posts(r)).toHaveLength(1);
      expect(r.granted).toEqual([SOFTWARE_ROLE]);
      expect(r.out).toContain('Granting Software.Read.All');
      expect(r.out).toContain('ok       Software.Read.All');
      expect(r.out).not.toContain('MISSING');
    });

    test('a vulnerability export kind needs Vulnerability.Read.All too; only the missing one is granted', () => {
      const r = run([sh, SH_HOOK], { ...base, EXPORT_KINDS: 'SoftwareInventory,SoftwareVulnerabilities', DEFENDER_GRANT: 'TRUE' }, [SOFTWARE_ROLE]);
      expect(r.code).toBe(0);
      expect(posts(r)).toHaveLength(1);
      expect(posts(r)[0]).toContain(VULN_ROLE);
      expect(r.granted).toEqual([SOFTWARE_ROLE, VULN_ROLE]);
      expect(r.out).toContain('ok       Software.Read.All');
      expect(r.out).toContain('ok       Vulnerability.Read.All');
    });

    test.each(EXPORT_KINDS.map((k) => [k.kind, k.permission]))("EXPORT_KINDS=%s needs exactly the registry's permission, %s", (kind, permission) => {
      const r = run([sh, SH_HOOK], { ...base, EXPORT_KINDS: kind.toLowerCase() });
      expect(r.code).toBe(0);
      expect(r.out).toContain(`needed for EXPORT_KINDS=${kind.toLowerCase()}: ${permission}\n`);
    });

    test('every kind at once: both permissions, each granted once; a name that is no kind is pointed out', () => {
      const r = run([sh, SH_HOOK], { ...base, EXPORT_KINDS: ` ${EXPORT_KINDS.map((k) => k.kind).join(' , ')},Browsers`, DEFENDER_GRANT: 'true' });
      expect(r.code).toBe(0);
      expect(r.out).toContain(': Software.Read.All Vulnerability.Read.All\n');
      expect(r.out).toContain("EXPORT_KINDS lists 'browsers', which is not an export kind");
      expect(posts(r).map((c) => [c.includes(SOFTWARE_ROLE), c.includes(VULN_ROLE)])).toEqual([
        [true, false],
        [false, true],
      ]);
    });

    test('already granted: nothing to do, nothing printed to run', () => {
      const r = run([sh, SH_HOOK], { ...base, DEFENDER_GRANT: 'true' }, [SOFTWARE_ROLE]);
      expect(r.code).toBe(0);
      expect(posts(r)).toEqual([]);
      expect(r.out).toContain('ok       Software.Read.All');
      expect(r.out).not.toContain('az rest --method POST');
    });

    test('opted in without the Graph rights: says so, prints the commands for an admin, does not fail azd', () => {
      const r = run([sh, SH_HOOK], { ...base, DEFENDER_GRANT: 'true', AZ_POST_FAILS: '1' });
      expect(r.code).toBe(0);
      expect(r.out).toContain('refused: this account lacks the Graph rights');
      expect(r.out).toContain('MISSING  Software.Read.All');
      expect(r.out).toContain(`\\"appRoleId\\":\\"${SOFTWARE_ROLE}\\"`);
    });

    test('az not signed in: checks nothing, prints self-contained commands', () => {
      const r = run([sh, SH_HOOK], { ...base, AZ_SIGNED_IN: '0', DEFENDER_GRANT: 'true' });
      expect(r.code).toBe(0);
      expect(r.calls).toEqual(['account show --only-show-errors']);
      expect(r.out).toContain('not signed in');
      expect(r.out).toContain('DEFENDER_SP=$(az ad sp show --id fc780465-2017-40d4-a0c5-307022471b92 --query id -o tsv)');
      expect(r.out).toContain(
        `ROLE_ID=$(az ad sp show --id fc780465-2017-40d4-a0c5-307022471b92 --query "appRoles[?value=='Software.Read.All'].id | [0]" -o tsv)`,
      );
      // and they work as printed, once az is signed in
      const again = run([sh, '-c', printedCommands(r.out)], base);
      expect([again.code, again.granted]).toEqual([0, [SOFTWARE_ROLE]]);
    });

    test('outside azd (no principal id): fails with the reason', () => {
      const r = run([sh, SH_HOOK], {});
      expect(r.code).toBe(1);
      expect(r.out).toContain('AZURE_IDENTITY_PRINCIPAL_ID is not set');
      expect(r.calls).toEqual([]);
    });
  });
});

(has('pwsh') ? describe : describe.skip)('infra/hooks/postprovision.ps1 (pwsh)', () => {
  const pwsh = ['pwsh', '-NoProfile', '-NonInteractive', '-File', PS_HOOK];
  test('without the opt-in: grants nothing and lists the role as missing', () => {
    const r = run(pwsh, base);
    expect(r.code).toBe(0);
    expect(posts(r)).toEqual([]);
    expect(r.out).toContain('MISSING  Software.Read.All');
  });
  test('DEFENDER_GRANT=true: grants the missing roles and verifies them', () => {
    const r = run(pwsh, { ...base, DEFENDER_GRANT: 'true', EXPORT_KINDS: 'SoftwareInventory,SecureConfigurations' });
    expect(r.code).toBe(0);
    expect(r.granted.sort()).toEqual([SOFTWARE_ROLE, VULN_ROLE].sort());
    expect(r.out).not.toContain('MISSING');
  });
});
