/**
 * Recovery of one partition's folder on open: which files are segments, which segments are trusted as
 * they are, which are rebuilt, where the active segment's valid bytes end. Pure decisions over what the
 * folder holds; every file access goes through {@link LogStorage}.
 *
 * Decision table (each row has a test in partition-recovery.test.ts):
 *
 * | what the folder holds                                   | action                                              |
 * |---------------------------------------------------------|-----------------------------------------------------|
 * | no .log file                                            | one empty segment at offset `emptyBaseOffset`       |
 * | `*.tmp` (an index write cut short)                      | removed                                             |
 * | .index or .timeindex without its .log                   | removed                                             |
 * | sealed segment, both indexes sane, tail walks to the end| trusted; its last offset is the next base - 1       |
 * | sealed segment, an index missing or not sane            | scanned with CRCs, indexes rebuilt and rewritten    |
 * | sealed segment whose scan finds a bad or missing batch  | KAFKA_STORAGE_ERROR: it was synced before its       |
 * |                                                         | successor took a write, so this is damage, not a    |
 * |                                                         | crash; nothing is cut and the partition stays shut  |
 * | active (last) segment                                   | scanned batch by batch with CRCs; the first torn,   |
 * |                                                         | corrupt or out-of-sequence batch and all after it   |
 * |                                                         | are cut off (truncate, fdatasync); indexes rebuilt  |
 *
 * The log end offset is then the active segment's last valid batch's last offset + 1 (its base when empty).
 *
 * @internal The broker reaches the partition log through index.ts; this module is not part of that surface.
 */
import path from 'node:path';
import { KafkaError } from '../error-codes.js';
import { assert } from './assert.js';
import type { LogFile, LogStorage } from './log-storage.js';
import { BATCH_BYTES_MAX, BATCH_HEADER_BYTES, BATCH_LENGTH_PREFIX_BYTES, SCAN_CHUNK_BYTES, SEGMENT_COUNT_MAX } from './limits.js';
import { batchSizeAt, checkBatchAt, isProblem, lastOffsetOf, type RecordBatchHeader } from './record-batch.js';
import { createSegment, emptySegmentState, Segment, segmentFileName, type SegmentState } from './segment.js';
import { OffsetIndex, TimeIndex } from './segment-index.js';

const SEGMENT_FILE = /^(\d{20})\.(log|index|timeindex)$/;

/** What recovery did to a partition's folder. */
export interface PartitionRecovery {
  segments: Segment[];
  /** Bytes cut off the active segment's tail. */
  truncatedBytes: number;
  /** Why the tail was cut, when it was. */
  truncatedBecause: string | null;
  /** Base offsets of sealed segments whose indexes were rebuilt. */
  rebuiltIndexBaseOffsets: number[];
  /** Names of leftover files removed. */
  removedFiles: string[];
}

/** Where a scan of a segment's batches stopped. */
export interface ScanResult {
  /** Position just past the last valid batch. */
  endPosition: number;
  /** Offset after the last valid batch. */
  nextOffset: number;
  /** Why the scan stopped before the end of the file, or null when it reached the end. */
  problem: string | null;
}

/**
 * Scans the batches of `file` from `startPosition` to `sizeBytes`, checking each one whole (size, magic,
 * CRC) and that offsets continue from `expectedOffset`; hands each valid batch to `onBatch`. Reads
 * {@link SCAN_CHUNK_BYTES} at a time (a larger batch, up to {@link BATCH_BYTES_MAX}, is read whole).
 */
