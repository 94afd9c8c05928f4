/**
 * The bound on decoded values (`decodedCacheEntries`): with a cache far smaller than the store, every
 * read still answers the current value (point reads that evict, scans that cannot keep what they
 * decode, pool lists that rely on what this handle holds, values replaced and deleted between reads),
 * and a cache of 0 keeps nothing and still answers. How: the same reads on a store opened with each
 * bound, compared with what the writes say the state is.
 */
import test from 'ava';
import { openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

const TOPICS = 40;

for (const decodedCacheEntries of [0, 1, 5]) {
  test(`reads answer the current state with decodedCacheEntries ${decodedCacheEntries}`, async (t) => {
    const log = await openStore(t, { dir: tmpDir(t), durability: 'none', readerThreads: 1, decodedCacheEntries });
    const names = Array.from({ length: TOPICS }, (_, i) => `topic-${String(i).padStart(2, '0')}`);
    for (const [i, name] of names.entries()) await log.createTopic({ name, partitions: 1 + (i % 3), configs: { 'retention.ms': String(1000 + i) } });
    // Point reads in an order that keeps evicting (a stride through all topics, twice).
    for (let n = 0; n < 2 * TOPICS; n++) {
      const i = (n * 7) % TOPICS;
      const topic = log.getTopic(names[i]);
      t.is(topic?.name, names[i]);
      t.is(topic?.partitions.length, 1 + (i % 3));
      t.is(topic?.configs['retention.ms'], String(1000 + i));
    }
    // Replaced and deleted values are never served from the cache.
    await log.alterTopicConfigs(names[3], { set: { 'retention.ms': '77' } });
    await log.deleteTopic(names[4]);
    t.is(log.getTopic(names[3])?.configs['retention.ms'], '77');
    t.is(log.getTopic(names[4]), undefined);
    const expected = names.filter((_, i) => i !== 4);
    // A synchronous list, then lists through the pool (which skip what this handle holds), then again.
    t.deepEqual(log.listTopics().map((topic) => topic.name), expected);
    for (let round = 0; round < 2; round++) {
      const listed = await log.readers.listTopics();
      t.deepEqual(listed.map((topic) => topic.name), expected);
      t.is(listed.find((topic) => topic.name === names[3])?.configs['retention.ms'], '77');
      for (let n = 0; n < TOPICS; n++) log.getTopic(names[(n * 11) % TOPICS]);
    }
    const found = await log.readers.getTopics([names[0], names[4], names[39]]);
    t.deepEqual(found.map((topic) => topic?.name ?? null), [names[0], null, names[39]]);
  });
}
