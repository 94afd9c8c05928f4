/**
 * Consumer group rules, with Kafka's semantics:
 * - a group is stored whole (state, protocol, generation, leader, members); its generation never goes
 *   back (ILLEGAL_GENERATION); Empty and Dead groups have no members; the leader is a member;
 * - deleting a group deletes its offsets with it, and is refused while it has members (NON_EMPTY_GROUP);
 * - OffsetDelete is refused for a topic that a member of a live group subscribes to
 *   (GROUP_SUBSCRIBED_TO_TOPIC);
 * - an offset reset (an operator's commit without membership) needs a group without members
 *   (NON_EMPTY_GROUP).
 * Upserts travel on the command ring in Avro, with the GroupUpserted event's own schema (command-codec.ts).
 */
import type { EventBody, GroupState, GroupUpserted } from '../codec/event-schema.js';
import type { EncodableMember } from '../codec/hot-encoders.js';
import { MetaLogError } from '../errors.js';
import { COMMIT_ENTRIES_MAX, GROUP_ID_LENGTH_MAX, GROUP_MEMBERS_MAX, PARTITIONS_MAX, RECORD_BYTES_MAX } from '../limits.js';
import type { MetadataState } from '../state/metadata-state.js';
import { checkTopicName, isInteger, isLegalTopicName, isWellFormed, requireGroupId, requireInteger, requireString } from './input-rules.js';
import { checkCommitOffsetsInput, decideCommitOffsets, type CheckedPerEntry, type EntryRefusal, type OffsetCommitInput } from './offset-commands.js';

/** One member, as a caller passes it. */
export interface GroupMemberInput {
  memberId: string;
  groupInstanceId?: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** Topics the member subscribes to (what OffsetDelete checks); optional. */
  topics?: string[];
  subscription: Uint8Array;
  assignment: Uint8Array;
}

/** A group, as a caller passes it to upsertGroup. */
export interface GroupInput {
  groupId: string;
  state: GroupState;
  protocolType: string;
  protocol?: string | null;
  generation: number;
  leader?: string | null;
  members: GroupMemberInput[];
}

/**
 * A member as checked on the caller's thread: its bytes are the caller's own Uint8Arrays until the
 * command is encoded (before the call returns); on the writer they are Buffers decoded from the ring.
 * The shape the hand encoder reads (hot-encoders.ts).
 */
export type CheckedMember = EncodableMember;

/** Group commands as queued for the writer. */
export type GroupCommand =
  | { type: 'UpsertGroup'; value: Omit<GroupInput, 'members' | 'protocol' | 'leader'> & { protocol: string | null; leader: string | null; members: CheckedMember[] } }
  | { type: 'DeleteGroup'; value: { groupId: string } }
  | { type: 'DeleteOffsets'; value: { groupId: string; partitions: { topic: string; partition: number }[]; perEntry: boolean } }
  | { type: 'ResetOffsets'; value: ReturnType<typeof checkCommitOffsetsInput>['value'] }
  | { type: 'ExpireOffsets'; value: { groupId: string; expireBeforeMs: number } };

/** Every group state, as Kafka names them. */
export const GROUP_STATES: readonly GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

function optionalString(value: unknown, field: string): string | null {
  return value === undefined || value === null ? null : requireString(value, 1, GROUP_ID_LENGTH_MAX, field);
}

/** The caller's bytes, as they are: the command is encoded (copied) before the call returns. */
function requireBytes(value: unknown, field: string): Uint8Array {
  if (!isBytes(value)) {
    throw new MetaLogError('INVALID_REQUEST', `${field} must be a Uint8Array of at most ${RECORD_BYTES_MAX / 4} bytes`, { field });
  }
  return value;
}

/** True when `value` is a well-formed string of `min`..`max` characters (what requireString accepts). */
function isString(value: unknown, min: number, max: number): value is string {
  return typeof value === 'string' && value.length >= min && value.length <= max && isWellFormed(value);
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array && value.length <= RECORD_BYTES_MAX / 4;
}

/**
 * The member checks as one predicate, for the common case of a valid member: no field name is built
 * and nothing allocated unless a check fails (then `checkMemberFields` says which, with its name).
 * Accepts only what `checkMemberFields` accepts.
 */
