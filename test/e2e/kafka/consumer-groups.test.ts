/**
 * Consumer groups with kafkajs's consumer, unmodified: members joining one after another share six
 * partitions 6 → 3+3 → 2+2+2, a member that leaves gives its partitions back, and every message is read
 * exactly once; a member killed without leaving is dropped after its session timeout; offsets reset and
 * set by the admin client are where the group starts.
 *
 * Every wait is on an event (a rebalance reported by the consumer, a message count reached), never on
 * the clock.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Consumer, Kafka } from 'kafkajs';
import { startBroker } from '../../helpers/kafka-broker.js';

interface Member {
  consumer: Consumer;
  /** The partitions of its latest rebalance. */
  partitions: number[];
  joins: number;
}

/** Waits until `check` holds, re-checked on every rebalance or message the members report. */
function until(listeners: Set<() => void>, check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const listener = (): void => {
      if (!check()) return;
      listeners.delete(listener);
      resolve();
    };
    listeners.add(listener);
    listener();
  });
}

async function startMember(kafka: Kafka, listeners: Set<() => void>, seen: string[]): Promise<Member> {
  const consumer = kafka.consumer({ groupId: 'trio', maxWaitTimeInMs: 100, sessionTimeout: 10_000, rebalanceTimeout: 10_000, heartbeatInterval: 200 });
  const member: Member = { consumer, partitions: [], joins: 0 };
  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    member.partitions = [...(event.payload.memberAssignment['six'] ?? [])].sort();
    member.joins++;
    for (const listener of [...listeners]) listener();
  });
  await consumer.connect();
  await consumer.subscribe({ topic: 'six', fromBeginning: true });
  void consumer.run({
    autoCommitThreshold: 1,
    eachMessage: async ({ message }) => {
      seen.push(message.value!.toString());
      for (const listener of [...listeners]) listener();
    },
  });
  return member;
}

test('three consumers join one after another (6 → 3+3 → 2+2+2), one leaves, and 90 of 90 messages arrive once', async (t) => {
  const { kafka } = await startBroker(t);
  const client = kafka();
  const admin = client.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'six', numPartitions: 6 }] });
  const producer = client.producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const listeners = new Set<() => void>();
  const seen: string[] = [];
  let sent = 0;
  const produce30 = () => producer.send({ topic: 'six', acks: -1, messages: Array.from({ length: 30 }, () => ({ value: `m${sent}`, partition: sent++ % 6 })) });
  const members: Member[] = [];
  t.teardown(() => Promise.all(members.map((member) => member.consumer.disconnect())));
  const sizes = () => members.map((member) => member.partitions.length).sort();
  const settled = (expected: number[]) =>
    until(listeners, () => JSON.stringify(sizes()) === JSON.stringify(expected) && new Set(members.flatMap((member) => member.partitions)).size === 6);

  members.push(await startMember(client, listeners, seen));
  await settled([6]);
  await produce30();
  await until(listeners, () => seen.length >= 30);
  members.push(await startMember(client, listeners, seen));
  await settled([3, 3]);
  await produce30();
  members.push(await startMember(client, listeners, seen));
  await settled([2, 2, 2]);
  await produce30();
  const leaving = members.pop()!;
  await leaving.consumer.disconnect();
  await settled([3, 3]);
  await until(listeners, () => new Set(seen).size === 90);
  t.is(seen.length, 90, 'no message was read twice');
  t.is(new Set(seen).size, 90);
});

const CHILD = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../helpers/kafka-consumer-child.js');

test('a member killed without leaving is dropped after its session timeout, and its partitions move', async (t) => {
  const { kafka, address } = await startBroker(t);
  const client = kafka();
  const admin = client.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'six', numPartitions: 6 }] });
  const listeners = new Set<() => void>();
  const seen: string[] = [];
  const survivor = await startMember(client, listeners, seen);
  t.teardown(() => survivor.consumer.disconnect());
  await until(listeners, () => survivor.partitions.length === 6);

  const child = spawn(process.execPath, [CHILD, address, 'trio', 'six', '1500'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.teardown(async () => {
    child.kill('SIGKILL');
    await exited;
  });
  let childPartitions: number[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (line.startsWith('JOINED ')) childPartitions = JSON.parse(line.slice(7)) as number[];
    }
    for (const listener of [...listeners]) listener();
  });
  await until(listeners, () => survivor.partitions.length === 3 && childPartitions.length === 3);
  const joinsBefore = survivor.joins;
  child.kill('SIGKILL');
  await exited;
  // No LeaveGroup was sent: the coordinator drops the member when its 1.5 s session passes.
  await until(listeners, () => survivor.joins > joinsBefore && survivor.partitions.length === 6);
  t.deepEqual(survivor.partitions, [0, 1, 2, 3, 4, 5]);
});

test('resetOffsets and setOffsets move where a group starts', async (t) => {
  const { kafka, broker } = await startBroker(t);
  const client = kafka();
  const admin = client.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'pos', numPartitions: 1 }] });
  const producer = client.producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  await producer.send({ topic: 'pos', messages: Array.from({ length: 10 }, (_, i) => ({ value: `v${i}` })) });
  await admin.setOffsets({ groupId: 'positions', topic: 'pos', partitions: [{ partition: 0, offset: '7' }] });
  t.deepEqual(await admin.fetchOffsets({ groupId: 'positions', topics: ['pos'] }), [{ topic: 'pos', partitions: [{ partition: 0, offset: '7', metadata: null }] }]);
  await admin.resetOffsets({ groupId: 'positions', topic: 'pos', earliest: false });
  t.is(broker.store.fetchOffset('positions', 'pos', 0)!.offset, -1, 'latest is written as -1, as admin tools write it');
  await admin.resetOffsets({ groupId: 'positions', topic: 'pos', earliest: true });
  t.is(broker.store.fetchOffset('positions', 'pos', 0)!.offset, -2);
  const groups = await admin.listGroups();
  t.true(groups.groups.some((group) => group.groupId === 'positions'), 'a group that only commits offsets is listed');
  await admin.setOffsets({ groupId: 'positions', topic: 'pos', partitions: [{ partition: 0, offset: '8' }] });
  const consumer = client.consumer({ groupId: 'positions', maxWaitTimeInMs: 100 });
  await consumer.connect();
  t.teardown(() => consumer.disconnect());
  await consumer.subscribe({ topic: 'pos' });
  const first = await new Promise<string>((resolve, reject) => {
    consumer.run({ eachMessage: async ({ message }) => resolve(message.value!.toString()) }).catch(reject);
  });
  t.is(first, 'v8');
});
