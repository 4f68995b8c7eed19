// Mapping of the three sibling kinds (docs/kinds.md#stored-types): every documented column with its stored
// type, camelCase and PascalCase, the type variants Defender's docs and payloads disagree on, the null CVE,
// Timestamp stored as AssessmentTimestamp, per-kind undocumented columns, and specific reject reasons.
import { EdmDouble, SnapshotEntity } from '../../shared/core/contracts';
import { ExtraColumns, mapLine, mapRecord, MapResult, parseDefenderDate } from '../../shared/ingest/recordMapper';
import { ExportKind } from '../../shared/kinds/exportKinds';
import { keyPartsFromRowKey, MAX_KEY_LENGTH, partitionKeyFor } from '../../shared/storage/tableKeys';

const double = (value: number): EdmDouble => ({ value, type: 'Double' });

function entityOf(r: MapResult): SnapshotEntity {
  if (!r.ok) throw new Error(`rejected: ${r.reason}`);
  return r.entity;
}

const pascal = (rec: Record<string, unknown>) => Object.fromEntries(Object.entries(rec).map(([k, v]) => [k[0].toUpperCase() + k.slice(1), v]));

// Field names as payloads send them (camelCase); `osPlatform` is documented `OSPlatform`, matched ignoring case.
const vulnerability = {
  id: '00044f68765bbaf712342dbe6db733b6a9c59ab4_microsoft_.net_framework_4.0.0.0_CVE-2020-1147',
  deviceId: '00044f68765bbaf712342dbe6db733b6a9c59ab4',
  rbacGroupName: 'hhh',
  deviceName: 'wks-1.corp.contoso.com',
  osPlatform: 'Windows10',
  softwareVendor: 'microsoft',
  softwareName: '.net_framework',
  softwareVersion: '4.0.0.0',
  cveId: 'CVE-2020-1147',
  vulnerabilitySeverityLevel: 'High',
  recommendedSecurityUpdate: 'July 2020 Security Updates',
  recommendedSecurityUpdateId: '4565627',
  diskPaths: ['C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319'],
  registryPaths: ['HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full'],
  lastSeenTimestamp: '2020-11-03 10:13:34.8476880',
  firstSeenTimestamp: '2020-11-03T10:13:34Z',
  exploitabilityLevel: 'NoExploit',
  recommendationReference: 'va-_-microsoft-_-.net_framework',
  securityUpdateAvailable: true,
  cvssScore: 8.8,
};

const nonCpe = {
  deviceId: 'd1',
  deviceName: 'wks-2',
  osPlatform: 'Windows11',
  rbacGroupName: 'Workstations',
  rbacGroupId: 42,
  softwareLastSeenTimestamp: '2024-01-02 03:04:05',
  softwareName: 'contoso line-of-business app',
  softwareVendor: 'contoso',
  softwareVersion: '2.1',
};

const configuration = {
  deviceId: 'd1',
  deviceName: 'wks-2',
  osPlatform: 'Windows10',
  rbacGroupName: 'Workstations',
  timestamp: '2021-03-22 20:55:38.6410000',
  configurationId: 'scid-10000',
  configurationCategory: 'Security controls',
  configurationSubcategory: '',
  configurationImpact: 9,
  configurationName: 'Set screen lock',
  isApplicable: true,
  isCompliant: 'false',
  isExpectedUserImpact: 'True',
  recommendationReference: 'sca-_-scid-10000',
};

