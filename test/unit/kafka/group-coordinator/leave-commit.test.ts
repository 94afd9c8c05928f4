/**
 * LeaveGroup (v0 with one member id, v3 with a batch and per-member codes) and the commit checks of
 * `validateCommit`: one test per row of their tables in group-coordinator.ts, the commit rows in each
 * group state. How: a recording fake store and manual time.
 */
import test from 'ava';
import { ErrorCode } from '../../../../src/kafka/error-codes.js';
import { FakeStore, GROUP, INITIAL_DELAY_MS, isSettled, joinRequest, stableGroup, startCoordinator, syncRequest } from './fixture.js';

test('leave v0: the member leaves, the others rebalance without it', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader, follower] = await stableGroup(coordinator, timers, [joinRequest({ clientId: 'a' }), joinRequest({ clientId: 'b' })]);
  const leave = await coordinator.leaveGroup({ version: 0, groupId: GROUP, members: [{ memberId: follower.memberId, groupInstanceId: null }] });
  t.deepEqual(leave, { errorCode: ErrorCode.NONE, members: [] });
  t.is((await coordinator.heartbeat({ groupId: GROUP, generationId: 1, memberId: leader.memberId, groupInstanceId: null })).errorCode, ErrorCode.REBALANCE_IN_PROGRESS);
  const rejoin = await coordinator.joinGroup(joinRequest({ memberId: leader.memberId }));
  t.is(rejoin.generationId, 2);
  t.deepEqual(rejoin.members.map((member) => member.memberId), [leader.memberId]);
});

test('leave v0 of an unknown member: UNKNOWN_MEMBER_ID as the one code; of a missing group too', async (t) => {
  const { coordinator, timers } = startCoordinator();
  await stableGroup(coordinator, timers, [joinRequest()]);
  t.deepEqual(await coordinator.leaveGroup({ version: 0, groupId: GROUP, members: [{ memberId: 'ghost', groupInstanceId: null }] }), { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, members: [] });
  t.deepEqual(await coordinator.leaveGroup({ version: 1, groupId: 'missing', members: [{ memberId: 'ghost', groupInstanceId: null }] }), { errorCode: ErrorCode.UNKNOWN_MEMBER_ID, members: [] });
});

test('leave v3: a batch by member id and by instance id, each with its own code; everyone gone leaves the group Empty and stored', async (t) => {
  const store = new FakeStore();
  const { coordinator, timers } = startCoordinator(store);
  const [leader, follower] = await stableGroup(coordinator, timers, [
    joinRequest({ version: 5, clientId: 'a', groupInstanceId: 'a' }),
    joinRequest({ version: 3, clientId: 'b' }),
  ]);
  const leave = await coordinator.leaveGroup({
    version: 3,
    groupId: GROUP,
    members: [
      { memberId: '', groupInstanceId: 'a' },
      { memberId: follower.memberId, groupInstanceId: null },
      { memberId: 'ghost', groupInstanceId: null },
      { memberId: '', groupInstanceId: 'nobody' },
    ],
  });
  t.is(leave.errorCode, ErrorCode.NONE);
  t.deepEqual(leave.members.map((member) => member.errorCode), [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.UNKNOWN_MEMBER_ID]);
  const described = (await coordinator.describeGroups([GROUP])).groups[0];
  t.is(described.groupState, 'Empty');
  await coordinator.close();
  t.is(store.upserts.at(-1)?.state, 'Empty');
  t.is(store.upserts.at(-1)?.generation, 2);
  t.is(leader.memberId.startsWith('a-'), true);
});

test('leave of a member parked in JoinGroup answers its join UNKNOWN_MEMBER_ID; the rebalance completes without it', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader, follower] = await stableGroup(coordinator, timers, [joinRequest({ clientId: 'a' }), joinRequest({ clientId: 'b' })]);
  const newcomer = coordinator.joinGroup(joinRequest({ clientId: 'c' }));
  const leaderJoin = coordinator.joinGroup(joinRequest({ memberId: leader.memberId }));
  t.false(await isSettled(leaderJoin), 'b has not rejoined yet');
  const leaving = (await coordinator.describeGroups([GROUP])).groups[0].members.find((member) => member.clientId === 'c');
  await coordinator.leaveGroup({ version: 3, groupId: GROUP, members: [{ memberId: leaving!.memberId, groupInstanceId: null }] });
  t.is((await newcomer).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  void coordinator.joinGroup(joinRequest({ memberId: follower.memberId }));
  t.deepEqual(new Set((await leaderJoin).members.map((member) => member.memberId)), new Set([leader.memberId, follower.memberId]));
});

