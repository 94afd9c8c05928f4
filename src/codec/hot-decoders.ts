/**
 * Hand-written decoders for the event types that dominate a log (offset commits) or cost the most to
 * decode (whole groups with their members), for records written under this version's writer schema only. They read the same Avro binary that avsc writes (a property
 * test checks them against avsc on random values) about twice as fast, and return interned strings.
 * Records under any other writer schema go through avsc and schema resolution.
 */
import type { GroupMember, GroupState, GroupUpserted, OffsetCommitEntry, OffsetsCommitted } from './event-schema.js';
import { BinaryReader, MalformedPayload } from './binary-reader.js';

const reader = new BinaryReader();

/**
 * Walks the blocks of an Avro array (a count, negative when followed by the block's byte size, then the
 * items; a zero count ends it), calling `readItem` once per item.
 */
function readArrayBlocks(start: number, end: number, readItem: () => void): void {
  for (let blocks = 0; ; blocks++) {
    if (blocks > end - start) throw new MalformedPayload('array has more blocks than bytes');
    let count = reader.readLong();
    if (count === 0) return;
    if (count < 0) {
      count = -count;
      reader.readLong();
    }
    for (let i = 0; i < count; i++) readItem();
  }
}

function checkConsumed(start: number, end: number): void {
  if (reader.position !== end) throw new MalformedPayload(`payload of ${end - start} bytes decoded to ${reader.position - start}`);
}

/** Decodes an OffsetsCommitted payload `bytes[start, end)`; throws on malformed or trailing bytes. */
export function decodeOffsetsCommitted(bytes: Buffer, start: number, end: number): OffsetsCommitted {
  reader.reset(bytes, start, end);
  const value = readOffsetsCommitted(start, end);
  checkConsumed(start, end);
  return value;
}

/** The group id and entries of an offset commit, from the reader's position. */
function readOffsetsCommitted(start: number, end: number): OffsetsCommitted {
  const groupId = reader.readString();
  const entries: OffsetCommitEntry[] = [];
  readArrayBlocks(start, end, () => {
    entries.push({
      topic: reader.readString(),
      partition: reader.readLong(),
      offset: reader.readLong(),
      leaderEpoch: reader.readLong(),
      metadata: reader.readString(),
    });
  });
  return { groupId, entries };
}

/** A commitOffsets command's value as it crosses the command ring (see command-codec.ts). */
export interface CommitOffsetsCommandValue extends OffsetsCommitted {
  generation: number;
  memberId: string | null;
  perEntry: boolean;
}

/**
 * Decodes a commitOffsets command's payload `bytes[start, end)`: an OffsetsCommitted value followed by
 * the membership fields. Returns also where the OffsetsCommitted part ends: those bytes are the event's
 * own encoding when the writer accepts every entry.
 */
export function decodeCommitOffsetsCommand(bytes: Buffer, start: number, end: number): { value: CommitOffsetsCommandValue; eventEnd: number } {
  reader.reset(bytes, start, end);
  const { groupId, entries } = readOffsetsCommitted(start, end);
  const eventEnd = reader.position;
  const generation = readInt();
  const memberId = readNullableString();
  if (reader.position >= end) throw new MalformedPayload('boolean runs past the end of the payload');
  const flag = bytes[reader.position++];
  if (flag > 1) throw new MalformedPayload(`boolean byte ${flag}`);
  checkConsumed(start, end);
  return { value: { groupId, entries, generation, memberId, perEntry: flag === 1 }, eventEnd };
}

/**
 * Checks that `bytes[start, end)` is a well-formed OffsetsCommitted payload without building it (no
 * strings, no objects): for a reader that must verify every record but keeps no committed offsets.
 */
export function checkOffsetsCommitted(bytes: Buffer, start: number, end: number): void {
  reader.reset(bytes, start, end);
  reader.skipString();
  readArrayBlocks(start, end, skipCommitEntry);
  checkConsumed(start, end);
}

function skipCommitEntry(): void {
  reader.skipString();
  reader.readLong();
  reader.readLong();
  reader.readLong();
  reader.skipString();
}

/** GroupState's enum symbols in schema order. */
const GROUP_STATE_SYMBOLS: readonly GroupState[] = ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'];

/** An Avro ['null', 'string'] union. */
function readNullableString(): string | null {
  const branch = reader.readLong();
  if (branch === 0) return null;
  if (branch !== 1) throw new MalformedPayload(`union branch ${branch} of ['null', 'string']`);
  return reader.readString();
}

