/**
 * SyncGroup and Heartbeat, one test per row of their tables in group-coordinator.ts, plus the session
 * and sync-deadline rows of rebalancer.ts. How: a recording fake store and manual time; the store's
 * writes are checked where a move to Stable or Empty must write the group.
 */
import test from 'ava';
import { ErrorCode } from '../../../../src/kafka/error-codes.js';
import type { JoinGroupResponse } from '../../../../src/kafka/group-coordinator/messages.js';
import {
  FakeStore,
  GROUP,
  INITIAL_DELAY_MS,
  REBALANCE_MS,
  SESSION_MS,
  assignEach,
  consumerProtocols,
  isSettled,
  joinRequest,
  stableGroup,
  startCoordinator,
  storeFailure,
  syncRequest,
} from './fixture.js';

/** Two members joined, the group CompletingRebalance; returns [leader, follower]. */
async function completing(coordinator: ReturnType<typeof startCoordinator>['coordinator'], timers: ReturnType<typeof startCoordinator>['timers']): Promise<JoinGroupResponse[]> {
  const joins = [coordinator.joinGroup(joinRequest({ clientId: 'a' })), coordinator.joinGroup(joinRequest({ clientId: 'b' }))];
  timers.advance(2 * INITIAL_DELAY_MS);
  const answers = await Promise.all(joins);
  return answers[0].members.length > 0 ? answers : [answers[1], answers[0]];
}

const beat = (join: JoinGroupResponse, generationId = join.generationId, groupInstanceId: string | null = null) => ({ groupId: GROUP, generationId, memberId: join.memberId, groupInstanceId });

test('sync: the follower parks until the leader syncs; each gets its own assignment; the group is Stable and stored', async (t) => {
  const store = new FakeStore();
  const { coordinator, timers } = startCoordinator(store);
  const [leader, follower] = await completing(coordinator, timers);
  const followerSync = coordinator.syncGroup(syncRequest(follower));
  t.false(await isSettled(followerSync));
  t.is(store.upserts.length, 0, 'nothing stored before the leader\'s assignment');
  const leaderSync = await coordinator.syncGroup(syncRequest(leader, { assignments: assignEach(leader) }));
  const followerAnswer = await followerSync;
  const position = (memberId: string) => leader.members.findIndex((member) => member.memberId === memberId) + 1;
  t.deepEqual([...leaderSync.assignment], [position(leader.memberId)]);
  t.deepEqual([...followerAnswer.assignment], [position(follower.memberId)]);
  t.is(followerAnswer.protocolName, 'range');
  t.is(store.upserts.length, 1);
  const stored = store.upserts[0];
  t.is(stored.state, 'Stable');
  t.is(stored.generation, 1);
  t.is(stored.leader, leader.memberId);
  t.is(stored.protocol, 'range');
  t.deepEqual(stored.members.map((member) => member.topics), [['t'], ['t']]);
  t.deepEqual((await coordinator.describeGroups([GROUP])).groups[0].groupState, 'Stable');
});

test('sync in Stable answers the member\'s current assignment', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader] = await stableGroup(coordinator, timers, [joinRequest()]);
  const again = await coordinator.syncGroup(syncRequest(leader));
  t.is(again.errorCode, ErrorCode.NONE);
  t.deepEqual([...again.assignment], [1]);
});

