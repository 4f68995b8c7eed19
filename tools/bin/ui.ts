// npm run ui -- [--host 127.0.0.1] [--port 8070] (docs/ui.md): the read-only web UI over the query layer.
// Settings from the environment or ./local.settings.json, as for npm run query.
import { ConfigError } from '../../shared/core/config';
import { describeError } from '../../shared/core/redact';
import { UsageError } from '../query/errors';
import { localEnv } from '../runner/localSettings';
import { parseUiArgs, startUi, USAGE } from '../ui/main';

async function main(): Promise<number | undefined> {
  let args;
  try {
    args = parseUiArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    const ui = await startUi(args, localEnv(), (text) => process.stderr.write(`${text}\n`));
    process.stdout.write(`web UI (read-only): ${ui.url}  — Ctrl-C stops it\n`);
    process.once('SIGINT', () => void ui.close().then(() => process.exit(0)));
    return undefined; // keep serving
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`error: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

main().then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (err) => {
    process.stderr.write(`ui failed: ${describeError(err, 2000)}\n`);
    process.exit(1);
  },
);
