/**
 * The broker's admin APIs driven by kafkajs's admin client, unmodified: topics (create twice, defaults,
 * partitions, delete, re-create), cluster identity across a restart, configs described and written back.
 */
import test from 'ava';
import { startBroker } from '../../helpers/kafka-broker.js';

test('createTopics answers true, then false for the same name; -1 partitions and replication mean the defaults', async (t) => {
  const { kafka } = await startBroker(t, { 'num.partitions': '3' });
  const admin = kafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  t.true(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }] }));
  t.false(await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 2 }] }));
  t.true(await admin.createTopics({ topics: [{ topic: 'defaults', numPartitions: -1, replicationFactor: -1 }] }));
  const metadata = await admin.fetchTopicMetadata({ topics: ['orders', 'defaults'] });
  const partitionsOf = (name: string) => metadata.topics.find((topic) => topic.name === name)!.partitions;
  t.is(partitionsOf('orders').length, 2);
  t.is(partitionsOf('defaults').length, 3);
  for (const partition of partitionsOf('defaults')) t.deepEqual(partition.replicas, [1]);
  t.deepEqual((await admin.listTopics()).sort(), ['defaults', 'orders']);
});

test('createPartitions grows a topic and answers INVALID_PARTITIONS (37) for fewer', async (t) => {
  const { kafka } = await startBroker(t);
  const admin = kafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'grow', numPartitions: 2 }] });
  await admin.createPartitions({ topicPartitions: [{ topic: 'grow', count: 4 }] });
  t.is((await admin.fetchTopicMetadata({ topics: ['grow'] })).topics[0]!.partitions.length, 4);
  const error = await t.throwsAsync(admin.createPartitions({ topicPartitions: [{ topic: 'grow', count: 3 }] }));
  t.is((error as { errors?: { type: string }[] }).errors?.[0]?.type ?? (error as { type?: string }).type, 'INVALID_PARTITIONS');
});

test('deleteTopics removes a topic; a re-created one has a new id and an empty log', async (t) => {
  const { kafka, broker } = await startBroker(t);
  const admin = kafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'again', numPartitions: 1 }] });
  const firstId = broker.store.getTopic('again')!.topicId;
  const producer = kafka().producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  await producer.send({ topic: 'again', acks: -1, messages: [{ value: 'old' }, { value: 'bytes' }] });
  t.is((await admin.fetchTopicOffsets('again'))[0]!.high, '2');
  await admin.deleteTopics({ topics: ['again'] });
  t.deepEqual(await admin.listTopics(), []);
  await admin.createTopics({ topics: [{ topic: 'again', numPartitions: 1 }] });
  t.not(broker.store.getTopic('again')!.topicId, firstId);
  const [offsets] = await admin.fetchTopicOffsets('again');
  t.deepEqual([offsets!.low, offsets!.high], ['0', '0'], 'the re-created topic starts with an empty log');
});

test("describeCluster's clusterId survives a restart, and the broker advertises the address it listens on", async (t) => {
  const first = await startBroker(t);
  const admin = first.kafka().admin();
  await admin.connect();
  const cluster = await admin.describeCluster();
  await admin.disconnect();
  t.is(cluster.brokers.length, 1);
  t.is(`${cluster.brokers[0]!.host}:${cluster.brokers[0]!.port}`, first.address);
  t.regex(cluster.clusterId, /^[A-Za-z0-9_-]{22}$/);
  await first.stop();
  const second = await startBroker(t, {}, first.dir);
  const again = second.kafka().admin();
  await again.connect();
  t.teardown(() => again.disconnect());
  t.is((await again.describeCluster()).clusterId, cluster.clusterId);
  t.is(second.broker.store.getBroker(1)!.brokerEpoch, 2);
});

test('describeConfigs lists every key with its default, and writing the described configs back succeeds', async (t) => {
  const { kafka, broker } = await startBroker(t);
  const admin = kafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'configured', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }] }] });
  const described = await admin.describeConfigs({ resources: [{ type: 2, name: 'configured' }], includeSynonyms: false });
  const entries = described.resources[0]!.configEntries;
  t.true(entries.length >= 20, `${entries.length} keys described`);
  const byName = new Map(entries.map((entry) => [entry.configName, entry]));
  t.is(byName.get('retention.ms')!.configValue, '3600000');
  t.false(byName.get('retention.ms')!.isDefault);
  t.is(byName.get('flush.ms')!.configValue, '9223372036854775807');
  t.true(byName.get('flush.ms')!.isDefault);
  // Writing every described value back, Long.MAX values included, is accepted.
  await admin.alterConfigs({
    validateOnly: false,
    resources: [{ type: 2, name: 'configured', configEntries: entries.filter((entry) => !entry.readOnly).map((entry) => ({ name: entry.configName, value: entry.configValue })) }],
  });
  t.is(broker.store.getTopic('configured')!.configs['retention.ms'], '3600000');
  t.is(broker.store.getTopic('configured')!.configs['flush.ms'], '9223372036854775807');
});

test('at start the broker takes the leadership of partitions that have none, through epoch-fenced partition changes', async (t) => {
  const { MetaLog } = await import('../../../src/index.js');
  const path = await import('node:path');
  const { tmpDir } = await import('../../helpers/tmp.js');
  const dir = tmpDir(t, 'metalog-broker-');
  // A topic made in the store before any broker registered has no leader.
  const store = await MetaLog.open({ dir: path.join(dir, 'metadata') });
  const created = await store.createTopic({ name: 'orphans', partitions: 2 });
  await store.close();
  t.deepEqual(created.partitions.map((partition) => partition.leader), [-1, -1]);
  const { broker, kafka } = await startBroker(t, {}, dir);
  const partitions = broker.store.getTopic('orphans')!.partitions;
  t.deepEqual(partitions.map((partition) => [partition.leader, partition.isr, partition.leaderEpoch, partition.partitionEpoch]), [
    [1, [1], 1, 1],
    [1, [1], 1, 1],
  ]);
  const admin = kafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const metadata = await admin.fetchTopicMetadata({ topics: ['orphans'] });
  t.deepEqual(metadata.topics[0]!.partitions.map((partition) => partition.leader), [1, 1]);
});