export async function scanBatches(
  file: LogFile,
  sizeBytes: number,
  startPosition: number,
  expectedOffset: number,
  onBatch: (header: RecordBatchHeader) => void,
): Promise<ScanResult> {
  let chunkStart = startPosition;
  let chunk: Buffer = Buffer.alloc(0);
  let at = startPosition;
  let nextOffset = expectedOffset;
  const stop = (problem: string): ScanResult => ({ endPosition: at, nextOffset, problem });
  // Bounded: each round moves `at` forward by at least one 61-byte header, or stops.
  while (at < sizeBytes) {
    if (at + BATCH_LENGTH_PREFIX_BYTES > chunkStart + chunk.length) {
      chunkStart = at;
      chunk = await readFully(file, at, Math.min(SCAN_CHUNK_BYTES, sizeBytes - at));
    }
    const batchSize = batchSizeAt(chunk, at - chunkStart);
    if (batchSize === null) return stop(`${sizeBytes - at} bytes at position ${at} are a torn batch length`);
    if (batchSize < BATCH_HEADER_BYTES || batchSize > BATCH_BYTES_MAX) return stop(`batch at position ${at} claims ${batchSize} bytes`);
    if (at + batchSize > sizeBytes) return stop(`batch at position ${at} of ${batchSize} bytes runs past the end (${sizeBytes})`);
    if (at + batchSize > chunkStart + chunk.length) {
      chunkStart = at;
      chunk = await readFully(file, at, Math.min(Math.max(SCAN_CHUNK_BYTES, batchSize), sizeBytes - at));
    }
    const view = chunk.subarray(at - chunkStart, at - chunkStart + batchSize);
    const checked = checkBatchAt(view, 0, BATCH_BYTES_MAX);
    if (isProblem(checked)) return stop(checked.message.replace('position 0', `position ${at}`));
    if (checked.baseOffset !== nextOffset) return stop(`batch at position ${at} has base offset ${checked.baseOffset}; ${nextOffset} was next`);
    onBatch({ ...checked, position: at });
    nextOffset = lastOffsetOf(checked) + 1;
    at += batchSize;
  }
  assert(at === sizeBytes, 'a scan without a problem ends at the end of the file');
  return { endPosition: at, nextOffset, problem: null };
}

async function readFully(file: LogFile, position: number, length: number): Promise<Buffer> {
  const into = Buffer.allocUnsafe(length);
  let filled = 0;
  // Bounded: each round reads at least one byte or stops at the end of the file.
  while (filled < length) {
    const count = await file.read(into, filled, length, position + filled);
    if (count === 0) break;
    filled += count;
  }
  return into.subarray(0, filled);
}

/** Reads a whole small file (an index), or null when there is none. */
async function readIndexFile(storage: LogStorage, filePath: string, names: ReadonlySet<string>): Promise<Buffer | null> {
  if (!names.has(path.basename(filePath))) return null;
  const file = await storage.open(filePath, false);
  try {
    return await readFully(file, 0, await file.sizeBytes());
  } finally {
    await file.close();
  }
}

/** Recovers the partition folder `dirPath`; see the decision table above. */
export async function recoverPartitionDir(
  storage: LogStorage,
  dirPath: string,
  options: { indexIntervalBytes: number; emptyBaseOffset: number },
): Promise<PartitionRecovery> {
  await storage.mkdirp(dirPath);
  const names = new Set(await storage.readdir(dirPath));
  const recovery: PartitionRecovery = { segments: [], truncatedBytes: 0, truncatedBecause: null, rebuiltIndexBaseOffsets: [], removedFiles: [] };
  const baseOffsets = await tidyFolder(storage, dirPath, names, recovery.removedFiles);
  if (baseOffsets.length === 0) {
    recovery.segments.push(await createSegment(storage, dirPath, options.emptyBaseOffset));
    return recovery;
  }
  if (baseOffsets.length > SEGMENT_COUNT_MAX) throw new KafkaError('KAFKA_STORAGE_ERROR', `${dirPath} holds ${baseOffsets.length} segments; at most ${SEGMENT_COUNT_MAX} are opened`);
  try {
    for (let i = 0; i < baseOffsets.length - 1; i++) {
      recovery.segments.push(await openSealed(storage, dirPath, names, baseOffsets[i], baseOffsets[i + 1], options.indexIntervalBytes, recovery));
    }
    recovery.segments.push(await openActive(storage, dirPath, baseOffsets[baseOffsets.length - 1], options.indexIntervalBytes, recovery));
  } catch (error) {
    for (const segment of recovery.segments) await segment.retire();
    throw error;
  }
  return recovery;
}

/** Removes leftovers (temporary files, indexes without a log); returns the segments' base offsets in order. */
async function tidyFolder(storage: LogStorage, dirPath: string, names: Set<string>, removed: string[]): Promise<number[]> {
  const baseOffsets: number[] = [];
  for (const name of [...names].sort()) {
    const match = SEGMENT_FILE.exec(name);
    const orphanIndex = match !== null && match[2] !== 'log' && !names.has(`${match[1]}.log`);
    if (name.endsWith('.tmp') || orphanIndex) {
      await storage.unlink(path.join(dirPath, name));
      names.delete(name);
      removed.push(name);
    } else if (match !== null && match[2] === 'log') {
      const baseOffset = Number(match[1]);
      if (!Number.isSafeInteger(baseOffset)) throw new KafkaError('KAFKA_STORAGE_ERROR', `segment ${name} in ${dirPath} has a base offset beyond 2^53`);
      baseOffsets.push(baseOffset);
    }
  }
  return baseOffsets;
}

