/**
 * A consumer group as the writer's state holds it: its GroupUpserted encoding, which is also the
 * event's payload in the log and the group's value in the shared index, with only what the group rules
 * read decoded (the header, the member ids, the topics the members subscribe to).
 *
 * Why: a group is written whole on every rebalance step, and decoding its members into objects on the
 * writer, then encoding them again for the index, cost more than the rest of the write. The writer
 * never needs a member's client details or bytes, so it keeps the bytes and reads the facts.
 *
 * The members decode on first use (a check in verify mode, a test) from the encoding this object owns.
 */
import { decodeFrozenGroup, readGroupFacts, type GroupFacts } from '../codec/hot-decoders.js';
import { groupEncoding, ownCopy } from '../codec/hot-encoders.js';
import type { GroupMember, GroupUpserted } from '../codec/event-schema.js';
import type { Group } from './entities.js';

/**
 * The group's fields before its members, declared once by the event's type (this interface merges into
 * the class below) and set from the facts by the constructor.
 */
export interface EncodedGroup extends Readonly<Omit<GroupUpserted, 'members'>> {}

export class EncodedGroup implements GroupUpserted {
  /** Member ids, in the members' order. */
  readonly memberIds: readonly string[];
  private readonly topics: ReadonlySet<string>;
  private decoded: GroupMember[] | null = null;

  private constructor(
    /** The GroupUpserted payload; never changed after construction. */
    readonly encoding: Buffer,
    facts: GroupFacts,
  ) {
    const { memberIds, topics, ...header } = facts;
    Object.assign(this, header);
    this.memberIds = memberIds;
    this.topics = topics;
  }

  /**
   * The group `encoding` holds, which becomes this object's own: the caller never changes it afterwards.
   * Throws MalformedPayload when it is not a GroupUpserted payload.
   */
  static fromEncoding(encoding: Buffer): EncodedGroup {
    return new EncodedGroup(encoding, readGroupFacts(encoding, 0, encoding.length));
  }

  /**
   * The group in a copy of `bytes`. The copy is a Buffer of its own, never a slice of Node's shared
   * pool: a small group kept for hours would otherwise keep a whole pool chunk alive.
   * Throws MalformedPayload when they are not a GroupUpserted payload.
   */
  static fromCopyOf(bytes: Uint8Array): EncodedGroup {
    return EncodedGroup.fromEncoding(ownCopy(bytes));
  }

  /** The group a decoded event value holds (a replayed event, a test's): encoded here. */
  static fromValue(value: GroupUpserted): EncodedGroup {
    return value instanceof EncodedGroup ? value : EncodedGroup.fromEncoding(groupEncoding(value));
  }

  /** The members, decoded once (frozen, their bytes copied out of the encoding). */
  get members(): GroupMember[] {
    this.decoded ??= decodeFrozenGroup(this.encoding, 0, this.encoding.length).members;
    return this.decoded;
  }

  /** The group as the API returns it (a plain object: what a read of the index gives). */
  toGroup(): Group {
    const { groupId, state, protocolType, protocol, generation, leader, members } = this;
    return Object.freeze({ groupId, state, protocolType, protocol, generation, leader, members });
  }

  get memberCount(): number {
    return this.memberIds.length;
  }

  hasMember(memberId: string): boolean {
    return this.memberIds.includes(memberId);
  }

  /** True when some member subscribes to `topic`. */
  subscribesTo(topic: string): boolean {
    return this.topics.has(topic);
  }
}