function memberIsValid(member: Partial<GroupMemberInput>): boolean {
  const { topics } = member;
  if (topics !== undefined) {
    if (!Array.isArray(topics)) return false;
    for (const topic of topics) if (!isLegalTopicName(topic)) return false;
  }
  return (
    isString(member.memberId, 1, GROUP_ID_LENGTH_MAX) &&
    (member.groupInstanceId === undefined || member.groupInstanceId === null || isString(member.groupInstanceId, 1, GROUP_ID_LENGTH_MAX)) &&
    isString(member.clientId, 0, GROUP_ID_LENGTH_MAX) &&
    isString(member.clientHost, 0, GROUP_ID_LENGTH_MAX) &&
    isInteger(member.sessionTimeoutMs, 1, 2 ** 31 - 1) &&
    isInteger(member.rebalanceTimeoutMs, 1, 2 ** 31 - 1) &&
    isBytes(member.subscription) &&
    isBytes(member.assignment)
  );
}

function checkMember(input: unknown, index: number): CheckedMember {
  if (typeof input === 'object' && input !== null) {
    const member = input as GroupMemberInput;
    if (memberIsValid(member)) {
      return {
        memberId: member.memberId,
        groupInstanceId: member.groupInstanceId ?? null,
        clientId: member.clientId,
        clientHost: member.clientHost,
        sessionTimeoutMs: member.sessionTimeoutMs,
        rebalanceTimeoutMs: member.rebalanceTimeoutMs,
        topics: member.topics === undefined ? [] : member.topics.slice(),
        subscription: member.subscription,
        assignment: member.assignment,
      };
    }
  }
  return checkMemberFields(input, index);
}

/** The member checks field by field, each error naming its field. */
function checkMemberFields(input: unknown, index: number): CheckedMember {
  const field = `members[${index}]`;
  if (typeof input !== 'object' || input === null) throw new MetaLogError('INVALID_REQUEST', `${field} must be a member object`, { field });
  const member = input as Partial<GroupMemberInput>;
  const topics = member.topics ?? [];
  if (!Array.isArray(topics)) throw new MetaLogError('INVALID_REQUEST', `${field}.topics must be an array of topic names`, { field: `${field}.topics` });
  topics.forEach((topic, i) => checkTopicName(topic, `${field}.topics[${i}]`));
  return {
    memberId: requireString(member.memberId, 1, GROUP_ID_LENGTH_MAX, `${field}.memberId`),
    groupInstanceId: optionalString(member.groupInstanceId, `${field}.groupInstanceId`),
    clientId: requireString(member.clientId, 0, GROUP_ID_LENGTH_MAX, `${field}.clientId`),
    clientHost: requireString(member.clientHost, 0, GROUP_ID_LENGTH_MAX, `${field}.clientHost`),
    sessionTimeoutMs: requireInteger(member.sessionTimeoutMs, 1, 2 ** 31 - 1, `${field}.sessionTimeoutMs`),
    rebalanceTimeoutMs: requireInteger(member.rebalanceTimeoutMs, 1, 2 ** 31 - 1, `${field}.rebalanceTimeoutMs`),
    topics: [...topics],
    subscription: requireBytes(member.subscription, `${field}.subscription`),
    assignment: requireBytes(member.assignment, `${field}.assignment`),
  };
}

/** Checks upsertGroup arguments (no state needed). */
export function checkUpsertGroupInput(input: unknown): GroupCommand {
  if (typeof input !== 'object' || input === null) throw new MetaLogError('INVALID_REQUEST', 'upsertGroup takes a group object', {});
  const group = input as Partial<GroupInput>;
  const groupId = requireGroupId(group.groupId);
  if (typeof group.state !== 'string' || !GROUP_STATES.includes(group.state)) {
    throw new MetaLogError('INVALID_REQUEST', `state must be one of ${GROUP_STATES.join(', ')}`, { field: 'state' });
  }
  if (!Array.isArray(group.members) || group.members.length > GROUP_MEMBERS_MAX) {
    throw new MetaLogError('INVALID_REQUEST', `members must be an array of at most ${GROUP_MEMBERS_MAX}`, { field: 'members' });
  }
  const count = group.members.length;
  const members = new Array<CheckedMember>(count);
  const ids = new Set<string>();
  // A static member's group instance id names one member (Kafka fences the older one on a rejoin).
  let instanceIds: Set<string> | null = null;
  for (let index = 0; index < count; index++) {
    const member = checkMember(group.members[index], index);
    if (ids.has(member.memberId)) throw new MetaLogError('INVALID_REQUEST', 'members repeat a memberId', { field: 'members' });
    ids.add(member.memberId);
    if (member.groupInstanceId !== null) {
      instanceIds ??= new Set();
      if (instanceIds.has(member.groupInstanceId)) {
        const field = `members[${index}].groupInstanceId`;
        throw new MetaLogError('INVALID_REQUEST', `${field} repeats ${JSON.stringify(member.groupInstanceId)}: a group instance id names one member`, { field });
      }
      instanceIds.add(member.groupInstanceId);
    }
    members[index] = member;
  }
  if ((group.state === 'Empty' || group.state === 'Dead') && members.length > 0) {
    throw new MetaLogError('INVALID_REQUEST', `a group in state ${group.state} has no members`, { field: 'members' });
  }
  const leader = optionalString(group.leader, 'leader');
  if (leader !== null && !ids.has(leader)) throw new MetaLogError('INVALID_REQUEST', `leader ${JSON.stringify(leader)} is not a member`, { field: 'leader' });
  return {
    type: 'UpsertGroup',
    value: {
      groupId,
      state: group.state,
      protocolType: requireString(group.protocolType, 0, 255, 'protocolType'),
      protocol: optionalString(group.protocol, 'protocol'),
      generation: requireInteger(group.generation, 0, 2 ** 31 - 1, 'generation', 'ILLEGAL_GENERATION'),
      leader,
      members,
    },
  };
}

