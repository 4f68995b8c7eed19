import { parseDefenderDate } from '../../shared/ingest/recordMapper';
import { EXPORT_KIND_NAMES, ExportKind, kindSpec } from '../../shared/kinds/exportKinds';
import { SECURE_CONFIGURATIONS } from '../../tools/simulator/configCatalogue';
import { KNOWN_CVES } from '../../tools/simulator/cveCatalogue';
import {
  ConfigurationRecord,
  evolveFleet,
  Fleet,
  fleetAt,
  fleetRecords,
  generateFleet,
  kindRecords,
  kindRowCount,
  NonCpeRecord,
  osFamily,
  PRODUCTS,
  productCvesAt,
  recordKey,
  VulnerabilityRecord,
} from '../../tools/simulator/fleet';

const SEVEN_DIGITS = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{7}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const UNDOCUMENTED: Record<ExportKind, string[]> = {
  SoftwareInventory: [],
  NonCpeSoftwareInventory: [],
  SoftwareVulnerabilities: ['rbacGroupId', 'osVersion', 'osArchitecture'],
  SecureConfigurations: [],
};

const vulns = (f: Fleet) => [...kindRecords('SoftwareVulnerabilities', f)] as VulnerabilityRecord[];
const configs = (f: Fleet) => [...kindRecords('SecureConfigurations', f)] as ConfigurationRecord[];
const nonCpe = (f: Fleet) => [...kindRecords('NonCpeSoftwareInventory', f)] as NonCpeRecord[];
const vulnKey = (r: VulnerabilityRecord) => `${recordKey(r)}\u0000${r.cveId ?? ''}`;
const softwareKey = (r: { deviceId: string; softwareName: string }) => `${r.deviceId}|${r.softwareName}`;

