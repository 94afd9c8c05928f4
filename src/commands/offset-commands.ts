/** Offset commit rules: input checks on the caller's thread, existence checks on the writer's. */
import type { EventBody, OffsetCommitEntry } from '../codec/event-schema.js';
import { MetaLogError } from '../errors.js';
import { COMMIT_ENTRIES_MAX, COMMITTED_OFFSET_MAX, COMMITTED_OFFSET_MIN, GROUP_ID_LENGTH_MAX, OFFSET_METADATA_BYTES_MAX, PARTITIONS_MAX } from '../limits.js';
import type { MetadataState } from '../state/metadata-state.js';
import { checkTopicName, isInteger, isWellFormed, requireGroupId, requireInteger, requireString } from './input-rules.js';

/**
 * The offset commit command (the hot path: encoded with Avro on the command ring). `generation` -1 and
 * `memberId` null make a commit without a membership check.
 */
export interface CommitOffsetsCommand {
  type: 'CommitOffsets';
  value: { groupId: string; entries: OffsetCommitEntry[]; generation: number; memberId: string | null };
}

/** One entry of commitOffsets. */
export interface OffsetCommitInput {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch?: number;
  metadata?: string;
}

function checkCommitEntry(entry: unknown, index: number, seen: Set<string> | null): OffsetCommitEntry {
  const field = `entries[${index}]`;
  if (typeof entry !== 'object' || entry === null) {
    throw new MetaLogError('INVALID_REQUEST', `${field} must be { topic, partition, offset, leaderEpoch?, metadata? }`, { field });
  }
  const { topic, partition, offset, leaderEpoch = -1, metadata = '' } = entry as Partial<OffsetCommitInput>;
  checkTopicName(topic, `${field}.topic`);
  if (!isInteger(partition, 0, PARTITIONS_MAX - 1)) {
    throw new MetaLogError('UNKNOWN_TOPIC_OR_PARTITION', `${field}.partition must be an integer from 0 to ${PARTITIONS_MAX - 1}`, { field: `${field}.partition` });
  }
  // Negative offsets are what admin tools write on a reset (-1: the log end, -2: its start).
  if (!isInteger(offset, COMMITTED_OFFSET_MIN, COMMITTED_OFFSET_MAX)) {
    throw new MetaLogError('INVALID_REQUEST', `${field}.offset must be an integer from -2^52 to 2^53-2`, { field: `${field}.offset` });
  }
  if (!isInteger(leaderEpoch, -1, 2147483647)) {
    throw new MetaLogError('INVALID_REQUEST', `${field}.leaderEpoch must be an integer from -1 to 2^31-1`, { field: `${field}.leaderEpoch` });
  }
  if (typeof metadata !== 'string' || Buffer.byteLength(metadata, 'utf8') > OFFSET_METADATA_BYTES_MAX) {
    throw new MetaLogError('OFFSET_METADATA_TOO_LARGE', `${field}.metadata must be a string of at most ${OFFSET_METADATA_BYTES_MAX} bytes`, {
      field: `${field}.metadata`,
    });
  }
  // Metadata is usually empty: skip the call for it on this hot path.
  if (metadata.length > 0 && !isWellFormed(metadata)) {
    throw new MetaLogError('INVALID_REQUEST', `${field}.metadata is not well-formed UTF-16 (it holds a lone surrogate)`, { field: `${field}.metadata` });
  }
  if (seen !== null) {
    const key = `${topic}\u0000${partition}`;
    if (seen.has(key)) {
      throw new MetaLogError('INVALID_REQUEST', `${field} repeats ${topic}-${partition} within one commit`, { field });
    }
    seen.add(key);
  }
  return { topic, partition, offset, leaderEpoch, metadata };
}

/**
 * The optional group membership check of a commit (Kafka's OffsetCommit generation and member id).
 * Generation -1 with an empty (or no) member id is Kafka's commit of a group that only stores offsets.
 */
export interface CommitMembership {
  generation: number;
  memberId: string;
}

