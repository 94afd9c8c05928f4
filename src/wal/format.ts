/**
 * Byte layout of WAL segments and records (pure functions over bytes; no file handles).
 *
 * A segment is `wal/<20-digit base offset>.log`: one header, then records back to back.
 *
 * Segment header (little-endian; CRC32C covers bytes [8, headerBytes)):
 * ```
 *  0      4      8          10      12            16            24            32                48          52
 *  +------+------+----------+-------+-------------+-------------+-------------+-----------------+-----------+----------------+
 *  |magic |crc32c|formatVer |flags=0|headerBytes  |baseOffset   |createdMs    |schema fingerprint|schemaBytes| schema JSON ...|
 *  |"CMLW"| u32  |   u16    |  u16  |    u32      | u64         | f64         | 16 B (MD5)       |   u32     | utf-8          |
 *  +------+------+----------+-------+-------------+-------------+-------------+-----------------+-----------+----------------+
 * ```
 * Record (CRC32C covers bytes [8, frameBytes): everything after the checksum):
 * ```
 *  0           4        8            16            24         26              28
 *  +-----------+--------+------------+-------------+----------+---------------+------------------+
 *  |frameBytes |crc32c  |offset      |timestampMs  |eventType |schemaVersion  | Avro payload ... |
 *  |u32 (total)| u32    |u64         |f64          |u16 branch|u16            |                  |
 *  +-----------+--------+------------+-------------+----------+---------------+------------------+
 * ```
 * Offsets are dense: each record's offset is the previous one plus one, and a segment's first record has
 * the segment's base offset. `eventType` is the index of the payload's branch in the union stored in the
 * segment header. u64 fields hold integers below 2^53 and are stored as two u32 halves.
 */
import { assert } from '../assert.js';
import { crc32c } from '../crc32c.js';
import { RECORD_BYTES_MAX } from '../limits.js';

/** "CMLW" read as a little-endian u32. */
export const SEGMENT_MAGIC = 0x574c4d43;
/** The segment format this version writes; higher versions are refused. */
export const SEGMENT_FORMAT_VERSION = 1;
/** Bytes of the header before the schema JSON. */
export const SEGMENT_HEADER_FIXED_BYTES = 52;
/** Bytes of a record before its payload. */
export const RECORD_HEADER_BYTES = 28;
/** File name suffix of segments. */
export const SEGMENT_SUFFIX = '.log';

/** The decoded header of a segment. */
export interface SegmentHeader {
  formatVersion: number;
  headerBytes: number;
  baseOffset: number;
  createdMs: number;
  fingerprint: Buffer;
  schemaJson: string;
}

/** File name of the segment whose first offset is `baseOffset`: 20 zero-padded digits, so names sort by offset. */
export function segmentFileName(baseOffset: number): string {
  assert(Number.isSafeInteger(baseOffset) && baseOffset >= 0, 'segment base offset is a non-negative safe integer');
  return `${String(baseOffset).padStart(20, '0')}${SEGMENT_SUFFIX}`;
}

/** The base offset named by a segment file name, or null if the name is not a segment's. */
export function parseSegmentFileName(name: string): number | null {
  const match = /^(\d{20})\.log$/.exec(name);
  if (match === null) return null;
  const baseOffset = Number(match[1]);
  return Number.isSafeInteger(baseOffset) ? baseOffset : null;
}

/** A segment file of a WAL directory. */
export interface SegmentFile {
  name: string;
  baseOffset: number;
}

/**
 * The segment files among `names` (a WAL directory's listing), oldest first; temporary and foreign
 * files are left out. For readers that list a WAL with `fs` (the writer's recovery goes through its Storage).
 */
export function segmentFilesOf(names: readonly string[]): SegmentFile[] {
  const segments: SegmentFile[] = [];
  for (const name of names) {
    const baseOffset = parseSegmentFileName(name);
    if (baseOffset !== null) segments.push({ name, baseOffset });
  }
  return segments.sort((a, b) => a.baseOffset - b.baseOffset);
}

function writeU64(buffer: Buffer, value: number, position: number): void {
  buffer.writeUInt32LE(value % 0x1_0000_0000, position);
  buffer.writeUInt32LE(Math.floor(value / 0x1_0000_0000), position + 4);
}

