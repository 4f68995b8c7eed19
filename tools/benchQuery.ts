// `npm run bench:query` — the query-side benchmark (tools/bench/query.ts): whole-table reads, sequential
// versus PartitionKey ranges, with simulated round trips. Options: --devices N (3600, ~100k rows) --rtt 0,20 --repeat N (2)
// --out FILE (bench/query-results.json) --json
import * as fs from 'node:fs';
import * as path from 'node:path';
import { formatQueryResults, QUERY_BENCH_DEFAULTS, QueryBenchOptions, runQueryBench } from './bench/query';

const USAGE = 'usage: npm run bench:query -- [--devices N] [--rtt 0,20] [--repeat N] [--out FILE] [--json]';

function parse(argv: string[]): { opts: QueryBenchOptions; out: string; json: boolean } {
  const opts: QueryBenchOptions = { ...QUERY_BENCH_DEFAULTS, log: (l) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${l}\n`) };
  let out = path.join(__dirname, '..', 'bench', 'query-results.json');
  let json = false;
  const num = (flag: string, v: string | undefined, min: number): number => {
    const x = Number(v);
    if (v === undefined || v.trim() === '' || !Number.isFinite(x) || x < min) throw new Error(`${flag}: expected a number ≥ ${min}, got ${v ?? 'nothing'}`);
    return x;
  };
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

async function main(): Promise<void> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const results = await runQueryBench(args.opts);
  fs.mkdirSync(path.dirname(args.out), { recursive: true });
  fs.writeFileSync(args.out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(args.json ? `${JSON.stringify(results)}\n` : `\n${formatQueryResults(results)}\n\nresults: ${args.out}\n`);
}

main().catch((err) => {
  process.stderr.write(`bench:query failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
