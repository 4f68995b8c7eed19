// Merge-join of several snapshot tables by PartitionKey (DeviceId): every table streams in (PartitionKey,
// RowKey) order (see diff.ts), so the tables are read side by side and one device's rows per table are held
// at a time, however large the tables are. diff of the kinds and exposure are built on it.
import { compareKeys, partitionsOf } from './diff';

export interface JoinedDevice<R> {
  /** the PartitionKey */
  key: string;
  /** the device's rows in each source, in the order of the sources (empty where it is absent) */
  rows: R[][];
}

/** Devices of all `sources` in PartitionKey order; the next partition of every source is requested at once. */
export async function* joinPartitions<R extends { partitionKey: string }>(
  sources: readonly AsyncIterable<R>[],
  names: readonly string[],
): AsyncGenerator<JoinedDevice<R>> {
  const its = sources.map((s, i) => partitionsOf(s, names[i] ?? `#${i + 1}`)[Symbol.asyncIterator]());
  try {
    let heads = await Promise.all(its.map((it) => it.next()));
    for (;;) {
      let key: string | undefined;
      for (const h of heads) if (!h.done && (key === undefined || compareKeys(h.value.key, key) < 0)) key = h.value.key;
      if (key === undefined) return;
      const taken = heads.map((h) => !h.done && h.value.key === key);
      yield { key, rows: heads.map((h, i) => (taken[i] && !h.done ? h.value.rows : [])) };
      heads = await Promise.all(heads.map((h, i) => (taken[i] ? its[i].next() : Promise.resolve(h))));
    }
  } finally {
    await Promise.all(its.map((it) => it.return?.(undefined)));
  }
}

/** Rows given in memory (a device looked up by name) as a source of joinPartitions. */
export async function* fromArray<T>(rows: readonly T[]): AsyncGenerator<T> {
  yield* rows;
}
