// The web UI (docs/ui.md) in a real browser: Debian's chromium driven by playwright-core, over three snapshots of
// every export kind built by the real pipeline (simulator publish → runIngestKinds → rollups), and a device
// whose names are HTML, ingested with the inventory from a hand-made extra export file that a proxy in front of
// the simulator lists beside the simulator's own. Screenshots land in screenshots/ui/.
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { AppServices, createServices } from '../../shared/app/appContext';
import { silentLog } from '../../shared/core/log';
import { EXPORT_KIND_NAMES, ExportKind } from '../../shared/kinds/exportKinds';
import { loadCatalog } from '../../tools/query/snapshots';
import { productTrend } from '../../tools/query/trend';
import { runIngestKinds } from '../../tools/runner/localRunner';
import { ConfigurationRecord, VulnerabilityRecord } from '../../tools/simulator/fleet';
import { DefenderSimulator, PublishedExport, startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { OTHER } from '../../tools/ui/chart';
import { RunningUi, startUi } from '../../tools/ui/main';
import { completeOf } from '../../tools/ui/pages/common';
import { DEFAULT_TOP } from '../../tools/ui/pages/product';
import { useAzurite } from '../helpers/azurite';
import { exportFixture, gz, jsonl, testConfig } from '../helpers/exportFixture';
import { runTool, startTool } from '../helpers/toolProcess';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = path.join(__dirname, '..', '..', 'screenshots', 'ui');
const haveChromium = fs.existsSync(CHROMIUM);
if (!haveChromium) {
  process.stderr.write(`ui.test.ts: SKIPPED, ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)\n`);
}
const describeBrowser = haveChromium ? describe : describe.skip;

const azurite = useAzurite();

const IDS = ['202503100800', '202503110800', '202503120800'];
const HOSTILE_ID = 'ffff0000hostile0000device';
const HOSTILE_DEVICE = '<b>pwn</b>';
const HOSTILE_NAME = '<script>alert(1)</script>';
const HOSTILE_VENDOR = '"><img src=x onerror=alert(2)>';
const HOSTILE_VERSION = `1.0'"><svg onload=alert(3)>`;

let sim: DefenderSimulator;
let proxy: http.Server;
let services: AppServices;
const gens: PublishedExport[] = [];
let ui: RunningUi;
let browser: Browser;

/** Devices per version of one product in one export. */
function versionsOf(exp: PublishedExport, name: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of exp.records()) {
    if (r.softwareName !== name) continue;
    if (!out.has(r.softwareVersion)) out.set(r.softwareVersion, new Set());
    out.get(r.softwareVersion)!.add(r.deviceId);
  }
  return out;
}

/** One kind's rows of one export, as the simulator served them. */
function* kindRows<T>(exp: PublishedExport, kind: ExportKind): Generator<T> {
  yield* exp.kinds[kind]!.records() as Generator<T>;
}
const vulnerabilitiesOf = (exp: PublishedExport) => kindRows<VulnerabilityRecord>(exp, 'SoftwareVulnerabilities');
const configurationsOf = (exp: PublishedExport) => kindRows<ConfigurationRecord>(exp, 'SecureConfigurations');
// the simulator serves some booleans as "true"/"false" (as Defender does); the mapper stores booleans
const truthy = (v: boolean | string) => v === true || v === 'true';

/** (CVE → devices) of one export's SoftwareVulnerabilities rows. */
function cvesOf(exp: PublishedExport): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of vulnerabilitiesOf(exp)) {
    if (!r.cveId) continue;
    if (!out.has(r.cveId)) out.set(r.cveId, new Set());
    out.get(r.cveId)!.add(r.deviceId);
  }
  return out;
}

/** A device's applicable, failing configuration ids in one export. */
function failingOf(exp: PublishedExport, deviceId: string): { failing: string[]; applicable: number } {
  const mine = [...configurationsOf(exp)].filter((r) => r.deviceId === deviceId && truthy(r.isApplicable));
  return { failing: mine.filter((r) => !truthy(r.isCompliant)).map((r) => r.configurationId), applicable: mine.length };
}

