// `npm run bench` — the write-path benchmark (tools/bench/run.ts): prints a table and writes
// bench/results.json. Options: --rows N (200000) --out FILE --files N --concurrency 4,8,16,32
// --repeat N (2) --naive-seconds S (10) --write-concurrency N --file-concurrency N
// --memory-mb MB (1024; 0 skips the memory run) --memory-mark-mb MB (100)
// --reject-lines N (1000; 0 skips the rejected-lines memory run) --reject-line-mb MB (4) --seed N --json (print JSON only)
import * as path from 'node:path';
import { benchMain, numberArg as num, ParsedBenchArgs, progressLog } from '../bench/cli';
import { BENCH_DEFAULTS, BenchOptions, formatResults, runBench } from '../bench/run';

const USAGE = 'usage: npm run bench -- [--rows N] [--out FILE] [--files N] [--concurrency 4,8,16,32] [--repeat N] [--naive-seconds S] [--write-concurrency N] [--file-concurrency N] [--memory-mb MB] [--memory-mark-mb MB] [--reject-lines N] [--reject-line-mb MB] [--seed N] [--json]';

function parse(argv: string[]): ParsedBenchArgs<BenchOptions> {
  const o: BenchOptions = { ...BENCH_DEFAULTS, log: progressLog };
  let out = path.join(__dirname, '..', '..', 'bench', 'results.json');
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    switch (a) {
      case '--rows': o.rows = Math.floor(num(a, v, 100)); i++; break;
      case '--out': if (!v) throw new Error('--out: expected a file'); out = path.resolve(v); i++; break;
      case '--files': o.files = Math.floor(num(a, v, 1)); i++; break;
      case '--concurrency':
        o.concurrency = (v ?? '').split(',').map((x) => Math.floor(num(a, x, 1)));
        i++;
        break;
      case '--repeat': o.repeat = Math.floor(num(a, v, 1)); i++; break;
      case '--naive-seconds': o.naiveSeconds = num(a, v, 0.1); i++; break;
      case '--write-concurrency': o.writeConcurrency = Math.floor(num(a, v, 1)); i++; break;
      case '--file-concurrency': o.fileConcurrency = Math.floor(num(a, v, 1)); i++; break;
      case '--memory-mb': o.memoryBytes = Math.floor(num(a, v, 0) * 1024 * 1024); i++; break;
      case '--memory-mark-mb': o.memoryMarkBytes = Math.floor(num(a, v, 0.01) * 1024 * 1024); i++; break;
      case '--reject-lines': o.rejectLines = Math.floor(num(a, v, 0)); i++; break;
      case '--reject-line-mb': o.rejectLineBytes = Math.floor(num(a, v, 0.05) * 1024 * 1024); i++; break;
      case '--seed': o.seed = Math.floor(num(a, v, 0)); i++; break;
      case '--json': json = true; break;
      case '--help': case '-h': process.stdout.write(`${USAGE}\n`); process.exit(0); break;
      default: throw new Error(`unknown option ${a}\n${USAGE}`);
    }
  }
  if (o.memoryBytes > 0 && o.memoryMarkBytes >= o.memoryBytes) throw new Error('--memory-mark-mb must be below --memory-mb');
  return { opts: o, out, json };
}

benchMain({ name: 'bench', parse, run: runBench, format: formatResults });