describe('the fleet serves every export kind', () => {
  const fleet = generateFleet({ devices: 300, seed: 42 });
  const inventory = new Map([...fleetRecords(fleet)].map((r) => [recordKey(r), r]));
  const rows = Object.fromEntries(EXPORT_KIND_NAMES.map((k) => [k, [...kindRecords(k, fleet)]])) as Record<ExportKind, object[]>;
  const v = rows.SoftwareVulnerabilities as VulnerabilityRecord[];
  const c = rows.SecureConfigurations as ConfigurationRecord[];
  const n = rows.NonCpeSoftwareInventory as NonCpeRecord[];

  it('is deterministic per kind and counts what it yields', () => {
    const again = generateFleet({ devices: 300, seed: 42 });
    for (const kind of EXPORT_KIND_NAMES) {
      expect([kind, JSON.stringify([...kindRecords(kind, again)]) === JSON.stringify(rows[kind])]).toEqual([kind, true]);
      expect([kind, kindRowCount(kind, fleet)]).toEqual([kind, rows[kind].length]);
      expect([kind, rows[kind].length > 300]).toEqual([kind, true]);
    }
  });

  it('writes camelCase keys for every documented column, plus the undocumented ones payloads carry', () => {
    for (const kind of EXPORT_KIND_NAMES) {
      const keys = new Set<string>();
      for (const r of rows[kind]) for (const k of Object.keys(r)) keys.add(k);
      const documented = kindSpec(kind).columns.map((col) => col.name.toLowerCase());
      expect([kind, [...keys].filter((k) => !/^[a-z][A-Za-z]*$/.test(k))]).toEqual([kind, []]);
      expect([kind, documented.filter((d) => ![...keys].some((k) => k.toLowerCase() === d))]).toEqual([kind, []]);
      expect([kind, [...keys].filter((k) => !documented.includes(k.toLowerCase())).sort()]).toEqual([kind, [...UNDOCUMENTED[kind]].sort()]);
    }
  });

  it('lists vulnerabilities only for software the device has installed in that version', () => {
    const missing = v.filter((r) => !inventory.has(recordKey(r)));
    expect(missing).toEqual([]);
    expect(new Set(v.map(vulnKey)).size).toBe(v.length);
    const inv = inventory.get(recordKey(v[0]))!;
    expect([v[0].deviceName, v[0].osPlatform, v[0].rbacGroupName, v[0].diskPaths, v[0].registryPaths]).toEqual([
      inv.deviceName,
      inv.osPlatform,
      inv.rbacGroupName,
      inv.diskPaths,
      inv.registryPaths,
    ]);
  });

  it("gives each installed version as many CVE rows as the inventory's NumberOfWeaknesses (generation 0)", () => {
    const cves = new Map<string, number>();
    for (const r of v) if (r.cveId) cves.set(recordKey(r), (cves.get(recordKey(r)) ?? 0) + 1);
    const off = [...inventory.values()].filter((r) => (cves.get(recordKey(r)) ?? 0) !== r.numberOfWeaknesses);
    expect(off.map((r) => [recordKey(r), r.numberOfWeaknesses, cves.get(recordKey(r))])).toEqual([]);
    expect(v.length).toBeGreaterThan(inventory.size * 2);
  });

  it('has rows with a null cveId, for software without a CVE', () => {
    const nulls = v.filter((r) => r.cveId === null);
    expect(nulls.length).toBeGreaterThan(0);
    for (const r of nulls) {
      expect(r.cvssScore).toBeNull();
      expect(r.id.endsWith('_')).toBe(true);
      expect(inventory.get(recordKey(r))!.numberOfWeaknesses).toBe(0);
    }
    expect(nulls.some((r) => inventory.get(recordKey(r))!.endOfSupportStatus !== 'None')).toBe(true);
  });

  it('carries CVE facts: scores, severities, exploitability, fixes, Microsoft updates', () => {
    const withCve = v.filter((r) => r.cveId !== null);
    // gathered as text so one failure names the rows and 20k rows stay fast
    const problems = withCve
      .filter((r) => {
        const score = Number(r.cvssScore);
        return (
          !/^CVE-\d{4}-\d{4,5}$/.test(r.cveId!) ||
          !(score >= 2 && score <= 10) ||
          !['Low', 'Medium', 'High', 'Critical'].includes(r.vulnerabilitySeverityLevel ?? '') ||
          r.id !== `${r.deviceId}_${r.softwareName}_${r.softwareVersion}_${r.cveId}`
        );
      })
      .map((r) => JSON.stringify(r));
    expect(problems).toEqual([]);
    expect(new Set(withCve.map((r) => r.exploitabilityLevel))).toEqual(new Set(['NoExploit', 'ExploitIsPublic', 'ExploitIsVerified', 'ExploitIsInKit']));
    expect(withCve.some((r) => typeof r.cvssScore === 'string')).toBe(true);
    expect(withCve.some((r) => typeof r.cvssScore === 'number')).toBe(true);
    expect(withCve.some((r) => r.recommendedSecurityUpdate?.endsWith('Security Updates') && /^\d+$/.test(r.recommendedSecurityUpdateId ?? ''))).toBe(true);
    const available = new Set(withCve.map((r) => String(r.securityUpdateAvailable)));
    expect(available).toEqual(new Set(['true', 'false']));
    expect(withCve.some((r) => r.securityUpdateAvailable === 'true')).toBe(true);
    const known = new Set(KNOWN_CVES.map((k) => k.cveId));
    expect(withCve.some((r) => known.has(r.cveId!))).toBe(true);
  });

  it('assesses every device on the configurations of its OS family', () => {
    const byDevice = new Map<string, string[]>();
    for (const r of c) byDevice.set(r.deviceId, [...(byDevice.get(r.deviceId) ?? []), r.configurationId]);
    expect(byDevice.size).toBe(fleet.devices.length);
    for (const d of fleet.devices) {
      expect(byDevice.get(d.deviceId)!.sort()).toEqual(SECURE_CONFIGURATIONS[osFamily(d.osPlatform)].map((s) => s.id).sort());
    }
    // a product-bound configuration applies only where the product is installed
    const office = new Set([...inventory.values()].filter((r) => r.softwareName === 'office').map((r) => r.deviceId));
    for (const r of c.filter((x) => x.configurationId === 'scid-2090'))
      expect([r.deviceId, String(r.isApplicable)]).toEqual([r.deviceId, String(office.has(r.deviceId))]);
    expect(c.some((r) => typeof r.configurationImpact === 'number')).toBe(true);
    expect(c.some((r) => typeof r.configurationImpact === 'string')).toBe(true);
    expect(c.some((r) => r.isCompliant === 'true' || r.isCompliant === 'false')).toBe(true);
    expect(c.some((r) => r.isCompliant === true) && c.some((r) => r.isCompliant === false)).toBe(true);
    expect(c.some((r) => r.configurationSubcategory === '')).toBe(true);
    expect(c.some((r) => r.deviceName === null)).toBe(true);
  });

  it('lists line-of-business apps as the non-CPE inventory, never a CPE product', () => {
    const cpe = new Set(PRODUCTS.map((p) => `${p.vendor}|${p.name}`));
    expect(n.filter((r) => cpe.has(`${r.softwareVendor}|${r.softwareName}`))).toEqual([]);
    expect(new Set(n.map(recordKey)).size).toBe(n.length);
    expect(new Set(n.map((r) => r.deviceId)).size).toBeGreaterThan(fleet.devices.length * 0.8);
    expect(n.every((r) => r.softwareVendor && r.softwareName && /^\d+\.\d+\.\d+$/.test(r.softwareVersion))).toBe(true);
    expect(n.some((r) => typeof r.rbacGroupId === 'number') && n.some((r) => typeof r.rbacGroupId === 'string')).toBe(true);
  });

  it('writes both date formats, every one of them a date the pipeline parses', () => {
    const dates: Record<string, string[]> = {
      SoftwareVulnerabilities: v.flatMap((r) => [r.firstSeenTimestamp, r.lastSeenTimestamp]),
      SecureConfigurations: c.map((r) => r.timestamp),
      NonCpeSoftwareInventory: n.map((r) => r.softwareLastSeenTimestamp),
    };
    for (const [kind, texts] of Object.entries(dates)) {
      expect([kind, texts.some((t) => SEVEN_DIGITS.test(t)), texts.some((t) => ISO.test(t))]).toEqual([kind, true, true]);
      expect([kind, texts.filter((t) => !(SEVEN_DIGITS.test(t) || ISO.test(t)) || !parseDefenderDate(t))]).toEqual([kind, []]);
    }
    // a vulnerability is seen no earlier than its software, and last seen after it was first seen
    const ms = (t: string) => parseDefenderDate(t)!.getTime();
    const early = v.filter(
      (r) => ms(r.firstSeenTimestamp) < ms(inventory.get(recordKey(r))!.softwareFirstSeenTimestamp) || ms(r.lastSeenTimestamp) < ms(r.firstSeenTimestamp),
    );
    expect(early.map((r) => JSON.stringify(r))).toEqual([]);
  });
});

