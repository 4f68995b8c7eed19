// A device's non-CPE inventory rows: the line-of-business apps of lobCatalogue.ts it carries. Which apps a device
// has is fixed per device (apart from roll-outs and retirements); its version follows the app's releases with a
// per-device lag, so upgrades show up between exports without touching the CPE inventory's randomness.
import type { Device, NonCpeRecord } from './fleet';
import { osFamily } from './devices';
import { defenderTime, DAY } from './fleetTime';
import { LOB_APPS, LobApp } from './lobCatalogue';
import { hash32 } from './random';
import { assessedAt, hasQuirk, rbacGroupIdOf, timeStyleOf } from './deviceTraits';

/** Releases before the first export, so generation 0 already shows a spread of versions. */
const HISTORY_RELEASES = 6;

export function lobVersion(app: LobApp, release: number): string {
  return `${app.major}.${app.minor + release}.${100 + (hash32('lob-build', app.name, release) % 900)}`;
}

/** The release a device runs in `generation`: the newest one it has adopted after its lag. */
export function lobRelease(device: Device, app: LobApp, generation: number): number {
  const lag = hash32('lob-lag', device.deviceId, app.name) % (2 * app.releaseEvery + 2);
  return Math.max(0, Math.floor((generation + HISTORY_RELEASES * app.releaseEvery - lag) / app.releaseEvery));
}

export function lobAppsOf(device: Device, generation: number): LobApp[] {
  const family = osFamily(device.osPlatform);
  return LOB_APPS.filter((app) => {
    if (generation < (app.since ?? 0) || generation >= (app.until ?? Infinity)) return false;
    return hash32('lob-install', device.deviceId, app.name) / 2 ** 32 < (app.share[family] ?? 0);
  });
}

export function nonCpeRowCount(device: Device, generation: number): number {
  return lobAppsOf(device, generation).length;
}

export function* deviceNonCpeRecords(device: Device, generation: number): Generator<NonCpeRecord> {
  const style = timeStyleOf(device, 'noncpe');
  const seen = assessedAt(device, generation);
  const rbacGroupId = rbacGroupIdOf(device.rbacGroupName);
  const idAsString = hasQuirk(device, 'rbac-id-string', 40);
  for (const app of lobAppsOf(device, generation)) {
    yield {
      deviceId: device.deviceId,
      deviceName: device.deviceName,
      osPlatform: device.osPlatform,
      rbacGroupName: device.rbacGroupName,
      rbacGroupId: idAsString ? String(rbacGroupId) : rbacGroupId,
      softwareName: app.name,
      softwareVendor: app.vendor,
      softwareVersion: lobVersion(app, lobRelease(device, app, generation)),
      // an app not launched lately was last seen some days before the scan
      softwareLastSeenTimestamp: defenderTime(seen - (hash32('lob-seen', device.deviceId, app.name, generation) % 5) * DAY, style),
    };
  }
}
