// The rollup counter (shared/rollup/rollupCounter.ts) on rows in device order: distinct devices per bucket,
// never rows; a name across vendors only where it has several; measures that do not depend on row order.
import { countRollup, Bucket } from '../../shared/rollup/rollupCounter';
import { hasCurrentRollup, ROLLUP_LAYOUT, snapshotRange, trendPartition, trendRowKey } from '../../shared/rollup/rollupKeys';
import { columnsRead } from '../../shared/rollup/dimensions';

async function* rowsOf(rows: Record<string, unknown>[]) {
  for (const r of rows) yield r as { partitionKey: string } & Record<string, unknown>;
}

const inv = (device: string, vendor: string, name: string, version: string, os = 'Windows11', rbac?: string) => ({
  partitionKey: device,
  SoftwareVendor: vendor,
  SoftwareName: name,
  SoftwareVersion: version,
  OSPlatform: os,
  ...(rbac === undefined ? {} : { RbacGroupName: rbac }),
});

const table = (buckets: Bucket[]) =>
  Object.fromEntries(buckets.map((b) => [`${b.dimension.name}|${b.subject.join('|')}${b.detail === undefined ? '' : `#${b.detail}`}`, b.devices]));

describe('countRollup', () => {
  it('counts devices, not rows: two versions on one device are one device for the product', async () => {
    const res = await countRollup(
      'SoftwareInventory',
      rowsOf([inv('d1', 'google', 'chrome', '1'), inv('d1', 'google', 'chrome', '2'), inv('d2', 'google', 'chrome', '2', 'Linux', 'Lab')]),
    );
    expect(res).toMatchObject({ rows: 3, devices: 2 });
    expect(table(res.buckets)).toEqual({
      'devices|': 2,
      'product|chrome|google': 2,
      'product|chrome|google#1': 1,
      'product|chrome|google#2': 2,
      'os|Windows11': 1,
      'os|Linux': 1,
      'rbac|': 1,
      'rbac|Lab': 1,
    });
  });

  it('adds a name across vendors only when the name has several, counting a device holding both once', async () => {
    const res = await countRollup(
      'NonCpeSoftwareInventory',
      rowsOf([inv('d1', 'a', 'tool', '1'), inv('d1', 'b', 'tool', '1'), inv('d2', 'b', 'tool', '2'), inv('d2', 'c', 'solo', '1')]),
    );
    const t = table(res.buckets);
    expect(t['product|tool|']).toBe(2);
    expect(t['product|tool|#1']).toBe(1);
    expect(t['product|tool|#2']).toBe(1);
    expect(t['product|tool|a'] + t['product|tool|b']).toBe(3); // what a per-vendor sum would have said
    expect(t['product|solo|']).toBeUndefined();
  });

  it('keeps the highest score and severity per CVE whatever the row order, and skips rows without a CVE', async () => {
    const v = (device: string, cve: string | undefined, cvss?: number, sev?: string) => ({
      ...inv(device, 'v', 'n', '1'),
      ...(cve ? { CveId: cve, CvssScore: cvss, VulnerabilitySeverityLevel: sev } : {}),
    });
    const rows = [v('d1', 'CVE-1', 7.5, 'High'), v('d2', 'CVE-1', 9.8, 'Critical'), v('d3', 'CVE-1', 9.8, 'critical'), v('d3', undefined)];
    for (const order of [rows, [...rows].reverse()]) {
      // reversing keeps each device's rows together
      const res = await countRollup('SoftwareVulnerabilities', rowsOf(order));
      const cve = res.buckets.filter((b) => b.dimension.name === 'cve');
      expect(cve).toHaveLength(1);
      expect(cve[0]).toMatchObject({ subject: ['CVE-1'], devices: 3, cvssScore: 9.8, severity: 'Critical' });
    }
  });

  it('splits configuration devices into compliant, not compliant and not applicable', async () => {
    const c = (device: string, IsApplicable: boolean | undefined, IsCompliant: boolean | undefined) => ({
      partitionKey: device,
      ConfigurationId: 'scid-1',
      IsApplicable,
      IsCompliant,
    });
    const res = await countRollup(
      'SecureConfigurations',
      rowsOf([c('d1', true, true), c('d2', true, false), c('d3', false, true), c('d4', undefined, undefined)]),
    );
    expect(res.buckets.find((b) => b.dimension.name === 'config')).toMatchObject({ devices: 4, compliant: 1, nonCompliant: 1, notApplicable: 1 });
  });
});

describe('rollup keys and marker', () => {
  it('escape subject parts and start every RowKey with the snapshot id, so one range covers any span of snapshots', () => {
    expect(trendPartition('SoftwareInventory', 'product', ['a/b', 'v|x'])).toBe('SoftwareInventory|product|a%2Fb|v%7Cx');
    expect(trendRowKey('202601010000')).toBe('202601010000');
    expect(trendRowKey('202601010000', '1.0#beta')).toBe('202601010000|1.0%23beta');
    const r = snapshotRange('202601010000', '202601300000');
    for (const k of ['202601010000', '202601010000|9', '202601300000', '202601300000|zzz', `202601300000|${'~'.repeat(3)}`])
      expect(k >= r.ge && k < r.lt).toBe(true);
    for (const k of ['202512312359|x', '202601300001']) expect(k >= r.ge && k < r.lt).toBe(false);
    expect(columnsRead('SecureConfigurations')).toEqual(
      expect.arrayContaining(['PartitionKey', 'ConfigurationId', 'IsApplicable', 'IsCompliant', 'OSPlatform', 'RbacGroupName']),
    );
  });

  it('is current only for the completion it was built from', () => {
    const done = new Date('2026-01-01T00:00:00Z');
    const row = {
      Status: 'complete' as const,
      CompletedAt: done,
      RowCount: 10,
      RollupLayout: ROLLUP_LAYOUT,
      RollupOfCompletedAt: new Date(done),
      RollupOfRowCount: 10,
    };
    expect(hasCurrentRollup(row)).toBe(true);
    expect(hasCurrentRollup({ ...row, Status: 'ingesting' })).toBe(false);
    expect(hasCurrentRollup({ ...row, CompletedAt: new Date(done.getTime() + 1) })).toBe(false);
    expect(hasCurrentRollup({ ...row, RowCount: 11 })).toBe(false);
    expect(hasCurrentRollup({ ...row, RollupLayout: ROLLUP_LAYOUT + 1 })).toBe(false);
    expect(hasCurrentRollup({ Status: 'complete', CompletedAt: done, RowCount: 10 })).toBe(false);
  });
});
