// A device's SecureConfigurationsAssessment rows: one per configuration of its OS family (configCatalogue.ts).
// Compliance is drawn per configuration for spans of a few generations, so between exports some settings get
// remediated and some regress; a configuration tied to a product applies only where that product is installed.
import type { ConfigurationRecord, Device } from './fleet';
import { PRODUCTS } from './catalogue';
import { SECURE_CONFIGURATIONS, SecureConfiguration } from './configCatalogue';
import { osFamily } from './devices';
import { defenderTime } from './fleetTime';
import { hash32 } from './random';
import { assessedAt, boolFor, hasQuirk, timeStyleOf } from './deviceTraits';

/** Whether the device complies in `generation`: redrawn every 3–10 generations (per device and configuration). */
export function isCompliantAt(device: Device, c: SecureConfiguration, generation: number): boolean {
  const h = hash32('scid-period', device.deviceId, c.id);
  const period = 3 + (h % 8);
  const epoch = Math.floor((generation + ((h >>> 8) % period)) / period);
  return hash32('scid-state', device.deviceId, c.id, epoch) / 2 ** 32 < c.compliance;
}

export function configurationsOf(device: Device): readonly SecureConfiguration[] {
  return SECURE_CONFIGURATIONS[osFamily(device.osPlatform)];
}

export function configurationRowCount(device: Device): number {
  return configurationsOf(device).length;
}

export function* deviceConfigurationRecords(device: Device, generation: number): Generator<ConfigurationRecord> {
  const timestamp = defenderTime(assessedAt(device, generation), timeStyleOf(device, 'configurations'));
  const impactAsString = hasQuirk(device, 'impact-string', 30);
  const boolAsString = hasQuirk(device, 'bool-string', 15);
  const deviceName = hasQuirk(device, 'no-device-name', 2) ? null : device.deviceName;
  const installed = new Set(device.software.map((s) => `${PRODUCTS[s.product].vendor}/${PRODUCTS[s.product].name}`));
  for (const c of configurationsOf(device)) {
    const applicable = !c.requires || installed.has(c.requires);
    yield {
      deviceId: device.deviceId,
      deviceName,
      osPlatform: device.osPlatform,
      rbacGroupName: device.rbacGroupName,
      timestamp,
      configurationId: c.id,
      configurationCategory: c.category,
      configurationSubcategory: c.subcategory,
      configurationImpact: impactAsString ? String(c.impact) : c.impact,
      configurationName: c.name,
      isApplicable: boolFor(applicable, boolAsString),
      isCompliant: boolFor(applicable && isCompliantAt(device, c, generation), boolAsString),
      isExpectedUserImpact: boolFor(c.expectedUserImpact, boolAsString),
      recommendationReference: `sca-_-${c.id}`,
    };
  }
}
