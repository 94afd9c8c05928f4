/**
 * `log.history(filter)`: committed events read back from the WAL on the reader pool, while the store is
 * open and writing, filtered by type, offsets, time and the entity they changed.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { firstOffsetFromTime } from '../../src/history/time-index.js';
import { ManualClock } from '../../src/clock.js';
import { MetaLogError } from '../../src/errors.js';
import { storageFor } from '../../src/wal/storage.js';
import { openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

test('history by entity, type, offset and time, read while the store writes', async (t) => {
  const clock = new ManualClock(1_000_000);
  const log = await openStore(t, { dir: tmpDir(t), readerThreads: 1 }, { clock });
  await log.registerBroker({ brokerId: 1, host: 'b1', port: 9092, rack: null, brokerEpoch: 1 });
  await log.createTopic({ name: 'orders', partitions: 2 });
  await log.createTopic({ name: 'other', partitions: 1 });
  await log.alterTopicConfigs('orders', { set: { 'retention.ms': '1000' } });
  const beforeCommits = clock.advance(10);
  await log.commitOffsets('billing', [{ topic: 'orders', partition: 1, offset: 5 }]);
  await log.commitOffsets('billing', [{ topic: 'other', partition: 0, offset: 9 }]);
  await log.updateWatermarks('orders', 0, { highWatermark: 100 });
  await log.deleteTopic('orders');

  const orders = await log.history({ entity: { topic: 'orders' } });
  t.deepEqual(orders.map((event) => event.type), ['TopicCreated', 'TopicConfigsAltered', 'OffsetsCommitted', 'WatermarksUpdated', 'TopicDeleted']);
  t.true(orders.every((event, i) => i === 0 || event.offset > orders[i - 1].offset), 'oldest first');
  t.deepEqual((await log.history({ entity: { group: 'billing' } })).map((event) => event.offset), [4, 5]);
  t.deepEqual((await log.history({ entity: { broker: 1 } })).map((event) => event.type), ['BrokerRegistered']);
  t.deepEqual((await log.history({ types: ['TopicCreated'] })).map((event) => event.type === 'TopicCreated' && event.value.name), ['orders', 'other']);
  t.deepEqual((await log.history({ fromOffset: 2, toOffset: 3 })).map((event) => event.offset), [2, 3]);
  t.deepEqual((await log.history({ limit: 2 })).map((event) => event.offset), [0, 1]);
  const sinceCommits = await log.history({ fromTime: beforeCommits });
  t.deepEqual(sinceCommits.map((event) => event.offset), [4, 5, 6, 7]);
  t.true(sinceCommits.every((event) => event.timestampMs === beforeCommits));

  // Read while writes keep coming: every event returned is whole and in order, up to what was written.
  const writes = Array.from({ length: 200 }, (_, i) => log.commitOffsets('busy', [{ topic: 'other', partition: 0, offset: i }]));
  const during = await log.history({ entity: { group: 'busy' } });
  await Promise.all(writes);
  t.true(during.every((event, i) => event.type === 'OffsetsCommitted' && event.value.entries[0].offset === i));
  t.is((await log.history({ entity: { group: 'busy' } })).length, 200);

  await t.throwsAsync(log.history({ fromOffset: -1 }), { instanceOf: MetaLogError, message: /fromOffset/ });
  await t.throwsAsync(log.history({ entity: { topic: 'a', group: 'b' } as never }), { instanceOf: MetaLogError, message: /entity/ });
});

test('stateAt an offset or a time: the fold of the log up to there', async (t) => {
  const clock = new ManualClock(1_000_000);
  const log = await openStore(t, { dir: tmpDir(t), readerThreads: 1 }, { clock });
  await log.createTopic({ name: 'a', partitions: 1 });
  await log.commitOffsets('g', [{ topic: 'a', partition: 0, offset: 5 }]);
  const afterFirstCommit = log.lastOffset;
  const between = clock.advance(20);
  clock.advance(20);
  await log.commitOffsets('g', [{ topic: 'a', partition: 0, offset: 9 }]);
  await log.createTopic({ name: 'b', partitions: 2 });

  const early = await log.stateAt({ offset: afterFirstCommit });
  t.is(early.offset, afterFirstCommit);
  t.deepEqual(early.topics.map((topic) => topic.name), ['a']);
  t.deepEqual(early.offsets.map((o) => [o.groupId, o.topic, o.partition, o.offset]), [['g', 'a', 0, 5]]);
  const byTime = await log.stateAt({ time: between });
  t.is(byTime.offset, afterFirstCommit, 'everything committed by then, nothing after');
  const now = await log.stateAt({ offset: log.lastOffset });
  t.deepEqual(now.topics.map((topic) => topic.name), ['a', 'b']);
  t.deepEqual(now.topics, log.listTopics());
  t.is(now.offsets[0].offset, 9);
  await t.throwsAsync(log.stateAt({ offset: log.lastOffset + 1 }), { instanceOf: MetaLogError, message: /past the log/ });
  await t.throwsAsync(log.stateAt({ offset: -1 }), { instanceOf: MetaLogError, message: /offset/ });
});

test('history by time skips the segments wholly before it, and pages through a long log without rereading it', async (t) => {
  const dir = tmpDir(t);
  const clock = new ManualClock(1_000_000);
  const log = await openStore(t, { dir, segmentBytes: 64 * 1024, readerThreads: 1 }, { clock });
  await log.createTopic({ name: 't', partitions: 2 });
  const marks: number[] = [];
  for (let round = 0; round < 6; round++) {
    marks.push(clock.advance(3));
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.commitOffsets('g', [{ topic: 't', partition: i % 2, offset: round * 1000 + i, metadata: 'x'.repeat(60) }])));
  }
  const walDir = path.join(dir, 'wal');
  t.true(fs.readdirSync(walDir).filter((name) => name.endsWith('.log')).length >= 3, 'the log has several segments');
  const all = await log.history({ limit: 100_000 });
  for (const mark of marks) {
    const expected = all.filter((event) => event.timestampMs >= mark).map((event) => event.offset);
    t.deepEqual((await log.history({ fromTime: mark, limit: 100_000 })).map((event) => event.offset), expected);
  }
  t.true(firstOffsetFromTime(walDir, marks[5], storageFor()) > 0, 'a late time starts past the first segment');
  t.is(firstOffsetFromTime(walDir, 0, storageFor()), 0);
  // Paging: each page starts where the last ended, and together they are the whole log.
  const paged: number[] = [];
  for (let from = 0; ; ) {
    const page = await log.history({ fromOffset: from, limit: 250 });
    paged.push(...page.map((event) => event.offset));
    if (page.length < 250) break;
    from = (page.at(-1)?.offset ?? 0) + 1;
  }
  t.deepEqual(paged, all.map((event) => event.offset));
});
