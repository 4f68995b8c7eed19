import { COLUMN_DATE, INSTANT, parseTimestamp } from '../../shared/core/timestamps';

const iso = (text: string, form = COLUMN_DATE) => parseTimestamp(text, form)?.toISOString();

describe('Defender timestamps (one parser for export columns and generatedTime)', () => {
  it.each([
    // the export files' form: no zone = UTC
    ['2020-11-03 10:13:34', '2020-11-03T10:13:34.000Z'],
    ['2020-11-03 10:13:34.8476880', '2020-11-03T10:13:34.847Z'],
    ['2020-11-03 10:13:34.8', '2020-11-03T10:13:34.800Z'],
    ['2020-11-03 10:13:34.12', '2020-11-03T10:13:34.120Z'],
    ['2020-11-03 10:13:34.123456789', '2020-11-03T10:13:34.123Z'],
    // ISO forms
    ['2021-01-11T11:01:00Z', '2021-01-11T11:01:00.000Z'],
    ['2021-01-11t11:01:00z', '2021-01-11T11:01:00.000Z'],
    ['2021-01-11T11:01:00.5Z', '2021-01-11T11:01:00.500Z'],
    ['2021-01-11T11:01:00', '2021-01-11T11:01:00.000Z'],
    ['2021-01-11T11:01', '2021-01-11T11:01:00.000Z'],
    ['2021-01-11T13:01:00+02:00', '2021-01-11T11:01:00.000Z'],
    ['2021-01-11T06:31:00-0430', '2021-01-11T11:01:00.000Z'],
    ['2021-01-11 11:01:00 Z', '2021-01-11T11:01:00.000Z'],
    ['2021-01-11T23:30:00-01:00', '2021-01-12T00:30:00.000Z'],
    // calendar edges
    ['2020-02-29 00:00:00', '2020-02-29T00:00:00.000Z'],
    ['2000-02-29 00:00:00', '2000-02-29T00:00:00.000Z'],
    ['2021-12-31 23:59:59.999', '2021-12-31T23:59:59.999Z'],
    ['9999-12-31 23:59:59.9999999', '9999-12-31T23:59:59.999Z'],
    // years before 100 are themselves, not 19xx (whichever path reads them)
    ['0001-01-01 00:00:00', '0001-01-01T00:00:00.000Z'],
    ['0099-12-31T23:00:00-01:00', '0100-01-01T00:00:00.000Z'],
  ])('reads %j as %s in either form', (text, expected) => {
    expect(iso(text, COLUMN_DATE)).toBe(expected);
    expect(iso(text, INSTANT)).toBe(expected);
  });

  it.each([
    '',
    'yesterday',
    '1610362860',
    '03/11/2020',
    '2020-1-03 10:13:34',
    ' 2020-11-03 10:13:34',
    '2020-11-03 10:13:34.',
    '2020-11-03 10:13:34.x',
    '2020-11-03 10:13:34Zjunk',
    '2020-11-03  10:13:34',
    '2020-11-03 10:13:3',
    '2020-11-03 10:13:34+1',
  ])('refuses %j, which is no timestamp form', (text) => {
    expect(parseTimestamp(text, COLUMN_DATE)).toBeUndefined();
    expect(parseTimestamp(text, INSTANT)).toBeUndefined();
  });

  it.each([
    '2021-13-01 00:00:00',
    '2021-00-10 00:00:00',
    '2021-01-00 00:00:00',
    '2021-01-32 00:00:00',
    '2021-02-29 00:00:00',
    '1900-02-29 00:00:00',
    '2021-04-31T00:00:00Z',
    '2021-01-11 24:00:00',
    '2021-01-11 23:60:00',
    '2021-01-11 23:59:60',
    '2021-01-11T11:01:00+24:00',
    '2021-01-11T11:01:00+25:00',
    '2021-01-11T11:01:00-05:60',
    '0099-02-29 00:00:00',
  ])('refuses the out-of-range %j instead of rolling it over', (text) => {
    expect(parseTimestamp(text, COLUMN_DATE)).toBeUndefined();
    expect(parseTimestamp(text, INSTANT)).toBeUndefined();
  });

  describe('export columns (COLUMN_DATE)', () => {
    it('reads a bare date as midnight UTC', () => {
      expect(iso('2020-12-30')).toBe('2020-12-30T00:00:00.000Z');
      expect(iso('0000-02-29')).toBe('0000-02-29T00:00:00.000Z');
    });

    it('refuses more than 9 fractional digits', () => {
      expect(iso('2020-11-03 10:13:34.1234567890')).toBeUndefined();
      expect(iso('2020-11-03T10:13:34.1234567890+01:00')).toBeUndefined();
    });
  });

  describe('an instant such as generatedTime (INSTANT)', () => {
    it('requires the time of day', () => {
      expect(iso('2021-01-11', INSTANT)).toBeUndefined();
      expect(iso('2021-01-11Z', INSTANT)).toBeUndefined();
    });

    it('reads any number of fractional digits, keeping milliseconds', () => {
      expect(iso('2021-01-11T11:01:00.1234567890123Z', INSTANT)).toBe('2021-01-11T11:01:00.123Z');
    });
  });
});
