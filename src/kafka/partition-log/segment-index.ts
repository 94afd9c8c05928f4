/**
 * The two sparse indexes of one segment, held in memory and written to disk when the segment is sealed:
 *
 * Offset index (`<base>.index`): one entry per `index.interval.bytes` of batches, pointing at a batch.
 *
 *    0  relativeOffset  u32   the batch's baseOffset - segment base offset
 *    4  position        u32   the batch's byte position in the .log file
 *
 * Time index (`<base>.timeindex`): one entry whenever an offset-index entry is added and the segment's
 * largest timestamp so far has grown, plus a last one when the segment is sealed.
 *
 *    0  timestamp       int64 the largest batch maxTimestamp so far in the segment
 *    8  relativeOffset  u32   base offset (relative) of the batch that carries that timestamp
 *
 * Invariants: offset entries strictly increase in both fields; time entries strictly increase in timestamp
 * and never decrease in offset. Every batch before a time entry's batch has maxTimestamp <= its timestamp,
 * so a search for timestamp T may start at the batch of the last entry whose timestamp is below T.
 *
 * A decoded index is trusted only when it is sane (whole entries, the invariants hold, positions inside
 * the .log file); otherwise the segment is rebuilt by scanning (see partition-dir.ts).
 *
 * @internal The broker reaches the partition log through index.ts; this module is not part of that surface.
 */
import { assert } from './assert.js';
import { INDEX_ENTRY_COUNT_MAX, SEGMENT_OFFSET_SPAN_MAX } from './limits.js';

/** Bytes of one offset-index entry. */
export const OFFSET_INDEX_ENTRY_BYTES = 8;
/** Bytes of one time-index entry. */
export const TIME_INDEX_ENTRY_BYTES = 12;

/** Offset index of one segment: relative offset → position, sparse. */
export class OffsetIndex {
  private readonly relativeOffsets: number[] = [];
  private readonly positions: number[] = [];

  get entryCount(): number {
    return this.relativeOffsets.length;
  }

  /** Adds an entry for the batch at `position` whose base offset is `relativeOffset` past the segment base. */
  append(relativeOffset: number, position: number): void {
    assert(this.entryCount < INDEX_ENTRY_COUNT_MAX, 'the offset index is below its entry limit');
    assert(relativeOffset >= 0 && relativeOffset <= SEGMENT_OFFSET_SPAN_MAX, 'a relative offset fits u32');
    const last = this.entryCount - 1;
    if (last >= 0) assert(relativeOffset > this.relativeOffsets[last], 'offset index entries increase in offset');
    if (last >= 0) assert(position > this.positions[last], 'offset index entries increase in position');
    this.relativeOffsets.push(relativeOffset);
    this.positions.push(position);
  }

  /** The entry with the largest relative offset <= `relativeOffset`, or the segment start. */
  lookup(relativeOffset: number): { relativeOffset: number; position: number } {
    const found = lastAtOrBelow(this.relativeOffsets, relativeOffset);
    if (found < 0) return { relativeOffset: 0, position: 0 };
    return { relativeOffset: this.relativeOffsets[found], position: this.positions[found] };
  }

  /** The index as its file holds it. */
  encode(): Buffer {
    const bytes = Buffer.alloc(this.entryCount * OFFSET_INDEX_ENTRY_BYTES);
    for (let i = 0; i < this.entryCount; i++) {
      bytes.writeUInt32BE(this.relativeOffsets[i], i * OFFSET_INDEX_ENTRY_BYTES);
      bytes.writeUInt32BE(this.positions[i], i * OFFSET_INDEX_ENTRY_BYTES + 4);
    }
    return bytes;
  }

