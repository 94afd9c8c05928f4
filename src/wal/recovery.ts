/**
 * Recovery: reads every segment in offset order, verifies every header and record, hands each event to a
 * visitor, and decides what the first damage means.
 *
 * Decision table (each row has a test in test/unit/wal/recovery.test.ts):
 *
 * | # | where                         | what is found                                              | decision                     |
 * |---|-------------------------------|------------------------------------------------------------|------------------------------|
 * | 1 | wal/ missing or empty         | -                                                          | empty log, next offset 0     |
 * | 2 | any `*.tmp` file              | a segment whose creation did not finish                    | delete it                    |
 * | 3 | any segment header            | format version newer than this code                        | UNSUPPORTED_FORMAT           |
 * | 4 | any segment header            | bad magic, length, checksum or fingerprint; unknown schema | CORRUPT_WAL                  |
 * | 5 | any segment                   | base offset not the previous segment's next offset         | CORRUPT_WAL (gap or overlap) |
 * | 6 | any record                    | checksum good but offset not the expected next one         | CORRUPT_WAL                  |
 * | 7 | any record                    | checksum good but payload does not decode                  | CORRUPT_WAL                  |
 * | 8 | sealed (not newest) segment   | short, bad-length or bad-checksum record, or zero bytes    | CORRUPT_WAL                  |
 * | 9 | newest segment                | bad record at p, and a good record somewhere after p       | CORRUPT_WAL                  |
 * |10 | newest segment                | bad record at p, nothing good after p                      | torn tail: truncate to p     |
 * |11 | newest segment                | only zero bytes from p to the end                          | preallocated: clean end      |
 *
 * Why rows 8-10 differ: the writer fdatasyncs a segment before it starts the next one, and writes in
 * offset order, so a crash can only damage the newest segment, and only after its last good record.
 * A good record after bad bytes means the bad bytes were once good: that is corruption, not a crash.
 * Row 11: the writer zero-fills the open segment ahead of its appends (a faster fdatasync) and cuts the
 * zeros off before sealing it, so only the newest segment can end in zeros.
 * A bit flip inside the very last record of the newest segment looks exactly like a torn write and is
 * truncated (row 10); in fsync mode that record was then never acknowledged unless the flip happened
 * after the fdatasync, which no log format can tell from a torn write without a second copy.
 */
import path from 'node:path';
import { MalformedPayload } from '../codec/binary-reader.js';
import { EventCodec } from '../codec/event-codec.js';
import type { EventType, LogEvent } from '../codec/event-schema.js';
import { MetaLogError } from '../errors.js';
import { RECORD_BYTES_MAX } from '../limits.js';
import {
  decodeSegmentHeader,
  segmentFilesOf,
  RECORD_HEADER_BYTES,
  readRecord,
  validRecordAfter,
  type RecordView,
  type SegmentHeader,
} from './format.js';
import type { Storage } from './storage.js';

/** A segment that verified up to `validEnd`. */
export interface VerifiedSegment {
  name: string;
  filePath: string;
  baseOffset: number;
  /** Null for a segment a scan with `fromOffset` did not need to read (wholly before that offset). */
  header: SegmentHeader | null;
  /** Byte position after its last good record. */
  validEnd: number;
  /** Bytes in the file (beyond validEnd only for a damaged newest segment). */
  fileBytes: number;
  recordCount: number;
}

/** The first damage found, if any. */
export interface WalDamage {
  kind: 'torn' | 'corrupt' | 'unsupported';
  file: string;
  position: number;
  /** The offset that was expected at `position`. */
  offset: number;
  reason: string;
}

/** What a scan found. */
export interface WalScan {
  segments: VerifiedSegment[];
  /** Offset the next appended event gets: one past the last good record. */
  nextOffset: number;
  damage: WalDamage | null;
  removedTempFiles: string[];
}

/**
 * Receives each verified record in offset order, with its bytes, and the decoded event, or null when the
 * scan's `decodes` option said the caller does not need events of that type (the payload was still
 * checked to decode).
 */
