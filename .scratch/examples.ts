import { startAzurite } from '../tools/runner/azurite';
import { startDefenderSimulator } from '../tools/simulator/defenderSimulator';
import { runIngestKinds } from '../tools/runner/localRunner';
import { loadConfig } from '../shared/core/config';
import { consoleLog } from '../shared/core/log';
import { EXPORT_KIND_NAMES } from '../shared/kinds/exportKinds';
import { runQuery } from '../tools/query/main';
import * as fs from 'node:fs';

async function main() {
  const az = await startAzurite();
  const log = consoleLog('ex');
  const sim = await startDefenderSimulator({ blobConnectionString: az.connectionString, devices: 300, seed: 42, exportKinds: EXPORT_KIND_NAMES, generatedTime: new Date('2026-12-01T05:30:00Z') });
  const config = loadConfig({ AzureWebJobsStorage: az.connectionString, DEFENDER_API_BASE_URL: sim.baseUrl, DEFENDER_AUTH: 'none', SNAPSHOT_INTERVAL_HOURS: '0', EXPORT_KINDS: EXPORT_KIND_NAMES.join(',') });
  for (let g = 0; g < 3; g++) {
    await sim.publish(g === 0 ? {} : { generation: g, generatedTime: new Date(Date.UTC(2026, 11, 1 + g, 5, 30)) });
    await runIngestKinds({ config, log });
  }
  const env = () => ({ AzureWebJobsStorage: az.connectionString });
  const cmds = process.argv.slice(2).length ? process.argv.slice(2).join(' ').split(' ; ').map((c) => c.split(' ')) : [
    ['snapshots'], ['trend', 'chrome', '--vendor', 'google'], ['device', 'wks-0003'],
    ['diff', '2026-12-01', 'latest', '--kind', 'SoftwareVulnerabilities'], ['exposure', '2026-12-01', 'latest'], ['diff', '2026-12-01', 'latest', '--kind', 'SecureConfigurations'],
  ];
  for (const c of cmds) {
    let out = '';
    let err = '';
    await runQuery(c, env, { out: async (s: string) => { out += s; }, err: (s: string) => { err += s; }, errIsTty: false });
    fs.appendFileSync('/tmp/examples.txt', `\n$ npm run query -- ${c.join(' ')}\n${out}${err ? `[stderr]\n${err}` : ''}`);
  }
  fs.writeFileSync('/tmp/examples.cs', az.connectionString);
  await sim.stop();
  await az.stop();
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
