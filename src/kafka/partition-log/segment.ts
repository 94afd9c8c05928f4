/**
 * One segment of a partition: its .log file of whole batches, and its two sparse indexes in memory
 * (written to `.index` and `.timeindex` when the segment is sealed). Owns the byte positions of one
 * file; knows nothing of producers, retention or flushing policy.
 *
 * Files, in the partition's folder, named by the segment's base offset in 20 digits:
 *   00000000000000000000.log  00000000000000000000.index  00000000000000000000.timeindex
 *
 * Invariants: the .log file holds whole batches from position 0 to `sizeBytes`, with dense offsets from
 * `baseOffset` to `nextOffset - 1` (recovery cuts anything else off); a sealed segment is never written
 * again, its bytes were fdatasynced before the next segment took a write, and its index files were written
 * whole (to a temporary name, synced, renamed) before its successor was created; `sizeBytes` exceeds
 * `segment.bytes` only when the config was lowered after the bytes were written (an append's records are
 * never split across segments, and records larger than `segment.bytes` are refused).
 *
 * Reads may run while appends go on: a read pins the segment, and a segment that retention removes is
 * closed only once its last read has let go of it.
 *
 * @internal The broker reaches the partition log through index.ts; this module is not part of that surface.
 */
import path from 'node:path';
import { KafkaError } from '../error-codes.js';
import { assert } from './assert.js';
import type { LogFile, LogStorage } from './log-storage.js';
import { BATCH_HEADER_BYTES, READ_ATTEMPT_COUNT_MAX, SEGMENT_OFFSET_SPAN_MAX, WRITE_ATTEMPT_COUNT_MAX } from './limits.js';
import { lastOffsetOf, readBatchHeader, type RecordBatchHeader } from './record-batch.js';
import { OffsetIndex, TimeIndex } from './segment-index.js';

/** Bytes read at a time when walking batch headers inside a segment (a lookup, a timestamp search). */
const WALK_WINDOW_BYTES = 64 * 1024;

/** What the broker records in the store for one segment (addSegment / removeSegment). */
export interface SegmentInfo {
  /** The segment's id: its base offset. */
  baseOffset: number;
  lastOffset: number;
  sizeBytes: number;
  recordCount: number;
  /** Path of the segment's .log file. */
  path: string;
}

/** The file name of a segment's file with `suffix` ('.log', '.index', '.timeindex'). */
export function segmentFileName(baseOffset: number, suffix: string): string {
  assert(Number.isSafeInteger(baseOffset) && baseOffset >= 0, 'a base offset is a non-negative safe integer');
  return `${String(baseOffset).padStart(20, '0')}${suffix}`;
}

/** The state of a segment as recovery or creation found it. */
export interface SegmentState {
  sizeBytes: number;
  nextOffset: number;
  /** Largest batch maxTimestamp in the segment, -1 when empty. */
  maxTimestamp: number;
  /** Relative offset of the batch that carries `maxTimestamp`, 0 when empty. */
  maxTimestampRelativeOffset: number;
  /** maxTimestamp of the segment's first batch (what `segment.ms` counts from), -1 when empty. */
  firstBatchTimestamp: number;
  offsetIndex: OffsetIndex;
  timeIndex: TimeIndex;
  /** Bytes of batches appended since the last offset-index entry. */
  bytesSinceIndexEntry: number;
}

/** One segment; see the module header. */
export class Segment {
  sealed = false;
  /** nowMs of the first append this process made to the segment (what `segment.ms` counts from when its first batch has no timestamp). */
  firstAppendMs: number | null = null;
  /** Size of the .log file that is known to be on disk. */
  syncedSizeBytes: number;
  private pinCount = 0;
  private retired = false;

  constructor(
    readonly dirPath: string,
    readonly baseOffset: number,
    readonly log: LogFile,
    private readonly state: SegmentState,
  ) {
    assert(state.nextOffset >= baseOffset, 'a segment ends at or after its base offset');
    this.syncedSizeBytes = state.sizeBytes;
  }

