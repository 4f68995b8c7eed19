// The vulnerability catalogue: which CVEs affect which version of each catalogue product, and from which
// fleet generation Defender knows them. Derived deterministically from the product catalogue so the kinds agree:
// before the first export every version carries exactly the inventory's NumberOfWeaknesses CVEs (records.ts),
// each CVE affects a contiguous range of versions and is fixed from a later one (or not yet), and a few CVEs are
// published in later generations (the KNOWN_CVES table names some; the rest are generated).
import { ExploitabilityLevel, KNOWN_CVES, KnownCve } from './cveCatalogue';
import { Product, PRODUCTS } from './catalogue';
import { DAY, FLEET_EPOCH, generationTime } from './fleetTime';
import { hash32, pickWeighted, rngFor } from './random';
import { weaknessesFor } from './records';

export type { ExploitabilityLevel } from './cveCatalogue';
export type SeverityLevel = 'Low' | 'Medium' | 'High' | 'Critical';

export interface Cve {
  readonly cveId: string;
  readonly cvss: number;
  readonly severity: SeverityLevel;
  readonly exploitability: ExploitabilityLevel;
  /** affected versions are [introducedIn, fixedIn), indices into the product's versions */
  readonly introducedIn: number;
  /** the first unaffected version; versions.length = no fixed version yet */
  readonly fixedIn: number;
  /** the fleet generation from which exports list it (0 = already known at the first export) */
  readonly published: number;
  readonly publishedMs: number;
  /** Microsoft's monthly update that fixes it (Microsoft products with a fix only) */
  readonly update?: { readonly name: string; readonly id: string };
}

/** Chance (percent) that a product gets a newly published CVE in a given generation. */
const PUBLISH_PERCENT = 8;

const EXPLOITABILITY: readonly (readonly [ExploitabilityLevel, number])[] = [
  ['NoExploit', 70],
  ['ExploitIsPublic', 18],
  ['ExploitIsVerified', 8],
  ['ExploitIsInKit', 4],
];

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

export function severityOf(cvss: number): SeverityLevel {
  return cvss >= 9 ? 'Critical' : cvss >= 7 ? 'High' : cvss >= 4 ? 'Medium' : 'Low';
}

/** The monthly update that shipped a Microsoft product's version: versions are ~6 weeks apart, the newest one recent. */
function updateFor(p: Product, fixedIn: number): Cve['update'] {
  if (p.vendor !== 'microsoft' || fixedIn >= p.versions.length) return undefined;
  const released = new Date(FLEET_EPOCH - (p.versions.length - 1 - fixedIn) * 45 * DAY);
  return {
    name: `${MONTHS[released.getUTCMonth()]} ${released.getUTCFullYear()} Security Updates`,
    id: String(5_020_000 + (hash32('kb', released.getUTCFullYear(), released.getUTCMonth()) % 60_000)),
  };
}

interface ProductCves {
  /** every CVE of the product, whatever its publication generation */
  all: Cve[];
  /** generations for which generated later CVEs were added */
  laterUpTo: number;
  ids: Set<string>;
}

const cache = new Map<number, ProductCves>();

function versionIndex(p: Product, version: string, k: KnownCve): number {
  const i = p.versions.indexOf(version);
  if (i < 0) throw new Error(`cveCatalogue: ${k.cveId} names ${p.vendor}/${p.name} version ${version}, which the product catalogue lacks`);
  return i;
}

function fromKnown(p: Product, k: KnownCve): Cve {
  const introducedIn = versionIndex(p, k.from, k);
  const fixedIn = k.fixedIn === null ? p.versions.length : versionIndex(p, k.fixedIn, k);
  if (fixedIn <= introducedIn) throw new Error(`cveCatalogue: ${k.cveId} is fixed before it is introduced`);
  const publishedMs = k.published === 0 ? FLEET_EPOCH - (hash32(k.cveId) % 700) * DAY : generationTime(k.published) + (hash32(k.cveId) % 20) * 3_600_000;
  return {
    cveId: k.cveId,
    cvss: k.cvss,
    severity: severityOf(k.cvss),
    exploitability: k.exploitability,
    introducedIn,
    fixedIn,
    published: k.published,
    publishedMs,
    update: updateFor(p, fixedIn),
  };
}

