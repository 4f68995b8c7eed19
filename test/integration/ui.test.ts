// The web UI (docs/ui.md) in a real browser: Debian's chromium driven by playwright-core, over three inventory
// snapshots built by the real pipeline from the Defender simulator, SoftwareVulnerabilities and
// SecureConfigurations rows beside them (written from the simulator's CVE ids: the pipeline maps only the
// inventory so far), and a device whose software names are HTML. Screenshots land in screenshots/ui/.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { createServices } from '../../shared/app/appContext';
import { ExportKind, SnapshotRow } from '../../shared/core/contracts';
import { silentLog } from '../../shared/core/log';
import { ensureTable, StorageClients } from '../../shared/storage/storageClients';
import { partitionKeyFor, rowKeyFor, rowKeyForParts } from '../../shared/storage/tableKeys';
import { runIngestCycle } from '../../tools/runner/localRunner';
import { DefenderSimulator, PublishedExport, startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { OTHER } from '../../tools/ui/chart';
import { RunningUi, startUi } from '../../tools/ui/main';
import { DEFAULT_TOP } from '../../tools/ui/pages/product';
import { useAzurite } from '../helpers/azurite';
import { testConfig } from '../helpers/exportFixture';
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

/** (device → CVE ids) of one export, from the simulator's undocumented cveIds column. */
function cvesOf(exp: PublishedExport): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const r of exp.records()) {
    for (const cve of r.cveIds ?? []) {
      if (!out.has(cve)) out.set(cve, new Set());
      out.get(cve)!.add(r.deviceId);
    }
  }
  return out;
}

async function catalogRow(clients: StorageClients, kind: ExportKind, id: string, rows: number): Promise<void> {
  const generated = new Date(Date.UTC(+id.slice(0, 4), +id.slice(4, 6) - 1, +id.slice(6, 8), +id.slice(8, 10), +id.slice(10, 12)));
  const row: SnapshotRow = {
    partitionKey: kind,
    rowKey: id,
    Status: 'complete',
    GeneratedTime: generated,
    TableName: `${kind}${id}`,
    Method: 'files',
    FileCount: 1,
    FilesCompleted: 1,
    RowCount: rows,
    RejectedCount: 0,
    DuplicateCount: 0,
    StartedAt: generated,
    CompletedAt: generated,
  };
  await clients.table('InventorySnapshots').upsertEntity(row, 'Replace');
}

/** SoftwareVulnerabilities rows (docs/kinds.md) for every (record, CVE) of an export. */
async function writeVulnerabilities(clients: StorageClients, id: string, exp: PublishedExport): Promise<void> {
  const name = `SoftwareVulnerabilities${id}`;
  await ensureTable(clients, name);
  const table = clients.table(name);
  let n = 0;
  const writes: Promise<unknown>[] = [];
  for (const r of exp.records()) {
    for (const cve of r.cveIds ?? []) {
      n++;
      writes.push(
        table.upsertEntity({
          partitionKey: partitionKeyFor(r.deviceId),
          rowKey: rowKeyForParts([r.softwareVendor, r.softwareName, r.softwareVersion, cve]),
          DeviceId: r.deviceId,
          DeviceName: r.deviceName,
          OSPlatform: r.osPlatform,
          SoftwareVendor: r.softwareVendor,
          SoftwareName: r.softwareName,
          SoftwareVersion: r.softwareVersion,
          CveId: cve,
          CvssScore: 7.5,
          VulnerabilitySeverityLevel: 'High',
          ExploitabilityLevel: 'ExploitIsPublic',
          FirstSeenTimestamp: new Date(Date.UTC(2025, 0, 2)),
          SecurityUpdateAvailable: true,
        }),
      );
    }
  }
  await Promise.all(writes);
  await catalogRow(clients, 'SoftwareVulnerabilities', id, n);
}

/** The hostile device's rows in one inventory snapshot table (as a device could report them). */
async function writeHostile(clients: StorageClients, id: string): Promise<void> {
  await clients.table(`SoftwareInventory${id}`).upsertEntity({
    partitionKey: partitionKeyFor(HOSTILE_ID),
    rowKey: rowKeyFor(HOSTILE_VENDOR, HOSTILE_NAME, HOSTILE_VERSION),
    DeviceId: HOSTILE_ID,
    DeviceName: HOSTILE_DEVICE,
    OSPlatform: 'Windows11',
    RbacGroupName: '<i>group</i>',
    SoftwareVendor: HOSTILE_VENDOR,
    SoftwareName: HOSTILE_NAME,
    SoftwareVersion: HOSTILE_VERSION,
    NumberOfWeaknesses: 0,
  });
}

