/**
 * Static membership (KIP-345): the rows of join-group.ts's table for a member id '' with a known group
 * instance id, fencing of the replaced member id in every request, and the completion rule that keeps
 * static members that did not rejoin. How: a recording fake store (to see the replacement stored, and
 * to fail a write) and manual time.
 */
import test from 'ava';
import { ErrorCode } from '../../../../src/kafka/error-codes.js';
import type { JoinGroupRequest } from '../../../../src/kafka/group-coordinator/messages.js';
import { FakeStore, GROUP, INITIAL_DELAY_MS, REBALANCE_MS, consumerProtocols, isSettled, joinRequest, stableGroup, startCoordinator, storeFailure, syncRequest } from './fixture.js';

const staticJoin = (instance: string, fields: Partial<JoinGroupRequest> = {}): JoinGroupRequest => joinRequest({ version: 5, clientId: instance, groupInstanceId: instance, ...fields });

test('a static member with an unknown instance id joins without MEMBER_ID_REQUIRED, its id prefixed by the instance id', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const join = coordinator.joinGroup(staticJoin('host-1', { clientId: 'consumer' }));
  timers.advance(INITIAL_DELAY_MS);
  const answer = await join;
  t.is(answer.errorCode, ErrorCode.NONE);
  t.true(answer.memberId.startsWith('host-1-'));
});

test('a static follower restarting into a Stable group gets a new id and its old assignment back, without a rebalance; the old id is fenced everywhere', async (t) => {
  const store = new FakeStore();
  const { coordinator, timers } = startCoordinator(store);
  const [leader, follower] = await stableGroup(coordinator, timers, [staticJoin('a'), staticJoin('b')]);
  const oldAssignment = (await coordinator.syncGroup(syncRequest(follower, { groupInstanceId: 'b' }))).assignment;
  const writesBefore = store.upserts.length;
  const restarted = await coordinator.joinGroup(staticJoin('b'));
  t.is(restarted.errorCode, ErrorCode.NONE);
  t.not(restarted.memberId, follower.memberId);
  t.is(restarted.generationId, 1, 'no rebalance');
  t.is(restarted.leader, leader.memberId);
  t.deepEqual(restarted.members, []);
  t.is(store.upserts.length, writesBefore + 1, 'the replacement is stored');
  t.deepEqual(store.upserts.at(-1)?.members.map((member) => member.memberId), [leader.memberId, restarted.memberId]);
  const sync = await coordinator.syncGroup(syncRequest(restarted, { groupInstanceId: 'b' }));
  t.deepEqual([...sync.assignment], [...oldAssignment]);
  t.is((await coordinator.heartbeat({ groupId: GROUP, generationId: 1, memberId: leader.memberId, groupInstanceId: 'a' })).errorCode, ErrorCode.NONE);

  const old = { groupId: GROUP, generationId: 1, memberId: follower.memberId, groupInstanceId: 'b' };
  t.is((await coordinator.heartbeat(old)).errorCode, ErrorCode.FENCED_INSTANCE_ID);
  t.is((await coordinator.syncGroup(syncRequest(follower, { groupInstanceId: 'b' }))).errorCode, ErrorCode.FENCED_INSTANCE_ID);
  t.is((await coordinator.joinGroup(staticJoin('b', { memberId: follower.memberId }))).errorCode, ErrorCode.FENCED_INSTANCE_ID);
  t.is(coordinator.validateCommit(GROUP, follower.memberId, 1, 'b'), ErrorCode.FENCED_INSTANCE_ID);
  const leave = await coordinator.leaveGroup({ version: 3, groupId: GROUP, members: [{ memberId: follower.memberId, groupInstanceId: 'b' }] });
  t.is(leave.members[0].errorCode, ErrorCode.FENCED_INSTANCE_ID);
  t.is((await coordinator.describeGroups([GROUP])).groups[0].groupState, 'Stable');
});

test('a static leader restarting into a Stable group gets the member list with skipAssignment', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader] = await stableGroup(coordinator, timers, [staticJoin('a'), staticJoin('b')]);
  const restarted = await coordinator.joinGroup(staticJoin('a'));
  t.is(restarted.generationId, 1);
  t.is(restarted.leader, restarted.memberId, 'the new id leads');
  t.not(restarted.memberId, leader.memberId);
  t.true(restarted.skipAssignment);
  t.is(restarted.members.length, 2);
});

