// Command-line parsing of `npm run query -- <command> ...`: strict, so a typo is a usage error (exit 2)
// instead of a silently ignored option.
import { parseArgs as parseWords } from 'node:util';
import { UsageError } from './errors';

export type CommandName = 'snapshots' | 'device' | 'software' | 'diff' | 'trend';
type ValueOption = 'at' | 'vendor' | 'version' | 'device' | 'kind';

export interface ParsedArgs {
  command: CommandName | 'help';
  positionals: string[];
  json: boolean;
  /** RFC 4180 CSV instead of the human table (docs/query.md#csv-output) */
  csv: boolean;
  /** device: each product version's first and last snapshot instead of one snapshot's rows */
  history: boolean;
  at?: string;
  vendor?: string;
  version?: string;
  device?: string;
  kind?: string;
}

interface CommandSpec {
  positionals: string[];
  options: ValueOption[];
}

const COMMANDS: Record<CommandName, CommandSpec> = {
  snapshots: { positionals: [], options: [] },
  device: { positionals: ['<id|name>'], options: ['at'] },
  software: { positionals: ['<name>'], options: ['vendor', 'version', 'at'] },
  diff: { positionals: ['<from>', '<to>'], options: ['device'] },
  trend: { positionals: ['<product>'], options: ['vendor', 'at', 'kind'] },
};

const VALUE_OPTIONS: readonly ValueOption[] = ['at', 'vendor', 'version', 'device', 'kind'];

/** What a usage error prints: the synopsis only. */
export const SHORT_USAGE = `usage: npm run query -- snapshots [--json]
       npm run query -- device <id|name> [--at <snapshots>] [--json]
       npm run query -- software <name> [--vendor <vendor>] [--version <version>] [--at <snapshots>] [--json]
       npm run query -- diff <from> <to> [--device <id|name>] [--json]
       npm run query -- trend <product> [--vendor <vendor>] [--at <snapshots>] [--kind <kind>] [--json]
       npm run query -- device <id|name> --history [--at <snapshots>] [--json]
--csv instead of --json on any command prints CSV (RFC 4180).
snapshots: a snapshot id (yyyyMMddHHmm), a date yyyy-MM-dd, or latest. More: npm run query -- --help`;

export const USAGE = `usage: npm run query -- <command> [options]

commands:
  snapshots [--json]
      the snapshot catalog, newest first
  device <id|name> [--at <snapshots>] [--json]
      what one device had installed (by DeviceId; else by DeviceName: exact, then
      case-insensitive, then the host name before the first dot)
  software <name> [--vendor <vendor>] [--version <version>] [--at <snapshots>] [--json]
      every device with a product (exact SoftwareName; lower-case retried when nothing matches)
  diff <from> <to> [--device <id|name>] [--json]
      per (device, vendor, name): versions installed, removed or changed between two snapshots;
      --json prints JSON Lines, the last line holds the totals
  trend <product> [--vendor <vendor>] [--at <snapshots>] [--kind <kind>] [--json]
      devices per version of a product in each snapshot (default: every complete snapshot)
  device <id|name> --history [--at <snapshots>] [--json]
      each product version the device has had: first and last snapshot seen (default: every complete snapshot)

snapshot arguments:
  202401311101    a snapshot id (yyyyMMddHHmm; the table name SoftwareInventory202401311101 works too)
  2024-01-31      the newest complete snapshot generated on or before the end of that UTC day
  latest          the newest complete snapshot
  --at also takes a comma-separated list (a,b,c) or a range A..B of every complete snapshot
  generated from A through B (dates count from the start of A's day to the end of B's; a side may be empty)

options:
  --json          machine-readable output (JSON array; JSON Lines for diff)
  --csv           CSV (RFC 4180: header row, CRLF, fixed columns) instead; not with --json
  --at <s>        snapshot(s) to read (default: latest; for trend and --history every complete snapshot)
  -h, --help      this text

exit codes: 0 success, 2 usage error, 3 unknown snapshot or device, 1 anything else (e.g. storage unreachable)
settings: INVENTORY_STORAGE, else AzureWebJobsStorage (environment, or Values of ./local.settings.json)`;

/** node:util parseArgs reads the words; the checks below give each mistake its own message (the strict mode's are generic). */
const PARSE_OPTIONS = {
  json: { type: 'boolean' },
  csv: { type: 'boolean' },
  history: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  at: { type: 'string' },
  vendor: { type: 'string' },
  version: { type: 'string' },
  device: { type: 'string' },
  kind: { type: 'string' },
} as const;

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const { tokens } = parseWords({ args: [...argv], options: PARSE_OPTIONS, strict: false, allowPositionals: true, tokens: true });
  const positionals: string[] = [];
  const values: Partial<Record<ValueOption, string>> = {};
  const flags = { json: false, csv: false, history: false };
  let help = false;
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    if (token.name === 'help') {
      help = true;
      continue;
    }
    if (!token.rawName.startsWith('--')) throw new UsageError(`unknown option ${token.rawName}`);
    if (token.name === 'json' || token.name === 'csv' || token.name === 'history') {
      if (token.inlineValue) throw new UsageError(`--${token.name} takes no value`);
      flags[token.name] = true;
      continue;
    }
    if (!(VALUE_OPTIONS as readonly string[]).includes(token.name)) throw new UsageError(`unknown option --${token.name}`);
    const option = token.name as ValueOption;
    if (token.value === undefined || token.value === '') throw new UsageError(`--${option} needs a value`);
    if (values[option] !== undefined) throw new UsageError(`--${option} given twice`);
    values[option] = token.value;
  }

  if (help || positionals[0] === 'help') return { command: 'help', positionals: [], ...flags };
  const commandName = positionals.shift();
  if (commandName === undefined) throw new UsageError('no command given');
  if (!(commandName in COMMANDS)) throw new UsageError(`unknown command "${commandName}"`);
  const command = commandName as CommandName;
  const spec = COMMANDS[command];
  for (const option of VALUE_OPTIONS) {
    if (values[option] !== undefined && !spec.options.includes(option)) throw new UsageError(`${command} takes no --${option}`);
  }
  if (positionals.length < spec.positionals.length) {
    throw new UsageError(`${command} needs ${spec.positionals.join(' ')} (missing ${spec.positionals.slice(positionals.length).join(' ')})`);
  }
  if (positionals.length > spec.positionals.length) throw new UsageError(`${command}: unexpected argument "${positionals[spec.positionals.length]}"`);
  for (const p of positionals) if (p.trim() === '') throw new UsageError(`${command}: an empty argument`);
  if (flags.json && flags.csv) throw new UsageError('--json and --csv exclude each other: choose one output');
  if (flags.history && command !== 'device') throw new UsageError(`${command} takes no --history (device <id|name> --history)`);
  return { command, positionals, ...flags, ...values };
}
