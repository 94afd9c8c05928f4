/**
 * Kafka's coordinator rules that a broker relies on, end to end: negative committed offsets (admin
 * resets), commits of groups that only store offsets, the order of the membership checks, topic config
 * longs over the whole int64 range and a describe-then-alter round trip of every default, static member
 * ids, session timeout bounds, and CONCURRENT_TRANSACTIONS for a transaction being completed. Each test
 * fails on the store before the rule was put in.
 */
import test from 'ava';
import type { MetaLog } from '../../src/api/metalog.js';
import type { GroupInput, GroupMemberInput } from '../../src/commands/commands.js';
import { describeTopicConfigs, TOPIC_CONFIG_DEFAULTS } from '../../src/index.js';
import { rejectsWith } from '../helpers/reject.js';
import { openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

function member(memberId: string, extra: Partial<GroupMemberInput> = {}): GroupMemberInput {
  return {
    memberId,
    clientId: 'app',
    clientHost: '/10.0.0.1',
    sessionTimeoutMs: 45000,
    rebalanceTimeoutMs: 300000,
    topics: ['orders'],
    subscription: new Uint8Array([1]),
    assignment: new Uint8Array([2]),
    ...extra,
  };
}

function group(groupId: string, generation: number, members: GroupMemberInput[]): GroupInput {
  return {
    groupId,
    state: members.length === 0 ? 'Empty' : 'Stable',
    protocolType: 'consumer',
    protocol: members.length === 0 ? null : 'range',
    generation,
    leader: members[0]?.memberId ?? null,
    members,
  };
}

async function withOrders(log: MetaLog): Promise<void> {
  await log.createTopic({ name: 'orders', partitions: 3 });
}

test('committed offsets may be negative (what admin tools write on a reset), down to -2^52', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await withOrders(log);
  await log.commitOffsets('resets', [
    { topic: 'orders', partition: 0, offset: -1 },
    { topic: 'orders', partition: 1, offset: -2 },
    { topic: 'orders', partition: 2, offset: -(2 ** 52) },
  ]);
  t.deepEqual(log.fetchOffsets('resets').map((o) => o.offset), [-1, -2, -(2 ** 52)]);
  await log.resetOffsets('resets', [{ topic: 'orders', partition: 0, offset: -2 }]);
  t.is(log.fetchOffset('resets', 'orders', 0)?.offset, -2);
  await rejectsWith(t, log, log.commitOffsets('resets', [{ topic: 'orders', partition: 0, offset: -(2 ** 52) - 1 }]), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log, log.commitOffsets('resets', [{ topic: 'orders', partition: 0, offset: 1.5 }]), 'INVALID_REQUEST', 42);
});

test('a commit with generation -1 and no member id needs no membership while the group has no members', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await withOrders(log);
  // Absent group.
  await log.commitOffsets('simple', [{ topic: 'orders', partition: 0, offset: 5 }], { generation: -1, memberId: '' });
  t.is(log.fetchOffset('simple', 'orders', 0)?.offset, 5);
  // Empty group.
  await log.upsertGroup(group('empty', 3, []));
  await log.commitOffsets('empty', [{ topic: 'orders', partition: 1, offset: 6 }], { generation: -1, memberId: '' });
  t.is(log.fetchOffset('empty', 'orders', 1)?.offset, 6);
  // A group with members refuses it.
  await log.upsertGroup(group('live', 2, [member('m-1')]));
  await rejectsWith(t, log, log.commitOffsets('live', [{ topic: 'orders', partition: 0, offset: 1 }], { generation: -1, memberId: '' }), 'UNKNOWN_MEMBER_ID', 25);
  await rejectsWith(t, log, log.commitOffsets('live', [{ topic: 'orders', partition: 0, offset: 1 }]), 'UNKNOWN_MEMBER_ID', 25);
  // Generation -1 names no member.
  await rejectsWith(t, log, log.commitOffsets('simple', [{ topic: 'orders', partition: 0, offset: 1 }], { generation: -1, memberId: 'm-1' }), 'INVALID_REQUEST', 42);
});

test('with membership the member is checked before the generation', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await withOrders(log);
  await log.upsertGroup(group('live', 4, [member('m-1')]));
  const entries = [{ topic: 'orders', partition: 0, offset: 1 }];
  // Unknown member and wrong generation: the member is what is reported.
  await rejectsWith(t, log, log.commitOffsets('live', entries, { generation: 3, memberId: 'm-9' }), 'UNKNOWN_MEMBER_ID', 25);
  await rejectsWith(t, log, log.commitOffsets('live', entries, { generation: 4, memberId: 'm-9' }), 'UNKNOWN_MEMBER_ID', 25);
  await rejectsWith(t, log, log.commitOffsets('live', entries, { generation: 3, memberId: 'm-1' }), 'ILLEGAL_GENERATION', 22);
  await log.commitOffsets('live', entries, { generation: 4, memberId: 'm-1' });
  t.is(log.fetchOffset('live', 'orders', 0)?.offset, 1);
});

