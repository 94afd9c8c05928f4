/**
 * JoinGroup, one test per row of join-group.ts's decision table and of the rebalance rows of
 * rebalancer.ts (initial delay, completion, rebalance timeout). How: a coordinator over a recording fake
 * store with manual time; a test parks joins, advances time by hand and checks who was answered, with
 * what, and when (`isSettled` tells a parked join from an answered one).
 */
import test from 'ava';
import { ErrorCode } from '../../../../src/kafka/error-codes.js';
import {
  FakeStore,
  GROUP,
  INITIAL_DELAY_MS,
  REBALANCE_MS,
  SESSION_MS,
  consumerProtocols,
  isSettled,
  joinRequest,
  stableGroup,
  startCoordinator,
} from './fixture.js';

test('one member: the join parks through the initial delay, then it leads generation 1 alone', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const join = coordinator.joinGroup(joinRequest());
  timers.advance(INITIAL_DELAY_MS - 1);
  t.false(await isSettled(join));
  timers.advance(1);
  const answer = await join;
  t.is(answer.errorCode, ErrorCode.NONE);
  t.is(answer.generationId, 1);
  t.is(answer.leader, answer.memberId);
  t.is(answer.protocolName, 'range');
  t.is(answer.protocolType, 'consumer');
  t.deepEqual(answer.members.map((member) => member.memberId), [answer.memberId]);
  t.true(answer.memberId.startsWith('client-'));
});

test('two members: the second join extends the initial delay once; the leader gets both members, the follower none', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const first = coordinator.joinGroup(joinRequest({ clientId: 'a' }));
  timers.advance(1_000);
  const second = coordinator.joinGroup(joinRequest({ clientId: 'b' }));
  timers.advance(INITIAL_DELAY_MS - 1_000);
  t.false(await isSettled(first), 'a member joined during the delay: it waits another step');
  timers.advance(INITIAL_DELAY_MS);
  const [leader, follower] = await Promise.all([first, second]);
  t.is(leader.leader, leader.memberId);
  t.is(follower.leader, leader.memberId);
  t.is(leader.generationId, 1);
  t.is(follower.generationId, 1);
  t.deepEqual(new Set(leader.members.map((member) => member.memberId)), new Set([leader.memberId, follower.memberId]));
  t.deepEqual(follower.members, []);
  t.true(leader.members.every((member) => member.metadata.length > 0), 'the leader sees each member\'s subscription');
});

test('three members joining one after another keep extending the delay, never past the rebalance timeout', async (t) => {
  const { coordinator, timers } = startCoordinator(new FakeStore(), { initialRebalanceDelayMs: 10_000 });
  // rebalance timeout 25 s: the delay runs 10 s, then at most 15 s more, in steps of at most 10 s.
  const joins = [coordinator.joinGroup(joinRequest({ clientId: 'a', rebalanceTimeoutMs: 25_000 }))];
  timers.advance(9_000);
  joins.push(coordinator.joinGroup(joinRequest({ clientId: 'b', rebalanceTimeoutMs: 25_000 })));
  timers.advance(10_000); // 19 s: the step from 10 s to 20 s runs; b joined during the first
  joins.push(coordinator.joinGroup(joinRequest({ clientId: 'c', rebalanceTimeoutMs: 25_000 })));
  timers.advance(1_000); // 20 s: c joined during the second step; 5 s are left
  t.false(await isSettled(joins[0]));
  timers.advance(4_999);
  t.false(await isSettled(joins[0]));
  timers.advance(1); // 25 s: the rebalance timeout is used up
  const answers = await Promise.all(joins);
  t.true(answers.every((answer) => answer.errorCode === ErrorCode.NONE && answer.generationId === 1));
  t.is(answers.filter((answer) => answer.members.length === 3).length, 1, 'exactly one leader, with all three');
});

test('a join to a group past its initial rebalance completes as soon as every member rejoined', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader, follower] = await stableGroup(coordinator, timers, [joinRequest({ clientId: 'a' }), joinRequest({ clientId: 'b' })]);
  const newcomer = coordinator.joinGroup(joinRequest({ clientId: 'c' }));
  t.false(await isSettled(newcomer));
  t.is((await coordinator.heartbeat({ groupId: GROUP, generationId: 1, memberId: follower.memberId, groupInstanceId: null })).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  const rejoins = [leader, follower].map((join) => coordinator.joinGroup(joinRequest({ memberId: join.memberId })));
  const answers = await Promise.all([newcomer, ...rejoins]);
  t.true(answers.every((answer) => answer.generationId === 2));
  t.is(answers.find((answer) => answer.members.length > 0)?.memberId, leader.memberId, 'the leader stays the leader');
});

test('the vote picks the protocol most members prefer among those all support', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const joins = [
    coordinator.joinGroup(joinRequest({ clientId: 'a', protocols: consumerProtocols(['range', 'roundrobin', 'sticky']) })),
    coordinator.joinGroup(joinRequest({ clientId: 'b', protocols: consumerProtocols(['roundrobin', 'range']) })),
    coordinator.joinGroup(joinRequest({ clientId: 'c', protocols: consumerProtocols(['roundrobin', 'range', 'sticky']) })),
  ];
  timers.advance(2 * INITIAL_DELAY_MS);
  const answers = await Promise.all(joins);
  t.deepEqual(answers.map((answer) => answer.protocolName), ['roundrobin', 'roundrobin', 'roundrobin']);
});

