/**
 * Consumer groups and their offsets end to end: upserts with members and protocol bytes, generations
 * that never go back, commits checked against generation and member, fetch of all offsets, OffsetDelete,
 * operator resets, group delete with its offsets, and every error code with the state unchanged.
 */
import test from 'ava';
import type { MetaLog } from '../../src/api/metalog.js';
import type { GroupInput } from '../../src/commands/commands.js';
import type { Group } from '../../src/state/entities.js';
import { ManualClock } from '../../src/clock.js';
import { rejectsWith } from '../helpers/reject.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

function stableGroup(generation: number, memberIds: string[], topics = ['orders']): GroupInput {
  return {
    groupId: 'billing',
    state: 'Stable',
    protocolType: 'consumer',
    protocol: 'range',
    generation,
    leader: memberIds[0],
    members: memberIds.map((memberId, i) => ({
      memberId,
      groupInstanceId: i === 0 ? 'instance-a' : null,
      clientId: 'billing-app',
      clientHost: `/10.0.0.${i + 1}`,
      sessionTimeoutMs: 45000,
      rebalanceTimeoutMs: 300000,
      topics,
      subscription: Uint8Array.from([0, 1, i]),
      assignment: Uint8Array.from([9, 8, 7, i]),
    })),
  };
}

async function topicOrders(log: MetaLog): Promise<void> {
  await log.createTopic({ name: 'orders', partitions: 3 });
  await log.createTopic({ name: 'audit', partitions: 1 });
}

test('a group is stored whole, bytes included, and its generation never goes back', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  t.is(await log.upsertGroup(stableGroup(1, ['m-1', 'm-2'])), undefined);
  const group = log.getGroup('billing') as Group;
  t.is(group.members.length, 2);
  t.deepEqual([...group.members[1].assignment], [9, 8, 7, 1]);
  t.is(group.members[0].groupInstanceId, 'instance-a');
  t.is(log.getGroup('billing'), group);
  await log.upsertGroup(stableGroup(2, ['m-2']));
  t.is(log.getGroup('billing')?.generation, 2);
  await rejectsWith(t, log, log.upsertGroup(stableGroup(1, ['m-1'])), 'ILLEGAL_GENERATION', 22);
  await rejectsWith(t, log, log.upsertGroup({ ...stableGroup(3, ['a']), leader: 'nobody' }), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log, log.upsertGroup({ ...stableGroup(3, ['a', 'a']) }), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log, log.upsertGroup({ ...stableGroup(3, ['a']), state: 'Empty' }), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log, log.upsertGroup({ ...stableGroup(3, ['a']), state: 'Sleeping' as never }), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log, log.upsertGroup({ ...stableGroup(3, ['a']), groupId: '' }), 'INVALID_GROUP_ID', 24);
  t.deepEqual(log.listGroups().map((g) => g.groupId), ['billing']);
});

test('commits are checked against generation and member; simple commits need a group without members', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await topicOrders(log);
  await log.upsertGroup(stableGroup(4, ['m-1']));
  await log.commitOffsets('billing', [{ topic: 'orders', partition: 0, offset: 10 }], { generation: 4, memberId: 'm-1' });
  t.is(log.fetchOffset('billing', 'orders', 0)?.offset, 10);
  await rejectsWith(t, log, log.commitOffsets('billing', [{ topic: 'orders', partition: 0, offset: 11 }], { generation: 3, memberId: 'm-1' }), 'ILLEGAL_GENERATION', 22);
  await rejectsWith(t, log, log.commitOffsets('billing', [{ topic: 'orders', partition: 0, offset: 11 }], { generation: 4, memberId: 'm-9' }), 'UNKNOWN_MEMBER_ID', 25);
  await rejectsWith(t, log, log.commitOffsets('billing', [{ topic: 'orders', partition: 0, offset: 11 }]), 'UNKNOWN_MEMBER_ID', 25);
  await rejectsWith(t, log, log.commitOffsets('other', [{ topic: 'orders', partition: 0, offset: 11 }], { generation: 1, memberId: 'm-1' }), 'ILLEGAL_GENERATION', 22);
  await log.commitOffsets('standalone', [{ topic: 'orders', partition: 1, offset: 3 }]);
  t.is(log.fetchOffset('standalone', 'orders', 1)?.offset, 3);
});

