import { gunzipSync } from 'node:zlib';
import { memoryLog } from '../../shared/core/log';
import { EXPORT_KIND_NAMES, EXPORT_KINDS } from '../../shared/kinds/exportKinds';
import { DefenderSimulator, KindRecord, ServedRecord, startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
import { fleetRowCount, recordKey } from '../../tools/simulator/fleet';
import { useAzurite } from '../helpers/azurite';

interface ExportBody {
  '@odata.context': string;
  exportFiles: string[];
  generatedTime: string;
}

interface PageBody {
  '@odata.context': string;
  value: ServedRecord[];
  '@odata.nextLink'?: string;
}

interface ErrorBody {
  error: { code: string; message: string };
}

const GENERATED = new Date('2021-01-11T11:01:00Z');

async function getJson<T>(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: T }> {
  const res = await fetch(url, { headers });
  return { status: res.status, headers: res.headers, body: (await res.json()) as T };
}

async function downloadLines(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return gunzipSync(Buffer.from(await res.arrayBuffer())).toString('utf8');
}

describe('Defender simulator', () => {
  const azurite = useAzurite();
  const sims: DefenderSimulator[] = [];
  const log = memoryLog();
  let sim: DefenderSimulator;

  async function start(opts: Partial<Parameters<typeof startDefenderSimulator>[0]> = {}): Promise<DefenderSimulator> {
    const s = await startDefenderSimulator({ blobConnectionString: azurite().connectionString, devices: 60, files: 3, seed: 11, ...opts });
    sims.push(s);
    return s;
  }

  beforeAll(async () => {
    sim = await start({ generatedTime: GENERATED, log });
  });

  afterAll(async () => {
    await Promise.all(sims.map((s) => s.stop()));
  });

  it('serves an export whose SAS URLs download gzip JSON Lines matching the published rows', async () => {
    const { status, body } = await getJson<ExportBody>(`${sim.baseUrl}/api/machines/SoftwareInventoryExport?sasValidHours=6`);
    expect(status).toBe(200);
    expect(body.generatedTime).toBe('2021-01-11T11:01:00Z');
    expect(body['@odata.context']).toContain('ExportFilesResponse');
    expect(body.exportFiles).toHaveLength(3);
    const exp = sim.current()!;
    expect(exp.totalRows).toBe(fleetRowCount(exp.fleet));
    expect(exp.files.reduce((s, f) => s + f.rows, 0)).toBe(exp.totalRows);

    const seenDevices = new Map<string, number>();
    for (const [i, url] of body.exportFiles.entries()) {
      expect(url.startsWith(`${azurite().blobEndpoint}/tvm-export/2021-01-11/1101/SoftwareInventory/json/OrgId=`)).toBe(true);
      expect(url).toMatch(/\/part-\d{5}-[0-9a-f-]{36}\.c000\.json\.gz\?/);
      const q = new URL(url).searchParams;
      expect(q.get('sp')).toBe('r');
      const hoursLeft = (Date.parse(q.get('se')!) - Date.now()) / 3_600_000;
      expect(hoursLeft).toBeGreaterThan(5.9);
      expect(hoursLeft).toBeLessThanOrEqual(6);

      const text = await downloadLines(url);
      expect(text.endsWith('\n')).toBe(true);
      expect(text).not.toContain('\r');
      const lines = text.slice(0, -1).split('\n');
      expect(lines).toHaveLength(exp.files[i].rows);
      expect(lines).toEqual([...exp.fileRecords(i)].map((r) => JSON.stringify(r)));
      // A device's rows never straddle files.
      for (const line of lines) {
        const id = (JSON.parse(line) as ServedRecord).deviceId;
        expect(seenDevices.get(id) ?? i).toBe(i);
        seenDevices.set(id, i);
      }
    }
    expect(seenDevices.size).toBe(60);
  });

  it('signs fresh URLs on every call and validates sasValidHours', async () => {
    const a = await getJson<ExportBody>(`${sim.baseUrl}/api/machines/SoftwareInventoryExport?sasValidHours=1`);
    const b = await getJson<ExportBody>(`${sim.baseUrl}/api/machines/softwareinventoryexport?sasvalidhours=24`);
    expect(a.body.exportFiles.map((u) => u.split('?')[0])).toEqual(b.body.exportFiles.map((u) => u.split('?')[0]));
    expect(a.body.exportFiles[0]).not.toBe(b.body.exportFiles[0]);
    for (const bad of ['0', '25', 'abc', '1.5']) {
      const r = await getJson<ErrorBody>(`${sim.baseUrl}/api/machines/SoftwareInventoryExport?sasValidHours=${bad}`);
      expect([bad, r.status, r.body.error.code]).toEqual([bad, 400, 'BadRequest']);
    }
  });

  it('pages SoftwareInventoryByMachine through nextLink, every record exactly once', async () => {
    const exp = sim.current()!;
    const got: ServedRecord[] = [];
    let url: string | undefined = `${sim.baseUrl}/api/machines/SoftwareInventoryByMachine?pageSize=97`;
    let pages = 0;
    while (url) {
      const { status, body }: { status: number; body: PageBody } = await getJson<PageBody>(url);
      expect(status).toBe(200);
      expect(body.value.length).toBeLessThanOrEqual(97);
      got.push(...body.value);
      url = body['@odata.nextLink'];
      if (url) expect(url).toContain('$skiptoken=');
      pages++;
    }
    expect(pages).toBe(Math.ceil(exp.totalRows / 97));
    expect(got.map((r) => JSON.stringify(r))).toEqual([...exp.records()].map((r) => JSON.stringify(r)));
    expect(new Set(got.map(recordKey)).size).toBe(exp.totalRows);

    const top = await getJson<PageBody>(`${sim.baseUrl}/api/machines/SoftwareInventoryByMachine?$top=5`);
    expect(top.body.value).toHaveLength(5);
    expect(top.body['@odata.nextLink']).toBeUndefined();
    const tooBig = await getJson<ErrorBody>(`${sim.baseUrl}/api/machines/SoftwareInventoryByMachine?pageSize=200001`);
    expect(tooBig.status).toBe(400);
    const badToken = await getJson<ErrorBody>(`${sim.baseUrl}/api/machines/SoftwareInventoryByMachine?$skiptoken=nonsense`);
    expect(badToken.status).toBe(400);
  });

  it('answers unknown paths with 404 NotFound', async () => {
    const r = await getJson<ErrorBody>(`${sim.baseUrl}/api/machines/Nope`);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe('NotFound');
    expect(sim.requests.at(-1)).toMatchObject({ path: '/api/machines/Nope', status: 404 });
  });

  it('never logs a SAS signature', () => {
    const text = log.lines.join('\n');
    expect(text).toContain('sig=REDACTED');
    expect(text).not.toMatch(/sig=(?!REDACTED)/);
  });

  it('publishes a new generation under a new folder while old URLs stay readable', async () => {
    const old = sim.current()!;
    const oldUrls = sim.sasUrls(5);
    const next = await sim.publish();
    expect(next.generation).toBe(old.generation + 1);
    expect(next.generatedTime.getTime()).toBeGreaterThan(old.generatedTime.getTime());
    expect(next.files[0].blobName).not.toBe(old.files[0].blobName);
    const body = (await getJson<ExportBody>(`${sim.baseUrl}/api/machines/SoftwareInventoryExport`)).body;
    expect(body.generatedTime).toBe(next.generatedTimeText);
    const lines = (await downloadLines(oldUrls[0])).slice(0, -1).split('\n');
    expect(lines).toHaveLength(old.files[0].rows);
  });

  it('throttles every Nth call with 429 and Retry-After', async () => {
    const s = await start({ throttleEvery: 2 });
    const url = `${s.baseUrl}/api/machines/SoftwareInventoryExport`;
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await getJson<ExportBody & ErrorBody>(url);
      statuses.push(r.status);
      if (r.status === 429) {
        expect(r.headers.get('retry-after')).toBe('1');
        expect(r.body.error.code).toBe('TooManyRequests');
      }
    }
    expect(statuses).toEqual([200, 429, 200, 429]);
  });

  it('requires a bearer token when asked to', async () => {
    const s = await start({ requireToken: 'tok-123', devices: 5 });
    const url = `${s.baseUrl}/api/machines/SoftwareInventoryByMachine?pageSize=10`;
    expect((await getJson<ErrorBody>(url)).status).toBe(401);
    expect((await getJson<ErrorBody>(url, { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await getJson<PageBody>(url, { Authorization: 'Bearer tok-123' })).status).toBe(200);
  });

  it('adds undocumented columns when extraColumns is set', async () => {
    const s = await start({ extraColumns: true, devices: 5 });
    const page = (await getJson<PageBody>(`${s.baseUrl}/api/machines/SoftwareInventoryByMachine`)).body;
    expect(page.value.length).toBe(s.current()!.totalRows);
    expect(page.value.every((r) => Array.isArray(r.cveIds) && typeof r.softwareLastSeenTimestamp === 'string')).toBe(true);
  });

  it('hands out URLs that expire (Azurite answers 403)', async () => {
    const s = await start({ sasValidMinutes: 1 / 60, devices: 5 });
    const { body } = await getJson<ExportBody>(`${s.baseUrl}/api/machines/SoftwareInventoryExport`);
    await new Promise((r) => setTimeout(r, 2100));
    const res = await fetch(body.exportFiles[0]);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('AuthorizationFailure');
  });
});

describe('Defender simulator: every export kind', () => {
  const azurite = useAzurite();
  const sims: DefenderSimulator[] = [];
  let sim: DefenderSimulator;

  async function start(opts: Partial<Parameters<typeof startDefenderSimulator>[0]> = {}): Promise<DefenderSimulator> {
    const s = await startDefenderSimulator({
      blobConnectionString: azurite().connectionString,
      devices: 40,
      files: 2,
      seed: 3,
      exportKinds: EXPORT_KIND_NAMES,
      ...opts,
    });
    sims.push(s);
    return s;
  }

  async function pages(url: string): Promise<{ rows: KindRecord[]; pages: PageBody[] }> {
    const rows: KindRecord[] = [];
    const all: PageBody[] = [];
    let next: string | undefined = url;
    while (next) {
      const { status, body }: { status: number; body: PageBody } = await getJson<PageBody>(next);
      expect(status).toBe(200);
      rows.push(...body.value);
      all.push(body);
      next = body['@odata.nextLink'];
    }
    return { rows, pages: all };
  }

  beforeAll(async () => {
    sim = await start({ generatedTime: GENERATED });
    await sim.publish();
  });

  afterAll(async () => {
    await Promise.all(sims.map((s) => s.stop()));
  });

  it.each(EXPORT_KINDS.map((k) => [k.kind, k] as const))('serves %s as gzip JSON Lines files and as JSON pages with the same rows', async (kind, spec) => {
    const exp = sim.current()!;
    const published = exp.kinds[kind]!;
    expect(exp.rowCounts[kind]).toBe(published.totalRows);
    expect(published.totalRows).toBeGreaterThan(40);

    const { status, body } = await getJson<ExportBody>(`${sim.baseUrl}${spec.filesPath}?sasValidHours=6`);
    expect(status).toBe(200);
    expect(body.generatedTime).toBe('2021-01-11T11:01:00Z');
    expect(body.exportFiles).toHaveLength(2);
    const fromFiles: KindRecord[] = [];
    for (const [i, url] of body.exportFiles.entries()) {
      expect(url.startsWith(`${azurite().blobEndpoint}/tvm-export/2021-01-11/1101/${kind}/json/OrgId=`)).toBe(true);
      const text = await downloadLines(url);
      const lines = text.slice(0, -1).split('\n');
      expect(lines).toHaveLength(published.files[i].rows);
      expect(lines).toEqual([...published.fileRecords(i)].map((r) => JSON.stringify(r)));
      fromFiles.push(...lines.map((l) => JSON.parse(l) as KindRecord));
    }
    expect(fromFiles).toHaveLength(published.totalRows);
    const keys = new Set(fromFiles.flatMap((r) => Object.keys(r)));
    expect([...keys].filter((k) => !/^[a-z]/.test(k))).toEqual([]);
    expect(keys.has('deviceId')).toBe(true);

    const { rows, pages: all } = await pages(`${sim.baseUrl}${spec.jsonPath}?pageSize=150`);
    expect(rows).toHaveLength(published.totalRows);
    expect(rows.map((r) => JSON.stringify(r))).toEqual(fromFiles.map((r) => JSON.stringify(r)));
    expect(all).toHaveLength(Math.ceil(published.totalRows / 150));
    for (const page of all.slice(0, -1)) expect(new URL(page['@odata.nextLink']!).pathname).toBe(spec.jsonPath);
    expect(all[0]['@odata.context']).toMatch(/#Collection\(microsoft\.windowsDefenderATP\.api\.Asset\w+\)$/);
  });

  it('derives every kind from one fleet: vulnerabilities and non-CPE rows name the fleet’s devices', () => {
    const exp = sim.current()!;
    const devices = new Set(exp.fleet.devices.map((d) => d.deviceId));
    for (const kind of EXPORT_KIND_NAMES) {
      const ids = new Set([...exp.kinds[kind]!.records()].map((r) => (r as { deviceId: string }).deviceId));
      expect([kind, [...ids].filter((id) => !devices.has(id))]).toEqual([kind, []]);
    }
  });

  it('refuses a kind with 403 Forbidden naming its permission, and serves the others', async () => {
    const s = await start({ devices: 5, refuse: { SoftwareVulnerabilities: 403 } });
    for (const path of ['/api/machines/SoftwareVulnerabilitiesExport', '/api/machines/SoftwareVulnerabilitiesByMachine']) {
      const r = await getJson<ErrorBody>(`${s.baseUrl}${path}`);
      expect([path, r.status, r.body.error.code]).toEqual([path, 403, 'Forbidden']);
      expect(r.body.error.message).toContain('Vulnerability.Read.All');
    }
    expect((await getJson<ExportBody>(`${s.baseUrl}/api/machines/SecureConfigurationsAssessmentExport`)).status).toBe(200);
    expect((await getJson<ExportBody>(`${s.baseUrl}/api/machines/SoftwareInventoryExport`)).status).toBe(200);
  });

  it('publishes and serves only the kinds in exportKinds', async () => {
    const s = await start({ devices: 5, exportKinds: ['SecureConfigurations'] });
    const exp = await s.publish();
    expect(exp.exportKinds).toEqual(['SecureConfigurations']);
    expect(Object.keys(exp.rowCounts)).toEqual(['SecureConfigurations']);
    expect(exp.files).toEqual([]);
    const r = await getJson<ErrorBody>(`${s.baseUrl}/api/machines/SoftwareInventoryExport`);
    expect([r.status, r.body.error.code]).toEqual([404, 'NotFound']);
    expect((await getJson<ExportBody>(`${s.baseUrl}/api/machines/SecureConfigurationsAssessmentExport`)).status).toBe(200);
  });

  it("refuses one kind's skip token on another kind's path", async () => {
    const first = await getJson<PageBody>(`${sim.baseUrl}/api/machines/SoftwareVulnerabilitiesByMachine?pageSize=10`);
    const token = new URL(first.body['@odata.nextLink']!).searchParams.get('$skiptoken')!;
    const wrong = await getJson<ErrorBody>(`${sim.baseUrl}/api/machines/SecureConfigurationsAssessmentByMachine?$skiptoken=${encodeURIComponent(token)}`);
    expect(wrong.status).toBe(400);
  });

  it('evolves between publishes: fixed and new vulnerabilities, flipped configurations', async () => {
    const s = await start({ devices: 100, generation: 0 });
    const before = await s.publish();
    const after = await s.publish();
    expect(after.generation).toBe(1);
    const vulnKeys = (kinds: typeof before.kinds) =>
      new Set(
        [...kinds.SoftwareVulnerabilities!.records()].map((r) => {
          const v = r as { deviceId: string; softwareName: string; softwareVersion: string; cveId: string | null };
          return `${v.deviceId}|${v.softwareName}|${v.softwareVersion}|${v.cveId}`;
        }),
      );
    const a = vulnKeys(before.kinds);
    const b = vulnKeys(after.kinds);
    expect([...a].filter((k) => !b.has(k)).length).toBeGreaterThan(0);
    expect([...b].filter((k) => !a.has(k)).length).toBeGreaterThan(0);
    const compliance = (kinds: typeof before.kinds) =>
      new Map(
        [...kinds.SecureConfigurations!.records()].map((r) => {
          const c = r as { deviceId: string; configurationId: string; isCompliant: boolean | string };
          return [`${c.deviceId}|${c.configurationId}`, String(c.isCompliant)];
        }),
      );
    const c0 = compliance(before.kinds);
    const c1 = compliance(after.kinds);
    expect([...c1].filter(([k, v]) => c0.has(k) && c0.get(k) !== v).length).toBeGreaterThan(0);
  });
});
