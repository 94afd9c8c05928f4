/**
 * Brokers, replica assignment, topic changes and partition leadership, end to end: each rule with good
 * input, each error code with bad input (and the state unchanged after it), and everything kept across
 * a restart.
 */
import test from 'ava';
import type { MetaLog } from '../../src/api/metalog.js';
import { rejectsWith } from '../helpers/reject.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

async function withBrokers(log: MetaLog, ids: number[]): Promise<void> {
  for (const id of ids) await log.registerBroker({ brokerId: id, host: `b${id}.local`, port: 9092, rack: `r${id % 2}`, brokerEpoch: 1 });
}

test('replicas are spread over online brokers; leaders rotate; fenced brokers get none', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await withBrokers(log, [1, 2, 3]);
  const topic = await log.createTopic({ name: 'orders', partitions: 6, replicationFactor: 3 });
  for (const partition of topic.partitions) {
    t.deepEqual([...partition.replicas].sort(), [1, 2, 3]);
    t.is(partition.leader, partition.replicas[0]);
    t.deepEqual(partition.isr, partition.replicas);
  }
  const leaders = topic.partitions.map((p) => p.leader);
  for (const id of [1, 2, 3]) t.is(leaders.filter((leader) => leader === id).length, 2, `broker ${id} leads two partitions`);

  await rejectsWith(t, log, log.createTopic({ name: 'too-wide', partitions: 1, replicationFactor: 4 }), 'INVALID_REPLICATION_FACTOR', 38);
  await log.setBrokerStatus(3, 'FENCED');
  t.is(log.getBroker(3)?.status, 'FENCED');
  await rejectsWith(t, log, log.createTopic({ name: 'three', partitions: 1, replicationFactor: 3 }), 'INVALID_REPLICATION_FACTOR', 38);
  const two = await log.createTopic({ name: 'two', partitions: 4, replicationFactor: 2 });
  for (const partition of two.partitions) t.deepEqual([...partition.replicas].sort(), [1, 2]);
});

test('explicit assignments are checked against registered brokers', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await withBrokers(log, [1, 2, 3]);
  const topic = await log.createTopic({ name: 'pinned', assignments: [[3, 1], [2, 3]] });
  t.is(topic.replicationFactor, 2);
  t.deepEqual(topic.partitions.map((p) => [p.leader, [...p.replicas]]), [[3, [3, 1]], [2, [2, 3]]]);
  await rejectsWith(t, log, log.createTopic({ name: 'ghost', assignments: [[1, 9]] }), 'INVALID_REPLICA_ASSIGNMENT', 39);
  await rejectsWith(t, log, log.createTopic({ name: 'twice', assignments: [[1, 1]] }), 'INVALID_REPLICA_ASSIGNMENT', 39);
  await rejectsWith(t, log, log.createTopic({ name: 'uneven', assignments: [[1, 2], [3]] }), 'INVALID_REPLICA_ASSIGNMENT', 39);
  await rejectsWith(t, log, log.createTopic({ name: 'mismatch', partitions: 3, assignments: [[1], [2]] }), 'INVALID_PARTITIONS', 37);
});

