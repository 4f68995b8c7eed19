// The simulator's SAS: the account key from the connection string, blob URLs as Defender writes them, and
// read-only SAS URLs signed with the key (as the real export hands out).
import { BlobSASPermissions, ContainerClient, generateBlobSASQueryParameters, StorageSharedKeyCredential } from '@azure/storage-blob';

interface AccountKey {
  accountName: string;
  accountKey: string;
}

export function accountKeyOf(connectionString: string): AccountKey {
  const part = (name: string) => new RegExp(`(?:^|;)\\s*${name}=([^;]+)`, 'i').exec(connectionString)?.[1];
  const accountName = part('AccountName');
  const accountKey = part('AccountKey');
  if (!accountName || !accountKey) throw new Error('blobConnectionString must name AccountName and AccountKey: the simulator signs SAS URLs with the key');
  return { accountName, accountKey };
}

/** Like Defender's URLs, `OrgId=` stays literal (the SDK would write `OrgId%3D`; both name the same blob). */
export function blobUrlOf(container: ContainerClient, blobName: string): string {
  const path = blobName
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%3D/gi, '='))
    .join('/');
  return `${container.url}/${path}`;
}

export function signedUrl(
  container: ContainerClient,
  credential: StorageSharedKeyCredential,
  file: { blobName: string; blobUrl: string },
  validMs: number,
): string {
  const now = Date.now();
  const sas = generateBlobSASQueryParameters(
    {
      containerName: container.containerName,
      blobName: file.blobName,
      permissions: BlobSASPermissions.parse('r'),
      // A little slack for clock skew, as real issuers do.
      startsOn: new Date(now - 5 * 60_000),
      expiresOn: new Date(now + validMs),
    },
    credential,
  );
  return `${file.blobUrl}?${sas.toString()}`;
}