describe('SoftwareVulnerabilities mapping', () => {
  const map = (rec: unknown, extras?: ExtraColumns) => mapRecord(rec, extras, 'SoftwareVulnerabilities');

  it('stores every documented column with its type; keys: DeviceId, then vendor|name|version|CVE', () => {
    const e = entityOf(map(vulnerability));
    expect(e).toEqual({
      partitionKey: vulnerability.deviceId,
      rowKey: 'microsoft|.net_framework|4.0.0.0|CVE-2020-1147',
      DeviceId: vulnerability.deviceId,
      SoftwareVendor: 'microsoft',
      SoftwareName: '.net_framework',
      SoftwareVersion: '4.0.0.0',
      DeviceName: 'wks-1.corp.contoso.com',
      OSPlatform: 'Windows10',
      RbacGroupName: 'hhh',
      CveId: 'CVE-2020-1147',
      CvssScore: double(8.8),
      VulnerabilitySeverityLevel: 'High',
      ExploitabilityLevel: 'NoExploit',
      FirstSeenTimestamp: new Date('2020-11-03T10:13:34Z'),
      LastSeenTimestamp: new Date('2020-11-03T10:13:34.847Z'),
      Id: vulnerability.id,
      RecommendationReference: 'va-_-microsoft-_-.net_framework',
      RecommendedSecurityUpdate: 'July 2020 Security Updates',
      RecommendedSecurityUpdateId: '4565627',
      SecurityUpdateAvailable: true,
      DiskPaths: JSON.stringify(vulnerability.diskPaths),
      RegistryPaths: JSON.stringify(vulnerability.registryPaths),
    });
    expect(keyPartsFromRowKey(e.rowKey, 4)).toEqual(['microsoft', '.net_framework', '4.0.0.0', 'CVE-2020-1147']);
  });

  it('maps PascalCase and camelCase alike', () => {
    expect(map(pascal(vulnerability))).toEqual(map(vulnerability));
  });

  it.each([
    [9.8, 9.8],
    ['9.8', 9.8],
    [10, 10],
    ['10', 10],
    [0, 0],
  ])('stores CvssScore %p as Double %p (typed, also when integral)', (input, value) => {
    expect(entityOf(map({ ...vulnerability, cvssScore: input })).CvssScore).toEqual(double(value));
  });

  it('omits a null or empty CvssScore', () => {
    expect('CvssScore' in entityOf(map({ ...vulnerability, cvssScore: null }))).toBe(false);
    expect('CvssScore' in entityOf(map({ ...vulnerability, cvssScore: '' }))).toBe(false);
  });

  it.each([
    [true, true],
    ['true', true],
    ['False', false],
    [false, false],
  ])('stores SecurityUpdateAvailable %p as Boolean %p', (input, value) => {
    expect(entityOf(map({ ...vulnerability, securityUpdateAvailable: input })).SecurityUpdateAvailable).toBe(value);
  });

  it('keeps a row with a null or missing CVE: an empty last key part and no CveId property', () => {
    for (const rec of [
      { ...vulnerability, cveId: null },
      { ...vulnerability, cveId: undefined },
      { ...vulnerability, cveId: '' },
    ]) {
      const e = entityOf(map(rec));
      expect(e.rowKey).toBe('microsoft|.net_framework|4.0.0.0|');
      expect('CveId' in e).toBe(false);
      expect(keyPartsFromRowKey(e.rowKey, 4)).toEqual(['microsoft', '.net_framework', '4.0.0.0', '']);
    }
  });

  it('gives the null CVE and every CVE of one product version distinct keys', () => {
    const keys = [null, 'CVE-2020-1147', 'CVE-2021-1', 'cve-2021-1'].map((cveId) => entityOf(map({ ...vulnerability, cveId })).rowKey);
    expect(new Set(keys).size).toBe(4);
  });

  it('reads both date forms, including 7 fractional digits, as UTC', () => {
    const e = entityOf(map({ ...vulnerability, firstSeenTimestamp: '2020-11-03 10:13:34.8476880', lastSeenTimestamp: '2020-11-03T10:13:34.8476880Z' }));
    expect(e.FirstSeenTimestamp).toEqual(new Date('2020-11-03T10:13:34.847Z'));
    expect(e.LastSeenTimestamp).toEqual(new Date('2020-11-03T10:13:34.847Z'));
  });

  it('ignores and counts undocumented columns of this kind (rbacGroupId, osVersion, osArchitecture)', () => {
    const extras = new ExtraColumns();
    const e = entityOf(map({ ...vulnerability, rbacGroupId: 42, osVersion: '10.0.19045', osArchitecture: 'x64' }, extras));
    expect(Object.keys(e).some((k) => /rbacGroupId|osVersion|osArchitecture/i.test(k))).toBe(false);
    expect([...extras.names].sort()).toEqual(['osArchitecture', 'osVersion', 'rbacGroupId']);
  });

  it('hashes a long key and keeps it within the limit', () => {
    const e = entityOf(map({ ...vulnerability, softwareVersion: '9.'.repeat(1000) }));
    expect(e.rowKey.length).toBeLessThanOrEqual(MAX_KEY_LENGTH);
    expect(keyPartsFromRowKey(e.rowKey, 4)).toBeUndefined();
  });

  it.each([
    [{ ...vulnerability, deviceId: null }, 'missing DeviceId'],
    [{ ...vulnerability, softwareVersion: '' }, 'missing SoftwareVersion (empty string)'],
    [{ ...vulnerability, cveId: 1147 }, 'CveId: expected a string, got number'],
    [{ ...vulnerability, cvssScore: 'high' }, 'CvssScore: "high" is not a number'],
    [{ ...vulnerability, cvssScore: '0x10' }, 'CvssScore: "0x10" is not a number'],
    [{ ...vulnerability, cvssScore: true }, 'CvssScore: expected a number, got boolean'],
    [{ ...vulnerability, cvssScore: [9.8] }, 'CvssScore: expected a number, got array'],
    [{ ...vulnerability, securityUpdateAvailable: 'yes' }, 'SecurityUpdateAvailable: "yes" is not true or false'],
    [{ ...vulnerability, securityUpdateAvailable: 1 }, 'SecurityUpdateAvailable: expected true or false, got 1'],
    [{ ...vulnerability, lastSeenTimestamp: '03/11/2020' }, 'LastSeenTimestamp: "03/11/2020" is not a date'],
    [{ ...vulnerability, firstSeenTimestamp: 1604398414 }, 'FirstSeenTimestamp: expected a date string, got number'],
    [{ ...vulnerability, id: 7 }, 'Id: expected a string, got number'],
    [{ ...vulnerability, registryPaths: 'HKLM' }, 'RegistryPaths: expected an array of strings, got string'],
    [{ ...vulnerability, CveId: 'CVE-1' }, 'column CveId appears twice (keys differ only in case)'],
  ])('rejects %#: %p', (rec, reason) => {
    const r = map(rec);
    expect(r).toEqual({ ok: false, reason });
  });

  it('drops a date out of Table Storage range and counts it, storing the row', () => {
    const extras = new ExtraColumns();
    const e = entityOf(map({ ...vulnerability, firstSeenTimestamp: '0001-01-01T00:00:00' }, extras));
    expect('FirstSeenTimestamp' in e).toBe(false);
    expect(extras.droppedDateRows).toBe(1);
    expect([...extras.droppedDateColumns]).toEqual(['FirstSeenTimestamp']);
  });

  it('flags path arrays cut at the string limit', () => {
    const items = [`C:\\${'p'.repeat(20_000)}`, `D:\\${'q'.repeat(20_000)}`];
    const e = entityOf(map({ ...vulnerability, diskPaths: items }));
    expect(JSON.parse(e.DiskPaths as string)).toEqual([items[0]]);
    expect(e.DiskPathsTruncated).toBe(true);
    expect('RegistryPathsTruncated' in e).toBe(false);
  });

  it('stores lone surrogates as U+FFFD and counts the row, keeping them escaped in the key', () => {
    const extras = new ExtraColumns();
    const e = entityOf(map({ ...vulnerability, cveId: 'CVE-\ud800', exploitabilityLevel: 'x\udc00' }, extras));
    expect(e.CveId).toBe('CVE-\ufffd');
    expect(e.ExploitabilityLevel).toBe('x\ufffd');
    expect(e.rowKey).toBe('microsoft|.net_framework|4.0.0.0|CVE-%uD800');
    expect(extras.replacedRows).toBe(1);
    expect([...extras.replacedColumns].sort()).toEqual(['CveId', 'ExploitabilityLevel']);
  });

  it('maps a JSON line of the kind', () => {
    expect(mapLine(JSON.stringify(vulnerability), undefined, 'SoftwareVulnerabilities')).toEqual(map(vulnerability));
  });
});