beforeAll(async () => {
  sim = await startDefenderSimulator({
    blobConnectionString: azurite().connectionString,
    devices: 40,
    seed: 5,
    extraColumns: true,
    generatedTime: new Date(Date.UTC(2025, 2, 10, 8, 0)),
  });
  const config = testConfig(azurite(), { DEFENDER_API_BASE_URL: sim.baseUrl });
  const services = createServices(config);
  for (let i = 0; i < IDS.length; i++) {
    const exp = await sim.publish(i === 0 ? undefined : { generatedTime: new Date(Date.UTC(2025, 2, 10 + i, 8, 0)) });
    gens.push(exp);
    expect(await runIngestCycle({ config, log: silentLog, services })).toMatchObject({ snapshotId: IDS[i], status: 'complete' });
    await writeVulnerabilities(services.inventory, IDS[i], exp);
    await writeHostile(services.inventory, IDS[i]);
  }
  // secure configurations of one device at the newest stamp: one failing, one compliant, one not applicable
  const device = [...gens[2].records()][0];
  const sc = `SecureConfigurations${IDS[2]}`;
  await ensureTable(services.inventory, sc);
  for (const [cid, applicable, compliant] of [
    ['scid-2010', true, false],
    ['scid-2011', true, true],
    ['scid-2012', false, false],
  ] as const) {
    await services.inventory.table(sc).upsertEntity({
      partitionKey: partitionKeyFor(device.deviceId),
      rowKey: rowKeyForParts([cid]),
      DeviceId: device.deviceId,
      ConfigurationId: cid,
      ConfigurationName: `Setting ${cid}`,
      ConfigurationCategory: 'Security controls',
      ConfigurationImpact: '9',
      IsApplicable: applicable,
      IsCompliant: compliant,
      AssessmentTimestamp: new Date(Date.UTC(2025, 2, 12, 7, 0)),
    });
  }
  await catalogRow(services.inventory, 'SecureConfigurations', IDS[2], 3);

  ui = await startUi({ host: '127.0.0.1', port: 0, explicitHost: false }, { AzureWebJobsStorage: azurite().connectionString }, () => undefined);
  if (haveChromium) {
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    fs.mkdirSync(SHOTS, { recursive: true });
  }
}, 120000);

afterAll(async () => {
  await browser?.close();
  await ui?.close();
  await sim?.stop();
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
    for (let i = 0; i < IDS.length; i++) {
      const row = page.locator(`section[data-kind="SoftwareInventory"] tr[data-snapshot="${IDS[i]}"]`);
      await expect(row.locator('[data-field="RowCount"]').textContent()).resolves.toBe(fmt(gens[i].totalRows));
      await expect(row.locator('.status-complete').textContent()).resolves.toBe('complete');
    }
    await expect(page.locator('section[data-kind="SoftwareVulnerabilities"] tr[data-snapshot]').count()).resolves.toBe(3);
    await expect(page.locator('section[data-kind="SecureConfigurations"] tr[data-snapshot]').count()).resolves.toBe(1);
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
    const expectedCves = new Set(expectedRows.flatMap((r) => r.cveIds ?? []));
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
    // the devices list at the newest snapshot: one section per version, its device count as exported
    for (const [v, devices] of newest) {
      await expect(page.locator(`section.version[data-version="${v}"] [data-field="devices"]`).textContent()).resolves.toBe(fmt(devices.size));
    }
    await expect(page.locator('.legend li').count()).resolves.toBe(expectedSeries.length);
    await shot(page, 'product');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('CVE page: devices exposed per snapshot as a chart, and the devices at the newest', async () => {
    const maps = gens.map(cvesOf);
    const cve = [...maps[2].keys()].sort((a, b) => maps[2].get(b)!.size - maps[2].get(a)!.size || (a < b ? -1 : 1))[0];
    const { page, errors } = await open(`/cve?id=${cve.toLowerCase()}`);
    await expect(page.locator('h1').textContent()).resolves.toBe(cve);
    for (let i = 0; i < IDS.length; i++) {
      const rect = page.locator(`svg g.series[data-series="devices exposed"] rect[data-point="${IDS[i]}"]`);
      await expect(rect.getAttribute('data-value')).resolves.toBe(String(maps[i].get(cve)?.size ?? 0));
    }
    await expect(page.locator('[data-field="exposed"]').textContent()).resolves.toBe(fmt(maps[2].get(cve)!.size));
    await shot(page, 'cve');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('device page: vulnerabilities and failing configurations when those kinds have snapshots', async () => {
    const device = [...gens[2].records()][0];
    const { page, errors } = await open(`/device?id=${encodeURIComponent(device.deviceId)}`);
    await expect(page.locator('section[data-kind="SecureConfigurations"] [data-field="failing"]').textContent()).resolves.toBe('1');
    await expect(page.locator('section[data-kind="SecureConfigurations"] tbody tr').textContent()).resolves.toContain('scid-2010');
    // the snapshot links walk the device's history
    await page.click(`p.snapshots a:text-is("${IDS[0]}")`);
    await page.waitForURL(new RegExp(`at=${IDS[0]}`));
    const rows0 = [...gens[0].records()].filter((r) => r.deviceId === device.deviceId).length;
    await expect(page.locator('[data-field="rows"]').textContent()).resolves.toBe(fmt(rows0));
    await expect(page.locator('section[data-kind="SecureConfigurations"]').textContent()).resolves.toContain(
      `No complete SecureConfigurations snapshot at or before ${IDS[0]}`,
    );
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