/** The hostile device's one inventory row, as Defender would serve it. */
const HOSTILE_RECORD = {
  deviceId: HOSTILE_ID,
  deviceName: HOSTILE_DEVICE,
  osPlatform: 'Windows11',
  rbacGroupName: '<i>group</i>',
  softwareVendor: HOSTILE_VENDOR,
  softwareName: HOSTILE_NAME,
  softwareVersion: HOSTILE_VERSION,
  numberOfWeaknesses: 0,
  diskPaths: [],
  registryPaths: [],
  softwareFirstSeenTimestamp: '2025-03-01 10:11:12',
  endOfSupportStatus: 'None',
  endOfSupportDate: null,
};

/**
 * A pass-through proxy in front of the simulator that adds `extra()` to the files of every SoftwareInventory
 * export answer, so the hostile device travels the real pipeline without the simulator knowing about it.
 */
async function startExtraFileProxy(target: string, extra: () => string[]): Promise<http.Server> {
  const to = new URL(target);
  const server = http.createServer((req, res) => {
    const up = http.request({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      if (!/^\/api\/machines\/SoftwareInventoryExport(\?|$)/i.test(req.url ?? '') || answer.statusCode !== 200) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        return answer.pipe(res);
      }
      let text = '';
      answer.setEncoding('utf8').on('data', (d: string) => (text += d));
      answer.on('end', () => {
        const body = JSON.parse(text) as { exportFiles: string[] };
        body.exportFiles = [...body.exportFiles, ...extra()];
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

beforeAll(async () => {
  sim = await startDefenderSimulator({
    blobConnectionString: azurite().connectionString,
    devices: 40,
    seed: 5,
    extraColumns: true,
    exportKinds: EXPORT_KIND_NAMES,
    generatedTime: new Date(Date.UTC(2025, 2, 10, 8, 0)),
  });
  const hostile = exportFixture(azurite());
  await hostile.upload([gz(jsonl([HOSTILE_RECORD]))]);
  proxy = await startExtraFileProxy(sim.baseUrl, () => hostile.urls());
  const config = testConfig(azurite(), {
    DEFENDER_API_BASE_URL: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    EXPORT_KINDS: EXPORT_KIND_NAMES.join(','),
  });
  services = createServices(config);
  for (let i = 0; i < IDS.length; i++) {
    const exp = await sim.publish(i === 0 ? undefined : { generatedTime: new Date(Date.UTC(2025, 2, 10 + i, 8, 0)) });
    gens.push(exp);
    const summaries = await runIngestKinds({ config, log: silentLog, services });
    // every kind lands every row it was served (+ the hostile device's one inventory row), nothing rejected
    expect(summaries.map((s) => [s.kind, s.snapshotId, s.status, s.rows, s.rejected])).toEqual(
      EXPORT_KIND_NAMES.map((k) => [k, IDS[i], 'complete', exp.rowCounts[k]! + (k === 'SoftwareInventory' ? 1 : 0), 0]),
    );
  }

  ui = await startUi({ host: '127.0.0.1', port: 0, explicitHost: false }, { AzureWebJobsStorage: azurite().connectionString }, () => undefined);
  if (haveChromium) {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    fs.mkdirSync(SHOTS, { recursive: true });
  }
}, 180000);

afterAll(async () => {
  await browser?.close();
  await ui?.close();
  await sim?.stop();
  await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
});

interface Watched {
  page: Page;
  errors: string[];
  dialogs: string[];
}

/** A fresh page that records console errors, uncaught exceptions and any dialog (alert() must never run). */
async function open(pathAndQuery: string): Promise<Watched> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const res = await page.goto(new URL(pathAndQuery, ui.url).toString());
  expect(res?.status()).toBe(200);
  return { page, errors, dialogs };
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** The product on most devices at the newest snapshot, with at least two versions in some snapshot. */
function busiestProduct(): string {
  const devices = new Map<string, Set<string>>();
  for (const r of gens[2].records()) {
    if (!devices.has(r.softwareName)) devices.set(r.softwareName, new Set());
    devices.get(r.softwareName)!.add(r.deviceId);
  }
  const versions = new Map<string, Set<string>>(); // "gen\0name" → versions
  gens.forEach((g, i) => {
    for (const r of g.records()) {
      const k = `${i}\u0000${r.softwareName}`;
      if (!versions.has(k)) versions.set(k, new Set());
      versions.get(k)!.add(r.softwareVersion);
    }
  });
  const multi = [...devices.keys()].filter((n) => gens.some((_, i) => (versions.get(`${i}\u0000${n}`)?.size ?? 0) > 1));
  return multi.sort((a, b) => devices.get(b)!.size - devices.get(a)!.size || (a < b ? -1 : 1))[0];
}

describeBrowser('web UI in chromium', () => {
  it('snapshots page: every kind with its snapshots and health, numbers from the catalog', async () => {
    const { page, errors } = await open('/');
    for (const kind of EXPORT_KIND_NAMES) {
      await expect(page.locator(`section[data-kind="${kind}"] tr[data-snapshot]`).count()).resolves.toBe(IDS.length);
      for (let i = 0; i < IDS.length; i++) {
        const row = page.locator(`section[data-kind="${kind}"] tr[data-snapshot="${IDS[i]}"]`);
        const rows = gens[i].rowCounts[kind]! + (kind === 'SoftwareInventory' ? 1 : 0); // + the hostile device
        await expect(row.locator('[data-field="RowCount"]').textContent()).resolves.toBe(fmt(rows));
        await expect(row.locator('.status-complete').textContent()).resolves.toBe('complete');
      }
      // the pipeline rolled every snapshot up: no "without a current rollup" note
      await expect(page.locator(`section[data-kind="${kind}"] [data-field="unrolled"]`).count()).resolves.toBe(0);
    }
    await shot(page, 'snapshots');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('navigation: snapshots → diff (totals as computed from the exports) → product → device → CVE', async () => {
    const { page, errors } = await open('/');
    await page.click(`section[data-kind="SoftwareInventory"] tr[data-snapshot="${IDS[2]}"] a:has-text("since ${IDS[1]}")`);
    await page.waitForURL(/\/diff\?/);
    expect(new URL(page.url()).searchParams.get('from')).toBe(IDS[1]);
    // brute force over both exports: (device, vendor, name) groups whose version sets differ
    const groups = (exp: PublishedExport) => {
      const g = new Map<string, Set<string>>();
      for (const r of exp.records()) {
        const k = JSON.stringify([r.deviceId, r.softwareVendor, r.softwareName]);
        if (!g.has(k)) g.set(k, new Set());
        g.get(k)!.add(r.softwareVersion);
      }
      return g;
    };
    const [a, b] = [groups(gens[1]), groups(gens[2])];
    const totals = { installed: 0, removed: 0, changed: 0, unchanged: 1 }; // + the hostile device, the same in both
    for (const k of new Set([...a.keys(), ...b.keys()])) {
      const x = [...(a.get(k) ?? [])].sort().join();
      const y = [...(b.get(k) ?? [])].sort().join();
      if (x === y) totals.unchanged++;
      else totals[!a.has(k) ? 'installed' : !b.has(k) ? 'removed' : 'changed']++;
    }
    for (const [field, n] of Object.entries(totals)) await expect(page.locator(`table.totals [data-field="${field}"]`).textContent()).resolves.toBe(fmt(n));
    await expect(page.locator('tr[data-change]').count()).resolves.toBe(totals.installed + totals.removed + totals.changed);
    await shot(page, 'diff');

    // a product link of the diff leads to that product's page
    const productLink = page.locator('table.changes td:nth-child(4) a').first();
    const productName = (await productLink.textContent())!;
    await productLink.click();
    await page.waitForURL(/\/product\?/);
    await expect(page.locator('h1').textContent()).resolves.toBe(`Product ${productName}`);

    // a device link of the product page leads to the device, at the newest snapshot
    const deviceLink = page.locator('section.version ul.devices a').first();
    await deviceLink.click();
    await page.waitForURL(/\/device\?/);
    const deviceId = new URL(page.url()).searchParams.get('id')!;
    const expectedRows = [...gens[2].records()].filter((r) => r.deviceId === deviceId);
    await expect(page.locator('[data-field="rows"]').textContent()).resolves.toBe(fmt(expectedRows.length));
    await expect(page.locator('table.software tbody tr').count()).resolves.toBe(expectedRows.length);
    const expectedCves = new Set([...vulnerabilitiesOf(gens[2])].filter((r) => r.deviceId === deviceId && r.cveId).map((r) => r.cveId));
    await expect(page.locator('section[data-kind="SoftwareVulnerabilities"] [data-field="cves"]').textContent()).resolves.toBe(fmt(expectedCves.size));

    if (expectedCves.size > 0) {
      await page.locator('section[data-kind="SoftwareVulnerabilities"] td a[href^="/cve?"]').first().click();
      await page.waitForURL(/\/cve\?/);
      await expect(page.locator('h1').textContent()).resolves.toMatch(/^CVE-/);
    }
    expect(errors).toEqual([]);
    await page.close();
  });

  it('product page: a stacked chart with one series per top version (+ other), values per snapshot as exported', async () => {
    const name = busiestProduct();
    const { page, errors } = await open(`/product?name=${encodeURIComponent(name)}`);
    const perGen = gens.map((g) => versionsOf(g, name));
    const all = new Set(perGen.flatMap((m) => [...m.keys()]));
    const newest = perGen[2];
    const peak = (v: string) => Math.max(...perGen.map((m) => m.get(v)?.size ?? 0));
    const ranked = [...all].sort((x, y) => (newest.get(y)?.size ?? 0) - (newest.get(x)?.size ?? 0) || peak(y) - peak(x) || (x < y ? -1 : 1));
    const own = ranked.slice(0, DEFAULT_TOP);
    const expectedSeries = ranked.length > DEFAULT_TOP ? [...own, OTHER] : own;

    const series = await page.locator('svg g.series').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-series')));
    expect(series).toEqual(expectedSeries);
    for (const v of own) {
      for (let i = 0; i < IDS.length; i++) {
        const rect = page.locator(`svg g.series[data-series="${v}"] rect[data-point="${IDS[i]}"]`);
        await expect(rect.getAttribute('data-value')).resolves.toBe(String(perGen[i].get(v)?.size ?? 0));
      }
    }
    // every value of the chart is the rollup-backed productTrend() (the rollups suite checks it against a scan)
    const trend = await productTrend({ tables: services.inventory }, { name, snapshots: completeOf(await loadCatalog(services.catalog)) });
    expect(trend.points.map((p) => [p.snapshotId, p.source])).toEqual(IDS.map((id) => [id, 'rollup']));
    const drawn = await page
      .locator('svg g.series rect[data-point]')
      .evaluateAll((rs) =>
        rs.map((r) => [r.closest('g.series')!.getAttribute('data-series'), r.getAttribute('data-point'), Number(r.getAttribute('data-value'))]),
      );
    const fromTrend = trend.points.flatMap((p) => {
      const other = Object.entries(p.versions).reduce((n, [v, d]) => (own.includes(v) ? n : n + d), 0);
      return [...own.map((v) => [v, p.snapshotId, p.versions[v] ?? 0]), ...(ranked.length > DEFAULT_TOP ? [[OTHER, p.snapshotId, other]] : [])];
    });
    const order = (x: unknown[]) => JSON.stringify(x);
    expect(drawn.map(order).sort()).toEqual(fromTrend.map(order).sort());
    for (const p of trend.points) {
      await expect(page.locator(`table.figures tr[data-snapshot="${p.snapshotId}"] [data-field="devices"]`).textContent()).resolves.toBe(fmt(p.devices));
    }
    // the devices list at the newest snapshot: one section per version, its device count as exported
    for (const [v, devices] of newest) {
      await expect(page.locator(`section.version[data-version="${v}"] [data-field="devices"]`).textContent()).resolves.toBe(fmt(devices.size));
    }
    await expect(page.locator('.legend li').count()).resolves.toBe(expectedSeries.length);
    await shot(page, 'product');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('CVE page: devices exposed per snapshot (as the simulator served its vulnerabilities) as a chart, and the devices at the newest', async () => {
    const maps = gens.map(cvesOf);
    // the CVE on most devices at the newest snapshot whose exposure changes over the three
    const counts = (cve: string) => maps.map((m) => m.get(cve)?.size ?? 0);
    const candidates = [...maps[2].keys()].sort((a, b) => maps[2].get(b)!.size - maps[2].get(a)!.size || (a < b ? -1 : 1));
    const cve = candidates.find((c) => new Set(counts(c)).size > 1) ?? candidates[0];
    const { page, errors } = await open(`/cve?id=${cve.toLowerCase()}`);
    await expect(page.locator('h1').textContent()).resolves.toBe(cve);
    for (let i = 0; i < IDS.length; i++) {
      const rect = page.locator(`svg g.series[data-series="devices exposed"] rect[data-point="${IDS[i]}"]`);
      await expect(rect.getAttribute('data-value')).resolves.toBe(String(counts(cve)[i]));
      await expect(page.locator(`table.figures tr[data-snapshot="${IDS[i]}"] [data-field="devices"]`).textContent()).resolves.toBe(fmt(counts(cve)[i]));
      // every snapshot was ingested by the pipeline, so its count comes from its rollup, not a scan of its table
      await expect(page.locator(`table.figures tr[data-snapshot="${IDS[i]}"]`).getAttribute('data-source')).resolves.toBe('rollup');
    }
    await expect(page.locator('[data-field="exposed"]').textContent()).resolves.toBe(fmt(maps[2].get(cve)!.size));
    const listed = await page
      .locator('table.exposed tbody tr td:first-child a')
      .evaluateAll((as) => as.map((a) => new URL(a.getAttribute('href') ?? '', 'http://x').searchParams.get('id')));
    expect(new Set(listed)).toEqual(maps[2].get(cve));
    await shot(page, 'cve');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('device page: its vulnerabilities and failing configurations as the simulator served them, at the newest snapshot and back in history', async () => {
    // a device with CVEs and failing configurations at the newest snapshot
    const cves = cvesOf(gens[2]);
    const exposed = (id: string) => [...cves.values()].some((d) => d.has(id));
    const deviceId = gens[2].fleet.devices.map((d) => d.deviceId).find((id) => exposed(id) && failingOf(gens[2], id).failing.length > 0)!;
    expect(deviceId).toBeDefined();
    const { page, errors } = await open(`/device?id=${encodeURIComponent(deviceId)}`);

    const vulns = [...vulnerabilitiesOf(gens[2])].filter((r) => r.deviceId === deviceId);
    const vs = page.locator('section[data-kind="SoftwareVulnerabilities"]');
    await expect(vs.locator('[data-field="cves"]').textContent()).resolves.toBe(fmt(new Set(vulns.map((r) => r.cveId).filter(Boolean)).size));
    await expect(vs.locator('p.note').textContent()).resolves.toContain(`over ${fmt(vulns.length)} rows`);
    const shownRows = await vs
      .locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim())).map((c) => [c[0], c[4], c[5], c[6]].join('|')));
    const servedRows = vulns.map((r) => [r.cveId ?? '(no CVE)', r.softwareVendor, r.softwareName, r.softwareVersion].join('|'));
    expect(shownRows.sort()).toEqual(servedRows.sort());

    const cs = page.locator('section[data-kind="SecureConfigurations"]');
    const newest = failingOf(gens[2], deviceId);
    await expect(cs.locator('[data-field="failing"]').textContent()).resolves.toBe(fmt(newest.failing.length));
    await expect(cs.locator('p.note').textContent()).resolves.toContain(`of ${fmt(newest.applicable)} applicable`);
    const shownIds = await cs.locator('tbody tr td:first-child').evaluateAll((tds) => tds.map((td) => td.textContent!.trim()));
    expect(shownIds.sort()).toEqual([...newest.failing].sort());

    // the snapshot links walk the device's history, each kind's section with it
    await page.click(`p.snapshots a:text-is("${IDS[0]}")`);
    await page.waitForURL(new RegExp(`at=${IDS[0]}`));
    const rows0 = [...gens[0].records()].filter((r) => r.deviceId === deviceId).length;
    await expect(page.locator('[data-field="rows"]').textContent()).resolves.toBe(fmt(rows0));
    await expect(cs.locator('p.note').textContent()).resolves.toContain(`Snapshot ${IDS[0]}:`);
    await expect(cs.locator('[data-field="failing"]').textContent()).resolves.toBe(fmt(failingOf(gens[0], deviceId).failing.length));
    const cves0 = new Set([...vulnerabilitiesOf(gens[0])].filter((r) => r.deviceId === deviceId && r.cveId).map((r) => r.cveId));
    await expect(vs.locator('[data-field="cves"]').textContent()).resolves.toBe(fmt(cves0.size));
    await shot(page, 'device');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('hostile names from a device render as text: no script runs, no element is injected', async () => {
    const { page, errors, dialogs } = await open(`/device?id=${HOSTILE_ID}`);
    await expect(page.locator('section.device h2').first().textContent()).resolves.toBe(HOSTILE_DEVICE);
    await expect(page.locator('table.software td[data-field="name"]').textContent()).resolves.toBe(HOSTILE_NAME);
    await expect(page.locator('table.software td[data-field="vendor"]').textContent()).resolves.toBe(HOSTILE_VENDOR);
    await expect(page.locator('table.software td[data-field="version"]').textContent()).resolves.toBe(HOSTILE_VERSION);
    await expect(page.locator('main script, main img, main b, main i, main svg[onload]').count()).resolves.toBe(0);
    await shot(page, 'hostile-device');

    // through the search box to the product page: the name is the title, the version a chart series
    await page.selectOption('header select[name="type"]', 'product');
    await page.fill('header input[name="q"]', HOSTILE_NAME);
    await page.click('header button[type="submit"]');
    await page.waitForURL(/\/product\?/);
    await expect(page.locator('h1').textContent()).resolves.toBe(`Product ${HOSTILE_NAME}`);
    const series = await page.locator('svg g.series').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-series')));
    expect(series).toEqual([HOSTILE_VERSION]);
    await expect(page.locator('main script, main img').count()).resolves.toBe(0);
    await shot(page, 'hostile-product');
    expect(dialogs).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('web UI over HTTP', () => {
  const get = (p: string, init?: RequestInit) => fetch(new URL(p, ui.url), { redirect: 'manual', ...init });

  it('every page carries a CSP without script, and the search box redirects to shareable URLs', async () => {
    const res = await get('/');
    expect(res.headers.get('content-security-policy')).toBe(
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    expect(await res.text()).not.toMatch(/<script|style=/i);
    const search = await get('/search?type=product&q=a%20b%26c');
    expect(search.status).toBe(302);
    expect(search.headers.get('location')).toBe('/product?name=a+b%26c');
  });

  it('product ?at= narrows the chart to a range of snapshots, in the forms of the CLI --at', async () => {
    const res = await get(`/product?name=${encodeURIComponent(busiestProduct())}&at=${IDS[1]}..`);
    expect(res.status).toBe(200);
    const points = new Set([...(await res.text()).matchAll(/data-point="(\d+)"/g)].map((m) => m[1]));
    expect([...points].sort()).toEqual([IDS[1], IDS[2]]);
  });

  it('unknown device is a 404 page, bad arguments a 400, anything but GET a 405, another Host a 421', async () => {
    const unknown = await get('/device?id=no-such-device');
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toContain('unknown device &quot;no-such-device&quot;');
    const missing = await get('/device');
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain('missing ?id=');
    expect((await get('/cve?id=<x>')).status).toBe(400);
    expect((await get('/diff?from=latest')).status).toBe(400);
    expect((await get(`/diff?from=209901010000&to=latest`)).status).toBe(404);
    expect((await get('/nope')).status).toBe(404);
    const post = await get('/', { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    // a page on another origin resolving its name to 127.0.0.1 (DNS rebinding) sends its own Host
    const rebound = await new Promise<number>((resolve, reject) => {
      const req = http.request(new URL('/', ui.url), { headers: { Host: 'evil.example' } }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(rebound).toBe(421);
  });
});

describe('npm run ui (process)', () => {
  /** Wait for the line announcing the address, then return the address. */
  async function address(tool: ReturnType<typeof startTool>): Promise<string> {
    for (let i = 0; i < 300; i++) {
      const m = /web UI \(read-only\): (http:\/\/\S+)/.exec(tool.stdout());
      if (m) return m[1];
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no address printed: ${tool.output()}`);
  }

  it('prints its loopback address and serves the snapshots page', async () => {
    const tool = startTool('tools/bin/ui.ts', ['--port', '0'], { AzureWebJobsStorage: azurite().connectionString });
    try {
      const url = await address(tool);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain(IDS[2]);
      expect(tool.stderr()).toBe('');
    } finally {
      await tool.kill();
    }
  });

  it('an explicit --host beyond loopback is allowed with a warning', async () => {
    const tool = startTool('tools/bin/ui.ts', ['--host', '0.0.0.0', '--port', '0'], { AzureWebJobsStorage: azurite().connectionString });
    try {
      await address(tool);
      expect(tool.stderr()).toContain('WARNING: listening on 0.0.0.0');
    } finally {
      await tool.kill();
    }
  });

  it('a missing storage setting or a bad option stops it with exit 2 and a message', async () => {
    const [noSettings, badPort] = await Promise.all([
      runTool('tools/bin/ui.ts', [], {}),
      runTool('tools/bin/ui.ts', ['--port', 'http'], { AzureWebJobsStorage: azurite().connectionString }),
    ]);
    expect(noSettings.code).toBe(2);
    expect(noSettings.stderr).toMatch(/INVENTORY_STORAGE.*AzureWebJobsStorage/);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain('--port takes a whole number from 0 to 65535');
  });
});
