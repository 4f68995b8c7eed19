// `npm run bench:query` — the query-side benchmark (tools/bench/query.ts): whole-table reads, sequential
// versus PartitionKey ranges, with simulated round trips, and a product's trend over N snapshots from rollups versus
// scans. Options: --devices N (3600, ~100k rows) --rtt 0,20 --repeat N (2) --trend-snapshots N (30; 0: no trend row)
// --out FILE (bench/query-results.json) --json
import * as path from 'node:path';
import { benchMain, benchOptions, numberArg as num, ParsedBenchArgs, progressLog } from '../bench/cli';
import { formatQueryResults, QUERY_BENCH_DEFAULTS, QueryBenchOptions, runQueryBench } from '../bench/query';
import { ROOT } from '../root';

const USAGE = 'usage: npm run bench:query -- [--devices N] [--rtt 0,20] [--repeat N] [--trend-snapshots N] [--out FILE] [--json]';

const OPTIONS = ['devices', 'rtt', 'repeat', 'trend-snapshots', 'out'] as const;

function parse(argv: string[]): ParsedBenchArgs<QueryBenchOptions> {
  const opts: QueryBenchOptions = { ...QUERY_BENCH_DEFAULTS, log: progressLog };
  let out = path.join(ROOT, 'bench', 'query-results.json');
  const { given, json } = benchOptions(argv, USAGE, OPTIONS);
  for (const [name, v] of given) {
    const a = `--${name}`;
    switch (name) {
      case 'devices':
        opts.devices = Math.floor(num(a, v, 1));
        break;
      case 'rtt':
        opts.rttMs = (v ?? '').split(',').map((x) => num(a, x, 0));
        break;
      case 'repeat':
        opts.repeat = Math.floor(num(a, v, 1));
        break;
      case 'trend-snapshots':
        opts.trendSnapshots = Math.floor(num(a, v, 0));
        break;
      case 'out':
        if (!v) throw new Error('--out: expected a file');
        out = path.resolve(v);
        break;
    }
  }
  return { opts, out, json };
}

benchMain({ name: 'bench:query', parse, run: runQueryBench, format: formatQueryResults });