/** The membership fields of a commit command: -1 and null for a commit without membership. */
function checkMembershipInput(membership: unknown): { generation: number; memberId: string | null } {
  if (membership === undefined) return { generation: -1, memberId: null };
  if (typeof membership !== 'object' || membership === null) {
    throw new MetaLogError('INVALID_REQUEST', 'membership must be { generation, memberId }', { field: 'membership' });
  }
  const { generation, memberId } = membership as Partial<CommitMembership>;
  if (generation === -1) {
    if (memberId !== undefined && memberId !== null && memberId !== '') {
      throw new MetaLogError('INVALID_REQUEST', 'a commit with generation -1 names no member (memberId must be empty)', { field: 'memberId' });
    }
    return { generation: -1, memberId: null };
  }
  return {
    generation: requireInteger(generation, 0, 2 ** 31 - 1, 'generation', 'ILLEGAL_GENERATION'),
    memberId: requireString(memberId, 1, GROUP_ID_LENGTH_MAX, 'memberId'),
  };
}

/** Checks commitOffsets arguments (no state needed). */
export function checkCommitOffsetsInput(groupId: unknown, entries: unknown, membership?: unknown): CommitOffsetsCommand {
  const id = requireGroupId(groupId);
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > COMMIT_ENTRIES_MAX) {
    throw new MetaLogError('INVALID_REQUEST', `entries must be an array of 1 to ${COMMIT_ENTRIES_MAX} offsets`, { field: 'entries' });
  }
  // A single entry cannot repeat itself: skip the duplicate check for the common one-partition commit.
  const seen = entries.length > 1 ? new Set<string>() : null;
  const checked = entries.map((entry, index) => checkCommitEntry(entry, index, seen));
  return { type: 'CommitOffsets', value: { groupId: id, entries: checked, ...checkMembershipInput(membership) } };
}

/**
 * Kafka's membership rule for a commit (its classic group coordinator), in its order:
 * - without membership (generation -1, no member id: a group that only stores offsets, or an admin
 *   reset) the group must have no members (absent, or Empty), else UNKNOWN_MEMBER_ID;
 * - with membership, a group the store does not know is ILLEGAL_GENERATION (a commit from an older
 *   generation of a group since deleted); else the member is checked first (UNKNOWN_MEMBER_ID, even
 *   when the generation is also wrong), then the generation (ILLEGAL_GENERATION).
 */
function checkMembership(value: CommitOffsetsCommand['value'], state: MetadataState): void {
  const group = state.groups.get(value.groupId);
  const entity = value.groupId;
  if (value.memberId === null) {
    if (group !== undefined && group.members.length > 0) {
      throw new MetaLogError('UNKNOWN_MEMBER_ID', `group ${JSON.stringify(entity)} has members: a commit must name its generation and member`, { entity });
    }
    return;
  }
  if (group === undefined) {
    throw new MetaLogError('ILLEGAL_GENERATION', `group ${JSON.stringify(entity)} is not at generation ${value.generation}`, { entity, field: 'generation' });
  }
  if (!group.members.some((member) => member.memberId === value.memberId)) {
    throw new MetaLogError('UNKNOWN_MEMBER_ID', `${JSON.stringify(value.memberId)} is not a member of group ${JSON.stringify(entity)}`, { entity, field: 'memberId' });
  }
  if (group.generation !== value.generation) {
    throw new MetaLogError('ILLEGAL_GENERATION', `group ${JSON.stringify(entity)} is not at generation ${value.generation}`, { entity, field: 'generation' });
  }
}

/** Every (topic, partition) of the commit must exist; the event carries all entries or none. */
export function decideCommitOffsets(value: CommitOffsetsCommand['value'], state: MetadataState): EventBody {
  checkMembership(value, state);
  const { entries } = value;
  for (let i = 0; i < entries.length; i++) {
    const { topic, partition } = entries[i];
    const found = state.topics.get(topic);
    if (found === undefined || partition >= found.partitions.length) {
      throw new MetaLogError('UNKNOWN_TOPIC_OR_PARTITION', `${topic}-${partition} does not exist`, {
        field: `entries[${i}]`,
        entity: `${topic}-${partition}`,
      });
    }
  }
  return { type: 'OffsetsCommitted', value: { groupId: value.groupId, entries } };
}
