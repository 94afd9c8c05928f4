/**
 * Committed offsets read from replayed commit records and not yet written to the offsets table: the
 * newest value of each key only.
 *
 * Why: a log is mostly offset commits, and a consumer commits the same partitions again and again, so a
 * replay that wrote every commit to the table would overwrite each key many times (a million commits of
 * the bench's log touch 12,000 keys). Keeping the newest value per key in a JS map and writing each key
 * once when the replay reaches anything else that touches offsets, or publishes, gives the same table.
 *
 * Owns: the entries, in the order their keys were first seen. Keyed by the group's and the topic's
 * numbers (see index-keys.ts) and the partition, below 2^16 like the table's key.
 */

/** Entries kept before a flush is asked for, bounding the memory a replay of many keys holds. */
export const PENDING_OFFSETS_MAX = 65_536;

/** The newest value of a committed offset, with what its key and its directory entry are made of. */
export interface PendingOffset {
  groupId: string;
  groupNumber: number;
  topic: string;
  topicNumber: number;
  partition: number;
  offset: number;
  leaderEpoch: number;
  commitTimestampMs: number;
  /** The metadata's UTF-8 bytes, copied out of the record (null when empty). */
  metadata: Uint8Array | null;
}

export class PendingOffsets {
  /** Entry index by group number, then by topic number × 2^16 + partition. */
  private readonly byGroup = new Map<number, Map<number, number>>();
  private readonly entries: PendingOffset[] = [];

  get size(): number {
    return this.entries.length;
  }

  /** Records the newest value of a key: replaces the value it had here, or adds the key. */
  put(
    groupId: string,
    groupNumber: number,
    topic: string,
    topicNumber: number,
    partition: number,
    offset: number,
    leaderEpoch: number,
    commitTimestampMs: number,
    metadata: Uint8Array | null,
  ): void {
    let byPartition = this.byGroup.get(groupNumber);
    if (byPartition === undefined) {
      byPartition = new Map();
      this.byGroup.set(groupNumber, byPartition);
    }
    const key = topicNumber * 65_536 + partition;
    const index = byPartition.get(key);
    if (index === undefined) {
      byPartition.set(key, this.entries.length);
      this.entries.push({ groupId, groupNumber, topic, topicNumber, partition, offset, leaderEpoch, commitTimestampMs, metadata });
      return;
    }
    const entry = this.entries[index];
    entry.offset = offset;
    entry.leaderEpoch = leaderEpoch;
    entry.commitTimestampMs = commitTimestampMs;
    entry.metadata = metadata;
  }

  /** Hands every entry to `write`, in the order their keys were first seen, and forgets them. */
  drain(write: (entry: Readonly<PendingOffset>) => void): void {
    for (const entry of this.entries) write(entry);
    this.entries.length = 0;
    this.byGroup.clear();
  }
}
