// npm run ingest — one full cycle against the configured endpoints (the timer once for every kind of
// EXPORT_KINDS, then drain the queue). Progress goes to stderr; stdout ends with one JSON summary line per
// kind, in EXPORT_KINDS order (docs/operations.md). Exit 1 when any kind's snapshot is not complete.
// `--no-rollups` leaves the rollups of what completed to a later run or the timer (docs/rollups.md).
const USAGE = 'usage: npm run ingest [-- --no-rollups]';
import { ConfigError, loadConfig } from '../../shared/core/config';
import { consoleLog } from '../../shared/core/log';
import { describeError } from '../../shared/core/redact';
import { hostQueueSettings, runIngestKinds } from '../runner/localRunner';
import { localEnv } from '../runner/localSettings';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const unknown = argv.find((a) => a !== '--no-rollups');
  if (unknown !== undefined) {
    process.stderr.write(`unknown argument ${JSON.stringify(unknown)}\n${USAGE}\n`);
    return 2;
  }
  const log = consoleLog('ingest');
  let config;
  const env = localEnv();
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee local.settings.sample.json and docs/settings.md.\n`);
      return 2;
    }
    throw err;
  }
  const summaries = await runIngestKinds({
    config,
    log,
    host: hostQueueSettings(undefined, env),
    rollups: !argv.includes('--no-rollups'),
    onProgress: (p) =>
      log.info(
        `progress: ${p.kind} ${p.snapshotId}: ${p.filesDone}/${p.filesTotal} files, ${p.rows.toLocaleString('en-US')} rows, ${Math.round(p.rowsPerSecond).toLocaleString('en-US')} rows/s, ${p.inFlight} in flight`,
      ),
  });
  for (const k of summaries) process.stdout.write(`${JSON.stringify(k)}\n`);
  return summaries.every((k) => k.status === 'complete') ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`ingest failed: ${describeError(err, 2000)}\n`);
    process.exit(1);
  },
);
