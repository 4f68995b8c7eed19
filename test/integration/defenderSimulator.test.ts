import { gunzipSync } from 'node:zlib';
import { memoryLog } from '../../shared/core/log';
import { DefenderSimulator, ServedRecord, startDefenderSimulator } from '../../tools/simulator/defenderSimulator';
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
