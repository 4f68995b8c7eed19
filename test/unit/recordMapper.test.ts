import {
  cachedColumnNames,
  fitJsonArray,
  mapLine,
  mapRecord,
  MAX_EXTRA_NAMES,
  MAX_STRING_LENGTH,
  parseDefenderDate,
  ExtraColumns,
} from '../../shared/ingest/recordMapper';
import { isWellFormed } from '../../shared/core/text';
import { MAX_KEY_LENGTH } from '../../shared/storage/tableKeys';

const camel = {
  deviceId: '00044f68765bbaf712342dbe6db733b6a9c59ab4',
  rbacGroupName: 'hhh',
  deviceName: 'wks-1.corp.contoso.com',
  osPlatform: 'Windows10',
  softwareVendor: 'microsoft',
  softwareName: '.net_framework',
  softwareVersion: '4.0.0.0',
  numberOfWeaknesses: 3,
  diskPaths: [],
  registryPaths: ['SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4.0\\Client\\Install'],
  softwareFirstSeenTimestamp: '2020-12-30 11:07:15',
  endOfSupportStatus: 'None',
  endOfSupportDate: null,
};

describe('record mapping', () => {
  it('maps camelCase records to typed PascalCase entities', () => {
    const r = mapRecord(camel);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.entity).toEqual({
      partitionKey: camel.deviceId,
      rowKey: 'microsoft|.net_framework|4.0.0.0',
      DeviceId: camel.deviceId,
      DeviceName: 'wks-1.corp.contoso.com',
      OSPlatform: 'Windows10',
      RbacGroupName: 'hhh',
      SoftwareVendor: 'microsoft',
      SoftwareName: '.net_framework',
      SoftwareVersion: '4.0.0.0',
      EndOfSupportStatus: 'None',
      NumberOfWeaknesses: 3,
      SoftwareFirstSeenTimestamp: new Date('2020-12-30T11:07:15Z'),
      DiskPaths: '[]',
      RegistryPaths: JSON.stringify(camel.registryPaths),
    });
    expect('EndOfSupportDate' in r.entity).toBe(false);
  });

  it('maps PascalCase and mixed case the same way', () => {
    const pascal = Object.fromEntries(Object.entries(camel).map(([k, v]) => [k[0].toUpperCase() + k.slice(1), v]));
    const upper = Object.fromEntries(Object.entries(camel).map(([k, v]) => [k.toUpperCase(), v]));
    expect(mapRecord(pascal)).toEqual(mapRecord(camel));
    expect(mapRecord(upper)).toEqual(mapRecord(camel));
  });

  it('stores vendor, name and version exactly as received (case, spaces)', () => {
    const r = mapRecord({ ...camel, softwareVendor: ' Micro/Soft ', softwareName: 'Edge#?', softwareVersion: ' 1.0 ' });
    expect(r.ok && [r.entity.SoftwareVendor, r.entity.SoftwareName, r.entity.SoftwareVersion]).toEqual([' Micro/Soft ', 'Edge#?', ' 1.0 ']);
    expect(r.ok && r.entity.rowKey).toBe(' Micro%2FSoft |Edge%23%3F| 1.0 ');
  });

  it('ignores and reports undocumented columns', () => {
    const extras = new ExtraColumns();
    const r = mapRecord({ ...camel, cveIds: ['CVE-1'], softwareLastSeenTimestamp: 'x' }, extras);
    expect(r.ok).toBe(true);
    expect(r.ok && 'cveIds' in r.entity).toBe(false);
    expect([...extras.names].sort()).toEqual(['cveIds', 'softwareLastSeenTimestamp']);
  });

  it.each([
    [{ ...camel, deviceId: undefined }, 'missing DeviceId'],
    [{ ...camel, softwareVendor: null }, 'missing SoftwareVendor'],
    [{ ...camel, softwareName: '' }, 'missing SoftwareName'],
    [{ ...camel, softwareVersion: 4 }, 'SoftwareVersion: expected a string, got number'],
    [{ ...camel, numberOfWeaknesses: '3' }, 'NumberOfWeaknesses: expected a 32-bit whole number'],
    [{ ...camel, numberOfWeaknesses: 1.5 }, 'NumberOfWeaknesses: expected a 32-bit whole number'],
    [{ ...camel, numberOfWeaknesses: 2 ** 31 }, 'NumberOfWeaknesses: expected a 32-bit whole number'],
    [{ ...camel, diskPaths: 'C:\\x' }, 'DiskPaths: expected an array of strings'],
    [{ ...camel, registryPaths: [1] }, 'RegistryPaths: expected an array of strings'],
    [{ ...camel, softwareFirstSeenTimestamp: 'yesterday' }, 'SoftwareFirstSeenTimestamp: "yesterday" is not a date'],
    [{ ...camel, endOfSupportDate: '2021-02-30' }, 'EndOfSupportDate: "2021-02-30" is not a date'],
    [{ ...camel, deviceName: 7 }, 'DeviceName: expected a string, got number'],
    [{ ...camel, DeviceId: 'other' }, 'column DeviceId appears twice'],
    [[1, 2], 'expected a JSON object, got array'],
  ])('rejects %#', (rec, reason) => {
    const r = mapRecord(rec);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain(reason);
  });

  it('rejects malformed JSON with a reason', () => {
    const r = mapLine('{"deviceId": "a",');
    expect(!r.ok && r.reason).toMatch(/^malformed JSON/);
  });

  it('parses Defender date forms as UTC', () => {
    expect(parseDefenderDate('2019-04-07 02:06:47')).toEqual(new Date('2019-04-07T02:06:47Z'));
    expect(parseDefenderDate('2019-04-07 02:06:47.1234567')).toEqual(new Date('2019-04-07T02:06:47.123Z'));
    expect(parseDefenderDate('2021-05-11T00:00:00+00:00')).toEqual(new Date('2021-05-11T00:00:00Z'));
    expect(parseDefenderDate('2021-05-11T02:00:00+02:00')).toEqual(new Date('2021-05-11T00:00:00Z'));
    expect(parseDefenderDate('2020-12-30')).toEqual(new Date('2020-12-30T00:00:00Z'));
    expect(parseDefenderDate('2020-12-30T10:00:00Z')).toEqual(new Date('2020-12-30T10:00:00Z'));
    expect(parseDefenderDate('2020-13-01')).toBeUndefined();
  });

  it('omits empty dates', () => {
    const r = mapRecord({ ...camel, endOfSupportDate: '', softwareFirstSeenTimestamp: null });
    expect(r.ok && 'EndOfSupportDate' in r.entity).toBe(false);
    expect(r.ok && 'SoftwareFirstSeenTimestamp' in r.entity).toBe(false);
  });

  describe('path arrays at the string limit', () => {
    // JSON of n elements of length L: 2 + n*(L+2) + (n-1)
    const element = (len: number) => 'p'.repeat(len);
    it('keeps exactly 32,768 characters whole', () => {
      const items = [element(MAX_STRING_LENGTH - 4)]; // ["..."] = L + 4
      const r = fitJsonArray(items);
      expect(r.json.length).toBe(MAX_STRING_LENGTH);
      expect(r.truncated).toBe(false);
    });
    it('cuts one over to the whole elements that fit, still valid JSON, and flags it', () => {
      const items = [element(100), element(MAX_STRING_LENGTH - 4 - 100 - 2)]; // one char too many
      const r = fitJsonArray(items);
      expect(r.truncated).toBe(true);
      expect(JSON.parse(r.json)).toEqual([element(100)]);
      const m = mapRecord({ ...camel, diskPaths: items, registryPaths: items });
      expect(m.ok && m.entity.DiskPathsTruncated).toBe(true);
      expect(m.ok && m.entity.RegistryPathsTruncated).toBe(true);
    });
    it('counts UTF-16 code units and JSON escapes', () => {
      const items = Array.from({ length: 5000 }, (_, i) => `C:\\Program Files\\🚀\\${i}`);
      const r = fitJsonArray(items);
      expect(r.truncated).toBe(true);
      expect(r.json.length).toBeLessThanOrEqual(MAX_STRING_LENGTH);
      const kept = JSON.parse(r.json) as string[];
      expect(kept).toEqual(items.slice(0, kept.length));
      expect(JSON.stringify(items.slice(0, kept.length + 1)).length).toBeGreaterThan(MAX_STRING_LENGTH);
    });
  });

  it('maps a 2,000-character version to a key within the limit', () => {
    const version = '9.'.repeat(1000);
    const r = mapRecord({ ...camel, softwareVersion: version });
    expect(r.ok && r.entity.rowKey.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
    expect(r.ok && r.entity.SoftwareVersion).toBe(version);
  });

  describe('lone surrogates (not well-formed UTF-16)', () => {
    it('maps them to U+FFFD in every stored property, keeps the exact text in the keys, and counts the row once', () => {
      const extras = new ExtraColumns();
      const rec = {
        ...camel,
        deviceId: 'd\ud800',
        deviceName: 'n\udc00',
        osPlatform: 'o\ud800',
        rbacGroupName: 'r\ud800',
        softwareVendor: 'v\ud800',
        softwareName: 's\udfff',
        softwareVersion: '1\ud800',
        endOfSupportStatus: 'e\ud800',
        diskPaths: ['C:\\\ud800', 'ok'],
        registryPaths: ['HKLM\\\udc00'],
      };
      const r = mapRecord(rec, extras);
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      for (const v of Object.values(r.entity)) if (typeof v === 'string') expect(isWellFormed(v)).toBe(true);
      expect(r.entity).toMatchObject({ DeviceId: 'd\ufffd', DeviceName: 'n\ufffd', SoftwareName: 's\ufffd', SoftwareVersion: '1\ufffd' });
      expect(JSON.parse(r.entity.DiskPaths!)).toEqual(['C:\\\ufffd', 'ok']);
      expect(r.entity.partitionKey).toBe('d%uD800');
      expect(r.entity.rowKey).toBe('v%uD800|s%uDFFF|1%uD800');
      mapRecord({ ...camel, softwareName: 'x\ud800' }, extras);
      mapRecord(camel, extras);
      expect(extras.replacedRows).toBe(2);
      expect(extras.messages()).toEqual([
        '2 row(s) stored with lone surrogates (not well-formed UTF-16) replaced by U+FFFD in DeviceId, DeviceName, DiskPaths, EndOfSupportStatus, OSPlatform, RbacGroupName, RegistryPaths, SoftwareName, SoftwareVendor, SoftwareVersion; their keys keep the exact text',
      ]);
    });

    it('quotes a bad value in a reason without splitting a surrogate pair', () => {
      const r = mapRecord({ ...camel, softwareFirstSeenTimestamp: `${'x'.repeat(39)}😀 later` });
      expect(!r.ok && r.reason).toBe(`SoftwareFirstSeenTimestamp: "${'x'.repeat(39)}" is not a date`);
    });
  });

  describe('dates outside Table Storage DateTime range (1601-01-01 to 9999-12-31 UTC)', () => {
    it('reads years before 100 as themselves, not as 19xx', () => {
      expect(parseDefenderDate('0001-01-01 00:00:00')!.toISOString()).toBe('0001-01-01T00:00:00.000Z');
      expect(parseDefenderDate('0000-02-29')!.toISOString()).toBe('0000-02-29T00:00:00.000Z');
      expect(parseDefenderDate('0099-12-31T23:00:00-01:00')!.toISOString()).toBe('0100-01-01T00:00:00.000Z');
      expect(parseDefenderDate('1900-02-29')).toBeUndefined();
    });

    it('stores the row without the date and counts it, instead of rejecting the row', () => {
      const extras = new ExtraColumns();
      const sentinel = mapRecord({ ...camel, softwareFirstSeenTimestamp: '0001-01-01T00:00:00', endOfSupportDate: '0001-01-01' }, extras);
      expect(sentinel.ok).toBe(true);
      expect(sentinel.ok && ['SoftwareFirstSeenTimestamp' in sentinel.entity, 'EndOfSupportDate' in sentinel.entity]).toEqual([false, false]);
      const late = mapRecord({ ...camel, endOfSupportDate: '9999-12-31T23:30:00-01:00' }, extras);
      expect(late.ok && 'EndOfSupportDate' in late.entity).toBe(false);
      expect(late.ok && late.entity.SoftwareFirstSeenTimestamp).toEqual(new Date('2020-12-30T11:07:15Z'));
      const edges = mapRecord({ ...camel, softwareFirstSeenTimestamp: '1601-01-01 00:00:00', endOfSupportDate: '9999-12-31 23:59:59.9999999' }, extras);
      expect(edges.ok && edges.entity.SoftwareFirstSeenTimestamp).toEqual(new Date('1601-01-01T00:00:00Z'));
      expect(edges.ok && edges.entity.EndOfSupportDate).toEqual(new Date('9999-12-31T23:59:59.999Z'));
      expect(mapRecord({ ...camel, softwareFirstSeenTimestamp: '1600-12-31 23:59:59.999' }, extras).ok).toBe(true);
      expect(extras.droppedDateRows).toBe(3);
      expect(extras.messages()).toEqual([
        "3 row(s) stored without a date outside Table Storage's range (1601-01-01 to 9999-12-31 UTC) in EndOfSupportDate, SoftwareFirstSeenTimestamp",
      ]);
    });
  });

  describe('bounded memory and safe logs against crafted column names', () => {
    it('does not cache long column names', () => {
      const before = cachedColumnNames();
      for (let i = 0; i < 50; i++) mapRecord({ ...camel, [`${'k'.repeat(100_000)}${i}`]: 1 });
      expect(cachedColumnNames()).toBe(before);
      mapRecord({ ...camel, shortUndocumentedName: 1 });
      expect(cachedColumnNames()).toBe(before + 1);
    });

    it('keeps undocumented names cut, escaped and few, so their log line is one bounded line', () => {
      const extras = new ExtraColumns();
      const forged = 'x\n2026-01-01T00:00:00Z error snapshot failed\r\u0085\u2028"';
      mapRecord({ ...camel, [forged]: 1, ['L'.repeat(10_000)]: 1, ['y'.repeat(99) + '😀']: 1 }, extras);
      const few = new ExtraColumns();
      for (let i = 0; i < 3; i++) mapRecord({ ...camel, ['L'.repeat(10_000)]: 1, cveIds: [] }, few);
      expect(few.messages()).toEqual([`ignored 2 undocumented column(s): ${'L'.repeat(100)}…, cveIds`]);
      for (let i = 0; i < 500; i++) mapRecord({ ...camel, [`col${i}\n${'z'.repeat(1000)}`]: 1 }, extras);
      const messages = extras.messages();
      expect(messages).toHaveLength(1);
      const [line] = messages;
      expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
      expect(isWellFormed(line)).toBe(true);
      expect(line.length).toBeLessThan(MAX_EXTRA_NAMES * 700);
      expect(line).toContain('x\\n2026-01-01T00:00:00Z error snapshot failed\\r\\u0085\\u2028\\"');
      expect(line).toContain(`${'L'.repeat(100)}…`);
      expect(line).toContain(`${'y'.repeat(99)}…`); // not half of the emoji
      expect(line).toMatch(/^ignored 100\+ undocumented column\(s\): /);
      expect(extras.names.size).toBe(MAX_EXTRA_NAMES);
    });
  });
});
