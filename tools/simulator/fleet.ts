// A deterministic, realistic Defender fleet: devices, their installed CPE software, and how both change
// between export generations. The same (devices, seed, generation) always yields the same records, so tests
// can recompute exactly what an export holds instead of keeping it.
//
// This file holds the fleet's model (the types) and is the one import for its users; the parts live beside it:
// random.ts, fleetTime.ts, catalogue.ts (data), devices.ts, evolution.ts, records.ts. The sibling assessments
// derive from the same devices and installs: vulnerabilities.ts (+ cveCatalogue.ts), configurationRecords.ts
// (+ configCatalogue.ts), nonCpeRecords.ts (+ lobCatalogue.ts); kindSources.ts serves each kind's rows.

export { guidFrom, hash32, hexId, mulberry32 } from './random';
export { FLEET_EPOCH } from './fleetTime';
export { PRODUCTS } from './catalogue';
export type { EosSpec, OsFamily, PathSpec, Product } from './catalogue';
export { generateFleet, osFamily } from './devices';
export { evolveFleet, fleetAt } from './evolution';
export { deviceRecords, fleetRecords, fleetRowCount, recordKey, toRecord } from './records';
export type { Cve, ExploitabilityLevel, SeverityLevel } from './vulnerabilities';
export { cvesAffecting, productCvesAt } from './vulnerabilities';
export { kindRecords, kindRowCount, kindSource } from './kindSources';
export type { KindRecord, KindSource } from './kindSources';

export type OsPlatform = 'Windows10' | 'Windows11' | 'WindowsServer2016' | 'WindowsServer2019' | 'WindowsServer2022' | 'Linux' | 'macOS';

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

/** A row of SoftwareVulnerabilitiesExport: documented columns, then undocumented ones real payloads carry. */
export interface VulnerabilityRecord {
  id: string;
  cveId: string | null;
  /** a number; a string for some devices (some docs say string) */
  cvssScore: number | string | null;
  deviceId: string;
  deviceName: string;
  diskPaths: string[];
  exploitabilityLevel: string;
  firstSeenTimestamp: string;
  lastSeenTimestamp: string;
  osPlatform: OsPlatform;
  rbacGroupName: string;
  recommendationReference: string;
  recommendedSecurityUpdate: string | null;
  recommendedSecurityUpdateId: string | null;
  registryPaths: string[];
  /** a boolean; the string "true"/"false" for some devices */
  securityUpdateAvailable: boolean | string;
  softwareName: string;
  softwareVendor: string;
  softwareVersion: string;
  vulnerabilitySeverityLevel: string | null;
  rbacGroupId: number;
  osVersion: string;
  osArchitecture: string;
}

/** A row of SecureConfigurationsAssessmentExport. */
export interface ConfigurationRecord {
  deviceId: string;
  /** null for a few devices, as the docs allow */
  deviceName: string | null;
  osPlatform: OsPlatform;
  rbacGroupName: string;
  timestamp: string;
  configurationId: string;
  configurationCategory: string;
  configurationSubcategory: string;
  /** documented as a string, examples show a number: both occur (per device) */
  configurationImpact: number | string;
  configurationName: string;
  isApplicable: boolean | string;
  isCompliant: boolean | string;
  isExpectedUserImpact: boolean | string;
  recommendationReference: string;
}

/** A row of SoftwareInventoryNonCpeExport. */
export interface NonCpeRecord {
  deviceId: string;
  deviceName: string;
  osPlatform: OsPlatform;
  rbacGroupName: string;
  /** documented as a string, examples show a number: both occur (per device) */
  rbacGroupId: number | string;
  softwareName: string;
  softwareVendor: string;
  softwareVersion: string;
  softwareLastSeenTimestamp: string;
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