describe('NonCpeSoftwareInventory mapping', () => {
  const map = (rec: unknown, extras?: ExtraColumns) => mapRecord(rec, extras, 'NonCpeSoftwareInventory');

  it('stores every documented column; RbacGroupId (a number in payloads) as its decimal string', () => {
    expect(entityOf(map(nonCpe))).toEqual({
      partitionKey: 'd1',
      rowKey: 'contoso|contoso line-of-business app|2.1',
      DeviceId: 'd1',
      SoftwareVendor: 'contoso',
      SoftwareName: 'contoso line-of-business app',
      SoftwareVersion: '2.1',
      DeviceName: 'wks-2',
      OSPlatform: 'Windows11',
      RbacGroupName: 'Workstations',
      RbacGroupId: '42',
      SoftwareLastSeenTimestamp: new Date('2024-01-02T03:04:05Z'),
    });
  });

  it('stores RbacGroupId "42" (the documented string) the same way, PascalCase too', () => {
    expect(map(pascal({ ...nonCpe, rbacGroupId: '42' }))).toEqual(map(nonCpe));
  });

  it('counts the inventory-only columns as undocumented for this kind', () => {
    const extras = new ExtraColumns();
    const e = entityOf(map({ ...nonCpe, numberOfWeaknesses: 3, endOfSupportStatus: 'None' }, extras));
    expect('NumberOfWeaknesses' in e).toBe(false);
    expect([...extras.names].sort()).toEqual(['endOfSupportStatus', 'numberOfWeaknesses']);
  });

  it.each([
    [{ ...nonCpe, rbacGroupId: true }, 'RbacGroupId: expected a string or a number, got boolean'],
    [{ ...nonCpe, softwareLastSeenTimestamp: 'now' }, 'SoftwareLastSeenTimestamp: "now" is not a date'],
    [{ ...nonCpe, softwareVendor: undefined }, 'missing SoftwareVendor'],
  ])('rejects %#: %p', (rec, reason) => {
    expect(map(rec)).toEqual({ ok: false, reason });
  });
});

