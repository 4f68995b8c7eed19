// npm start — the embedded demo: no Azure account needed. Starts Azurite and the local Defender
// simulator, runs one full cycle (timer → queue → workers) with live progress, then prints what
// landed and how to query it. Interactive runs keep Azurite serving (data under .demo/) until Ctrl-C,
// and every run adds a new dated snapshot of an evolving fleet; with CI=true or no TTY it cleans up and exits.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { parseArgs as parseWords } from 'node:util';
import { odata, TableClient } from '@azure/data-tables';
import { createServices } from '../../shared/app/appContext';
import { loadConfig } from '../../shared/core/config';
import { CATALOG_TABLE, SnapshotRow } from '../../shared/core/contracts';
import { EXPORT_KIND_NAMES, ExportKind, findKind } from '../../shared/kinds/exportKinds';
import { consoleLog, liveLine, Log } from '../../shared/core/log';
import { describeError } from '../../shared/core/redact';
import { Azurite, startAzurite } from '../runner/azurite';
import { startDefenderSimulator } from '../simulator/defenderSimulator';
import { CycleSummary, runIngestKinds } from '../runner/localRunner';
import { AppError } from '../../shared/core/errors';

interface DemoArgs {
  devices: number;
  files?: number;
  seed: number;
  keep: boolean;
  fresh: boolean;
  kinds: ExportKind[];
}

const USAGE = `usage: npm start -- [--devices N] [--files N] [--seed N] [--kinds K,K] [--no-keep] [--fresh]
  --devices N   fleet size (default 1000: about 28k inventory rows and 150k vulnerability rows)
  --files N     export part files per kind (default: one per 50k rows, at least 3)
  --kinds K,K   export kinds to publish and ingest (default all: ${EXPORT_KIND_NAMES.join(', ')})
  --seed N      fleet seed (default 42)
  --no-keep     stop everything after the cycle even in a terminal
  --fresh       forget earlier demo runs (deletes .demo/)`;

function parseArgs(argv: string[]): DemoArgs {
  const args: DemoArgs = {
    devices: 1000,
    seed: 42,
    keep: !!process.stdout.isTTY && process.env.CI !== 'true',
    fresh: false,
    kinds: [...EXPORT_KIND_NAMES],
  };
  const options = {
    devices: { type: 'string' },
    files: { type: 'string' },
    seed: { type: 'string' },
    kinds: { type: 'string' },
    'no-keep': { type: 'boolean' },
    fresh: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  } as const;
  for (const t of parseWords({ args: argv, options, strict: false, allowPositionals: true, tokens: true }).tokens) {
    if (t.kind === 'option-terminator') continue;
    if (t.kind === 'positional') throw new UsageError(`unknown option ${t.value}`);
    const num = (min: number, max: number) => {
      const v = Number(t.value);
      if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`${t.rawName} takes a whole number from ${min} to ${max}`);
      return v;
    };
    if (!t.rawName.startsWith('--') && t.name !== 'help') throw new UsageError(`unknown option ${t.rawName}`);
    if (t.name === 'devices') args.devices = num(1, 1_000_000);
    else if (t.name === 'files') args.files = num(1, 1000);
    else if (t.name === 'seed') args.seed = num(0, 2 ** 31);
    else if (t.name === 'kinds') args.kinds = kindsOf(t.value ?? '');
    else if (!(t.name in options)) throw new UsageError(`unknown option ${t.rawName}`);
    else if (t.inlineValue) throw new UsageError(`${t.rawName} takes no value`);
    else if (t.name === 'no-keep') args.keep = false;
    else if (t.name === 'fresh') args.fresh = true;
    else throw new UsageError(''); // --help, -h
  }
  return args;
}

class UsageError extends AppError {}

function kindsOf(text: string): ExportKind[] {
  const kinds: ExportKind[] = [];
  for (const word of text.split(',').map((w) => w.trim())) {
    const kind = findKind(word);
    if (!kind) throw new UsageError(`--kinds: "${word}" is not an export kind (${EXPORT_KIND_NAMES.join(', ')})`);
    if (!kinds.includes(kind)) kinds.push(kind);
  }
  return EXPORT_KIND_NAMES.filter((k) => kinds.includes(k));
}

