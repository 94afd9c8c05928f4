/** Offset commit rules: input checks on the caller's thread, existence checks on the writer's. */
import type { EventBody, OffsetCommitEntry } from '../codec/event-schema.js';
import { MetaLogError, type ErrorCode } from '../errors.js';
import { COMMIT_ENTRIES_MAX, COMMITTED_OFFSET_MAX, COMMITTED_OFFSET_MIN, GROUP_ID_LENGTH_MAX, OFFSET_METADATA_BYTES_MAX, PARTITIONS_MAX } from '../limits.js';
import type { MetadataState } from '../state/metadata-state.js';
import { checkTopicName, isInteger, isLegalTopicName, isWellFormed, requireGroupId, requireInteger, requireString } from './input-rules.js';

/**
 * The offset commit command (the hot path: encoded with Avro on the command ring). `generation` -1 and
 * `memberId` null make a commit without a membership check. `perEntry`: an entry the state refuses is
 * left out with its own code (an EntryRefusal) instead of refusing the whole command.
 */
export interface CommitOffsetsCommand {
  type: 'CommitOffsets';
  value: { groupId: string; entries: OffsetCommitEntry[]; generation: number; memberId: string | null; perEntry: boolean };
}

/**
 * An entry that a per-entry command (commitOffsetsEach, deleteOffsetsEach) refused: its index in the
 * command's entries and the code. It crosses threads as just these two numbers' worth (see
 * writer/batch-record.ts); the caller, who knows the entry, builds the error.
 */
export interface EntryRefusal {
  index: number;
  code: ErrorCode;
}

/** A partition of a per-entry call and its outcome: null, or the error that refused it. */
export interface PartitionResult {
  readonly topic: string;
  readonly partition: number;
  readonly error: MetaLogError | null;
}

/**
 * What the caller's thread makes of a per-entry call: the command for the writer (holding the entries
 * that passed the checks that need no state; possibly none, so the writer still checks what concerns
 * the whole request), and for each entry given either the index it has in the command or the error that
 * refused it already.
 */
export interface CheckedPerEntry<C> {
  command: C;
  outcomes: ({ sentAs: number } | { error: MetaLogError })[];
  partitions: { topic: string; partition: number }[];
}

/** The error of an entry refused on the writer's thread, built where the call was made. */
export function refusalError(code: ErrorCode, topic: string, partition: number, index: number, groupId: string): MetaLogError {
  const entity = `${topic}-${partition}`;
  const field = entryField(index);
  switch (code) {
    case 'UNKNOWN_TOPIC_OR_PARTITION':
      return new MetaLogError(code, `${entity} does not exist`, { field, entity });
    case 'GROUP_SUBSCRIBED_TO_TOPIC':
      return new MetaLogError(code, `group ${JSON.stringify(groupId)} is subscribed to ${topic}`, { field, entity: topic });
    default:
      return new MetaLogError(code, `${entity} was refused (${code})`, { field, entity });
  }
}

/** The results of a per-entry call, in the order given, from what the writer refused of its command. */
export function perEntryResults<C>(checked: CheckedPerEntry<C>, refused: readonly EntryRefusal[], groupId: string): PartitionResult[] {
  const bySentIndex = new Map(refused.map((refusal) => [refusal.index, refusal.code]));
  return checked.outcomes.map((outcome, index) => {
    const { topic, partition } = checked.partitions[index];
    if ('error' in outcome) return Object.freeze({ topic, partition, error: outcome.error });
    const code = bySentIndex.get(outcome.sentAs);
    return Object.freeze({ topic, partition, error: code === undefined ? null : refusalError(code, topic, partition, index, groupId) });
  });
}

/** One entry of commitOffsets. */
export interface OffsetCommitInput {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch?: number;
  metadata?: string;
}

/** The name of entry `index` of a commit, for an error message. */
function entryField(index: number): string {
  return `entries[${index}]`;
}