/**
 * Kafka's session timeout bounds (group.min/max.session.timeout.ms): a member whose session timeout is
 * outside them is refused with INVALID_SESSION_TIMEOUT. Run on the caller's thread after
 * `checkUpsertGroupInput`, with the store's configured bounds.
 */
export function checkSessionTimeouts(command: GroupCommand, minMs: number, maxMs: number): GroupCommand {
  if (command.type !== 'UpsertGroup') return command;
  command.value.members.forEach((member, index) => {
    if (member.sessionTimeoutMs < minMs || member.sessionTimeoutMs > maxMs) {
      const field = `members[${index}].sessionTimeoutMs`;
      throw new MetaLogError('INVALID_SESSION_TIMEOUT', `${field} ${member.sessionTimeoutMs} is outside ${minMs}..${maxMs} ms (groupMinSessionTimeoutMs..groupMaxSessionTimeoutMs)`, { field });
    }
  });
  return command;
}

/** Checks deleteGroup arguments. */
export function checkDeleteGroupInput(groupId: unknown): GroupCommand {
  return { type: 'DeleteGroup', value: { groupId: requireGroupId(groupId) } };
}

/** Checks expireOffsets arguments: the offsets of `groupId` committed before `expireBeforeMs` go. */
export function checkExpireOffsetsInput(groupId: unknown, expireBeforeMs: unknown): GroupCommand {
  const id = requireGroupId(groupId);
  return { type: 'ExpireOffsets', value: { groupId: id, expireBeforeMs: requireInteger(expireBeforeMs, 0, Number.MAX_SAFE_INTEGER, 'expireBeforeMs') } };
}

function requirePartitionList(partitions: unknown): unknown[] {
  if (!Array.isArray(partitions) || partitions.length === 0 || partitions.length > COMMIT_ENTRIES_MAX) {
    throw new MetaLogError('INVALID_REQUEST', `partitions must be an array of 1 to ${COMMIT_ENTRIES_MAX} { topic, partition }`, { field: 'partitions' });
  }
  return partitions;
}

/** Checks deleteOffsets arguments. */
export function checkDeleteOffsetsInput(groupId: unknown, partitions: unknown): GroupCommand {
  const id = requireGroupId(groupId);
  const checked = requirePartitionList(partitions).map((entry: unknown, i) => {
    const { topic, partition } = (entry ?? {}) as { topic?: unknown; partition?: unknown };
    checkTopicName(topic, `partitions[${i}].topic`);
    return { topic, partition: requireInteger(partition, 0, PARTITIONS_MAX - 1, `partitions[${i}].partition`, 'UNKNOWN_TOPIC_OR_PARTITION') };
  });
  return { type: 'DeleteOffsets', value: { groupId: id, partitions: checked, perEntry: false } };
}

/**
 * Checks deleteOffsetsEach arguments: a partition that is an integer no topic can have is refused on its
 * own (UNKNOWN_TOPIC_OR_PARTITION); any other malformed input rejects the whole call.
 */
export function checkDeleteOffsetsEachInput(groupId: unknown, partitions: unknown): CheckedPerEntry<GroupCommand> {
  const id = requireGroupId(groupId);
  const sent: { topic: string; partition: number }[] = [];
  const outcomes: CheckedPerEntry<GroupCommand>['outcomes'] = [];
  const listed: { topic: string; partition: number }[] = [];
  requirePartitionList(partitions).forEach((entry: unknown, i) => {
    const { topic, partition } = (entry ?? {}) as { topic?: unknown; partition?: unknown };
    const field = `partitions[${i}].partition`;
    checkTopicName(topic, `partitions[${i}].topic`);
    if (!Number.isSafeInteger(partition)) throw new MetaLogError('INVALID_REQUEST', `${field} must be an integer`, { field });
    listed.push({ topic, partition: partition as number });
    if ((partition as number) < 0 || (partition as number) >= PARTITIONS_MAX) {
      outcomes.push({ error: new MetaLogError('UNKNOWN_TOPIC_OR_PARTITION', `${field} must be an integer from 0 to ${PARTITIONS_MAX - 1}`, { field }) });
      return;
    }
    outcomes.push({ sentAs: sent.length });
    sent.push({ topic, partition: partition as number });
  });
  return { command: { type: 'DeleteOffsets', value: { groupId: id, partitions: sent, perEntry: true } }, outcomes, partitions: listed };
}

