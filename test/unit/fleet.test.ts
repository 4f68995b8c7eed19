import {
  evolveFleet,
  Fleet,
  fleetAt,
  fleetRecords,
  fleetRowCount,
  generateFleet,
  mulberry32,
  osFamily,
  OsFamily,
  PRODUCTS,
  recordKey,
  SoftwareRecord,
} from '../../tools/simulator/fleet';

const OS_PLATFORMS = ['Windows10', 'Windows11', 'WindowsServer2016', 'WindowsServer2019', 'WindowsServer2022', 'Linux', 'macOS'];
const EOS_STATUSES = ['None', 'EOS Version', 'Upcoming EOS Version', 'EOS Software', 'Upcoming EOS Software'];

/** (device, vendor, name) → sorted versions: the shape the diff command compares. */
function versionSets(fleet: Fleet): Map<string, string[]> {
  const sets = new Map<string, string[]>();
  for (const r of fleetRecords(fleet)) {
    const key = `${r.deviceId}|${r.softwareVendor}|${r.softwareName}`;
    sets.set(key, [...(sets.get(key) ?? []), r.softwareVersion].sort());
  }
  return sets;
}

describe('mulberry32', () => {
  it('is deterministic and stays in [0, 1)', () => {
    const a = mulberry32(7);
    const b = mulberry32(7);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(xs).size).toBeGreaterThan(990);
  });
});

describe('generateFleet', () => {
  const fleet = generateFleet({ devices: 400, seed: 42 });
  const records = [...fleetRecords(fleet)];

  it('gives the same records for the same seed, different ones for another seed', () => {
    expect(JSON.stringify([...fleetRecords(generateFleet({ devices: 400, seed: 42 }))])).toBe(JSON.stringify(records));
    const other = [...fleetRecords(generateFleet({ devices: 400, seed: 43 }))];
    expect(other.map((r) => r.deviceId)).not.toEqual(records.map((r) => r.deviceId));
  });

  it('has one row per unique (device, vendor, name, version), and fleetRowCount agrees', () => {
    const keys = new Set(records.map(recordKey));
    expect(keys.size).toBe(records.length);
    expect(fleetRowCount(fleet)).toBe(records.length);
    expect(new Set(fleet.devices.map((d) => d.deviceId)).size).toBe(400);
  });

  it('looks like Defender data', () => {
    // Checks gathered as text so one failure names the offending rows (and 10k expect() calls stay fast).
    const problems: string[] = [];
    const check = (ok: boolean, what: string, r: SoftwareRecord) => {
      if (!ok && problems.length < 20) problems.push(`${what}: ${JSON.stringify(r)}`);
    };
    for (const r of records) {
      check(/^[0-9a-f]{40}$/.test(r.deviceId), 'deviceId', r);
      check(/^(wks|srv|lnx|mac)-\d{4,}\.(europe|northamerica|asia)\.contoso\.com$/.test(r.deviceName), 'deviceName', r);
      check(OS_PLATFORMS.includes(r.osPlatform), 'osPlatform', r);
      check(/^[a-z0-9._+-]+$/.test(r.softwareVendor) && /^[a-z0-9._+-]+$/.test(r.softwareName), 'CPE-style vendor/name', r);
      check(/^[0-9][0-9A-Za-z.-]*$/.test(r.softwareVersion), 'version', r);
      check(Number.isInteger(r.numberOfWeaknesses) && r.numberOfWeaknesses >= 0, 'numberOfWeaknesses', r);
      check(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{3}|\.\d{7})?$/.test(r.softwareFirstSeenTimestamp), 'firstSeen', r);
      check(EOS_STATUSES.includes(r.endOfSupportStatus), 'endOfSupportStatus', r);
      check(
        r.endOfSupportStatus === 'None' ? r.endOfSupportDate === null : /^\d{4}-\d\d-\d\d(T00:00:00\+00:00)?$/.test(r.endOfSupportDate ?? ''),
        'endOfSupportDate',
        r,
      );
      check(
        [...r.diskPaths, ...r.registryPaths].every((p) => typeof p === 'string' && p.length > 0),
        'path arrays',
        r,
      );
      if (r.osPlatform === 'Linux') check(r.registryPaths.length === 0 && r.diskPaths.every((p) => p.startsWith('/')), 'linux paths', r);
      if (r.osPlatform.startsWith('Windows')) {
        check(
          r.diskPaths.every((p) => /^C:\\/.test(p)),
          'windows disk paths',
          r,
        );
        check(
          r.registryPaths.every((p) => /^(HKEY_LOCAL_MACHINE|HKEY_USERS|SOFTWARE)\\/.test(p)),
          'registry paths',
          r,
        );
      }
    }
    expect(problems).toEqual([]);
    // Both timestamp shapes, both date shapes, every status, and the odd characters of real CPE names occur.
    expect(records.some((r) => r.softwareFirstSeenTimestamp.includes('.'))).toBe(true);
    expect(records.some((r) => !r.softwareFirstSeenTimestamp.includes('.'))).toBe(true);
    expect(new Set(records.map((r) => r.endOfSupportStatus))).toEqual(new Set(EOS_STATUSES));
    expect(records.some((r) => r.endOfSupportDate?.includes('T'))).toBe(true);
    expect(records.some((r) => r.endOfSupportDate?.length === 10)).toBe(true);
    for (const name of ['notepad++', '.net_framework', 'node.js', 'edge_chromium']) expect(records.some((r) => r.softwareName === name)).toBe(true);
    expect(new Set(records.map((r) => r.rbacGroupName))).toContain('Unassigned');
    expect(new Set(records.map((r) => r.osPlatform)).size).toBeGreaterThanOrEqual(6);
  });

  it('installs a realistic number of products per device, by OS', () => {
    const perFamily = new Map<OsFamily, number[]>();
    for (const d of fleet.devices) {
      const family = osFamily(d.osPlatform);
      perFamily.set(family, [...(perFamily.get(family) ?? []), d.software.length]);
      expect(d.software.length).toBeGreaterThanOrEqual(3);
      expect(d.software.length).toBeLessThanOrEqual(80);
    }
    for (const [family, counts] of perFamily) {
      const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
      expect([family, mean >= 15 && mean <= 60]).toEqual([family, true]);
    }
    expect(PRODUCTS.length).toBeGreaterThanOrEqual(40);
    expect(PRODUCTS.every((p) => p.versions.length >= 2 && new Set(p.versions).size === p.versions.length)).toBe(true);
  });

  it('gives older versions more weaknesses', () => {
    const newest = (r: SoftwareRecord) =>
      PRODUCTS.find((p) => p.vendor === r.softwareVendor && p.name === r.softwareName)!.versions.at(-1) === r.softwareVersion;
    const mean = (rs: SoftwareRecord[]) => rs.reduce((s, r) => s + r.numberOfWeaknesses, 0) / rs.length;
    expect(mean(records.filter((r) => !newest(r)))).toBeGreaterThan(mean(records.filter(newest)) + 3);
  });

  it('sometimes carries two versions of one product on a device', () => {
    expect([...versionSets(fleet).values()].some((v) => v.length > 1)).toBe(true);
  });
});

