import {
  deviceIdFromPartitionKey,
  escapeKeyPart,
  keyPartsFromRowKey,
  MAX_KEY_LENGTH,
  partitionKeyFor,
  productRowKeyRange,
  rowKeyFor,
  rowKeyForParts,
  tripleFromRowKey,
  unescapeKeyPart,
} from '../../shared/storage/tableKeys';

const FORBIDDEN = /[/\\#?\u0000-\u001f\u007f-\u009f]/;

describe('table keys', () => {
  it('escapes every forbidden character reversibly', () => {
    const nasty = 'a/b\\c#d?e\u0000f\u001fg\u007fh\u009fi%j|k~l';
    const escaped = escapeKeyPart(nasty);
    expect(escaped).not.toMatch(FORBIDDEN);
    expect(unescapeKeyPart(escaped)).toBe(nasty);
  });

  it('keeps unicode and case as they are', () => {
    const v = 'Ünïcødé 软件 🚀 Version';
    expect(escapeKeyPart(v)).toBe(v);
    expect(rowKeyFor('Microsoft', 'Edge', '1.0')).toBe('Microsoft|Edge|1.0');
    expect(rowKeyFor('microsoft', 'edge', '1.0')).not.toBe(rowKeyFor('Microsoft', 'Edge', '1.0'));
  });

  it('never lets a separator inside a part collide with another triple', () => {
    expect(rowKeyFor('a|b', 'c', 'd')).not.toBe(rowKeyFor('a', 'b|c', 'd'));
    expect(tripleFromRowKey(rowKeyFor('a|b', 'c/x', 'd#1'))).toEqual(['a|b', 'c/x', 'd#1']);
  });

  it('is deterministic', () => {
    expect(rowKeyFor('v', 'n', '1.2.3')).toBe(rowKeyFor('v', 'n', '1.2.3'));
    expect(partitionKeyFor('9eaf3a8b5962e0e6b1af9ec756664a9b823df2d1')).toBe('9eaf3a8b5962e0e6b1af9ec756664a9b823df2d1');
  });

  it('hashes keys over the limit, keeping a readable prefix, distinct for distinct inputs', () => {
    const v1 = '1.'.repeat(1000);
    const v2 = '1.'.repeat(999) + '2.';
    const k1 = rowKeyFor('vendor', 'name', v1);
    const k2 = rowKeyFor('vendor', 'name', v2);
    expect(k1.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
    expect(k1.startsWith('vendor|name|1.1.')).toBe(true);
    expect(k1).not.toBe(k2);
    expect(k1).toBe(rowKeyFor('vendor', 'name', v1));
    expect(tripleFromRowKey(k1)).toBeUndefined();
    expect(k1).not.toMatch(FORBIDDEN);
  });

  it('does not cut through an escape sequence or a surrogate pair', () => {
    for (let pad = 0; pad < 6; pad++) {
      const v = 'x'.repeat(pad) + '/'.repeat(400);
      const k = rowKeyFor('v', 'n', v);
      expect(k.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
      expect(k).toMatch(/^v\|n\|x*(%2F)*~[0-9a-f]{32}$/);
      const e = '🚀'.repeat(300);
      const ke = rowKeyFor('v'.repeat(pad + 1), 'n', e);
      expect(ke.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
      expect(() => encodeURIComponent(ke)).not.toThrow(); // throws on a lone surrogate
    }
  });

  it('handles long device ids and reverses short ones', () => {
    const long = 'd'.repeat(2000);
    expect(partitionKeyFor(long).length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
    expect(deviceIdFromPartitionKey(partitionKeyFor('dev/1#'))).toBe('dev/1#');
  });

  it('gives a RowKey range that selects every version of one product', () => {
    const { ge, lt } = productRowKeyRange('google', 'chrome');
    for (const v of ['1', '120.0.1', 'zzz']) {
      const k = rowKeyFor('google', 'chrome', v);
      expect(k >= ge && k < lt).toBe(true);
    }
    expect(rowKeyFor('google', 'chrome_beta', '1') >= lt || rowKeyFor('google', 'chrome_beta', '1') < ge).toBe(true);
  });

  describe('strings that are not well-formed UTF-16 (lone surrogates)', () => {
    const wellFormedUrl = (k: string) => expect(() => encodeURIComponent(k)).not.toThrow(); // throws on a lone surrogate

    it('keeps every key of well-formed input exactly as before (stored history depends on them)', () => {
      const long = 'dev/' + 'é😀#'.repeat(200);
      expect(partitionKeyFor(long)).toMatch(/%23é😀%23é😀~d6d4078ee4e81d955cf6bcbebad5d371$/);
      expect(rowKeyFor('Micro%soft', 'x'.repeat(600), '1.0|2')).toMatch(/^Micro%25soft\|x+~e4fed4d3ecf892a3e9b9a26c8702a718$/);
      expect(escapeKeyPart('a%uD800b')).toBe('a%25uD800b');
    });

    it('escapes a lone surrogate reversibly, apart from U+FFFD and from the literal text of its escape', () => {
      const values = ['a\ud800', 'a\udc00', 'a\ufffd', 'a%uD800', '\udbff\ud800x', '😀\ud83d', '\ude00😀'];
      const keys = values.map(partitionKeyFor);
      expect(new Set(keys).size).toBe(values.length);
      for (const [i, k] of keys.entries()) {
        wellFormedUrl(k);
        expect(deviceIdFromPartitionKey(k)).toBe(values[i]);
      }
      expect(partitionKeyFor('a\ud800')).toBe('a%uD800');
      expect(tripleFromRowKey(rowKeyFor('v\ud800', 'n/\udfff', '1'))).toEqual(['v\ud800', 'n/\udfff', '1']);
    });

    it('hashes long keys injectively: a lone surrogate and U+FFFD never share a hashed key', () => {
      const long = 'L'.repeat(MAX_KEY_LENGTH + 50);
      expect(partitionKeyFor(long + '\ud800')).not.toBe(partitionKeyFor(long + '\ufffd'));
      expect(partitionKeyFor(long + '\ud800')).not.toBe(partitionKeyFor(long + '\udc00'));
      expect(rowKeyFor('v', long, '\ud800')).not.toBe(rowKeyFor('v', long, '\ufffd'));
      for (const k of [partitionKeyFor(long + '\ud800'), rowKeyFor('v', long, '\ud800')]) {
        expect(k.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
        wellFormedUrl(k);
      }
    });

    it('never cuts a long key inside a %uXXXX escape', () => {
      for (let pad = 0; pad < 8; pad++) {
        const k = partitionKeyFor('x'.repeat(pad) + '\ud800'.repeat(200));
        expect(k.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
        expect(k).toMatch(/^x*(%uD800)*~[0-9a-f]{32}$/);
      }
    });
  });
});

describe('row keys of any kind (docs/kinds.md#tables-and-keys)', () => {
  it('gives the inventory triple the key it always had', () => {
    expect(rowKeyForParts(['Micro/Soft', 'Edge', '1.0'])).toBe(rowKeyFor('Micro/Soft', 'Edge', '1.0'));
  });

  it('ends in | for an empty last part (a null CVE), distinct from the triple and from every CVE, and reverses', () => {
    const nullCve = rowKeyForParts(['microsoft', 'edge', '1.0', '']);
    expect(nullCve).toBe('microsoft|edge|1.0|');
    expect(nullCve).not.toBe(rowKeyFor('microsoft', 'edge', '1.0'));
    expect(nullCve).not.toBe(rowKeyForParts(['microsoft', 'edge', '1.0', 'CVE-2024-1']));
    expect(keyPartsFromRowKey(nullCve, 4)).toEqual(['microsoft', 'edge', '1.0', '']);
    expect(keyPartsFromRowKey(nullCve, 3)).toBeUndefined();
  });

  it('keeps a separator inside a part from meeting another split of the same text', () => {
    expect(rowKeyForParts(['a|b', 'c', 'd', 'e'])).not.toBe(rowKeyForParts(['a', 'b|c', 'd', 'e']));
    expect(keyPartsFromRowKey(rowKeyForParts(['a|b', 'c', 'd', 'e']), 4)).toEqual(['a|b', 'c', 'd', 'e']);
    const long = 'x'.repeat(MAX_KEY_LENGTH);
    expect(rowKeyForParts([long, 'b|c', 'd', ''])).not.toBe(rowKeyForParts([long + '|b', 'c', 'd', '']));
  });

  it('keeps a one-part key (a configuration id) escaped and reversible', () => {
    expect(rowKeyForParts(['scid-10000'])).toBe('scid-10000');
    expect(keyPartsFromRowKey(rowKeyForParts(['a/b#c|d']), 1)).toEqual(['a/b#c|d']);
  });
});
