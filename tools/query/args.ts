// Command-line parsing of `npm run query -- <command> ...`: strict, so a typo is a usage error (exit 2)
// instead of a silently ignored option.
import { parseArgs as parseWords } from 'node:util';
import { EXPORT_KIND_NAMES, ExportKind, findKind } from '../../shared/kinds/exportKinds';
import { parseCveId } from './cve';
import { UsageError } from './errors';

export type CommandName = 'snapshots' | 'device' | 'software' | 'diff' | 'trend' | 'cve' | 'exposure';
type ValueOption = 'at' | 'vendor' | 'version' | 'device' | 'kind';

export interface ParsedArgs {
  command: CommandName | 'help';
  positionals: string[];
  json: boolean;
  /** RFC 4180 CSV instead of the human table (docs/query.md#csv-output) */
  csv: boolean;
  /** device: each product version's first and last snapshot instead of one snapshot's rows */
  history: boolean;
  /** cve: devices exposed per snapshot (from the rollups where current) instead of the exposed rows */
  trend: boolean;
  at?: string;
  vendor?: string;
  version?: string;
  device?: string;
  /** --kind, checked against the kinds registry */
  kind?: ExportKind;
}

interface CommandSpec {
  positionals: string[];
  options: ValueOption[];
}

const COMMANDS: Record<CommandName, CommandSpec> = {
  snapshots: { positionals: [], options: ['kind'] },
  device: { positionals: ['<id|name>'], options: ['at', 'kind'] },
  software: { positionals: ['<name>'], options: ['vendor', 'version', 'at'] },
  diff: { positionals: ['<from>', '<to>'], options: ['device', 'kind'] },
  trend: { positionals: ['<product>'], options: ['vendor', 'at', 'kind'] },
  cve: { positionals: ['<CVE-ID>'], options: ['at'] },
  exposure: { positionals: ['<from>', '<to>'], options: ['device'] },
};

const VALUE_OPTIONS: readonly ValueOption[] = ['at', 'vendor', 'version', 'device', 'kind'];

/** What a usage error prints: the synopsis only. */
export const SHORT_USAGE = `usage: npm run query -- snapshots [--json]
       npm run query -- device <id|name> [--at <snapshots>] [--json]
       npm run query -- software <name> [--vendor <vendor>] [--version <version>] [--at <snapshots>] [--json]
       npm run query -- diff <from> <to> [--device <id|name>] [--json]
       npm run query -- cve <CVE-ID> [--at <snapshots>] [--json]
       npm run query -- cve <CVE-ID> --trend [--at <snapshots>] [--json]
       npm run query -- exposure <from> <to> [--device <id|name>] [--json]
       npm run query -- trend <product> [--vendor <vendor>] [--at <snapshots>] [--kind <kind>] [--json]
       npm run query -- device <id|name> --history [--at <snapshots>] [--json]
       (snapshots, device and diff take --kind <kind>)
--csv instead of --json on any command prints CSV (RFC 4180).
snapshots: a snapshot id (yyyyMMddHHmm), a date yyyy-MM-dd, or latest. More: npm run query -- --help`;

export const USAGE = `usage: npm run query -- <command> [options]

commands:
  snapshots [--kind <kind>] [--json]
      the snapshot catalog, newest first
  device <id|name> [--at <snapshots>] [--kind <kind>] [--json]
      what one device had installed (by DeviceId; else by DeviceName: exact, then
      case-insensitive, then the host name before the first dot); with other kinds' snapshots
      also its non-CPE software, open vulnerabilities and failing configurations
  software <name> [--vendor <vendor>] [--version <version>] [--at <snapshots>] [--json]
      every device with a product (exact SoftwareName; lower-case retried when nothing matches)
  diff <from> <to> [--device <id|name>] [--kind <kind>] [--json]
      per (device, vendor, name): versions installed, removed or changed between two snapshots;
      --json prints JSON Lines, the last line holds the totals
      --kind SoftwareVulnerabilities: CVEs new or fixed per device; --kind SecureConfigurations:
      configurations that became compliant or non-compliant, were added, removed or changed
  cve <CVE-ID> [--at <snapshots>] [--json]
      devices exposed to a CVE (SoftwareVulnerabilities) in each snapshot
  cve <CVE-ID> --trend [--at <snapshots>] [--json]
      how many devices were exposed at each snapshot (default: every complete snapshot), read from the
      rollups where they are current
  exposure <from> <to> [--device <id|name>] [--json]
      for each vulnerability fixed between two SoftwareVulnerabilities snapshots, how long each device
      was exposed (FirstSeenTimestamp to the first snapshot without it)
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
  --at <s>        snapshot(s) to read (default: latest; for trend, --history and --trend every complete snapshot)
  --kind <kind>   export kind: ${EXPORT_KIND_NAMES.join(', ')}
                  (snapshots and device: every kind with snapshots by default; diff and trend: SoftwareInventory)
  -h, --help      this text

exit codes: 0 success, 2 usage or settings error, 3 unknown snapshot or device (or a CVE in none of the snapshots), 1 anything else (e.g. storage unreachable)
settings: INVENTORY_STORAGE, else AzureWebJobsStorage (environment, or Values of ./local.settings.json)`;

/** node:util parseArgs reads the words; the checks below give each mistake its own message (the strict mode's are generic). */
const PARSE_OPTIONS = {
  json: { type: 'boolean' },
  csv: { type: 'boolean' },
  history: { type: 'boolean' },
  trend: { type: 'boolean' },
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
  const flags = { json: false, csv: false, history: false, trend: false };
  let help = false;
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value);
    if (token.kind !== 'option') continue;
    if (token.name === 'help') {
      help = true;
      continue;
    }
    if (!token.rawName.startsWith('--')) throw new UsageError(`unknown option ${token.rawName}`);
    if (token.name === 'json' || token.name === 'csv' || token.name === 'history' || token.name === 'trend') {
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
  if (flags.trend && command !== 'cve') throw new UsageError(`${command} takes no --trend (cve <CVE-ID> --trend)`);
  if (command === 'cve') parseCveId(positionals[0]); // a malformed id is a usage error before any setting is read
  const { kind, ...rest } = values;
  return { command, positionals, ...flags, ...rest, ...(kind !== undefined ? { kind: parseKind(kind) } : {}) };
}

/** A kind name, any case (`--kind softwarevulnerabilities`). */
function parseKind(text: string): ExportKind {
  const kind = findKind(text.trim());
  if (!kind) throw new UsageError(`--kind "${text}" is not an export kind: expected one of ${EXPORT_KIND_NAMES.join(', ')}`);
  return kind;
}