test('leave of a member id handed out with MEMBER_ID_REQUIRED forgets it', async (t) => {
  const { coordinator } = startCoordinator();
  const required = await coordinator.joinGroup(joinRequest({ version: 4 }));
  const leave = await coordinator.leaveGroup({ version: 3, groupId: GROUP, members: [{ memberId: required.memberId, groupInstanceId: null }] });
  t.is(leave.members[0].errorCode, ErrorCode.NONE);
  t.is((await coordinator.joinGroup(joinRequest({ version: 4, memberId: required.memberId }))).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
});

test('commit: a group without members takes commits of generation -1 and member \'\' (simple consumer), missing or Empty', async (t) => {
  const { coordinator, timers } = startCoordinator();
  t.is(coordinator.validateCommit('simple', '', -1, null), ErrorCode.NONE);
  t.is((await coordinator.describeGroups(['simple'])).groups[0].groupState, 'Empty', 'the group now exists, Empty');
  const [leader] = await stableGroup(coordinator, timers, [joinRequest()]);
  await coordinator.leaveGroup({ version: 0, groupId: GROUP, members: [{ memberId: leader.memberId, groupInstanceId: null }] });
  t.is(coordinator.validateCommit(GROUP, '', -1, null), ErrorCode.NONE);
});

test('commit: in Stable, the member of the generation → NONE; unknown member (checked first) → UNKNOWN_MEMBER_ID; wrong generation → ILLEGAL_GENERATION', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader] = await stableGroup(coordinator, timers, [joinRequest()]);
  t.is(coordinator.validateCommit(GROUP, leader.memberId, 1, null), ErrorCode.NONE);
  t.is(coordinator.validateCommit(GROUP, 'ghost', 7, null), ErrorCode.UNKNOWN_MEMBER_ID);
  t.is(coordinator.validateCommit(GROUP, leader.memberId, 7, null), ErrorCode.ILLEGAL_GENERATION);
  t.is(coordinator.validateCommit(GROUP, '', -1, null), ErrorCode.UNKNOWN_MEMBER_ID, 'a group with members takes no simple commits');
  t.is(coordinator.validateCommit('missing', 'ghost', 1, null), ErrorCode.UNKNOWN_MEMBER_ID);
});

test('commit: accepted while PreparingRebalance from a member of the current generation', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader, follower] = await stableGroup(coordinator, timers, [joinRequest({ clientId: 'a' }), joinRequest({ clientId: 'b' })]);
  void coordinator.joinGroup(joinRequest({ memberId: leader.memberId }));
  t.is((await coordinator.describeGroups([GROUP])).groups[0].groupState, 'PreparingRebalance');
  t.is(coordinator.validateCommit(GROUP, follower.memberId, 1, null), ErrorCode.NONE);
  t.is(coordinator.validateCommit(GROUP, follower.memberId, 0, null), ErrorCode.ILLEGAL_GENERATION);
});

test('commit: during CompletingRebalance → REBALANCE_IN_PROGRESS', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const join = coordinator.joinGroup(joinRequest());
  timers.advance(INITIAL_DELAY_MS);
  const leader = await join;
  t.is(coordinator.validateCommit(GROUP, leader.memberId, 1, null), ErrorCode.REBALANCE_IN_PROGRESS);
  await coordinator.syncGroup(syncRequest(leader, { assignments: [{ memberId: leader.memberId, assignment: Uint8Array.of(1) }] }));
  t.is(coordinator.validateCommit(GROUP, leader.memberId, 1, null), ErrorCode.NONE);
});

test('commit: a Dead group (being deleted) → COORDINATOR_NOT_AVAILABLE; an empty group id → INVALID_GROUP_ID', async (t) => {
  const { coordinator } = startCoordinator();
  t.is(coordinator.validateCommit(GROUP, '', -1, null), ErrorCode.NONE);
  const deleting = coordinator.deleteGroups([GROUP]);
  t.is(coordinator.validateCommit(GROUP, '', -1, null), ErrorCode.COORDINATOR_NOT_AVAILABLE);
  await deleting;
  t.is(coordinator.validateCommit('', '', -1, null), ErrorCode.INVALID_GROUP_ID);
});

test('a commit restarts the member\'s session timer, as a heartbeat does', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader] = await stableGroup(coordinator, timers, [joinRequest()]);
  timers.advance(9_000);
  t.is(coordinator.validateCommit(GROUP, leader.memberId, 1, null), ErrorCode.NONE);
  timers.advance(9_000);
  t.is((await coordinator.heartbeat({ groupId: GROUP, generationId: 1, memberId: leader.memberId, groupInstanceId: null })).errorCode, ErrorCode.NONE);
});