function checkCommitEntry(entry: unknown, index: number, seen: Set<string> | null): OffsetCommitEntry {
  // Field names are built only for an error (`entryField`): this runs for every entry of every commit.
  if (typeof entry !== 'object' || entry === null) {
    throw new MetaLogError('INVALID_REQUEST', `${entryField(index)} must be { topic, partition, offset, leaderEpoch?, metadata? }`, { field: entryField(index) });
  }
  const { topic, partition, offset, leaderEpoch = -1, metadata = '' } = entry as Partial<OffsetCommitInput>;
  if (!isLegalTopicName(topic)) checkTopicName(topic, `${entryField(index)}.topic`);
  if (!isInteger(partition, 0, PARTITIONS_MAX - 1)) {
    throw new MetaLogError('UNKNOWN_TOPIC_OR_PARTITION', `${entryField(index)}.partition must be an integer from 0 to ${PARTITIONS_MAX - 1}`, { field: `${entryField(index)}.partition` });
  }
  // Negative offsets are what admin tools write on a reset (-1: the log end, -2: its start).
  if (!isInteger(offset, COMMITTED_OFFSET_MIN, COMMITTED_OFFSET_MAX)) {
    throw new MetaLogError('INVALID_REQUEST', `${entryField(index)}.offset must be an integer from -2^52 to 2^53-2`, { field: `${entryField(index)}.offset` });
  }
  if (!isInteger(leaderEpoch, -1, 2147483647)) {
    throw new MetaLogError('INVALID_REQUEST', `${entryField(index)}.leaderEpoch must be an integer from -1 to 2^31-1`, { field: `${entryField(index)}.leaderEpoch` });
  }
  // A UTF-16 unit is at most 3 UTF-8 bytes: short metadata (nearly all of it) needs no byte count.
  if (typeof metadata !== 'string' || (metadata.length * 3 > OFFSET_METADATA_BYTES_MAX && Buffer.byteLength(metadata, 'utf8') > OFFSET_METADATA_BYTES_MAX)) {
    throw new MetaLogError('OFFSET_METADATA_TOO_LARGE', `${entryField(index)}.metadata must be a string of at most ${OFFSET_METADATA_BYTES_MAX} bytes`, {
      field: `${entryField(index)}.metadata`,
    });
  }
  // Metadata is usually empty: skip the call for it on this hot path.
  if (metadata.length > 0 && !isWellFormed(metadata)) {
    throw new MetaLogError('INVALID_REQUEST', `${entryField(index)}.metadata is not well-formed UTF-16 (it holds a lone surrogate)`, { field: `${entryField(index)}.metadata` });
  }
  if (seen !== null) {
    const key = `${topic}\u0000${partition}`;
    if (seen.has(key)) {
      throw new MetaLogError('INVALID_REQUEST', `${entryField(index)} repeats ${topic}-${partition} within one commit`, { field: entryField(index) });
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
  return { type: 'CommitOffsets', value: { groupId: id, entries: checked, ...checkMembershipInput(membership), perEntry: false } };
}

/**
 * Checks commitOffsetsEach arguments. An entry whose metadata is a string over the size limit
 * (OFFSET_METADATA_TOO_LARGE) or whose partition is an integer no topic can have
 * (UNKNOWN_TOPIC_OR_PARTITION) is refused here, on its own; any other malformed input, like a bad group
 * id or membership, rejects the whole call.
 */
export function checkCommitOffsetsEachInput(groupId: unknown, entries: unknown, membership?: unknown): CheckedPerEntry<CommitOffsetsCommand> {
  const id = requireGroupId(groupId);
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > COMMIT_ENTRIES_MAX) {
    throw new MetaLogError('INVALID_REQUEST', `entries must be an array of 1 to ${COMMIT_ENTRIES_MAX} offsets`, { field: 'entries' });
  }
  const fields = checkMembershipInput(membership);
  const seen = new Set<string>();
  const sent: OffsetCommitEntry[] = [];
  const outcomes: CheckedPerEntry<CommitOffsetsCommand>['outcomes'] = [];
  const partitions: { topic: string; partition: number }[] = [];
  entries.forEach((entry: unknown, index) => {
    const given = (typeof entry === 'object' && entry !== null ? entry : {}) as Partial<OffsetCommitInput>;
    const refusal = perEntryRefusal(given.partition, given.metadata, index);
    // The rest of the entry must be well formed whatever is refused: it is checked with stand-ins.
    const checked = checkCommitEntry(
      refusal === null ? entry : { ...given, partition: refusal.partitionOk ? given.partition : 0, metadata: refusal.metadataOk ? given.metadata : '' },
      index,
      null,
    );
    const partition = given.partition as number;
    const key = `${checked.topic}\u0000${partition}`;
    if (seen.has(key)) throw new MetaLogError('INVALID_REQUEST', `entries[${index}] repeats ${checked.topic}-${partition} within one commit`, { field: `entries[${index}]` });
    seen.add(key);
    partitions.push({ topic: checked.topic, partition });
    if (refusal !== null) {
      outcomes.push({ error: refusal.error });
      return;
    }
    outcomes.push({ sentAs: sent.length });
    sent.push(checked);
  });
  return { command: { type: 'CommitOffsets', value: { groupId: id, entries: sent, ...fields, perEntry: true } }, outcomes, partitions };
}

/** What refuses one entry on its own before it is sent: an impossible partition, too much metadata. */
function perEntryRefusal(partition: unknown, metadata: unknown, index: number): { error: MetaLogError; partitionOk: boolean; metadataOk: boolean } | null {
  const field = entryField(index);
  if (Number.isSafeInteger(partition) && !isInteger(partition, 0, PARTITIONS_MAX - 1)) {
    const error = new MetaLogError('UNKNOWN_TOPIC_OR_PARTITION', `${field}.partition must be an integer from 0 to ${PARTITIONS_MAX - 1}`, { field: `${field}.partition` });
    return { error, partitionOk: false, metadataOk: !tooMuchMetadata(metadata) };
  }
  if (tooMuchMetadata(metadata)) {
    const error = new MetaLogError('OFFSET_METADATA_TOO_LARGE', `${field}.metadata must be at most ${OFFSET_METADATA_BYTES_MAX} bytes`, { field: `${field}.metadata` });
    return { error, partitionOk: true, metadataOk: false };
  }
  return null;
}

function tooMuchMetadata(metadata: unknown): boolean {
  return typeof metadata === 'string' && Buffer.byteLength(metadata, 'utf8') > OFFSET_METADATA_BYTES_MAX;
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
    if (group !== undefined && group.memberCount > 0) {
      throw new MetaLogError('UNKNOWN_MEMBER_ID', `group ${JSON.stringify(entity)} has members: a commit must name its generation and member`, { entity });
    }
    return;
  }
  if (group === undefined) {
    throw new MetaLogError('ILLEGAL_GENERATION', `group ${JSON.stringify(entity)} is not at generation ${value.generation}`, { entity, field: 'generation' });
  }
  if (!group.hasMember(value.memberId)) {
    throw new MetaLogError('UNKNOWN_MEMBER_ID', `${JSON.stringify(value.memberId)} is not a member of group ${JSON.stringify(entity)}`, { entity, field: 'memberId' });
  }
  if (group.generation !== value.generation) {
    throw new MetaLogError('ILLEGAL_GENERATION', `group ${JSON.stringify(entity)} is not at generation ${value.generation}`, { entity, field: 'generation' });
  }
}

/**
 * Every (topic, partition) of the commit must exist: the event carries all entries or none; with
 * `perEntry`, the entries that exist, and each other one is added to `refused` (no event when none is left).
 */
export function decideCommitOffsets(value: CommitOffsetsCommand['value'], state: MetadataState, refused: EntryRefusal[]): EventBody | null {
  checkMembership(value, state);
  const { entries } = value;
  let kept: OffsetCommitEntry[] | null = null;
  for (let i = 0; i < entries.length; i++) {
    const { topic, partition } = entries[i];
    const count = state.partitionCount(topic);
    if (count !== undefined && partition < count) {
      kept?.push(entries[i]);
      continue;
    }
    if (!value.perEntry) {
      throw new MetaLogError('UNKNOWN_TOPIC_OR_PARTITION', `${topic}-${partition} does not exist`, {
        field: `entries[${i}]`,
        entity: `${topic}-${partition}`,
      });
    }
    kept ??= entries.slice(0, i);
    refused.push({ index: i, code: 'UNKNOWN_TOPIC_OR_PARTITION' });
  }
  const written = kept ?? entries;
  if (written.length === 0) return null;
  return { type: 'OffsetsCommitted', value: { groupId: value.groupId, entries: written } };
}
