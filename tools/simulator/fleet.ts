// A deterministic, realistic Defender fleet: devices, their installed CPE software, and how both change
// between export generations. The same (devices, seed, generation) always yields the same records, so tests
// can recompute exactly what an export holds instead of keeping it.
import { createHash } from 'node:crypto';
import { fmix32 } from '../../shared/core/hash';

export type OsPlatform =
  | 'Windows10'
  | 'Windows11'
  | 'WindowsServer2016'
  | 'WindowsServer2019'
  | 'WindowsServer2022'
  | 'Linux'
  | 'macOS';

export type EndOfSupportStatus = 'None' | 'EOS Version' | 'Upcoming EOS Version' | 'EOS Software' | 'Upcoming EOS Software';

/** One record as Defender sends it (camelCase keys, in the order of the API's example). */
export interface SoftwareRecord {
  deviceId: string;
  rbacGroupName: string;
  deviceName: string;
  osPlatform: OsPlatform;
  softwareVendor: string;
  softwareName: string;
  softwareVersion: string;
  numberOfWeaknesses: number;
  diskPaths: string[];
  registryPaths: string[];
  softwareFirstSeenTimestamp: string;
  endOfSupportStatus: EndOfSupportStatus;
  endOfSupportDate: string | null;
}

/** One installed version of a catalogue product; indices keep a 600k-install fleet small in memory. */
export interface Install {
  readonly product: number;
  readonly version: number;
  /** `yyyy-MM-dd HH:mm:ss[.fff|.fffffff]`, UTC without zone, as Defender writes it */
  readonly firstSeen: string;
}

export interface Device {
  readonly serial: number;
  readonly deviceId: string;
  readonly deviceName: string;
  readonly osPlatform: OsPlatform;
  readonly rbacGroupName: string;
  /** profile name used in per-user install paths */
  readonly user: string;
  /** how software-rich the device is (developers' machines carry more) */
  readonly richness: number;
  readonly software: readonly Install[];
}

export interface Fleet {
  readonly seed: number;
  readonly generation: number;
  readonly nextSerial: number;
  readonly devices: readonly Device[];
}

export interface FleetOptions {
  devices: number;
  seed?: number;
}

export interface EvolveOptions {
  /** the generation the result represents (normally fleet.generation + 1); seeds the changes */
  generation: number;
  /** defaults to the fleet's own seed */
  seed?: number;
}

/** What a catalogue product looks like; exported so tests can check the records against it. */
export interface Product {
  readonly vendor: string;
  readonly name: string;
  /** oldest first */
  readonly versions: readonly string[];
  /** chance a device of each family has it installed; absent = never */
  readonly share: Partial<Record<OsFamily, number>>;
  /** operating-system products are chosen per device, never installed as apps */
  readonly os?: readonly OsPlatform[];
  /** weaknesses added per version behind the newest */
  readonly weak: number;
  readonly eos?: EosSpec;
  /** chance each older version is also still installed beside the current one (.NET, VC++ runtimes) */
  readonly sideBySide?: number;
  readonly win?: PathSpec;
  readonly linux?: readonly string[];
  readonly mac?: readonly string[];
}

export type OsFamily = 'client' | 'server' | 'linux' | 'macos';

export type EosSpec =
  | { readonly kind: 'software'; readonly status: 'EOS Software' | 'Upcoming EOS Software'; readonly date: string }
  /** versions below eosBelow are 'EOS Version' (dates[0]); below upcomingBelow 'Upcoming EOS Version' (dates[1]) */
  | { readonly kind: 'versions'; readonly eosBelow: number; readonly upcomingBelow: number; readonly dates: readonly [string, string] };

export interface PathSpec {
  /** disk evidence; `{user}` is filled per device */
  readonly disk?: readonly string[];
  /** uninstall key name under ...\CurrentVersion\Uninstall */
  readonly reg?: string;
  /** 32-bit installer: the key lives under WOW6432Node */
  readonly wow?: boolean;
  /** per-user install: the key lives under HKEY_USERS\<sid> */
  readonly perUser?: boolean;
  /** a library bundled by many apps: one disk path per app folder (openssl, log4j) */
  readonly bundled?: string;
  /** a plain registry path (not an uninstall key), e.g. .NET's NDP keys */
  readonly rawReg?: string;
}

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/** mulberry32: tiny, fast, good enough for test data; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a over the parts, then a murmur finaliser: independent streams for (seed, generation, purpose). */
export function hash32(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  const text = parts.join('\u0001');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}

function rngFor(...parts: (string | number)[]): () => number {
  return mulberry32(hash32(...parts));
}

function pick<T>(rng: () => number, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length)];
}

function pickWeighted<T>(rng: () => number, items: readonly (readonly [T, number])[]): T {
  const total = items.reduce((s, [, w]) => s + w, 0);
  let r = rng() * total;
  for (const [item, w] of items) {
    r -= w;
    if (r < 0) return item;
  }
  return items[items.length - 1][0];
}

/** 40 lower-case hex characters, like Defender's machine ids. */
export function hexId(...parts: (string | number)[]): string {
  return createHash('sha1').update(parts.join(':')).digest('hex');
}

/** A GUID-shaped id (Spark job ids, OrgId). */
export function guidFrom(...parts: (string | number)[]): string {
  const h = hexId(...parts);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16], 16) & 3]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

// ---------------------------------------------------------------------------------------------
// Time: generation g happens FLEET_EPOCH + g days; fixed so records never depend on the wall clock.

export const FLEET_EPOCH = Date.UTC(2024, 0, 1, 3, 0, 0);
const DAY = 86_400_000;

function generationTime(generation: number): number {
  return FLEET_EPOCH + generation * DAY;
}

