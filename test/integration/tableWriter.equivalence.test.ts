// The lean transaction path must send what TableClient.submitTransaction sends, byte for byte, and land
// the same entities (keys, properties, EDM types) — proven here against the SDK itself.
import { randomUUID } from 'node:crypto';
import { AzureNamedKeyCredential, AzureSASCredential, TableClient, TableEntityResult } from '@azure/data-tables';
import { InventoryEntity } from '../../shared/core/contracts';
import { mapRecord } from '../../shared/ingest/recordMapper';
import { PendingEntity, planBatches, writeEntities } from '../../shared/storage/tableWriter';
import { buildChangesetBody, entityJson } from '../../shared/storage/transactionBody';
import { CapturedRequest, sinkHttpClient } from '../../tools/bench/sink';
import { fleetRecords, generateFleet } from '../../tools/simulator/fleet';
import { AZURITE_KEY } from '../../tools/runner/azurite';
import { useAzurite } from '../helpers/azurite';

const azurite = useAzurite();

function mapped(records: Record<string, unknown>[]): PendingEntity[] {
  return records.map((r, i) => {
    const m = mapRecord(r);
    if (!m.ok) throw new Error(`${m.reason}: ${JSON.stringify(r)}`);
    return { entity: m.entity, line: i + 1 };
  });
}

const base = {
  deviceName: 'wks-1.corp.contoso.com',
  osPlatform: 'Windows11',
  rbacGroupName: 'Workstations',
  numberOfWeaknesses: 0,
  diskPaths: ['C:\\Program Files\\App\\app.exe'],
  registryPaths: ['HKEY_LOCAL_MACHINE\\SOFTWARE\\App'],
  softwareFirstSeenTimestamp: '2024-03-01 10:11:12',
  endOfSupportStatus: 'None',
  endOfSupportDate: null,
};

const ascii = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i)).join('');

/** Keys and values that stress every step: key escaping, quote doubling, URI encoding, JSON escaping, EDM types. */
function edgeRecords(): Record<string, unknown>[] {
  const dev = `dev ' "ü 软件 🚀 ${ascii}`;
  const rows: Record<string, unknown>[] = [
    { ...base, deviceId: dev, softwareVendor: "o'reilly", softwareName: "it''s", softwareVersion: "'" },
    { ...base, deviceId: dev, softwareVendor: ascii, softwareName: ascii.split('').reverse().join(''), softwareVersion: '1.0' },
    { ...base, deviceId: dev, softwareVendor: '%41%', softwareName: 'a+b&c=d;e,f', softwareVersion: '~!*()' },
    { ...base, deviceId: dev, softwareVendor: 'Ünïcødé', softwareName: '软件 🚀 e\u0301', softwareVersion: '\u0000\u0001\u001f\u007f\u009f' },
    { ...base, deviceId: dev, softwareVendor: 'v', softwareName: 'long', softwareVersion: '9.'.repeat(600) }, // hashed RowKey
    { ...base, deviceId: dev, softwareVendor: 'v', softwareName: 'ints', softwareVersion: 'max', numberOfWeaknesses: 2147483647 },
    { ...base, deviceId: dev, softwareVendor: 'v', softwareName: 'ints', softwareVersion: 'min', numberOfWeaknesses: -2147483648 },
    {
      ...base,
      deviceId: dev,
      softwareVendor: 'v',
      softwareName: 'dates',
      softwareVersion: 'ms',
      softwareFirstSeenTimestamp: '2019-04-07 02:06:47.1234567',
      endOfSupportDate: '2026-01-31',
    },
    {
      ...base,
      deviceId: dev,
      softwareVendor: 'v',
      softwareName: 'dates',
      softwareVersion: 'edges',
      softwareFirstSeenTimestamp: '1970-01-01 00:00:00',
      endOfSupportDate: '9999-12-31T23:59:59Z',
    },
    {
      ...base,
      deviceId: dev,
      softwareVendor: 'v',
      softwareName: 'strings',
      softwareVersion: 'escapes',
      deviceName: 'tab\there "quoted" back\\slash \u0001 </script>',
      rbacGroupName: '',
    },
    {
      ...base,
      deviceId: dev,
      softwareVendor: 'v',
      softwareName: 'truncated',
      softwareVersion: '1',
      diskPaths: Array.from({ length: 3000 }, (_, i) => `C:\\p\\${i}\\x.exe`),
      registryPaths: [],
    },
    { deviceId: dev, softwareVendor: 'v', softwareName: 'minimal', softwareVersion: '1' },
    { ...base, deviceId: 'x'.repeat(700), softwareVendor: 'v', softwareName: 'hashed pk', softwareVersion: '1' },
    { ...base, deviceId: "'", softwareVendor: 'v', softwareName: 'quote pk', softwareVersion: '1' },
  ];
  return rows;
}

