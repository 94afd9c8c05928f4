/**
 * Committed offsets are keyed by group and topic numbers that readers cache. A number is retired when
 * its topic is deleted or its group loses its last offset, and a name used again gets a new one: these
 * tests read through warm caches across such changes, on the writer's thread and on an attached handle.
 */
import test from 'ava';
import { MetaLog } from '../../src/api/metalog.js';
import { openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

test('a topic deleted and created again: cached numbers never serve the old offsets or hide the new ones', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t), durability: 'none' });
  const other = MetaLog.attach(log.handle);
  t.teardown(() => other.close());
  await log.createTopic({ name: 'orders', partitions: 2 });
  await log.createTopic({ name: 'kept', partitions: 1 });
  await log.commitOffsets('g', [{ topic: 'orders', partition: 1, offset: 10 }, { topic: 'kept', partition: 0, offset: 5 }]);
  for (const reader of [log, other]) t.is(reader.fetchOffset('g', 'orders', 1)?.offset, 10);
  await log.deleteTopic('orders');
  for (const reader of [log, other]) {
    t.is(reader.fetchOffset('g', 'orders', 1), undefined);
    t.is(reader.fetchOffset('g', 'kept', 0)?.offset, 5, 'the group keeps its number while it has offsets');
  }
  await log.createTopic({ name: 'orders', partitions: 2 });
  for (const reader of [log, other]) t.is(reader.fetchOffset('g', 'orders', 1), undefined, 'a new topic starts without offsets');
  await log.commitOffsets('g', [{ topic: 'orders', partition: 1, offset: 3 }]);
  for (const reader of [log, other]) {
    t.is(reader.fetchOffset('g', 'orders', 1)?.offset, 3);
    t.deepEqual(reader.fetchOffsets('g').map((o) => [o.topic, o.partition, o.offset]), [['kept', 0, 5], ['orders', 1, 3]]);
  }
  t.deepEqual((await log.readers.fetchOffsetBatch([{ groupId: 'g', topic: 'orders', partition: 1 }]))[0]?.offset, 3);
});

test('a group that lost its offsets and commits again is read correctly through warm caches', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t), durability: 'none' });
  const other = MetaLog.attach(log.handle);
  t.teardown(() => other.close());
  await log.createTopic({ name: 'a', partitions: 3 });
  for (let round = 0; round < 5; round++) {
    await log.commitOffsets('g', [0, 1, 2].map((partition) => ({ topic: 'a', partition, offset: 100 * round + partition })));
    for (const reader of [log, other]) t.is(reader.fetchOffset('g', 'a', 2)?.offset, 100 * round + 2);
    if (round % 2 === 0) await log.deleteGroup('g');
    else await log.deleteOffsets('g', [0, 1, 2].map((partition) => ({ topic: 'a', partition })));
    for (const reader of [log, other]) {
      t.is(reader.fetchOffset('g', 'a', 2), undefined);
      t.deepEqual(reader.fetchOffsets('g'), []);
    }
  }
  await log.commitOffsets('h', [{ topic: 'a', partition: 0, offset: 1 }]);
  for (const reader of [log, other]) t.is(reader.fetchOffset('h', 'a', 0)?.offset, 1);
  t.is(log.fetchOffset('h', 'a', 70_000), undefined, 'a partition no topic can have');
});

test('replay keeps offset changes in log order: a commit after a group delete survives a reopen', async (t) => {
  const dir = tmpDir(t);
  let log = await openStore(t, { dir, durability: 'none' });
  await log.createTopic({ name: 'a', partitions: 2 });
  await log.commitOffsets('g', [{ topic: 'a', partition: 0, offset: 1 }, { topic: 'a', partition: 1, offset: 1 }]);
  await log.deleteGroup('g');
  await log.commitOffsets('g', [{ topic: 'a', partition: 1, offset: 2 }]);
  await log.deleteOffsets('g', [{ topic: 'a', partition: 1 }]);
  await log.commitOffsets('g', [{ topic: 'a', partition: 0, offset: 3 }]);
  await log.deleteTopic('a');
  await log.createTopic({ name: 'a', partitions: 2 });
  await log.commitOffsets('g', [{ topic: 'a', partition: 1, offset: 4 }]);
  const served = log.canonicalState();
  await log.close();
  log = await openStore(t, { dir, durability: 'none' });
  t.is(log.canonicalState(), served);
  t.deepEqual(log.fetchOffsets('g').map((o) => [o.topic, o.partition, o.offset]), [['a', 1, 4]]);
});
