/**
 * Shared pieces of the group coordinator's tests: a recording fake store, request builders that play a
 * consumer, and a helper that brings a group to Stable. Time is a `ManualTimers` the test advances; the
 * only waiting is on promises (the store's writes and the coordinator's answers), never on the clock.
 */
import type { Group, GroupInput, MetaLog } from '../../../../src/index.js';
import { MetaLogError } from '../../../../src/index.js';
import { GroupCoordinator } from '../../../../src/kafka/group-coordinator/group-coordinator.js';
import type { GroupCoordinatorConfig } from '../../../../src/kafka/group-coordinator/coordinator-config.js';
import type { GroupStore } from '../../../../src/kafka/group-coordinator/group-store.js';
import type { JoinGroupRequest, JoinGroupResponse, SyncGroupRequest } from '../../../../src/kafka/group-coordinator/messages.js';
import { ManualTimers } from '../../../../src/kafka/group-coordinator/timers.js';
import { encodeSubscription } from '../../../../src/kafka/group-coordinator/consumer-subscription.js';

export const GROUP = 'orders';
export const SESSION_MS = 10_000;
export const REBALANCE_MS = 30_000;
export const INITIAL_DELAY_MS = 3_000;

/** A store in memory that records every write; `failNext` makes the next write reject with that error. */
export class FakeStore implements GroupStore {
  readonly groups = new Map<string, Group>();
  readonly offsets = new Map<string, number>();
  readonly upserts: GroupInput[] = [];
  readonly deletes: string[] = [];
  failNext: MetaLogError | null = null;
  groupIds: string[] | null = null;

  getGroup(groupId: string): Group | undefined {
    return this.groups.get(groupId);
  }

  listGroups(): Group[] {
    return [...this.groups.values()];
  }

  async upsertGroup(input: GroupInput): Promise<void> {
    this.takeFailure();
    this.upserts.push(input);
    const group: Group = {
      groupId: input.groupId,
      state: input.state,
      protocolType: input.protocolType,
      protocol: input.protocol ?? null,
      generation: input.generation,
      leader: input.leader ?? null,
      members: input.members.map((member) => ({
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId ?? null,
        clientId: member.clientId,
        clientHost: member.clientHost,
        sessionTimeoutMs: member.sessionTimeoutMs,
        rebalanceTimeoutMs: member.rebalanceTimeoutMs,
        topics: member.topics ?? [],
        subscription: Buffer.from(member.subscription),
        assignment: Buffer.from(member.assignment),
      })),
    };
    this.groups.set(input.groupId, group);
  }

  async deleteGroup(groupId: string): Promise<void> {
    this.takeFailure();
    this.deletes.push(groupId);
    this.groups.delete(groupId);
    this.offsets.delete(groupId);
  }

  fetchOffsets(groupId: string): ReturnType<MetaLog['fetchOffsets']> {
    const count = this.offsets.get(groupId) ?? 0;
    return Array.from({ length: count }, (_, partition) => ({ topic: 't', partition, offset: 1, leaderEpoch: -1, metadata: '', commitTimestamp: 0 })) as ReturnType<MetaLog['fetchOffsets']>;
  }

  get listGroupIds(): (() => string[]) | undefined {
    const ids = this.groupIds;
    return ids === null ? undefined : () => ids;
  }

  private takeFailure(): void {
    const failure = this.failNext;
    this.failNext = null;
    if (failure !== null) throw failure;
  }
}

/** A store failure as the store raises it. */
export function storeFailure(code: 'STORE_READ_ONLY' | 'STORE_CLOSED' | 'INVALID_REQUEST'): MetaLogError {
  return new MetaLogError(code, `planted ${code}`, {});
}

/** A loaded coordinator over `store` with manual time. */
export function startCoordinator(store: GroupStore = new FakeStore(), config: Partial<GroupCoordinatorConfig> = {}): { coordinator: GroupCoordinator; timers: ManualTimers; storeErrors: unknown[] } {
  const timers = new ManualTimers(1_000_000);
  const storeErrors: unknown[] = [];
  const coordinator = new GroupCoordinator({ store, timers, config: { initialRebalanceDelayMs: INITIAL_DELAY_MS, ...config }, onStoreError: (_, error) => storeErrors.push(error) });
  coordinator.load();
  return { coordinator, timers, storeErrors };
}

/** A consumer's protocols: assignors in order of preference, each with a subscription to `topics`. */
export function consumerProtocols(assignors: string[], topics: string[] = ['t']): { name: string; metadata: Uint8Array }[] {
  return assignors.map((name) => ({ name, metadata: encodeSubscription(topics) }));
}

/** A JoinGroup as a v3 consumer sends it (no MEMBER_ID_REQUIRED round trip) unless `fields` say otherwise. */
export function joinRequest(fields: Partial<JoinGroupRequest> = {}): JoinGroupRequest {
  return {
    version: 3,
    groupId: GROUP,
    sessionTimeoutMs: SESSION_MS,
    rebalanceTimeoutMs: REBALANCE_MS,
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: consumerProtocols(['range']),
    clientId: 'client',
    clientHost: '/10.0.0.1',
    ...fields,
  };
}

/** A SyncGroup for `join`'s member and generation. */
export function syncRequest(join: JoinGroupResponse, fields: Partial<SyncGroupRequest> = {}): SyncGroupRequest {
  return { version: 3, groupId: GROUP, generationId: join.generationId, memberId: join.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [], ...fields };
}

/** The leader's assignment: each member gets one byte, its position in the member list. */
export function assignEach(leader: JoinGroupResponse): { memberId: string; assignment: Uint8Array }[] {
  return leader.members.map((member, i) => ({ memberId: member.memberId, assignment: Uint8Array.of(i + 1) }));
}

/**
 * Brings a new group of `requests.length` members to Stable: all join, the initial delay passes (twice
 * with more than one member: the later joins extend it once), everyone syncs (the leader with
 * `assignEach`). Returns the join answers, the leader's first.
 */
export async function stableGroup(coordinator: GroupCoordinator, timers: ManualTimers, requests: JoinGroupRequest[]): Promise<JoinGroupResponse[]> {
  const pending = requests.map((request) => coordinator.joinGroup(request));
  timers.advance(requests.length > 1 ? 2 * INITIAL_DELAY_MS : INITIAL_DELAY_MS);
  const joins = await Promise.all(pending);
  const leader = joins.find((join) => join.members.length > 0);
  if (leader === undefined) throw new Error('no leader among the joins');
  const syncs = await Promise.all(joins.map((join) => coordinator.syncGroup(syncRequest(join, join === leader ? { assignments: assignEach(leader) } : {}))));
  for (const sync of syncs) if (sync.errorCode !== 0) throw new Error(`sync failed with ${sync.errorCode}`);
  return [leader, ...joins.filter((join) => join !== leader)];
}

/** Whether `promise` has settled, after letting pending microtasks and I/O callbacks run once. */
export async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}
