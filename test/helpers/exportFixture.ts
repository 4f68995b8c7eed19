// Builds export files in Azurite's blob service and a stand-in for Defender's export call,
// so integration tests drive the real handlers end to end.
import { gzipSync } from 'node:zlib';
import { randomUUID } from 'node:crypto';
import { BlobSASPermissions, BlobServiceClient, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';
import { Azurite, AZURITE_ACCOUNT, AZURITE_KEY } from '../../tools/runner/azurite';
import { Config, loadConfig } from '../../shared/core/config';
import { ExportFilesResult } from '../../shared/defender/defenderClient';

export const gz = (text: string) => gzipSync(Buffer.from(text, 'utf8'));
export const jsonl = (records: unknown[], eol = '\n') => records.map((r) => JSON.stringify(r)).join(eol) + eol;

export interface Rec {
  deviceId: string;
  deviceName?: string;
  osPlatform?: string;
  rbacGroupName?: string;
  softwareVendor: string;
  softwareName: string;
  softwareVersion: string;
  numberOfWeaknesses?: number;
  diskPaths?: string[];
  registryPaths?: string[];
  softwareFirstSeenTimestamp?: string;
  endOfSupportStatus?: string;
  endOfSupportDate?: string | null;
  [extra: string]: unknown;
}

/** n realistic records over `devices` devices, deterministic. */
export function records(n: number, devices = 10, prefix = 'dev'): Rec[] {
  return Array.from({ length: n }, (_, i) => {
    const d = i % devices;
    return {
      deviceId: `${prefix}${String(d).padStart(4, '0')}`,
      deviceName: `wks-${d}.corp.contoso.com`,
      osPlatform: d % 3 === 0 ? 'WindowsServer2022' : 'Windows11',
      rbacGroupName: 'Workstations',
      softwareVendor: ['microsoft', 'google', 'mozilla'][i % 3],
      softwareName: `product_${Math.floor(i / devices)}`,
      softwareVersion: `1.${i % 7}.${i}`,
      numberOfWeaknesses: i % 5,
      diskPaths: [`C:\\Program Files\\p${i}\\app.exe`],
      registryPaths: [],
      softwareFirstSeenTimestamp: '2024-03-01 10:11:12',
      endOfSupportStatus: 'None',
      endOfSupportDate: i % 4 === 0 ? '2026-01-31' : null,
    };
  });
}

export interface ExportFixture {
  container: string;
  /** upload files; returns fresh SAS URLs in the same order */
  upload(files: Buffer[], opts?: { expiresInMinutes?: number }): Promise<string[]>;
  /** add files to the export (Defender listing more files for the same generatedTime); returns every URL */
  append(files: Buffer[], opts?: { expiresInMinutes?: number }): Promise<string[]>;
  /** fresh SAS URLs for the files uploaded last (what Defender does on every call) */
  urls(opts?: { expiresInMinutes?: number }): string[];
  /** delete an uploaded file (its SAS URL then answers 404) */
  remove(index: number): Promise<void>;
}

export function exportFixture(azurite: Azurite): ExportFixture {
  const container = `tvm-${randomUUID().slice(0, 8)}`;
  const cred = new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY);
  const service = new BlobServiceClient(azurite.blobEndpoint, cred);
  let names: string[] = [];
  const sign = (name: string, minutes: number) => {
    const now = Date.now();
    const sas = generateBlobSASQueryParameters(
      {
        containerName: container,
        blobName: name,
        permissions: BlobSASPermissions.parse('r'),
        startsOn: new Date(now - 5 * 60_000 + (minutes < 0 ? minutes * 60_000 : 0)),
        expiresOn: new Date(now + minutes * 60_000),
      },
      cred,
    ).toString();
    return `${azurite.blobEndpoint}/${container}/${name}?${sas}`;
  };
  const fixture: ExportFixture = {
    container,
    async upload(files, opts) {
      names = [];
      return fixture.append(files, opts);
    },
    async append(files, opts) {
      const c = service.getContainerClient(container);
      await c.createIfNotExists();
      const added = files.map(
        (_, i) => `2024-03-01/1101/SoftwareInventory/json/part-${String(names.length + i).padStart(5, '0')}-${randomUUID()}.c000.json.gz`,
      );
      for (let i = 0; i < files.length; i++) await c.getBlockBlobClient(added[i]).uploadData(files[i]);
      names = [...names, ...added];
      return fixture.urls(opts);
    },
    urls(opts) {
      return names.map((n) => sign(n, opts?.expiresInMinutes ?? 60));
    },
    async remove(index) {
      await service.getContainerClient(container).getBlockBlobClient(names[index]).delete();
    },
  };
  return fixture;
}

/** Defender's export call, answering with whatever the test sets. */
export function fakeDefender(generatedTime: Date, urls: () => string[]) {
  return {
    calls: 0,
    async getExportFiles(): Promise<ExportFilesResult> {
      this.calls++;
      return { exportFiles: urls(), generatedTime, generatedTimeText: generatedTime.toISOString() };
    },
  };
}

let stamp = Date.UTC(2024, 0, 1, 0, 0);
/** A distinct generatedTime per call, so tests sharing one Azurite never share a snapshot. */
export function nextGeneratedTime(): Date {
  stamp += 60 * 60_000;
  return new Date(stamp);
}

export function testConfig(azurite: Azurite, env: Record<string, string> = {}): Config {
  return loadConfig({
    AzureWebJobsStorage: azurite.connectionString,
    DEFENDER_API_BASE_URL: 'http://127.0.0.1:9',
    DEFENDER_AUTH: 'none',
    INGEST_QUEUE: `q-${randomUUID().slice(0, 8)}`,
    INGEST_VISIBILITY_TIMEOUT_SECONDS: '5',
    INGEST_FILE_CONCURRENCY: '2',
    // tests publish several exports minutes apart and expect each to be a snapshot; interval tests set it
    SNAPSHOT_INTERVAL_HOURS: '0',
    ...env,
  });
}

/** Every chunk of a stream (a download), in order, as one buffer. */
export async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}
