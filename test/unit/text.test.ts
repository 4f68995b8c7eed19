import { prefixAtCodePoint, shorten } from '../../shared/core/text';

const wellFormed = (s: string) => !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);

describe('cutting text on code-point boundaries', () => {
  it('never splits a surrogate pair, whatever the length asked for', () => {
    const text = 'ab😀cd😀😀e';
    for (let max = 0; max <= text.length + 1; max++) {
      const p = prefixAtCodePoint(text, max);
      expect(p.length).toBeLessThanOrEqual(max);
      expect(text.startsWith(p)).toBe(true);
      expect(wellFormed(p)).toBe(true);
      const s = shorten(text, Math.max(1, max));
      expect(wellFormed(s)).toBe(true);
      expect(s.length).toBeLessThanOrEqual(Math.max(1, max));
    }
  });

  it('keeps text that fits whole and marks a cut with an ellipsis', () => {
    expect(shorten('abc', 3)).toBe('abc');
    expect(shorten('abcd', 3)).toBe('ab…');
    expect(shorten('a😀b', 3)).toBe('a…');
  });
});
