// `npm run query -- <command> ...` as a function of (argv, environment, io) → exit code, so the process
// entry (tools/bin/query.ts) stays a few lines.
import { ConfigError, StorageTarget, storageTarget } from '../../shared/core/config';
import { describeError } from '../../shared/core/redact';
import { SnapshotCatalog } from '../../shared/storage/snapshotCatalog';
import { storageClients } from '../../shared/storage/storageClients';
import { parseArgs, ParsedArgs, SHORT_USAGE, USAGE } from './args';
import { Context } from './commands/common';
import { cveCommand } from './commands/cve';
import { deviceCommand } from './commands/device';
import { diffCommand } from './commands/diff';
import { exposureCommand } from './commands/exposure';
import { snapshotsCommand } from './commands/snapshots';
import { softwareCommand } from './commands/software';
import { trendCommand } from './commands/trend';
import { EXIT_FAILURE, EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE, NotFoundError, UsageError } from './errors';
import { humanIo, Io, printable, printableLines } from './output';

type Env = Record<string, string | undefined>;

/** The tables' storage: INVENTORY_STORAGE, else AzureWebJobsStorage, in any form the host accepts (tables only). */
export function tablesTarget(env: Env): StorageTarget {
  const target = storageTarget(env, 'INVENTORY_STORAGE', ['table']) ?? storageTarget(env, 'AzureWebJobsStorage', ['table']);
  if (!target) {
    throw new ConfigError(
      'INVENTORY_STORAGE',
      "neither INVENTORY_STORAGE nor AzureWebJobsStorage is set: give the tables' storage account as a connection string, or as <setting>__accountName / <setting>__tableServiceUri (Entra ID), in the environment or in the Values of ./local.settings.json",
    );
  }
  return target;
}

/** Storage answers some errors as an XML body that ends up as the message: keep its code and first sentence. */
function readable(err: unknown): unknown {
  if (!(err instanceof Error) || !err.message.trimStart().startsWith('<?xml')) return err;
  const code = /<Code>([^<]*)<\/Code>/.exec(err.message)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(err.message)?.[1]?.split('\n')[0].trim();
  const status = (err as { statusCode?: number }).statusCode;
  return new Error(`${status ? `HTTP ${status} ` : ''}${code ?? 'error'}: ${message ?? 'the storage service refused the request'}`);
}

export async function runQuery(argv: readonly string[], loadEnv: () => Env, io: Io): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`error: ${printableLines(err.message)}\n${SHORT_USAGE}\n`);
      return EXIT_USAGE;
    }
    throw err;
  }
  if (args.command === 'help') {
    await io.out(`${USAGE}\n`);
    return EXIT_OK;
  }
  let setting = 'storage';
  try {
    const target = tablesTarget(loadEnv());
    setting = target.setting;
    const clients = storageClients(target);
    // stored strings come from the devices: human output never passes control characters through
    const ctx: Context = { tables: clients, catalog: new SnapshotCatalog(clients), io: args.json || args.csv ? io : humanIo(io) };
    switch (args.command) {
      case 'snapshots':
        await snapshotsCommand(ctx, args);
        break;
      case 'device':
        await deviceCommand(ctx, args);
        break;
      case 'software':
        await softwareCommand(ctx, args);
        break;
      case 'diff':
        await diffCommand(ctx, args);
        break;
      case 'trend':
        await trendCommand(ctx, args);
        break;
      case 'cve':
        await cveCommand(ctx, args);
        break;
      case 'exposure':
        await exposureCommand(ctx, args);
        break;
    }
    return EXIT_OK;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`error: ${printableLines(err.message)}\n${SHORT_USAGE}\n`);
      return EXIT_USAGE;
    }
    if (err instanceof NotFoundError) {
      io.err(`error: ${printableLines(err.message)}\n`);
      return EXIT_NOT_FOUND;
    }
    // a missing or invalid storage setting is a settings error: exit 2, as in npm run ingest (docs/query.md#exit-codes)
    if (err instanceof ConfigError) {
      io.err(`error: ${err.message}\n`);
      return EXIT_USAGE;
    }
    // describeError redacts account keys, SAS signatures and tokens
    io.err(`error: ${printable(describeError(readable(err), 1000))}\n(reading the tables of the storage account named by ${setting})\n`);
    return EXIT_FAILURE;
  }
}
