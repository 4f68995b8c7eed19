// --csv (docs/query.md#csv-output): RFC 4180 fields and records, and the streaming writer's header and column order.
import { parseArgs } from '../../tools/query/args';
import { csvField, csvLine, csvText, CsvWriter, recordSink } from '../../tools/query/csv';
import { UsageError } from '../../tools/query/errors';
import { Io } from '../../tools/query/output';
import { parseCsv } from '../helpers/csv';

function capture(): { io: Io; writes: string[]; text: () => string } {
  const writes: string[] = [];
  return { io: { out: async (t) => void writes.push(t), err: () => undefined, errIsTty: false }, writes, text: () => writes.join('') };
}

describe('CSV fields (RFC 4180)', () => {
  it('quotes a field holding a comma, a quote, CR or LF, doubling the quotes; leaves others bare', () => {
    expect(csvField('plain text')).toBe('plain text');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('"')).toBe('""""');
    expect(csvField('line1\nline2')).toBe('"line1\nline2"');
    expect(csvField('line1\r\nline2')).toBe('"line1\r\nline2"');
    expect(csvField('cr\ronly')).toBe('"cr\ronly"');
    expect(csvField(' spaces kept ')).toBe(' spaces kept ');
    expect(csvField('')).toBe('');
  });

  it('writes absent values empty, dates as ISO UTC, numbers and booleans plainly, arrays as JSON', () => {
    expect(csvText(null)).toBe('');
    expect(csvText(undefined)).toBe('');
    expect(csvText(new Date(Date.UTC(2025, 2, 10, 8, 0)))).toBe('2025-03-10T08:00:00.000Z');
    expect(csvText(new Date(Number.NaN))).toBe('');
    expect(csvText(0)).toBe('0');
    expect(csvText(2.5)).toBe('2.5');
    expect(csvText(true)).toBe('true');
    expect(csvText(false)).toBe('false');
    expect(csvField(['1.2', '1.3'])).toBe('"[""1.2"",""1.3""]"');
  });

  it('ends every record with CRLF and reads back to the same fields, whatever they hold', () => {
    const nasty = ['a,b', 'q"uote', 'multi\nline', 'cr\r\nlf', '', '""', ',', 'ünïcødé 😀', '=cmd|x'];
    const line = csvLine(nasty);
    expect(line.endsWith('\r\n')).toBe(true);
    expect(parseCsv(line)).toEqual([nasty]);
  });
});

describe('CsvWriter', () => {
  it('writes the header with the first record, then one record per add, columns in the given order', async () => {
    const c = capture();
    const w = new CsvWriter(c.io, ['B', 'A', 'C']);
    expect(c.writes).toEqual([]);
    await w.add({ A: 1, B: 'x,y', C: null, Extra: 'left out' });
    expect(c.writes).toHaveLength(1); // streamed: the record is out before the next one exists
    await w.add({ C: 'c', A: 2 });
    await w.end();
    expect(c.text()).toBe('B,A,C\r\n"x,y",1,\r\n,2,c\r\n');
    expect(parseCsv(c.text())).toEqual([
      ['B', 'A', 'C'],
      ['x,y', '1', ''],
      ['', '2', 'c'],
    ]);
  });

  it('an empty result is the header alone', async () => {
    const c = capture();
    const w = new CsvWriter(c.io, ['SnapshotId', 'Devices']);
    await w.end();
    expect(c.text()).toBe('SnapshotId,Devices\r\n');
  });

  it('recordSink gives CSV with --csv and the JSON array of --json otherwise', async () => {
    const csv = capture();
    const json = capture();
    for (const [c, flags] of [
      [csv, { csv: true }],
      [json, { csv: false }],
    ] as const) {
      const sink = recordSink(c.io, flags, ['a', 'b']);
      await sink.add({ a: 1, b: 'two' });
      await sink.end();
    }
    expect(csv.text()).toBe('a,b\r\n1,two\r\n');
    expect(JSON.parse(json.text())).toEqual([{ a: 1, b: 'two' }]);
  });
});

describe('--csv and --history on the command line', () => {
  it('parses --csv on every command and --history on device', () => {
    for (const argv of [['snapshots'], ['device', 'x'], ['software', 'y'], ['diff', 'a', 'b'], ['trend', 'z']]) {
      expect(parseArgs([...argv, '--csv'])).toMatchObject({ csv: true, json: false });
    }
    expect(parseArgs(['device', 'x', '--history', '--at', '2025-01-01..'])).toMatchObject({ command: 'device', history: true, at: '2025-01-01..' });
    expect(parseArgs(['trend', 'log4j', '--vendor', 'apache', '--kind', 'SoftwareVulnerabilities'])).toMatchObject({
      command: 'trend',
      positionals: ['log4j'],
      vendor: 'apache',
      kind: 'SoftwareVulnerabilities',
    });
  });

  it.each([
    [['snapshots', '--csv', '--json'], '--json and --csv'],
    [['device', 'x', '--json', '--csv'], '--json and --csv'],
    [['software', 'x', '--history'], 'software takes no --history'],
    [['trend', 'x', '--history'], 'trend takes no --history'],
    [['trend'], 'trend needs <product>'],
    [['trend', 'a', 'b'], 'unexpected argument "b"'],
    [['trend', 'a', '--version', '1'], 'trend takes no --version'],
    [['device', 'x', '--csv=yes'], '--csv takes no value'],
    [['device', 'x', '--history=1'], '--history takes no value'],
  ])('%j is a usage error', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});