export type RecordVisitor = (event: LogEvent | null, bytes: Buffer, view: RecordView, codec: EventCodec) => void;

/** Options of a scan. */
export interface ScanOptions {
  /** Remove unfinished `.tmp` segment files (only the writer's open). */
  removeTempFiles?: boolean;
  /** Which event types to decode for the visitor; the others are only checked. Default: all. */
  decodes?: (type: EventType) => boolean;
  /**
   * Event types, among those not decoded, whose payload the visitor checks itself under `codec` (a
   * segment's codec): the scan neither decodes nor checks them, and the visitor, reading the payload
   * anyway, throws `MalformedPayload` before it changes anything when it does not decode; the scan
   * reports that as corruption at the record, as it would its own check. Saves a second walk of the
   * bulk of a log. Default: none.
   */
  checkedByVisitor?: (type: EventType, codec: EventCodec) => boolean;
  /**
   * Visit only records from this offset on (a fold that starts from a snapshot). Segments wholly before
   * it are listed but not read; records before it in the first segment read are checked (CRC), not
   * decoded. The caller checks that the log reaches back that far (the first segment's base offset).
   */
  fromOffset?: number;
  /** Stop after visiting this offset (the scan then reports no damage, whatever follows it). */
  throughOffset?: number;
  /** Told before each segment is read (its index in the listing, the segment count, its name): for progress. */
  onSegment?: (index: number, count: number, name: string) => void;
}

/**
 * Lists segment files in base offset order. With `removeTempFiles` (the writer's open), removes unfinished
 * `.tmp` ones (row 2); read-only scans leave them, as a live writer may be creating one.
 */
function listSegments(storage: Storage, walDir: string, removeTempFiles: boolean, removedTempFiles: string[]): { name: string; baseOffset: number }[] {
  if (!storage.exists(walDir)) return [];
  const names = storage.readdir(walDir);
  if (removeTempFiles) {
    for (const name of names.filter((each) => each.endsWith('.tmp'))) {
      storage.unlink(path.join(walDir, name));
      removedTempFiles.push(name);
    }
  }
  return segmentFilesOf(names);
}

function damage(kind: WalDamage['kind'], file: string, position: number, offset: number, reason: string): WalDamage {
  return { kind, file, position, offset, reason };
}

/** Verifies one segment's header (rows 3-5); returns the header or the damage. */
function checkHeader(bytes: Buffer, name: string, nameBase: number, expectedBase: number | null): SegmentHeader | WalDamage {
  const header = decodeSegmentHeader(bytes);
  if ('problem' in header) {
    if (header.problem === 'version') {
      return damage('unsupported', name, 8, nameBase, `segment format version ${header.formatVersion} is newer than this store understands`);
    }
    return damage('corrupt', name, 0, nameBase, `segment header ${header.problem} check failed`);
  }
  if (header.baseOffset !== nameBase) {
    return damage('corrupt', name, 16, nameBase, `header base offset ${header.baseOffset} differs from the file name`);
  }
  if (expectedBase !== null && nameBase !== expectedBase) {
    return damage('corrupt', name, 0, expectedBase, `segment starts at offset ${nameBase}, expected ${expectedBase}`);
  }
  return header;
}

/** Builds the codec of a segment's writer schema, or the damage (rows 3-4). */
function codecFor(header: SegmentHeader, name: string): EventCodec | WalDamage {
  let codec: EventCodec;
  try {
    codec = EventCodec.forWriterSchema(header.schemaJson);
  } catch (error) {
    return damage('unsupported', name, 52, header.baseOffset, (error as Error).message);
  }
  if (!codec.fingerprint.equals(header.fingerprint)) {
    return damage('corrupt', name, 32, header.baseOffset, 'schema fingerprint does not match the embedded schema');
  }
  return codec;
}

/**
 * Scans the records of one segment from its header on. Returns the damage (rows 6-10) or null when the
 * segment ends cleanly; fills `segment.validEnd` and `segment.recordCount` either way.
 */