function generated(p: Product, pc: ProductCves, rng: () => number, introducedIn: number, fixedIn: number, published: number): Cve {
  const year = published === 0 ? 2019 + Math.min(4, Math.floor(rng() * 5)) : new Date(generationTime(published)).getUTCFullYear();
  let cveId: string;
  do cveId = `CVE-${year}-${1000 + Math.floor(rng() * 48_000)}`;
  while (pc.ids.has(cveId));
  pc.ids.add(cveId);
  // Scores lean high, as the CVEs that reach a vulnerability feed do; one decimal like NVD's.
  const cvss = Math.round((2 + 8 * Math.pow(rng(), 0.6)) * 10) / 10;
  const publishedMs = published === 0 ? FLEET_EPOCH - Math.floor(rng() * 900 * DAY) : generationTime(published) + Math.floor(rng() * 20 * 3_600_000);
  return {
    cveId,
    cvss,
    severity: severityOf(cvss),
    exploitability: pickWeighted(rng, EXPLOITABILITY),
    introducedIn,
    fixedIn,
    published,
    publishedMs,
    update: updateFor(p, fixedIn),
  };
}

/** Known CVEs first; then per version as many generated ones as the inventory's weakness count still needs. */
function baseCves(index: number): ProductCves {
  const p = PRODUCTS[index];
  const n = p.versions.length;
  const pc: ProductCves = { all: [], laterUpTo: 0, ids: new Set() };
  for (const k of KNOWN_CVES) {
    if (k.vendor !== p.vendor || k.name !== p.name) continue;
    pc.all.push(fromKnown(p, k));
    pc.ids.add(k.cveId);
  }
  const known0 = pc.all.filter((c) => c.published === 0);
  const rng = rngFor('cves', p.vendor, p.name);
  // Walk the versions oldest first: CVEs still open carry over, the oldest get fixed when fewer are needed.
  const open: number[] = [];
  for (let v = 0; v < n; v++) {
    const target = Math.max(0, weaknessesFor(p, v) - known0.filter((c) => c.introducedIn <= v && v < c.fixedIn).length);
    while (open.length > target) pc.all.push(generated(p, pc, rng, open.shift()!, v, 0));
    while (open.length < target) open.push(v);
  }
  for (const introducedIn of open) pc.all.push(generated(p, pc, rng, introducedIn, n, 0));
  return pc;
}

/** Generated CVEs published in generations 1..generation (a few products a day). */
function addLater(index: number, pc: ProductCves, generation: number): void {
  const p = PRODUCTS[index];
  const n = p.versions.length;
  for (let g = pc.laterUpTo + 1; g <= generation; g++) {
    if (hash32('cve-published', p.vendor, p.name, g) % 100 >= PUBLISH_PERCENT) continue;
    const rng = rngFor('cve-published', p.vendor, p.name, g);
    // Half are disclosed after a fix already shipped (only older versions affected), half are open on the newest.
    const fixedIn = n > 1 && rng() < 0.5 ? 1 + Math.floor(rng() * (n - 1)) : n;
    const introducedIn = Math.floor(rng() * Math.min(fixedIn, n - 1));
    pc.all.push(generated(p, pc, rng, introducedIn, fixedIn, g));
  }
  pc.laterUpTo = Math.max(pc.laterUpTo, generation);
}

function productCves(index: number, generation: number): ProductCves {
  let pc = cache.get(index);
  if (!pc) cache.set(index, (pc = baseCves(index)));
  if (pc.laterUpTo < generation) addLater(index, pc, generation);
  return pc;
}

/** The CVEs an export of `generation` lists for a product version, in catalogue order. */
export function cvesAffecting(product: number, version: number, generation: number): Cve[] {
  return productCves(product, generation).all.filter((c) => c.published <= generation && c.introducedIn <= version && version < c.fixedIn);
}

/** Every CVE of a product known by `generation` (for tests and docs). */
export function productCvesAt(product: number, generation: number): Cve[] {
  return productCves(product, generation).all.filter((c) => c.published <= generation);
}
