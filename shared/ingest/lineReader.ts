// Splits a decompressed byte stream into lines without ever holding more than one line (up to a cap)
// beyond the chunk at hand. Splitting on the LF byte keeps multi-byte UTF-8 characters whole across
// chunks. A chunk's whole lines are decoded with one toString and handed out as slices of it, and the
// chunk itself is let go before its lines are consumed.
import { isAscii } from 'node:buffer';

export interface Line {
  /** 1-based physical line number (blank lines count, so numbers match the file) */
  number: number;
  /** the line's text without its CR/LF; for an over-long line only its first excerptChars */
  text: string;
  /** set when the line was longer than maxLineBytes; text is then just an excerpt */
  tooLongBytes?: number;
}

export interface LineReaderOptions {
  /** longer lines are reported (tooLongBytes) instead of being buffered */
  maxLineBytes: number;
  /** how much of an over-long line to keep for the reject excerpt */
  excerptBytes?: number;
}
const LF = 0x0a;
const CR = 0x0d;

/** Over this, an all-ASCII line is decoded as latin1 (the same text), which Node returns as an external string. */
const EXTERNAL_LINE_BYTES = 1024 * 1024;

function decode(buf: Buffer, start: number, end: number, first: boolean): string {
  if (end > start && buf[end - 1] === CR) end--;
  // a UTF-8 BOM may open the file
  if (first && end - start >= 3 && buf[start] === 0xef && buf[start + 1] === 0xbb && buf[start + 2] === 0xbf) start += 3;
  // A multi-megabyte line decoded as UTF-8 is a string on the V8 heap, which V8 lets grow by ~100 MB of such dead
  // lines before its first full collection; latin1 output of that size lives outside the heap and is counted as
  // external memory, which V8 collects much sooner. For ASCII bytes both decodings give the same text.
  if (end - start > EXTERNAL_LINE_BYTES && isAscii(buf.subarray(start, end))) return buf.toString('latin1', start, end);
  return buf.toString('utf8', start, end);
}

/**
 * The unfinished line's bytes, in one buffer that is reused from line to line and grows (up to the line
 * cap) only when a line needs it. Per-chunk copies joined at the line's end would allocate the line twice
 * more off-heap on every long line; a crafted file of multi-megabyte lines then holds tens of MB of dead
 * buffers until the next major GC.
 */
class Carry {
  bytes = Buffer.allocUnsafe(64 * 1024);
  length = 0;

  append(src: Buffer, start: number, end: number): void {
    const need = this.length + (end - start);
    if (need > this.bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.bytes.length * 2));
      this.bytes.copy(grown, 0, 0, this.length);
      this.bytes = grown;
    }
    src.copy(this.bytes, this.length, start, end);
    this.length = need;
  }

  /** The first `max` bytes of the carried bytes followed by src[start, end), as text. */
  excerpt(src: Buffer, start: number, end: number, max: number): string {
    this.append(src, start, Math.min(end, start + Math.max(0, max - this.length)));
    return this.bytes.toString('utf8', 0, Math.min(this.length, max));
  }

  clear(): void {
    this.length = 0;
  }
}

function isBlank(text: string): boolean {
  return text.length === 0 || text.trim().length === 0;
}

/** Yields non-blank lines. Blank lines are skipped but still advance the line number. */
export async function* readLines(source: AsyncIterable<Buffer>, opts: LineReaderOptions): AsyncGenerator<Line> {
  const excerptBytes = opts.excerptBytes ?? 4096;
  const pending = new Carry(); // the bytes of the current, unfinished line
  let over = false; // the current line exceeded the cap
  let overBytes = 0; // its bytes seen so far (before the chunk that ends it)
  let overLongExcerpt = '';
  let number = 0;

  const finish = (tail: Buffer, start: number, end: number): Line | undefined => {
    number++;
    const first = number === 1;
    if (over) {
      const line: Line = { number, text: overLongExcerpt, tooLongBytes: overBytes + (end - start) };
      over = false;
      overBytes = 0;
      overLongExcerpt = '';
      return line;
    }
    let text: string;
    if (pending.length > 0) {
      pending.append(tail, start, end);
      text = decode(pending.bytes, 0, pending.length, first);
      pending.clear();
    } else {
      text = decode(tail, start, end, first);
    }
    return isBlank(text) ? undefined : { number, text };
  };

  const it = source[Symbol.asyncIterator]();
  const ready: Line[] = [];
  for (;;) {
    let next: IteratorResult<Buffer> | undefined = await it.next();
    if (next.done) break;
    let chunk: Buffer | undefined = next.value;
    next = undefined;
    let pos = 0;
    // 1. the line that started in an earlier chunk (or any line over the cap): byte by byte, as it came
    let nl = chunk.indexOf(LF, pos);
    while (nl >= 0 && (pending.length > 0 || over || nl - pos > opts.maxLineBytes)) {
      if (!over && pending.length + (nl - pos) > opts.maxLineBytes) {
        // the line ends in this chunk but is over the cap: report it like any other over-long line
        overBytes = pending.length;
        overLongExcerpt = pending.excerpt(chunk, pos, nl, excerptBytes);
        over = true;
        pending.clear();
      }
      const line = finish(chunk, pos, nl);
      if (line) ready.push(line);
      pos = nl + 1;
      nl = chunk.indexOf(LF, pos);
    }
    // 2. the chunk's other whole lines: decoded in one go (LF never occurs inside a UTF-8 sequence, so
    //    each LF byte is exactly one '\n' character), then cut into lines
    const last = chunk.lastIndexOf(LF);
    if (last >= pos) {
      const text = chunk.toString('utf8', pos, last);
      let c = 0;
      for (;;) {
        const lf = nl === last ? -1 : chunk.indexOf(LF, nl + 1);
        const bytes = nl - pos;
        const end = lf < 0 && nl === last ? text.length : text.indexOf('\n', c);
        number++;
        if (bytes > opts.maxLineBytes) {
          ready.push({ number, text: chunk.toString('utf8', pos, Math.min(nl, pos + excerptBytes)), tooLongBytes: bytes });
        } else {
          let line = text.slice(c, end);
          if (line.length > 0 && line.charCodeAt(line.length - 1) === 0x0d) line = line.slice(0, -1);
          if (number === 1 && line.charCodeAt(0) === 0xfeff) line = line.slice(1);
          if (!isBlank(line)) ready.push({ number, text: line });
        }
        c = end + 1;
        pos = nl + 1;
        if (nl === last) break;
        nl = lf;
      }
    }
    // 3. the start of a line that ends in a later chunk
    if (pos < chunk.length) {
      const rest = chunk.length - pos;
      if (over) {
        overBytes += rest;
      } else if (pending.length + rest > opts.maxLineBytes) {
        // over the cap: keep an excerpt, drop the rest as it streams by
        overBytes = pending.length + rest;
        overLongExcerpt = pending.excerpt(chunk, pos, chunk.length, excerptBytes);
        over = true;
        pending.clear();
      } else {
        // copied: the source may reuse its buffer
        pending.append(chunk, pos, chunk.length);
      }
    }
    // the chunk is not needed while its lines are consumed (which may take a while: writes apply
    // backpressure), so it can be freed young instead of surviving into the old generation
    chunk = undefined;
    for (let i = 0; i < ready.length; i++) yield ready[i];
    ready.length = 0;
  }
  if (pending.length > 0 || over) {
    const line = finish(Buffer.alloc(0), 0, 0);
    if (line) yield line;
  }
}
