/**
 * Encoding of commands on the command ring (caller thread → writer thread). In memory only, never on
 * disk, so it has no versioning: both ends are the same build.
 *
 * ```
 *  0          2        4        8
 *  +----------+--------+--------+---------------------+
 *  | handleId | kind   | seq    | Avro payload        |
 *  | u16      | u16    | u32    | (per kind)          |
 *  +----------+--------+--------+---------------------+
 * ```
 * `handleId` names the handle whose promise waits; `seq` is that handle's sequence number of the call.
 * Offset commits, the hot path, and group upserts (whole groups with their members' bytes) are Avro;
 * an upsert carries exactly a GroupUpserted event's value, so it travels in that record's schema,
 * encoded and decoded by hand (hot-encoders.ts, hot-decoders.ts). The rarer admin commands (topics,
 * brokers) are JSON.
 */
import type * as avsc from 'avsc';
import { avro } from '../codec/avro.js';
import { assert } from '../assert.js';
import type { Command } from './commands.js';
import { EVENT_UNION_SCHEMA } from '../codec/event-schema.js';
import { decodeCommitOffsetsCommand } from '../codec/hot-decoders.js';
import { EncodedGroup } from '../state/encoded-group.js';
import { encodeGroupUpserted } from '../codec/hot-encoders.js';

/** Command kinds; `Close` and `Sync` are control commands that produce no event. */
export const COMMAND_KIND = Object.freeze({ Admin: 1, CommitOffsets: 2, UpsertGroup: 3, Close: 100, Sync: 101, Compact: 102 });

/** Asks the writer to delete the sealed WAL segments that hold only offsets up to `compactThrough`. */
export interface CompactRequest {
  compactThrough: number;
}

/** Bytes before the payload. */
export const COMMAND_HEADER_BYTES = 8;

const offsetCommitEntry = EVENT_UNION_SCHEMA[1].fields[1].type;

const commitOffsetsType = avro.Type.forSchema({
  type: 'record',
  name: 'CommitOffsetsCommand',
  namespace: 'chronik.metalog',
  fields: [
    { name: 'groupId', type: 'string' },
    { name: 'entries', type: offsetCommitEntry as avsc.Schema },
    { name: 'generation', type: 'int' },
    { name: 'memberId', type: ['null', 'string'] },
    { name: 'perEntry', type: 'boolean' },
  ],
}, { wrapUnions: 'auto' });


/**
 * A decoded ring message. `payload`, when present, is exactly the encoding of the event the command
 * becomes if the writer accepts it unchanged (an upsertGroup travels in the GroupUpserted schema; a
 * commitOffsets begins with its OffsetsCommitted value): the writer copies it instead of encoding the
 * event again. It may be a view of the ring, valid only while the message is being handled.
 */
export type CommandMessage =
  | { handleId: number; seq: number; kind: 'command'; command: Command; payload?: Buffer }
  | { handleId: number; seq: number; kind: 'close' | 'sync' }
  | { handleId: number; seq: number; kind: 'compact'; throughOffset: number };

/**
 * Encodes a command into `scratch`; returns the bytes written, or -1 if `scratch` is too small.
 */
export function encodeCommand(handleId: number, seq: number, command: Command | 'close' | 'sync' | CompactRequest, scratch: Buffer): number {
  assert(handleId >= 0 && handleId <= 0xffff, 'handle id fits u16');
  scratch.writeUInt16LE(handleId, 0);
  scratch.writeUInt32LE(seq >>> 0, 4);
  if (command === 'close' || command === 'sync') {
    scratch.writeUInt16LE(command === 'close' ? COMMAND_KIND.Close : COMMAND_KIND.Sync, 2);
    return COMMAND_HEADER_BYTES;
  }
  if ('compactThrough' in command) {
    scratch.writeUInt16LE(COMMAND_KIND.Compact, 2);
    scratch.writeDoubleLE(command.compactThrough, COMMAND_HEADER_BYTES);
    return COMMAND_HEADER_BYTES + 8;
  }
  if (command.type === 'CommitOffsets') {
    scratch.writeUInt16LE(COMMAND_KIND.CommitOffsets, 2);
    const end = commitOffsetsType.encode(command.value, scratch, COMMAND_HEADER_BYTES);
    return end < 0 ? -1 : end;
  }
  if (command.type === 'UpsertGroup') {
    scratch.writeUInt16LE(COMMAND_KIND.UpsertGroup, 2);
    return encodeGroupUpserted(command.value, scratch, COMMAND_HEADER_BYTES);
  }
  scratch.writeUInt16LE(COMMAND_KIND.Admin, 2);
  const json = JSON.stringify(command);
  if (COMMAND_HEADER_BYTES + Buffer.byteLength(json, 'utf8') > scratch.length) return -1;
  return COMMAND_HEADER_BYTES + scratch.write(json, COMMAND_HEADER_BYTES, 'utf8');
}

/** Decodes one command from ring bytes (which may be a view into shared memory). */
export function decodeCommand(bytes: Uint8Array): CommandMessage {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  const handleId = buffer.readUInt16LE(0);
  const kind = buffer.readUInt16LE(2);
  const seq = buffer.readUInt32LE(4);
  switch (kind) {
    case COMMAND_KIND.Close:
      return { handleId, seq, kind: 'close' };
    case COMMAND_KIND.Sync:
      return { handleId, seq, kind: 'sync' };
    case COMMAND_KIND.Compact:
      return { handleId, seq, kind: 'compact', throughOffset: buffer.readDoubleLE(COMMAND_HEADER_BYTES) };
    case COMMAND_KIND.Admin:
      return { handleId, seq, kind: 'command', command: JSON.parse(buffer.toString('utf8', COMMAND_HEADER_BYTES)) as Command };
    case COMMAND_KIND.UpsertGroup: {
      // Kept as a copy of its encoding (the ring's memory is reused once this record is consumed): the
      // writer reads only the group's facts, and the encoding is the event's payload and index value.
      const group = EncodedGroup.fromCopyOf(buffer.subarray(COMMAND_HEADER_BYTES));
      return { handleId, seq, kind: 'command', command: { type: 'UpsertGroup', value: group }, payload: group.encoding };
    }
    case COMMAND_KIND.CommitOffsets: {
      // Read in place: the strings are copied out, and the event's bytes are used before the ring
      // record is released (WriterCore.addCommand copies them into the batch at once).
      const { value, eventEnd } = decodeCommitOffsetsCommand(buffer, COMMAND_HEADER_BYTES, buffer.length);
      return { handleId, seq, kind: 'command', command: { type: 'CommitOffsets', value }, payload: buffer.subarray(COMMAND_HEADER_BYTES, eventEnd) };
    }
    default:
      assert(false, `unknown command kind ${kind}`);
  }
}
