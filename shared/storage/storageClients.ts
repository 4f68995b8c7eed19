// Builds the storage clients from a StorageTarget (connection string, or account URIs + Entra ID).
import { TableClient, TableServiceClient, TableServiceClientOptions } from '@azure/data-tables';
import { QueueClient, QueueServiceClient } from '@azure/storage-queue';
import { DefaultAzureCredential, ManagedIdentityCredential, TokenCredential } from '@azure/identity';
import { StorageTarget } from '../core/config';

export interface StorageClients {
  table(name: string): TableClient;
  tableService: TableServiceClient;
  queue(name: string): QueueClient;
}

function credentialFor(target: Extract<StorageTarget, { kind: 'identity' }>): TokenCredential {
  return target.clientId ? new ManagedIdentityCredential({ clientId: target.clientId }) : new DefaultAzureCredential();
}

/** Connection strings that point at http endpoints (Azurite) need allowInsecureConnection for tables. */
function tableOptions(endpointHint: string): TableServiceClientOptions {
  return /(^|;)\s*(DefaultEndpointsProtocol=http;|TableEndpoint=http:)|UseDevelopmentStorage=true|^http:/i.test(endpointHint)
    ? { allowInsecureConnection: true }
    : {};
}

export function storageClients(target: StorageTarget): StorageClients {
  if (target.kind === 'connectionString') {
    const cs = target.connectionString;
    const opts = tableOptions(cs);
    const queueService = QueueServiceClient.fromConnectionString(cs);
    return {
      table: (name) => TableClient.fromConnectionString(cs, name, opts),
      tableService: TableServiceClient.fromConnectionString(cs, opts),
      queue: (name) => queueService.getQueueClient(name),
    };
  }
  const credential = credentialFor(target);
  const opts = tableOptions(target.tableServiceUri);
  let queueService: QueueServiceClient | undefined;
  return {
    table: (name) => new TableClient(target.tableServiceUri, name, credential, opts),
    tableService: new TableServiceClient(target.tableServiceUri, credential, opts),
    queue: (name) => {
      if (!target.queueServiceUri) throw new Error(`${target.setting} has no queue endpoint (set ${target.setting}__queueServiceUri or __accountName)`);
      queueService ??= new QueueServiceClient(target.queueServiceUri, credential);
      return queueService.getQueueClient(name);
    },
  };
}

/** True for the "already exists" answers of create-table/queue, which we treat as success. */
export function isAlreadyExists(err: unknown): boolean {
  const e = err as { statusCode?: number; code?: string };
  return e?.statusCode === 409 && /AlreadyExists/i.test(String(e.code ?? ''));
}

function isBeingDeleted(err: unknown): boolean {
  const e = err as { statusCode?: number; code?: string; message?: string };
  return e?.statusCode === 409 && /TableBeingDeleted/i.test(`${e.code ?? ''} ${e.message ?? ''}`);
}

/**
 * Create a table, treating "already exists" as success. A table deleted moments ago answers
 * 409 TableBeingDeleted for a while (up to ~40 s on Azure): wait and retry within a bound.
 */
export async function ensureTable(clients: StorageClients, name: string, waitMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await clients.tableService.createTable(name);
      return;
    } catch (err) {
      if (isAlreadyExists(err)) return;
      if (!isBeingDeleted(err) || attempt >= 12) throw err;
      await waitMs(Math.min(10_000, 1000 * 2 ** attempt));
    }
  }
}