  get sizeBytes(): number {
    return this.state.sizeBytes;
  }
  get nextOffset(): number {
    return this.state.nextOffset;
  }
  get lastOffset(): number {
    return this.state.nextOffset - 1;
  }
  get maxTimestamp(): number {
    return this.state.maxTimestamp;
  }
  get firstBatchTimestamp(): number {
    return this.state.firstBatchTimestamp;
  }
  get isEmpty(): boolean {
    return this.state.sizeBytes === 0;
  }
  /** True when bytes were written that no fdatasync has covered yet. */
  get dirty(): boolean {
    return this.syncedSizeBytes !== this.state.sizeBytes;
  }
  get logPath(): string {
    return this.log.path;
  }
  get indexPath(): string {
    return path.join(this.dirPath, segmentFileName(this.baseOffset, '.index'));
  }
  get timeIndexPath(): string {
    return path.join(this.dirPath, segmentFileName(this.baseOffset, '.timeindex'));
  }

  /** What the store records for this segment. */
  info(): SegmentInfo {
    return {
      baseOffset: this.baseOffset,
      lastOffset: this.lastOffset,
      sizeBytes: this.sizeBytes,
      recordCount: this.nextOffset - this.baseOffset,
      path: this.logPath,
    };
  }

  /** True when `offsetCount` more offsets still fit the u32 relative offsets of the index. */
  spanFits(offsetCount: number): boolean {
    return this.nextOffset + offsetCount - 1 - this.baseOffset <= SEGMENT_OFFSET_SPAN_MAX;
  }

  /**
   * Notes a batch that now lies at `position` of this segment (after a write, or found by recovery):
   * offsets, timestamps, and an index entry once `indexIntervalBytes` have passed since the last one.
   */
  noteBatch(header: RecordBatchHeader, position: number, indexIntervalBytes: number): void {
    const state = this.state;
    assert(!this.sealed, 'a sealed segment takes no batches');
    assert(header.baseOffset === state.nextOffset, 'offsets are dense across batches');
    assert(position === state.sizeBytes, 'batches lie back to back');
    const relativeOffset = header.baseOffset - this.baseOffset;
    // The batch at position 0 needs no entry: a lookup below the first entry starts at position 0.
    const indexed = position > 0 && state.bytesSinceIndexEntry >= indexIntervalBytes;
    if (indexed) {
      state.offsetIndex.append(relativeOffset, position);
      state.bytesSinceIndexEntry = 0;
    }
    if (header.maxTimestamp > state.maxTimestamp) {
      state.maxTimestamp = header.maxTimestamp;
      state.maxTimestampRelativeOffset = relativeOffset;
    }
    if (indexed || position === 0) state.timeIndex.maybeAppend(state.maxTimestamp, state.maxTimestampRelativeOffset);
    if (position === 0) state.firstBatchTimestamp = header.maxTimestamp;
    state.bytesSinceIndexEntry += header.sizeBytes;
    state.sizeBytes += header.sizeBytes;
    state.nextOffset = lastOffsetOf(header) + 1;
  }

  /**
   * Writes `bytes` at the end of the .log file. On any failure (a full disk) the bytes already written are
   * cut off again and a KAFKA_STORAGE_ERROR is thrown; if even the cut fails, the error says so with
   * `fatal` in its cause chain and the partition must stop taking writes.
   */
  async appendBytes(bytes: Buffer): Promise<void> {
    assert(!this.sealed, 'a sealed segment takes no writes');
    const startPosition = this.state.sizeBytes;
    let written = 0;
    try {
      for (let attempt = 0; written < bytes.length; attempt++) {
        assert(attempt < WRITE_ATTEMPT_COUNT_MAX, 'a write completes within its attempt limit');
        const count = await this.log.write(bytes, written, bytes.length, startPosition + written);
        assert(count > 0, 'a write makes progress');
        written += count;
      }
    } catch (error) {
      await this.cutBackTo(startPosition, error);
      throw new KafkaError('KAFKA_STORAGE_ERROR', `write of ${bytes.length} bytes to ${this.logPath} at position ${startPosition} failed`, { cause: error });
    }
  }

