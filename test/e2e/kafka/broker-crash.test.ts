/**
 * The broker killed with SIGKILL in the middle of consumption, then started again on the same data:
 * topics, configs, high watermarks, committed offsets and groups survive; a consumer of the group resumes
 * exactly at its last commit (nothing read twice past it), and every acknowledged record is there.
 *
 * The broker runs as the CLI in a child process (killed by its own PID); the clients are kafkajs in this
 * process.
 */
import test from 'ava';
import { spawnBroker } from '../../helpers/kafka-broker.js';
import { tmpDir } from '../../helpers/tmp.js';

const TOTAL = 300;

test('SIGKILL mid-consumption: metadata, offsets and groups survive, consumers resume at their commit, nothing acknowledged is lost', async (t) => {
  const dir = tmpDir(t, 'metalog-crash-broker-');
  const first = await spawnBroker(t, dir);
  const client = first.kafka({ retry: { retries: 0 } });
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'durable', numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '123456789' }] }] });
  const producer = client.producer();
  await producer.connect();
  const acknowledged: string[] = [];
  for (let batch = 0; batch < TOTAL / 30; batch++) {
    const messages = Array.from({ length: 30 }, (_, i) => ({ value: `r${batch * 30 + i}`, partition: i % 3 }));
    await producer.send({ topic: 'durable', acks: -1, messages });
    acknowledged.push(...messages.map((message) => message.value));
  }
  const consumer = client.consumer({ groupId: 'survivors', sessionTimeout: 2_000, rebalanceTimeout: 3_000, heartbeatInterval: 300, maxWaitTimeInMs: 100, retry: { retries: 0, restartOnFailure: async () => false } });
  await consumer.connect();
  await consumer.subscribe({ topic: 'durable', fromBeginning: true });
  let consumedBeforeKill = 0;
  await new Promise<void>((resolve) => {
    void consumer.run({
      autoCommitThreshold: 1,
      eachMessage: async () => {
        if (++consumedBeforeKill === 100) resolve();
      },
    });
  });
  first.child.kill('SIGKILL');
  await first.exited;
  await Promise.allSettled([consumer.disconnect(), producer.disconnect(), admin.disconnect()]);

  const second = await spawnBroker(t, dir);
  const again = second.kafka();
  const admin2 = again.admin();
  await admin2.connect();
  t.teardown(() => admin2.disconnect());
  t.deepEqual(await admin2.listTopics(), ['durable']);
  const configs = await admin2.describeConfigs({ resources: [{ type: 2, name: 'durable' }], includeSynonyms: false });
  t.is(configs.resources[0]!.configEntries.find((entry) => entry.configName === 'retention.ms')!.configValue, '123456789');
  const highs = (await admin2.fetchTopicOffsets('durable')).map((entry) => Number(entry.high));
  t.deepEqual(highs, [TOTAL / 3, TOTAL / 3, TOTAL / 3], 'every acknowledged record is still below the high watermark');
  const committed = (await admin2.fetchOffsets({ groupId: 'survivors', topics: ['durable'] }))[0]!.partitions;
  const committedTotal = committed.reduce((sum, entry) => sum + Math.max(0, Number(entry.offset)), 0);
  t.true(committedTotal > 0 && committedTotal <= consumedBeforeKill + 3, `committed ${committedTotal} of ${consumedBeforeKill} read`);
  const groups = await admin2.describeGroups(['survivors']);
  t.true(['Stable', 'PreparingRebalance', 'CompletingRebalance', 'Empty'].includes(groups.groups[0]!.state), groups.groups[0]!.state);

  // The group resumes where it committed: the first record of each partition is its committed offset.
  const resumed = again.consumer({ groupId: 'survivors', maxWaitTimeInMs: 100 });
  await resumed.connect();
  t.teardown(() => resumed.disconnect());
  await resumed.subscribe({ topic: 'durable', fromBeginning: true });
  const firstOffset = new Map<number, number>();
  const rest: string[] = [];
  const expectedRest = TOTAL - committedTotal;
  await new Promise<void>((resolve) => {
    void resumed.run({
      eachMessage: async ({ partition, message }) => {
        if (!firstOffset.has(partition)) firstOffset.set(partition, Number(message.offset));
        rest.push(message.value!.toString());
        if (rest.length === expectedRest) resolve();
      },
    });
  });
  for (const entry of committed) {
    if (Number(entry.offset) < TOTAL / 3) t.is(firstOffset.get(entry.partition), Math.max(0, Number(entry.offset)), `partition ${entry.partition}`);
  }
  t.is(new Set(rest).size, rest.length, 'nothing read twice after the restart');

  // Every acknowledged record can be read from the beginning.
  const reader = again.consumer({ groupId: 'auditor', maxWaitTimeInMs: 100 });
  await reader.connect();
  t.teardown(() => reader.disconnect());
  await reader.subscribe({ topic: 'durable', fromBeginning: true });
  const all = new Set<string>();
  await new Promise<void>((resolve) => {
    void reader.run({
      eachMessage: async ({ message }) => {
        all.add(message.value!.toString());
        if (all.size === TOTAL) resolve();
      },
    });
  });
  t.deepEqual([...all].sort(), [...acknowledged].sort());
});

// The flush interval is longer than the test: only the stop's own flush makes the last records durable.
test('a clean stop in interval mode leaves the store with the logs\' final high watermarks', async (t) => {
  const { startBroker } = await import('../../helpers/kafka-broker.js');
  const { MetaLog } = await import('../../../src/index.js');
  const path = await import('node:path');
  const broker = await startBroker(t, { durability: 'interval', 'flush.interval.ms': '60000' });
  await broker.broker.store.createTopic({ name: 'flushed', partitions: 4 });
  const producer = broker.kafka().producer();
  await producer.connect();
  for (let i = 0; i < 20; i++) await producer.send({ topic: 'flushed', acks: -1, messages: Array.from({ length: 10 }, (_, j) => ({ value: `v${i}-${j}`, partition: j % 4 })) });
  await producer.disconnect();
  await broker.stop();
  const store = await MetaLog.open({ dir: path.join(broker.dir, 'metadata') });
  t.teardown(() => store.close());
  // Ten records per send over four partitions: 3, 3, 2 and 2 of them, twenty times.
  t.deepEqual([0, 1, 2, 3].map((partition) => store.getWatermarks('flushed', partition)!.highWatermark), [60, 60, 40, 40]);
});
