// A rejected line keeps only its storable excerpt while its segment is open: a crafted file of huge bad
// lines must not pile them up in memory. Proven in a child process with a small heap (no timing involved):
// holding the lines would need more heap than it has.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

const CHILD = `
const { TableClient } = require('@azure/data-tables');
const { SnapshotWriter } = require('./shared/ingest/snapshotWriter');
const nowhere = TableClient.fromConnectionString('UseDevelopmentStorage=true', 'never', { allowInsecureConnection: true });
const writer = new SnapshotWriter({
  table: nowhere, rejectsTable: nowhere, snapshotId: 's', fileIndex: 0, writeConcurrency: 1,
  segmentRows: 1e9, start: { lines: 0, rows: 0, rejected: 0, duplicates: 0 }, checkpoint: async () => {},
});
const MiB = 1024 * 1024;
for (let i = 1; i <= 100; i++) {
  // a fresh 4 MiB string on the V8 heap per line, decoded from UTF-8 as the line reader does
  const line = Buffer.alloc(4 * MiB, 0x61 + (i % 26)).toString('utf8');
  writer.add(i, { ok: false, reason: 'SoftwareName: longer than 32768 characters' }, () => line);
}
writer.dispose();
process.stdout.write('ok ' + Math.round(process.memoryUsage().heapUsed / MiB) + '\\n');
`;

describe('rejected lines in an open segment', () => {
  it('keeps only the excerpt of each: 100 rejected 4 MiB lines fit in a 160 MB heap', () => {
    const run = spawnSync(process.execPath, ['--max-old-space-size=160', '-r', 'ts-node/register/transpile-only', '-e', CHILD], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect({ status: run.status, stderr: run.status === 0 ? '' : run.stderr.slice(-600) }).toEqual({ status: 0, stderr: '' });
    expect(run.stdout).toMatch(/^ok \d+/);
  });
});