describe('evolveFleet', () => {
  const gen0 = generateFleet({ devices: 300, seed: 5 });
  const gen1 = evolveFleet(gen0, { generation: 1 });

  it('is deterministic given the generation, and fleetAt replays it', () => {
    const text = (f: Fleet) => JSON.stringify([...fleetRecords(f)]);
    expect(text(evolveFleet(gen0, { generation: 1 }))).toBe(text(gen1));
    expect(text(fleetAt({ devices: 300, seed: 5, generation: 2 }))).toBe(text(evolveFleet(gen1, { generation: 2 })));
    expect(gen1.generation).toBe(1);
  });

  it('installs, removes and upgrades software, and turns over a few devices', () => {
    const from = versionSets(gen0);
    const to = versionSets(gen1);
    const ids0 = new Set(gen0.devices.map((d) => d.deviceId));
    const ids1 = new Set(gen1.devices.map((d) => d.deviceId));
    const kept = (key: string) => ids0.has(key.split('|')[0]) && ids1.has(key.split('|')[0]);
    const installed = [...to.keys()].filter((k) => kept(k) && !from.has(k));
    const removed = [...from.keys()].filter((k) => kept(k) && !to.has(k));
    const changed = [...to.keys()].filter((k) => from.has(k) && from.get(k)!.join() !== to.get(k)!.join());
    expect(installed.length).toBeGreaterThan(0);
    expect(removed.length).toBeGreaterThan(0);
    expect(changed.length).toBeGreaterThan(0);
    // Most of the fleet stays as it was from one day to the next.
    expect(changed.length + installed.length + removed.length).toBeLessThan(from.size * 0.2);
    expect([...ids1].filter((id) => !ids0.has(id)).length).toBeGreaterThan(0);
    expect([...ids0].filter((id) => !ids1.has(id)).length).toBeGreaterThan(0);
  });

  it('keeps rows unique and unchanged rows byte-identical across generations', () => {
    let fleet = gen0;
    for (let g = 1; g <= 5; g++) {
      fleet = evolveFleet(fleet, { generation: g });
      const rows = [...fleetRecords(fleet)];
      expect(new Set(rows.map(recordKey)).size).toBe(rows.length);
    }
    const before = new Map([...fleetRecords(gen0)].map((r) => [recordKey(r), JSON.stringify(r)]));
    const same = [...fleetRecords(gen1)].filter((r) => before.get(recordKey(r)) === JSON.stringify(r)).length;
    expect(same).toBeGreaterThan(fleetRowCount(gen1) * 0.8);
  });

  it('gives new versions a first-seen time after the old rows', () => {
    const before = new Set([...fleetRecords(gen0)].map(recordKey));
    const fresh = [...fleetRecords(gen1)].filter((r) => !before.has(recordKey(r)));
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh.every((r) => r.softwareFirstSeenTimestamp >= '2024-01-02')).toBe(true);
  });
});
