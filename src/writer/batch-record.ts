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
 *  result: handleId u16 | status u16 (0 ok, 1 error, 2 ok with an event) | seq u32 | if error: jsonBytes u32, error JSON
 *  The results with status 2 are in the order of the events in the frames: the k-th such result is the
 *  command that the k-th event came from.
 * ```
 * The frames are byte-for-byte the WAL records, so handles decode them with the same code as recovery.
 * READY, FATAL and CLOSED carry `kind` then a JSON body.
 */
import { assert } from '../assert.js';
import type { SerializedError } from '../errors.js';
import { ERROR_BYTES_MAX } from '../limits.js';

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

/** Appends one result to `table` at `position`; returns the end. `table` must have room (caller sizes it). */
export function writeResult(table: Buffer, position: number, handleId: number, seq: number, errorJson: Buffer | null, wroteEvent: boolean): number {
  assert(errorJson === null || !wroteEvent, 'a failed command wrote no event');
  table.writeUInt16LE(handleId, position);
  table.writeUInt16LE(errorJson !== null ? 1 : wroteEvent ? 2 : 0, position + 2);
  table.writeUInt32LE(seq >>> 0, position + 4);
  if (errorJson === null) return position + 8;
  table.writeUInt32LE(errorJson.length, position + 8);
  errorJson.copy(table, position + 12);
  return position + 12 + errorJson.length;
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
    if (status !== 1) {
      results.push({ handleId, seq, error: null, wroteEvent: status === 2 });
      position += 8;
      continue;
    }
    const jsonBytes = buffer.readUInt32LE(position + 8);
    results.push({ handleId, seq, error: JSON.parse(buffer.toString('utf8', position + 12, position + 12 + jsonBytes)), wroteEvent: false });
    position += 12 + jsonBytes;
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
