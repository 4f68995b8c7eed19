// Composition root: builds the handlers' dependencies from validated settings. The Functions
// registrations and the local runner both use it, so they run the same code with the same wiring.
import { QueueClient } from '@azure/storage-queue';
import { Config, loadConfig } from '../core/config';
import { DefenderClient } from '../defender/defenderClient';
import { IngestDeps, IngestLimits } from '../ingest/fileWorker';
import { TimerDeps } from '../timer/exportCollector';
import { consoleLog, Log } from '../core/log';
import { SnapshotCatalog } from '../storage/snapshotCatalog';
import { ensureTable, StorageClients, storageClients } from '../storage/storageClients';
import { createTelemetry, Telemetry } from '../core/telemetry';
import { downloadPolicyFor } from '../defender/urlPolicy';

export interface AppServices {
  config: Config;
  inventory: StorageClients;
  jobs: StorageClients;
  catalog: SnapshotCatalog;
  queue: QueueClient;
  poisonQueue: QueueClient;
  /** Application Insights events and metrics when APPLICATIONINSIGHTS_CONNECTION_STRING is set, else a no-op */
  telemetry: Telemetry;
}

export function poisonQueueName(queue: string): string {
  return `${queue}-poison`;
}

/** `log`: where telemetry's own problems are reported (it outlives any one invocation's logger). */
export function createServices(config: Config, log: Log = consoleLog('telemetry')): AppServices {
  const inventory = storageClients(config.inventoryStorage);
  const jobs = config.jobsStorage === config.inventoryStorage ? inventory : storageClients(config.jobsStorage);
  return {
    config,
    inventory,
    jobs,
    catalog: new SnapshotCatalog(inventory),
    queue: jobs.queue(config.ingestQueue),
    poisonQueue: jobs.queue(poisonQueueName(config.ingestQueue)),
    telemetry: createTelemetry(config.telemetry, log),
  };
}

let cached: AppServices | undefined;
/** Settings are read and validated once per process; a bad setting fails every invocation with the same clear message. */
export function appServices(): AppServices {
  cached ??= createServices(loadConfig());
  return cached;
}

export function timerDeps(s: AppServices, log: Log, overrides: Partial<TimerDeps> = {}): TimerDeps {
  return {
    catalog: s.catalog,
    ensureTable: (name) => ensureTable(s.inventory, name),
    queue: s.queue,
    defender: DefenderClient.fromConfig(s.config, log),
    kinds: s.config.exportKinds,
    sasValidHours: s.config.sasValidHours,
    snapshotIntervalHours: s.config.snapshotIntervalHours,
    log,
    method: s.config.exportMethod,
    json: {
      pageSize: s.config.jsonPageSize,
      baseUrl: s.config.defenderApiBaseUrl,
      table: (name) => s.inventory.table(name),
      writeConcurrency: s.config.writeConcurrency,
    },
    retentionDays: s.config.retentionDays,
    deleteTable: (name) => s.inventory.tableService.deleteTable(name),
    telemetry: s.telemetry,
    ...overrides,
  };
}

export function ingestDeps(s: AppServices, log: Log, overrides: Partial<IngestDeps> & { limits?: Partial<IngestLimits> } = {}): IngestDeps {
  return {
    catalog: s.catalog,
    table: (name) => s.inventory.table(name),
    queue: s.queue,
    downloadPolicy: downloadPolicyFor(s.config),
    writeConcurrency: s.config.writeConcurrency,
    timeBudgetMs: s.config.workerTimeBudgetSeconds * 1000,
    log,
    telemetry: s.telemetry,
    ...overrides,
  };
}