function scanRecords(
  bytes: Buffer,
  segment: VerifiedSegment & { header: SegmentHeader },
  codec: EventCodec,
  newest: boolean,
  visit: RecordVisitor,
  decodes: (type: EventType) => boolean,
  checkedByVisitor: (type: EventType, codec: EventCodec) => boolean,
  fromOffset: number,
  throughOffset: number,
): WalDamage | null | typeof STOPPED {
  let position = segment.header.headerBytes;
  let expectedOffset = segment.baseOffset;
  // Decided once per segment, not per record: which branches of this segment's schema to decode.
  const decodeBranch = codec.branchTypes().map(decodes);
  const visitorChecks = codec.branchTypes().map((type, index) => !decodeBranch[index] && checkedByVisitor(type, codec));
  const end = bytes.length;
  // Records before the fold's start are covered by the snapshot it starts from (their checksums were
  // verified when that snapshot was made, and `metalog verify` checks them): they are stepped over by
  // their length while each length and offset is plausible, without checksumming; anything implausible
  // falls back to the full check below.
  while (expectedOffset < fromOffset && end - position >= RECORD_HEADER_BYTES) {
    const frameBytes = bytes.readUInt32LE(position);
    if (frameBytes < RECORD_HEADER_BYTES || frameBytes > RECORD_BYTES_MAX || position + frameBytes > end) break;
    if (bytes.readUInt32LE(position + 8) + bytes.readUInt32LE(position + 12) * 2 ** 32 !== expectedOffset) break;
    position += frameBytes;
    segment.recordCount++;
    expectedOffset++;
  }
  for (;;) {
    const found = readRecord(bytes, position, end);
    if (typeof found === 'string') {
      segment.validEnd = position;
      if (position === end) return null;
      // Row 11: the writer zero-fills the newest segment ahead of its appends; zeros to the end are space.
      if (newest && found === 'eof' && isZeroFrom(bytes, position)) return null;
      const reason = found === 'eof' ? 'zero bytes where a record should start' : `record ${found} check failed`;
      if (!newest) return damage('corrupt', segment.name, position, expectedOffset, `${reason} in a sealed segment`);
      const goodAfter = validRecordAfter(bytes, position, end, expectedOffset - 1);
      if (goodAfter !== null) {
        return damage('corrupt', segment.name, position, expectedOffset, `${reason}, with a good record after it at position ${goodAfter}`);
      }
      return damage('torn', segment.name, position, expectedOffset, `${reason}: torn tail of ${end - position} bytes`);
    }
    if (found.offset !== expectedOffset) {
      segment.validEnd = position;
      return damage('corrupt', segment.name, position, expectedOffset, `record has offset ${found.offset}, expected ${expectedOffset}`);
    }
    if (found.offset > throughOffset) {
      segment.validEnd = position;
      return STOPPED;
    }
    if (found.offset < fromOffset) {
      segment.recordCount++;
      expectedOffset++;
      position = found.end;
      continue;
    }
    if (visitorChecks[found.eventType] === true) {
      // The visitor reads the payload itself and throws MalformedPayload before it applies anything.
      try {
        visit(null, bytes, found, codec);
      } catch (error) {
        if (!(error instanceof MalformedPayload)) throw error;
        segment.validEnd = position;
        return damage('corrupt', segment.name, position, expectedOffset, `payload does not decode: ${error.message}`);
      }
    } else {
      let event: LogEvent | null = null;
      try {
        if (decodeBranch[found.eventType] ?? true) {
          const body = codec.decode(found.eventType, bytes, found.payloadStart, found.end);
          event = { type: body.type, value: body.value, offset: found.offset, timestampMs: found.timestampMs } as LogEvent;
        } else {
          codec.check(found.eventType, bytes, found.payloadStart, found.end);
        }
      } catch (error) {
        segment.validEnd = position;
        return damage('corrupt', segment.name, position, expectedOffset, `payload does not decode: ${(error as Error).message}`);
      }
      visit(event, bytes, found, codec);
    }
    segment.recordCount++;
    expectedOffset++;
    position = found.end;
    if (found.offset === throughOffset) {
      segment.validEnd = position;
      return STOPPED;
    }
  }
}