/** `yyyy-MM-dd HH:mm:ss`, sometimes with 3 or 7 fractional digits (both occur in real exports). */
function formatFirstSeen(ms: number, rng: () => number): string {
  const iso = new Date(ms).toISOString(); // yyyy-MM-ddTHH:mm:ss.fffZ
  const base = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  const r = rng();
  if (r < 0.8) return base;
  const frac = String(Math.floor(rng() * 1000)).padStart(3, '0');
  return r < 0.9 ? `${base}.${frac}` : `${base}.${frac}${String(Math.floor(rng() * 10000)).padStart(4, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Catalogue

const UNINSTALL = 'SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Uninstall';
const UNINSTALL32 = 'SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall';
const PF = 'C:\\Program Files';
const PF86 = 'C:\\Program Files (x86)';
const LOCAL = 'C:\\Users\\{user}\\AppData\\Local';
const ROAMING = 'C:\\Users\\{user}\\AppData\\Roaming';

// Dates in both shapes Defender uses: full ISO with offset, and plain dates.
const PRODUCTS_RAW: Product[] = [
  // --- operating systems (one per device, by platform)
  { vendor: 'microsoft', name: 'windows_10', os: ['Windows10'], share: {}, weak: 14,
    versions: ['10.0.19044.2965', '10.0.19045.3086', '10.0.19045.3324', '10.0.19045.3570', '10.0.19045.3803', '10.0.19045.4046', '10.0.19045.4291'],
    eos: { kind: 'versions', eosBelow: 1, upcomingBelow: 7, dates: ['2023-06-13T00:00:00+00:00', '2025-10-14T00:00:00+00:00'] } },
  { vendor: 'microsoft', name: 'windows_11', os: ['Windows11'], share: {}, weak: 11,
    versions: ['10.0.22000.2538', '10.0.22621.2428', '10.0.22621.2861', '10.0.22631.3007', '10.0.22631.3296', '10.0.22631.3527'],
    eos: { kind: 'versions', eosBelow: 1, upcomingBelow: 3, dates: ['2023-10-10T00:00:00+00:00', '2024-10-08T00:00:00+00:00'] } },
  { vendor: 'microsoft', name: 'windows_server_2016', os: ['WindowsServer2016'], share: {}, weak: 16,
    versions: ['10.0.14393.5921', '10.0.14393.6167', '10.0.14393.6452', '10.0.14393.6796'],
    eos: { kind: 'software', status: 'Upcoming EOS Software', date: '2027-01-12T00:00:00+00:00' } },
  { vendor: 'microsoft', name: 'windows_server_2019', os: ['WindowsServer2019'], share: {}, weak: 13,
    versions: ['10.0.17763.4377', '10.0.17763.4737', '10.0.17763.5122', '10.0.17763.5329', '10.0.17763.5696'] },
  { vendor: 'microsoft', name: 'windows_server_2022', os: ['WindowsServer2022'], share: {}, weak: 12,
    versions: ['10.0.20348.1787', '10.0.20348.2031', '10.0.20348.2113', '10.0.20348.2340', '10.0.20348.2402'] },
  { vendor: 'canonical', name: 'ubuntu_linux', os: ['Linux'], share: {}, weak: 9,
    versions: ['18.04', '20.04', '22.04', '24.04'],
    eos: { kind: 'versions', eosBelow: 1, upcomingBelow: 2, dates: ['2023-05-31', '2025-05-29'] } },
  { vendor: 'redhat', name: 'enterprise_linux', os: ['Linux'], share: {}, weak: 7,
    versions: ['7.9', '8.8', '8.9', '9.2', '9.3'],
    eos: { kind: 'versions', eosBelow: 1, upcomingBelow: 1, dates: ['2024-06-30', '2024-06-30'] } },
  { vendor: 'apple', name: 'macos', os: ['macOS'], share: {}, weak: 10,
    versions: ['12.7.1', '13.6.1', '13.6.4', '14.2.1', '14.3.1', '14.4.1'],
    eos: { kind: 'versions', eosBelow: 1, upcomingBelow: 3, dates: ['2024-09-16', '2025-09-15'] } },

  // --- Microsoft
  { vendor: 'microsoft', name: 'edge_chromium', share: { client: 0.98, server: 0.6, macos: 0.3 }, weak: 9,
    versions: ['118.0.2088.76', '119.0.2151.97', '120.0.2210.133', '121.0.2277.128', '122.0.2365.92', '123.0.2420.97', '124.0.2478.80'],
    win: { disk: [`${PF86}\\Microsoft\\Edge\\Application\\msedge.exe`], reg: 'Microsoft Edge', wow: true },
    mac: ['/Applications/Microsoft Edge.app'] },
  { vendor: 'microsoft', name: '.net_framework', share: { client: 0.97, server: 0.97 }, weak: 3, sideBySide: 0.45,
    versions: ['3.5.30729.4926', '4.0.0.0', '4.7.03062', '4.8.04084', '4.8.09032'],
    eos: { kind: 'versions', eosBelow: 0, upcomingBelow: 1, dates: ['2029-01-09', '2029-01-09'] },
    win: { rawReg: 'SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full\\Install' } },
  { vendor: 'microsoft', name: '.net', share: { client: 0.45, server: 0.55, linux: 0.1, macos: 0.1 }, weak: 4, sideBySide: 0.35,
    versions: ['3.1.32', '5.0.17', '6.0.25', '6.0.29', '7.0.14', '8.0.0', '8.0.4'],
    eos: { kind: 'versions', eosBelow: 2, upcomingBelow: 5, dates: ['2022-12-13T00:00:00+00:00', '2024-11-12T00:00:00+00:00'] },
    win: { disk: [`${PF}\\dotnet\\dotnet.exe`], reg: 'Microsoft .NET Runtime' },
    linux: ['/usr/share/dotnet/dotnet'], mac: ['/usr/local/share/dotnet/dotnet'] },
  { vendor: 'microsoft', name: 'visual_c++_redistributable', share: { client: 0.9, server: 0.8 }, weak: 1, sideBySide: 0.6,
    versions: ['9.0.30729.6161', '10.0.40219.325', '11.0.61030.0', '12.0.40664.0', '14.16.27033.0', '14.29.30139.0', '14.32.31332.0', '14.36.32532.0', '14.38.33135.0'],
    win: { reg: '{010792BA-551A-3AC0-A7EF-0FAB4156C382}', wow: true } },
  { vendor: 'microsoft', name: 'office', share: { client: 0.82, server: 0.05, macos: 0.5 }, weak: 6,
    versions: ['16.0.14332.20582', '16.0.16130.20868', '16.0.16731.20636', '16.0.17029.20108', '16.0.17231.20236', '16.0.17328.20282'],
    eos: { kind: 'versions', eosBelow: 1, upcomingBelow: 2, dates: ['2023-10-10', '2024-10-08'] },
    win: { disk: [`${PF}\\Microsoft Office\\root\\Office16\\WINWORD.EXE`, `${PF}\\Microsoft Office\\root\\Office16\\EXCEL.EXE`], reg: 'O365ProPlusRetail - en-us' },
    mac: ['/Applications/Microsoft Word.app', '/Applications/Microsoft Excel.app'] },
  { vendor: 'microsoft', name: 'teams', share: { client: 0.75, macos: 0.6 }, weak: 2,
    versions: ['1.6.0.18681', '1.6.0.24078', '1.6.0.27573', '1.7.0.1864', '23335.232.2637.4844', '24033.811.2738.2546'],
    win: { disk: [`${LOCAL}\\Microsoft\\Teams\\current\\Teams.exe`], reg: 'Teams', perUser: true },
    mac: ['/Applications/Microsoft Teams.app'] },
  { vendor: 'microsoft', name: 'onedrive', share: { client: 0.88, macos: 0.4 }, weak: 1,
    versions: ['23.066.0326.0005', '23.184.0903.0001', '23.226.1031.0001', '24.010.0114.0003', '24.040.0225.0001'],
    win: { disk: [`${LOCAL}\\Microsoft\\OneDrive\\OneDrive.exe`], reg: 'OneDriveSetup.exe', perUser: true },
    mac: ['/Applications/OneDrive.app'] },
  { vendor: 'microsoft', name: 'visual_studio_code', share: { client: 0.25, server: 0.05, linux: 0.05, macos: 0.4 }, weak: 2,
    versions: ['1.82.2', '1.84.2', '1.85.1', '1.86.2', '1.87.2', '1.88.1'],
    win: { disk: [`${LOCAL}\\Programs\\Microsoft VS Code\\Code.exe`], reg: '{771FD6B0-FA20-440A-A002-3B3BAC16DC50}_is1', perUser: true },
    linux: ['/usr/share/code/code'], mac: ['/Applications/Visual Studio Code.app'] },
  { vendor: 'microsoft', name: 'powershell', share: { client: 0.15, server: 0.35, linux: 0.05 }, weak: 3,
    versions: ['7.2.13', '7.2.17', '7.3.9', '7.4.0', '7.4.2'],
    eos: { kind: 'versions', eosBelow: 0, upcomingBelow: 2, dates: ['2024-11-08', '2024-11-08'] },
    win: { disk: [`${PF}\\PowerShell\\7\\pwsh.exe`], reg: '{6E7B2A8E-7D3A-4C43-9A52-3DB8CFB6E5B2}' },
    linux: ['/opt/microsoft/powershell/7/pwsh'] },
  { vendor: 'microsoft', name: 'internet_explorer', share: { client: 0.35, server: 0.6 }, weak: 20,
    versions: ['11.0.19041.1', '11.0.19041.3636', '11.0.20348.1', '11.0.22621.1'],
    eos: { kind: 'software', status: 'EOS Software', date: '2022-06-15T00:00:00+00:00' },
    win: { disk: [`${PF}\\Internet Explorer\\iexplore.exe`] } },
  { vendor: 'microsoft', name: 'silverlight', share: { client: 0.04, server: 0.02 }, weak: 12,
    versions: ['5.1.50918.0', '5.1.50926.0'],
    eos: { kind: 'software', status: 'EOS Software', date: '2021-10-12' },
    win: { disk: [`${PF86}\\Microsoft Silverlight\\sllauncher.exe`], reg: 'Microsoft Silverlight', wow: true } },
  { vendor: 'microsoft', name: 'remote_desktop', share: { client: 0.15, macos: 0.2 }, weak: 2,
    versions: ['1.2.4487.0', '1.2.4677.0', '1.2.5105.0', '1.2.5255.0'],
    win: { disk: [`${PF}\\Remote Desktop\\msrdcw.exe`], reg: '{A0C2F2A3-9C3A-4C7B-8B3F-0E1C6B8D5C11}' },
    mac: ['/Applications/Microsoft Remote Desktop.app'] },
  { vendor: 'microsoft', name: 'sql_server', share: { server: 0.2 }, weak: 5,
    versions: ['13.0.6435.1', '14.0.3465.1', '15.0.4335.1', '15.0.4355.3', '16.0.4105.2'],
    eos: { kind: 'versions', eosBelow: 1, upcomingBelow: 2, dates: ['2021-07-13', '2027-10-12'] },
    win: { disk: [`${PF}\\Microsoft SQL Server\\MSSQL15.MSSQLSERVER\\MSSQL\\Binn\\sqlservr.exe`], reg: 'Microsoft SQL Server 2019' } },
  { vendor: 'microsoft', name: 'sql_server_management_studio', share: { client: 0.04, server: 0.15 }, weak: 2,
    versions: ['18.12.1', '19.1', '19.2', '19.3', '20.1'],
    win: { disk: [`${PF86}\\Microsoft SQL Server Management Studio 19\\Common7\\IDE\\Ssms.exe`], reg: '{3E8D2A84-E5B1-4FA0-B5B6-5B7B0B6A4D7E}', wow: true } },
  { vendor: 'microsoft', name: 'internet_information_services', share: { server: 0.3 }, weak: 2,
    versions: ['10.0.17763.1', '10.0.20348.1'],
    win: { rawReg: 'SOFTWARE\\Microsoft\\InetStp' } },
  { vendor: 'microsoft', name: 'exchange_server', share: { server: 0.02 }, weak: 18,
    versions: ['15.1.2507.35', '15.2.1118.40', '15.2.1258.28', '15.2.1544.4'],
    eos: { kind: 'software', status: 'Upcoming EOS Software', date: '2025-10-14T00:00:00+00:00' },
    win: { disk: [`${PF}\\Microsoft\\Exchange Server\\V15\\Bin\\Microsoft.Exchange.Store.Worker.exe`] } },

  { vendor: 'microsoft', name: 'edge_webview2', share: { client: 0.95, server: 0.45 }, weak: 6,
    versions: ['119.0.2151.97', '120.0.2210.144', '121.0.2277.128', '122.0.2365.92', '123.0.2420.97', '124.0.2478.80'],
    win: { disk: [`${PF86}\\Microsoft\\EdgeWebView\\Application\\msedgewebview2.exe`], reg: 'Microsoft EdgeWebView', wow: true } },
  { vendor: 'microsoft', name: 'xml_core_services', share: { client: 0.6, server: 0.6 }, weak: 2,
    versions: ['4.20.9818.0', '6.30.19041.1', '6.30.20348.1', '6.30.22621.1'],
    eos: { kind: 'versions', eosBelow: 1, upcomingBelow: 1, dates: ['2014-04-08', '2014-04-08'] },
    win: { disk: ['C:\\Windows\\System32\\msxml6.dll'] } },
  { vendor: 'microsoft', name: 'configuration_manager', share: { client: 0.7, server: 0.55 }, weak: 1,
    versions: ['5.0.9078.1006', '5.0.9096.1000', '5.0.9106.1000', '5.0.9122.1000'],
    win: { reg: '{B7D3A842-E826-4542-B39B-1D883264B279}' } },
  { vendor: 'microsoft', name: 'system_center_2012_endpoint_protection', share: { client: 0.03, server: 0.05 }, weak: 3,
    versions: ['4.7.214.0', '4.10.209.0', '4.10.2082.0'],
    eos: { kind: 'software', status: 'EOS Software', date: '2022-07-12' },
    win: { reg: 'Microsoft Security Client' } },
  { vendor: 'microsoft', name: 'windows_terminal', share: { client: 0.45 }, weak: 1,
    versions: ['1.17.11461.0', '1.18.3181.0', '1.19.10821.0', '1.19.11213.0'],
    win: { disk: [`${PF}\\WindowsApps\\Microsoft.WindowsTerminal_1.19.11213.0_x64__8wekyb3d8bbwe\\WindowsTerminal.exe`] } },
  { vendor: 'microsoft', name: 'azure_cli', share: { client: 0.05, server: 0.1, linux: 0.12, macos: 0.12 }, weak: 2,
    versions: ['2.49.0', '2.53.1', '2.56.0', '2.59.0', '2.60.0'],
    win: { disk: [`${PF}\\Microsoft SDKs\\Azure\\CLI2\\wbin\\az.cmd`], reg: '{89E4C65D-96DD-435B-9BBB-EF1EAEF5B738}' },
    linux: ['/usr/bin/az'], mac: ['/usr/local/bin/az'] },
  { vendor: 'microsoft', name: 'visual_studio_2022', share: { client: 0.07, server: 0.02 }, weak: 5,
    versions: ['17.4.14', '17.6.11', '17.8.7', '17.9.6'],
    eos: { kind: 'versions', eosBelow: 1, upcomingBelow: 2, dates: ['2024-07-09', '2025-01-14'] },
    win: { disk: [`${PF}\\Microsoft Visual Studio\\2022\\Professional\\Common7\\IDE\\devenv.exe`], reg: '2c9e6f1b', wow: true } },
  { vendor: 'microsoft', name: 'odbc_driver_for_sql_server', share: { client: 0.1, server: 0.3 }, weak: 2,
    versions: ['17.10.5.1', '18.2.2.1', '18.3.2.1'],
    win: { disk: ['C:\\Windows\\System32\\msodbcsql18.dll'], reg: '{A8E3F4B5-2C1D-4E6F-9A0B-7C8D9E0F1A2B}' } },

  // --- drivers and OEM agents
  { vendor: 'intel', name: 'graphics_driver', share: { client: 0.55 }, weak: 4,
    versions: ['27.20.100.9466', '30.0.101.1404', '31.0.101.4255', '31.0.101.4972', '31.0.101.5333'],
    win: { disk: ['C:\\Windows\\System32\\DriverStore\\FileRepository\\iigd_dch.inf_amd64_5a1c8e3b\\igfxEM.exe'] } },
  { vendor: 'intel', name: 'chipset_device_software', share: { client: 0.4, server: 0.2 }, weak: 1,
    versions: ['10.1.18793.8276', '10.1.19263.8344', '10.1.19444.8378'],
    win: { reg: '{9E13B3A0-F1C3-4C0D-9E3C-9E8E66D4E6E2}', wow: true } },
  { vendor: 'realtek', name: 'high_definition_audio_driver', share: { client: 0.6 }, weak: 1,
    versions: ['6.0.9239.1', '6.0.9373.1', '6.0.9549.1'],
    win: { reg: '{F132AF7F-7BCA-4EDE-8A7C-958108FE7DBC}', wow: true } },
  { vendor: 'nvidia', name: 'graphics_driver', share: { client: 0.15 }, weak: 6,
    versions: ['528.49', '537.58', '546.33', '551.86', '552.22'],
    win: { disk: ['C:\\Windows\\System32\\nvapi64.dll'], reg: '{B2FE1952-0186-46C3-BAEC-A80AA35AC5B8}_Display.Driver' } },
  { vendor: 'dell', name: 'command_update', share: { client: 0.3 }, weak: 2,
    versions: ['4.8.0', '4.9.0', '5.1.0', '5.2.0'],
    win: { disk: [`${PF}\\Dell\\CommandUpdate\\dcu-cli.exe`], reg: '{5669AB71-1302-4412-8DA1-CB69CD7B7324}' } },
  { vendor: 'hp', name: 'support_assistant', share: { client: 0.1 }, weak: 3,
    versions: ['9.22.22.0', '9.25.34.0', '9.27.35.0'],
    win: { disk: [`${PF86}\\Hewlett-Packard\\HP Support Framework\\HPSF.exe`], reg: 'HP Support Assistant', wow: true } },
  { vendor: 'lenovo', name: 'system_update', share: { client: 0.12 }, weak: 3,
    versions: ['5.08.01.0009', '5.08.02.0025', '5.08.03.0059'],
    win: { disk: [`${PF86}\\Lenovo\\System Update\\tvsu.exe`], reg: 'TVSU_is1', wow: true } },
  { vendor: 'zabbix', name: 'zabbix_agent', share: { server: 0.25, linux: 0.3 }, weak: 2,
    versions: ['5.0.38', '6.0.22', '6.0.27', '6.4.12'],
    win: { disk: [`${PF}\\Zabbix Agent\\zabbix_agentd.exe`], reg: '{B7B6B8A2-4C8E-4A3F-9D21-7F6E5D4C3B2A}' },
    linux: ['/usr/sbin/zabbix_agentd'] },
  { vendor: 'splunk', name: 'universal_forwarder', share: { client: 0.05, server: 0.25, linux: 0.25 }, weak: 3,
    versions: ['8.2.12', '9.0.7', '9.1.3', '9.2.1'],
    win: { disk: [`${PF}\\SplunkUniversalForwarder\\bin\\splunkd.exe`], reg: '{D3B6E1A4-5F2C-4E8D-B9A0-1C2D3E4F5A6B}' },
    linux: ['/opt/splunkforwarder/bin/splunkd'] },
  { vendor: 'veeam', name: 'backup_and_replication', share: { server: 0.04 }, weak: 5,
    versions: ['11.0.1.1261', '12.0.0.1420', '12.1.1.56'],
    win: { disk: [`${PF}\\Veeam\\Backup and Replication\\Backup\\Veeam.Backup.Service.exe`], reg: '{D0BCF408-A05D-45AA-A982-5ACC74ADFD8A}' } },
  { vendor: 'libreoffice', name: 'libreoffice', share: { client: 0.05, linux: 0.04, macos: 0.05 }, weak: 4,
    versions: ['7.4.7.2', '7.5.9.2', '7.6.4.1', '24.2.2.2'],
    win: { disk: [`${PF}\\LibreOffice\\program\\soffice.exe`], reg: '{B2E9A8C1-3D4F-4A5B-8C6D-7E8F9A0B1C2D}' },
    linux: ['/usr/lib/libreoffice/program/soffice'], mac: ['/Applications/LibreOffice.app'] },

  // --- browsers and mail
  { vendor: 'google', name: 'chrome', share: { client: 0.72, server: 0.12, linux: 0.03, macos: 0.75 }, weak: 15,
    versions: ['114.0.5735.199', '117.0.5938.150', '119.0.6045.200', '120.0.6099.225', '121.0.6167.185', '122.0.6261.129', '123.0.6312.122', '124.0.6367.91'],
    win: { disk: [`${PF}\\Google\\Chrome\\Application\\chrome.exe`], reg: 'Google Chrome' },
    mac: ['/Applications/Google Chrome.app'], linux: ['/opt/google/chrome/chrome'] },
  { vendor: 'mozilla', name: 'firefox', share: { client: 0.33, server: 0.05, linux: 0.1, macos: 0.3 }, weak: 12,
    versions: ['102.15.1', '115.4.0', '115.6.0', '119.0.1', '121.0.1', '123.0', '124.0.2', '125.0.3'],
    eos: { kind: 'versions', eosBelow: 1, upcomingBelow: 1, dates: ['2023-09-26', '2023-09-26'] },
    win: { disk: [`${PF}\\Mozilla Firefox\\firefox.exe`], reg: 'Mozilla Firefox (x64 en-US)' },
    linux: ['/usr/lib/firefox/firefox'], mac: ['/Applications/Firefox.app'] },
  { vendor: 'mozilla', name: 'thunderbird', share: { client: 0.05, linux: 0.02, macos: 0.05 }, weak: 8,
    versions: ['102.15.1', '115.5.0', '115.8.1', '115.10.1'],
    win: { disk: [`${PF}\\Mozilla Thunderbird\\thunderbird.exe`], reg: 'Mozilla Thunderbird (x64 en-US)' },
    mac: ['/Applications/Thunderbird.app'] },
  { vendor: 'apple', name: 'safari', share: { macos: 1 }, weak: 7,
    versions: ['16.6', '17.1.2', '17.2.1', '17.3.1', '17.4.1'],
    mac: ['/Applications/Safari.app'] },

  // --- Adobe
  { vendor: 'adobe', name: 'acrobat_reader_dc', share: { client: 0.62, server: 0.08, macos: 0.35 }, weak: 10,
    versions: ['21.011.20039', '22.003.20322', '23.003.20269', '23.006.20380', '23.008.20470', '24.001.20643', '24.002.20736'],
    win: { disk: [`${PF}\\Adobe\\Acrobat DC\\Acrobat\\Acrobat.exe`], reg: '{AC76BA86-1033-FF00-7760-BC15014EA700}' },
    mac: ['/Applications/Adobe Acrobat Reader.app'] },
  { vendor: 'adobe', name: 'acrobat_dc', share: { client: 0.08, macos: 0.1 }, weak: 10,
    versions: ['22.003.20282', '23.006.20360', '23.008.20458', '24.001.20629'],
    win: { disk: [`${PF}\\Adobe\\Acrobat DC\\Acrobat\\Acrobat.exe`], reg: '{AC76BA86-1033-FFFF-7760-0C0F074E4100}' },
    mac: ['/Applications/Adobe Acrobat DC/Adobe Acrobat.app'] },
  { vendor: 'adobe', name: 'flash_player', share: { client: 0.03, server: 0.02 }, weak: 40,
    versions: ['32.0.0.387', '32.0.0.445', '32.0.0.465'],
    eos: { kind: 'software', status: 'EOS Software', date: '2020-12-31T00:00:00+00:00' },
    win: { disk: ['C:\\Windows\\SysWOW64\\Macromed\\Flash\\FlashUtil32_32_0_0_465_ActiveX.exe'], reg: 'Adobe Flash Player 32 ActiveX', wow: true } },
  { vendor: 'adobe', name: 'creative_cloud', share: { client: 0.05, macos: 0.2 }, weak: 3,
    versions: ['5.11.0.521', '6.0.0.571', '6.1.0.587', '6.2.0.554'],
    win: { disk: [`${PF}\\Adobe\\Adobe Creative Cloud\\ACC\\Creative Cloud.exe`], reg: 'Adobe Creative Cloud', wow: true },
    mac: ['/Applications/Adobe Creative Cloud/Adobe Creative Cloud.app'] },

  // --- utilities
  { vendor: '7-zip', name: '7-zip', share: { client: 0.45, server: 0.35 }, weak: 2,
    versions: ['16.04', '19.00', '21.07', '22.01', '23.01', '24.05'],
    win: { disk: [`${PF}\\7-Zip\\7z.exe`, `${PF}\\7-Zip\\7zFM.exe`], reg: '7-Zip' } },
  { vendor: 'notepad-plus-plus', name: 'notepad++', share: { client: 0.3, server: 0.3 }, weak: 2,
    versions: ['7.9.5', '8.4.9', '8.5.8', '8.6.2', '8.6.5'],
    win: { disk: [`${PF}\\Notepad++\\notepad++.exe`], reg: 'Notepad++' } },
  { vendor: 'videolan', name: 'vlc_media_player', share: { client: 0.22, macos: 0.15 }, weak: 3,
    versions: ['3.0.11', '3.0.16', '3.0.18', '3.0.20'],
    win: { disk: [`${PF}\\VideoLAN\\VLC\\vlc.exe`], reg: 'VLC media player' },
    mac: ['/Applications/VLC.app'] },
  { vendor: 'simon_tatham', name: 'putty', share: { client: 0.12, server: 0.25 }, weak: 3,
    versions: ['0.74', '0.76', '0.78', '0.79', '0.80', '0.81'],
    win: { disk: [`${PF}\\PuTTY\\putty.exe`], reg: '{E078C644-A120-4668-AD62-02E9FD530190}' } },
  { vendor: 'winscp', name: 'winscp', share: { client: 0.08, server: 0.2 }, weak: 2,
    versions: ['5.19.6', '6.1.1', '6.1.2', '6.3.3'],
    win: { disk: [`${PF86}\\WinSCP\\WinSCP.exe`], reg: 'winscp3_is1', wow: true } },
  { vendor: 'wireshark', name: 'wireshark', share: { client: 0.04, server: 0.05, linux: 0.05, macos: 0.05 }, weak: 6,
    versions: ['3.6.16', '4.0.11', '4.2.2', '4.2.4'],
    win: { disk: [`${PF}\\Wireshark\\Wireshark.exe`], reg: 'Wireshark' },
    linux: ['/usr/bin/wireshark'], mac: ['/Applications/Wireshark.app'] },
  { vendor: 'keepass', name: 'keepass', share: { client: 0.07 }, weak: 2,
    versions: ['2.53.1', '2.54', '2.55', '2.56'],
    win: { disk: [`${PF}\\KeePass Password Safe 2\\KeePass.exe`], reg: 'KeePassPasswordSafe2_is1' } },
  { vendor: 'greenshot', name: 'greenshot', share: { client: 0.05 }, weak: 1,
    versions: ['1.2.10.6', '1.3.274', '1.3.290', '1.3.296'],
    win: { disk: [`${PF}\\Greenshot\\Greenshot.exe`], reg: 'Greenshot_is1' } },
  { vendor: 'git-scm', name: 'git', share: { client: 0.15, server: 0.1, linux: 0.6, macos: 0.5 }, weak: 3,
    versions: ['2.39.2', '2.41.0', '2.43.0', '2.44.0', '2.45.1'],
    win: { disk: [`${PF}\\Git\\cmd\\git.exe`], reg: 'Git_is1' },
    linux: ['/usr/bin/git'], mac: ['/usr/bin/git'] },

  // --- runtimes and libraries
  { vendor: 'oracle', name: 'jre', share: { client: 0.18, server: 0.25, linux: 0.1 }, weak: 9, sideBySide: 0.2,
    versions: ['1.8.0.291', '1.8.0.341', '1.8.0.381', '1.8.0.391', '1.8.0.401'],
    win: { disk: [`${PF}\\Java\\jre-1.8\\bin\\java.exe`], reg: '{26A24AE4-039D-4CA4-87B4-2F64180381F0}' },
    linux: ['/usr/lib/jvm/jre-1.8.0/bin/java'] },
  { vendor: 'oracle', name: 'jdk', share: { client: 0.06, server: 0.12, linux: 0.15, macos: 0.1 }, weak: 7, sideBySide: 0.2,
    versions: ['11.0.19', '17.0.8', '17.0.10', '21.0.1', '21.0.3'],
    win: { disk: [`${PF}\\Java\\jdk-17\\bin\\java.exe`], reg: '{1A4F27B2-5C23-5D6F-A8A1-4D2C3A8E6F10}' },
    linux: ['/usr/lib/jvm/jdk-17-oracle-x64/bin/java'], mac: ['/Library/Java/JavaVirtualMachines/jdk-17.jdk'] },
  { vendor: 'python', name: 'python', share: { client: 0.12, server: 0.1, linux: 0.95, macos: 0.6 }, weak: 4, sideBySide: 0.25,
    versions: ['2.7.18', '3.8.10', '3.9.18', '3.10.12', '3.11.7', '3.12.2'],
    eos: { kind: 'versions', eosBelow: 1, upcomingBelow: 2, dates: ['2020-01-01T00:00:00+00:00', '2024-10-31T00:00:00+00:00'] },
    win: { disk: [`${LOCAL}\\Programs\\Python\\Python311\\python.exe`], reg: '{9A3E6B2F-6A8C-4F53-9B7E-2C1F0E6D8A41}', perUser: true },
    linux: ['/usr/bin/python3'], mac: ['/usr/bin/python3'] },
  { vendor: 'nodejs', name: 'node.js', share: { client: 0.06, server: 0.08, linux: 0.2, macos: 0.25 }, weak: 5,
    versions: ['16.20.2', '18.18.2', '18.19.1', '20.10.0', '20.12.2'],
    eos: { kind: 'versions', eosBelow: 1, upcomingBelow: 3, dates: ['2023-09-11', '2025-04-30'] },
    win: { disk: [`${PF}\\nodejs\\node.exe`], reg: '{4A8E3D7B-1C2F-4E5A-9B6D-7F8E9A0B1C2D}' },
    linux: ['/usr/bin/node'], mac: ['/usr/local/bin/node'] },
  { vendor: 'openssl', name: 'openssl', share: { client: 0.3, server: 0.35, linux: 0.98, macos: 0.3 }, weak: 6, sideBySide: 0.3,
    versions: ['1.0.2u', '1.1.1k', '1.1.1t', '1.1.1w', '3.0.11', '3.0.13', '3.2.1'],
    eos: { kind: 'versions', eosBelow: 4, upcomingBelow: 4, dates: ['2023-09-11', '2023-09-11'] },
    win: { bundled: 'libssl-1_1-x64.dll' },
    linux: ['/usr/bin/openssl', '/usr/lib/x86_64-linux-gnu/libssl.so.3'], mac: ['/usr/local/opt/openssl@3/bin/openssl'] },
  { vendor: 'apache', name: 'log4j', share: { client: 0.03, server: 0.12, linux: 0.12 }, weak: 5,
    versions: ['1.2.17', '2.14.1', '2.17.1', '2.20.0', '2.23.1'],
    eos: { kind: 'versions', eosBelow: 1, upcomingBelow: 1, dates: ['2015-08-05', '2015-08-05'] },
    win: { bundled: 'log4j-core.jar' }, linux: ['/opt/app/lib/log4j-core.jar'] },
  { vendor: 'apache', name: 'tomcat', share: { server: 0.07, linux: 0.12 }, weak: 6,
    versions: ['8.5.93', '9.0.80', '9.0.85', '10.1.18', '10.1.20'],
    eos: { kind: 'versions', eosBelow: 0, upcomingBelow: 1, dates: ['2024-03-31', '2024-03-31'] },
    win: { disk: [`${PF}\\Apache Software Foundation\\Tomcat 9.0\\bin\\tomcat9.exe`], reg: 'Apache Tomcat 9.0 Tomcat9' },
    linux: ['/opt/tomcat/bin/catalina.sh'] },
  { vendor: 'apache', name: 'http_server', share: { linux: 0.2, server: 0.02 }, weak: 5,
    versions: ['2.4.52', '2.4.57', '2.4.58', '2.4.59'],
    linux: ['/usr/sbin/apache2'], win: { disk: ['C:\\Apache24\\bin\\httpd.exe'] } },
  { vendor: 'nginx', name: 'nginx', share: { linux: 0.22 }, weak: 4,
    versions: ['1.18.0', '1.22.1', '1.24.0', '1.26.0'], linux: ['/usr/sbin/nginx'] },
  { vendor: 'postgresql', name: 'postgresql', share: { server: 0.04, linux: 0.12 }, weak: 4,
    versions: ['12.17', '13.13', '14.10', '15.5', '16.2'],
    eos: { kind: 'versions', eosBelow: 0, upcomingBelow: 1, dates: ['2024-11-14', '2024-11-14'] },
    win: { disk: [`${PF}\\PostgreSQL\\15\\bin\\postgres.exe`], reg: 'PostgreSQL 15' },
    linux: ['/usr/lib/postgresql/15/bin/postgres'] },
  { vendor: 'oracle', name: 'mysql', share: { server: 0.03, linux: 0.1 }, weak: 6,
    versions: ['5.7.44', '8.0.35', '8.0.36', '8.3.0'],
    eos: { kind: 'versions', eosBelow: 1, upcomingBelow: 1, dates: ['2023-10-31', '2023-10-31'] },
    win: { disk: [`${PF}\\MySQL\\MySQL Server 8.0\\bin\\mysqld.exe`], reg: '{6C9A8F3E-2B1D-4E5F-8A7B-9C0D1E2F3A4B}' },
    linux: ['/usr/sbin/mysqld'] },
  { vendor: 'docker', name: 'docker', share: { linux: 0.3 }, weak: 3,
    versions: ['20.10.24', '24.0.7', '25.0.3', '26.1.1'], linux: ['/usr/bin/docker', '/usr/bin/dockerd'] },
  { vendor: 'docker', name: 'desktop', share: { client: 0.04, macos: 0.2 }, weak: 3,
    versions: ['4.21.1', '4.25.2', '4.27.2', '4.29.0'],
    win: { disk: [`${PF}\\Docker\\Docker\\Docker Desktop.exe`], reg: 'Docker Desktop' },
    mac: ['/Applications/Docker.app'] },

  // --- Linux base system
  { vendor: 'linux', name: 'linux_kernel', share: { linux: 1 }, weak: 12,
    versions: ['4.18.0', '5.4.0', '5.14.0', '5.15.0', '6.5.0', '6.8.0'], linux: ['/boot/vmlinuz'] },
  { vendor: 'gnu', name: 'bash', share: { linux: 1, macos: 1 }, weak: 1,
    versions: ['4.4.20', '5.0.17', '5.1.16', '5.2.15'], linux: ['/usr/bin/bash'], mac: ['/bin/bash'] },
  { vendor: 'gnu', name: 'glibc', share: { linux: 1 }, weak: 5,
    versions: ['2.28', '2.31', '2.34', '2.35', '2.39'], linux: ['/usr/lib/x86_64-linux-gnu/libc.so.6'] },
  { vendor: 'sudo_project', name: 'sudo', share: { linux: 0.99, macos: 1 }, weak: 3,
    versions: ['1.8.29', '1.9.5p2', '1.9.9', '1.9.13p3', '1.9.15p5'], linux: ['/usr/bin/sudo'], mac: ['/usr/bin/sudo'] },
  { vendor: 'haxx', name: 'curl', share: { linux: 0.97, macos: 1 }, weak: 4,
    versions: ['7.68.0', '7.81.0', '8.4.0', '8.5.0', '8.7.1'], linux: ['/usr/bin/curl'], mac: ['/usr/bin/curl'] },
  { vendor: 'openbsd', name: 'openssh', share: { linux: 0.97, macos: 1, server: 0.3, client: 0.1 }, weak: 4,
    versions: ['7.4p1', '8.2p1', '8.9p1', '9.3p1', '9.6p1'],
    linux: ['/usr/sbin/sshd'], mac: ['/usr/bin/ssh'], win: { disk: ['C:\\Windows\\System32\\OpenSSH\\ssh.exe'] } },
  { vendor: 'systemd_project', name: 'systemd', share: { linux: 0.95 }, weak: 3,
    versions: ['239', '245.4', '249.11', '252.22', '255.4'], linux: ['/usr/lib/systemd/systemd'] },
  { vendor: 'vim', name: 'vim', share: { linux: 0.7, macos: 1 }, weak: 5,
    versions: ['8.0.1763', '8.2.3995', '9.0.1378', '9.1.0016'], linux: ['/usr/bin/vim'], mac: ['/usr/bin/vim'] },
  { vendor: 'perl', name: 'perl', share: { linux: 0.85, macos: 1 }, weak: 2,
    versions: ['5.26.3', '5.30.0', '5.34.0', '5.36.0', '5.38.2'], linux: ['/usr/bin/perl'], mac: ['/usr/bin/perl'] },
  { vendor: 'gnupg', name: 'gnupg', share: { linux: 0.8 }, weak: 2,
    versions: ['2.2.19', '2.2.27', '2.2.40', '2.4.4'], linux: ['/usr/bin/gpg'] },
  { vendor: 'sqlite', name: 'sqlite', share: { linux: 0.75, macos: 1 }, weak: 2,
    versions: ['3.31.1', '3.37.2', '3.40.1', '3.45.1'], linux: ['/usr/lib/x86_64-linux-gnu/libsqlite3.so.0'], mac: ['/usr/bin/sqlite3'] },
  { vendor: 'zlib', name: 'zlib', share: { linux: 0.9 }, weak: 1,
    versions: ['1.2.11', '1.2.13', '1.3', '1.3.1'], linux: ['/usr/lib/x86_64-linux-gnu/libz.so.1'] },
  { vendor: 'tukaani', name: 'xz', share: { linux: 0.97, macos: 0.3 }, weak: 3,
    versions: ['5.2.4', '5.2.5', '5.4.1', '5.4.5', '5.4.6'], linux: ['/usr/bin/xz', '/usr/lib/x86_64-linux-gnu/liblzma.so.5'], mac: ['/usr/local/bin/xz'] },
  { vendor: 'gnu', name: 'tar', share: { linux: 0.98 }, weak: 1,
    versions: ['1.30', '1.32', '1.34', '1.35'], linux: ['/usr/bin/tar'] },
  { vendor: 'gnu', name: 'coreutils', share: { linux: 0.98 }, weak: 1,
    versions: ['8.30', '8.32', '9.1', '9.4'], linux: ['/usr/bin/ls'] },
  { vendor: 'gnu', name: 'wget', share: { linux: 0.75, macos: 0.2 }, weak: 2,
    versions: ['1.19.5', '1.20.3', '1.21.2', '1.21.4'], linux: ['/usr/bin/wget'], mac: ['/usr/local/bin/wget'] },
  { vendor: 'gnu', name: 'grub2', share: { linux: 0.9 }, weak: 4,
    versions: ['2.02', '2.04', '2.06', '2.12'], linux: ['/usr/sbin/grub-install'] },
  { vendor: 'kernel', name: 'util-linux', share: { linux: 0.95 }, weak: 1,
    versions: ['2.32.1', '2.34', '2.37.2', '2.39.3'], linux: ['/usr/bin/mount'] },
  { vendor: 'polkit_project', name: 'polkit', share: { linux: 0.8 }, weak: 3,
    versions: ['0.105', '0.115', '121', '124'], linux: ['/usr/lib/polkit-1/polkitd'] },
  { vendor: 'freedesktop', name: 'dbus', share: { linux: 0.8 }, weak: 1,
    versions: ['1.12.16', '1.12.20', '1.14.10'], linux: ['/usr/bin/dbus-daemon'] },
  { vendor: 'xmlsoft', name: 'libxml2', share: { linux: 0.85, macos: 0.5 }, weak: 3,
    versions: ['2.9.10', '2.9.13', '2.9.14', '2.11.5', '2.12.6'], linux: ['/usr/lib/x86_64-linux-gnu/libxml2.so.2'], mac: ['/usr/lib/libxml2.2.dylib'] },
  { vendor: 'mit', name: 'kerberos_5', share: { linux: 0.65 }, weak: 2,
    versions: ['1.17', '1.18.2', '1.19.2', '1.20.1', '1.21.2'], linux: ['/usr/lib/x86_64-linux-gnu/libkrb5.so.3'] },
  { vendor: 'gnu', name: 'gnutls', share: { linux: 0.6 }, weak: 3,
    versions: ['3.6.13', '3.7.3', '3.7.9', '3.8.3'], linux: ['/usr/lib/x86_64-linux-gnu/libgnutls.so.30'] },
  { vendor: 'tcpdump', name: 'tcpdump', share: { linux: 0.5, macos: 1 }, weak: 2,
    versions: ['4.9.3', '4.99.1', '4.99.4'], linux: ['/usr/bin/tcpdump'], mac: ['/usr/sbin/tcpdump'] },
  { vendor: 'samba', name: 'rsync', share: { linux: 0.6, macos: 1 }, weak: 3,
    versions: ['2.6.9', '3.1.3', '3.2.3', '3.2.7'], linux: ['/usr/bin/rsync'], mac: ['/usr/bin/rsync'] },
  { vendor: 'apple', name: 'itunes', share: { macos: 0.15 }, weak: 4,
    versions: ['12.12.9', '12.13.0', '12.13.1'], mac: ['/Applications/iTunes.app'] },
  { vendor: 'homebrew', name: 'homebrew', share: { macos: 0.35 }, weak: 1,
    versions: ['4.1.20', '4.2.10', '4.2.18'], mac: ['/opt/homebrew/bin/brew'] },
  { vendor: 'apple', name: 'xcode', share: { macos: 0.2 }, weak: 2,
    versions: ['14.3.1', '15.0.1', '15.2', '15.3'], mac: ['/Applications/Xcode.app'] },

  // --- remote access, collaboration, agents
  { vendor: 'vmware', name: 'tools', share: { client: 0.08, server: 0.65, linux: 0.4 }, weak: 3,
    versions: ['11.3.5.18557794', '12.1.5.20735119', '12.2.6.22229486', '12.3.5.22544099', '12.4.0.23259341'],
    win: { disk: [`${PF}\\VMware\\VMware Tools\\vmtoolsd.exe`], reg: '{F32C4E7B-2BF8-4788-8408-824C6896E1BB}' },
    linux: ['/usr/bin/vmtoolsd'] },
  { vendor: 'vmware', name: 'horizon_client', share: { client: 0.08 }, weak: 4,
    versions: ['8.6.0.20094', '8.9.0.21435', '8.11.0.22660', '8.12.0.23149'],
    win: { disk: [`${PF86}\\VMware\\VMware Horizon View Client\\vmware-view.exe`], reg: '{E6C6E3B1-5B4F-4D46-9A67-45F8C7C1A2B3}', wow: true } },
  { vendor: 'zoom', name: 'zoom', share: { client: 0.4, macos: 0.55 }, weak: 6,
    versions: ['5.13.11.16405', '5.15.7.21404', '5.16.10.26186', '5.17.5.31030', '6.0.2.33403'],
    win: { disk: [`${ROAMING}\\Zoom\\bin\\Zoom.exe`], reg: 'ZoomUMX', perUser: true },
    mac: ['/Applications/zoom.us.app'] },
  { vendor: 'cisco', name: 'webex_meetings', share: { client: 0.08, macos: 0.1 }, weak: 4,
    versions: ['43.6.0.1234', '43.10.0.27605', '44.2.0.28744', '44.4.0.29432'],
    win: { disk: [`${LOCAL}\\WebEx\\WebexHost.exe`], reg: 'ActiveTouchMeetingClient', perUser: true },
    mac: ['/Applications/Webex.app'] },
  { vendor: 'cisco', name: 'anyconnect_secure_mobility_client', share: { client: 0.22, macos: 0.25 }, weak: 3,
    versions: ['4.10.05111', '4.10.07061', '4.10.08025', '5.1.2.42'],
    win: { disk: [`${PF86}\\Cisco\\Cisco AnyConnect Secure Mobility Client\\vpnui.exe`], reg: '{A7A9B5F1-0E5A-4F8A-9B3B-3A3B2B5E1C8D}', wow: true },
    mac: ['/Applications/Cisco/Cisco AnyConnect Secure Mobility Client.app'] },
  { vendor: 'fortinet', name: 'forticlient', share: { client: 0.08, macos: 0.05 }, weak: 5,
    versions: ['6.4.9.1797', '7.0.9.0493', '7.0.10.0538', '7.2.3.0929'],
    win: { disk: [`${PF}\\Fortinet\\FortiClient\\FortiClient.exe`], reg: '{0DC51760-4FB7-41F3-8967-D3DEC9D320EB}' },
    mac: ['/Applications/FortiClient.app'] },
  { vendor: 'citrix', name: 'workspace', share: { client: 0.15, macos: 0.1 }, weak: 4,
    versions: ['22.3.6000.5', '23.3.0.38', '23.9.1.104', '24.2.0.172'],
    win: { disk: [`${PF86}\\Citrix\\ICA Client\\SelfServicePlugin\\SelfService.exe`], reg: 'CitrixOnlinePluginPackWeb', wow: true },
    mac: ['/Applications/Citrix Workspace.app'] },
  { vendor: 'teamviewer', name: 'teamviewer', share: { client: 0.09, server: 0.06, macos: 0.08 }, weak: 4,
    versions: ['15.40.8', '15.46.7', '15.49.2', '15.51.5', '15.53.6'],
    win: { disk: [`${PF}\\TeamViewer\\TeamViewer.exe`], reg: 'TeamViewer' },
    mac: ['/Applications/TeamViewer.app'] },
  { vendor: 'realvnc', name: 'vnc_viewer', share: { client: 0.04, server: 0.04 }, weak: 3,
    versions: ['6.22.826', '7.5.1', '7.8.0', '7.10.0'],
    win: { disk: [`${PF}\\RealVNC\\VNC Viewer\\vncviewer.exe`], reg: '{8B0F5E0F-3D4E-4F2A-9C8D-1A2B3C4D5E6F}' } },
  { vendor: 'slack', name: 'slack', share: { client: 0.12, macos: 0.45 }, weak: 2,
    versions: ['4.33.90', '4.35.131', '4.36.140', '4.37.101'],
    win: { disk: [`${LOCAL}\\slack\\slack.exe`], reg: 'slack', perUser: true },
    mac: ['/Applications/Slack.app'] },
  { vendor: 'dropbox', name: 'dropbox', share: { client: 0.04, macos: 0.1 }, weak: 2,
    versions: ['182.4.6170', '191.4.4995', '195.4.4995', '197.4.7629'],
    win: { disk: [`${PF86}\\Dropbox\\Client\\Dropbox.exe`], reg: 'Dropbox', wow: true },
    mac: ['/Applications/Dropbox.app'] },
  { vendor: 'jetbrains', name: 'intellij_idea', share: { client: 0.04, linux: 0.02, macos: 0.12 }, weak: 2,
    versions: ['2023.1.5', '2023.2.5', '2023.3.4', '2024.1.1'],
    win: { disk: [`${PF}\\JetBrains\\IntelliJ IDEA Community Edition 2023.3\\bin\\idea64.exe`], reg: 'IntelliJ IDEA Community Edition 2023.3', wow: true },
    mac: ['/Applications/IntelliJ IDEA CE.app'] },
];

export const PRODUCTS: readonly Product[] = PRODUCTS_RAW;

const OS_PRODUCTS: Record<OsPlatform, readonly number[]> = (() => {
  const map = { Windows10: [], Windows11: [], WindowsServer2016: [], WindowsServer2019: [], WindowsServer2022: [], Linux: [], macOS: [] } as Record<OsPlatform, number[]>;
  PRODUCTS.forEach((p, i) => p.os?.forEach((os) => map[os].push(i)));
  return map;
})();

const APP_PRODUCTS: readonly number[] = PRODUCTS.map((p, i) => (p.os ? -1 : i)).filter((i) => i >= 0);

// ---------------------------------------------------------------------------------------------
// Devices

const OS_MIX: readonly (readonly [OsPlatform, number])[] = [
  ['Windows10', 34],
  ['Windows11', 30],
  ['WindowsServer2016', 3],
  ['WindowsServer2019', 8],
  ['WindowsServer2022', 7],
  ['Linux', 10],
  ['macOS', 8],
];

const REGIONS = ['europe', 'northamerica', 'asia'] as const;
const FIRST = ['anna', 'ben', 'carla', 'david', 'emma', 'felix', 'grace', 'hugo', 'ines', 'jan', 'kim', 'lars', 'maria', 'noah', 'olga', 'pieter', 'rosa', 'sven', 'tara', 'yusuf'];
const LAST = ['jansen', 'smith', 'kowalski', 'garcia', 'muller', 'rossi', 'dubois', 'nakamura', 'olsen', 'novak', 'silva', 'brown', 'devries', 'larsen', 'schmidt'];

export function osFamily(os: OsPlatform): OsFamily {
  if (os === 'Linux') return 'linux';
  if (os === 'macOS') return 'macos';
  return os.startsWith('WindowsServer') ? 'server' : 'client';
}

function rbacGroupFor(family: OsFamily, region: string, rng: () => number): string {
  if (rng() < 0.12) return 'Unassigned';
  if (family === 'server' || family === 'linux') return 'Servers';
  if (rng() < 0.15) return 'Developers';
  if (rng() < 0.1) return 'Finance';
  return region === 'northamerica' ? 'Workstations US' : region === 'asia' ? 'Workstations APAC' : 'Workstations EU';
}

function deviceNameFor(family: OsFamily, serial: number, region: string): string {
  const prefix = family === 'client' ? 'wks' : family === 'macos' ? 'mac' : family === 'linux' ? 'lnx' : 'srv';
  return `${prefix}-${String(serial).padStart(4, '0')}.${region}.contoso.com`;
}

/** Newer versions are far more common: walk back from the newest with a geometric tail. */
function pickVersion(rng: () => number, count: number): number {
  let i = count - 1;
  while (i > 0 && rng() < 0.38) i--;
  return i;
}

function installsFor(osPlatform: OsPlatform, richness: number, rng: () => number, seenAt: () => number): Install[] {
  const family = osFamily(osPlatform);
  const out: Install[] = [];
  const seen = new Set<number>();
  const add = (product: number, version: number) => {
    if (seen.has(product * 1000 + version)) return;
    seen.add(product * 1000 + version);
    out.push({ product, version, firstSeen: formatFirstSeen(seenAt(), rng) });
  };
  const osProduct = pick(rng, OS_PRODUCTS[osPlatform]);
  add(osProduct, pickVersion(rng, PRODUCTS[osProduct].versions.length));
  for (const index of APP_PRODUCTS) {
    const p = PRODUCTS[index];
    const share = p.share[family];
    if (!share || rng() >= Math.min(1, share * richness)) continue;
    const v = pickVersion(rng, p.versions.length);
    add(index, v);
    // Runtimes pile up: each older version may still be there beside the chosen one.
    if (p.sideBySide) for (let older = 0; older < v; older++) if (rng() < p.sideBySide) add(index, older);
  }
  return out;
}

function newDevice(seed: number, serial: number, generation: number, rng: () => number): Device {
  const osPlatform = pickWeighted(rng, OS_MIX);
  const family = osFamily(osPlatform);
  const region = pickWeighted(rng, [['europe', 5], ['northamerica', 4], ['asia', 2]] as const);
  const rbacGroupName = rbacGroupFor(family, region, rng);
  const richness = (rbacGroupName === 'Developers' ? 1.4 : 0.85) + rng() * 0.6;
  const user = `${pick(rng, FIRST)[0]}${pick(rng, LAST)}`;
  // The first generation's software was seen over the two years before; later arrivals are new.
  const now = generationTime(generation);
  const seenAt = generation === 0 ? () => now - Math.floor(rng() * 730 * DAY) : () => now + Math.floor(rng() * 20 * 3600_000);
  return {
    serial,
    deviceId: hexId('device', seed, serial),
    deviceName: deviceNameFor(family, serial, region),
    osPlatform,
    rbacGroupName,
    user,
    richness,
    software: installsFor(osPlatform, richness, rng, seenAt),
  };
}

/** A fleet as the first export (generation 0) sees it. */
export function generateFleet(opts: FleetOptions): Fleet {
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(opts.devices) || opts.devices < 0) throw new Error(`devices must be a whole number ≥ 0, got ${opts.devices}`);
  const rng = rngFor('fleet', seed);
  const devices: Device[] = [];
  for (let serial = 1; serial <= opts.devices; serial++) devices.push(newDevice(seed, serial, 0, rng));
  return { seed, generation: 0, nextSerial: opts.devices + 1, devices };
}

// ---------------------------------------------------------------------------------------------
// Evolution

/** Rates per generation (a generation is roughly a day). */
const RATES = {
  upgrade: 0.07,
  keepOldOnUpgrade: 0.04,
  remove: 0.004,
  installPerDevice: 0.15,
  osUpdate: 0.12,
  rbacMove: 0.003,
  deviceTurnover: 0.005,
};

function evolveDevice(device: Device, rng: () => number, seenAt: () => string): Device {
  const family = osFamily(device.osPlatform);
  const software: Install[] = [];
  const kept = new Set<number>();
  const keyOf = (product: number, version: number) => product * 1000 + version;
  const push = (s: Install) => {
    if (kept.has(keyOf(s.product, s.version))) return;
    kept.add(keyOf(s.product, s.version));
    software.push(s);
  };
  const before = new Set(device.software.map((s) => keyOf(s.product, s.version)));
  for (const s of device.software) {
    const p = PRODUCTS[s.product];
    const newest = p.versions.length - 1;
    if (!p.os && rng() < RATES.remove) continue;
    if (s.version < newest && rng() < (p.os ? RATES.osUpdate : RATES.upgrade)) {
      const v = Math.min(newest, s.version + 1 + (rng() < 0.3 ? 1 : 0));
      // Uninstallers sometimes leave the old version behind: two versions side by side.
      if (!p.os && rng() < RATES.keepOldOnUpgrade) push(s);
      // Already installed in the target version: that row (and its first-seen time) simply stays.
      if (!before.has(keyOf(s.product, v))) push({ product: s.product, version: v, firstSeen: seenAt() });
      continue;
    }
    push(s);
  }
  if (rng() < RATES.installPerDevice) {
    const candidates = APP_PRODUCTS.filter((i) => (PRODUCTS[i].share[family] ?? 0) > 0 && !software.some((s) => s.product === i));
    if (candidates.length) {
      const index = pickWeighted(rng, candidates.map((i) => [i, PRODUCTS[i].share[family] ?? 0] as const));
      push({ product: index, version: PRODUCTS[index].versions.length - 1, firstSeen: seenAt() });
    }
  }
  const rbacGroupName = rng() < RATES.rbacMove ? movedRbacGroup(device.rbacGroupName, family) : device.rbacGroupName;
  return { ...device, rbacGroupName, software };
}

function movedRbacGroup(current: string, family: OsFamily): string {
  if (current !== 'Unassigned') return 'Unassigned';
  return family === 'server' || family === 'linux' ? 'Servers' : 'Workstations EU';
}

/** The fleet one generation later: upgrades, removals, installs, a few devices retired and added. */
export function evolveFleet(fleet: Fleet, opts: EvolveOptions): Fleet {
  const seed = opts.seed ?? fleet.seed;
  const rng = rngFor('evolve', seed, opts.generation);
  const now = generationTime(opts.generation);
  const seenAt = () => formatFirstSeen(now + Math.floor(rng() * 20 * 3600_000), rng);
  const turnover = fleet.devices.length === 0 ? 0 : Math.max(1, Math.round(fleet.devices.length * RATES.deviceTurnover));
  const retired = new Set<number>();
  while (retired.size < Math.min(turnover, fleet.devices.length)) retired.add(Math.floor(rng() * fleet.devices.length));
  const devices = fleet.devices.filter((_, i) => !retired.has(i)).map((d) => evolveDevice(d, rng, seenAt));
  let nextSerial = fleet.nextSerial;
  for (let i = 0; i < turnover; i++) devices.push(newDevice(seed, nextSerial++, opts.generation, rng));
  return { seed, generation: opts.generation, nextSerial, devices };
}

/** generateFleet then evolve up to `generation`: what the simulator serves for that generation. */
export function fleetAt(opts: FleetOptions & { generation?: number }): Fleet {
  let fleet = generateFleet(opts);
  for (let g = 1; g <= (opts.generation ?? 0); g++) fleet = evolveFleet(fleet, { generation: g });
  return fleet;
}

// ---------------------------------------------------------------------------------------------
// Records

function eosFor(p: Product, version: number): { status: EndOfSupportStatus; date: string | null } {
  const eos = p.eos;
  if (!eos) return { status: 'None', date: null };
  if (eos.kind === 'software') return { status: eos.status, date: eos.date };
  if (version < eos.eosBelow) return { status: 'EOS Version', date: eos.dates[0] };
  if (version < eos.upcomingBelow) return { status: 'Upcoming EOS Version', date: eos.dates[1] };
  return { status: 'None', date: null };
}

/** Older versions carry more weaknesses; a stable per-version jitter keeps numbers uneven. */
function weaknessesFor(p: Product, version: number): number {
  const behind = p.versions.length - 1 - version;
  if (behind === 0) return hash32(p.vendor, p.name, version) % 3 === 0 ? 1 : 0;
  return behind * p.weak + (hash32(p.vendor, p.name, version) % (p.weak + 1));
}

const BUNDLING_APPS = [
  `${PF}\\Git\\mingw64\\bin`, `${PF}\\Microsoft Office\\root\\vfs\\ProgramFilesCommonX64\\Microsoft Shared\\Office16`,
  `${PF}\\Python311\\DLLs`, `${PF}\\Zabbix Agent`, `${PF}\\Tableau\\Tableau 2023.3\\bin`, `${PF}\\Splunk\\bin`,
  `${PF}\\PostgreSQL\\15\\bin`, `${PF86}\\Common Files\\Adobe\\OOBE\\PDApp\\core`, `${PF}\\Elastic\\Agent\\data`,
  `${PF}\\VMware\\VMware Tools`, `${PF}\\LibreOffice\\program`, `${PF}\\WinSCP`, `${PF}\\Veeam\\Backup and Replication\\Console`,
  `${PF}\\NVIDIA Corporation\\NVIDIA app`, `${PF}\\Dell\\SupportAssistAgent\\bin`, `${PF}\\Apache Software Foundation\\Tomcat 9.0\\lib`,
];

/** Paths are a pure function of (device, product, version) so they stay put across generations. */
function windowsEvidence(device: Device, p: Product, version: number): { diskPaths: string[]; registryPaths: string[] } {
  const w = p.win;
  if (!w) return { diskPaths: [], registryPaths: [] };
  const fill = (t: string) => t.replaceAll('{user}', device.user);
  let diskPaths = (w.disk ?? []).map(fill);
  if (w.bundled) {
    const rng = rngFor('bundled', device.deviceId, p.name, version);
    const n = 1 + Math.floor(rng() * rng() * 12);
    const dirs = new Set<string>();
    while (dirs.size < n) dirs.add(pick(rng, BUNDLING_APPS));
    diskPaths = [...dirs].map((d) => `${d}\\${w.bundled}`);
  }
  const registryPaths: string[] = [];
  if (w.rawReg) registryPaths.push(w.rawReg);
  if (w.reg) {
    const sid = `S-1-5-21-3623811015-3361044348-30300820-${1000 + (device.serial % 400)}`;
    registryPaths.push(w.perUser ? `HKEY_USERS\\${sid}\\${UNINSTALL.replace('SOFTWARE', 'Software')}\\${w.reg}` : `HKEY_LOCAL_MACHINE\\${w.wow ? UNINSTALL32 : UNINSTALL}\\${w.reg}`);
  }
  return { diskPaths, registryPaths };
}

function evidence(device: Device, p: Product, version: number): { diskPaths: string[]; registryPaths: string[] } {
  if (p.os) return { diskPaths: [], registryPaths: [] };
  const family = osFamily(device.osPlatform);
  if (family === 'linux') return { diskPaths: [...(p.linux ?? [])], registryPaths: [] };
  if (family === 'macos') return { diskPaths: [...(p.mac ?? [])], registryPaths: [] };
  return windowsEvidence(device, p, version);
}

export function toRecord(device: Device, s: Install): SoftwareRecord {
  const p = PRODUCTS[s.product];
  const eos = eosFor(p, s.version);
  const { diskPaths, registryPaths } = evidence(device, p, s.version);
  return {
    deviceId: device.deviceId,
    rbacGroupName: device.rbacGroupName,
    deviceName: device.deviceName,
    osPlatform: device.osPlatform,
    softwareVendor: p.vendor,
    softwareName: p.name,
    softwareVersion: p.versions[s.version],
    numberOfWeaknesses: weaknessesFor(p, s.version),
    diskPaths,
    registryPaths,
    softwareFirstSeenTimestamp: s.firstSeen,
    endOfSupportStatus: eos.status,
    endOfSupportDate: eos.date,
  };
}

/** One device's rows, one per unique (vendor, name, version). */
export function* deviceRecords(device: Device): Generator<SoftwareRecord> {
  for (const s of device.software) yield toRecord(device, s);
}

/** Every row of the fleet, device by device, built lazily. */
export function* fleetRecords(fleet: Fleet): Generator<SoftwareRecord> {
  for (const device of fleet.devices) yield* deviceRecords(device);
}

export function fleetRowCount(fleet: Fleet): number {
  return fleet.devices.reduce((n, d) => n + d.software.length, 0);
}

/** The identity of a row, as Defender defines uniqueness. */
export function recordKey(r: Pick<SoftwareRecord, 'deviceId' | 'softwareVendor' | 'softwareName' | 'softwareVersion'>): string {
  return `${r.deviceId}\u0000${r.softwareVendor}\u0000${r.softwareName}\u0000${r.softwareVersion}`;
}
