/**
 * Hard limits and defaults of the partition log: what users cannot tune, each with its reason, and the
 * Kafka topic-config defaults the log falls back to. The relations between them are asserted on load.
 *
 * @internal The broker reaches the partition log through index.ts; this module is not part of that surface.
 */
import { assert } from './assert.js';

/** Bytes before a batch's `batchLength` field ends (baseOffset int64 + batchLength int32): Kafka's LOG_OVERHEAD. */
export const BATCH_LENGTH_PREFIX_BYTES = 12;

/** Bytes of a RecordBatch v2 header, up to and including recordCount; the smallest batch there is. */
export const BATCH_HEADER_BYTES = 61;

/**
 * Largest batch the log ever stores or reads back, whatever `max.message.bytes` says. A batch is held in
 * one Buffer while it is checked (recovery reads a whole batch to check its CRC), so this bounds memory.
 */
export const BATCH_BYTES_MAX = 64 * 1024 * 1024;

/** Batches one Produce's records may hold for one partition; real clients send one. */
export const BATCH_COUNT_PER_APPEND_MAX = 4096;

/** Kafka's `max.message.bytes` default (1 MiB + 12 bytes of log overhead, as Kafka rounds it). */
export const MAX_MESSAGE_BYTES_DEFAULT = 1024 * 1024 + 12;

/** Kafka's `segment.bytes` default: 1 GiB. */
export const SEGMENT_BYTES_DEFAULT = 1024 * 1024 * 1024;

/** Largest `segment.bytes`: positions are u32 in the offset index, and Kafka caps it at 2^31 - 1. */
export const SEGMENT_BYTES_MAX = 2 ** 31 - 1;

/** Smallest `segment.bytes`: a segment holds at least one smallest batch (records larger than segment.bytes are refused). */
export const SEGMENT_BYTES_MIN = BATCH_HEADER_BYTES;

/** Kafka's `segment.ms` default: 7 days. */
export const SEGMENT_MS_DEFAULT = 7 * 24 * 60 * 60 * 1000;

/** Kafka's `index.interval.bytes` default. */
export const INDEX_INTERVAL_BYTES_DEFAULT = 4096;

/** Offsets one segment can span: the offset index stores offsets relative to the base as u32. */
export const SEGMENT_OFFSET_SPAN_MAX = 2 ** 32 - 1;

/** Segments one partition may hold; past this the log refuses appends rather than grow its tables. */
export const SEGMENT_COUNT_MAX = 100_000;

/** Entries one segment's offset or time index may hold (one per `index.interval.bytes`, at least 61 bytes apart). */
export const INDEX_ENTRY_COUNT_MAX = Math.ceil(SEGMENT_BYTES_MAX / BATCH_HEADER_BYTES);

/** Bytes read at a time when recovery or a lookup walks a segment's batches. */
export const SCAN_CHUNK_BYTES = 1024 * 1024;

/** Batches the idempotence check remembers per producer: Kafka's max.in.flight bound for idempotence. */
export const PRODUCER_BATCH_MEMORY_COUNT = 5;

/** Producers one partition remembers; past this the one idle longest is forgotten. */
export const PRODUCER_COUNT_MAX = 100_000;

/**
 * Segments, from the newest back, whose batches rebuild the producer state on open. Two: the active one
 * and the one rolled before it. See producer-state.ts for why older batches cannot matter.
 */
export const PRODUCER_STATE_SCAN_SEGMENT_COUNT = 2;

/** Produces that may wait for one flush at once; more are refused as timed out (the client retries). */
export const FLUSH_WAITER_COUNT_MAX = 65_536;

/** Largest sequence number; the next one after it is 0. */
export const SEQUENCE_MAX = 2 ** 31 - 1;

/** Writes one append retries after a short write (each retry writes what is left). */
export const WRITE_ATTEMPT_COUNT_MAX = 16;

/** Reads one range takes at most after a short read (a regular file answers whole ranges in one). */
export const READ_ATTEMPT_COUNT_MAX = 16;

assert(BATCH_HEADER_BYTES > BATCH_LENGTH_PREFIX_BYTES, 'a batch header holds its length prefix');
assert(MAX_MESSAGE_BYTES_DEFAULT <= BATCH_BYTES_MAX, 'the default max message fits the hard batch limit');
assert(SCAN_CHUNK_BYTES >= BATCH_HEADER_BYTES, 'a scan chunk holds at least one header');
assert(SEGMENT_BYTES_DEFAULT <= SEGMENT_BYTES_MAX, 'the default segment size is within the index range');
assert(INDEX_INTERVAL_BYTES_DEFAULT >= BATCH_HEADER_BYTES, 'index entries are no denser than batches');