test('brokers: re-registration needs a higher epoch; status and unregister need a registered broker', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  const broker = await log.registerBroker({ brokerId: 7, host: 'old.local', port: 9092, brokerEpoch: 5 });
  t.deepEqual({ ...broker }, { brokerId: 7, host: 'old.local', port: 9092, rack: null, brokerEpoch: 5, status: 'ONLINE' });
  await rejectsWith(t, log, log.registerBroker({ brokerId: 7, host: 'zombie.local', port: 9092, brokerEpoch: 5 }), 'STALE_BROKER_EPOCH', 77);
  await rejectsWith(t, log, log.registerBroker({ brokerId: 7, host: 'zombie.local', port: 9092, brokerEpoch: 4 }), 'STALE_BROKER_EPOCH', 77);
  await log.setBrokerStatus(7, 'MAINTENANCE');
  const again = await log.registerBroker({ brokerId: 7, host: 'new.local', port: 9093, rack: 'a', brokerEpoch: 6 });
  t.is(again.host, 'new.local');
  t.is(again.status, 'ONLINE', 'a new incarnation starts online');
  await rejectsWith(t, log, log.setBrokerStatus(8, 'FENCED'), 'BROKER_ID_NOT_REGISTERED', 102);
  await rejectsWith(t, log, log.setBrokerStatus(7, 'ASLEEP' as never), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log, log.registerBroker({ brokerId: -1, host: 'x', port: 1, brokerEpoch: 0 }), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log, log.registerBroker({ brokerId: 1, host: '', port: 1, brokerEpoch: 0 }), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log, log.registerBroker({ brokerId: 1, host: 'h', port: 70000, brokerEpoch: 0 }), 'INVALID_REQUEST', 42);
  await log.registerBroker({ brokerId: 1, host: 'one.local', port: 9092, brokerEpoch: 0 });
  t.deepEqual(log.listBrokers().map((b) => b.brokerId), [1, 7]);
  await log.unregisterBroker(7);
  t.is(log.getBroker(7), undefined);
  await rejectsWith(t, log, log.unregisterBroker(7), 'BROKER_ID_NOT_REGISTERED', 102);
});

test('alterTopicConfigs sets and removes validated keys', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 't', partitions: 1, configs: { 'retention.ms': '1000', 'cleanup.policy': 'delete' } });
  const topic = await log.alterTopicConfigs('t', { set: { 'retention.ms': '2000', 'min.insync.replicas': '2' }, delete: ['cleanup.policy'] });
  t.deepEqual({ ...topic.configs }, { 'retention.ms': '2000', 'min.insync.replicas': '2' });
  await rejectsWith(t, log, log.alterTopicConfigs('t', { set: { 'retention.msx': '1' } }), 'INVALID_CONFIG', 40);
  await rejectsWith(t, log, log.alterTopicConfigs('t', { set: { 'min.insync.replicas': '0' } }), 'INVALID_CONFIG', 40);
  await rejectsWith(t, log, log.alterTopicConfigs('t', { delete: ['nope'] }), 'INVALID_CONFIG', 40);
  await rejectsWith(t, log, log.alterTopicConfigs('missing', { set: { 'retention.ms': '1' } }), 'UNKNOWN_TOPIC_OR_PARTITION', 3);
});

test('createPartitions only grows a topic, and assigns the new partitions', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await withBrokers(log, [1, 2]);
  await log.createTopic({ name: 't', partitions: 2, replicationFactor: 2 });
  const grown = await log.createPartitions('t', 5);
  t.deepEqual(grown.partitions.map((p) => p.partition), [0, 1, 2, 3, 4]);
  for (const partition of grown.partitions) t.is(partition.replicas.length, 2);
  await rejectsWith(t, log, log.createPartitions('t', 5), 'INVALID_PARTITIONS', 37);
  await rejectsWith(t, log, log.createPartitions('t', 3), 'INVALID_PARTITIONS', 37);
  await rejectsWith(t, log, log.createPartitions('t', 7, [[1, 2]]), 'INVALID_REPLICA_ASSIGNMENT', 39);
  const pinned = await log.createPartitions('t', 6, [[2, 1]]);
  t.deepEqual([...(pinned.partitions[5].replicas)], [2, 1]);
  await rejectsWith(t, log, log.createPartitions('missing', 2), 'UNKNOWN_TOPIC_OR_PARTITION', 3);
});

