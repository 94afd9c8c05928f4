/**
 * What the writer publishes on the event ring (writer thread → every handle's cursor).
 *
 * BATCH (a committed group commit):
 * ```
 *  0      4            8            16           20          24             32            36
 *  +------+------------+------------+------------+-----------+--------------+-------------+--------------+
 *  | kind |resultCount |firstOffset |recordCount |framesBytes|durableOffset |resultsBytes |schemaBytes   |
 *  | u32  | u32        | f64        | u32        | u32       | f64          | u32         | u32          |
 *  +------+------------+------------+------------+-----------+--------------+-------------+--------------+
 *  40: results (resultsBytes) | writer schema JSON (schemaBytes, 0 = this build's) | WAL frames (framesBytes)
 *  result: handleId u16 | status u16 | seq u32 | if error: jsonBytes u32, error JSON
 *          | if refusals: count u32, then count × (entry index u32 | code u16)
 *  status bits: 1 error, 2 ok with an event, 4 ok with refused entries (a per-entry command: each entry it
 *  left out, by its index in the command and its code's number in ERROR_CODES' order). The results with
 *  an event are in the order of the events in the frames: the k-th such result is the command that the
 *  k-th event came from.
 * ```
 * The frames are byte-for-byte the WAL records, so handles decode them with the same code as recovery.
 * READY, FATAL and CLOSED carry `kind` then a JSON body.
 */
import { assert } from '../assert.js';
import type { EntryRefusal } from '../commands/commands.js';
import { ERROR_CODES, type ErrorCode, type SerializedError } from '../errors.js';
import { ERROR_BYTES_MAX } from '../limits.js';

const STATUS_ERROR = 1;
const STATUS_EVENT = 2;
const STATUS_REFUSALS = 4;
/** Bytes of one refused entry in a result. */
export const REFUSAL_BYTES = 6;
/** Error codes by number (their order in ERROR_CODES: both ends of the ring are the same build). */
const CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[];
const CODE_NUMBERS = new Map(CODE_LIST.map((code, number) => [code, number]));
const NO_REFUSALS: readonly EntryRefusal[] = Object.freeze([]);

/** Kinds of event ring records. */
export const BATCH_KIND = Object.freeze({ BATCH: 1, READY: 3, FATAL: 4, CLOSED: 5 });

/** Bytes of the fixed part of a BATCH record. */
export const BATCH_HEADER_BYTES = 40;

/** One command's outcome. */
export interface CommandResult {
  handleId: number;
  seq: number;
  error: SerializedError | null;
  /** True when the command appended an event to the batch (the k-th such result owns the k-th event). */
  wroteEvent: boolean;
  /** The entries a per-entry command refused (empty for every other command). */
  refused: readonly EntryRefusal[];
}

/** A decoded BATCH record; `frames` is a view into the record bytes. */
export interface DecodedBatch {
  kind: typeof BATCH_KIND.BATCH;
  firstOffset: number;
  recordCount: number;
  durableOffset: number;
  results: CommandResult[];
  schemaJson: string | null;
  frames: Buffer;
}

/** Encodes an error for the result table, cutting an overlong message so the table stays bounded. */
export function encodeResultError(error: SerializedError): Buffer {
  let json = Buffer.from(JSON.stringify(error), 'utf8');
  if (json.length > ERROR_BYTES_MAX) {
    const cut = { code: error.code, message: error.message.slice(0, ERROR_BYTES_MAX / 4), details: {} };
    json = Buffer.from(JSON.stringify(cut), 'utf8');
  }
  assert(json.length <= ERROR_BYTES_MAX, 'an encoded error fits ERROR_BYTES_MAX');
  return json;
}

/** Bytes of one result in the table. */
export function resultBytes(errorJson: Buffer | null, refused: readonly EntryRefusal[]): number {
  if (errorJson !== null) return 12 + errorJson.length;
  return refused.length === 0 ? 8 : 12 + refused.length * REFUSAL_BYTES;
}

/** Appends one result to `table` at `position`; returns the end. `table` must have room (caller sizes it). */
export function writeResult(
  table: Buffer,
  position: number,
  handleId: number,
  seq: number,
  errorJson: Buffer | null,
  wroteEvent: boolean,
  refused: readonly EntryRefusal[],
): number {
  assert(errorJson === null || !wroteEvent, 'a failed command wrote no event');
  assert(errorJson === null || refused.length === 0, 'a failed command refused no single entry');
  table.writeUInt16LE(handleId, position);
  const status = (errorJson !== null ? STATUS_ERROR : 0) | (wroteEvent ? STATUS_EVENT : 0) | (refused.length > 0 ? STATUS_REFUSALS : 0);
  table.writeUInt16LE(status, position + 2);
  table.writeUInt32LE(seq >>> 0, position + 4);
  if (errorJson !== null) {
    table.writeUInt32LE(errorJson.length, position + 8);
    errorJson.copy(table, position + 12);
    return position + 12 + errorJson.length;
  }
  if (refused.length === 0) return position + 8;
  table.writeUInt32LE(refused.length, position + 8);
  let at = position + 12;
  for (const { index, code } of refused) {
    const number = CODE_NUMBERS.get(code);
    assert(number !== undefined, 'a refused entry has a known code');
    table.writeUInt32LE(index, at);
    table.writeUInt16LE(number, at + 4);
    at += REFUSAL_BYTES;
  }
  return at;
}

