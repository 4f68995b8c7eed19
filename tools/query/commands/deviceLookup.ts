// The query CLI's device lookup, shared by `device` and `diff --device` (docs/query.md).
import { odata } from '@azure/data-tables';
import { partitionKeyFor } from '../../../shared/storage/tableKeys';
import { NotFoundError } from '../errors';
import { fmt, progress } from '../output';
import { StoredRow } from '../rows';
import { CatalogRow } from '../snapshots';
import { readAll, readEntities } from '../tableRead';
import { Context, tableOf } from './common';

export interface DeviceLookup {
  /** how the argument matched */
  by: string;
  /** the rows of the matched device(s) in each snapshot, in (PartitionKey, RowKey) order */
  rows: StoredRow[][];
}

/**
 * Find a device in some snapshots: by DeviceId (a point query on its partition; also lower-cased), else by
 * DeviceName (exact, server-side filter), else by a scan: DeviceName case-insensitively, then the host name
 * before the first dot. A name can match several devices (reimaged machines keep their names).
 */
export async function lookupDevice(ctx: Context, snapshots: readonly CatalogRow[], query: string, select?: string[]): Promise<DeviceLookup> {
  const tables = snapshots.map((s) => tableOf(ctx, s));
  const each = (filter: string) => Promise.all(tables.map((t, i) => readAll<StoredRow>(t, snapshots[i].rowKey, { filter, select })));
  const found = (rows: StoredRow[][]) => rows.some((r) => r.length > 0);

  for (const id of new Set([query, query.toLowerCase()])) {
    const rows = await each(odata`PartitionKey eq ${partitionKeyFor(id)}`);
    if (found(rows)) return { by: id === query ? 'DeviceId' : 'DeviceId, lower-cased', rows };
  }
  const exact = await each(odata`DeviceName eq ${query}`);
  if (found(exact)) return { by: 'DeviceName', rows: exact };

  // No exact name: scan the names (only PartitionKey and DeviceName travel).
  const wanted = query.toLowerCase();
  const ci = new Set<string>();
  const short = new Set<string>();
  let scanned = 0;
  const bar = progress(ctx.io, () => `scanning device names: ${fmt(scanned)} rows`);
  try {
    for (let i = 0; i < tables.length; i++) {
      const onPage = (n: number) => {
        scanned += n;
        bar.tick();
      };
      for await (const e of readEntities<{ DeviceName?: string }>(tables[i], snapshots[i].rowKey, {
        select: ['PartitionKey', 'DeviceName'],
        onPage,
        scan: true,
      })) {
        const name = typeof e.DeviceName === 'string' ? e.DeviceName.toLowerCase() : undefined;
        if (name === undefined) continue;
        if (name === wanted) ci.add(e.partitionKey);
        else if (!wanted.includes('.') && name.split('.')[0] === wanted) short.add(e.partitionKey);
      }
    }
  } finally {
    bar.done();
  }
  const keys = [...(ci.size ? ci : short)].sort();
  if (keys.length) {
    const rows = await Promise.all(
      tables.map(async (t, i) =>
        (await Promise.all(keys.map((k) => readAll<StoredRow>(t, snapshots[i].rowKey, { filter: odata`PartitionKey eq ${k}`, select })))).flat(),
      ),
    );
    return { by: ci.size ? 'DeviceName, case-insensitive' : 'host name, DeviceName before the first dot', rows };
  }
  const where = snapshots.length === 1 ? `snapshot ${snapshots[0].rowKey}` : `snapshots ${snapshots.map((s) => s.rowKey).join(', ')}`;
  throw new NotFoundError(`unknown device "${query}": no DeviceId or DeviceName matches in ${where}`);
}
