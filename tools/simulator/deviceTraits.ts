// Per-device facts the assessment kinds share: when a generation's scan saw the device, which date shape and
// which payload quirks (numbers as strings, "true" strings) its rows carry, its RBAC group id and OS build.
// All pure functions of (seed, device, generation), so the inventory's records and randomness stay untouched.
import type { Device } from './fleet';
import { PRODUCTS } from './catalogue';
import { generationTime, TimeStyle } from './fleetTime';
import { hash32 } from './random';

export type AssessmentKind = 'vulnerabilities' | 'configurations' | 'noncpe';

/** Dates alternate per device and kind between the 7-digit form and ISO 8601. */
export function timeStyleOf(device: Device, kind: AssessmentKind): TimeStyle {
  return hash32('time-style', kind, device.deviceId) % 2 === 0 ? 'fraction7' : 'iso';
}

/** A payload quirk this device's rows show (e.g. numbers sent as strings), for `percent` of the devices. */
export function hasQuirk(device: Device, quirk: string, percent: number): boolean {
  return hash32('quirk', quirk, device.deviceId) % 100 < percent;
}

/** When generation `generation`'s scan saw the device: after the day's installs (fleetTime: within 20 h). */
export function assessedAt(device: Device, generation: number): number {
  return generationTime(generation) + 20 * 3_600_000 + (hash32('assessed', device.deviceId, generation) % (4 * 3_600_000));
}

/** Defender's numeric id of an RBAC group (stable per name). */
export function rbacGroupIdOf(name: string): number {
  return name === 'Unassigned' ? 0 : 100 + (hash32('rbac-group', name) % 9_900);
}

/** The installed OS product's version: the build the undocumented `osVersion` column reports. */
export function osVersionOf(device: Device): string {
  const os = device.software.find((s) => PRODUCTS[s.product].os);
  return os ? PRODUCTS[os.product].versions[os.version] : '';
}

export function osArchitectureOf(device: Device): string {
  if (device.osPlatform === 'macOS') return hash32('arch', device.deviceId) % 10 < 6 ? 'arm64' : 'x64';
  return hash32('arch', device.deviceId) % 50 === 0 ? 'arm64' : 'x64';
}

/** A boolean as this device's payloads write it: JSON true/false, or the strings "true"/"false". */
export function boolFor(value: boolean, asString: boolean): boolean | string {
  return asString ? String(value) : value;
}

/** `yyyy-MM-dd HH:mm:ss[.fff[ffff]]` (the inventory's first-seen text, UTC) in epoch milliseconds. */
export function parseFleetTime(text: string): number {
  return Date.parse(`${text.slice(0, 10)}T${text.slice(11, 23)}Z`);
}
