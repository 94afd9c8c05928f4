/**
 * Where in the WAL a time begins, without reading the log: events are stamped in non-decreasing time
 * (the writer never stamps a batch earlier than the one before), so a segment holds no event at or after
 * time T when the next segment's first event is older than T. Reading each segment's header and first
 * record (a few KiB) is enough to skip every segment wholly before T.
 *
 * Called by: `history` (fromTime) on the reader pool.
 */
import path from 'node:path';
import { decodeSegmentHeader, readRecord, segmentFilesOf } from '../wal/format.js';
import type { Storage } from '../wal/storage.js';

/** Bytes read from the start of a segment to find its first record (a header holds the schema, a few KiB). */
const HEAD_BYTES = 256 * 1024;

/** The commit time of the first record of the segment file `file`, or null (empty, unreadable, or damaged). */
function firstRecordTime(file: string, storage: Storage): number | null {
  let fd: number;
  try {
    fd = storage.openForRead(file);
  } catch {
    // Compacted away since the listing, or unreadable: the caller then skips nothing.
    return null;
  }
  try {
    const head = Buffer.alloc(HEAD_BYTES);
    const length = storage.read(fd, head, 0, HEAD_BYTES, 0);
    const bytes = head.subarray(0, length);
    const header = decodeSegmentHeader(bytes);
    if ('problem' in header) return null;
    const found = readRecord(bytes, header.headerBytes, bytes.length);
    return typeof found === 'string' ? null : found.timestampMs;
  } finally {
    storage.close(fd);
  }
}

/**
 * The base offset of the first segment of the WAL in `walDir` that may hold an event committed at or
 * after `time` (0 when unsure: an unreadable first record never skips anything).
 */
export function firstOffsetFromTime(walDir: string, time: number, storage: Storage): number {
  let names: string[];
  try {
    names = storage.readdir(walDir);
  } catch {
    // No WAL folder: the scan that follows reports it.
    return 0;
  }
  const segments = segmentFilesOf(names);
  let start = segments[0]?.baseOffset ?? 0;
  // Segment i is skipped when segment i + 1 starts with an event older than `time`.
  for (let index = 1; index < segments.length; index++) {
    const firstTime = firstRecordTime(path.join(walDir, segments[index].name), storage);
    if (firstTime === null || firstTime >= time) break;
    start = segments[index].baseOffset;
  }
  return start;
}