test('a join sharing no protocol with the members, or of another protocol type, gets INCONSISTENT_GROUP_PROTOCOL', async (t) => {
  const { coordinator } = startCoordinator();
  void coordinator.joinGroup(joinRequest({ protocols: consumerProtocols(['range']) }));
  t.is((await coordinator.joinGroup(joinRequest({ protocols: consumerProtocols(['sticky']) }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  t.is((await coordinator.joinGroup(joinRequest({ protocolType: 'connect' }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  t.is((await coordinator.joinGroup(joinRequest({ groupId: 'other', protocolType: '' }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  t.is((await coordinator.joinGroup(joinRequest({ groupId: 'other', protocols: [] }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  t.deepEqual((await coordinator.listGroups()).groups.map((group) => group.groupId), [GROUP], 'a group created by a refused join is not kept');
});

test('v4+: an unknown member gets MEMBER_ID_REQUIRED with a fresh id, and joins with it; v0–v3 get the id at once', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const first = await coordinator.joinGroup(joinRequest({ version: 4, clientId: 'app' }));
  t.is(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  t.regex(first.memberId, /^app-[0-9a-f-]{36}$/);
  const join = coordinator.joinGroup(joinRequest({ version: 4, clientId: 'app', memberId: first.memberId }));
  timers.advance(INITIAL_DELAY_MS);
  t.is((await join).memberId, first.memberId);
  t.is((await join).errorCode, ErrorCode.NONE);
});

test('a member id handed out with MEMBER_ID_REQUIRED holds the rebalance until it rejoins or its session passes', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader] = await stableGroup(coordinator, timers, [joinRequest()]);
  const required = await coordinator.joinGroup(joinRequest({ version: 4 }));
  t.is(required.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  const rejoin = coordinator.joinGroup(joinRequest({ memberId: leader.memberId }));
  t.false(await isSettled(rejoin), 'stable member rejoined as the leader: the pending id is still awaited');
  timers.advance(SESSION_MS);
  const answer = await rejoin;
  t.is(answer.generationId, 2);
  t.deepEqual(answer.members.map((member) => member.memberId), [leader.memberId], 'the pending id expired');
  t.is((await coordinator.joinGroup(joinRequest({ version: 4, memberId: required.memberId }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test('session timeouts outside [min, max] get INVALID_SESSION_TIMEOUT', async (t) => {
  const { coordinator } = startCoordinator(new FakeStore(), { minSessionTimeoutMs: 6_000, maxSessionTimeoutMs: 60_000 });
  t.is((await coordinator.joinGroup(joinRequest({ sessionTimeoutMs: 5_999 }))).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  t.is((await coordinator.joinGroup(joinRequest({ sessionTimeoutMs: 60_001 }))).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  t.false(await isSettled(coordinator.joinGroup(joinRequest({ sessionTimeoutMs: 60_000 }))), 'within bounds: parked');
});

test('a non-empty member id the group does not know gets UNKNOWN_MEMBER_ID (group missing or not)', async (t) => {
  const { coordinator, timers } = startCoordinator();
  t.is((await coordinator.joinGroup(joinRequest({ memberId: 'ghost' }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  await stableGroup(coordinator, timers, [joinRequest()]);
  t.is((await coordinator.joinGroup(joinRequest({ memberId: 'ghost' }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test('a group at group.max.size refuses another member with GROUP_MAX_SIZE_REACHED', async (t) => {
  const { coordinator } = startCoordinator(new FakeStore(), { groupMaxSize: 2 });
  void coordinator.joinGroup(joinRequest());
  t.is((await coordinator.joinGroup(joinRequest({ version: 4 }))).errorCode, ErrorCode.MEMBER_ID_REQUIRED, 'a pending id counts');
  t.is((await coordinator.joinGroup(joinRequest())).errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
});

test('an empty group id gets INVALID_GROUP_ID', async (t) => {
  const { coordinator } = startCoordinator();
  t.is((await coordinator.joinGroup(joinRequest({ groupId: '' }))).errorCode, ErrorCode.INVALID_GROUP_ID);
});

test('CompletingRebalance: a member rejoining with the same protocols gets the generation\'s answer again; with new ones, a rebalance', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const joins = [coordinator.joinGroup(joinRequest({ clientId: 'a' })), coordinator.joinGroup(joinRequest({ clientId: 'b' }))];
  timers.advance(2 * INITIAL_DELAY_MS);
  const [leader, follower] = await Promise.all(joins);
  const again = await coordinator.joinGroup(joinRequest({ memberId: leader.memberId }));
  t.is(again.generationId, 1);
  t.is(again.members.length, 2, 'the leader gets the member list again');
  const changed = coordinator.joinGroup(joinRequest({ memberId: follower.memberId, protocols: consumerProtocols(['range'], ['t', 'u']) }));
  t.false(await isSettled(changed));
  const leaderRejoin = coordinator.joinGroup(joinRequest({ memberId: leader.memberId }));
  t.is((await changed).generationId, 2);
  t.is((await leaderRejoin).generationId, 2);
});

test('Stable: a follower rejoining unchanged gets its answer without a rebalance; the leader rejoining starts one', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader, follower] = await stableGroup(coordinator, timers, [joinRequest({ clientId: 'a' }), joinRequest({ clientId: 'b' })]);
  const same = await coordinator.joinGroup(joinRequest({ memberId: follower.memberId }));
  t.is(same.errorCode, ErrorCode.NONE);
  t.is(same.generationId, 1);
  t.deepEqual(same.members, []);
  t.is((await coordinator.heartbeat({ groupId: GROUP, generationId: 1, memberId: follower.memberId, groupInstanceId: null })).errorCode, ErrorCode.NONE);
  const leaderRejoin = coordinator.joinGroup(joinRequest({ memberId: leader.memberId }));
  t.is((await coordinator.heartbeat({ groupId: GROUP, generationId: 1, memberId: follower.memberId, groupInstanceId: null })).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  void coordinator.joinGroup(joinRequest({ memberId: follower.memberId }));
  t.is((await leaderRejoin).generationId, 2);
});

test('Stable: a member rejoining with changed protocols starts a rebalance', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader, follower] = await stableGroup(coordinator, timers, [joinRequest({ clientId: 'a' }), joinRequest({ clientId: 'b' })]);
  const changed = coordinator.joinGroup(joinRequest({ memberId: follower.memberId, protocols: consumerProtocols(['range'], ['u']) }));
  t.false(await isSettled(changed));
  void coordinator.joinGroup(joinRequest({ memberId: leader.memberId }));
  t.is((await changed).generationId, 2);
});

test('the rebalance timeout removes members that did not rejoin; the rest form the next generation', async (t) => {
  const { coordinator, timers, } = startCoordinator();
  const [leader, follower] = await stableGroup(coordinator, timers, [joinRequest({ clientId: 'a', sessionTimeoutMs: 60_000 }), joinRequest({ clientId: 'b', sessionTimeoutMs: 60_000 })]);
  const rejoin = coordinator.joinGroup(joinRequest({ memberId: follower.memberId, sessionTimeoutMs: 60_000, protocols: consumerProtocols(['range'], ['u']) }));
  timers.advance(REBALANCE_MS - 1);
  t.false(await isSettled(rejoin));
  timers.advance(1);
  const answer = await rejoin;
  t.is(answer.generationId, 2);
  t.is(answer.leader, follower.memberId, 'the old leader is gone; the member that rejoined leads');
  t.deepEqual(answer.members.map((member) => member.memberId), [follower.memberId]);
  t.is((await coordinator.heartbeat({ groupId: GROUP, generationId: 1, memberId: leader.memberId, groupInstanceId: null })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test('a join to a Dead group (being deleted) gets COORDINATOR_NOT_AVAILABLE', async (t) => {
  const store = new FakeStore();
  const { coordinator } = startCoordinator(store);
  t.is(coordinator.validateCommit(GROUP, '', -1, null), ErrorCode.NONE); // an Empty group, in memory
  const deleting = coordinator.deleteGroups([GROUP]);
  t.is((await coordinator.joinGroup(joinRequest())).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  t.is((await deleting).results[0].errorCode, ErrorCode.NONE);
});

test('a member id from the broker stays within the store\'s id length even for a very long client id', async (t) => {
  const { coordinator } = startCoordinator();
  const answer = await coordinator.joinGroup(joinRequest({ version: 4, clientId: 'c'.repeat(5_000) }));
  t.is(answer.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
  t.is(answer.memberId.length, 1024);
});

test('a known member rejoining with another protocol type, or no protocol the others support, gets INCONSISTENT_GROUP_PROTOCOL', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [, follower] = await stableGroup(coordinator, timers, [joinRequest({ clientId: 'a' }), joinRequest({ clientId: 'b' })]);
  t.is((await coordinator.joinGroup(joinRequest({ memberId: follower.memberId, protocolType: 'connect' }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  t.is((await coordinator.joinGroup(joinRequest({ memberId: follower.memberId, protocols: consumerProtocols(['sticky']) }))).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
});

test('a group that went Empty waits the initial delay again on its next join; the generation carries on', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader] = await stableGroup(coordinator, timers, [joinRequest()]);
  await coordinator.leaveGroup({ version: 0, groupId: GROUP, members: [{ memberId: leader.memberId, groupInstanceId: null }] });
  const join = coordinator.joinGroup(joinRequest({ protocolType: 'other-type' }));
  timers.advance(INITIAL_DELAY_MS - 1);
  t.false(await isSettled(join));
  timers.advance(1);
  const answer = await join;
  t.is(answer.generationId, 3, 'generation 2 was the move to Empty');
  t.is(answer.protocolType, 'other-type', 'an Empty group takes any protocol type');
});