function readU64(buffer: Buffer, position: number): number {
  return buffer.readUInt32LE(position) + buffer.readUInt32LE(position + 4) * 0x1_0000_0000;
}

/** Encodes a segment header. */
export function encodeSegmentHeader(baseOffset: number, createdMs: number, fingerprint: Buffer, schemaJson: string): Buffer {
  assert(fingerprint.length === 16, 'schema fingerprint is 16 bytes');
  const schemaBytes = Buffer.byteLength(schemaJson, 'utf8');
  const header = Buffer.alloc(SEGMENT_HEADER_FIXED_BYTES + schemaBytes);
  header.writeUInt32LE(SEGMENT_MAGIC, 0);
  header.writeUInt16LE(SEGMENT_FORMAT_VERSION, 8);
  header.writeUInt16LE(0, 10);
  header.writeUInt32LE(header.length, 12);
  writeU64(header, baseOffset, 16);
  header.writeDoubleLE(createdMs, 24);
  fingerprint.copy(header, 32);
  header.writeUInt32LE(schemaBytes, 48);
  header.write(schemaJson, SEGMENT_HEADER_FIXED_BYTES, 'utf8');
  header.writeUInt32LE(crc32c(header, 8, header.length), 4);
  return header;
}

/** Why a segment header was refused. */
export type HeaderProblem = 'short' | 'magic' | 'crc' | 'version' | 'length';

/** Decodes and verifies a segment header; returns the problem instead of throwing, for the recovery table. */
export function decodeSegmentHeader(bytes: Buffer): SegmentHeader | { problem: HeaderProblem; formatVersion?: number } {
  if (bytes.length < SEGMENT_HEADER_FIXED_BYTES) return { problem: 'short' };
  if (bytes.readUInt32LE(0) !== SEGMENT_MAGIC) return { problem: 'magic' };
  const headerBytes = bytes.readUInt32LE(12);
  const schemaBytes = bytes.readUInt32LE(48);
  if (headerBytes !== SEGMENT_HEADER_FIXED_BYTES + schemaBytes || headerBytes > bytes.length) return { problem: 'length' };
  if (crc32c(bytes, 8, headerBytes) !== bytes.readUInt32LE(4)) return { problem: 'crc' };
  const formatVersion = bytes.readUInt16LE(8);
  if (formatVersion !== SEGMENT_FORMAT_VERSION) return { problem: 'version', formatVersion };
  return {
    formatVersion,
    headerBytes,
    baseOffset: readU64(bytes, 16),
    createdMs: bytes.readDoubleLE(24),
    fingerprint: Buffer.from(bytes.subarray(32, 48)),
    schemaJson: bytes.toString('utf8', SEGMENT_HEADER_FIXED_BYTES, headerBytes),
  };
}

/**
 * Writes a record header in front of a payload that the caller has already encoded at
 * `position + RECORD_HEADER_BYTES`, and checksums it. Returns the record's end position.
 */
export function sealRecord(
  buffer: Buffer,
  position: number,
  payloadEnd: number,
  offset: number,
  timestampMs: number,
  eventType: number,
  schemaVersion: number,
): number {
  const frameBytes = payloadEnd - position;
  assert(frameBytes >= RECORD_HEADER_BYTES, 'record is at least its header');
  assert(frameBytes <= RECORD_BYTES_MAX, 'record within RECORD_BYTES_MAX');
  buffer.writeUInt32LE(frameBytes, position);
  writeU64(buffer, offset, position + 8);
  buffer.writeDoubleLE(timestampMs, position + 16);
  buffer.writeUInt16LE(eventType, position + 24);
  buffer.writeUInt16LE(schemaVersion, position + 26);
  buffer.writeUInt32LE(crc32c(buffer, position + 8, payloadEnd), position + 4);
  return payloadEnd;
}

/** A record located and verified in a buffer (its payload is `[payloadStart, end)`). */
export interface RecordView {
  position: number;
  end: number;
  offset: number;
  timestampMs: number;
  eventType: number;
  schemaVersion: number;
  payloadStart: number;
}