function realistic(n: number): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const r of fleetRecords(generateFleet({ devices: 12, seed: 7 }))) {
    out.push(r as unknown as Record<string, unknown>);
    if (out.length >= n) break;
  }
  return out;
}

/** Replace the per-request random parts (boundary ids, request id, date, signature) so requests compare. */
function normalized(r: CapturedRequest): CapturedRequest {
  const ids = new Map<string, string>();
  const swap = (text: string) =>
    text.replace(/(batch|changeset)_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/g, (_, kind: string, id: string) => {
      if (!ids.has(id)) ids.set(id, `ID${ids.size}`);
      return `${kind}_${ids.get(id)}`;
    });
  const body = swap(r.body);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.headers)) {
    if (/^(x-ms-client-request-id|x-ms-date|date)$/i.test(k)) continue;
    headers[k] = /^authorization$/i.test(k) ? v.replace(/:.*$/, ':SIG').replace(/^Bearer .*/, 'Bearer TOKEN') : swap(v);
  }
  return { url: r.url, method: r.method, headers, body };
}

const key = () => new AzureNamedKeyCredential('devstoreaccount1', AZURITE_KEY);
const clientForms: [string, (httpClient: unknown) => TableClient][] = [
  [
    'path-style account URL with a shared key (Azurite)',
    (h) =>
      new TableClient('http://127.0.0.1:10002/devstoreaccount1', 'SoftwareInventory202401010000', key(), {
        allowInsecureConnection: true,
        httpClient: h as never,
      }),
  ],
  [
    'https account URL with a shared key',
    (h) => new TableClient('https://acct.table.core.windows.net', 'SoftwareInventory202401010000', key(), { httpClient: h as never }),
  ],
  [
    'https account URL with a trailing slash and a SAS credential',
    (h) => new TableClient('https://acct.table.core.windows.net/', 'T1', new AzureSASCredential('sv=2019-02-02&ss=t&sig=abc%2B'), { httpClient: h as never }),
  ],
  [
    'SAS in the account URL',
    (h) => new TableClient('https://acct.table.core.windows.net?sv=2019-02-02&ss=t&srt=o&sp=rwau&sig=abc%2B', 'T1', { httpClient: h as never }),
  ],
  [
    'Entra ID token credential',
    (h) =>
      new TableClient(
        'https://acct.table.core.windows.net',
        'T1',
        { getToken: async () => ({ token: 'tok', expiresOnTimestamp: Date.now() + 3600_000 }) },
        { httpClient: h as never },
      ),
  ],
];

async function capture(form: (h: unknown) => TableClient, items: PendingEntity[], transport: 'lean' | 'sdk'): Promise<CapturedRequest[]> {
  const captured: CapturedRequest[] = [];
  const table = form(sinkHttpClient({ capture: captured }));
  // one at a time, so requests come in the same order on both paths
  const res = await writeEntities(table, items, 1, { transport });
  expect(res).toEqual({ written: items.length, rejected: [] });
  return captured;
}

