/**
 * What the coordinator keeps of a group in the store, and how a store failure becomes a Kafka code.
 *
 * Owns: the narrow store interface the coordinator depends on (a MetaLog satisfies it; tests pass a
 * recording fake too), the mapping between a `ClassicGroup` and the store's group record, and the
 * error-code table for failed writes. Invariants: only Stable and Empty groups are written (timers,
 * parked requests and a member's other protocols live in memory only); a stored member's
 * `subscription` is its metadata for the chosen protocol; `topics` are read from it for consumers.
 */
import { MetaLogError, type Group, type GroupInput, type GroupMemberInput, type MetaLog } from '../../index.js';
import { ErrorCode, errorCodeOf } from '../error-codes.js';
import { ClassicGroup, type MemberState } from './classic-group.js';
import { GROUP_STRING_LENGTH_MAX } from './coordinator-config.js';
import { subscribedTopics } from './consumer-subscription.js';

/**
 * The store as the coordinator uses it. `listGroupIds`, where the store offers it, names groups that
 * have only committed offsets (ListGroups shows them as Empty); without it, such groups are known from
 * the commits this coordinator validated and from `fetchOffsets` when a group is named.
 */
export type GroupStore = Pick<MetaLog, 'getGroup' | 'listGroups' | 'upsertGroup' | 'deleteGroup' | 'fetchOffsets'> & {
  listGroupIds?: () => string[];
};

const EMPTY_BYTES = new Uint8Array(0);

/** The store's record of `group` in `state` (assignments from `assignments` where given, else the members'). */
export function toGroupInput(group: ClassicGroup, state: 'Stable' | 'Empty', assignments?: ReadonlyMap<string, Uint8Array>): GroupInput {
  const members: GroupMemberInput[] = state === 'Empty' ? [] : [...group.members.values()].map((member) => toMemberInput(group, member, assignments));
  return {
    groupId: group.groupId,
    state,
    protocolType: group.protocolType ?? '',
    protocol: state === 'Empty' ? null : group.protocolName,
    generation: group.generationId,
    leader: state === 'Empty' ? null : group.leaderId,
    members,
  };
}

function toMemberInput(group: ClassicGroup, member: MemberState, assignments?: ReadonlyMap<string, Uint8Array>): GroupMemberInput {
  const subscription = ClassicGroup.metadataOf(member, group.protocolName);
  return {
    memberId: member.memberId,
    groupInstanceId: member.groupInstanceId,
    // Kafka takes client ids up to an int16 string; the store keeps the first GROUP_STRING_LENGTH_MAX characters.
    clientId: member.clientId.slice(0, GROUP_STRING_LENGTH_MAX),
    clientHost: member.clientHost.slice(0, GROUP_STRING_LENGTH_MAX),
    sessionTimeoutMs: member.sessionTimeoutMs,
    rebalanceTimeoutMs: member.rebalanceTimeoutMs,
    topics: group.protocolType === 'consumer' ? subscribedTopics(subscription) : [],
    subscription,
    assignment: assignments === undefined ? member.assignment : (assignments.get(member.memberId) ?? EMPTY_BYTES),
  };
}

/**
 * A stored group back in memory: Stable with its members, generation, leader and assignments when it has
 * members, Empty otherwise (whatever state it was stored in: the timers and parked requests of a
 * rebalance did not survive the restart, and the members' clients see a Stable group they are part of).
 * Each member knows only the chosen protocol, with its stored subscription as metadata.
 */
export function fromStoredGroup(stored: Group): ClassicGroup {
  const group = new ClassicGroup(stored.groupId);
  group.generationId = stored.generation;
  group.protocolType = stored.protocolType === '' ? null : stored.protocolType;
  if (stored.members.length === 0) return group;
  group.state = 'Stable';
  group.protocolName = stored.protocol;
  for (const entry of stored.members) {
    group.members.set(entry.memberId, {
      memberId: entry.memberId,
      groupInstanceId: entry.groupInstanceId,
      clientId: entry.clientId,
      clientHost: entry.clientHost,
      sessionTimeoutMs: entry.sessionTimeoutMs,
      rebalanceTimeoutMs: entry.rebalanceTimeoutMs,
      protocols: stored.protocol === null ? [] : [{ name: stored.protocol, metadata: new Uint8Array(entry.subscription) }],
      assignment: new Uint8Array(entry.assignment),
      joinWaiter: null,
      syncWaiter: null,
      sessionTimer: null,
    });
    if (entry.groupInstanceId !== null) group.staticMembers.set(entry.groupInstanceId, entry.memberId);
  }
  const leader = stored.leader;
  group.leaderId = leader !== null && group.members.has(leader) ? leader : group.members.keys().next().value ?? null;
  return group;
}

/**
 * The Kafka code a client gets when a group write fails, as Kafka's coordinator maps the errors of its
 * own log appends:
 *
 * | failure                                                       | code                       |
 * |---------------------------------------------------------------|----------------------------|
 * | store closed or handle evicted (the coordinator is going away) | COORDINATOR_NOT_AVAILABLE  |
 * | UNKNOWN_TOPIC_OR_PARTITION, REQUEST_TIMED_OUT                  | COORDINATOR_NOT_AVAILABLE  |
 * | KAFKA_STORAGE_ERROR (disk failed, store read-only)             | NOT_COORDINATOR            |
 * | MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE                       | UNKNOWN_SERVER_ERROR       |
 * | any other store error                                          | its own Kafka code         |
 * | anything else                                                  | UNKNOWN_SERVER_ERROR       |
 */
export function storeErrorCode(error: unknown): number {
  if (error instanceof MetaLogError && (error.code === 'STORE_CLOSED' || error.code === 'HANDLE_EVICTED')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
  const code = errorCodeOf(error);
  switch (code) {
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.KAFKA_STORAGE_ERROR:
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return code;
  }
}
