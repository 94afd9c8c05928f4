/**
 * Reads from the shared index and the memory it takes.
 *
 * - Synchronous point reads on the caller's thread (`getTopic`, `fetchOffset`): the baseline, from the
 *   same run, is one plain Map holding the same number of entries read with the same keys (the limit for
 *   any in-process read; offsets keyed by one composite string, as a broker without the store might).
 *   Measured over 10,000 topics and 12,000 offset keys (the targets' sizes), and again at the full size.
 * - The reader pool: batched point reads (`getTopics`, `fetchOffsetBatch`, 500 keys per query, 8 queries
 *   in flight) and `listTopics` of 10,000 topics, against the same list read synchronously.
 * - A mixed load: point reads on the caller's thread at a steady rate while 64 durable-in-page-cache
 *   commits stay in flight on the same thread; each read is timed (p50/p99/max).
 * - Memory: bytes of the index tables per topic (6 partitions) and per committed offset (offset table
 *   plus the groups' offset directories), and the caller thread's heap growth (after GC) per topic.
 */
import { MetaLog } from '../src/api/metalog.js';
import { drive } from './drive.js';
import { benchDir, check, latencyHistogram, lookupsPerSecond, type BenchRow } from './lib.js';

const gc = (globalThis as { gc?: () => void }).gc;

function heapUsedAfterGc(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}


interface OffsetKey {
  groupId: string;
  topic: string;
  partition: number;
}

/** Offset keys as the bench commits them: `groups` groups, each over topics 0..9 × 6 partitions. */
function offsetKeyAt(i: number, groups: number): OffsetKey {
  return { groupId: `group-${i % groups}`, topic: `topic-${Math.floor(i / groups) % 10}`, partition: Math.floor(i / (groups * 10)) % 6 };
}

function topicTableBytes(log: MetaLog): number {
  const { topics } = log.indexStats();
  return topics.slotBytes + topics.arenaBytesLive + topics.arenaBytesFree;
}

function offsetTableBytes(log: MetaLog): number {
  const { offsets, offsetDirectories } = log.indexStats();
  return offsets.slotBytes + offsets.arenaBytesLive + offsets.arenaBytesFree + offsetDirectories.slotBytes + offsetDirectories.arenaBytesLive + offsetDirectories.arenaBytesFree;
}

async function poolRates(log: MetaLog, topicNames: string[], offsetKeys: OffsetKey[], queries: number): Promise<{ topicsPerSecond: number; offsetsPerSecond: number }> {
  const batch = 500;
  const readers = log.readers;
  await readers.getTopics(topicNames.slice(0, batch));
  let topicSeconds = await drive(queries, 8, async (q) => {
    const names = Array.from({ length: batch }, (_, i) => topicNames[(q * batch + i) % topicNames.length]);
    const found = await readers.getTopics(names);
    check(found.every((topic, i) => topic !== null && topic.name === names[i]), 'pool getTopics finds every topic');
  });
  const offsetSeconds = await drive(queries, 8, async (q) => {
    const keys = Array.from({ length: batch }, (_, i) => offsetKeys[(q * batch + i) % offsetKeys.length]);
    const found = await readers.fetchOffsetBatch(keys);
    check(found.every((committed) => committed !== null), 'pool fetchOffsetBatch finds every offset');
  });
  topicSeconds = Math.max(topicSeconds, 1e-9);
  return { topicsPerSecond: (queries * batch) / topicSeconds, offsetsPerSecond: (queries * batch) / offsetSeconds };
}

