/**
 * The canonical form of the state a shared index serves: the same JSON that `canonicalState` makes of a
 * folded `MetadataState`, so a test or `verify` can compare what readers see with a fold of the WAL.
 */
import type { StoreIndexReader } from './store-index.js';

/** Digest input of everything `reader` serves; equal to `canonicalState` of the same fold. */
export function canonicalIndexState(reader: StoreIndexReader): string {
  const offsets: unknown[] = [];
  for (const groupId of reader.listGroupIds()) {
    for (const { topic, partition, ...committed } of reader.fetchOffsets(groupId)) offsets.push([groupId, topic, partition, committed]);
  }
  const byTopic = <T>(rows: { topic: string; partition: number; value: T }[]): [string, [number, T][]][] => {
    const grouped: [string, [number, T][]][] = [];
    for (const row of rows) {
      const last = grouped.at(-1);
      if (last !== undefined && last[0] === row.topic) last[1].push([row.partition, row.value]);
      else grouped.push([row.topic, [[row.partition, row.value]]]);
    }
    return grouped;
  };
  const watermarks = byTopic(reader.listWatermarks().map(({ topic, partition, watermarks: value }) => ({ topic, partition, value })));
  const segments = byTopic(
    reader.listAllSegments().map(({ topic, partition, segments: list }) => ({
      topic,
      partition,
      value: [...list].sort((a, b) => a.segmentId - b.segmentId).map((segment) => [segment.segmentId, segment]),
    })),
  );
  return JSON.stringify({
    lastOffset: reader.appliedOffset,
    topics: reader.listTopics(),
    brokers: reader.listBrokers(),
    groups: reader.listGroups(),
    offsets,
    watermarks,
    segments,
    transactions: reader.listTransactions().map((transaction) => [transaction.transactionalId, transaction]),
    nextProducerId: reader.nextProducerId,
    clusterId: reader.clusterId,
  });
}