describe('lean transactions are the SDK transactions', () => {
  const sets: [string, () => PendingEntity[]][] = [
    ['realistic fleet records', () => mapped(realistic(260))],
    ['edge-case keys and values', () => mapped(edgeRecords())],
  ];

  describe.each(clientForms)('%s', (_name, form) => {
    it.each(sets)('sends byte for byte the same requests: %s', async (_set, make) => {
      const items = make();
      const sdk = await capture(form, items, 'sdk');
      const lean = await capture(form, items, 'lean');
      expect(lean.length).toBe(planBatches(items).length);
      expect(lean.map(normalized)).toEqual(sdk.map(normalized));
      // and it really went through the client's pipeline: authenticated like the SDK's request
      const auth = Object.entries(lean[0].headers).find(([k]) => /^authorization$/i.test(k))?.[1];
      if (form === clientForms[0][1] || form === clientForms[1][1]) expect(auth).toMatch(/^SharedKeyLite devstoreaccount1:/);
      if (form === clientForms[4][1]) expect(auth).toBe('Bearer tok');
      if (form === clientForms[2][1] || form === clientForms[3][1]) expect(lean[0].url).toMatch(/\/\$batch\?.*sig=abc%2B/);
    });
  });

  it('falls back to submitTransaction for value types it does not serialise itself', async () => {
    const odd = { partitionKey: 'p', rowKey: 'r', Big: BigInt(5), Bytes: new Uint8Array([1, 2]), Typed: { value: '1', type: 'Int64' } };
    expect(entityJson(odd)).toBeUndefined();
    expect(entityJson({ partitionKey: 'p', rowKey: 'r', When: new Date(NaN) })).toBeUndefined();
    expect(buildChangesetBody('http://x/T', [odd as unknown as InventoryEntity], 'b', 'c')).toBeUndefined();
    const captured: CapturedRequest[] = [];
    const table = clientForms[0][1](sinkHttpClient({ capture: captured }));
    expect(await writeEntities(table, [{ entity: odd as unknown as InventoryEntity, line: 1 }], 1)).toEqual({ written: 1, rejected: [] });
    expect(captured[0].body).toContain('"Big@odata.type":"Edm.Int64"');
  });

  it('writes U+2028/U+2029 as JSON escapes (Azurite refuses them raw in a batch) and stores the same characters', async () => {
    const [a, b] = mapped([
      { ...base, deviceId: 'ls', softwareVendor: 'v', softwareName: 'n', softwareVersion: '1', deviceName: 'line\u2028sep\u2029para' },
      { ...base, deviceId: 'ls', softwareVendor: 'v', softwareName: 'n', softwareVersion: '2', deviceName: 'line\u2028sep\u2029para' },
    ]);
    expect(entityJson(a.entity)).toBe(
      JSON.stringify(JSON.parse(entityJson(a.entity)!))
        .replace('\u2028', '\\u2028')
        .replace('\u2029', '\\u2029'),
    );
    const t = TableClient.fromConnectionString(azurite().connectionString, `Ls${randomUUID().replace(/-/g, '').slice(0, 10)}`, {
      allowInsecureConnection: true,
    });
    await t.createTable();
    expect(await writeEntities(t, [a, b], 2)).toEqual({ written: 2, rejected: [] });
    const reference = { ...a.entity, rowKey: 'reference' };
    await t.upsertEntity(reference, 'Replace'); // the SDK's single-entity request carries the raw characters
    const got = await t.getEntity(a.entity.partitionKey, a.entity.rowKey, { disableTypeConversion: true });
    const ref = await t.getEntity(a.entity.partitionKey, 'reference', { disableTypeConversion: true });
    expect(got.DeviceName).toEqual({ value: 'line\u2028sep\u2029para', type: 'String' });
    expect(got.DeviceName).toEqual(ref.DeviceName);
  });

  it('lands the same entities, keys and EDM types in Azurite as the SDK path (compared with disableTypeConversion)', async () => {
    const items = mapped([...realistic(300), ...edgeRecords()]);
    const read = async (transport: 'lean' | 'sdk') => {
      const t = TableClient.fromConnectionString(azurite().connectionString, `Eq${transport}${randomUUID().replace(/-/g, '').slice(0, 10)}`, {
        allowInsecureConnection: true,
      });
      await t.createTable();
      expect(await writeEntities(t, items, 4, { transport })).toEqual({ written: items.length, rejected: [] });
      const rows = new Map<string, TableEntityResult<Record<string, unknown>>>();
      for await (const e of t.listEntities({ disableTypeConversion: true })) {
        const { etag: _etag, timestamp: _ts, ...rest } = e as TableEntityResult<Record<string, unknown>> & { timestamp?: unknown };
        rows.set(`${e.partitionKey}\u0000${e.rowKey}`, rest as TableEntityResult<Record<string, unknown>>);
      }
      return rows;
    };
    const sdk = await read('sdk');
    const lean = await read('lean');
    expect(lean.size).toBe(items.length);
    expect([...lean.keys()].sort()).toEqual([...sdk.keys()].sort());
    for (const [k, e] of sdk) expect(lean.get(k)).toEqual(e);
    // the types landed as the contract says
    const sample = lean.get([...lean.keys()].find((k) => k.includes('dates|ms'))!)!;
    expect(sample.NumberOfWeaknesses).toEqual({ value: '0', type: 'Int32' });
    expect(sample.SoftwareFirstSeenTimestamp).toEqual({ value: expect.stringMatching(/^2019-04-07T02:06:47\.1230*Z$/), type: 'DateTime' });
    expect(sample.DeviceId).toEqual({ value: expect.stringContaining('🚀'), type: 'String' });
    const truncated = lean.get([...lean.keys()].find((k) => k.includes('truncated'))!)!;
    expect(truncated.DiskPathsTruncated).toEqual({ value: 'true', type: 'Boolean' });
  });
});
