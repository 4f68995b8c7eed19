// Reading --csv output back in tests: a strict RFC 4180 reader, so a writer bug cannot hide behind a lenient one.

/** A strict RFC 4180 reader, to prove the writer's output reads back to the same fields. */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        if (q < 0) throw new Error('unterminated quote');
        field += text.slice(i, q);
        i = q + 1;
        if (text[i] === '"') {
          field += '"';
          i++;
        } else break;
      }
    } else {
      const end = text.slice(i).search(/,|\r\n/);
      if (end < 0) throw new Error('record without CRLF');
      field = text.slice(i, i + end);
      if (/["\r\n]/.test(field)) throw new Error(`bare quote, CR or LF in an unquoted field: ${JSON.stringify(field)}`);
      i += end;
    }
    fields.push(field);
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text.slice(i, i + 2) !== '\r\n') throw new Error(`expected CRLF at ${i}`);
    i += 2;
    records.push(fields);
    fields = [];
    if (i === text.length) return records;
  }
}
