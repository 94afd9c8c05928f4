/**
 * The group coordinator at the wire, with requests made by kafkajs's own encoders on plain sockets, so
 * each step happens exactly when the test says: commits while a rebalance is being prepared, stale
 * generations and unknown members, DeleteGroups, static members, and groups across a restart.
 */
import test from 'ava';
import { kafkajsCall, RawClient } from '../../helpers/kafka-raw-client.js';
import { startBroker } from '../../helpers/kafka-broker.js';

const PROTOCOLS = [{ name: 'range', metadata: Buffer.from([0, 1, 0, 0, 0, 0]) }];
const MEMBER_ID_REQUIRED = 79;

interface JoinAnswer {
  errorCode: number;
  generationId: number;
  leaderId: string;
  memberId: string;
  members: unknown[];
}

function join(client: RawClient, groupId: string, memberId: string, groupInstanceId: string | null = null): Promise<JoinAnswer> {
  return kafkajsCall<JoinAnswer>(client, 'joinGroup', 5, {
    groupId,
    sessionTimeout: 10_000,
    rebalanceTimeout: 10_000,
    memberId,
    groupInstanceId,
    protocolType: 'consumer',
    groupProtocols: PROTOCOLS,
  });
}

/** JoinGroup v5 as a dynamic member does it: an empty id, MEMBER_ID_REQUIRED, then again with the given id. */
async function joinAsNewMember(client: RawClient, groupId: string): Promise<JoinAnswer> {
  const first = await join(client, groupId, '');
  if (first.errorCode !== MEMBER_ID_REQUIRED) throw new Error(`expected MEMBER_ID_REQUIRED, got ${first.errorCode}`);
  return join(client, groupId, first.memberId);
}

function sync(client: RawClient, groupId: string, generationId: number, memberId: string, assignments: { memberId: string; memberAssignment: Buffer }[] = []) {
  return kafkajsCall<{ errorCode: number; memberAssignment: Buffer }>(client, 'syncGroup', 3, { groupId, generationId, memberId, groupInstanceId: null, groupAssignment: assignments });
}

function heartbeat(client: RawClient, groupId: string, generationId: number, memberId: string, groupInstanceId: string | null = null) {
  return kafkajsCall<{ errorCode: number }>(client, 'heartbeat', 3, { groupId, groupGenerationId: generationId, memberId, groupInstanceId });
}

async function commit(client: RawClient, groupId: string, generationId: number, memberId: string, offset: number): Promise<number> {
  const answer = await kafkajsCall<{ responses: { partitions: { errorCode: number }[] }[] }>(client, 'offsetCommit', 5, {
    groupId,
    groupGenerationId: generationId,
    memberId,
    topics: [{ topic: 'events', partitions: [{ partition: 0, offset: String(offset) }] }],
  });
  return answer.responses[0]!.partitions[0]!.errorCode;
}

async function describe(client: RawClient, groupId: string): Promise<{ state: string; members: unknown[] }> {
  const answer = await kafkajsCall<{ groups: { state: string; members: unknown[] }[] }>(client, 'describeGroups', 2, { groupIds: [groupId] });
  return answer.groups[0]!;
}

test('commits are accepted while a rebalance is prepared; heartbeats answer 27 then; stale generation 22, unknown member 25; DeleteGroups 68 and 69', async (t) => {
  const { broker } = await startBroker(t);
  await broker.store.createTopic({ name: 'events', partitions: 1 });
  const a = await RawClient.connect(broker.port);
  const b = await RawClient.connect(broker.port);
  const observer = await RawClient.connect(broker.port);
  t.teardown(() => [a, b, observer].forEach((client) => client.destroy()));

  const joined = await joinAsNewMember(a, 'workers');
  t.is(joined.errorCode, 0);
  t.is(joined.generationId, 1);
  t.is(joined.leaderId, joined.memberId);
  t.is((await sync(a, 'workers', 1, joined.memberId, [{ memberId: joined.memberId, memberAssignment: Buffer.from('all') }])).errorCode, 0);
  t.is((await describe(observer, 'workers')).state, 'Stable');

  // A second member asks to join: its JoinGroup parks while the rebalance is prepared.
  const secondJoin = joinAsNewMember(b, 'workers');
  let rounds = 0;
  while ((await describe(observer, 'workers')).state !== 'PreparingRebalance') t.true(++rounds < 10_000, 'the group never started preparing');

  t.is(await commit(a, 'workers', 1, joined.memberId, 5), 0, 'a commit of the current generation is accepted while preparing');
  t.is(broker.store.fetchOffset('workers', 'events', 0)!.offset, 5);
  t.is((await heartbeat(a, 'workers', 1, joined.memberId)).errorCode, 27);
  t.is(await commit(a, 'workers', 0, joined.memberId, 6), 22, 'a stale generation is ILLEGAL_GENERATION');
  t.is(await commit(a, 'workers', 1, 'nobody-1', 6), 25, 'an unknown member is UNKNOWN_MEMBER_ID');
  t.is(await commit(a, 'workers', 7, 'nobody-1', 6), 25, 'the member is checked before the generation');

  // The first member rejoins; both get generation 2, only the leader gets the member list.
  const [rejoined, second] = await Promise.all([join(a, 'workers', joined.memberId), secondJoin]);
  t.is(rejoined.generationId, 2);
  t.is(second.generationId, 2);
  const leader = rejoined.leaderId === rejoined.memberId ? rejoined : second;
  const follower = leader === rejoined ? second : rejoined;
  t.is(leader.members.length, 2);
  t.is(follower.members.length, 0);

  const deleted = await kafkajsCall<{ results: { groupId: string; errorCode: number }[] }>(observer, 'deleteGroups', 1, ['workers', 'missing']);
  t.deepEqual(
    deleted.results.map((result) => [result.groupId, result.errorCode]),
    [
      ['workers', 68],
      ['missing', 69],
    ],
  );
});

