// How the fleet changes between export generations (roughly a day): upgrades, removals, installs,
// moved devices, and a few devices retired and added.
import type { Device, EvolveOptions, Fleet, FleetOptions, Install } from './fleet';
import { OsFamily, PRODUCTS } from './catalogue';
import { pickWeighted, rngFor } from './random';
import { formatFirstSeen, generationTime } from './fleetTime';
import { APP_PRODUCTS, generateFleet, newDevice, osFamily } from './devices';

/** Rates per generation (a generation is roughly a day). */
const RATES = {
  upgrade: 0.07,
  keepOldOnUpgrade: 0.04,
  remove: 0.004,
  installPerDevice: 0.15,
  osUpdate: 0.12,
  rbacMove: 0.003,
  deviceTurnover: 0.005,
};

function evolveDevice(device: Device, rng: () => number, seenAt: () => string): Device {
  const family = osFamily(device.osPlatform);
  const software: Install[] = [];
  const kept = new Set<number>();
  const keyOf = (product: number, version: number) => product * 1000 + version;
  const push = (s: Install) => {
    if (kept.has(keyOf(s.product, s.version))) return;
    kept.add(keyOf(s.product, s.version));
    software.push(s);
  };
  const before = new Set(device.software.map((s) => keyOf(s.product, s.version)));
  for (const s of device.software) {
    const p = PRODUCTS[s.product];
    const newest = p.versions.length - 1;
    if (!p.os && rng() < RATES.remove) continue;
    if (s.version < newest && rng() < (p.os ? RATES.osUpdate : RATES.upgrade)) {
      const v = Math.min(newest, s.version + 1 + (rng() < 0.3 ? 1 : 0));
      // Uninstallers sometimes leave the old version behind: two versions side by side.
      if (!p.os && rng() < RATES.keepOldOnUpgrade) push(s);
      // Already installed in the target version: that row (and its first-seen time) simply stays.
      if (!before.has(keyOf(s.product, v))) push({ product: s.product, version: v, firstSeen: seenAt() });
      continue;
    }
    push(s);
  }
  if (rng() < RATES.installPerDevice) {
    const candidates = APP_PRODUCTS.filter((i) => (PRODUCTS[i].share[family] ?? 0) > 0 && !software.some((s) => s.product === i));
    if (candidates.length) {
      const index = pickWeighted(
        rng,
        candidates.map((i) => [i, PRODUCTS[i].share[family] ?? 0] as const),
      );
      push({ product: index, version: PRODUCTS[index].versions.length - 1, firstSeen: seenAt() });
    }
  }
  const rbacGroupName = rng() < RATES.rbacMove ? movedRbacGroup(device.rbacGroupName, family) : device.rbacGroupName;
  return { ...device, rbacGroupName, software };
}

function movedRbacGroup(current: string, family: OsFamily): string {
  if (current !== 'Unassigned') return 'Unassigned';
  return family === 'server' || family === 'linux' ? 'Servers' : 'Workstations EU';
}

/** The fleet one generation later: upgrades, removals, installs, a few devices retired and added. */
export function evolveFleet(fleet: Fleet, opts: EvolveOptions): Fleet {
  const seed = opts.seed ?? fleet.seed;
  const rng = rngFor('evolve', seed, opts.generation);
  const now = generationTime(opts.generation);
  const seenAt = () => formatFirstSeen(now + Math.floor(rng() * 20 * 3600_000), rng);
  const turnover = fleet.devices.length === 0 ? 0 : Math.max(1, Math.round(fleet.devices.length * RATES.deviceTurnover));
  const retired = new Set<number>();
  while (retired.size < Math.min(turnover, fleet.devices.length)) retired.add(Math.floor(rng() * fleet.devices.length));
  const devices = fleet.devices.filter((_, i) => !retired.has(i)).map((d) => evolveDevice(d, rng, seenAt));
  let nextSerial = fleet.nextSerial;
  for (let i = 0; i < turnover; i++) devices.push(newDevice(seed, nextSerial++, opts.generation, rng));
  return { seed, generation: opts.generation, nextSerial, devices };
}

/** generateFleet then evolve up to `generation`: what the simulator serves for that generation. */
export function fleetAt(opts: FleetOptions & { generation?: number }): Fleet {
  let fleet = generateFleet(opts);
  for (let g = 1; g <= (opts.generation ?? 0); g++) fleet = evolveFleet(fleet, { generation: g });
  return fleet;
}