/** An Avro int: a long within 32 bits. */
function readInt(): number {
  const value = reader.readLong();
  if (value !== (value | 0)) throw new MalformedPayload(`int ${value} out of range`);
  return value;
}

/** Steps over an Avro ['null', 'string'] union. */
function skipNullableString(): void {
  const branch = reader.readLong();
  if (branch === 1) reader.skipString();
  else if (branch !== 0) throw new MalformedPayload(`union branch ${branch} of ['null', 'string']`);
}

/** The start of an Avro `bytes` field's value; the reader moves past it. */
function skipBytes(): number {
  const length = reader.readLong();
  const start = reader.position;
  if (length < 0 || start + length > reader.end) throw new MalformedPayload('bytes run past the end of the payload');
  reader.position = start + length;
  return start;
}

/**
 * An Avro `bytes` field: a view of the payload (as avsc hands them out) when the caller owns the
 * buffer the payload is in, else a copy.
 */
function readBytes(copy: boolean): Buffer {
  const start = skipBytes();
  const view = reader.bytes.subarray(start, reader.position);
  return copy ? Buffer.from(view) : view;
}

function readGroupMember(copy: boolean): GroupMember {
  const memberId = reader.readString();
  const groupInstanceId = readNullableString();
  const clientId = reader.readString();
  const clientHost = reader.readString();
  const sessionTimeoutMs = readInt();
  const rebalanceTimeoutMs = readInt();
  const topics: string[] = [];
  readArrayBlocks(reader.position, reader.end, () => topics.push(reader.readString()));
  const subscription = readBytes(copy);
  const assignment = readBytes(copy);
  return { memberId, groupInstanceId, clientId, clientHost, sessionTimeoutMs, rebalanceTimeoutMs, topics, subscription, assignment };
}

/** A group's fields before its members, from the reader's position. */
function readGroupHeader(): Omit<GroupUpserted, 'members'> {
  const groupId = reader.readString();
  const state = GROUP_STATE_SYMBOLS[reader.readLong()];
  if (state === undefined) throw new MalformedPayload('group state symbol out of range');
  const protocolType = reader.readString();
  const protocol = readNullableString();
  const generation = readInt();
  const leader = readNullableString();
  return { groupId, state, protocolType, protocol, generation, leader };
}

/**
 * Decodes a GroupUpserted payload `bytes[start, end)` (also the upsertGroup command's, which travels in
 * the same schema). Member bytes are views of `bytes`, or copies with `copyBytes` (for a caller whose
 * buffer is reused). Throws on malformed or trailing bytes.
 */
export function decodeGroupUpserted(bytes: Buffer, start: number, end: number, copyBytes = false): GroupUpserted {
  reader.reset(bytes, start, end);
  const header = readGroupHeader();
  const members: GroupMember[] = [];
  readArrayBlocks(start, end, () => members.push(readGroupMember(copyBytes)));
  checkConsumed(start, end);
  return { ...header, members };
}

/**
 * A GroupUpserted payload as a read hands it out: its members' bytes copied out of `bytes` (which the
 * caller may reuse), and the whole value frozen, members and their topic lists included.
 */
export function decodeFrozenGroup(bytes: Buffer, start: number, end: number): GroupUpserted {
  const group = decodeGroupUpserted(bytes, start, end, true);
  for (const member of group.members) {
    Object.freeze(member.topics);
    Object.freeze(member);
  }
  Object.freeze(group.members);
  return Object.freeze(group);
}

/** What the writer's group rules read of a group: its header, its members' ids and their topics. */
export interface GroupFacts extends Omit<GroupUpserted, 'members'> {
  /** Member ids, in the members' order. */
  memberIds: string[];
  /** Every topic some member subscribes to. */
  topics: Set<string>;
}

/**
 * Reads a GroupUpserted payload `bytes[start, end)` as completely as `decodeGroupUpserted` checks it,
 * but builds only its facts: no member objects, no client strings, no byte views. Throws on malformed
 * or trailing bytes.
 */
export function readGroupFacts(bytes: Buffer, start: number, end: number): GroupFacts {
  reader.reset(bytes, start, end);
  const header = readGroupHeader();
  const memberIds: string[] = [];
  const topics = new Set<string>();
  readArrayBlocks(start, end, () => {
    memberIds.push(reader.readString());
    skipNullableString();
    reader.skipString();
    reader.skipString();
    readInt();
    readInt();
    readArrayBlocks(reader.position, reader.end, () => topics.add(reader.readString()));
    skipBytes();
    skipBytes();
  });
  checkConsumed(start, end);
  return { ...header, memberIds, topics };
}
