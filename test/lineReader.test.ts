import { Line, readLines } from '../shared/lineReader';

async function collect(chunks: (string | Buffer)[], maxLineBytes = 1 << 20): Promise<Line[]> {
  async function* src() {
    for (const c of chunks) yield Buffer.isBuffer(c) ? c : Buffer.from(c, 'utf8');
  }
  const out: Line[] = [];
  for await (const l of readLines(src(), { maxLineBytes, excerptBytes: 10 })) out.push(l);
  return out;
}

describe('line reader', () => {
  it('splits LF and CRLF, strips a BOM, skips blank lines but counts them', async () => {
    const lines = await collect(['\ufeff{"a":1}\r\n\r\n', '  \n{"b"', ':2}\n{"c":3}']);
    expect(lines).toEqual([
      { number: 1, text: '{"a":1}' },
      { number: 4, text: '{"b":2}' },
      { number: 5, text: '{"c":3}' },
    ]);
  });

  it('keeps multi-byte characters split across chunks whole', async () => {
    const bytes = Buffer.from('{"n":"软件🚀"}\n', 'utf8');
    const chunks = Array.from(bytes).map((b) => Buffer.from([b]));
    expect((await collect(chunks))[0].text).toBe('{"n":"软件🚀"}');
  });

  it('reports an over-long line with an excerpt instead of buffering it, then carries on', async () => {
    const long = 'x'.repeat(5000);
    const lines = await collect(['ok1\n', long.slice(0, 2000), long.slice(2000), '\nok2\n', 'y'.repeat(300) + '\n'], 1000);
    expect(lines.map((l) => [l.number, l.tooLongBytes ?? 0])).toEqual([[1, 0], [2, 5000], [3, 0], [4, 300 > 1000 ? 300 : 0]]);
    expect(lines[1].text).toBe('xxxxxxxxxx');
    const inOne = await collect(['a\n' + 'z'.repeat(2000) + '\nb\n'], 1000);
    expect(inOne.map((l) => [l.number, l.tooLongBytes ?? 0])).toEqual([[1, 0], [2, 2000], [3, 0]]);
  });

  it('handles an empty stream and a last line without newline', async () => {
    expect(await collect([])).toEqual([]);
    expect(await collect(['a\nb'])).toEqual([{ number: 1, text: 'a' }, { number: 2, text: 'b' }]);
  });
});
