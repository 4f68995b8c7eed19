// The README's commands as real processes: `npm run ingest` against a running simulator, and the
// demo (`npm start` with CI=true), so neither can rot.
import { startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { useAzurite } from '../helpers/azurite';
import { root, runTool } from '../helpers/toolProcess';

const azurite = useAzurite();

// from the repository root with this process's environment, as a developer types it there
const run = (script: string, args: string[], env: Record<string, string>) => runTool(script, args, env, { cwd: root, inheritEnv: true });

describe('commands', () => {
  it('npm run ingest: one cycle, JSON summary as the last stdout line, exit 0', async () => {
    const sim = await startDefenderSimulator({ blobConnectionString: azurite().connectionString, devices: 60, seed: 3, throttleEvery: 2 });
    try {
      const published = await sim.publish();
      const env = {
        AzureWebJobsStorage: azurite().connectionString,
        DEFENDER_API_BASE_URL: sim.baseUrl,
        DEFENDER_AUTH: 'none',
        INGEST_QUEUE: 'cli-ingest',
      };
      const r = await run('tools/bin/ingest.ts', [], env);
      expect(r.code).toBe(0);
      const last = r.stdout.trim().split('\n').pop()!;
      const summary = JSON.parse(last);
      expect(Object.keys(summary)).toEqual(['kind', 'snapshotId', 'table', 'status', 'files', 'rows', 'rejected', 'duplicates', 'seconds']);
      expect(summary).toMatchObject({ status: 'complete', rows: published.totalRows, files: published.files.length });
      expect(r.stderr).not.toMatch(/sig=(?!REDACTED)/);

      // run again: nothing to do, the same snapshot described
      const again = await run('tools/bin/ingest.ts', [], env);
      expect(again.code).toBe(0);
      expect(JSON.parse(again.stdout.trim().split('\n').pop()!)).toMatchObject({ snapshotId: summary.snapshotId, rows: summary.rows, status: 'complete' });
    } finally {
      await sim.stop();
    }
  }, 120000);

  it('npm run ingest: a bad setting stops with one message naming it (exit 2)', async () => {
    const r = await run('tools/bin/ingest.ts', [], { AzureWebJobsStorage: azurite().connectionString, SAS_VALID_HOURS: '48' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Setting SAS_VALID_HOURS');
  });

  it('npm start (CI=true): the whole demo runs every export kind and exits 0 with a complete snapshot of each', async () => {
    const r = await run('tools/bin/demo.ts', ['--devices', '150'], { CI: 'true' });
    expect(r.code).toBe(0);
    const summaries = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { kind: string; status: string; rows: number; table: string });
    expect(summaries.map((k) => k.kind)).toEqual(['SoftwareInventory', 'NonCpeSoftwareInventory', 'SoftwareVulnerabilities', 'SecureConfigurations']);
    for (const k of summaries) {
      expect(k.status).toBe('complete');
      expect(k.rows).toBeGreaterThan(0);
      expect(r.stdout).toContain(k.table);
    }
    expect(r.stderr).not.toMatch(/rows but .* landed/);
    expect(r.stdout).toContain('Snapshots in the catalog');
    expect(r.stdout).toContain('az storage entity query');
  }, 120000);
});
