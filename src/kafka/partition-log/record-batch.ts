/**
 * RecordBatch v2 (magic 2) as it arrives in a Produce and as it lies in a segment: walking the batches of a
 * records buffer, checking each one, reading header fields in place, and rewriting the two fields the
 * broker owns (baseOffset, partitionLeaderEpoch). Records are never decompressed or copied here: the log
 * stores the client's bytes as they came, with only those two fields changed.
 *
 * Layout of one batch (big-endian), positions from the batch start:
 *
 *    0  baseOffset            int64   rewritten by the log (not covered by the CRC)
 *    8  batchLength           int32   bytes after this field: a batch is 12 + batchLength bytes
 *   12  partitionLeaderEpoch  int32   rewritten by the log (not covered by the CRC)
 *   16  magic                 int8    2 (0 and 1 are the legacy message sets)
 *   17  crc                   uint32  CRC-32C of bytes [21, end)
 *   21  attributes            int16   bits 0-2 compression, 3 timestamp type, 4 transactional, 5 control
 *   23  lastOffsetDelta       int32
 *   27  baseTimestamp         int64
 *   35  maxTimestamp          int64
 *   43  producerId            int64   -1: not idempotent
 *   51  producerEpoch         int16
 *   53  baseSequence          int32
 *   57  recordCount           int32   == lastOffsetDelta + 1 for a batch as a client writes it
 *   61  records ...                   possibly compressed; never read here
 *
 * Invariants of a batch accepted by {@link walkBatches}: it lies wholly inside the buffer, it is at least
 * 61 bytes and at most the caller's max, its magic is 2, its CRC matches, recordCount == lastOffsetDelta + 1
 * >= 1, its compression codec is one Kafka knows (0-4), and its 64-bit fields are safe JavaScript integers.
 * The walk is bounded by the buffer's length and by {@link BATCH_COUNT_PER_APPEND_MAX}.
 */
import { crc32c } from '../../index.js';
import { KafkaError } from '../error-codes.js';
import { assert } from './assert.js';
import { BATCH_COUNT_PER_APPEND_MAX, BATCH_HEADER_BYTES, BATCH_LENGTH_PREFIX_BYTES } from './limits.js';

/** Field positions inside a batch; see the layout above. */
export const BatchField = Object.freeze({
  baseOffset: 0,
  batchLength: 8,
  partitionLeaderEpoch: 12,
  magic: 16,
  crc: 17,
  attributes: 21,
  lastOffsetDelta: 23,
  baseTimestamp: 27,
  maxTimestamp: 35,
  producerId: 43,
  producerEpoch: 51,
  baseSequence: 53,
  recordCount: 57,
} as const);

/** The only batch format this log stores. */
export const CURRENT_MAGIC = 2;

const COMPRESSION_MASK = 0x07;
const COMPRESSION_CODEC_MAX = 4; // none, gzip, snappy, lz4, zstd
const TRANSACTIONAL_BIT = 0x10;
const CONTROL_BIT = 0x20;