const DEMO_DIR = path.join(process.cwd(), '.demo');
const STATE_FILE = path.join(DEMO_DIR, 'state.json');
interface DemoState {
  generation: number;
  lastGeneratedTime?: string;
  seed: number;
  devices: number;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

async function printSummary(log: Log, cs: string, summaries: readonly CycleSummary[]): Promise<void> {
  const catalog = TableClient.fromConnectionString(cs, CATALOG_TABLE, { allowInsecureConnection: true });
  const out: string[] = [];
  out.push('', `Snapshots in the catalog (table ${CATALOG_TABLE}, one partition per export kind), newest first:`);
  for (const kind of EXPORT_KIND_NAMES) {
    const snaps: SnapshotRow[] = [];
    for await (const s of catalog.listEntities<SnapshotRow>({ queryOptions: { filter: odata`PartitionKey eq ${kind}` } })) snaps.push(s);
    if (snaps.length === 0) continue;
    snaps.sort((a, b) => (a.rowKey < b.rowKey ? 1 : -1));
    out.push(
      `  ${kind}`,
      `    ${pad('snapshot', 14)}${pad('status', 11)}${pad('generated (UTC)', 22)}${pad('files', 7)}${pad('rows', 11)}${pad('rejected', 10)}${pad('duplicates', 11)}table`,
    );
    for (const s of snaps) {
      out.push(
        `    ${pad(s.rowKey, 14)}${pad(s.Status, 11)}${pad(new Date(s.GeneratedTime).toISOString().slice(0, 16).replace('T', ' '), 22)}${pad(`${s.FilesCompleted}/${s.FileCount}`, 7)}${pad(fmt(s.RowCount), 11)}${pad(fmt(s.RejectedCount), 10)}${pad(fmt(s.DuplicateCount), 11)}${s.TableName}`,
      );
    }
  }
  const tableOf = (kind: ExportKind) => summaries.find((k) => k.kind === kind && k.table)?.table;
  const sampleOf = async (table: string, filter: string, n = 3) => {
    const rows: Record<string, string | number | boolean | undefined>[] = [];
    for await (const e of TableClient.fromConnectionString(cs, table, { allowInsecureConnection: true }).listEntities<
      Record<string, string | number | boolean | undefined>
    >({ queryOptions: { filter } })) {
      rows.push(e);
      if (rows.length >= n) break;
    }
    return rows;
  };
  const inventory = tableOf('SoftwareInventory');
  const sample = inventory ? await sampleOf(inventory, odata`SoftwareVendor eq 'apache' or SoftwareVendor eq 'google'`) : [];
  if (inventory && sample.length > 0) {
    out.push('', `A few rows of ${inventory} (PartitionKey = DeviceId, RowKey = vendor|name|version):`);
    for (const e of sample) {
      out.push(
        `  ${e.DeviceName}  ${e.OSPlatform}  ${e.SoftwareVendor} ${e.SoftwareName} ${e.SoftwareVersion}  weaknesses=${e.NumberOfWeaknesses ?? '-'}  EOS=${e.EndOfSupportStatus ?? '-'}`,
      );
    }
  }
  const vulnerabilities = tableOf('SoftwareVulnerabilities');
  const vulnSample = vulnerabilities ? await sampleOf(vulnerabilities, odata`VulnerabilitySeverityLevel eq 'Critical'`) : [];
  if (vulnerabilities && vulnSample.length > 0) {
    out.push('', `A few rows of ${vulnerabilities} (RowKey = vendor|name|version|CVE):`);
    for (const e of vulnSample) {
      out.push(
        `  ${e.DeviceName}  ${e.SoftwareVendor} ${e.SoftwareName} ${e.SoftwareVersion}  ${e.CveId}  CVSS ${e.CvssScore}  ${e.VulnerabilitySeverityLevel}  ${e.ExploitabilityLevel}`,
      );
    }
  }
  const configurations = tableOf('SecureConfigurations');
  const configSample = configurations ? await sampleOf(configurations, odata`IsApplicable eq true and IsCompliant eq false`) : [];
  if (configurations && configSample.length > 0) {
    out.push('', `A few failing configurations in ${configurations} (RowKey = ConfigurationId):`);
    for (const e of configSample) out.push(`  ${e.DeviceName ?? e.DeviceId}  ${e.ConfigurationId}  ${e.ConfigurationName}  impact ${e.ConfigurationImpact}`);
  }
  const device = (sample[0]?.DeviceId ?? vulnSample[0]?.DeviceId) as string | undefined;
  const cve = vulnSample[0]?.CveId as string | undefined;
  const first = summaries.find((k) => k.snapshotId);
  const query = 'AzureWebJobsStorage="$AZURE_STORAGE_CONNECTION_STRING" npm run query --';
  out.push(
    '',
    'Query it with the query CLI (docs/query.md):',
    `  export AZURE_STORAGE_CONNECTION_STRING='${cs}'`,
    `  ${query} snapshots                                  # every kind's snapshots and their health`,
    `  ${query} device ${device ?? '<DeviceId or name>'}      # software, open vulnerabilities, failing configurations`,
    `  ${query} software log4j --vendor apache`,
    ...(cve ? [`  ${query} cve ${cve}                          # devices exposed to one CVE`] : []),
    `  ${query} trend chrome --vendor google                 # devices per version per snapshot`,
    `  ${query} diff ${first?.snapshotId ?? '<from>'} latest      # after the next npm start (--kind SoftwareVulnerabilities: CVEs new and fixed)`,
    ...(vulnerabilities ? [`  ${query} exposure ${first?.snapshotId ?? '<from>'} latest  # after the next npm start: how long each fixed CVE was open`] : []),
    '',
    'Or with the Azure CLI (`az storage entity query`, works against Azurite too):',
    `  az storage entity query -t ${CATALOG_TABLE} --select PartitionKey RowKey Status RowCount TableName -o table`,
    ...(inventory
      ? [
          `  az storage entity query -t ${inventory} --filter "PartitionKey eq '${device ?? '<DeviceId>'}'" --select SoftwareVendor SoftwareName SoftwareVersion -o table`,
          `  az storage entity query -t InventoryRejects --filter "PartitionKey eq '${summaries.find((k) => k.kind === 'SoftwareInventory')?.snapshotId ?? '<snapshot id>'}'" -o table   # rejected lines, with the reason`,
        ]
      : []),
    '',
    'Or open the account in Azure Storage Explorer: "Attach to a local emulator" with these ports, or paste the connection string above.',
    'Or browse it in the web UI (docs/ui.md) at http://127.0.0.1:8070/ while Azurite keeps serving:',
    `  AzureWebJobsStorage="$AZURE_STORAGE_CONNECTION_STRING" npm run ui`,
  );
  log.info('demo summary follows');
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main(): Promise<number> {
  let args: DemoArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message ? `${err.message}\n` : ''}${USAGE}\n`);
      return err.message ? 2 : 0;
    }
    throw err;
  }
  // the live progress line on a terminal; every log line prints above it
  const status = liveLine(process.stderr);
  const log = consoleLog('demo', status);
  const persistent = args.keep;
  if (args.fresh) fs.rmSync(DEMO_DIR, { recursive: true, force: true });

  let state: DemoState = { generation: 0, seed: args.seed, devices: args.devices };
  if (persistent && fs.existsSync(STATE_FILE)) {
    const prev = JSON.parse(fs.readFileSync(STATE_FILE, 'utf8')) as DemoState;
    if (prev.seed === args.seed && prev.devices === args.devices) state = { ...prev, generation: prev.generation + 1 };
    else log.warn(`earlier demo runs used --seed ${prev.seed} --devices ${prev.devices}; starting a new fleet (history stays in the tables)`);
  }

  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    stops.length = 0;
  };
  process.once('SIGINT', () => {
    process.stderr.write('\nstopping…\n');
    void stopAll().then(() => process.exit(130));
  });

  try {
    let azurite: Azurite;
    if (persistent) {
      fs.mkdirSync(path.join(DEMO_DIR, 'azurite'), { recursive: true });
      // the emulator's standard ports when free, so Storage Explorer's "local emulator" entry just works
      const standard = (await portFree(10000)) && (await portFree(10001)) && (await portFree(10002));
      azurite = await startAzurite({ location: path.join(DEMO_DIR, 'azurite'), ...(standard ? { blobPort: 10000, queuePort: 10001, tablePort: 10002 } : {}) });
    } else {
      azurite = await startAzurite();
    }
    stops.push(() => azurite.stop());
    log.info(
      `Azurite ${persistent ? `(data in ${path.relative(process.cwd(), DEMO_DIR)}/azurite)` : '(in memory)'}: blob ${azurite.blobPort}, queue ${azurite.queuePort}, table ${azurite.tablePort}`,
    );

    const now = new Date(Math.floor(Date.now() / 60000) * 60000);
    const last = state.lastGeneratedTime ? new Date(state.lastGeneratedTime).getTime() : 0;
    const generatedTime = new Date(Math.max(now.getTime(), last + 60000));
    const simulator = await startDefenderSimulator({
      blobConnectionString: azurite.connectionString,
      devices: args.devices,
      files: args.files,
      seed: args.seed,
      generation: state.generation,
      generatedTime,
      throttleEvery: 3, // a 429 now and then, as the real API does
      extraColumns: true,
      exportKinds: args.kinds,
    });
    stops.push(() => simulator.stop());
    log.info(`Defender simulator at ${simulator.baseUrl}: ${fmt(args.devices)} devices, fleet generation ${state.generation}; publishing the export…`);
    const published = await simulator.publish();
    for (const kind of published.exportKinds) {
      log.info(
        `${kind} export ${published.generatedTimeText}: ${published.kinds[kind]?.files.length ?? 0} gzip files, ${fmt(published.rowCounts[kind] ?? 0)} rows`,
      );
    }
    const expectedRows = Object.values(published.rowCounts).reduce((a, b) => a + (b ?? 0), 0);

    const config = loadConfig({
      AzureWebJobsStorage: azurite.connectionString,
      DEFENDER_API_BASE_URL: simulator.baseUrl,
      DEFENDER_AUTH: 'none',
      // every demo run publishes a new export minutes after the last one and should add it to the history
      SNAPSHOT_INTERVAL_HOURS: '0',
      EXPORT_KINDS: args.kinds.join(','),
      INGEST_FILE_CONCURRENCY: process.env.INGEST_FILE_CONCURRENCY,
      WRITE_CONCURRENCY: process.env.WRITE_CONCURRENCY,
    });
    const summaries = await runIngestKinds({
      config,
      services: createServices(config, consoleLog('telemetry', status)),
      log,
      progressEverySeconds: 1,
      onProgress: (p) => {
        const line = `progress: ${p.kind} ${p.filesDone}/${p.filesTotal} files, ${fmt(p.rows)} / ${fmt(published.rowCounts[p.kind] ?? expectedRows)} rows, ${fmt(Math.round(p.rowsPerSecond))} rows/s`;
        if (status.live) status.set(line);
        else log.info(line);
      },
    });
    status.done();
    for (const summary of summaries) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      const published_ = published.rowCounts[summary.kind];
      if (summary.status === 'complete' && published_ !== undefined && summary.rows !== published_) {
        log.warn(`${summary.kind}: the simulator published ${fmt(published_)} rows but ${fmt(summary.rows)} landed`);
      }
    }
    await printSummary(log, azurite.connectionString, summaries);

    if (persistent) {
      fs.writeFileSync(STATE_FILE, JSON.stringify({ ...state, lastGeneratedTime: generatedTime.toISOString() } satisfies DemoState, null, 2));
      await simulator.stop();
      process.stdout.write(
        `\nAzurite keeps serving (data in .demo/). Press Ctrl-C to stop; the next \`npm start\` adds a new snapshot of the evolved fleet to this same history.\n`,
      );
      await new Promise<never>(() => undefined);
    }
    return summaries.every((k) => k.status === 'complete') ? 0 : 1;
  } finally {
    status.done();
    await stopAll();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`demo failed: ${describeError(err, 2000)}\n`);
    process.exit(1);
  },
);
