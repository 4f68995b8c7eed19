// `npm run simulator -- [--devices N] [--files N] [--seed N] [--port N] [--kinds K,K]`: an in-memory Azurite plus
// the local Defender simulator (every export kind, docs/kinds.md), running until Ctrl-C, so the app (or curl) can
// be pointed at it by hand.
import { parseArgs as parseWords } from 'node:util';
import { consoleLog } from '../../shared/core/log';
import { EXPORT_KIND_NAMES, ExportKind, findKind, kindSpec } from '../../shared/kinds/exportKinds';
import { startAzurite } from '../runner/azurite';
import { startDefenderSimulator } from '../simulator/defenderSimulator';

interface CliOptions {
  devices?: number;
  files?: number;
  seed?: number;
  port?: number;
  /** the export kinds served (default all) */
  exportKinds?: ExportKind[];
}

const FLAGS = ['devices', 'files', 'seed', 'port', 'kinds'] as const;

function usage(problem: string): never {
  process.stderr.write(`${problem}\nusage: npm run simulator -- [--devices N] [--files N] [--seed N] [--port N] [--kinds ${EXPORT_KIND_NAMES.join(',')}]\n`);
  process.exit(2);
}

function kindsOf(text: string): ExportKind[] {
  return text
    .split(',')
    .map((word) => findKind(word.trim()) ?? usage(`--kinds: unknown export kind "${word.trim()}" (known: ${EXPORT_KIND_NAMES.join(', ')})`));
}

export function parseArgs(argv: string[]): CliOptions {
  const out: CliOptions = {};
  const options = Object.fromEntries(FLAGS.map((f) => [f, { type: 'string' as const }]));
  for (const t of parseWords({ args: argv, options, strict: false, allowPositionals: true, tokens: true }).tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') usage(`unknown argument: ${t.value}`);
    const name = t.name as (typeof FLAGS)[number];
    if (!t.rawName.startsWith('--') || !FLAGS.includes(name)) usage(`unknown argument: ${argv[t.index]}`);
    if (name === 'kinds') {
      if (!t.value) usage('--kinds needs a comma-separated list of export kinds');
      out.exportKinds = kindsOf(t.value);
      continue;
    }
    if (t.value === undefined || !/^\d+$/.test(t.value)) usage(`--${name} needs a whole number`);
    out[name] = Number(t.value);
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = consoleLog('simulator');
  const azurite = await startAzurite();
  const sim = await startDefenderSimulator({ blobConnectionString: azurite.connectionString, log, exportKinds: EXPORT_KIND_NAMES, ...args });
  const exp = await sim.publish();
  process.stdout.write(
    [
      `Defender simulator: ${sim.baseUrl}`,
      ...exp.exportKinds.flatMap((kind) => [
        `  ${kind}: ${exp.kinds[kind]!.files.length} files, ${exp.kinds[kind]!.totalRows} rows`,
        `    GET ${sim.baseUrl}${kindSpec(kind).filesPath}?sasValidHours=6`,
        `    GET ${sim.baseUrl}${kindSpec(kind).jsonPath}?pageSize=1000`,
      ]),
      `export ${exp.generatedTimeText}: ${exp.fleet.devices.length} devices`,
      `Azurite connection string (in-memory, gone on exit):`,
      `  ${azurite.connectionString}`,
      `Point the app at it: DEFENDER_API_BASE_URL=${sim.baseUrl} DEFENDER_AUTH=none EXPORT_KINDS=${exp.exportKinds.join(',')} AzureWebJobsStorage="<the connection string>"`,
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
