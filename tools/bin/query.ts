// npm run query -- snapshots|device|software|diff ... (docs/query.md). Reads the dated
// snapshot tables and the catalog; settings from the environment or ./local.settings.json.
import { describeError } from '../../shared/core/redact';
import { runQuery } from '../query/main';
import { processIo } from '../query/output';
import { localEnv } from '../runner/localSettings';

// `npm run query -- ... | head` closes the pipe early: stop quietly instead of failing on EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
});

runQuery(process.argv.slice(2), () => localEnv(), processIo()).then(
  (code) => {
    // let stdout drain before exiting (a pipe may still hold the tail of a large result)
    process.stdout.write('', () => process.exit(code));
  },
  (err) => {
    process.stderr.write(`query failed: ${describeError(err, 2000)}\n`);
    process.exit(1);
  },
);