/** The header of one batch, read in place: numbers only, no bytes copied. */
export interface RecordBatchHeader {
  /** Byte position of the batch in the buffer it was read from. */
  position: number;
  /** Whole batch, 12 + batchLength. */
  sizeBytes: number;
  baseOffset: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** The offset of a batch's last record. */
export function lastOffsetOf(header: RecordBatchHeader): number {
  return header.baseOffset + header.lastOffsetDelta;
}

/** True for a transactional batch (attributes bit 4). */
export function isTransactional(header: RecordBatchHeader): boolean {
  return (header.attributes & TRANSACTIONAL_BIT) !== 0;
}

/** True for a control batch (attributes bit 5): commit and abort markers, written only by the broker. */
export function isControl(header: RecordBatchHeader): boolean {
  return (header.attributes & CONTROL_BIT) !== 0;
}

/** Why a batch does not check out, as the Kafka error a Produce is answered with. */
export type BatchProblem = { code: 'CORRUPT_MESSAGE' | 'UNSUPPORTED_FOR_MESSAGE_FORMAT' | 'MESSAGE_TOO_LARGE'; message: string };

function readSafeInt64(bytes: Buffer, at: number): number | null {
  const value = bytes.readBigInt64BE(at);
  const asNumber = Number(value);
  return Number.isSafeInteger(asNumber) ? asNumber : null;
}

/** Reads the header of the batch at `position`; the caller has checked that 61 bytes are there. */
export function readBatchHeader(bytes: Buffer, position: number): RecordBatchHeader | null {
  assert(position + BATCH_HEADER_BYTES <= bytes.length, 'a whole header lies in the buffer');
  const baseOffset = readSafeInt64(bytes, position + BatchField.baseOffset);
  const baseTimestamp = readSafeInt64(bytes, position + BatchField.baseTimestamp);
  const maxTimestamp = readSafeInt64(bytes, position + BatchField.maxTimestamp);
  const producerId = readSafeInt64(bytes, position + BatchField.producerId);
  if (baseOffset === null || baseTimestamp === null || maxTimestamp === null || producerId === null) return null;
  return {
    position,
    sizeBytes: BATCH_LENGTH_PREFIX_BYTES + bytes.readInt32BE(position + BatchField.batchLength),
    baseOffset,
    partitionLeaderEpoch: bytes.readInt32BE(position + BatchField.partitionLeaderEpoch),
    magic: bytes.readInt8(position + BatchField.magic),
    crc: bytes.readUInt32BE(position + BatchField.crc),
    attributes: bytes.readInt16BE(position + BatchField.attributes),
    lastOffsetDelta: bytes.readInt32BE(position + BatchField.lastOffsetDelta),
    baseTimestamp,
    maxTimestamp,
    producerId,
    producerEpoch: bytes.readInt16BE(position + BatchField.producerEpoch),
    baseSequence: bytes.readInt32BE(position + BatchField.baseSequence),
    recordCount: bytes.readInt32BE(position + BatchField.recordCount),
  };
}

/**
 * Size of the batch starting at `position` from its length prefix, or null when fewer than 12 bytes remain.
 * Used to know how many bytes to read before the whole batch can be checked.
 */
export function batchSizeAt(bytes: Buffer, position: number): number | null {
  if (bytes.length - position < BATCH_LENGTH_PREFIX_BYTES) return null;
  return BATCH_LENGTH_PREFIX_BYTES + bytes.readInt32BE(position + BatchField.batchLength);
}

/**
 * Checks the one batch starting at `position`: the header or the problem that rejects it.
 * Order of checks: length inside the buffer, magic, header size, size vs `maxBatchBytes`, 64-bit fields,
 * counts, compression codec, CRC (last: it is the one that reads every byte).
 */
export function checkBatchAt(bytes: Buffer, position: number, maxBatchBytes: number): RecordBatchHeader | BatchProblem {
  const sizeBytes = batchSizeAt(bytes, position);
  if (sizeBytes === null) return corrupt(`${bytes.length - position} bytes at position ${position} are too few for a batch length`);
  if (sizeBytes < BATCH_LENGTH_PREFIX_BYTES || sizeBytes > bytes.length - position) {
    return corrupt(`batch at position ${position} claims ${sizeBytes} bytes; ${bytes.length - position} remain`);
  }
  if (sizeBytes > BatchField.magic) {
    const magic = bytes.readInt8(position + BatchField.magic);
    if (magic >= 0 && magic < CURRENT_MAGIC) {
      return { code: 'UNSUPPORTED_FOR_MESSAGE_FORMAT', message: `batch at position ${position} has magic ${magic}; only 2 is stored` };
    }
    if (magic !== CURRENT_MAGIC) return corrupt(`batch at position ${position} has unknown magic ${magic}`);
  }
  if (sizeBytes < BATCH_HEADER_BYTES) return corrupt(`batch at position ${position} is ${sizeBytes} bytes, below the 61-byte header`);
  if (sizeBytes > maxBatchBytes) {
    return { code: 'MESSAGE_TOO_LARGE', message: `batch at position ${position} is ${sizeBytes} bytes; max.message.bytes is ${maxBatchBytes}` };
  }
  const header = readBatchHeader(bytes, position);
  if (header === null) return corrupt(`batch at position ${position} has a 64-bit field beyond 2^53`);
  if (header.lastOffsetDelta < 0 || header.recordCount !== header.lastOffsetDelta + 1) {
    return corrupt(`batch at position ${position} has recordCount ${header.recordCount} but lastOffsetDelta ${header.lastOffsetDelta}`);
  }
  if ((header.attributes & COMPRESSION_MASK) > COMPRESSION_CODEC_MAX) {
    return corrupt(`batch at position ${position} names compression codec ${header.attributes & COMPRESSION_MASK}`);
  }
  const computed = crc32c(bytes, position + BatchField.attributes, position + sizeBytes);
  if (computed !== header.crc) {
    return corrupt(`batch at position ${position} has CRC ${header.crc.toString(16)}; its bytes give ${computed.toString(16)}`);
  }
  return header;
}

function corrupt(message: string): BatchProblem {
  return { code: 'CORRUPT_MESSAGE', message };
}

/** True when `checkBatchAt` found a problem rather than a batch. */
export function isProblem(result: RecordBatchHeader | BatchProblem): result is BatchProblem {
  return 'code' in result;
}

/**
 * Walks the batches of one Produce's records for one partition and checks each; throws the first problem
 * as a {@link KafkaError}. `maxBatchBytes` is the topic's `max.message.bytes`: no batch may be larger.
 */
export function walkBatches(records: Buffer, maxBatchBytes: number): RecordBatchHeader[] {
  if (records.length === 0) throw new KafkaError('CORRUPT_MESSAGE', 'the records hold no batch');
  const headers: RecordBatchHeader[] = [];
  let position = 0;
  while (position < records.length) {
    if (headers.length === BATCH_COUNT_PER_APPEND_MAX) {
      throw new KafkaError('INVALID_RECORD', `more than ${BATCH_COUNT_PER_APPEND_MAX} batches in one partition's records`);
    }
    const checked = checkBatchAt(records, position, maxBatchBytes);
    if (isProblem(checked)) throw new KafkaError(checked.code, checked.message);
    headers.push(checked);
    position += checked.sizeBytes;
  }
  assert(position === records.length, 'the walk ends exactly at the end of the records');
  return headers;
}

/**
 * Writes the broker's baseOffset and partitionLeaderEpoch into the batch at `position`, in place. Neither
 * field is covered by the CRC, so the batch stays valid.
 */
export function rewriteBatchOffsets(bytes: Buffer, position: number, baseOffset: number, partitionLeaderEpoch: number): void {
  assert(Number.isSafeInteger(baseOffset) && baseOffset >= 0, 'a base offset is a non-negative safe integer');
  assert(Number.isInteger(partitionLeaderEpoch), 'a leader epoch is an integer');
  bytes.writeBigInt64BE(BigInt(baseOffset), position + BatchField.baseOffset);
  bytes.writeInt32BE(partitionLeaderEpoch, position + BatchField.partitionLeaderEpoch);
}
