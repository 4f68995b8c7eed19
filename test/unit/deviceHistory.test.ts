// The fold behind `device --history` (docs/query.md#device---history) and the version order of `trend`: pure code.
import { SOFTWARE_INVENTORY } from '../../shared/core/contracts';
import { historyOf } from '../../tools/query/commands/deviceHistory';
import { compareVersions } from '../../tools/query/commands/trend';
import { StoredRow } from '../../tools/query/rows';
import { CatalogRow } from '../../tools/query/snapshots';

const snap = (id: string): CatalogRow => ({
  partitionKey: SOFTWARE_INVENTORY,
  rowKey: id,
  Status: 'complete',
  GeneratedTime: new Date(`${id.slice(0, 4)}-${id.slice(4, 6)}-${id.slice(6, 8)}T${id.slice(8, 10)}:${id.slice(10, 12)}:00Z`),
  TableName: `SoftwareInventory${id}`,
  Method: 'files',
  FileCount: 1,
  FilesCompleted: 1,
  RowCount: 1,
  RejectedCount: 0,
  DuplicateCount: 0,
  StartedAt: new Date(0),
});
const row = (device: string, vendor: string, name: string, version: string, deviceName?: string): StoredRow => ({
  partitionKey: device,
  rowKey: `${vendor}|${name}|${version}`,
  DeviceId: device,
  SoftwareVendor: vendor,
  SoftwareName: name,
  SoftwareVersion: version,
  ...(deviceName ? { DeviceName: deviceName } : {}),
});

describe('historyOf', () => {
  const s = ['202501010000', '202501020000', '202501030000', '202501040000'].map(snap);

  it('a version that went away and came back: first and last span the gap, SnapshotsSeen counts only where it was', () => {
    const h = historyOf(s, [[row('d', 'v', 'n', '1', 'old-name')], [], [row('d', 'v', 'n', '1', 'new-name')], [row('d', 'v', 'n', '2')]]);
    expect(h).toEqual([
      expect.objectContaining({
        SoftwareVersion: '1',
        FirstSnapshotId: s[0].rowKey,
        LastSnapshotId: s[2].rowKey,
        LastGeneratedTime: '2025-01-03T00:00:00.000Z',
        SnapshotsSeen: 2,
        PresentAtNewest: false,
        DeviceName: 'new-name',
      }),
      expect.objectContaining({
        SoftwareVersion: '2',
        FirstSnapshotId: s[3].rowKey,
        LastSnapshotId: s[3].rowKey,
        SnapshotsSeen: 1,
        PresentAtNewest: true,
        DeviceName: null,
      }),
    ]);
  });

  it('keeps two devices apart and sorts by device, vendor, name, first snapshot, version', () => {
    const h = historyOf(s.slice(0, 2), [
      [row('b', 'v', 'n', '1'), row('a', 'v', 'n', '9')],
      [row('a', 'v', 'n', '10'), row('a', 'u', 'z', '1')],
    ]);
    expect(h.map((e) => [e.DeviceId, e.SoftwareVendor, e.SoftwareName, e.SoftwareVersion])).toEqual([
      ['a', 'u', 'z', '1'],
      ['a', 'v', 'n', '9'],
      ['a', 'v', 'n', '10'],
      ['b', 'v', 'n', '1'],
    ]);
  });
});

describe('compareVersions', () => {
  it('orders numbers as numbers and is total', () => {
    expect(['1.10', '1.9', '1.9.1', '10.0', '2.0', 'a', 'A'].sort(compareVersions)).toEqual(['1.9', '1.9.1', '1.10', '2.0', '10.0', 'a', 'A']);
    expect(compareVersions('1.0', '1.0')).toBe(0);
  });
});
