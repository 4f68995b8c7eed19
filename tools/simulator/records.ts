// A device's installs as the records Defender sends: end of support, weaknesses, disk and registry evidence.
import type { Device, EndOfSupportStatus, Fleet, Install, SoftwareRecord } from './fleet';
import { PF, PF86, Product, PRODUCTS, UNINSTALL, UNINSTALL32 } from './catalogue';
import { hash32, pick, rngFor } from './random';
import { osFamily } from './devices';

export function eosFor(p: Product, version: number): { status: EndOfSupportStatus; date: string | null } {
  const eos = p.eos;
  if (!eos) return { status: 'None', date: null };
  if (eos.kind === 'software') return { status: eos.status, date: eos.date };
  if (version < eos.eosBelow) return { status: 'EOS Version', date: eos.dates[0] };
  if (version < eos.upcomingBelow) return { status: 'Upcoming EOS Version', date: eos.dates[1] };
  return { status: 'None', date: null };
}

/** Older versions carry more weaknesses; a stable per-version jitter keeps numbers uneven. The vulnerability
 * catalogue (vulnerabilities.ts) gives each version exactly this many CVEs known before the first export. */
export function weaknessesFor(p: Product, version: number): number {
  const behind = p.versions.length - 1 - version;
  if (behind === 0) return hash32(p.vendor, p.name, version) % 3 === 0 ? 1 : 0;
  return behind * p.weak + (hash32(p.vendor, p.name, version) % (p.weak + 1));
}

const BUNDLING_APPS = [
  `${PF}\\Git\\mingw64\\bin`,
  `${PF}\\Microsoft Office\\root\\vfs\\ProgramFilesCommonX64\\Microsoft Shared\\Office16`,
  `${PF}\\Python311\\DLLs`,
  `${PF}\\Zabbix Agent`,
  `${PF}\\Tableau\\Tableau 2023.3\\bin`,
  `${PF}\\Splunk\\bin`,
  `${PF}\\PostgreSQL\\15\\bin`,
  `${PF86}\\Common Files\\Adobe\\OOBE\\PDApp\\core`,
  `${PF}\\Elastic\\Agent\\data`,
  `${PF}\\VMware\\VMware Tools`,
  `${PF}\\LibreOffice\\program`,
  `${PF}\\WinSCP`,
  `${PF}\\Veeam\\Backup and Replication\\Console`,
  `${PF}\\NVIDIA Corporation\\NVIDIA app`,
  `${PF}\\Dell\\SupportAssistAgent\\bin`,
  `${PF}\\Apache Software Foundation\\Tomcat 9.0\\lib`,
];

/** Paths are a pure function of (device, product, version) so they stay put across generations. */
function windowsEvidence(device: Device, p: Product, version: number): { diskPaths: string[]; registryPaths: string[] } {
  const w = p.win;
  if (!w) return { diskPaths: [], registryPaths: [] };
  const fill = (t: string) => t.replaceAll('{user}', device.user);
  let diskPaths = (w.disk ?? []).map(fill);
  if (w.bundled) {
    const rng = rngFor('bundled', device.deviceId, p.name, version);
    const n = 1 + Math.floor(rng() * rng() * 12);
    const dirs = new Set<string>();
    while (dirs.size < n) dirs.add(pick(rng, BUNDLING_APPS));
    diskPaths = [...dirs].map((d) => `${d}\\${w.bundled}`);
  }
  const registryPaths: string[] = [];
  if (w.rawReg) registryPaths.push(w.rawReg);
  if (w.reg) {
    const sid = `S-1-5-21-3623811015-3361044348-30300820-${1000 + (device.serial % 400)}`;
    registryPaths.push(
      w.perUser
        ? `HKEY_USERS\\${sid}\\${UNINSTALL.replace('SOFTWARE', 'Software')}\\${w.reg}`
        : `HKEY_LOCAL_MACHINE\\${w.wow ? UNINSTALL32 : UNINSTALL}\\${w.reg}`,
    );
  }
  return { diskPaths, registryPaths };
}

function evidence(device: Device, p: Product, version: number): { diskPaths: string[]; registryPaths: string[] } {
  if (p.os) return { diskPaths: [], registryPaths: [] };
  const family = osFamily(device.osPlatform);
  if (family === 'linux') return { diskPaths: [...(p.linux ?? [])], registryPaths: [] };
  if (family === 'macos') return { diskPaths: [...(p.mac ?? [])], registryPaths: [] };
  return windowsEvidence(device, p, version);
}

export function toRecord(device: Device, s: Install): SoftwareRecord {
  const p = PRODUCTS[s.product];
  const eos = eosFor(p, s.version);
  const { diskPaths, registryPaths } = evidence(device, p, s.version);
  return {
    deviceId: device.deviceId,
    rbacGroupName: device.rbacGroupName,
    deviceName: device.deviceName,
    osPlatform: device.osPlatform,
    softwareVendor: p.vendor,
    softwareName: p.name,
    softwareVersion: p.versions[s.version],
    numberOfWeaknesses: weaknessesFor(p, s.version),
    diskPaths,
    registryPaths,
    softwareFirstSeenTimestamp: s.firstSeen,
    endOfSupportStatus: eos.status,
    endOfSupportDate: eos.date,
  };
}

/** One device's rows, one per unique (vendor, name, version). */
export function* deviceRecords(device: Device): Generator<SoftwareRecord> {
  for (const s of device.software) yield toRecord(device, s);
}

/** Every row of the fleet, device by device, built lazily. */
export function* fleetRecords(fleet: Fleet): Generator<SoftwareRecord> {
  for (const device of fleet.devices) yield* deviceRecords(device);
}

export function fleetRowCount(fleet: Fleet): number {
  return fleet.devices.reduce((n, d) => n + d.software.length, 0);
}

/** The identity of a row, as Defender defines uniqueness. */
export function recordKey(r: Pick<SoftwareRecord, 'deviceId' | 'softwareVendor' | 'softwareName' | 'softwareVersion'>): string {
  return `${r.deviceId}\u0000${r.softwareVendor}\u0000${r.softwareName}\u0000${r.softwareVersion}`;
}