describe('the kinds evolve with the fleet', () => {
  const gen0 = generateFleet({ devices: 300, seed: 9 });
  const gen1 = evolveFleet(gen0, { generation: 1 });
  const v0 = vulns(gen0);
  const v1 = vulns(gen1);
  const installed1 = new Set([...fleetRecords(gen1)].map(recordKey));
  const keys0 = new Set(v0.map(vulnKey));
  const keys1 = new Set(v1.map(vulnKey));

  it('fixes the CVEs of software that was upgraded or removed', () => {
    const gone = v0.filter((r) => r.cveId && !keys1.has(vulnKey(r)));
    expect(gone.length).toBeGreaterThan(0);
    // every CVE row that disappeared belongs to a version no longer installed on a device still there, or a retired device
    const devices1 = new Set(gen1.devices.map((d) => d.deviceId));
    expect(gone.filter((r) => devices1.has(r.deviceId) && installed1.has(recordKey(r)))).toEqual([]);
    expect(gone.some((r) => devices1.has(r.deviceId))).toBe(true);
  });

  it('adds CVEs for newly installed versions and newly published CVEs on unchanged software', () => {
    const installed0 = new Set([...fleetRecords(gen0)].map(recordKey));
    const fresh = v1.filter((r) => r.cveId && !keys0.has(vulnKey(r)));
    expect(fresh.some((r) => !installed0.has(recordKey(r)))).toBe(true);
    const published = fresh.filter((r) => installed0.has(recordKey(r)));
    expect(published.length).toBeGreaterThan(0);
    // a CVE published later is absent from the earlier catalogue
    const index = PRODUCTS.findIndex((p) => p.vendor === published[0].softwareVendor && p.name === published[0].softwareName);
    expect(productCvesAt(index, 0).map((x) => x.cveId)).not.toContain(published[0].cveId);
    expect(productCvesAt(index, 1).map((x) => x.cveId)).toContain(published[0].cveId);
  });

  it('publishes the catalogue’s later known CVEs in their generation', () => {
    for (const k of KNOWN_CVES) {
      const index = PRODUCTS.findIndex((p) => p.vendor === k.vendor && p.name === k.name);
      expect([k.cveId, index >= 0]).toEqual([k.cveId, true]);
      const ids = (g: number) => productCvesAt(index, g).map((x) => x.cveId);
      if (k.published > 0) expect([k.cveId, ids(k.published - 1).includes(k.cveId)]).toEqual([k.cveId, false]);
      expect([k.cveId, ids(k.published).includes(k.cveId)]).toEqual([k.cveId, true]);
    }
  });

  it('flips some configurations between compliant and non-compliant', () => {
    const state0 = new Map(configs(gen0).map((r) => [`${r.deviceId}|${r.configurationId}`, String(r.isCompliant)]));
    const flips = configs(gen1).filter((r) => {
      const before = state0.get(`${r.deviceId}|${r.configurationId}`);
      return before !== undefined && before !== String(r.isCompliant);
    });
    expect(flips.length).toBeGreaterThan(0);
    expect(flips.length).toBeLessThan(state0.size * 0.15);
    expect(flips.some((r) => String(r.isCompliant) === 'true') && flips.some((r) => String(r.isCompliant) === 'false')).toBe(true);
  });

  it('moves line-of-business apps to new releases, and rolls apps out and back', () => {
    const later = fleetAt({ devices: 300, seed: 9, generation: 4 });
    const versions = (f: Fleet) => new Map(nonCpe(f).map((r) => [softwareKey(r), r.softwareVersion]));
    const a = versions(gen0);
    const b = versions(later);
    expect([...b].filter(([k, ver]) => a.has(k) && a.get(k) !== ver).length).toBeGreaterThan(0);
    expect([...b.keys()].some((k) => k.endsWith('|Contoso Self-Service Portal'))).toBe(true);
    expect([...a.keys()].some((k) => k.endsWith('|Contoso Self-Service Portal'))).toBe(false);
    expect([...a.keys()].some((k) => k.endsWith('|Fabrikam Legacy Timesheet'))).toBe(true);
    expect([...b.keys()].some((k) => k.endsWith('|Fabrikam Legacy Timesheet'))).toBe(false);
  });
});