test('topic config longs take the whole int64 range, as decimal strings', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 'logs', partitions: 1, configs: { 'flush.ms': '9223372036854775807', 'retention.ms': '-1' } });
  await log.alterTopicConfigs('logs', { set: { 'flush.messages': '9223372036854775807', 'max.compaction.lag.ms': '9223372036854775807', 'retention.bytes': '9223372036854775807' } });
  t.is(log.getTopic('logs')?.configs['flush.messages'], '9223372036854775807');
  for (const [key, value] of [
    ['flush.ms', '9223372036854775808'],
    ['retention.ms', '-2'],
    ['retention.bytes', '-9223372036854775809'],
    ['segment.bytes', '2147483648'],
    ['flush.ms', '1e3'],
    ['flush.ms', '0x10'],
    ['flush.ms', ' 1'],
    ['flush.ms', ''],
  ]) {
    const error = await rejectsWith(t, log, log.alterTopicConfigs('logs', { set: { [key]: value } }), 'INVALID_CONFIG', 40);
    t.is(error.details.field, `configs.${key}`);
  }
});

test('describeTopicConfigs lists every key; writing every described value back succeeds', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 'logs', partitions: 1, configs: { 'cleanup.policy': 'compact', 'retention.ms': '1000' } });
  const described = describeTopicConfigs(log.getTopic('logs')!.configs);
  t.deepEqual(described.map((entry) => entry.name), Object.keys(TOPIC_CONFIG_DEFAULTS).sort());
  const byName = new Map(described.map((entry) => [entry.name, entry]));
  t.deepEqual(byName.get('cleanup.policy'), { name: 'cleanup.policy', value: 'compact', isDefault: false, readOnly: false, sensitive: false });
  t.deepEqual(byName.get('flush.ms'), { name: 'flush.ms', value: '9223372036854775807', isDefault: true, readOnly: false, sensitive: false });
  t.is(byName.get('segment.bytes')?.value, '1073741824');
  t.is(byName.get('max.message.bytes')?.value, '1048588');
  t.is(byName.get('retention.bytes')?.value, '-1');
  const set = Object.fromEntries(described.map((entry) => [entry.name, entry.value as string]));
  const altered = await log.alterTopicConfigs('logs', { set });
  t.deepEqual({ ...altered.configs }, set);
  t.true(describeTopicConfigs(altered.configs).every((entry) => !entry.isDefault));
  await log.createTopic({ name: 'defaults', partitions: 1, configs: { ...TOPIC_CONFIG_DEFAULTS } });
});

test('two members of one upsert may not share a group instance id', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  const error = await rejectsWith(
    t,
    log,
    log.upsertGroup(group('static', 1, [member('m-1', { groupInstanceId: 'host-a' }), member('m-2', { groupInstanceId: 'host-b' }), member('m-3', { groupInstanceId: 'host-a' })])),
    'INVALID_REQUEST',
    42,
  );
  t.is(error.details.field, 'members[2].groupInstanceId');
  await log.upsertGroup(group('static', 1, [member('m-1', { groupInstanceId: 'host-a' }), member('m-2'), member('m-3')]));
  t.is(log.getGroup('static')?.members.length, 3);
});

test('session timeouts must be within groupMinSessionTimeoutMs..groupMaxSessionTimeoutMs', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  const error = await rejectsWith(t, log, log.upsertGroup(group('g', 1, [member('m-1'), member('m-2', { sessionTimeoutMs: 5999 })])), 'INVALID_SESSION_TIMEOUT', 26);
  t.is(error.details.field, 'members[1].sessionTimeoutMs');
  await rejectsWith(t, log, log.upsertGroup(group('g', 1, [member('m-1', { sessionTimeoutMs: 1_800_001 })])), 'INVALID_SESSION_TIMEOUT', 26);
  await log.upsertGroup(group('g', 1, [member('m-1', { sessionTimeoutMs: 6000 }), member('m-2', { sessionTimeoutMs: 1_800_000 })]));
  const narrow = await openStore(t, { dir: tmpDir(t), groupMinSessionTimeoutMs: 10_000, groupMaxSessionTimeoutMs: 20_000 });
  await rejectsWith(t, narrow, narrow.upsertGroup(group('g', 1, [member('m-1', { sessionTimeoutMs: 9_999 })])), 'INVALID_SESSION_TIMEOUT', 26);
  await rejectsWith(t, narrow, narrow.upsertGroup(group('g', 1, [member('m-1', { sessionTimeoutMs: 20_001 })])), 'INVALID_SESSION_TIMEOUT', 26);
  await narrow.upsertGroup(group('g', 1, [member('m-1', { sessionTimeoutMs: 15_000 })]));
});