test('fetchOffsets, deleteOffsets (OffsetDelete) and resetOffsets', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await topicOrders(log);
  await log.commitOffsets('billing', [
    { topic: 'orders', partition: 2, offset: 30 },
    { topic: 'audit', partition: 0, offset: 1 },
    { topic: 'orders', partition: 0, offset: 10 },
  ]);
  t.deepEqual(log.fetchOffsets('billing').map((o) => [o.topic, o.partition, o.offset]), [['audit', 0, 1], ['orders', 0, 10], ['orders', 2, 30]]);
  t.deepEqual(log.fetchOffsets('nobody'), []);

  await log.upsertGroup(stableGroup(1, ['m-1'], ['orders']));
  await rejectsWith(t, log, log.deleteOffsets('billing', [{ topic: 'orders', partition: 0 }]), 'GROUP_SUBSCRIBED_TO_TOPIC', 86);
  await log.deleteOffsets('billing', [{ topic: 'audit', partition: 0 }]);
  t.is(log.fetchOffset('billing', 'audit', 0), undefined);
  await rejectsWith(t, log, log.deleteOffsets('billing', [{ topic: 'ghost', partition: 0 }]), 'UNKNOWN_TOPIC_OR_PARTITION', 3);
  await rejectsWith(t, log, log.resetOffsets('billing', [{ topic: 'orders', partition: 0, offset: 0 }]), 'NON_EMPTY_GROUP', 68);

  await log.upsertGroup({ groupId: 'billing', state: 'Empty', protocolType: 'consumer', generation: 2, members: [] });
  await log.resetOffsets('billing', [{ topic: 'orders', partition: 0, offset: 0 }, { topic: 'orders', partition: 2, offset: 5 }]);
  t.deepEqual(log.fetchOffsets('billing').map((o) => o.offset), [0, 5]);
  await log.deleteOffsets('billing', [{ topic: 'orders', partition: 0 }, { topic: 'orders', partition: 2 }]);
  t.deepEqual(log.fetchOffsets('billing'), []);
});

test('deleteGroup removes the group and its offsets in one event; refused while it has members', async (t) => {
  const dir = tmpDir(t);
  let log = await openStore(t, { dir });
  await topicOrders(log);
  await log.upsertGroup(stableGroup(1, ['m-1']));
  await log.commitOffsets('billing', [{ topic: 'orders', partition: 0, offset: 7 }], { generation: 1, memberId: 'm-1' });
  await log.commitOffsets('kept', [{ topic: 'orders', partition: 0, offset: 8 }]);
  await rejectsWith(t, log, log.deleteGroup('billing'), 'NON_EMPTY_GROUP', 68);
  await log.upsertGroup({ groupId: 'billing', state: 'Empty', protocolType: 'consumer', generation: 2, members: [] });
  const before = log.lastOffset;
  await log.deleteGroup('billing');
  t.is(log.lastOffset, before + 1, 'one event');
  t.is(log.getGroup('billing'), undefined);
  t.deepEqual(log.fetchOffsets('billing'), []);
  t.is(log.fetchOffset('kept', 'orders', 0)?.offset, 8);
  await log.upsertGroup(stableGroup(1, ['m-1']));
  const served = log.canonicalState();
  await closeAndVerify(log);
  log = await openStore(t, { dir });
  t.is(log.canonicalState(), served, 'a restart folds to the same state, bytes included');
  t.deepEqual([...(log.getGroup('billing')?.members[0].subscription ?? [])], [0, 1, 0]);
});

test('offset retention: an empty group loses offsets last committed before the cutoff, by one OffsetsExpired event; never while it has members', async (t) => {
  const dir = tmpDir(t);
  // Time passes only when this test moves the store's clock, so the cutoffs below fall exactly between commits.
  const clock = new ManualClock(1_000_000);
  const log = await openStore(t, { dir, offsetsRetentionMs: 1000, offsetsRetentionCheckIntervalMs: 1000 }, { clock });
  await log.createTopic({ name: 't', partitions: 3 });
  await log.commitOffsets('simple', [{ topic: 't', partition: 0, offset: 1 }, { topic: 't', partition: 1, offset: 2 }]);
  await log.upsertGroup(stableGroup(1, ['m-1']));
  await log.commitOffsets('billing', [{ topic: 't', partition: 0, offset: 5 }], { generation: 1, memberId: 'm-1' });
  clock.advance(50);
  // Committed after the cutoff below: kept.
  await log.commitOffsets('simple', [{ topic: 't', partition: 2, offset: 3 }]);
  t.is(log.fetchOffset('simple', 't', 2)?.commitTimestamp, 1_000_050);
  await rejectsWith(t, log, log.expireOffsets('billing', 10), 'NON_EMPTY_GROUP', 68);
  const expired = await log.expireOffsets('simple', 40);
  t.deepEqual(expired, [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
  t.deepEqual(log.fetchOffsets('simple').map((offset) => offset.partition), [2]);
  const [event] = await log.history({ types: ['OffsetsExpired'] });
  t.is(event.type === 'OffsetsExpired' && event.value.groupId, 'simple');
  t.is(event.type === 'OffsetsExpired' && event.value.expireBeforeMs, 1_000_010);

  // The periodic check (every second of the clock here) expires the rest once the group is empty and
  // they are old: 1.1 s of the clock passes, and the check's two events arrive.
  await log.upsertGroup({ ...stableGroup(2, []), state: 'Empty', leader: null });
  const expiries = log.watch({ types: ['OffsetsExpired'] });
  clock.advance(1100);
  const groups: string[] = [];
  for await (const each of expiries) {
    if (each.type === 'OffsetsExpired') groups.push(each.value.groupId);
    if (groups.length === 2) break;
  }
  t.deepEqual(groups.sort(), ['billing', 'simple']);
  t.deepEqual(log.fetchOffsets('billing'), []);
  t.deepEqual(log.fetchOffsets('simple'), []);
  t.truthy(log.getGroup('billing'), 'the group record stays; only its offsets expire');
});
