/**
 * The reader pool (`log.readers`): list, describe, scan and batched point queries answered in piscina
 * worker threads from the shared index give what the synchronous reads give, and see every write that
 * resolved before the query was asked.
 */
import test from 'ava';
import type { Group } from '../../src/state/entities.js';
import { MetaLogError } from '../../src/errors.js';
import { openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

/** Structured clone turns Buffers into Uint8Arrays: compare member bytes as plain arrays. */
function plainGroup(group: Group | null): unknown {
  if (group === null) return null;
  return {
    ...group,
    members: group.members.map((member) => ({ ...member, subscription: [...member.subscription], assignment: [...member.assignment] })),
  };
}

test('pool queries answer what the synchronous reads answer', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t), durability: 'none', readerThreads: 2 });
  for (let brokerId = 1; brokerId <= 3; brokerId++) await log.registerBroker({ brokerId, host: `b${brokerId}`, port: 9092, rack: null, brokerEpoch: 1 });
  const creates: Promise<unknown>[] = [];
  for (let i = 0; i < 300; i++) {
    creates.push(log.createTopic({ name: `${i % 2 === 0 ? 'orders' : 'payments'}-${i}`, partitions: 3, replicationFactor: 2, configs: i % 5 === 0 ? { 'cleanup.policy': 'compact' } : {} }));
  }
  await Promise.all(creates);
  for (let g = 0; g < 20; g++) {
    await log.upsertGroup({
      groupId: `group-${g}`,
      state: g % 2 === 0 ? 'Stable' : 'Empty',
      protocolType: 'consumer',
      protocol: g % 2 === 0 ? 'range' : null,
      generation: 1,
      leader: g % 2 === 0 ? 'm' : null,
      members: g % 2 === 0 ? [{ memberId: 'm', clientId: 'c', clientHost: 'h', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, subscription: new Uint8Array([g]), assignment: new Uint8Array([1, 2]) }] : [],
    });
    const membership = g % 2 === 0 ? { generation: 1, memberId: 'm' } : undefined;
    await log.commitOffsets(`group-${g}`, [0, 1, 2].map((partition) => ({ topic: `orders-${g * 2}`, partition, offset: 100 * g + partition, metadata: `g${g}` })), membership);
  }
  await log.addSegment('orders-0', 0, { segmentId: 1, baseOffset: 0, lastOffset: 99, sizeBytes: 4096, recordCount: 100, path: '/data/orders-0/0.log' });
  await log.addSegment('orders-0', 0, { segmentId: 2, baseOffset: 100, lastOffset: 199, sizeBytes: 4096, recordCount: 100, path: '/data/orders-0/100.log' });

  const readers = log.readers;
  t.deepEqual(await readers.listTopics(), log.listTopics());
  t.deepEqual(await readers.listTopicNames(), log.listTopics().map((topic) => topic.name));
  t.deepEqual(await readers.listBrokers(), log.listBrokers());
  t.deepEqual((await readers.listGroups()).map(plainGroup), log.listGroups().map(plainGroup));
  t.deepEqual(
    (await readers.describeGroups(['group-2', 'nobody', 'group-3'])).map(plainGroup),
    [log.getGroup('group-2') ?? null, null, log.getGroup('group-3') ?? null].map(plainGroup),
  );
  t.deepEqual(await readers.fetchOffsets('group-4'), log.fetchOffsets('group-4'));
  t.is((await readers.fetchOffsets('group-4')).length, 3);
  t.deepEqual(await readers.fetchOffsets('nobody'), []);
  t.deepEqual(
    await readers.fetchOffsetBatch([{ groupId: 'group-1', topic: 'orders-2', partition: 2 }, { groupId: 'group-1', topic: 'orders-2', partition: 9 }]),
    [log.fetchOffset('group-1', 'orders-2', 2), null],
  );
  t.deepEqual(await readers.getTopics(['orders-0', 'missing']), [log.getTopic('orders-0'), null]);
  t.deepEqual(await readers.listSegments('orders-0', 0), log.listSegments('orders-0', 0));
  t.is((await readers.listSegments('orders-0', 0)).length, 2);

  const compacted = await readers.scanTopics({ configKey: 'cleanup.policy', configValue: 'compact' });
  t.deepEqual(compacted.map((topic) => topic.name), log.listTopics().filter((topic) => topic.configs['cleanup.policy'] === 'compact').map((topic) => topic.name));
  t.is(compacted.length, 60);
  const payments = await readers.scanTopics({ namePrefix: 'payments-', limit: 10 });
  t.deepEqual(payments.map((topic) => topic.name), log.listTopics().filter((topic) => topic.name.startsWith('payments-')).slice(0, 10).map((topic) => topic.name));
  t.deepEqual((await readers.scanGroups({ states: ['Empty'] })).map((group) => group.groupId), log.listGroups().filter((group) => group.state === 'Empty').map((group) => group.groupId));
  t.deepEqual((await readers.scanGroups({ idPrefix: 'group-1', limit: 3 })).map((group) => group.groupId), ['group-1', 'group-10', 'group-11']);

  // A write that resolved before a query is in its answer, also where the handle had the old value
  // decoded (the pool copies back only topics whose version the handle does not hold).
  await log.alterTopicConfigs('orders-2', { set: { 'retention.ms': '1000' } });
  const relisted = await readers.listTopics();
  t.is(relisted.find((topic) => topic.name === 'orders-2')?.configs['retention.ms'], '1000');
  t.deepEqual(relisted, log.listTopics());
  t.is(relisted.find((topic) => topic.name === 'orders-4'), log.getTopic('orders-4'), 'an unchanged topic is the handle\'s decoded one');
  await log.deleteTopic('orders-0');
  t.false((await readers.listTopicNames()).includes('orders-0'));
  t.deepEqual(await readers.listSegments('orders-0', 0), []);
});

test('the pool rejects queries after close, and a store that never queried starts no pool', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t), durability: 'none', readerThreads: 1 });
  await log.createTopic({ name: 'a', partitions: 1 });
  const readers = log.readers;
  t.is((await readers.listTopics()).length, 1);
  await log.close();
  await t.throwsAsync(readers.listTopics(), { instanceOf: MetaLogError, message: /closed/ });
  t.throws(() => log.readers, { instanceOf: MetaLogError, message: /closed/ });
});