  /** The index a file holds, or null when it is not sane for a .log file of `logSizeBytes`. */
  static decode(bytes: Buffer, logSizeBytes: number): OffsetIndex | null {
    if (bytes.length % OFFSET_INDEX_ENTRY_BYTES !== 0) return null;
    const entryCount = bytes.length / OFFSET_INDEX_ENTRY_BYTES;
    if (entryCount > INDEX_ENTRY_COUNT_MAX) return null;
    const index = new OffsetIndex();
    for (let i = 0; i < entryCount; i++) {
      const relativeOffset = bytes.readUInt32BE(i * OFFSET_INDEX_ENTRY_BYTES);
      const position = bytes.readUInt32BE(i * OFFSET_INDEX_ENTRY_BYTES + 4);
      const last = index.entryCount - 1;
      if (position >= logSizeBytes) return null;
      if (last >= 0 && (relativeOffset <= index.relativeOffsets[last] || position <= index.positions[last])) return null;
      index.append(relativeOffset, position);
    }
    return index;
  }
}

/** Time index of one segment: largest timestamp so far → batch offset, sparse and monotonic. */
export class TimeIndex {
  private readonly timestamps: number[] = [];
  private readonly relativeOffsets: number[] = [];

  get entryCount(): number {
    return this.timestamps.length;
  }

  /** The largest timestamp the index holds, or -1 when it holds none. */
  get lastTimestamp(): number {
    return this.entryCount === 0 ? -1 : this.timestamps[this.entryCount - 1];
  }

  /** Adds an entry when `timestamp` is above the last one; otherwise the index already covers it. */
  maybeAppend(timestamp: number, relativeOffset: number): void {
    if (timestamp <= this.lastTimestamp) return;
    assert(this.entryCount < INDEX_ENTRY_COUNT_MAX, 'the time index is below its entry limit');
    const last = this.entryCount - 1;
    if (last >= 0) assert(relativeOffset >= this.relativeOffsets[last], 'time index offsets never decrease');
    this.timestamps.push(timestamp);
    this.relativeOffsets.push(relativeOffset);
  }

  /**
   * Where a search for the first batch with maxTimestamp >= `timestamp` may start: the relative offset of
   * the last entry whose timestamp is below it (all batches before that one are below it too), or 0.
   */
  lookup(timestamp: number): number {
    const found = lastAtOrBelow(this.timestamps, timestamp - 1);
    return found < 0 ? 0 : this.relativeOffsets[found];
  }

  /** The index as its file holds it. */
  encode(): Buffer {
    const bytes = Buffer.alloc(this.entryCount * TIME_INDEX_ENTRY_BYTES);
    for (let i = 0; i < this.entryCount; i++) {
      bytes.writeBigInt64BE(BigInt(this.timestamps[i]), i * TIME_INDEX_ENTRY_BYTES);
      bytes.writeUInt32BE(this.relativeOffsets[i], i * TIME_INDEX_ENTRY_BYTES + 8);
    }
    return bytes;
  }

  /** The index a file holds, or null when it is not sane for a segment spanning `offsetSpan` offsets. */
  static decode(bytes: Buffer, offsetSpan: number): TimeIndex | null {
    if (bytes.length % TIME_INDEX_ENTRY_BYTES !== 0) return null;
    const entryCount = bytes.length / TIME_INDEX_ENTRY_BYTES;
    if (entryCount > INDEX_ENTRY_COUNT_MAX) return null;
    const index = new TimeIndex();
    for (let i = 0; i < entryCount; i++) {
      const timestamp = Number(bytes.readBigInt64BE(i * TIME_INDEX_ENTRY_BYTES));
      const relativeOffset = bytes.readUInt32BE(i * TIME_INDEX_ENTRY_BYTES + 8);
      const last = index.entryCount - 1;
      if (!Number.isSafeInteger(timestamp) || relativeOffset >= offsetSpan) return null;
      if (last >= 0 && (timestamp <= index.timestamps[last] || relativeOffset < index.relativeOffsets[last])) return null;
      index.maybeAppend(timestamp, relativeOffset);
    }
    return index;
  }
}

/** Index of the last element <= `target` in an increasing array, or -1. Binary search: log2(length) steps. */
function lastAtOrBelow(sorted: readonly number[], target: number): number {
  let low = 0;
  let high = sorted.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle] <= target) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}
