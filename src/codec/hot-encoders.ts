/**
 * Hand-written Avro encoders for the commands whose avsc encoding costs the most on the caller's thread:
 * an upsertGroup (a whole group: every member's strings and bytes). They write exactly the bytes avsc
 * writes for this version's schema (a property test compares them on random values), straight from the
 * caller's checked input: member bytes may be any Uint8Array, so none is wrapped in a Buffer first.
 */
import type { GroupMember, GroupState, GroupUpserted } from './event-schema.js';
import { RECORD_BYTES_MAX } from '../limits.js';

/** GroupState's enum symbols in schema order. */
const GROUP_STATE_INDEX: Readonly<Record<GroupState, number>> = { Empty: 0, PreparingRebalance: 1, CompletingRebalance: 2, Stable: 3, Dead: 4 };

/**
 * A member as the encoder reads it: a GroupMember whose bytes may be any Uint8Array (a caller's checked
 * input; the writer's decoded members are Buffers).
 */
export type EncodableMember = Readonly<Omit<GroupMember, 'subscription' | 'assignment' | 'topics'>> & {
  readonly topics: readonly string[];
  readonly subscription: Uint8Array;
  readonly assignment: Uint8Array;
};

/** A group as the encoder reads it. */
export type EncodableGroup = Readonly<Omit<GroupUpserted, 'members'>> & { readonly members: readonly EncodableMember[] };

/** Thrown inside the encoder when the output does not fit; turned into -1 at the top. */
const FULL = Symbol('output full');

/** Appends Avro values to a caller's buffer; every write checks the room left first. */
class AvroWriter {
  bytes: Uint8Array = new Uint8Array(0);
  position = 0;

  reset(bytes: Uint8Array, position: number): void {
    this.bytes = bytes;
    this.position = position;
  }

  private room(count: number): void {
    if (this.position + count > this.bytes.length) throw FULL;
  }

  /** An Avro int or long (zigzag varint); exact for safe integers. */
  long(value: number): void {
    this.room(10);
    const bytes = this.bytes;
    if (value >= -0x40000000 && value < 0x40000000) {
      // Fits 31 bits after zigzag: bit operations.
      let zigzag = ((value << 1) ^ (value >> 31)) >>> 0;
      while (zigzag > 0x7f) {
        bytes[this.position++] = (zigzag & 0x7f) | 0x80;
        zigzag >>>= 7;
      }
      bytes[this.position++] = zigzag;
      return;
    }
    let zigzag = value >= 0 ? value * 2 : -value * 2 - 1;
    while (zigzag > 0x7f) {
      bytes[this.position++] = (zigzag % 128) | 0x80;
      zigzag = Math.floor(zigzag / 128);
    }
    bytes[this.position++] = zigzag;
  }

  /**
   * An Avro string: its UTF-8 byte length, then the bytes. Written as ASCII in one pass, which is what
   * names and ids almost always are; at the first other character it starts over through Node's UTF-8
   * encoder. (The ASCII length check is enough for room: UTF-8 never takes fewer bytes than UTF-16 units.)
   */
  string(value: string): void {
    const start = this.position;
    const length = value.length;
    this.long(length);
    this.room(length);
    const bytes = this.bytes;
    const at = this.position;
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code >= 0x80) {
        this.position = start;
        this.bytesField(Buffer.from(value, 'utf8'));
        return;
      }
      bytes[at + i] = code;
    }
    this.position = at + length;
  }

  /** An Avro ['null', 'string'] union. */
  nullableString(value: string | null): void {
    if (value === null) {
      this.long(0);
      return;
    }
    this.long(1);
    this.string(value);
  }

  /** An Avro `bytes` value: its length, then the bytes. */
  bytesField(value: Uint8Array): void {
    this.long(value.length);
    this.room(value.length);
    this.bytes.set(value, this.position);
    this.position += value.length;
  }
}

const writer = new AvroWriter();

/**
 * Encodes a group in the GroupUpserted record's Avro form at `position` of `out`; returns the end, or -1
 * if it does not fit before `out.length`.
 */
export function encodeGroupUpserted(group: EncodableGroup, out: Uint8Array, position: number): number {
  writer.reset(out, position);
  try {
    writer.string(group.groupId);
    writer.long(GROUP_STATE_INDEX[group.state]);
    writer.string(group.protocolType);
    writer.nullableString(group.protocol);
    writer.long(group.generation);
    writer.nullableString(group.leader);
    // An Avro array: one block of all items, then the zero count that ends it (avsc writes the same).
    if (group.members.length > 0) writer.long(group.members.length);
    for (const member of group.members) {
      writer.string(member.memberId);
      writer.nullableString(member.groupInstanceId);
      writer.string(member.clientId);
      writer.string(member.clientHost);
      writer.long(member.sessionTimeoutMs);
      writer.long(member.rebalanceTimeoutMs);
      if (member.topics.length > 0) writer.long(member.topics.length);
      for (const topic of member.topics) writer.string(topic);
      writer.long(0);
      writer.bytesField(member.subscription);
      writer.bytesField(member.assignment);
    }
    writer.long(0);
  } catch (error) {
    if (error === FULL) return -1;
    throw error;
  }
  return writer.position;
}

/** Where `groupEncoding` encodes (a GroupUpserted fits a record); allocated on first use. */
let groupScratch: Buffer | null = null;

/**
 * A group's GroupUpserted encoding in a Buffer of its own, never a slice of Node's shared pool (a small
 * group kept for hours would otherwise keep a whole pool chunk alive).
 * @throws RangeError when the group does not fit a record.
 */
export function groupEncoding(group: EncodableGroup): Buffer {
  groupScratch ??= Buffer.allocUnsafe(RECORD_BYTES_MAX);
  const end = encodeGroupUpserted(group, groupScratch, 0);
  if (end < 0) throw new RangeError(`a group of more than ${RECORD_BYTES_MAX} bytes`);
  return ownCopy(groupScratch.subarray(0, end));
}

/** A copy of `bytes` in a Buffer of its own (see groupEncoding). */
export function ownCopy(bytes: Uint8Array): Buffer {
  const own = Buffer.allocUnsafeSlow(bytes.length);
  own.set(bytes);
  return own;
}

