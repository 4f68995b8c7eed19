import { mulberry32 } from '../../tools/simulator/fleet';
import { Line, readLines } from '../../shared/ingest/lineReader';

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
    expect(lines.map((l) => [l.number, l.tooLongBytes ?? 0])).toEqual([
      [1, 0],
      [2, 5000],
      [3, 0],
      [4, 0], // 300 bytes, under the 1000-byte cap
    ]);
    expect(lines[1].text).toBe('xxxxxxxxxx');
    const inOne = await collect(['a\n' + 'z'.repeat(2000) + '\nb\n'], 1000);
    expect(inOne.map((l) => [l.number, l.tooLongBytes ?? 0])).toEqual([
      [1, 0],
      [2, 2000],
      [3, 0],
    ]);
  });

  it('gives multi-megabyte lines the same text whether they are ASCII (decoded off-heap) or not', async () => {
    const ascii = `{"a":"${'x'.repeat(3 * 1024 * 1024)}"}`;
    const mixed = `{"a":"${'x'.repeat(3 * 1024 * 1024)}ü€😀"}`;
    const chunked = (text: string) => {
      const b = Buffer.from(`${text}\r\n`, 'utf8');
      const parts: Buffer[] = [];
      for (let i = 0; i < b.length; i += 65536) parts.push(b.subarray(i, i + 65536));
      return parts;
    };
    const lines = await collect([Buffer.from('\ufeff', 'utf8'), ...chunked(ascii), ...chunked(mixed)], 8 << 20);
    expect(lines.map((l) => l.number)).toEqual([1, 2]);
    expect(lines[0].text === ascii).toBe(true);
    expect(lines[1].text === mixed).toBe(true);
    expect(JSON.parse(lines[1].text)).toEqual({ a: `${'x'.repeat(3 * 1024 * 1024)}ü€😀` });
  });

  it('handles an empty stream and a last line without newline', async () => {
    expect(await collect([])).toEqual([]);
    expect(await collect(['a\nb'])).toEqual([
      { number: 1, text: 'a' },
      { number: 2, text: 'b' },
    ]);
  });
});

describe('line reader against a reference', () => {
  /** The contract, spelled out simply: split the whole stream on LF, decode each line on its own. */
  function reference(bytes: Buffer, maxLineBytes: number, excerptBytes: number): Line[] {
    const out: Line[] = [];
    let start = 0;
    let number = 0;
    while (start < bytes.length) {
      let end = bytes.indexOf(0x0a, start);
      const last = end < 0;
      if (last) end = bytes.length;
      number++;
      const seg = bytes.subarray(start, end);
      if (seg.length > maxLineBytes) {
        out.push({ number, text: seg.toString('utf8', 0, excerptBytes), tooLongBytes: seg.length });
      } else {
        let b = seg;
        if (b.length && b[b.length - 1] === 0x0d) b = b.subarray(0, -1);
        if (number === 1 && b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
        const text = b.toString('utf8');
        if (text.trim().length > 0) out.push({ number, text });
      }
      start = end + 1;
    }
    return out;
  }

  const rng = mulberry32;

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('gives the same lines for any chunking, content and cap (seed %i)', async (seed) => {
    const r = rng(seed);
    const pieces = ['{"a":1}', 'ü', '软件', '🚀', ' ', '\t', '\r', '\r\n', '\n', '\n\n', 'x'.repeat(50), '"quoted"', '\u2028'];
    const parts: Buffer[] = [];
    if (r() < 0.3) parts.push(Buffer.from([0xef, 0xbb, 0xbf]));
    for (let i = 0; i < 400; i++) {
      if (r() < 0.03)
        parts.push(Buffer.from([0xe2, 0x82])); // a truncated UTF-8 sequence
      else if (r() < 0.02) parts.push(Buffer.from('y'.repeat(Math.floor(r() * 400))));
      else parts.push(Buffer.from(pieces[Math.floor(r() * pieces.length)], 'utf8'));
    }
    const bytes = Buffer.concat(parts);
    const maxLineBytes = 60 + Math.floor(r() * 200);
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length;) {
      const n = 1 + Math.floor(r() * (r() < 0.5 ? 8 : 300));
      chunks.push(Buffer.from(bytes.subarray(at, at + n)));
      at += n;
    }
    const got: Line[] = [];
    async function* src() {
      for (const c of chunks) yield c;
    }
    for await (const l of readLines(src(), { maxLineBytes, excerptBytes: 10 })) got.push(l);
    expect(got).toEqual(reference(bytes, maxLineBytes, 10));
  });
});