/** Writes the fixed header of a BATCH record at the start of `out`. */
export function writeBatchHeader(
  out: Buffer,
  kind: DecodedBatch['kind'],
  header: { resultCount: number; firstOffset: number; recordCount: number; framesBytes: number; durableOffset: number; resultsBytes: number; schemaBytes: number },
): void {
  out.writeUInt32LE(kind, 0);
  out.writeUInt32LE(header.resultCount, 4);
  out.writeDoubleLE(header.firstOffset, 8);
  out.writeUInt32LE(header.recordCount, 16);
  out.writeUInt32LE(header.framesBytes, 20);
  out.writeDoubleLE(header.durableOffset, 24);
  out.writeUInt32LE(header.resultsBytes, 32);
  out.writeUInt32LE(header.schemaBytes, 36);
}

/** Encodes a READY, FATAL or CLOSED record. */
export function encodeControlRecord(kind: typeof BATCH_KIND.READY | typeof BATCH_KIND.FATAL | typeof BATCH_KIND.CLOSED, body: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(body), 'utf8');
  const out = Buffer.allocUnsafe(4 + json.length);
  out.writeUInt32LE(kind, 0);
  json.copy(out, 4);
  return out;
}

/** The kind of an event ring record. */
export function recordKind(bytes: Uint8Array): number {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).readUInt32LE(0);
}

/** Decodes a READY, FATAL or CLOSED body. */
export function decodeControlBody(bytes: Uint8Array): unknown {
  return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8', 4));
}

/** Decodes a BATCH record. Results are copied; `frames` stays a view of `bytes`. */
export function decodeBatch(bytes: Uint8Array): DecodedBatch {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const kind = buffer.readUInt32LE(0);
  assert(kind === BATCH_KIND.BATCH, 'record is a batch');
  const resultCount = buffer.readUInt32LE(4);
  const framesBytes = buffer.readUInt32LE(20);
  const resultsBytes = buffer.readUInt32LE(32);
  const schemaBytes = buffer.readUInt32LE(36);
  assert(BATCH_HEADER_BYTES + resultsBytes + schemaBytes + framesBytes === buffer.length, 'batch record sections add up');
  const results: CommandResult[] = [];
  let position = BATCH_HEADER_BYTES;
  for (let i = 0; i < resultCount; i++) {
    const handleId = buffer.readUInt16LE(position);
    const status = buffer.readUInt16LE(position + 2);
    const seq = buffer.readUInt32LE(position + 4);
    if ((status & STATUS_ERROR) !== 0) {
      const jsonBytes = buffer.readUInt32LE(position + 8);
      results.push({ handleId, seq, error: JSON.parse(buffer.toString('utf8', position + 12, position + 12 + jsonBytes)), wroteEvent: false, refused: NO_REFUSALS });
      position += 12 + jsonBytes;
      continue;
    }
    const wroteEvent = (status & STATUS_EVENT) !== 0;
    if ((status & STATUS_REFUSALS) === 0) {
      results.push({ handleId, seq, error: null, wroteEvent, refused: NO_REFUSALS });
      position += 8;
      continue;
    }
    const count = buffer.readUInt32LE(position + 8);
    const refused: EntryRefusal[] = [];
    position += 12;
    for (let k = 0; k < count; k++) {
      const code = CODE_LIST[buffer.readUInt16LE(position + 4)];
      assert(code !== undefined, 'a refused entry carries a known code');
      refused.push({ index: buffer.readUInt32LE(position), code });
      position += REFUSAL_BYTES;
    }
    results.push({ handleId, seq, error: null, wroteEvent, refused });
  }
  assert(position === BATCH_HEADER_BYTES + resultsBytes, 'result table length matches');
  const schemaJson = schemaBytes === 0 ? null : buffer.toString('utf8', position, position + schemaBytes);
  position += schemaBytes;
  return {
    kind: kind as DecodedBatch['kind'],
    firstOffset: buffer.readDoubleLE(8),
    recordCount: buffer.readUInt32LE(16),
    durableOffset: buffer.readDoubleLE(24),
    results,
    schemaJson,
    frames: buffer.subarray(position, position + framesBytes),
  };
}
