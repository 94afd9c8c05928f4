/**
 * The broker with librdkafka's kcat, unmodified: metadata, produce and consume round trips of gzip,
 * snappy and lz4 batches (a topic created on first use), and three `kcat -G` members that reach a Stable
 * group and consume everything once.
 */
import test from 'ava';
import type { Group } from '../../../src/index.js';
import { startBroker } from '../../helpers/kafka-broker.js';
import { kcat, kcatProcess } from '../../helpers/kcat.js';

test('kcat -L lists the broker and its topics', async (t) => {
  const { address, broker } = await startBroker(t);
  await broker.store.createTopic({ name: 'listed', partitions: 2 });
  const listed = await kcat(['-b', address, '-L']);
  t.is(listed.code, 0, listed.stderr);
  t.regex(listed.stdout, new RegExp(`broker 1 at ${address.replace(/\./g, '\\.')}`));
  t.regex(listed.stdout, /topic "listed" with 2 partitions/);
});

for (const codec of ['gzip', 'snappy', 'lz4'] as const) {
  test(`kcat -P then -C round-trips ${codec} batches; -P to a new topic creates it`, async (t) => {
    const { address, broker } = await startBroker(t, { 'num.partitions': '1' });
    const lines = Array.from({ length: 200 }, (_, i) => `${codec}-${i}`);
    const produced = await kcat(['-b', address, '-P', '-t', `new-${codec}`, '-z', codec, '-X', 'linger.ms=50'], lines.join('\n') + '\n');
    t.is(produced.code, 0, produced.stderr);
    t.truthy(broker.store.getTopic(`new-${codec}`), 'created with num.partitions by auto.create.topics.enable');
    const consumed = await kcat(['-b', address, '-C', '-t', `new-${codec}`, '-o', 'beginning', '-e', '-f', '%o %s\n']);
    t.is(consumed.code, 0, consumed.stderr);
    t.deepEqual(consumed.stdout.trim().split('\n'), lines.map((line, offset) => `${offset} ${line}`));
  });
}

test('three kcat -G members reach a Stable group and consume everything once', async (t) => {
  const { address, broker } = await startBroker(t);
  await broker.store.createTopic({ name: 'shared', partitions: 6 });
  const stable = new Promise<Group>((resolve) => {
    void (async () => {
      for await (const event of broker.store.watch({ types: ['GroupUpserted'] })) {
        if (event.type === 'Snapshot') continue;
        const value = event.value as { groupId: string; state: string; members: unknown[] };
        if (value.groupId === 'kcats' && value.state === 'Stable' && value.members.length === 3) {
          resolve(broker.store.getGroup('kcats')!);
          return;
        }
      }
    })();
  });
  const consumed: string[] = [];
  let onConsumed = (): void => undefined;
  for (let member = 0; member < 3; member++) {
    kcatProcess(t, ['-u', '-b', address, '-G', 'kcats', '-f', '%s\n', '-X', 'session.timeout.ms=6000', '-X', 'auto.offset.reset=earliest', 'shared'], (line) => {
      if (line.length === 0) return;
      consumed.push(line);
      onConsumed();
    });
  }
  const group = await stable;
  t.is(group.members.length, 3);
  const messages = Array.from({ length: 600 }, (_, i) => `message-${i}`);
  const produced = await kcat(['-b', address, '-P', '-t', 'shared', '-K', ':'], messages.map((message, i) => `key-${i}:${message}`).join('\n') + '\n');
  t.is(produced.code, 0, produced.stderr);
  await new Promise<void>((resolve) => {
    onConsumed = () => {
      if (consumed.length >= messages.length) resolve();
    };
    onConsumed();
  });
  t.is(consumed.length, messages.length, 'nothing read twice');
  t.deepEqual([...consumed].sort(), [...messages].sort());
});
