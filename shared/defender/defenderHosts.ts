// The Defender for Endpoint API hosts the token may be sent to, and the token audiences each one accepts
// (Microsoft's "Use Microsoft Defender for Endpoint APIs" and "…for US Government customers").
// Anything else needs DEFENDER_ALLOW_CUSTOM_ENDPOINT=true; loopback simulators are always allowed.

export interface DefenderHost {
  host: string;
  cloud: 'commercial' | 'gcc' | 'gccHigh';
  /** token scopes (`<audience>/.default`) this host accepts */
  audiences: readonly string[];
  /** the Entra ID authority the cloud's identities sign in at (for AZURE_AUTHORITY_HOST) */
  authorityHost: string;
}

const COMMERCIAL_AUDIENCES = [
  'https://api.securitycenter.microsoft.com/.default',
  'https://api.security.microsoft.com/.default',
  'https://securitycenter.onmicrosoft.com/windowsatpservice/.default',
] as const;
const COMMERCIAL_AUTHORITY = 'https://login.microsoftonline.com';

const commercial = (host: string): DefenderHost => ({ host, cloud: 'commercial', audiences: COMMERCIAL_AUDIENCES, authorityHost: COMMERCIAL_AUTHORITY });

export const DEFENDER_HOSTS: readonly DefenderHost[] = [
  commercial('api.security.microsoft.com'),
  // regional endpoints ("use the server closer to your geo location")
  ...['us', 'eu', 'uk', 'au', 'swa', 'ina'].map((r) => commercial(`${r}.api.security.microsoft.com`)),
  // legacy names, still served
  commercial('api.securitycenter.microsoft.com'),
  ...['us', 'eu', 'uk', 'au'].map((r) => commercial(`api-${r}.securitycenter.microsoft.com`)),
  commercial('api.securitycenter.windows.com'),
  // US Government
  {
    host: 'api-gcc.securitycenter.microsoft.us',
    cloud: 'gcc',
    audiences: ['https://api-gcc.securitycenter.microsoft.us/.default'],
    authorityHost: COMMERCIAL_AUTHORITY,
  },
  {
    host: 'api-gov.securitycenter.microsoft.us',
    cloud: 'gccHigh',
    audiences: ['https://api-gov.securitycenter.microsoft.us/.default'],
    authorityHost: 'https://login.microsoftonline.us',
  },
];

/** The table entry of a host name (case-insensitive), if it is a Defender API host. */
export function defenderHost(hostname: string): DefenderHost | undefined {
  const h = hostname.toLowerCase();
  return DEFENDER_HOSTS.find((d) => d.host === h);
}

/** True when `scope` is one of the host's audiences (compared case-insensitively, as Entra ID does). */
export function isAudienceOf(entry: DefenderHost, scope: string): boolean {
  return entry.audiences.some((a) => a.toLowerCase() === scope.toLowerCase());
}
