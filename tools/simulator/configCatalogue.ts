// Secure configurations Defender assesses, per OS family, as data: every device gets one row per entry of its
// family. Ids, names and categories follow Defender's security recommendations (scid-…); compliance shares are
// the fleet's, not Defender's.
import type { OsFamily } from './catalogue';

export interface SecureConfiguration {
  readonly id: string;
  readonly name: string;
  readonly category: string;
  /** may be empty, as in real exports */
  readonly subcategory: string;
  /** 1–10 */
  readonly impact: number;
  readonly expectedUserImpact: boolean;
  /** share of applicable devices that comply at any one time */
  readonly compliance: number;
  /** only applicable where this `vendor/name` product is installed (otherwise IsApplicable = false) */
  readonly requires?: string;
}

const WINDOWS: readonly SecureConfiguration[] = [
  {
    id: 'scid-2010',
    name: 'Turn on Microsoft Defender Antivirus',
    category: 'Security controls',
    subcategory: 'Antivirus',
    impact: 9,
    expectedUserImpact: false,
    compliance: 0.97,
  },
  {
    id: 'scid-2011',
    name: 'Update Microsoft Defender Antivirus definitions',
    category: 'Security controls',
    subcategory: 'Antivirus',
    impact: 9,
    expectedUserImpact: false,
    compliance: 0.88,
  },
  {
    id: 'scid-2012',
    name: 'Turn on real-time protection',
    category: 'Security controls',
    subcategory: 'Antivirus',
    impact: 9,
    expectedUserImpact: false,
    compliance: 0.95,
  },
  {
    id: 'scid-2013',
    name: 'Turn on PUA protection in block mode',
    category: 'Security controls',
    subcategory: 'Antivirus',
    impact: 5,
    expectedUserImpact: true,
    compliance: 0.6,
  },
  {
    id: 'scid-2016',
    name: 'Turn on cloud-delivered protection',
    category: 'Security controls',
    subcategory: 'Antivirus',
    impact: 7,
    expectedUserImpact: false,
    compliance: 0.9,
  },
  {
    id: 'scid-2070',
    name: 'Turn on Microsoft Defender Firewall for the domain profile',
    category: 'Network',
    subcategory: 'Firewall',
    impact: 7,
    expectedUserImpact: false,
    compliance: 0.93,
  },
  {
    id: 'scid-2071',
    name: 'Turn on Microsoft Defender Firewall for the private profile',
    category: 'Network',
    subcategory: 'Firewall',
    impact: 7,
    expectedUserImpact: false,
    compliance: 0.9,
  },
  {
    id: 'scid-2072',
    name: 'Turn on Microsoft Defender Firewall for the public profile',
    category: 'Network',
    subcategory: 'Firewall',
    impact: 8,
    expectedUserImpact: false,
    compliance: 0.91,
  },
  {
    id: 'scid-2090',
    name: 'Block Office applications from creating child processes',
    category: 'Security controls',
    subcategory: 'Attack Surface Reduction',
    impact: 6,
    expectedUserImpact: true,
    compliance: 0.45,
    requires: 'microsoft/office',
  },
  {
    id: 'scid-2091',
    name: 'Block executable content from email client and webmail',
    category: 'Security controls',
    subcategory: 'Attack Surface Reduction',
    impact: 6,
    expectedUserImpact: true,
    compliance: 0.5,
    requires: 'microsoft/office',
  },
  {
    id: 'scid-2096',
    name: 'Block credential stealing from the Windows local security authority subsystem',
    category: 'Security controls',
    subcategory: 'Attack Surface Reduction',
    impact: 8,
    expectedUserImpact: false,
    compliance: 0.55,
  },
  { id: 'scid-91', name: "Disable 'Autoplay' for all drives", category: 'OS', subcategory: '', impact: 4, expectedUserImpact: true, compliance: 0.7 },
  {
    id: 'scid-44',
    name: 'Set LAN Manager authentication level to send NTLMv2 response only. Refuse LM & NTLM',
    category: 'Accounts',
    subcategory: 'Authentication',
    impact: 8,
    expectedUserImpact: true,
    compliance: 0.35,
  },
  {
    id: 'scid-67',
    name: 'Disable Anonymous enumeration of shares',
    category: 'Network',
    subcategory: '',
    impact: 6,
    expectedUserImpact: false,
    compliance: 0.8,
  },
  { id: 'scid-69', name: 'Disable SMBv1 client driver', category: 'Network', subcategory: 'SMB', impact: 8, expectedUserImpact: false, compliance: 0.85 },
  {
    id: 'scid-74',
    name: 'Enable Local Admin password management',
    category: 'Accounts',
    subcategory: 'Local accounts',
    impact: 8,
    expectedUserImpact: false,
    compliance: 0.6,
  },
  {
    id: 'scid-2000',
    name: 'Enable Microsoft Defender Antivirus scanning of downloaded files and attachments',
    category: 'Security controls',
    subcategory: 'Antivirus',
    impact: 6,
    expectedUserImpact: false,
    compliance: 0.92,
  },
  {
    id: 'scid-5001',
    name: 'Enable Microsoft Defender Antivirus Tamper Protection',
    category: 'Security controls',
    subcategory: 'Tamper protection',
    impact: 8,
    expectedUserImpact: false,
    compliance: 0.82,
  },
  {
    id: 'scid-6021',
    name: 'Update Microsoft Office to a supported version',
    category: 'Application',
    subcategory: 'Office',
    impact: 5,
    expectedUserImpact: true,
    compliance: 0.75,
    requires: 'microsoft/office',
  },
];