async function openSealed(
  storage: LogStorage,
  dirPath: string,
  names: ReadonlySet<string>,
  baseOffset: number,
  nextBaseOffset: number,
  indexIntervalBytes: number,
  recovery: PartitionRecovery,
): Promise<Segment> {
  const log = await storage.open(path.join(dirPath, segmentFileName(baseOffset, '.log')), false);
  const sizeBytes = await log.sizeBytes();
  const trusted = await trustedState(storage, dirPath, names, log, sizeBytes, baseOffset, nextBaseOffset);
  if (trusted !== null) {
    const segment = new Segment(dirPath, baseOffset, log, trusted);
    segment.sealed = true;
    return segment;
  }
  const segment = new Segment(dirPath, baseOffset, log, { ...emptySegmentState(), nextOffset: baseOffset });
  const scan = await scanBatches(log, sizeBytes, 0, baseOffset, (header) => segment.noteBatch(header, header.position, indexIntervalBytes));
  if (scan.problem !== null || scan.nextOffset !== nextBaseOffset || sizeBytes === 0) {
    await log.close();
    const why = scan.problem ?? `its batches end at offset ${scan.nextOffset}, the next segment starts at ${nextBaseOffset}`;
    throw new KafkaError('KAFKA_STORAGE_ERROR', `sealed segment ${log.path} is damaged: ${why}`);
  }
  await segment.seal(storage);
  recovery.rebuiltIndexBaseOffsets.push(baseOffset);
  return segment;
}

/**
 * The state of a sealed segment from its index files, or null when they are missing or not sane. The tail
 * after the last offset-index entry is scanned with CRCs: it must end at the end of the file, at the offset
 * where the next segment starts.
 */
async function trustedState(
  storage: LogStorage,
  dirPath: string,
  names: ReadonlySet<string>,
  log: LogFile,
  sizeBytes: number,
  baseOffset: number,
  nextBaseOffset: number,
): Promise<SegmentState | null> {
  if (sizeBytes === 0 || nextBaseOffset <= baseOffset) return null;
  const indexBytes = await readIndexFile(storage, path.join(dirPath, segmentFileName(baseOffset, '.index')), names);
  const timeIndexBytes = await readIndexFile(storage, path.join(dirPath, segmentFileName(baseOffset, '.timeindex')), names);
  if (indexBytes === null || timeIndexBytes === null) return null;
  const offsetIndex = OffsetIndex.decode(indexBytes, sizeBytes);
  const timeIndex = TimeIndex.decode(timeIndexBytes, nextBaseOffset - baseOffset);
  if (offsetIndex === null || timeIndex === null || timeIndex.entryCount === 0) return null;
  const tailStart = offsetIndex.lookup(nextBaseOffset - baseOffset);
  const tail = await scanBatches(log, sizeBytes, tailStart.position, baseOffset + tailStart.relativeOffset, () => {});
  if (tail.problem !== null || tail.nextOffset !== nextBaseOffset) return null;
  return {
    sizeBytes,
    nextOffset: nextBaseOffset,
    maxTimestamp: timeIndex.lastTimestamp,
    maxTimestampRelativeOffset: 0,
    firstBatchTimestamp: -1,
    offsetIndex,
    timeIndex,
    bytesSinceIndexEntry: 0,
  };
}

async function openActive(storage: LogStorage, dirPath: string, baseOffset: number, indexIntervalBytes: number, recovery: PartitionRecovery): Promise<Segment> {
  const log = await storage.open(path.join(dirPath, segmentFileName(baseOffset, '.log')), false);
  const sizeBytes = await log.sizeBytes();
  const segment = new Segment(dirPath, baseOffset, log, { ...emptySegmentState(), nextOffset: baseOffset });
  const scan = await scanBatches(log, sizeBytes, 0, baseOffset, (header) => segment.noteBatch(header, header.position, indexIntervalBytes));
  if (scan.problem !== null) {
    await segment.truncateTo(scan.endPosition);
    recovery.truncatedBytes = sizeBytes - scan.endPosition;
    recovery.truncatedBecause = scan.problem;
  }
  assert(segment.sizeBytes === scan.endPosition, 'the active segment holds exactly its valid batches');
  return segment;
}
