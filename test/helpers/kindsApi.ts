// A stand-in Defender API on 127.0.0.1 for every export kind: each kind's via-files endpoint answers with
// the SAS URLs of its own gzip blobs in Azurite, its JSON endpoint pages its records, and a kind can be
// refused (403) the way Defender refuses a token without the kind's permission.
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { EXPORT_KINDS, ExportKind } from '../../shared/kinds/exportKinds';
import { Azurite } from '../../tools/runner/azurite';
import { exportFixture, ExportFixture, gz, jsonl } from './exportFixture';

export interface KindsApi {
  baseUrl: string;
  /** every request's path (without query), in order */
  requests: string[];
  /** publish `records` for `kind` as `files` gzip files, generated at `generatedTime` */
  publish(kind: ExportKind, records: unknown[], opts: { generatedTime: Date; files?: number }): Promise<void>;
  /** answer this kind's calls with 403 (as for a missing permission) */
  refuse(kind: ExportKind): void;
  stop(): Promise<void>;
}

interface Published {
  fixture: ExportFixture;
  records: unknown[];
  generatedTime: Date;
}

export async function startKindsApi(azurite: Azurite): Promise<KindsApi> {
  const published = new Map<ExportKind, Published>();
  const refused = new Set<ExportKind>();
  const requests: string[] = [];
  const byPath = new Map<string, { kind: ExportKind; method: 'files' | 'json' }>();
  for (const k of EXPORT_KINDS) {
    byPath.set(k.filesPath.toLowerCase(), { kind: k.kind, method: 'files' });
    byPath.set(k.jsonPath.toLowerCase(), { kind: k.kind, method: 'json' });
  }
  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    requests.push(url.pathname);
    const route = byPath.get(url.pathname.toLowerCase());
    if (!route) return send(res, 404, { error: { code: 'NotFound', message: 'no such endpoint' } });
    if (refused.has(route.kind)) {
      return send(res, 403, { error: { code: 'Forbidden', message: 'Missing application roles. API required roles: Vulnerability.Read.All' } });
    }
    const p = published.get(route.kind);
    if (!p) return send(res, 503, { error: { code: 'ServiceUnavailable', message: 'nothing published for this kind' } });
    if (route.method === 'files') return send(res, 200, { exportFiles: p.fixture.urls(), generatedTime: p.generatedTime.toISOString() });
    const pageSize = Number(url.searchParams.get('pageSize') ?? 50_000);
    const skip = Number(url.searchParams.get('skip') ?? 0);
    const next = skip + pageSize < p.records.length ? `${url.origin}${url.pathname}?pageSize=${pageSize}&skip=${skip + pageSize}` : undefined;
    send(res, 200, { value: p.records.slice(skip, skip + pageSize), ...(next ? { '@odata.nextLink': next } : {}) });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    async publish(kind, records, opts) {
      const fixture = exportFixture(azurite);
      const n = Math.max(1, opts.files ?? 2);
      const parts = Array.from({ length: n }, (_, i) => records.filter((_, j) => j % n === i));
      await fixture.upload(parts.map((p) => gz(jsonl(p))));
      published.set(kind, { fixture, records, generatedTime: opts.generatedTime });
    },
    refuse(kind) {
      refused.add(kind);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** n hand-made records of `kind` over `devices` devices, camelCase as Defender sends them, deterministic. */
export function kindRecords(kind: ExportKind, n: number, devices = 4, prefix = 'kd'): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => {
    const d = i % devices;
    const device = {
      deviceId: `${prefix}${String(d).padStart(4, '0')}`,
      deviceName: `wks-${d}.corp.contoso.com`,
      osPlatform: 'Windows11',
      rbacGroupName: 'Workstations',
    };
    const product = {
      softwareVendor: ['microsoft', 'google', 'mozilla'][i % 3],
      softwareName: `product_${Math.floor(i / devices)}`,
      softwareVersion: `1.${i % 7}.${i}`,
    };
    switch (kind) {
      case 'SoftwareInventory':
        return {
          ...device,
          ...product,
          numberOfWeaknesses: i % 5,
          diskPaths: [`C:\\p${i}\\app.exe`],
          registryPaths: [],
          softwareFirstSeenTimestamp: '2024-03-01 10:11:12',
          endOfSupportStatus: 'None',
        };
      case 'NonCpeSoftwareInventory':
        return { ...device, rbacGroupId: 7, ...product, softwareLastSeenTimestamp: '2024-03-02 10:11:12' };
      case 'SoftwareVulnerabilities':
        return {
          ...device,
          ...product,
          cveId: i % 4 === 0 ? null : `CVE-2024-${1000 + i}`,
          cvssScore: i % 4 === 0 ? null : 7.5,
          vulnerabilitySeverityLevel: 'High',
          exploitabilityLevel: 'NoExploit',
          firstSeenTimestamp: '2020-11-03 10:13:34.8476880',
          lastSeenTimestamp: '2020-11-04 10:13:34.8476880',
          id: `${device.deviceId}_${product.softwareName}_${i}`,
          securityUpdateAvailable: 'true',
          diskPaths: [],
          registryPaths: [],
        };
      case 'SecureConfigurations':
        return {
          ...device,
          configurationId: `scid-${10000 + Math.floor(i / devices)}`,
          configurationName: `Setting ${i}`,
          configurationCategory: 'OS',
          configurationSubcategory: '',
          configurationImpact: 9,
          isApplicable: true,
          isCompliant: i % 2 === 0,
          isExpectedUserImpact: false,
          recommendationReference: `sca-_-scid-${10000 + i}`,
          timestamp: '2024-03-02T10:11:12Z',
        };
    }
  });
}
