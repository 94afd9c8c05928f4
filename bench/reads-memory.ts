/**
 * Synchronous point reads on the caller's thread and the memory the state takes, today served from the
 * handle's own fold (plain Maps). Baseline from the same run: one plain Map holding the same number of
 * entries, read with the same keys (the limit for any in-process read; offsets keyed by one composite
 * string, as a broker without the store might). Memory is the caller thread's heap growth per
 * topic (6 partitions) and per committed offset, measured after a forced GC (node --expose-gc).
 */
import { MetaLog } from '../src/api/metalog.js';
import { drive } from './drive.js';
import { benchDir, check, type BenchRow } from './lib.js';

const gc = (globalThis as { gc?: () => void }).gc;

function heapUsedAfterGc(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}

/** Lookups per second of `read` over `keys`, in a tight loop (the JIT sees the same call shape as a broker's). */
function lookupsPerSecond<K>(keys: K[], lookups: number, read: (key: K) => unknown): number {
  let found = 0;
  const started = performance.now();
  for (let i = 0; i < lookups; i++) if (read(keys[(i * 7919) % keys.length]) !== undefined) found++;
  const seconds = (performance.now() - started) / 1000;
  check(found === lookups, `every lookup finds its key (${found} of ${lookups})`);
  return lookups / seconds;
}

export async function benchReadsAndMemory(sizes: { topics: number; offsets: number; lookups: number }): Promise<BenchRow[]> {
  const { dir, cleanup } = benchDir('reads');
  try {
    const log = await MetaLog.open({ dir, durability: 'none' });
    const heapBefore = heapUsedAfterGc();
    await drive(sizes.topics, 256, (i) => log.createTopic({ name: `topic-${i}`, partitions: 6, configs: { 'retention.ms': '604800000' } }));
    const heapTopics = heapUsedAfterGc();
    const groups = Math.max(1, Math.floor(sizes.offsets / (10 * 6)));
    await drive(sizes.offsets, 256, (i) =>
      log.commitOffsets(`group-${i % groups}`, [{ topic: `topic-${Math.floor(i / groups) % 10}`, partition: Math.floor(i / (groups * 10)) % 6, offset: i }]),
    );
    const heapOffsets = heapUsedAfterGc();
    const offsetCount = log.indexStats().offsets.entries;
    check(offsetCount === Math.min(sizes.offsets, groups * 60), `distinct offsets stored (${offsetCount})`);

    const topicNames = Array.from({ length: Math.min(sizes.topics, 10_000) }, (_, i) => `topic-${i}`);
    const offsetKeys = Array.from({ length: Math.min(offsetCount, 12_000) }, (_, i) => ({ group: `group-${i % groups}`, topic: `topic-${Math.floor(i / groups) % 10}`, partition: Math.floor(i / (groups * 10)) % 6 }));
    // Baselines hold every entry the store holds (a map's size decides its cache behaviour), keyed as a
    // broker without the store would key them.
    const topicMap = new Map(log.listTopics().map((topic) => [topic.name, topic]));
    const offsetMap = new Map<string, unknown>();
    for (let g = 0; g < groups; g++) {
      for (const committed of log.fetchOffsets(`group-${g}`)) offsetMap.set(`group-${g}\u0000${committed.topic}\u0000${committed.partition}`, committed);
    }
    check(topicMap.size === sizes.topics && offsetMap.size === offsetCount, 'baselines hold the same entries as the store');
    const mapTopicRate = lookupsPerSecond(topicNames, sizes.lookups, (name) => topicMap.get(name));
    const topicRate = lookupsPerSecond(topicNames, sizes.lookups, (name) => log.getTopic(name));
    const mapOffsetRate = lookupsPerSecond(offsetKeys, sizes.lookups, (k) => offsetMap.get(`${k.group}\u0000${k.topic}\u0000${k.partition}`));
    const offsetRate = lookupsPerSecond(offsetKeys, sizes.lookups, (k) => log.fetchOffset(k.group, k.topic, k.partition));
    await log.close();
    const perTopic = (heapTopics - heapBefore) / sizes.topics;
    const perOffset = (heapOffsets - heapTopics) / offsetCount;
    const gcNote = gc === undefined ? 'no --expose-gc: heap figures include garbage' : 'heap after GC, caller thread';
    return [
      { workload: `getTopic over ${topicNames.length.toLocaleString('en-US')} topics`, metric: 'lookups/s', value: topicRate, unit: 'ops/s', baseline: { name: 'plain Map', value: mapTopicRate }, higherIsBetter: true },
      { workload: `fetchOffset over ${offsetKeys.length.toLocaleString('en-US')} offsets`, metric: 'lookups/s', value: offsetRate, unit: 'ops/s', baseline: { name: 'Map, composite key', value: mapOffsetRate }, higherIsBetter: true },
      { workload: `memory, ${sizes.topics.toLocaleString('en-US')} topics × 6 partitions`, metric: 'per topic', value: perTopic, unit: 'B', higherIsBetter: false, note: gcNote },
      { workload: `memory, ${offsetCount.toLocaleString('en-US')} offsets`, metric: 'per offset', value: perOffset, unit: 'B', higherIsBetter: false, note: gcNote },
    ];
  } finally {
    cleanup();
  }
}
