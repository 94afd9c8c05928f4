/**
 * The coordinator over a real store: what it writes on the moves to Stable and Empty, deletion through
 * the store, a store that fails under it, and a restart (a new coordinator `load()`ing the same store,
 * reopened) that brings the group back Stable. How: `openStore` in a temporary directory (its teardown
 * closes the store and checks the served state against the WAL); coordinator time is manual.
 */
import test, { type ExecutionContext } from 'ava';
import type { MetaLog } from '../../../../src/index.js';
import { ErrorCode } from '../../../../src/kafka/error-codes.js';
import { GroupCoordinator } from '../../../../src/kafka/group-coordinator/group-coordinator.js';
import { ManualTimers } from '../../../../src/kafka/group-coordinator/timers.js';
import { closeAndVerify, openStore } from '../../../helpers/store.js';
import { tmpDir } from '../../../helpers/tmp.js';
import { GROUP, INITIAL_DELAY_MS, SESSION_MS, consumerProtocols, joinRequest, stableGroup, syncRequest } from './fixture.js';

function coordinatorOver(store: MetaLog): { coordinator: GroupCoordinator; timers: ManualTimers } {
  const timers = new ManualTimers(5_000_000);
  const coordinator = new GroupCoordinator({ store, timers, config: { initialRebalanceDelayMs: INITIAL_DELAY_MS }, onStoreError: (groupId, error) => { throw new Error(`unexpected store failure for ${groupId}: ${String(error)}`); } });
  coordinator.load();
  return { coordinator, timers };
}

/** A Stable group of two members in a store in `dir`; the coordinator is closed and the store too. */
async function stableThenStop(t: ExecutionContext, dir: string): Promise<{ leaderId: string; followerId: string }> {
  const store = await openStore(t, { dir });
  const { coordinator, timers } = coordinatorOver(store);
  const [leader, follower] = await stableGroup(coordinator, timers, [
    joinRequest({ clientId: 'a', protocols: consumerProtocols(['range'], ['orders', 'payments']) }),
    joinRequest({ clientId: 'b', protocols: consumerProtocols(['range'], ['orders', 'payments']) }),
  ]);
  await coordinator.close();
  await closeAndVerify(store);
  return { leaderId: leader.memberId, followerId: follower.memberId };
}

test('the move to Stable stores the whole group: members, subscriptions, topics, assignments, protocol, generation, leader', async (t) => {
  const store = await openStore(t, { dir: tmpDir(t) });
  const { coordinator, timers } = coordinatorOver(store);
  const [leader, follower] = await stableGroup(coordinator, timers, [
    joinRequest({ clientId: 'a', clientHost: '/10.0.0.1', protocols: consumerProtocols(['range'], ['orders']) }),
    joinRequest({ clientId: 'b', clientHost: '/10.0.0.2', protocols: consumerProtocols(['range'], ['orders', 'payments']) }),
  ]);
  const stored = store.getGroup(GROUP);
  t.is(stored?.state, 'Stable');
  t.is(stored?.generation, 1);
  t.is(stored?.protocolType, 'consumer');
  t.is(stored?.protocol, 'range');
  t.is(stored?.leader, leader.memberId);
  const byId = new Map(stored?.members.map((member) => [member.memberId, member]));
  t.deepEqual(byId.get(leader.memberId)?.topics, ['orders']);
  t.deepEqual(byId.get(follower.memberId)?.topics, ['orders', 'payments']);
  t.is(byId.get(follower.memberId)?.clientHost, '/10.0.0.2');
  t.is(byId.get(follower.memberId)?.sessionTimeoutMs, SESSION_MS);
  t.true((byId.get(follower.memberId)?.assignment.length ?? 0) > 0);
  t.true((byId.get(follower.memberId)?.subscription.length ?? 0) > 0);
  await coordinator.close();
});

test('the move to Empty stores the group without members, a generation on; deleting it deletes it from the store', async (t) => {
  const store = await openStore(t, { dir: tmpDir(t) });
  const { coordinator, timers } = coordinatorOver(store);
  const [leader] = await stableGroup(coordinator, timers, [joinRequest()]);
  await coordinator.leaveGroup({ version: 0, groupId: GROUP, members: [{ memberId: leader.memberId, groupInstanceId: null }] });
  await coordinator.close();
  const stored = store.getGroup(GROUP);
  t.is(stored?.state, 'Empty');
  t.is(stored?.generation, 2);
  t.deepEqual(stored?.members, []);
  const { coordinator: next } = coordinatorOver(store);
  t.is((await next.deleteGroups([GROUP])).results[0].errorCode, ErrorCode.NONE);
  t.is(store.getGroup(GROUP), undefined);
  await next.close();
});