test('sync: unknown member → UNKNOWN_MEMBER_ID, checked before the generation; wrong generation → ILLEGAL_GENERATION', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader] = await stableGroup(coordinator, timers, [joinRequest()]);
  t.is((await coordinator.syncGroup(syncRequest(leader, { memberId: 'ghost', generationId: 7 }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  t.is((await coordinator.syncGroup(syncRequest(leader, { generationId: 7 }))).errorCode, ErrorCode.ILLEGAL_GENERATION);
  t.is((await coordinator.syncGroup(syncRequest(leader, { groupId: 'missing' }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test('sync while PreparingRebalance → REBALANCE_IN_PROGRESS', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader, follower] = await stableGroup(coordinator, timers, [joinRequest({ clientId: 'a' }), joinRequest({ clientId: 'b' })]);
  void coordinator.joinGroup(joinRequest({ memberId: leader.memberId }));
  t.is((await coordinator.syncGroup(syncRequest(follower))).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
});

test('sync v5 naming another protocol type or name → INCONSISTENT_GROUP_PROTOCOL', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader] = await stableGroup(coordinator, timers, [joinRequest()]);
  t.is((await coordinator.syncGroup(syncRequest(leader, { version: 5, protocolType: 'connect' }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  t.is((await coordinator.syncGroup(syncRequest(leader, { version: 5, protocolType: 'consumer', protocolName: 'sticky' }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  t.is((await coordinator.syncGroup(syncRequest(leader, { version: 5, protocolType: 'consumer', protocolName: 'range' }))).errorCode, ErrorCode.NONE);
});

test('a parked sync is answered REBALANCE_IN_PROGRESS when a rebalance starts before the leader syncs', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [, follower] = await completing(coordinator, timers);
  const parked = coordinator.syncGroup(syncRequest(follower));
  void coordinator.joinGroup(joinRequest({ clientId: 'c' }));
  t.is((await parked).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
});

test('a failed store write of the assignment answers the parked syncs with its code and starts a rebalance', async (t) => {
  const store = new FakeStore();
  const { coordinator, timers } = startCoordinator(store);
  const [leader, follower] = await completing(coordinator, timers);
  const followerSync = coordinator.syncGroup(syncRequest(follower));
  store.failNext = storeFailure('STORE_READ_ONLY');
  const leaderSync = await coordinator.syncGroup(syncRequest(leader, { assignments: assignEach(leader) }));
  t.is(leaderSync.errorCode, ErrorCode.NOT_COORDINATOR, 'a store that cannot write: Kafka\'s code for a failed log append');
  t.is((await followerSync).errorCode, ErrorCode.NOT_COORDINATOR);
  t.is((await coordinator.heartbeat(beat(follower))).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
});

test('the sync deadline removes members that never synced, and the group rebalances', async (t) => {
  const { coordinator, timers } = startCoordinator(new FakeStore());
  const [leader, follower] = await completing(coordinator, timers);
  // The leader never syncs but keeps heartbeating; the follower parks.
  const parked = coordinator.syncGroup(syncRequest(follower));
  for (let elapsedMs = 0; elapsedMs + SESSION_MS / 2 < REBALANCE_MS; elapsedMs += SESSION_MS / 2) {
    timers.advance(SESSION_MS / 2);
    t.is((await coordinator.heartbeat(beat(leader))).errorCode, ErrorCode.NONE);
  }
  t.false(await isSettled(parked));
  timers.advance(SESSION_MS / 2); // the sync deadline: a rebalance timeout after the join completed
  t.is((await parked).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  t.is((await coordinator.heartbeat(beat(leader))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  const rejoin = await coordinator.joinGroup(joinRequest({ memberId: follower.memberId }));
  t.is(rejoin.generationId, 2);
  t.is(rejoin.leader, follower.memberId);
});

test('heartbeat in Stable: NONE, and it keeps the member past its session timeout', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader] = await stableGroup(coordinator, timers, [joinRequest()]);
  for (let i = 0; i < 5; i++) {
    timers.advance(SESSION_MS - 1);
    t.is((await coordinator.heartbeat(beat(leader))).errorCode, ErrorCode.NONE);
  }
  t.is((await coordinator.describeGroups([GROUP])).groups[0].groupState, 'Stable');
});

test('heartbeat in CompletingRebalance: NONE', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [, follower] = await completing(coordinator, timers);
  t.is((await coordinator.heartbeat(beat(follower))).errorCode, ErrorCode.NONE);
});

test('heartbeat in PreparingRebalance: REBALANCE_IN_PROGRESS', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader, follower] = await stableGroup(coordinator, timers, [joinRequest({ clientId: 'a' }), joinRequest({ clientId: 'b' })]);
  void coordinator.joinGroup(joinRequest({ memberId: leader.memberId }));
  t.is((await coordinator.heartbeat(beat(follower))).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
});

test('heartbeat: unknown member (before the generation) → UNKNOWN_MEMBER_ID; wrong generation → ILLEGAL_GENERATION; Empty group → UNKNOWN_MEMBER_ID', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader] = await stableGroup(coordinator, timers, [joinRequest()]);
  t.is((await coordinator.heartbeat({ ...beat(leader, 9), memberId: 'ghost' })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  t.is((await coordinator.heartbeat(beat(leader, 9))).errorCode, ErrorCode.ILLEGAL_GENERATION);
  await coordinator.leaveGroup({ version: 0, groupId: GROUP, members: [{ memberId: leader.memberId, groupInstanceId: null }] });
  t.is((await coordinator.describeGroups([GROUP])).groups[0].groupState, 'Empty');
  t.is((await coordinator.heartbeat(beat(leader, 2))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test('a member whose session expires is removed and the group rebalances without it', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader, follower] = await stableGroup(coordinator, timers, [joinRequest({ clientId: 'a' }), joinRequest({ clientId: 'b' })]);
  timers.advance(SESSION_MS - 1);
  t.is((await coordinator.heartbeat(beat(leader))).errorCode, ErrorCode.NONE);
  timers.advance(1); // the follower's session passes
  t.is((await coordinator.heartbeat(beat(leader))).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  const rejoin = await coordinator.joinGroup(joinRequest({ memberId: leader.memberId }));
  t.is(rejoin.generationId, 2);
  t.deepEqual(rejoin.members.map((member) => member.memberId), [leader.memberId]);
  t.is((await coordinator.heartbeat(beat(follower, 1))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test('the last member\'s session expiring leaves the group Empty, one generation on, stored', async (t) => {
  const store = new FakeStore();
  const { coordinator, timers } = startCoordinator(store);
  await stableGroup(coordinator, timers, [joinRequest()]);
  timers.advance(SESSION_MS);
  await coordinator.close(); // waits for the store writes already started
  const last = store.upserts.at(-1);
  t.is(last?.state, 'Empty');
  t.is(last?.generation, 2);
  t.deepEqual(last?.members, []);
});

test('a member parked in JoinGroup does not expire while it waits', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader, follower] = await stableGroup(coordinator, timers, [joinRequest({ clientId: 'a', rebalanceTimeoutMs: 60_000 }), joinRequest({ clientId: 'b' })]);
  const leaderRejoin = coordinator.joinGroup(joinRequest({ memberId: leader.memberId, rebalanceTimeoutMs: 60_000, protocols: consumerProtocols(['range'], ['x']) }));
  for (let i = 0; i < 4; i++) {
    timers.advance(SESSION_MS - 1);
    t.is((await coordinator.heartbeat(beat(follower))).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  }
  void coordinator.joinGroup(joinRequest({ memberId: follower.memberId }));
  const answer = await leaderRejoin;
  t.is(answer.members.length, 2);
});

test('heartbeat, sync and leave to a Dead group (being deleted): COORDINATOR_NOT_AVAILABLE', async (t) => {
  const { coordinator } = startCoordinator();
  t.is(coordinator.validateCommit(GROUP, '', -1, null), ErrorCode.NONE);
  const deleting = coordinator.deleteGroups([GROUP]);
  t.is((await coordinator.heartbeat({ groupId: GROUP, generationId: 0, memberId: 'm', groupInstanceId: null })).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  t.is((await coordinator.syncGroup({ version: 3, groupId: GROUP, generationId: 0, memberId: 'm', groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] })).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  t.is((await coordinator.leaveGroup({ version: 3, groupId: GROUP, members: [{ memberId: 'm', groupInstanceId: null }] })).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  await deleting;
});
