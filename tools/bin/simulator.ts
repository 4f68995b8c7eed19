// `npm run simulator -- [--devices N] [--files N] [--seed N] [--port N]`: an in-memory Azurite plus the local
// Defender simulator, running until Ctrl-C, so the app (or curl) can be pointed at it by hand.
import { parseArgs as parseWords } from 'node:util';
import { consoleLog } from '../../shared/core/log';
import { startAzurite } from '../runner/azurite';
import { startDefenderSimulator } from '../simulator/defenderSimulator';

interface CliOptions {
  devices?: number;
  files?: number;
  seed?: number;
  port?: number;
}

const FLAGS = ['devices', 'files', 'seed', 'port'] as const;

function usage(problem: string): never {
  process.stderr.write(`${problem}\nusage: npm run simulator -- [--devices N] [--files N] [--seed N] [--port N]\n`);
  process.exit(2);
}

export function parseArgs(argv: string[]): CliOptions {
  const out: CliOptions = {};
  const options = Object.fromEntries(FLAGS.map((f) => [f, { type: 'string' as const }]));
  for (const t of parseWords({ args: argv, options, strict: false, allowPositionals: true, tokens: true }).tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') usage(`unknown argument: ${t.value}`);
    const name = t.name as (typeof FLAGS)[number];
    if (!t.rawName.startsWith('--') || !FLAGS.includes(name)) usage(`unknown argument: ${argv[t.index]}`);
    if (t.value === undefined || !/^\d+$/.test(t.value)) usage(`--${name} needs a whole number`);
    out[name] = Number(t.value);
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = consoleLog('simulator');
  const azurite = await startAzurite();
  const sim = await startDefenderSimulator({ blobConnectionString: azurite.connectionString, log, ...args });
  const exp = await sim.publish();
  process.stdout.write(
    [
      `Defender simulator: ${sim.baseUrl}`,
      `  GET ${sim.baseUrl}/api/machines/SoftwareInventoryExport?sasValidHours=6`,
      `  GET ${sim.baseUrl}/api/machines/SoftwareInventoryByMachine?pageSize=1000`,
      `export ${exp.generatedTimeText}: ${exp.files.length} files, ${exp.totalRows} rows, ${exp.fleet.devices.length} devices`,
      `Azurite connection string (in-memory, gone on exit):`,
      `  ${azurite.connectionString}`,
      `Point the app at it: DEFENDER_API_BASE_URL=${sim.baseUrl} DEFENDER_AUTH=none AzureWebJobsStorage="<the connection string>"`,
      'Ctrl-C stops.',
      '',
    ].join('\n'),
  );
  const shutdown = async () => {
    await sim.stop();
    await azurite.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`simulator failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
