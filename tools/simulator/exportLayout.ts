// The simulator's export layout: how a fleet's devices are planned into part files (a device never straddles
// two), the export's folder and time texts, and the records of a file from any line (for the paged API).
// Every kind is laid out alike; its rows come from its KindSource (kindSources.ts).
import { Device, Fleet, hash32, SoftwareRecord } from './fleet';
import { KindRecord, KindSource } from './kindSources';

/** A record as served: the documented columns, plus the undocumented ones when extraColumns is on. */
export type ServedRecord = SoftwareRecord & { cveIds?: string[]; softwareLastSeenTimestamp?: string };

export interface FilePlan {
  devices: Device[];
  /** rows before each device within the file, for seeking to a line */
  offsets: number[];
  rows: number;
}

/** Devices (with their row counts, from the kind's source) go round-robin to files; a device's rows never straddle two files (as in Defender's exports). */
export function planFiles(fleet: Fleet, files: number, deviceRows: readonly number[]): FilePlan[] {
  const plans: FilePlan[] = Array.from({ length: files }, () => ({ devices: [], offsets: [], rows: 0 }));
  fleet.devices.forEach((device, i) => {
    const plan = plans[i % files];
    plan.devices.push(device);
    plan.offsets.push(plan.rows);
    plan.rows += deviceRows[i];
  });
  return plans;
}

export function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

export function timePathOf(t: Date): string {
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}/${pad(t.getUTCHours())}${pad(t.getUTCMinutes())}`;
}

/** `2021-01-11T11:01:00Z`: seconds, no milliseconds, as the API writes generatedTime. */
export function apiTime(t: Date): string {
  return `${t.toISOString().slice(0, 19)}Z`;
}

export function floorToMinute(ms: number): Date {
  return new Date(Math.floor(ms / 60_000) * 60_000);
}

function withExtras(r: SoftwareRecord, generatedTime: Date): ServedRecord {
  const h = hash32(r.deviceId, r.softwareName, r.softwareVersion);
  const cveCount = Math.min(r.numberOfWeaknesses, 3);
  const cveIds = Array.from({ length: cveCount }, (_, i) => `CVE-${2019 + ((h >>> (i * 3)) % 6)}-${1000 + ((h >>> (i * 5)) % 40000)}`);
  const lastSeen = new Date(generatedTime.getTime() - (h % 36) * 3_600_000).toISOString();
  return { ...r, cveIds, softwareLastSeenTimestamp: `${lastSeen.slice(0, 10)} ${lastSeen.slice(11, 19)}` };
}

/**
 * A file's records from a line on. `extras` (the inventory's undocumented columns, dated by the export) applies to
 * SoftwareInventory records only; the other kinds carry their undocumented columns always, as real payloads do.
 */
export function* planRecords(plan: FilePlan, fromLine: number, source: KindSource, extras?: Date): Generator<KindRecord> {
  // Skip whole devices before the line, then rows within the first device.
  let d = 0;
  while (d + 1 < plan.devices.length && plan.offsets[d + 1] <= fromLine) d++;
  let line = plan.offsets[d] ?? 0;
  for (; d < plan.devices.length; d++) {
    for (const r of source.records(plan.devices[d])) {
      if (line++ < fromLine) continue;
      yield extras ? withExtras(r as SoftwareRecord, extras) : r;
    }
  }
}