/** Why no valid record starts at a position. */
export type RecordProblem = 'eof' | 'short' | 'length' | 'crc';

/**
 * Reads and verifies the record at `position` in `bytes[0, end)`.
 * - `eof`: nothing left (position === end) or a zero length word (never-written space);
 * - `short`: the length or header runs past `end`;
 * - `length`: the length is outside [RECORD_HEADER_BYTES, RECORD_BYTES_MAX];
 * - `crc`: the bytes do not match their checksum.
 */
export function readRecord(bytes: Buffer, position: number, end: number): RecordView | RecordProblem {
  if (position === end) return 'eof';
  if (end - position < 4) return 'short';
  const frameBytes = u32At(bytes, position);
  if (frameBytes === 0) return 'eof';
  if (frameBytes < RECORD_HEADER_BYTES || frameBytes > RECORD_BYTES_MAX) return 'length';
  if (end - position < frameBytes) return 'short';
  const recordEnd = position + frameBytes;
  if (crc32c(bytes, position + 8, recordEnd) !== u32At(bytes, position + 4)) return 'crc';
  return viewOf(bytes, position, frameBytes);
}

/**
 * True when some position after `from` holds a record that verifies and whose offset is beyond
 * `offsetFloor`: proof that the damage at `from` is not a torn tail (a crash only leaves garbage after
 * the last record it wrote, never a good record after bad bytes in a log written in order).
 */
export function validRecordAfter(bytes: Buffer, from: number, end: number, offsetFloor: number): number | null {
  for (let position = from + 1; position + RECORD_HEADER_BYTES <= end; position++) {
    const frameBytes = bytes.readUInt32LE(position);
    if (frameBytes < RECORD_HEADER_BYTES || frameBytes > RECORD_BYTES_MAX || position + frameBytes > end) continue;
    const offset = readU64(bytes, position + 8);
    if (offset <= offsetFloor || offset - offsetFloor > 0x1_0000_0000) continue;
    const found = readRecord(bytes, position, end);
    if (typeof found !== 'string') return position;
  }
  return null;
}

/**
 * Reads the record header at `position` without verifying its checksum. Only for frames that the writer
 * verified or produced in memory and passed over shared memory (never for bytes read from disk).
 */
export function frameAt(bytes: Buffer, position: number): RecordView {
  const frameBytes = u32At(bytes, position);
  assert(frameBytes >= RECORD_HEADER_BYTES && position + frameBytes <= bytes.length, 'in-memory frame is whole');
  return viewOf(bytes, position, frameBytes);
}

/**
 * The u32 (little-endian) at `position`, which the caller has bounds-checked: read from the bytes
 * directly, as replay reads two per record (Buffer's readUInt32LE checks its arguments every call).
 */
function u32At(bytes: Uint8Array, position: number): number {
  return (bytes[position] | (bytes[position + 1] << 8) | (bytes[position + 2] << 16) | (bytes[position + 3] << 24)) >>> 0;
}

/**
 * Scratch for a timestamp's two little-endian words, read back as one f64 (this platform's order is
 * little-endian, asserted below): no DataView per record, and none kept pointing at a segment's bytes.
 */
const timestampFloat = new Float64Array(1);
const timestampWords = new Uint32Array(timestampFloat.buffer);
assert(new Uint8Array(new Uint16Array([1]).buffer)[0] === 1, 'the platform is little-endian');

/** The header fields of the whole frame of `frameBytes` at `position`. */
function viewOf(bytes: Buffer, position: number, frameBytes: number): RecordView {
  timestampWords[0] = u32At(bytes, position + 16);
  timestampWords[1] = u32At(bytes, position + 20);
  return {
    position,
    end: position + frameBytes,
    offset: u32At(bytes, position + 8) + u32At(bytes, position + 12) * 0x1_0000_0000,
    timestampMs: timestampFloat[0],
    eventType: bytes[position + 24] | (bytes[position + 25] << 8),
    schemaVersion: bytes[position + 26] | (bytes[position + 27] << 8),
    payloadStart: position + RECORD_HEADER_BYTES,
  };
}