const WINDOWS_CLIENT: readonly SecureConfiguration[] = [
  {
    id: 'scid-2030',
    name: 'Encrypt all BitLocker-supported drives',
    category: 'Security controls',
    subcategory: 'BitLocker',
    impact: 9,
    expectedUserImpact: false,
    compliance: 0.8,
  },
  {
    id: 'scid-2040',
    name: 'Turn on Credential Guard',
    category: 'Security controls',
    subcategory: 'Device Guard',
    impact: 7,
    expectedUserImpact: false,
    compliance: 0.5,
  },
  { id: 'scid-96', name: "Disable 'Solicited Remote Assistance'", category: 'OS', subcategory: '', impact: 5, expectedUserImpact: true, compliance: 0.65 },
];

const WINDOWS_SERVER: readonly SecureConfiguration[] = [
  {
    id: 'scid-20000',
    name: 'Set Windows Server RDP sessions to require Network Level Authentication',
    category: 'Network',
    subcategory: 'Remote Desktop',
    impact: 8,
    expectedUserImpact: false,
    compliance: 0.7,
  },
  {
    id: 'scid-39',
    name: "Set 'Minimum password length' to '14 or more characters'",
    category: 'Accounts',
    subcategory: 'Password Policy',
    impact: 7,
    expectedUserImpact: true,
    compliance: 0.55,
  },
  {
    id: 'scid-2503',
    name: 'Disable IIS directory browsing',
    category: 'Application',
    subcategory: 'IIS',
    impact: 5,
    expectedUserImpact: false,
    compliance: 0.8,
    requires: 'microsoft/internet_information_services',
  },
];

const LINUX: readonly SecureConfiguration[] = [
  {
    id: 'scid-6000',
    name: 'Turn on Microsoft Defender for Endpoint real-time protection (Linux)',
    category: 'Security controls',
    subcategory: 'Antivirus',
    impact: 9,
    expectedUserImpact: false,
    compliance: 0.9,
  },
  {
    id: 'scid-6001',
    name: 'Update Microsoft Defender for Endpoint security intelligence (Linux)',
    category: 'Security controls',
    subcategory: 'Antivirus',
    impact: 8,
    expectedUserImpact: false,
    compliance: 0.85,
  },
  {
    id: 'scid-6003',
    name: 'Disable SSH root login',
    category: 'OS',
    subcategory: 'SSH',
    impact: 8,
    expectedUserImpact: true,
    compliance: 0.7,
    requires: 'openbsd/openssh',
  },
  {
    id: 'scid-6004',
    name: 'Disable SSH password authentication',
    category: 'OS',
    subcategory: 'SSH',
    impact: 7,
    expectedUserImpact: true,
    compliance: 0.55,
    requires: 'openbsd/openssh',
  },
  {
    id: 'scid-6010',
    name: 'Ensure firewall is enabled (Linux)',
    category: 'Network',
    subcategory: 'Firewall',
    impact: 6,
    expectedUserImpact: false,
    compliance: 0.6,
  },
  {
    id: 'scid-6015',
    name: 'Ensure permissions on /etc/shadow are configured',
    category: 'Accounts',
    subcategory: '',
    impact: 7,
    expectedUserImpact: false,
    compliance: 0.95,
  },
];

const MACOS: readonly SecureConfiguration[] = [
  {
    id: 'scid-5090',
    name: 'Turn on Microsoft Defender for Endpoint real-time protection (macOS)',
    category: 'Security controls',
    subcategory: 'Antivirus',
    impact: 9,
    expectedUserImpact: false,
    compliance: 0.92,
  },
  {
    id: 'scid-5095',
    name: 'Turn on FileVault',
    category: 'Security controls',
    subcategory: 'Encryption',
    impact: 9,
    expectedUserImpact: false,
    compliance: 0.85,
  },
  {
    id: 'scid-5097',
    name: 'Turn on the macOS application firewall',
    category: 'Network',
    subcategory: 'Firewall',
    impact: 6,
    expectedUserImpact: false,
    compliance: 0.6,
  },
  {
    id: 'scid-5099',
    name: 'Require a password after sleep or screen saver begins',
    category: 'Accounts',
    subcategory: '',
    impact: 5,
    expectedUserImpact: true,
    compliance: 0.75,
  },
  { id: 'scid-5101', name: 'Turn on Gatekeeper', category: 'OS', subcategory: '', impact: 7, expectedUserImpact: false, compliance: 0.97 },
];

/** The configurations assessed on a device of each family. */
export const SECURE_CONFIGURATIONS: Readonly<Record<OsFamily, readonly SecureConfiguration[]>> = {
  client: [...WINDOWS, ...WINDOWS_CLIENT],
  server: [...WINDOWS, ...WINDOWS_SERVER],
  linux: LINUX,
  macos: MACOS,
};