test('a static member restarting with protocols that change the vote starts a rebalance', async (t) => {
  const { coordinator, timers } = startCoordinator();
  await stableGroup(coordinator, timers, [staticJoin('a')]);
  const restarted = await coordinator.joinGroup(staticJoin('a', { protocols: consumerProtocols(['roundrobin']) }));
  t.is(restarted.generationId, 2);
  t.is(restarted.protocolName, 'roundrobin');
});

test('a static member restarting while the group is CompletingRebalance starts a rebalance', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const joins = [coordinator.joinGroup(staticJoin('a')), coordinator.joinGroup(staticJoin('b'))];
  timers.advance(2 * INITIAL_DELAY_MS);
  const [first, second] = await Promise.all(joins);
  const leader = first.members.length > 0 ? first : second;
  const restarted = coordinator.joinGroup(staticJoin(leader === first ? 'b' : 'a'));
  t.false(await isSettled(restarted));
  t.is((await coordinator.syncGroup(syncRequest(leader, { groupInstanceId: leader === first ? 'a' : 'b' }))).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  void coordinator.joinGroup(staticJoin(leader === first ? 'a' : 'b', { memberId: leader.memberId }));
  t.is((await restarted).generationId, 2);
});

test('a static member restarting while its old id is parked in JoinGroup: the old join is fenced, the new one parks in its place', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader, follower] = await stableGroup(coordinator, timers, [staticJoin('a'), staticJoin('b')]);
  const oldJoin = coordinator.joinGroup(staticJoin('b', { memberId: follower.memberId, protocols: consumerProtocols(['range'], ['u']) }));
  const newJoin = coordinator.joinGroup(staticJoin('b'));
  t.is((await oldJoin).errorCode, ErrorCode.FENCED_INSTANCE_ID);
  void coordinator.joinGroup(staticJoin('a', { memberId: leader.memberId }));
  const answer = await newJoin;
  t.is(answer.generationId, 2);
  t.not(answer.memberId, follower.memberId);
});

test('a failed store write of a static replacement puts the old id back and answers with the write\'s code', async (t) => {
  const store = new FakeStore();
  const { coordinator, timers } = startCoordinator(store);
  const [, follower] = await stableGroup(coordinator, timers, [staticJoin('a'), staticJoin('b')]);
  store.failNext = storeFailure('STORE_CLOSED');
  const restarted = await coordinator.joinGroup(staticJoin('b'));
  t.is(restarted.errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  t.is((await coordinator.heartbeat({ groupId: GROUP, generationId: 1, memberId: follower.memberId, groupInstanceId: 'b' })).errorCode, ErrorCode.NONE);
});

test('at the rebalance timeout a static member that did not rejoin stays (its session decides); a dynamic one goes', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const sessionMs = 60_000;
  const [leader, staticFollower, dynamicFollower] = await stableGroup(coordinator, timers, [
    staticJoin('a', { sessionTimeoutMs: sessionMs }),
    staticJoin('b', { sessionTimeoutMs: sessionMs }),
    joinRequest({ clientId: 'c', sessionTimeoutMs: sessionMs }),
  ]);
  const rejoin = coordinator.joinGroup(staticJoin('a', { memberId: leader.memberId, sessionTimeoutMs: sessionMs }));
  timers.advance(REBALANCE_MS);
  const answer = await rejoin;
  t.is(answer.generationId, 2);
  t.deepEqual(new Set(answer.members.map((member) => member.memberId)), new Set([leader.memberId, staticFollower.memberId]));
  t.is((await coordinator.heartbeat({ groupId: GROUP, generationId: 2, memberId: dynamicFollower.memberId, groupInstanceId: null })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  t.is((await coordinator.heartbeat({ groupId: GROUP, generationId: 2, memberId: staticFollower.memberId, groupInstanceId: 'b' })).errorCode, ErrorCode.NONE);
});

test('a known member id sent with an instance id the group does not know gets UNKNOWN_MEMBER_ID', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader] = await stableGroup(coordinator, timers, [joinRequest()]);
  t.is((await coordinator.joinGroup(staticJoin('stranger', { memberId: leader.memberId }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});
