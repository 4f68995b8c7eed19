// The fleet's devices: platform mix, names, RBAC groups, and the software each one starts with.
import type { Device, FleetOptions, Fleet, Install, OsPlatform } from './fleet';
import { OsFamily, PRODUCTS } from './catalogue';
import { hexId, pick, pickWeighted, rngFor } from './random';
import { DAY, formatFirstSeen, generationTime } from './fleetTime';

const OS_PRODUCTS: Record<OsPlatform, readonly number[]> = (() => {
  const map = { Windows10: [], Windows11: [], WindowsServer2016: [], WindowsServer2019: [], WindowsServer2022: [], Linux: [], macOS: [] } as Record<
    OsPlatform,
    number[]
  >;
  PRODUCTS.forEach((p, i) => p.os?.forEach((os) => map[os].push(i)));
  return map;
})();

export const APP_PRODUCTS: readonly number[] = PRODUCTS.map((p, i) => (p.os ? -1 : i)).filter((i) => i >= 0);

const OS_MIX: readonly (readonly [OsPlatform, number])[] = [
  ['Windows10', 34],
  ['Windows11', 30],
  ['WindowsServer2016', 3],
  ['WindowsServer2019', 8],
  ['WindowsServer2022', 7],
  ['Linux', 10],
  ['macOS', 8],
];

const FIRST = [
  'anna',
  'ben',
  'carla',
  'david',
  'emma',
  'felix',
  'grace',
  'hugo',
  'ines',
  'jan',
  'kim',
  'lars',
  'maria',
  'noah',
  'olga',
  'pieter',
  'rosa',
  'sven',
  'tara',
  'yusuf',
];
const LAST = [
  'jansen',
  'smith',
  'kowalski',
  'garcia',
  'muller',
  'rossi',
  'dubois',
  'nakamura',
  'olsen',
  'novak',
  'silva',
  'brown',
  'devries',
  'larsen',
  'schmidt',
];

export function osFamily(os: OsPlatform): OsFamily {
  if (os === 'Linux') return 'linux';
  if (os === 'macOS') return 'macos';
  return os.startsWith('WindowsServer') ? 'server' : 'client';
}

function rbacGroupFor(family: OsFamily, region: string, rng: () => number): string {
  if (rng() < 0.12) return 'Unassigned';
  if (family === 'server' || family === 'linux') return 'Servers';
  if (rng() < 0.15) return 'Developers';
  if (rng() < 0.1) return 'Finance';
  return region === 'northamerica' ? 'Workstations US' : region === 'asia' ? 'Workstations APAC' : 'Workstations EU';
}

function deviceNameFor(family: OsFamily, serial: number, region: string): string {
  const prefix = family === 'client' ? 'wks' : family === 'macos' ? 'mac' : family === 'linux' ? 'lnx' : 'srv';
  return `${prefix}-${String(serial).padStart(4, '0')}.${region}.contoso.com`;
}

/** Newer versions are far more common: walk back from the newest with a geometric tail. */
function pickVersion(rng: () => number, count: number): number {
  let i = count - 1;
  while (i > 0 && rng() < 0.38) i--;
  return i;
}

function installsFor(osPlatform: OsPlatform, richness: number, rng: () => number, seenAt: () => number): Install[] {
  const family = osFamily(osPlatform);
  const out: Install[] = [];
  const seen = new Set<number>();
  const add = (product: number, version: number) => {
    if (seen.has(product * 1000 + version)) return;
    seen.add(product * 1000 + version);
    out.push({ product, version, firstSeen: formatFirstSeen(seenAt(), rng) });
  };
  const osProduct = pick(rng, OS_PRODUCTS[osPlatform]);
  add(osProduct, pickVersion(rng, PRODUCTS[osProduct].versions.length));
  for (const index of APP_PRODUCTS) {
    const p = PRODUCTS[index];
    const share = p.share[family];
    if (!share || rng() >= Math.min(1, share * richness)) continue;
    const v = pickVersion(rng, p.versions.length);
    add(index, v);
    // Runtimes pile up: each older version may still be there beside the chosen one.
    if (p.sideBySide) for (let older = 0; older < v; older++) if (rng() < p.sideBySide) add(index, older);
  }
  return out;
}

export function newDevice(seed: number, serial: number, generation: number, rng: () => number): Device {
  const osPlatform = pickWeighted(rng, OS_MIX);
  const family = osFamily(osPlatform);
  const region = pickWeighted(rng, [
    ['europe', 5],
    ['northamerica', 4],
    ['asia', 2],
  ] as const);
  const rbacGroupName = rbacGroupFor(family, region, rng);
  const richness = (rbacGroupName === 'Developers' ? 1.4 : 0.85) + rng() * 0.6;
  const user = `${pick(rng, FIRST)[0]}${pick(rng, LAST)}`;
  // The first generation's software was seen over the two years before; later arrivals are new.
  const now = generationTime(generation);
  const seenAt = generation === 0 ? () => now - Math.floor(rng() * 730 * DAY) : () => now + Math.floor(rng() * 20 * 3600_000);
  return {
    serial,
    deviceId: hexId('device', seed, serial),
    deviceName: deviceNameFor(family, serial, region),
    osPlatform,
    rbacGroupName,
    user,
    richness,
    software: installsFor(osPlatform, richness, rng, seenAt),
  };
}

/** A fleet as the first export (generation 0) sees it. */
export function generateFleet(opts: FleetOptions): Fleet {
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(opts.devices) || opts.devices < 0) throw new Error(`devices must be a whole number ≥ 0, got ${opts.devices}`);
  const rng = rngFor('fleet', seed);
  const devices: Device[] = [];
  for (let serial = 1; serial <= opts.devices; serial++) devices.push(newDevice(seed, serial, 0, rng));
  return { seed, generation: 0, nextSerial: opts.devices + 1, devices };
}