test('a static member that restarts gets its place back without a rebalance; its old id is fenced (82)', async (t) => {
  const { broker } = await startBroker(t);
  const first = await RawClient.connect(broker.port);
  const observer = await RawClient.connect(broker.port);
  t.teardown(() => [first, observer].forEach((client) => client.destroy()));
  const joined = await join(first, 'statics', '', 'instance-1');
  t.is(joined.errorCode, 0, 'a static member gets its id at once');
  t.is((await sync(first, 'statics', joined.generationId, joined.memberId, [{ memberId: joined.memberId, memberAssignment: Buffer.from('p0') }])).errorCode, 0);
  first.destroy();

  // The same instance comes back on a new connection with no member id.
  const restarted = await RawClient.connect(broker.port);
  t.teardown(() => restarted.destroy());
  const again = await join(restarted, 'statics', '', 'instance-1');
  t.is(again.errorCode, 0);
  t.is(again.generationId, joined.generationId, 'no rebalance: the generation is unchanged');
  t.not(again.memberId, joined.memberId);
  const resynced = await sync(restarted, 'statics', again.generationId, again.memberId);
  t.is(resynced.errorCode, 0);
  t.is(resynced.memberAssignment.toString(), 'p0', 'its assignment is kept');
  t.is((await heartbeat(observer, 'statics', joined.generationId, joined.memberId, 'instance-1')).errorCode, 82);
  t.is((await describe(observer, 'statics')).state, 'Stable');
});

test('after a restart a Stable group comes back Stable, and a member that keeps heartbeating is not rebalanced', async (t) => {
  const first = await startBroker(t);
  const a = await RawClient.connect(first.broker.port);
  const joined = await joinAsNewMember(a, 'durable');
  t.is((await sync(a, 'durable', joined.generationId, joined.memberId, [{ memberId: joined.memberId, memberAssignment: Buffer.from('x') }])).errorCode, 0);
  a.destroy();
  await first.stop();

  const second = await startBroker(t, {}, first.dir);
  const b = await RawClient.connect(second.broker.port);
  t.teardown(() => b.destroy());
  t.is((await describe(b, 'durable')).state, 'Stable');
  t.is((await heartbeat(b, 'durable', joined.generationId, joined.memberId)).errorCode, 0);
  t.is((await heartbeat(b, 'durable', joined.generationId, joined.memberId)).errorCode, 0);
  const group = second.broker.store.getGroup('durable')!;
  t.is(group.state, 'Stable');
  t.is(group.generation, joined.generationId);
});

test('OffsetCommit answers per partition: the valid ones are written, an unknown one gets UNKNOWN_TOPIC_OR_PARTITION (3)', async (t) => {
  const { broker } = await startBroker(t);
  await broker.store.createTopic({ name: 'events', partitions: 2 });
  const client = await RawClient.connect(broker.port);
  t.teardown(() => client.destroy());
  const answer = await kafkajsCall<{ responses: { topic: string; partitions: { partition: number; errorCode: number }[] }[] }>(client, 'offsetCommit', 5, {
    groupId: 'mixed',
    groupGenerationId: -1,
    memberId: '',
    topics: [
      { topic: 'events', partitions: [{ partition: 0, offset: '11' }, { partition: 7, offset: '12' }, { partition: 1, offset: '13' }] },
      { topic: 'missing', partitions: [{ partition: 0, offset: '14' }] },
    ],
  });
  t.deepEqual(
    answer.responses.map((topic) => [topic.topic, topic.partitions.map((partition) => [partition.partition, partition.errorCode])]),
    [
      ['events', [[0, 0], [7, 3], [1, 0]]],
      ['missing', [[0, 3]]],
    ],
  );
  t.is(broker.store.fetchOffset('mixed', 'events', 0)!.offset, 11);
  t.is(broker.store.fetchOffset('mixed', 'events', 1)!.offset, 13);
  t.is(broker.store.fetchOffset('mixed', 'missing', 0), undefined);
});
