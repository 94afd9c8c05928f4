/**
 * DescribeGroups, ListGroups and DeleteGroups: one test per row of DeleteGroups' table, and the sources
 * ListGroups merges (the coordinator, the store's records, groups with only offsets). Also the
 * coordinator's life cycle: requests before `load()`, and `close()` answering parked requests. How: a
 * recording fake store (with planted records and offsets) and manual time.
 */
import test from 'ava';
import { ErrorCode } from '../../../../src/kafka/error-codes.js';
import { GroupCoordinator } from '../../../../src/kafka/group-coordinator/group-coordinator.js';
import { ManualTimers } from '../../../../src/kafka/group-coordinator/timers.js';
import { FakeStore, GROUP, INITIAL_DELAY_MS, isSettled, joinRequest, stableGroup, startCoordinator, storeFailure, syncRequest } from './fixture.js';

test('describe: a Stable group shows its protocol, members, metadata and assignments; a missing one is Dead', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const [leader] = await stableGroup(coordinator, timers, [joinRequest({ clientId: 'a', clientHost: '/10.1.1.1' })]);
  const { groups } = await coordinator.describeGroups([GROUP, 'missing']);
  t.is(groups[0].groupState, 'Stable');
  t.is(groups[0].protocolType, 'consumer');
  t.is(groups[0].protocolData, 'range');
  t.is(groups[0].members[0].memberId, leader.memberId);
  t.is(groups[0].members[0].clientHost, '/10.1.1.1');
  t.deepEqual([...groups[0].members[0].memberAssignment], [1]);
  t.true(groups[0].members[0].memberMetadata.length > 0);
  t.deepEqual(groups[1], { errorCode: ErrorCode.NONE, groupId: 'missing', groupState: 'Dead', protocolType: '', protocolData: '', members: [] });
});

test('describe: outside Stable, no protocol and no member metadata or assignments', async (t) => {
  const { coordinator } = startCoordinator();
  void coordinator.joinGroup(joinRequest());
  const group = (await coordinator.describeGroups([GROUP])).groups[0];
  t.is(group.groupState, 'PreparingRebalance');
  t.is(group.protocolData, '');
  t.is(group.members[0].memberMetadata.length, 0);
});

test('list: the coordinator\'s groups, the store\'s records and offsets-only groups, in id order, filtered by state', async (t) => {
  const store = new FakeStore();
  await store.upsertGroup({ groupId: 'stored-empty', state: 'Empty', protocolType: 'consumer', generation: 3, members: [] });
  store.groupIds = ['offsets-only', 'stored-empty'];
  const { coordinator, timers } = startCoordinator(store);
  await stableGroup(coordinator, timers, [joinRequest()]);
  t.is(coordinator.validateCommit('simple', '', -1, null), ErrorCode.NONE);
  const all = await coordinator.listGroups();
  t.deepEqual(all.groups, [
    { groupId: 'offsets-only', protocolType: '', groupState: 'Empty' },
    { groupId: GROUP, protocolType: 'consumer', groupState: 'Stable' },
    { groupId: 'simple', protocolType: '', groupState: 'Empty' },
    { groupId: 'stored-empty', protocolType: 'consumer', groupState: 'Empty' },
  ]);
  const stable = await coordinator.listGroups({ statesFilter: ['Stable'] });
  t.deepEqual(stable.groups.map((group) => group.groupId), [GROUP]);
});

test('delete: a group with members → NON_EMPTY_GROUP; a missing one → GROUP_ID_NOT_FOUND; an empty id → INVALID_GROUP_ID', async (t) => {
  const store = new FakeStore();
  const { coordinator, timers } = startCoordinator(store);
  await stableGroup(coordinator, timers, [joinRequest()]);
  const { results } = await coordinator.deleteGroups([GROUP, 'missing', '']);
  t.deepEqual(results.map((result) => result.errorCode), [ErrorCode.NON_EMPTY_GROUP, ErrorCode.GROUP_ID_NOT_FOUND, ErrorCode.INVALID_GROUP_ID]);
  t.deepEqual(store.deletes, []);
});

test('delete: an Empty group is deleted through the store, then it is gone', async (t) => {
  const store = new FakeStore();
  const { coordinator, timers } = startCoordinator(store);
  const [leader] = await stableGroup(coordinator, timers, [joinRequest()]);
  await coordinator.leaveGroup({ version: 0, groupId: GROUP, members: [{ memberId: leader.memberId, groupInstanceId: null }] });
  const { results } = await coordinator.deleteGroups([GROUP]);
  t.is(results[0].errorCode, ErrorCode.NONE);
  t.deepEqual(store.deletes, [GROUP]);
  t.false(store.groups.has(GROUP));
  t.is((await coordinator.describeGroups([GROUP])).groups[0].groupState, 'Dead');
  t.is((await coordinator.deleteGroups([GROUP])).results[0].errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
});

test('delete: a group the store knows only by its offsets is deleted (offsets with it)', async (t) => {
  const store = new FakeStore();
  store.offsets.set('offsets-only', 2);
  const { coordinator } = startCoordinator(store);
  t.is((await coordinator.describeGroups(['offsets-only'])).groups[0].groupState, 'Empty');
  t.is((await coordinator.deleteGroups(['offsets-only'])).results[0].errorCode, ErrorCode.NONE);
  t.deepEqual(store.deletes, ['offsets-only']);
});

test('delete: a failed store delete answers its code and the group stays Empty', async (t) => {
  const store = new FakeStore();
  await store.upsertGroup({ groupId: GROUP, state: 'Empty', protocolType: 'consumer', generation: 2, members: [] });
  const { coordinator } = startCoordinator(store);
  store.failNext = storeFailure('STORE_READ_ONLY');
  t.is((await coordinator.deleteGroups([GROUP])).results[0].errorCode, ErrorCode.NOT_COORDINATOR);
  t.is((await coordinator.describeGroups([GROUP])).groups[0].groupState, 'Empty');
});

test('requests before load() get COORDINATOR_LOAD_IN_PROGRESS', async (t) => {
  const coordinator = new GroupCoordinator({ store: new FakeStore(), timers: new ManualTimers() });
  t.is((await coordinator.joinGroup(joinRequest())).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  t.is(coordinator.validateCommit(GROUP, '', -1, null), ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  t.is((await coordinator.listGroups()).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
});

test('close answers parked joins and syncs with NOT_COORDINATOR, cancels every timer, and refuses later requests', async (t) => {
  const { coordinator, timers } = startCoordinator();
  const joins = [coordinator.joinGroup(joinRequest({ clientId: 'a' })), coordinator.joinGroup(joinRequest({ clientId: 'b' }))];
  timers.advance(2 * INITIAL_DELAY_MS);
  const answers = await Promise.all(joins);
  const parkedJoin = coordinator.joinGroup(joinRequest({ groupId: 'joining' }));
  const follower = answers.find((answer) => answer.members.length === 0);
  const parkedSync = coordinator.syncGroup(syncRequest(follower!));
  t.false(await isSettled(parkedSync));
  t.true(coordinator.timerCount > 0);
  await coordinator.close();
  t.is((await parkedJoin).errorCode, ErrorCode.NOT_COORDINATOR);
  t.is((await parkedSync).errorCode, ErrorCode.NOT_COORDINATOR);
  t.is(coordinator.timerCount, 0);
  t.is(timers.pendingCount, 0);
  t.is((await coordinator.joinGroup(joinRequest())).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  t.is((await coordinator.heartbeat({ groupId: GROUP, generationId: 1, memberId: follower!.memberId, groupInstanceId: null })).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
});
