// The fleet's time: generation g happens FLEET_EPOCH + g days; fixed so records never depend on the wall clock.

export const FLEET_EPOCH = Date.UTC(2024, 0, 1, 3, 0, 0);
export const DAY = 86_400_000;

export function generationTime(generation: number): number {
  return FLEET_EPOCH + generation * DAY;
}

/** `yyyy-MM-dd HH:mm:ss`, sometimes with 3 or 7 fractional digits (both occur in real exports). */
export function formatFirstSeen(ms: number, rng: () => number): string {
  const iso = new Date(ms).toISOString(); // yyyy-MM-ddTHH:mm:ss.fffZ
  const base = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  const r = rng();
  if (r < 0.8) return base;
  const frac = String(Math.floor(rng() * 1000)).padStart(3, '0');
  return r < 0.9 ? `${base}.${frac}` : `${base}.${frac}${String(Math.floor(rng() * 10000)).padStart(4, '0')}`;
}

/** The two shapes the assessment exports use for their dates; which one a row gets is chosen per device. */
export type TimeStyle = 'fraction7' | 'iso';

/** `2020-11-03 10:13:34.8476880` (7 fractional digits, no zone = UTC) or ISO 8601 `2020-11-03T10:13:34.847Z`. */
export function defenderTime(ms: number, style: TimeStyle): string {
  const iso = new Date(ms).toISOString();
  if (style === 'iso') return iso;
  // The sub-millisecond digits are noise in real exports; derive them from the time so output stays deterministic.
  const extra = String((ms * 7919) % 10_000).padStart(4, '0');
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}${extra}`;
}
