// Each export kind's rows, derived from one fleet (docs/kinds.md lists the kinds): a table from kind to how many
// rows a device has and what they are, so the export layout, the server and the tests treat every kind alike.
import type { ExportKind } from '../../shared/kinds/exportKinds';
import type { Device, Fleet } from './fleet';
import { deviceRecords } from './records';
import { configurationRowCount, deviceConfigurationRecords } from './configurationRecords';
import { deviceNonCpeRecords, nonCpeRowCount } from './nonCpeRecords';
import { deviceVulnerabilityRecords, vulnerabilityRowCount } from './vulnerabilityRecords';

export type KindRecord = object;

export interface KindSource {
  /** rows of one device, counted without building them where that is cheaper */
  rows(device: Device): number;
  /** one device's rows, in line order */
  records(device: Device): Iterable<KindRecord>;
}

const SOURCES: Readonly<Record<ExportKind, (generation: number) => KindSource>> = {
  SoftwareInventory: () => ({ rows: (d) => d.software.length, records: deviceRecords }),
  NonCpeSoftwareInventory: (g) => ({ rows: (d) => nonCpeRowCount(d, g), records: (d) => deviceNonCpeRecords(d, g) }),
  SoftwareVulnerabilities: (g) => ({ rows: (d) => vulnerabilityRowCount(d, g), records: (d) => deviceVulnerabilityRecords(d, g) }),
  SecureConfigurations: (g) => ({ rows: configurationRowCount, records: (d) => deviceConfigurationRecords(d, g) }),
};

/** How a kind's rows come from this fleet (its generation decides CVE publication, compliance, app releases). */
export function kindSource(kind: ExportKind, fleet: Fleet): KindSource {
  return SOURCES[kind](fleet.generation);
}

/** Every row of a kind, device by device. */
export function* kindRecords(kind: ExportKind, fleet: Fleet): Generator<KindRecord> {
  const source = kindSource(kind, fleet);
  for (const device of fleet.devices) yield* source.records(device);
}

export function kindRowCount(kind: ExportKind, fleet: Fleet): number {
  const source = kindSource(kind, fleet);
  return fleet.devices.reduce((n, d) => n + source.rows(d), 0);
}