/** Checks resetOffsets arguments (an operator's commit; the group must have no members). */
export function checkResetOffsetsInput(groupId: unknown, entries: OffsetCommitInput[]): GroupCommand {
  return { type: 'ResetOffsets', value: checkCommitOffsetsInput(groupId, entries).value };
}

/**
 * OffsetDelete: each partition must exist, and no member of a live group may subscribe to its topic.
 * The event deletes all of them or none; with `perEntry`, the ones that pass, each other one added to
 * `refused` (no event when none is left).
 */
function decideDeleteOffsets(value: Extract<GroupCommand, { type: 'DeleteOffsets' }>['value'], state: MetadataState, refused: EntryRefusal[]): EventBody | null {
  const { groupId } = value;
  const group = state.groups.get(groupId);
  const kept: { topic: string; partition: number }[] = [];
  value.partitions.forEach(({ topic, partition }, index) => {
    const count = state.partitionCount(topic);
    let refusal: MetaLogError | null = null;
    if (count === undefined || partition >= count) {
      refusal = new MetaLogError('UNKNOWN_TOPIC_OR_PARTITION', `${topic}-${partition} does not exist`, { entity: `${topic}-${partition}` });
    } else if (group !== undefined && group.state !== 'Empty' && group.subscribesTo(topic)) {
      refusal = new MetaLogError('GROUP_SUBSCRIBED_TO_TOPIC', `group ${JSON.stringify(groupId)} is subscribed to ${topic}`, { entity: topic });
    }
    if (refusal === null) kept.push({ topic, partition });
    else if (value.perEntry) refused.push({ index, code: refusal.code });
    else throw refusal;
  });
  if (kept.length === 0) return null;
  return { type: 'OffsetsDeleted', value: { groupId, partitions: kept } };
}

/** Decides a group command against the state; per-entry commands add what they refuse to `refused`. */
export function decideGroupCommand(command: GroupCommand, state: MetadataState, refused: EntryRefusal[] = []): EventBody | null {
  const groupId = command.value.groupId;
  const group = state.groups.get(groupId);
  switch (command.type) {
    case 'UpsertGroup':
      if (group !== undefined && command.value.generation < group.generation) {
        throw new MetaLogError('ILLEGAL_GENERATION', `group ${JSON.stringify(groupId)} is at generation ${group.generation}; ${command.value.generation} is older`, {
          entity: groupId,
          field: 'generation',
        });
      }
      // Decided on the writer, where the command came from the ring as an EncodedGroup (command-codec.ts).
      return { type: 'GroupUpserted', value: command.value as GroupUpserted };
    case 'DeleteGroup':
      // A group exists if it was stored or has committed offsets (Kafka's simple consumers' groups).
      if (group === undefined && !state.hasCommittedOffsets(groupId)) {
        throw new MetaLogError('GROUP_ID_NOT_FOUND', `group ${JSON.stringify(groupId)} does not exist`, { entity: groupId });
      }
      if (group !== undefined && group.memberCount > 0) {
        throw new MetaLogError('NON_EMPTY_GROUP', `group ${JSON.stringify(groupId)} has ${group.memberCount} members`, { entity: groupId });
      }
      return { type: 'GroupDeleted', value: { groupId } };
    case 'DeleteOffsets':
      return decideDeleteOffsets(command.value, state, refused);
    case 'ExpireOffsets':
      // Kafka's offset retention: only a group without members (or a group of simple consumers) loses its offsets.
      if (group !== undefined && group.memberCount > 0) {
        throw new MetaLogError('NON_EMPTY_GROUP', `group ${JSON.stringify(groupId)} has members; its offsets do not expire`, { entity: groupId });
      }
      return { type: 'OffsetsExpired', value: command.value };
    case 'ResetOffsets':
      if (group !== undefined && group.memberCount > 0) {
        throw new MetaLogError('NON_EMPTY_GROUP', `group ${JSON.stringify(groupId)} has members; reset offsets of an inactive group`, { entity: groupId });
      }
      return decideCommitOffsets(command.value, state, refused);
  }
}