  private async cutBackTo(sizeBytes: number, writeError: unknown): Promise<void> {
    try {
      await this.log.truncate(sizeBytes);
    } catch (truncateError) {
      throw new SegmentCutFailed(this.logPath, sizeBytes, writeError, truncateError);
    }
  }

  /** Reads `[position, position + length)` of the .log file (fewer bytes past its end). */
  async readAt(position: number, length: number): Promise<Buffer> {
    assert(length >= 0, 'a read length is not negative');
    const into = Buffer.allocUnsafe(length);
    let filled = 0;
    for (let attempt = 0; filled < length; attempt++) {
      assert(attempt < READ_ATTEMPT_COUNT_MAX, 'a read completes within its attempt limit');
      const count = await this.log.read(into, filled, length, position + filled);
      if (count === 0) break;
      filled += count;
    }
    return filled === length ? into : into.subarray(0, filled);
  }

  /**
   * Walks the batch headers from `position` to the end of the segment, handing each to `visit` until it
   * returns true. Returns the header that stopped the walk, or null. Bounded: every step moves at least
   * one header forward, and the walk stops at `sizeBytes`.
   */
  async walkHeaders(position: number, visit: (header: RecordBatchHeader) => boolean): Promise<RecordBatchHeader | null> {
    let windowStart = position;
    let window: Buffer = Buffer.alloc(0);
    let at = position;
    while (at < this.state.sizeBytes) {
      if (at + BATCH_HEADER_BYTES > windowStart + window.length) {
        windowStart = at;
        window = await this.readAt(at, Math.min(WALK_WINDOW_BYTES, this.state.sizeBytes - at));
        assert(window.length >= BATCH_HEADER_BYTES, `a whole header lies at position ${at} of ${this.logPath}`);
      }
      const header = readBatchHeader(window, at - windowStart);
      assert(header !== null && header.sizeBytes >= BATCH_HEADER_BYTES, `a stored batch at position ${at} reads back`);
      const absolute = { ...header, position: at };
      if (visit(absolute)) return absolute;
      at += header.sizeBytes;
    }
    return null;
  }

  /** The header of the batch holding `offset`, which must lie in this segment. */
  async findBatch(offset: number): Promise<RecordBatchHeader> {
    assert(offset >= this.baseOffset && offset < this.nextOffset, 'the offset lies in this segment');
    const entry = this.state.offsetIndex.lookup(offset - this.baseOffset);
    const found = await this.walkHeaders(entry.position, (header) => lastOffsetOf(header) >= offset);
    assert(found !== null && found.baseOffset <= offset, `offset ${offset} has a batch in ${this.logPath}`);
    return found;
  }

  /**
   * The first batch whose maxTimestamp >= `timestamp` among those ending at or after `minOffset` (the log
   * start offset), or null when this segment has none.
   */
  async findBatchByTimestamp(timestamp: number, minOffset: number): Promise<RecordBatchHeader | null> {
    if (this.isEmpty || this.state.maxTimestamp < timestamp || minOffset >= this.nextOffset) return null;
    const fromTime = this.state.timeIndex.lookup(timestamp);
    const fromOffset = Math.max(0, minOffset - this.baseOffset);
    const entry = this.state.offsetIndex.lookup(Math.max(fromTime, fromOffset));
    return this.walkHeaders(entry.position, (header) => header.maxTimestamp >= timestamp && lastOffsetOf(header) >= minOffset);
  }

  /** fdatasync of the .log file when it has unsynced bytes; returns whether it synced. */
  async sync(): Promise<boolean> {
    const sizeBytes = this.state.sizeBytes;
    if (sizeBytes === this.syncedSizeBytes) return false;
    await this.log.datasync();
    this.syncedSizeBytes = Math.max(this.syncedSizeBytes, sizeBytes);
    return true;
  }