/** Point reads at `readsPerSecond` on this thread while commits run; read latency in µs. */
async function mixedLoad(log: MetaLog, topicNames: string[], offsetKeys: OffsetKey[], seconds: number): Promise<{ readRate: number; writeRate: number; p50: number; p99: number; max: number }> {
  const histogram = latencyHistogram();
  let reads = 0;
  let writes = 0;
  let done = false;
  const startedMs = performance.now();
  // 64 lanes of commits, each committing again as soon as its last commit resolved, until `done`.
  let next = 0;
  const lane = async (): Promise<void> => {
    while (!done) {
      const i = next++;
      const key = offsetKeys[i % offsetKeys.length];
      await log.commitOffsets(key.groupId, [{ topic: key.topic, partition: key.partition, offset: 1_000_000 + i }]);
      writes++;
    }
  };
  const writing = Promise.all(Array.from({ length: 64 }, lane));
  // Reads go in slices of 100 between event-loop turns, the way a broker serves requests between I/O.
  const readSlice = 100;
  while (performance.now() - startedMs < seconds * 1000) {
    for (let i = 0; i < readSlice; i++) {
      const n = reads + i;
      const started = process.hrtime.bigint();
      const found = n % 2 === 0 ? log.getTopic(topicNames[(n * 7919) % topicNames.length]) : log.fetchOffset(offsetKeys[(n * 7919) % offsetKeys.length].groupId, offsetKeys[(n * 7919) % offsetKeys.length].topic, offsetKeys[(n * 7919) % offsetKeys.length].partition);
      // Nanosecond resolution, recorded in tenths of a microsecond.
      histogram.recordValue(Math.max(1, Number(process.hrtime.bigint() - started) / 100));
      check(found !== undefined, 'a mixed-load read finds its key');
    }
    reads += readSlice;
    await new Promise((resolve) => setImmediate(resolve));
  }
  done = true;
  const elapsed = (performance.now() - startedMs) / 1000;
  await writing;
  return {
    readRate: reads / elapsed,
    writeRate: writes / elapsed,
    p50: histogram.getValueAtPercentile(50) / 10,
    p99: histogram.getValueAtPercentile(99) / 10,
    max: histogram.maxValue / 10,
  };
}

