/**
 * Hard limits that users cannot tune, each with its reason. The relations between them (and with the
 * config ranges in config.ts) are asserted when this module loads, so an inconsistent edit fails at once
 * instead of at the first oversized record.
 */
import { assert } from './assert.js';

/** Largest framed WAL record (one event). Bounds one command's effect; a batch commit of ~20k partitions fits. */
export const RECORD_BYTES_MAX = 1024 * 1024;

/** Largest encoded command in the command ring. A command is never larger than the event it becomes, plus slack. */
export const COMMAND_BYTES_MAX = RECORD_BYTES_MAX;

/** Largest serialized error carried back to a caller; longer messages are cut, so a batch stays bounded. */
export const ERROR_BYTES_MAX = 4096;

/** Commands drained into one batch at most, so one batch's result table stays small. */
export const BATCH_COMMANDS_MAX = 16384;

/** Kafka's longest legal topic name. */
export const TOPIC_NAME_LENGTH_MAX = 249;

/** Partitions per topic. Kafka has no hard cap; this one keeps a create-topic event under RECORD_BYTES_MAX. */
export const PARTITIONS_MAX = 20000;

/** Replication factor (Kafka stores it as int16). */
export const REPLICATION_FACTOR_MAX = 32767;

/** Consumer group id length (Kafka: string, UTF-8); long ids only bloat every offset key. */
export const GROUP_ID_LENGTH_MAX = 1024;

/**
 * Largest committed offset. Kafka offsets are int64; JavaScript numbers are exact to 2^53 - 1, and
 * avsc's zigzag long encoding is exact to 2^53 - 2. No real partition comes near either.
 */
export const COMMITTED_OFFSET_MAX = 2 ** 53 - 2;

/**
 * Smallest committed offset. Admin tools commit negative offsets on a reset (-1 for the log end, -2 for
 * its start), so committed offsets may be negative; avsc's zigzag long encoding of a negative number n
 * is the double 2|n| - 1, which is exact only while |n| is at most 2^52.
 */
export const COMMITTED_OFFSET_MIN = -(2 ** 52);

/** Offset commit metadata, as Kafka's `offset.metadata.max.bytes` default. */
export const OFFSET_METADATA_BYTES_MAX = 4096;

/** Members of one consumer group (Kafka's group.max.size defaults to unlimited; this bounds one event). */
export const GROUP_MEMBERS_MAX = 10000;

/** Entries in one commitOffsets call (one atomic event). */
export const COMMIT_ENTRIES_MAX = 10000;

/** Topic config entries and the length of each key and value. */
export const TOPIC_CONFIG_ENTRIES_MAX = 256;
export const TOPIC_CONFIG_VALUE_LENGTH_MAX = 4096;

/** Handles (opener plus attached threads) that can talk to one writer; each owns a result slot id. */
export const HANDLES_MAX = 64;

/**
 * How long the writer waits for an attached handle that holds the event ring full (its thread was
 * terminated without closing it, or hangs) before it evicts that handle's cursor and goes on. The
 * opener's handle is never evicted.
 */
export const HANDLE_STALL_MS = 10_000;

/**
 * Least time between two slow-fdatasync warnings of one store: a disk that stays slow would otherwise
 * raise one per batch. The fdatasyncs in between are counted (metalog_slow_fsync_total) and summed up in
 * the next warning.
 */
export const SLOW_FSYNC_WARNING_INTERVAL_MS = 60_000;

/** Smallest and largest WAL segment. The header must leave room for records; 4 GiB keeps positions in 32 bits. */
export const SEGMENT_BYTES_MIN = 64 * 1024;
export const SEGMENT_BYTES_MAX = 2 ** 31;

/**
 * The open segment is zero-filled ahead of the append position in steps of this size. Appends then
 * overwrite allocated blocks, so fdatasync has no file-size change to journal (measured here: about
 * 0.10 ms instead of 0.17 ms per fdatasync). One step costs a 4 MiB write every ~80k small records.
 */
export const PREALLOCATE_STEP_BYTES = 4 * 1024 * 1024;

/** Batch byte bounds: a batch must hold the largest record. */
export const BATCH_BYTES_MIN = RECORD_BYTES_MAX;
export const BATCH_BYTES_MAX = 64 * 1024 * 1024;

/**
 * Bytes of an event-ring record beyond its frames: batch header plus result table plus errors, plus
 * the refused entries of the per-entry command that ends a batch (6 bytes each; see batch-record.ts).
 */
export function batchOverheadBytesMax(): number {
  return 64 + BATCH_COMMANDS_MAX * 16 + ERROR_BYTES_MAX + 12 + COMMIT_ENTRIES_MAX * 6;
}

/** Size of the event ring for a given maxBatchBytes: two full batches always fit. */
export function eventRingBytesFor(maxBatchBytes: number): number {
  const needed = 2 * (maxBatchBytes + RECORD_BYTES_MAX + batchOverheadBytesMax()) + 64;
  let bytes = 1;
  while (bytes < needed) bytes *= 2;
  return bytes;
}

/** Longest path a caller may pass (the store's dir, a backup or restore folder), in UTF-8 bytes: Linux's PATH_MAX. */
export const PATH_BYTES_MAX = 4096;

/**
 * Size of the command ring: many commands in flight (thousands of commits or hundreds of large group
 * upserts; more wait in the sender's queue), and two of the largest commands always fit. Resident once a
 * long-running store has cycled through it, so no larger than that.
 */
export const COMMAND_RING_BYTES = 4 * 1024 * 1024;

assert(RECORD_BYTES_MAX <= BATCH_BYTES_MIN, 'a maximal record must fit in the smallest batch');
assert(2 * (COMMAND_BYTES_MAX + 16) <= COMMAND_RING_BYTES, 'two maximal commands must fit in the command ring');
assert(SEGMENT_BYTES_MIN < RECORD_BYTES_MAX * 2, 'segments hold at least one record (a large record gets its own segment)');
assert(OFFSET_METADATA_BYTES_MAX * COMMIT_ENTRIES_MAX / 4 <= RECORD_BYTES_MAX * 16, 'commit bounds stay near the record bound');
