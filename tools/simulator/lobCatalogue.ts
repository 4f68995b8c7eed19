// Software without a product code (the non-CPE inventory): line-of-business apps and tools Defender cannot map
// to a CPE, as data. Each app ships a release every `releaseEvery` generations; a device adopts each release some
// generations (days) late, so versions spread across the fleet and move on between exports.
import type { OsFamily } from './catalogue';

export interface LobApp {
  readonly vendor: string;
  readonly name: string;
  /** chance a device of each family has it; absent = never */
  readonly share: Partial<Record<OsFamily, number>>;
  /** version of release n is `major.(minor + n).<build>` */
  readonly major: number;
  readonly minor: number;
  readonly releaseEvery: number;
  /** first generation it is installed anywhere (a roll-out during the demo's runs); default 0 */
  readonly since?: number;
  /** generation from which it is uninstalled everywhere (retired); default never */
  readonly until?: number;
}

export const LOB_APPS: readonly LobApp[] = [
  { vendor: 'Contoso Ltd', name: 'Contoso Expense Tracker', share: { client: 0.55, macos: 0.3 }, major: 4, minor: 2, releaseEvery: 21 },
  { vendor: 'Contoso Ltd', name: 'Contoso Payroll Client', share: { client: 0.12 }, major: 2, minor: 11, releaseEvery: 35 },
  { vendor: 'Contoso Ltd', name: 'Contoso Field Service Agent', share: { client: 0.2, server: 0.1, linux: 0.15 }, major: 1, minor: 7, releaseEvery: 14 },
  {
    vendor: 'Contoso IT',
    name: 'Contoso Device Health Monitor',
    share: { client: 0.9, server: 0.9, linux: 0.6, macos: 0.85 },
    major: 3,
    minor: 0,
    releaseEvery: 3,
  },
  { vendor: 'Contoso IT', name: 'Contoso VPN Profile', share: { client: 0.8, macos: 0.7 }, major: 2024, minor: 1, releaseEvery: 90 },
  { vendor: 'Contoso IT', name: 'Contoso Self-Service Portal', share: { client: 0.4 }, major: 1, minor: 0, releaseEvery: 28, since: 2 },
  { vendor: 'Fabrikam Inc', name: 'Fabrikam Label Printer Utility', share: { client: 0.06 }, major: 7, minor: 3, releaseEvery: 60 },
  { vendor: 'Fabrikam Inc', name: 'Fabrikam ERP Connector', share: { server: 0.35, client: 0.05 }, major: 12, minor: 4, releaseEvery: 30 },
  { vendor: 'Fabrikam Inc', name: 'Fabrikam Legacy Timesheet', share: { client: 0.25 }, major: 3, minor: 9, releaseEvery: 120, until: 4 },
  { vendor: 'Northwind Traders', name: 'Northwind Inventory Scanner', share: { client: 0.08, linux: 0.05 }, major: 5, minor: 0, releaseEvery: 45 },
  { vendor: 'Woodgrove Bank', name: 'Woodgrove Treasury Terminal', share: { client: 0.04 }, major: 9, minor: 1, releaseEvery: 30 },
  { vendor: 'Tailspin Toys', name: 'tailspin-build-agent', share: { linux: 0.3, server: 0.08 }, major: 0, minor: 14, releaseEvery: 7 },
  { vendor: 'Adatum Corporation', name: 'Adatum Backup Helper', share: { server: 0.45, linux: 0.2 }, major: 6, minor: 5, releaseEvery: 40 },
  { vendor: 'Litware Inc', name: 'Litware Screen Capture', share: { client: 0.1, macos: 0.15 }, major: 2, minor: 8, releaseEvery: 28 },
];