export async function benchReadsAndMemory(sizes: { topics: number; offsets: number; lookups: number }): Promise<BenchRow[]> {
  const { dir, cleanup } = benchDir('reads');
  const rows: BenchRow[] = [];
  const count = (n: number): string => n.toLocaleString('en-US');
  try {
    const log = await MetaLog.open({ dir, durability: 'none' });
    const heapBefore = heapUsedAfterGc();
    const smallTopics = Math.min(10_000, sizes.topics);
    const createTopics = (from: number, to: number): Promise<number> =>
      drive(to - from, 256, (i) => log.createTopic({ name: `topic-${from + i}`, partitions: 6, configs: { 'retention.ms': '604800000' } }), 'reads: creating topics');
    await createTopics(0, smallTopics);

    // At the targets' sizes: 10,000 topics; 12,000 offsets (200 groups × 10 topics × 6 partitions).
    const smallGroups = 200;
    const smallOffsets = smallGroups * 60;
    await drive(smallOffsets, 256, (i) => {
      const key = offsetKeyAt(i, smallGroups);
      return log.commitOffsets(key.groupId, [{ topic: key.topic, partition: key.partition, offset: i }]);
    });
    const topicNames = Array.from({ length: smallTopics }, (_, i) => `topic-${i}`);
    const offsetKeys = Array.from({ length: smallOffsets }, (_, i) => offsetKeyAt(i, smallGroups));
    const measurePoint = (label: string, topicKeys: string[], offsets: OffsetKey[]): void => {
      const topicMap = new Map(log.listTopics().map((topic) => [topic.name, topic]));
      const offsetMap = new Map<string, unknown>();
      for (const key of offsets) offsetMap.set(`${key.groupId}\u0000${key.topic}\u0000${key.partition}`, log.fetchOffset(key.groupId, key.topic, key.partition));
      const mapTopicRate = lookupsPerSecond(topicKeys, sizes.lookups, (name) => topicMap.get(name));
      const topicRate = lookupsPerSecond(topicKeys, sizes.lookups, (name) => log.getTopic(name));
      const mapOffsetRate = lookupsPerSecond(offsets, sizes.lookups, (k) => offsetMap.get(`${k.groupId}\u0000${k.topic}\u0000${k.partition}`));
      const offsetRate = lookupsPerSecond(offsets, sizes.lookups, (k) => log.fetchOffset(k.groupId, k.topic, k.partition));
      rows.push(
        { workload: `getTopic, ${label}`, metric: 'lookups/s', value: topicRate, unit: 'ops/s', baseline: { name: 'plain Map', value: mapTopicRate }, higherIsBetter: true },
        { workload: `fetchOffset, ${label}`, metric: 'lookups/s', value: offsetRate, unit: 'ops/s', baseline: { name: 'Map, composite key', value: mapOffsetRate }, higherIsBetter: true },
      );
    };
    measurePoint(`${count(smallTopics)} topics / ${count(smallOffsets)} offsets`, topicNames, offsetKeys);

    const listStarted = performance.now();
    const listedSync = log.listTopics();
    const listSyncMs = performance.now() - listStarted;
    const readers = log.readers;
    await readers.listTopicNames();
    const poolListStarted = performance.now();
    const listedPool = await readers.listTopics();
    const listPoolMs = performance.now() - poolListStarted;
    check(listedSync.length === smallTopics && listedPool.length === smallTopics, 'listTopics lists every topic');
    rows.push({ workload: `listTopics of ${count(smallTopics)} topics, reader pool`, metric: 'time', value: listPoolMs, unit: 'ms', baseline: { name: 'same list on this thread', value: listSyncMs }, higherIsBetter: false });
    const pool = await poolRates(log, topicNames, offsetKeys, Math.max(20, Math.floor(sizes.lookups / 2500)));
    rows.push(
      { workload: 'reader pool, getTopics in batches of 500', metric: 'lookups/s', value: pool.topicsPerSecond, unit: 'ops/s', higherIsBetter: true, note: '2 pool threads, 8 queries in flight' },
      { workload: 'reader pool, fetchOffsetBatch in batches of 500', metric: 'lookups/s', value: pool.offsetsPerSecond, unit: 'ops/s', higherIsBetter: true, note: '2 pool threads, 8 queries in flight' },
    );

    const mixed = await mixedLoad(log, topicNames, offsetKeys, sizes.lookups >= 5_000_000 ? 10 : 4);
    rows.push(
      { workload: 'mixed load: reads on the broker thread while commits run', metric: 'read p99', value: mixed.p99, unit: 'µs', higherIsBetter: false, note: `${count(Math.round(mixed.readRate))} reads/s beside ${count(Math.round(mixed.writeRate))} commits/s; p50 ${mixed.p50.toFixed(1)} µs, max ${Math.round(mixed.max)} µs` },
    );
    check(mixed.readRate >= 100_000, `the mixed load reads at least 100,000/s (${Math.round(mixed.readRate)})`);

    // The full size: memory per topic and per offset, and point reads over the whole index.
    await createTopics(smallTopics, sizes.topics);
    const heapTopics = heapUsedAfterGc();
    const groups = Math.max(1, Math.floor(sizes.offsets / 60));
    await drive(
      sizes.offsets,
      256,
      (i) => {
        const key = offsetKeyAt(i, groups);
        return log.commitOffsets(`big-${key.groupId}`, [{ topic: key.topic, partition: key.partition, offset: i }]);
      },
      'reads: committing offsets',
    );
    const offsetCount = log.indexStats().offsets.entries;
    check(offsetCount === smallOffsets + Math.min(sizes.offsets, groups * 60), `distinct offsets stored (${offsetCount})`);
    const allTopics = Array.from({ length: sizes.topics }, (_, i) => `topic-${i}`);
    const bigOffsets = Array.from({ length: Math.min(sizes.offsets, groups * 60) }, (_, i) => ({ ...offsetKeyAt(i, groups), groupId: `big-${offsetKeyAt(i, groups).groupId}` }));
    if (sizes.topics > smallTopics) measurePoint(`${count(sizes.topics)} topics / ${count(offsetCount)} offsets`, allTopics, bigOffsets);
    rows.push(
      { workload: `index memory, ${count(sizes.topics)} topics × 6 partitions`, metric: 'per topic', value: topicTableBytes(log) / sizes.topics, unit: 'B', higherIsBetter: false, note: 'slot tables + arena blocks of the topic table' },
      { workload: `index memory, ${count(offsetCount)} committed offsets`, metric: 'per offset', value: offsetTableBytes(log) / offsetCount, unit: 'B', higherIsBetter: false, note: 'offset table + groups\u2019 offset directories' },
      {
        workload: `caller-thread heap, ${count(sizes.topics)} topics`,
        metric: 'per topic',
        value: (heapTopics - heapBefore) / sizes.topics,
        unit: 'B',
        higherIsBetter: false,
        note: gc === undefined ? 'no --expose-gc: includes garbage' : 'after GC; the decoded-topic cache of what was read',
      },
    );
    await log.close();
    return rows;
  } finally {
    cleanup();
  }
}