test('changePartition: epochs, fencing by partition epoch, ISR and leader rules, reassignment', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await withBrokers(log, [1, 2, 3, 4]);
  await log.createTopic({ name: 't', assignments: [[1, 2, 3]] });
  let state = await log.changePartition('t', 0, { expectedPartitionEpoch: 0, leader: 1, isr: [1, 2] });
  t.deepEqual({ ...state, replicas: [...state.replicas], isr: [...state.isr] }, { partition: 0, leader: 1, replicas: [1, 2, 3], isr: [1, 2], leaderEpoch: 0, partitionEpoch: 1 });
  state = await log.changePartition('t', 0, { expectedPartitionEpoch: 1, leader: 2, isr: [2] });
  t.is(state.leaderEpoch, 1, 'a new leader bumps the leader epoch');
  t.is(state.partitionEpoch, 2);
  await rejectsWith(t, log, log.changePartition('t', 0, { expectedPartitionEpoch: 1, leader: 2, isr: [2, 3] }), 'INVALID_UPDATE_VERSION', 95);
  await rejectsWith(t, log, log.changePartition('t', 0, { expectedPartitionEpoch: 2, leader: 3, isr: [2] }), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log, log.changePartition('t', 0, { expectedPartitionEpoch: 2, leader: 2, isr: [2, 4] }), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log, log.changePartition('t', 0, { expectedPartitionEpoch: 2, leader: 2, isr: [2], replicas: [2, 9] }), 'INVALID_REPLICA_ASSIGNMENT', 39);
  await rejectsWith(t, log, log.changePartition('t', 1, { expectedPartitionEpoch: 0, leader: 1, isr: [1] }), 'UNKNOWN_TOPIC_OR_PARTITION', 3);
  state = await log.changePartition('t', 0, { expectedPartitionEpoch: 2, leader: 2, isr: [2, 4], replicas: [2, 3, 4] });
  t.deepEqual([...state.replicas], [2, 3, 4]);
  t.is(state.leaderEpoch, 1, 'same leader: same leader epoch');
  t.is(log.getPartition('t', 0), state);
  state = await log.changePartition('t', 0, { expectedPartitionEpoch: 3, leader: -1, isr: [] });
  t.is(state.leader, -1);
  t.is(state.leaderEpoch, 2);
});

test('deleteTopic removes the topic and its offsets at once; a new topic of that name starts clean', async (t) => {
  const dir = tmpDir(t);
  let log = await openStore(t, { dir });
  const first = await log.createTopic({ name: 't', partitions: 2 });
  await log.createTopic({ name: 'kept', partitions: 1 });
  await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 5 }, { topic: 'kept', partition: 0, offset: 9 }]);
  await log.commitOffsets('only-t', [{ topic: 't', partition: 1, offset: 3 }]);
  await log.deleteTopic('t');
  t.is(log.getTopic('t'), undefined);
  t.is(log.fetchOffset('g', 't', 0), undefined);
  t.is(log.fetchOffset('only-t', 't', 1), undefined);
  t.is(log.fetchOffset('g', 'kept', 0)?.offset, 9);
  await rejectsWith(t, log, log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 6 }]), 'UNKNOWN_TOPIC_OR_PARTITION', 3);
  await rejectsWith(t, log, log.deleteTopic('t'), 'UNKNOWN_TOPIC_OR_PARTITION', 3);
  const second = await log.createTopic({ name: 't', partitions: 1 });
  t.not(second.topicId, first.topicId);
  t.is(log.fetchOffset('g', 't', 0), undefined);
  const served = log.canonicalState();
  await closeAndVerify(log);
  log = await openStore(t, { dir });
  t.is(log.canonicalState(), served, 'a restart folds to the same state');
  t.deepEqual(log.listTopics().map((topic) => topic.name), ['kept', 't']);
});

test('brokers, assignments and partition changes survive a restart', async (t) => {
  const dir = tmpDir(t);
  let log = await openStore(t, { dir });
  await withBrokers(log, [1, 2, 3]);
  await log.setBrokerStatus(2, 'MAINTENANCE');
  const topic = await log.createTopic({ name: 't', partitions: 3, replicationFactor: 2, configs: { 'segment.bytes': '1048576' } });
  await log.changePartition('t', 1, { expectedPartitionEpoch: 0, leader: topic.partitions[1].replicas[1], isr: [topic.partitions[1].replicas[1]] });
  const served = log.canonicalState();
  await closeAndVerify(log);
  log = await openStore(t, { dir });
  t.is(log.canonicalState(), served);
  t.is(log.getBroker(2)?.status, 'MAINTENANCE');
  t.is(log.getPartition('t', 1)?.partitionEpoch, 1);
});