test('a group with only committed offsets is listed and deleted, offsets with it', async (t) => {
  const store = await openStore(t, { dir: tmpDir(t) });
  await store.createTopic({ name: 'orders', partitions: 1 });
  const { coordinator } = coordinatorOver(store);
  t.is(coordinator.validateCommit('simple', '', -1, null), ErrorCode.NONE);
  await store.commitOffsets('simple', [{ topic: 'orders', partition: 0, offset: 42 }]);
  t.deepEqual((await coordinator.listGroups()).groups.map((group) => group.groupId), ['simple']);
  t.is((await coordinator.deleteGroups(['simple'])).results[0].errorCode, ErrorCode.NONE);
  t.deepEqual(store.fetchOffsets('simple'), []);
  await coordinator.close();
});

test('after a restart the group is Stable again with its members, generation, leader and assignments; heartbeats keep it so', async (t) => {
  const dir = tmpDir(t);
  const { leaderId, followerId } = await stableThenStop(t, dir);
  const store = await openStore(t, { dir });
  const { coordinator, timers } = coordinatorOver(store);
  const described = (await coordinator.describeGroups([GROUP])).groups[0];
  t.is(described.groupState, 'Stable');
  t.deepEqual(new Set(described.members.map((member) => member.memberId)), new Set([leaderId, followerId]));
  const lastOffset = store.lastOffset;
  for (let i = 0; i < 4; i++) {
    timers.advance(SESSION_MS - 1);
    for (const memberId of [leaderId, followerId]) {
      t.is((await coordinator.heartbeat({ groupId: GROUP, generationId: 1, memberId, groupInstanceId: null })).errorCode, ErrorCode.NONE);
    }
  }
  const sync = await coordinator.syncGroup({ version: 3, groupId: GROUP, generationId: 1, memberId: followerId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  t.is(sync.errorCode, ErrorCode.NONE);
  t.true(sync.assignment.length > 0, 'the assignment survived');
  t.is(coordinator.validateCommit(GROUP, leaderId, 1, null), ErrorCode.NONE);
  t.is(store.lastOffset, lastOffset, 'no rebalance, nothing written');
  const rejoin = await coordinator.joinGroup(joinRequest({ memberId: followerId, protocols: consumerProtocols(['range'], ['orders', 'payments']) }));
  t.is(rejoin.generationId, 1, 'a follower rejoining with its stored subscription changes nothing');
  await coordinator.close();
});

test('after a restart, members that never come back are removed when their session passes; the group goes Empty', async (t) => {
  const dir = tmpDir(t);
  const { leaderId } = await stableThenStop(t, dir);
  const store = await openStore(t, { dir });
  const { coordinator, timers } = coordinatorOver(store);
  timers.advance(SESSION_MS - 1);
  t.is((await coordinator.heartbeat({ groupId: GROUP, generationId: 1, memberId: leaderId, groupInstanceId: null })).errorCode, ErrorCode.NONE);
  timers.advance(1);
  t.is((await coordinator.heartbeat({ groupId: GROUP, generationId: 1, memberId: leaderId, groupInstanceId: null })).errorCode, ErrorCode.REBALANCE_IN_PROGRESS, 'the follower is gone: rebalance');
  timers.advance(SESSION_MS);
  await coordinator.close();
  t.is(store.getGroup(GROUP)?.state, 'Empty');
  t.is(store.getGroup(GROUP)?.generation, 2);
});

test('a store that closed under the coordinator: the leader\'s sync gets COORDINATOR_NOT_AVAILABLE', async (t) => {
  const store = await openStore(t, { dir: tmpDir(t) });
  const { coordinator, timers } = coordinatorOver(store);
  const join = coordinator.joinGroup(joinRequest());
  timers.advance(INITIAL_DELAY_MS);
  const leader = await join;
  await closeAndVerify(store);
  const sync = await coordinator.syncGroup(syncRequest(leader, { assignments: [{ memberId: leader.memberId, assignment: Uint8Array.of(1) }] }));
  t.is(sync.errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  await coordinator.close();
});