/** What `scanRecords` returns when it reached the scan's `throughOffset`. */
const STOPPED = Symbol('stopped');

function decodeAll(): boolean {
  return true;
}

function checkNone(): boolean {
  return false;
}

/** True when `bytes[from, end)` is all zero (compared a piece at a time, natively). */
function isZeroFrom(bytes: Buffer, from: number): boolean {
  for (let position = from; position < bytes.length; position += ZEROS.length) {
    const end = Math.min(bytes.length, position + ZEROS.length);
    if (!bytes.subarray(position, end).equals(ZEROS.subarray(0, end - position))) return false;
  }
  return true;
}

const ZEROS = Buffer.alloc(64 * 1024);

/**
 * Reads and verifies the whole log, visiting each good event in order; stops at the first damage.
 * Only the writer's open passes `removeTempFiles`; a scan changes nothing on disk otherwise.
 */
export function scanWal(storage: Storage, walDir: string, visit: RecordVisitor, options: ScanOptions = {}): WalScan {
  const decodes = options.decodes ?? decodeAll;
  const checkedByVisitor = options.checkedByVisitor ?? checkNone;
  const removedTempFiles: string[] = [];
  const files = listSegments(storage, walDir, options.removeTempFiles === true, removedTempFiles);
  const fromOffset = options.fromOffset ?? 0;
  const throughOffset = options.throughOffset ?? Number.MAX_SAFE_INTEGER;
  const segments: VerifiedSegment[] = [];
  let nextOffset = files.length > 0 ? files[0].baseOffset : 0;
  let skipped = 0;
  for (let i = 0; i < files.length; i++) {
    const { name, baseOffset } = files[i];
    const filePath = path.join(walDir, name);
    const successor = files[i + 1];
    if (successor !== undefined && successor.baseOffset <= fromOffset) {
      // Wholly before the fold's start: not read (verify and history read it; a fold does not need it).
      segments.push({ name, filePath, baseOffset, header: null, validEnd: 0, fileBytes: 0, recordCount: successor.baseOffset - baseOffset });
      nextOffset = successor.baseOffset;
      skipped++;
      continue;
    }
    options.onSegment?.(i, files.length, name);
    const bytes = storage.readFile(filePath);
    const header = checkHeader(bytes, name, baseOffset, i === skipped ? null : nextOffset);
    if ('kind' in header) return { segments, nextOffset, damage: header, removedTempFiles };
    const codec = codecFor(header, name);
    if ('kind' in codec) return { segments, nextOffset, damage: codec, removedTempFiles };
    const segment: VerifiedSegment & { header: SegmentHeader } = {
      name, filePath, baseOffset, header, validEnd: header.headerBytes, fileBytes: bytes.length, recordCount: 0,
    };
    segments.push(segment);
    const found = scanRecords(bytes, segment, codec, i === files.length - 1, visit, decodes, checkedByVisitor, fromOffset, throughOffset);
    nextOffset = baseOffset + segment.recordCount;
    if (found === STOPPED) return { segments, nextOffset, damage: null, removedTempFiles };
    if (found !== null) return { segments, nextOffset, damage: found, removedTempFiles };
  }
  return { segments, nextOffset, damage: null, removedTempFiles };
}

/** The error that a damage means at open (rows 3-9). */
export function damageError(walDir: string, found: WalDamage): MetaLogError {
  const code = found.kind === 'unsupported' ? 'UNSUPPORTED_FORMAT' : 'CORRUPT_WAL';
  return new MetaLogError(
    code,
    `${path.join('wal', found.file)} at byte ${found.position} (offset ${found.offset}): ${found.reason}`,
    { file: path.join(walDir, found.file), position: found.position, offset: found.offset },
  );
}
