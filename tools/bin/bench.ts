// `npm run bench` — the write-path benchmark (tools/bench/run.ts): prints a table and writes
// bench/results.json. Options: --kind KIND (SoftwareInventory; any kind of docs/kinds.md)
// --rows N (200000) --out FILE --files N --concurrency 4,8,16,32
// --repeat N (2) --naive-seconds S (10) --write-concurrency N --file-concurrency N
// --memory-mb MB (1024; 0 skips the memory run) --memory-mark-mb MB (100)
// --reject-lines N (1000; 0 skips the rejected-lines memory run) --reject-line-mb MB (4)
// --cold-load-runs N (5; 0 skips building the package and timing its cold load) --seed N --json (print JSON only)
import * as path from 'node:path';
import { benchMain, benchOptions, numberArg as num, ParsedBenchArgs, progressLog } from '../bench/cli';
import { BENCH_DEFAULTS, BenchOptions, formatResults, runBench } from '../bench/run';
import { ROOT } from '../root';
import { EXPORT_KIND_NAMES, findKind } from '../../shared/kinds/exportKinds';

const USAGE =
  'usage: npm run bench -- [--kind ' +
  EXPORT_KIND_NAMES.join('|') +
  '] [--rows N] [--out FILE] [--files N] [--concurrency 4,8,16,32] [--repeat N] [--naive-seconds S] [--write-concurrency N] [--file-concurrency N] [--memory-mb MB] [--memory-mark-mb MB] [--reject-lines N] [--reject-line-mb MB] [--cold-load-runs N] [--seed N] [--json]';

const OPTIONS = [
  'kind',
  'rows',
  'out',
  'files',
  'concurrency',
  'repeat',
  'naive-seconds',
  'write-concurrency',
  'file-concurrency',
  'memory-mb',
  'memory-mark-mb',
  'reject-lines',
  'reject-line-mb',
  'cold-load-runs',
  'seed',
] as const;

function parse(argv: string[]): ParsedBenchArgs<BenchOptions> {
  const o: BenchOptions = { ...BENCH_DEFAULTS, log: progressLog };
  let out = path.join(ROOT, 'bench', 'results.json');
  const { given, json } = benchOptions(argv, USAGE, OPTIONS);
  for (const [name, v] of given) {
    const a = `--${name}`;
    switch (name) {
      case 'kind': {
        const kind = v === undefined ? undefined : findKind(v.trim());
        if (!kind)
          throw new Error(
            `--kind: expected one of ${EXPORT_KIND_NAMES.join(', ')}, got ${v === undefined || v.trim() === '' ? 'nothing' : JSON.stringify(v)}\n${USAGE}`,
          );
        o.kind = kind;
        break;
      }
      case 'rows':
        o.rows = Math.floor(num(a, v, 100));
        break;
      case 'out':
        if (!v) throw new Error('--out: expected a file');
        out = path.resolve(v);
        break;
      case 'files':
        o.files = Math.floor(num(a, v, 1));
        break;
      case 'concurrency':
        o.concurrency = (v ?? '').split(',').map((x) => Math.floor(num(a, x, 1)));
        break;
      case 'repeat':
        o.repeat = Math.floor(num(a, v, 1));
        break;
      case 'naive-seconds':
        o.naiveSeconds = num(a, v, 0.1);
        break;
      case 'write-concurrency':
        o.writeConcurrency = Math.floor(num(a, v, 1));
        break;
      case 'file-concurrency':
        o.fileConcurrency = Math.floor(num(a, v, 1));
        break;
      case 'memory-mb':
        o.memoryBytes = Math.floor(num(a, v, 0) * 1024 * 1024);
        break;
      case 'memory-mark-mb':
        o.memoryMarkBytes = Math.floor(num(a, v, 0.01) * 1024 * 1024);
        break;
      case 'reject-lines':
        o.rejectLines = Math.floor(num(a, v, 0));
        break;
      case 'reject-line-mb':
        o.rejectLineBytes = Math.floor(num(a, v, 0.05) * 1024 * 1024);
        break;
      case 'cold-load-runs':
        o.coldLoadRuns = Math.floor(num(a, v, 0));
        break;
      case 'seed':
        o.seed = Math.floor(num(a, v, 0));
        break;
    }
  }
  if (o.memoryBytes > 0 && o.memoryMarkBytes >= o.memoryBytes) throw new Error('--memory-mark-mb must be below --memory-mb');
  return { opts: o, out, json };
}

benchMain({ name: 'bench', parse, run: runBench, format: formatResults });
