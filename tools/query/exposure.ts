// How long devices were exposed to the vulnerabilities fixed between two snapshots (docs/query.md#exposure).
// Pure: one device's rows in each snapshot from..to (oldest first) in, exposure records out; the command
// streams devices through join.ts, so only one device per snapshot is held at a time.
import { asDate } from './output';
import { isVulnerability, VulnRow, vulnIdentity } from './kindDiff';

/** The records' columns, in JSON key order. */
export const EXPOSURE_COLUMNS = [
  'DeviceId',
  'DeviceName',
  'CveId',
  'SoftwareVendor',
  'SoftwareName',
  'SoftwareVersion',
  'VulnerabilitySeverityLevel',
  'CvssScore',
  'exposedSince',
  'exposedSinceSource',
  'fixedIn',
  'fixedAt',
  'exposureSeconds',
  'reappeared',
] as const;

export interface ExposureRecord {
  DeviceId: string;
  DeviceName: string | null;
  CveId: string;
  SoftwareVendor: string;
  SoftwareName: string;
  SoftwareVersion: string;
  VulnerabilitySeverityLevel: string | null;
  CvssScore: number | null;
  /** ISO UTC: FirstSeenTimestamp at <from>, else the GeneratedTime of <from> */
  exposedSince: string;
  exposedSinceSource: 'FirstSeenTimestamp' | 'snapshot';
  /** the first snapshot after <from> without it */
  fixedIn: string;
  /** that snapshot's GeneratedTime, ISO UTC */
  fixedAt: string;
  /** fixedAt − exposedSince */
  exposureSeconds: number;
  /** present again in a later snapshot up to <to> */
  reappeared: boolean;
}

export interface ExposureSnapshot {
  id: string;
  generatedTime: Date;
}

/**
 * For each vulnerability (CVE, product version) of the device at snapshots[0]: the first later snapshot
 * without it fixes it; one present in every snapshot is still open (counted, not recorded).
 */
export function deviceExposure(snapshots: readonly ExposureSnapshot[], rows: readonly (readonly VulnRow[])[]): { fixed: ExposureRecord[]; open: number } {
  const present = rows.map((side) => new Set(side.filter(isVulnerability).map(vulnIdentity)));
  const fixed: ExposureRecord[] = [];
  let open = 0;
  const seen = new Set<string>();
  for (const r of rows[0] ?? []) {
    if (!isVulnerability(r)) continue;
    const id = vulnIdentity(r);
    if (seen.has(id)) continue;
    seen.add(id);
    const gone = present.findIndex((p, i) => i > 0 && !p.has(id));
    if (gone < 0) {
      open++;
      continue;
    }
    const firstSeen = r.FirstSeenTimestamp === undefined || r.FirstSeenTimestamp === null ? undefined : asDate(r.FirstSeenTimestamp);
    const useFirstSeen = firstSeen !== undefined && !Number.isNaN(firstSeen.getTime());
    const since = useFirstSeen ? firstSeen : snapshots[0].generatedTime;
    const fixedAt = snapshots[gone].generatedTime;
    fixed.push({
      DeviceId: r.DeviceId,
      DeviceName: r.DeviceName ?? null,
      CveId: r.CveId!,
      SoftwareVendor: r.SoftwareVendor,
      SoftwareName: r.SoftwareName,
      SoftwareVersion: r.SoftwareVersion,
      VulnerabilitySeverityLevel: r.VulnerabilitySeverityLevel ?? null,
      CvssScore: typeof r.CvssScore === 'number' ? r.CvssScore : null,
      exposedSince: since.toISOString(),
      exposedSinceSource: useFirstSeen ? 'FirstSeenTimestamp' : 'snapshot',
      fixedIn: snapshots[gone].id,
      fixedAt: fixedAt.toISOString(),
      exposureSeconds: (fixedAt.getTime() - since.getTime()) / 1000,
      reappeared: present.some((p, i) => i > gone && p.has(id)),
    });
  }
  return { fixed, open };
}

export interface ExposureSummary {
  fixed: number;
  open: number;
  medianSeconds: number | null;
  maxSeconds: number | null;
}

/** Median (mean of the two middle values for an even count) and maximum of the exposures. */
export function summarize(seconds: readonly number[], open: number): ExposureSummary {
  const s = [...seconds].sort((a, b) => a - b);
  const n = s.length;
  const median = n === 0 ? null : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { fixed: n, open, medianSeconds: median, maxSeconds: n ? s[n - 1] : null };
}

/** `12d 3h 4m` (seconds dropped; under a minute `0m`; negative durations keep their sign). */
export function durationText(seconds: number): string {
  const sign = seconds < 0 ? '-' : '';
  let m = Math.floor(Math.abs(seconds) / 60);
  const d = Math.floor(m / 1440);
  m -= d * 1440;
  const h = Math.floor(m / 60);
  m -= h * 60;
  return `${sign}${d ? `${d}d ` : ''}${d || h ? `${h}h ` : ''}${m}m`;
}
