// Well-known CVEs of catalogue products, as data: the vulnerability catalogue (vulnerabilities.ts) places them
// first and fills each version's remaining weaknesses with generated CVEs. Versions name entries of the
// product's `versions` in catalogue.ts; `fixedIn: null` means no fixed version exists yet.

export type ExploitabilityLevel = 'NoExploit' | 'ExploitIsPublic' | 'ExploitIsVerified' | 'ExploitIsInKit';

export interface KnownCve {
  readonly vendor: string;
  readonly name: string;
  readonly cveId: string;
  readonly cvss: number;
  readonly exploitability: ExploitabilityLevel;
  /** the oldest affected version */
  readonly from: string;
  /** the first version that is no longer affected; null = every version from `from` on, no fix yet */
  readonly fixedIn: string | null;
  /** the fleet generation at which Defender learns of it: 0 = before the first export, 1 = the demo's second run */
  readonly published: number;
}

export const KNOWN_CVES: readonly KnownCve[] = [
  { vendor: 'apache', name: 'log4j', cveId: 'CVE-2021-44228', cvss: 10, exploitability: 'ExploitIsInKit', from: '2.14.1', fixedIn: '2.17.1', published: 0 },
  { vendor: 'apache', name: 'log4j', cveId: 'CVE-2021-45046', cvss: 9, exploitability: 'ExploitIsVerified', from: '2.14.1', fixedIn: '2.17.1', published: 0 },
  { vendor: 'apache', name: 'log4j', cveId: 'CVE-2019-17571', cvss: 9.8, exploitability: 'ExploitIsPublic', from: '1.2.17', fixedIn: '2.14.1', published: 0 },
  { vendor: 'openssl', name: 'openssl', cveId: 'CVE-2022-0778', cvss: 7.5, exploitability: 'ExploitIsPublic', from: '1.0.2u', fixedIn: '1.1.1t', published: 0 },
  { vendor: 'openssl', name: 'openssl', cveId: 'CVE-2023-0286', cvss: 7.4, exploitability: 'NoExploit', from: '1.0.2u', fixedIn: '1.1.1t', published: 0 },
  { vendor: 'openssl', name: 'openssl', cveId: 'CVE-2024-5535', cvss: 9.1, exploitability: 'NoExploit', from: '1.1.1w', fixedIn: null, published: 2 },
  {
    vendor: 'sudo_project',
    name: 'sudo',
    cveId: 'CVE-2021-3156',
    cvss: 7.8,
    exploitability: 'ExploitIsVerified',
    from: '1.8.29',
    fixedIn: '1.9.5p2',
    published: 0,
  },
  {
    vendor: 'polkit_project',
    name: 'polkit',
    cveId: 'CVE-2021-4034',
    cvss: 7.8,
    exploitability: 'ExploitIsInKit',
    from: '0.105',
    fixedIn: '121',
    published: 0,
  },
  {
    vendor: 'google',
    name: 'chrome',
    cveId: 'CVE-2023-4863',
    cvss: 8.8,
    exploitability: 'ExploitIsVerified',
    from: '114.0.5735.199',
    fixedIn: '117.0.5938.150',
    published: 0,
  },
  { vendor: 'haxx', name: 'curl', cveId: 'CVE-2023-38545', cvss: 9.8, exploitability: 'ExploitIsPublic', from: '7.68.0', fixedIn: '8.4.0', published: 0 },
  { vendor: 'openbsd', name: 'openssh', cveId: 'CVE-2024-6387', cvss: 8.1, exploitability: 'ExploitIsPublic', from: '8.9p1', fixedIn: null, published: 1 },
  { vendor: '7-zip', name: '7-zip', cveId: 'CVE-2024-11477', cvss: 7.8, exploitability: 'NoExploit', from: '16.04', fixedIn: null, published: 1 },
  {
    vendor: 'microsoft',
    name: 'windows_10',
    cveId: 'CVE-2024-21338',
    cvss: 7.8,
    exploitability: 'ExploitIsVerified',
    from: '10.0.19044.2965',
    fixedIn: '10.0.19045.4046',
    published: 0,
  },
  {
    vendor: 'microsoft',
    name: 'windows_11',
    cveId: 'CVE-2024-21412',
    cvss: 8.1,
    exploitability: 'ExploitIsVerified',
    from: '10.0.22000.2538',
    fixedIn: '10.0.22631.3296',
    published: 0,
  },
  {
    vendor: 'microsoft',
    name: 'exchange_server',
    cveId: 'CVE-2024-21410',
    cvss: 9.8,
    exploitability: 'ExploitIsPublic',
    from: '15.1.2507.35',
    fixedIn: '15.2.1544.4',
    published: 0,
  },
  { vendor: 'microsoft', name: '.net', cveId: 'CVE-2024-21409', cvss: 7.3, exploitability: 'NoExploit', from: '6.0.25', fixedIn: '6.0.29', published: 0 },
  {
    vendor: 'adobe',
    name: 'acrobat_reader_dc',
    cveId: 'CVE-2023-26369',
    cvss: 7.8,
    exploitability: 'ExploitIsVerified',
    from: '21.011.20039',
    fixedIn: '23.006.20380',
    published: 0,
  },
  {
    vendor: 'adobe',
    name: 'flash_player',
    cveId: 'CVE-2018-15982',
    cvss: 9.8,
    exploitability: 'ExploitIsInKit',
    from: '32.0.0.387',
    fixedIn: '32.0.0.465',
    published: 0,
  },
  {
    vendor: 'videolan',
    name: 'vlc_media_player',
    cveId: 'CVE-2024-46461',
    cvss: 8.1,
    exploitability: 'NoExploit',
    from: '3.0.11',
    fixedIn: null,
    published: 3,
  },
  { vendor: 'gnu', name: 'glibc', cveId: 'CVE-2023-4911', cvss: 7.8, exploitability: 'ExploitIsInKit', from: '2.34', fixedIn: '2.39', published: 0 },
  {
    vendor: 'linux',
    name: 'linux_kernel',
    cveId: 'CVE-2024-1086',
    cvss: 7.8,
    exploitability: 'ExploitIsVerified',
    from: '5.14.0',
    fixedIn: '6.8.0',
    published: 0,
  },
  { vendor: 'winscp', name: 'winscp', cveId: 'CVE-2021-3331', cvss: 7.8, exploitability: 'NoExploit', from: '5.19.6', fixedIn: '6.1.1', published: 0 },
  { vendor: 'simon_tatham', name: 'putty', cveId: 'CVE-2024-31497', cvss: 5.9, exploitability: 'ExploitIsPublic', from: '0.74', fixedIn: '0.81', published: 0 },
];
