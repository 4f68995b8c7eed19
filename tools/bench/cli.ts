// What `npm run bench` and `npm run bench:query` share as command lines: number options, timestamped
// progress on stderr, exit 2 on a usage error, the results file, and the table (or JSON) on stdout.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

export interface ParsedBenchArgs<O> {
  opts: O;
  out: string;
  json: boolean;
}

/** A numeric option's value, or a usage error naming the flag. */
export function numberArg(flag: string, v: string | undefined, min: number): number {
  const x = Number(v);
  if (v === undefined || v.trim() === '' || !Number.isFinite(x) || x < min) throw new Error(`${flag}: expected a number ≥ ${min}, got ${v ?? 'nothing'}`);
  return x;
}

/**
 * A bench command line read with node:util parseArgs: the value options as given, in order (value undefined
 * when the flag ends the line, so the caller's check names it), and --json. --help/-h prints the usage and
 * exits 0; anything else not in `valueOptions` is a usage error that ends with the usage.
 */
export function benchOptions(argv: string[], usage: string, valueOptions: readonly string[]): { given: [name: string, value: string | undefined][]; json: boolean } {
  const options = Object.fromEntries(valueOptions.map((name) => [name, { type: 'string' as const }]));
  const { tokens } = parseArgs({ args: argv, options: { ...options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, strict: false, allowPositionals: true, tokens: true });
  const given: [string, string | undefined][] = [];
  let json = false;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') continue;
    if (token.kind === 'positional') throw new Error(`unknown option ${token.value}\n${usage}`);
    if (token.name === 'help') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    if (token.name === 'json' && !token.inlineValue) json = true;
    else if (token.name === 'json') throw new Error(`--json takes no value\n${usage}`);
    else if (token.rawName.startsWith('--') && valueOptions.includes(token.name)) given.push([token.name, token.value]);
    else throw new Error(`unknown option ${token.rawName}\n${usage}`);
  }
  return { given, json };
}

export const progressLog = (line: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
};

export function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

export function benchMain<O, R>(b: { name: string; parse: (argv: string[]) => ParsedBenchArgs<O>; run: (o: O) => Promise<R>; format: (r: R) => string }): void {
  let args: ParsedBenchArgs<O>;
  try {
    args = b.parse(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  b.run(args.opts)
    .then((results) => {
      writeJson(args.out, results);
      process.stdout.write(args.json ? `${JSON.stringify(results)}\n` : `\n${b.format(results)}\n\nresults: ${args.out}\n`);
    })
    .catch((err) => {
      process.stderr.write(`${b.name} failed: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    });
}