describe('SecureConfigurations mapping', () => {
  const map = (rec: unknown, extras?: ExtraColumns) => mapRecord(rec, extras, 'SecureConfigurations');

  it('stores every documented column; Timestamp as AssessmentTimestamp; key DeviceId + ConfigurationId', () => {
    const e = entityOf(map(configuration));
    expect(e).toEqual({
      partitionKey: 'd1',
      rowKey: 'scid-10000',
      DeviceId: 'd1',
      ConfigurationId: 'scid-10000',
      DeviceName: 'wks-2',
      OSPlatform: 'Windows10',
      RbacGroupName: 'Workstations',
      ConfigurationName: 'Set screen lock',
      ConfigurationCategory: 'Security controls',
      ConfigurationSubcategory: '',
      ConfigurationImpact: '9',
      IsApplicable: true,
      IsCompliant: false,
      IsExpectedUserImpact: true,
      RecommendationReference: 'sca-_-scid-10000',
      AssessmentTimestamp: new Date('2021-03-22T20:55:38.641Z'),
    });
    expect('Timestamp' in e).toBe(false);
  });

  it('stores ConfigurationImpact 9 and "9" alike, PascalCase too', () => {
    expect(map(pascal({ ...configuration, configurationImpact: '9' }))).toEqual(map(configuration));
  });

  it('keeps a null DeviceName out of the row', () => {
    expect('DeviceName' in entityOf(map({ ...configuration, deviceName: null }))).toBe(false);
  });

  it.each([
    [{ ...configuration, configurationId: undefined }, 'missing ConfigurationId'],
    [{ ...configuration, configurationId: '' }, 'missing ConfigurationId (empty string)'],
    [{ ...configuration, configurationId: 10000 }, 'ConfigurationId: expected a string, got number'],
    [{ ...configuration, isCompliant: 'maybe' }, 'IsCompliant: "maybe" is not true or false'],
    [{ ...configuration, isApplicable: null, isExpectedUserImpact: 0 }, 'IsExpectedUserImpact: expected true or false, got 0'],
    [{ ...configuration, configurationImpact: { level: 9 } }, 'ConfigurationImpact: expected a string or a number, got object'],
    [{ ...configuration, timestamp: '2021-02-30 00:00:00' }, 'Timestamp: "2021-02-30 00:00:00" is not a date'],
  ])('rejects %#: %p', (rec, reason) => {
    expect(map(rec)).toEqual({ ok: false, reason });
  });
});

describe('every kind', () => {
  const kinds: ExportKind[] = ['SoftwareInventory', 'NonCpeSoftwareInventory', 'SoftwareVulnerabilities', 'SecureConfigurations'];

  it.each(kinds)('%s: escapes the PartitionKey like the inventory and rejects non-objects', (kind) => {
    const rec = { ...vulnerability, ...nonCpe, ...configuration, deviceId: 'a/b#c' };
    const r = mapRecord(rec, undefined, kind);
    expect(r.ok && r.entity.partitionKey).toBe(partitionKeyFor('a/b#c'));
    expect(mapRecord([rec], undefined, kind)).toEqual({ ok: false, reason: 'expected a JSON object, got array' });
    expect(mapLine('{"deviceId":', undefined, kind)).toMatchObject({ ok: false, reason: expect.stringMatching(/^malformed JSON/) });
  });
});

describe('date parsing: the fast path and the regex agree', () => {
  it.each([
    ['2020-11-03 10:13:34.8476880', '2020-11-03T10:13:34.847Z'],
    ['2020-11-03T10:13:34.8Z', '2020-11-03T10:13:34.800Z'],
    ['2020-11-03t10:13:34z', '2020-11-03T10:13:34.000Z'],
    ['2020-11-03T10:13:34z', '2020-11-03T10:13:34.000Z'],
    ['2020-11-03 10:13:34.123456789', '2020-11-03T10:13:34.123Z'],
    ['2020-11-03 10:13:34.1234567890', undefined],
    ['2020-11-03 10:13:34.', undefined],
    ['2020-11-03 24:00:00', undefined],
    ['2020-02-29 00:00:00', '2020-02-29T00:00:00.000Z'],
    ['2021-02-29 00:00:00', undefined],
    ['2020-11-03 10:13:34 Z', '2020-11-03T10:13:34.000Z'],
    ['2020-11-03 10:13:34+01:00', '2020-11-03T09:13:34.000Z'],
    ['0099-01-01 00:00:00', '0099-01-01T00:00:00.000Z'],
    ['2020-11-03 10:13', '2020-11-03T10:13:00.000Z'],
    ['2020-1-03 10:13:34', undefined],
    [' 2020-11-03 10:13:34', undefined],
  ])('%p → %p', (text, iso) => {
    expect(parseDefenderDate(text)?.toISOString()).toBe(iso);
  });
});
