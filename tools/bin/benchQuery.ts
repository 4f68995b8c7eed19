// `npm run bench:query` — the query-side benchmark (tools/bench/query.ts): whole-table reads, sequential
// versus PartitionKey ranges, with simulated round trips. Options: --devices N (3600, ~100k rows) --rtt 0,20 --repeat N (2)
// --out FILE (bench/query-results.json) --json
import * as path from 'node:path';
import { benchMain, numberArg as num, ParsedBenchArgs, progressLog } from '../bench/cli';
import { formatQueryResults, QUERY_BENCH_DEFAULTS, QueryBenchOptions, runQueryBench } from '../bench/query';

const USAGE = 'usage: npm run bench:query -- [--devices N] [--rtt 0,20] [--repeat N] [--out FILE] [--json]';

function parse(argv: string[]): ParsedBenchArgs<QueryBenchOptions> {
  const opts: QueryBenchOptions = { ...QUERY_BENCH_DEFAULTS, log: progressLog };
  let out = path.join(__dirname, '..', '..', 'bench', 'query-results.json');
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    switch (a) {
      case '--devices': opts.devices = Math.floor(num(a, v, 1)); i++; break;
      case '--rtt': opts.rttMs = (v ?? '').split(',').map((x) => num(a, x, 0)); i++; break;
      case '--repeat': opts.repeat = Math.floor(num(a, v, 1)); i++; break;
      case '--out': if (!v) throw new Error('--out: expected a file'); out = path.resolve(v); i++; break;
      case '--json': json = true; break;
      case '--help': case '-h': process.stdout.write(`${USAGE}\n`); process.exit(0); break;
      default: throw new Error(`unknown option ${a}\n${USAGE}`);
    }
  }
  return { opts, out, json };
}

benchMain({ name: 'bench:query', parse, run: runQueryBench, format: formatQueryResults });
