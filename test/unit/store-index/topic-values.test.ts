/**
 * A topic's index value decodes to what was encoded, and decoded partitions share their replica and ISR
 * lists (one frozen array per distinct short list of small broker ids; see index-values.ts).
 */
import test from 'ava';
import { decodeTopic, encodeTopic } from '../../../src/store-index/index-values.js';
import type { Topic } from '../../../src/state/entities.js';

function topic(name: string, lists: number[][]): Topic {
  return {
    topicId: `id-${name}`,
    name,
    replicationFactor: lists[0]?.length ?? 0,
    partitions: lists.map((replicas, partition) => ({ partition, leader: replicas[0] ?? -1, replicas, isr: replicas.slice(0, 2), leaderEpoch: partition, partitionEpoch: 2 * partition })),
    configs: { 'retention.ms': '604800000' },
  };
}

test('decodes what was encoded, lists of every shape included', (t) => {
  const lists = [[1, 2, 3], [3, 1, 2], [1023, 0, 5], [1024, 7], [-1, 2], [1, 2, 3, 4, 5, 6], [], [2 ** 31 - 1]];
  const original = topic('orders', lists);
  const decoded = decodeTopic(encodeTopic(original));
  t.deepEqual(JSON.parse(JSON.stringify(decoded)), JSON.parse(JSON.stringify(original)));
  t.true(Object.isFrozen(decoded.partitions[0].replicas) && Object.isFrozen(decoded.partitions[5].isr));
});

test('partitions of any topic with the same short list of small ids share one frozen array', (t) => {
  const a = decodeTopic(encodeTopic(topic('a', [[1, 2, 3], [2, 3, 1], [1, 2, 3]])));
  const b = decodeTopic(encodeTopic(topic('b', [[1, 2, 3], [2048, 1, 2]])));
  t.is(a.partitions[0].replicas, a.partitions[2].replicas);
  t.is(a.partitions[0].replicas, b.partitions[0].replicas);
  t.not(a.partitions[0].replicas, a.partitions[1].replicas, 'another order is another list');
  t.is(a.partitions[0].isr, a.partitions[2].isr);
  t.not(b.partitions[1].replicas, decodeTopic(encodeTopic(topic('c', [[2048, 1, 2]]))).partitions[0].replicas, 'an id past 1023 is not shared');
  t.deepEqual([...b.partitions[1].replicas], [2048, 1, 2]);
});