  /**
   * Seals the segment before its successor takes a write: its bytes are synced, and its indexes (with a
   * last time entry for its largest timestamp) are written to temporary names, synced and renamed into place.
   */
  async seal(storage: LogStorage): Promise<void> {
    assert(!this.sealed, 'a segment is sealed once');
    assert(!this.isEmpty, 'only a segment with batches is sealed');
    this.state.timeIndex.maybeAppend(this.state.maxTimestamp, this.state.maxTimestampRelativeOffset);
    await this.sync();
    await writeWhole(storage, this.indexPath, this.state.offsetIndex.encode());
    await writeWhole(storage, this.timeIndexPath, this.state.timeIndex.encode());
    this.sealed = true;
  }

  /** Cuts the segment back to its first `sizeBytes` bytes (recovery of a torn tail) and syncs the cut. */
  async truncateTo(sizeBytes: number): Promise<void> {
    await this.log.truncate(sizeBytes);
    await this.log.datasync();
  }

  /** Keeps the file open while a read uses it. */
  pin(): void {
    assert(!this.retired, 'a removed segment is not read');
    this.pinCount++;
  }

  /** Lets go of a pin; closes the file when the segment was removed meanwhile and this was the last pin. */
  async unpin(): Promise<void> {
    assert(this.pinCount > 0, 'an unpin follows a pin');
    this.pinCount--;
    if (this.retired && this.pinCount === 0) await this.log.close();
  }

  /** True once the segment was removed or closed; reads must look again. */
  get isRetired(): boolean {
    return this.retired;
  }

  /** Closes the file now, or when the last read lets go of it. */
  async retire(): Promise<void> {
    if (this.retired) return;
    this.retired = true;
    if (this.pinCount === 0) await this.log.close();
  }
}

/** Writes a whole small file durably: to `<path>.tmp`, fdatasync, rename over `path`. */
async function writeWhole(storage: LogStorage, filePath: string, bytes: Buffer): Promise<void> {
  const tmpPath = `${filePath}.tmp`;
  const file = await storage.open(tmpPath, true);
  try {
    await file.truncate(0);
    let written = 0;
    for (let attempt = 0; written < bytes.length; attempt++) {
      assert(attempt < WRITE_ATTEMPT_COUNT_MAX, 'an index write completes within its attempt limit');
      written += await file.write(bytes, written, bytes.length, written);
    }
    await file.datasync();
  } finally {
    await file.close();
  }
  await storage.rename(tmpPath, filePath);
}

/** A failed write whose partial bytes could not be cut off: the segment's tail is unknown. */
export class SegmentCutFailed extends KafkaError {
  readonly writeError: unknown;
  constructor(logPath: string, sizeBytes: number, writeError: unknown, truncateError: unknown) {
    super('KAFKA_STORAGE_ERROR', `a failed write to ${logPath} could not be cut back to ${sizeBytes} bytes`, { cause: truncateError });
    this.writeError = writeError;
  }
}

/** The state of a segment with no batches yet. */
export function emptySegmentState(): SegmentState {
  return {
    sizeBytes: 0,
    nextOffset: 0,
    maxTimestamp: -1,
    maxTimestampRelativeOffset: 0,
    firstBatchTimestamp: -1,
    offsetIndex: new OffsetIndex(),
    timeIndex: new TimeIndex(),
    bytesSinceIndexEntry: 0,
  };
}

/** Creates an empty segment at `baseOffset` in `dirPath` (a new file, its name made durable). */
export async function createSegment(storage: LogStorage, dirPath: string, baseOffset: number): Promise<Segment> {
  const log = await storage.open(path.join(dirPath, segmentFileName(baseOffset, '.log')), true);
  await log.truncate(0);
  await storage.syncDir(dirPath);
  return new Segment(dirPath, baseOffset, log, { ...emptySegmentState(), nextOffset: baseOffset });
}
