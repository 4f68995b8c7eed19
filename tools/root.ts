// The repository's root folder, for tools that read or write files there (host.json, docs/, bench/, the
// package's staging folder). A tool runs from tools/ as TypeScript (ts-node, ts-jest) or compiled into
// dist/tools-js/tools/ (tools/launch.js), so `__dirname/../..` is not the root in both: the root is the
// nearest folder above this file that holds package.json (the compiled tree has none of its own).
import * as fs from 'node:fs';
import * as path from 'node:path';

function findRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const ROOT = findRoot(__dirname);
