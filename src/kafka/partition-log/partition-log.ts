/**
 * The log of one partition: its segments in a folder of their own, its offsets, its idempotent producers.
 * Owns offset assignment (dense, from the log end offset), the write of each append to the active
 * segment, rolling, reads by offset and by timestamp, and moving the log start offset (DeleteRecords,
 * retention). It never decides durability policy (log-flusher.ts does) and never touches the store's
 * WAL: the broker tells the store about high watermarks and segments from what these calls return.
 *
 * Invariants:
 * - logStartOffset <= logEndOffset and durableEndOffset <= logEndOffset; offsets
 *   [segments[0].baseOffset, logEndOffset) are all present, back to back, and only the last segment is
 *   written to; segments[0].baseOffset <= logStartOffset.
 * - Appends, rolls and removals run one at a time (a per-partition queue), so an append sees the log end
 *   offset that its write extends; reads run alongside them and see only batches whose write completed.
 * - A failed write leaves no trace: its bytes are cut off, the log end offset and producer state are as
 *   before, and the next append works. A write whose bytes cannot be cut off, or a failed fdatasync, shuts
 *   the partition (every call then answers KAFKA_STORAGE_ERROR): the state of its file is unknown.
 */
import path from 'node:path';
import { KafkaError } from '../error-codes.js';
import { assert } from './assert.js';
import type { LogStorage } from './log-storage.js';
import { PRODUCER_STATE_SCAN_SEGMENT_COUNT, SEGMENT_COUNT_MAX } from './limits.js';
import { recoverPartitionDir, type PartitionRecovery } from './partition-dir.js';
import { resolvePartitionLogConfig, type PartitionLogConfig } from './partition-log-config.js';
import { ProducerStateTable, type ProducerEntry } from './producer-state.js';
import { batchSizeAt, BatchField, isControl, lastOffsetOf, rewriteBatchOffsets, walkBatches, type RecordBatchHeader } from './record-batch.js';
import { createSegment, Segment, SegmentCutFailed, segmentFileName, type SegmentInfo } from './segment.js';

/** What an append answers, as a Produce response's partition entry needs it. */
export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  /** Always -1: timestamps are the producer's (CreateTime); the log never rewrites them. */
  logAppendTimeMs: -1;
  logStartOffset: number;
  /** True when the batch was a retry of one already in the log, answered with its original offsets. */
  duplicate: boolean;
  /** Segments this append sealed (for the store's addSegment); usually none. */
  rolledSegments: SegmentInfo[];
}

/** What a read answers. */
export interface ReadResult {
  /** Whole batches, back to back, as stored. Empty when nothing is below the upper bound. */
  records: Buffer;
  /** Offset after the last batch returned (the fetch offset when none is). */
  nextOffset: number;
}

/** What DeleteRecords or retention did. */
export interface LogStartResult {
  /** The log start offset now (moved before any file was removed). */
  logStartOffset: number;
  /** True when the log start offset moved. */
  logStartOffsetMoved: boolean;
  /** Segments whose files were removed (for the store's removeSegment). */
  removedSegments: SegmentInfo[];
}

/** Where ListOffsets by timestamp points. */
export interface TimestampOffset {
  offset: number;
  /** maxTimestamp of the batch found. */
  timestamp: number;
}

/** How to open a partition's log. */
export interface PartitionLogOptions {
  storage: LogStorage;
  /** The partition's folder, `<root>/<topicId>/<partition>`. */
  dirPath: string;
  config?: Partial<PartitionLogConfig>;
  /** The log start offset the store recorded (0 when it has none); the log never starts below it. */
  logStartOffset?: number;
}

/** Appends, rolls and removals that may wait for one partition at once (a few per connection is plenty). */
const QUEUED_TASK_COUNT_MAX = 10_000;

/** Segments searched by one read at most: a read spans a few segments only when they are tiny. */
const READ_SEGMENT_COUNT_MAX = 64;

/** One partition's log; see the module header. */
export class PartitionLog {
  readonly config: Readonly<PartitionLogConfig>;
  private logStart: number;
  private durableEnd: number;
  private failure: KafkaError | null = null;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();
  private queuedTaskCount = 0;
  /** Segments sealed since the last successful append (at most one in practice: a roll needs a write). */
  private readonly unreportedRolls: SegmentInfo[] = [];

  private constructor(
    private readonly storage: LogStorage,
    readonly dirPath: string,
    config: Readonly<PartitionLogConfig>,
    private readonly segments: Segment[],
    private readonly producers: ProducerStateTable,
    logStartOffset: number,
    /** What recovery did on open. */
    readonly recovery: Omit<PartitionRecovery, 'segments'>,
  ) {
    this.config = config;
    this.logStart = logStartOffset;
    this.durableEnd = this.logEndOffset;
  }

  /** Opens (recovering) or creates the log in `options.dirPath`. */
  static async open(options: PartitionLogOptions): Promise<PartitionLog> {
    const config = resolvePartitionLogConfig(options.config);
    const storeStart = options.logStartOffset ?? 0;
    assert(Number.isSafeInteger(storeStart) && storeStart >= 0, 'a log start offset is a non-negative integer');
    const { segments, ...recovery } = await recoverPartitionDir(options.storage, options.dirPath, {
      indexIntervalBytes: config.indexIntervalBytes,
      emptyBaseOffset: storeStart,
    });
    const active = segments[segments.length - 1];
    // Recovery read the active segment's bytes; they may still be only in the page cache after a crash of
    // the process alone. Syncing them now makes everything the log serves durable from the start.
    await active.log.datasync();
    const producers = new ProducerStateTable();
    for (const segment of segments.slice(-PRODUCER_STATE_SCAN_SEGMENT_COUNT)) {
      await segment.walkHeaders(0, (header) => {
        producers.replay(header);
        return false;
      });
    }
    const logEnd = active.nextOffset;
    const logStart = Math.min(Math.max(segments[0].baseOffset, storeStart), logEnd);
    return new PartitionLog(options.storage, options.dirPath, config, segments, producers, logStart, recovery);
  }

  /** Offset the next appended record gets. */
  get logEndOffset(): number {
    return this.segments[this.segments.length - 1].nextOffset;
  }
  /** First offset a read may ask for. */
  get logStartOffset(): number {
    return this.logStart;
  }
  /** Every offset below this is on disk (fdatasynced); the broker reports no high watermark above it. */
  get durableEndOffset(): number {
    return this.durableEnd;
  }
  /** True when bytes were written that no flush has made durable yet. */
  get hasUnflushedBytes(): boolean {
    return this.durableEnd < this.logEndOffset;
  }
  /** The error that shut the partition, or null while it works. */
  get failed(): KafkaError | null {
    return this.failure;
  }
  /** The producer state of `producerId` (for tests and the broker's InitProducerId checks). */
  producerEntry(producerId: number): ProducerEntry | undefined {
    return this.producers.get(producerId);
  }
  /** The segments as the store records them, oldest first. */
  segmentInfos(): SegmentInfo[] {
    return this.segments.map((segment) => segment.info());
  }

  /**
   * Runs `task` after every earlier append, roll or removal of this partition has finished. At most
   * {@link QUEUED_TASK_COUNT_MAX} wait; more are refused with REQUEST_TIMED_OUT, which clients retry.
   */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    if (this.queuedTaskCount >= QUEUED_TASK_COUNT_MAX) {
      return Promise.reject(new KafkaError('REQUEST_TIMED_OUT', `${QUEUED_TASK_COUNT_MAX} appends already wait for ${this.dirPath}`));
    }
    this.queuedTaskCount++;
    const run = this.queue.then(() => {
      this.ensureUsable();
      return task();
    });
    this.queue = run.catch(() => undefined).finally(() => {
      this.queuedTaskCount--;
    });
    return run;
  }

  private ensureUsable(): void {
    if (this.closed) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `the log in ${this.dirPath} is closed`);
    if (this.failure !== null) throw new KafkaError('KAFKA_STORAGE_ERROR', `the log in ${this.dirPath} is shut after a storage failure`, { cause: this.failure });
  }

  /**
   * Appends one Produce's records for this partition: checks every batch, answers a retried batch with its
   * original offsets, assigns offsets from the log end offset (rewriting baseOffset and
   * partitionLeaderEpoch in `records`, in place), and writes the bytes to the active segment. Resolves once
   * the write is done; durability is the flusher's (see {@link flush}).
   */
  append(records: Buffer, leaderEpoch: number, nowMs: number): Promise<AppendResult> {
    return this.exclusive(async () => {
      const headers = walkBatches(records, this.config.maxMessageBytes);
      if (records.length > this.config.segmentBytes) {
        throw new KafkaError('RECORD_LIST_TOO_LARGE', `${records.length} bytes of records exceed segment.bytes ${this.config.segmentBytes}`);
      }
      const assigned = this.assignOffsets(records, headers, leaderEpoch);
      if (!Array.isArray(assigned)) return assigned;
      const [pending, nextOffset] = assigned;
      const maxTimestamp = headers.reduce((max, header) => Math.max(max, header.maxTimestamp), -1);
      await this.maybeRoll(records.length, nextOffset - this.logEndOffset, maxTimestamp, nowMs);
      const active = this.segments[this.segments.length - 1];
      const startPosition = active.sizeBytes;
      active.firstAppendMs ??= nowMs;
      try {
        await active.appendBytes(records);
      } catch (error) {
        if (error instanceof SegmentCutFailed) this.failure = error;
        throw error;
      }
      for (const header of headers) active.noteBatch(header, startPosition + header.position, this.config.indexIntervalBytes);
      for (const [producerId, entry] of pending) this.producers.set(producerId, entry);
      assert(this.logEndOffset === nextOffset, 'the log end offset moved past exactly the appended offsets');
      // A roll whose append then failed is reported with the next append that succeeds.
      const rolledSegments = this.unreportedRolls.splice(0);
      return {
        baseOffset: headers[0].baseOffset,
        lastOffset: nextOffset - 1,
        logAppendTimeMs: -1,
        logStartOffset: this.logStart,
        duplicate: false,
        rolledSegments,
      };
    });
  }

  /**
   * Checks producers and assigns offsets to `headers` (and in `records`). Returns the producer entries to
   * store once the write succeeds and the offset after the last batch, or the answer to a duplicate.
   */
  private assignOffsets(records: Buffer, headers: RecordBatchHeader[], leaderEpoch: number): [Map<number, ProducerEntry>, number] | AppendResult {
    const pending = new Map<number, ProducerEntry>();
    let offset = this.logEndOffset;
    for (const header of headers) {
      if (isControl(header)) throw new KafkaError('INVALID_RECORD', 'clients may not write control batches');
      if (header.producerId >= 0) {
        const check = this.producers.check(header, pending);
        if (check.kind === 'duplicate') {
          const { baseOffset, lastOffset } = check.batch;
          return { baseOffset, lastOffset, logAppendTimeMs: -1, logStartOffset: this.logStart, duplicate: true, rolledSegments: [] };
        }
      }
      rewriteBatchOffsets(records, header.position, offset, leaderEpoch);
      header.baseOffset = offset;
      header.partitionLeaderEpoch = leaderEpoch;
      if (header.producerId >= 0) {
        pending.set(header.producerId, ProducerStateTable.advance(pending.get(header.producerId) ?? this.producers.get(header.producerId), header));
      }
      offset = lastOffsetOf(header) + 1;
    }
    return [pending, offset];
  }

  /**
   * Rolls to a new segment when the active one is not empty and would pass `segment.bytes`, cannot hold the
   * offsets in its index, or has waited `segment.ms`. As in Kafka, the wait is measured between timestamps
   * of the records (the incoming batches' largest against the segment's first batch's), and by `nowMs`
   * against the segment's first append when the first batch carries no timestamp (-1).
   * The old segment is sealed (synced, indexes written) before the new one exists; see segment.ts.
   */
  private async maybeRoll(appendBytes: number, offsetCount: number, maxTimestamp: number, nowMs: number): Promise<void> {
    const active = this.segments[this.segments.length - 1];
    if (active.isEmpty) return;
    active.firstAppendMs ??= nowMs;
    const full = active.sizeBytes + appendBytes > this.config.segmentBytes;
    const waitedMs = active.firstBatchTimestamp >= 0 ? maxTimestamp - active.firstBatchTimestamp : nowMs - active.firstAppendMs;
    const old = waitedMs >= this.config.segmentMs;
    if (!full && !old && active.spanFits(offsetCount)) return;
    if (this.segments.length >= SEGMENT_COUNT_MAX) {
      throw new KafkaError('KAFKA_STORAGE_ERROR', `${this.dirPath} holds ${SEGMENT_COUNT_MAX} segments; retention must remove some first`);
    }
    try {
      await active.seal(this.storage);
    } catch (error) {
      throw new KafkaError('KAFKA_STORAGE_ERROR', `sealing ${active.logPath} failed`, { cause: error });
    }
    let next: Segment;
    try {
      next = await createSegment(this.storage, this.dirPath, active.nextOffset);
    } catch (error) {
      active.sealed = false; // its index files are written again at the next seal
      throw new KafkaError('KAFKA_STORAGE_ERROR', `creating the segment at offset ${active.nextOffset} failed`, { cause: error });
    }
    this.segments.push(next);
    this.unreportedRolls.push(active.info());
  }

  /**
   * Makes every written byte durable (`sync: true`: fdatasync of each segment with unsynced bytes) and moves
   * `durableEndOffset` to the log end offset the flush started at. With `sync: false` (flush mode 'none')
   * it only moves `durableEndOffset`: nothing is promised then. A failed fdatasync shuts the partition.
   */
  async flush(options: { sync: boolean }): Promise<number> {
    if (this.closed) return this.durableEnd;
    this.ensureUsable();
    const target = this.logEndOffset;
    if (options.sync) {
      // Pinned, so a close or a removal that runs meanwhile leaves the file open until its sync returns.
      const dirty = this.segments.filter((segment) => segment.dirty && !segment.isRetired);
      for (const segment of dirty) segment.pin();
      try {
        await Promise.all(dirty.map((segment) => segment.sync()));
      } catch (error) {
        this.failure = new KafkaError('KAFKA_STORAGE_ERROR', `fdatasync in ${this.dirPath} failed`, { cause: error });
        throw this.failure;
      } finally {
        for (const segment of dirty) await segment.unpin();
      }
    }
    this.durableEnd = Math.max(this.durableEnd, target);
    return this.durableEnd;
  }

  /** Index in `segments` of the segment holding `offset` (the last segment for the log end offset). */
  private segmentIndexOf(offset: number): number {
    let low = 0;
    let high = this.segments.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      if (this.segments[middle].baseOffset <= offset) low = middle;
      else high = middle - 1;
    }
    return low;
  }

  /**
   * Reads whole batches from the one holding `fetchOffset`, up to `maxBytes` (but always one whole batch
   * when any is there, as Fetch v3+ does) and only batches whose last offset is below `upperBoundOffset`
   * (the high watermark). OFFSET_OUT_OF_RANGE when `fetchOffset` is below the log start or past the log end.
   */
  async read(fetchOffset: number, maxBytes: number, upperBoundOffset: number): Promise<ReadResult> {
    this.ensureUsable();
    if (fetchOffset < this.logStart || fetchOffset > this.logEndOffset) {
      throw new KafkaError('OFFSET_OUT_OF_RANGE', `offset ${fetchOffset} is outside [${this.logStart}, ${this.logEndOffset}]`);
    }
    const bound = Math.min(upperBoundOffset, this.logEndOffset);
    const pieces: Buffer[] = [];
    let totalBytes = 0;
    let offset = fetchOffset;
    for (let round = 0; round < READ_SEGMENT_COUNT_MAX && offset < bound; round++) {
      if (round > 0) this.ensureUsable(); // closed or shut while the last piece was read
      const segment = this.segments[this.segmentIndexOf(offset)];
      if (offset >= segment.nextOffset) break;
      segment.pin();
      try {
        const piece = await readFromSegment(segment, offset, maxBytes - totalBytes, totalBytes === 0, bound);
        if (piece.records.length === 0) break;
        pieces.push(piece.records);
        totalBytes += piece.records.length;
        offset = piece.nextOffset;
        if (!piece.reachedSegmentEnd) break;
      } finally {
        await segment.unpin();
      }
    }
    return { records: pieces.length === 1 ? pieces[0] : Buffer.concat(pieces), nextOffset: offset };
  }

  /**
   * ListOffsets by timestamp: the first offset whose batch has maxTimestamp >= `timestamp` (never below the
   * log start offset), or null when no batch has one (Kafka answers offset -1 then). Only timestamps >= 0:
   * the special values -1 (latest: the high watermark, which the broker owns) and -2 (earliest: read
   * {@link logStartOffset}) are the caller's.
   */
  async offsetForTimestamp(timestamp: number): Promise<TimestampOffset | null> {
    this.ensureUsable();
    assert(Number.isSafeInteger(timestamp) && timestamp >= 0, 'the caller answers -1 (latest) and -2 (earliest) itself');
    // Bounded by the segment count; a segment found by position is looked up again after every await.
    for (let index = this.segmentIndexOf(this.logStart); index < this.segments.length; index++) {
      this.ensureUsable();
      const segment = this.segments[index];
      if (segment.maxTimestamp < timestamp) continue;
      segment.pin();
      try {
        const found = await segment.findBatchByTimestamp(timestamp, this.logStart);
        if (found !== null) {
          return { offset: Math.max(found.baseOffset, this.logStart), timestamp: found.maxTimestamp };
        }
      } finally {
        await segment.unpin();
      }
    }
    return null;
  }

  /**
   * DeleteRecords: moves the log start offset up to `offset` (at most the log end offset; checking it
   * against the high watermark is the broker's), then removes the sealed segments wholly below it.
   */
  deleteRecordsBefore(offset: number): Promise<LogStartResult> {
    return this.exclusive(async () => {
      if (!Number.isSafeInteger(offset) || offset < 0 || offset > this.logEndOffset) {
        throw new KafkaError('OFFSET_OUT_OF_RANGE', `cannot delete records before ${offset}; the log ends at ${this.logEndOffset}`);
      }
      return this.moveLogStart(offset);
    });
  }

  /**
   * Retention: removes sealed segments from the oldest while they are older than `retentionMs` (their
   * largest timestamp before `nowMs - retentionMs`) or while the log would still hold at least
   * `retentionBytes` without them. -1 turns either rule off. The active segment is never removed; a segment
   * without record timestamps is removed by size only.
   */
  retention(nowMs: number, retentionMs: number, retentionBytes: number): Promise<LogStartResult> {
    return this.exclusive(async () => {
      let remainingBytes = this.segments.reduce((sum, segment) => sum + segment.sizeBytes, 0);
      let removable = 0;
      for (; removable < this.segments.length - 1; removable++) {
        const segment = this.segments[removable];
        // A segment whose records carry no timestamps (-1) never expires by time, only by size.
        const expired = retentionMs >= 0 && segment.maxTimestamp >= 0 && nowMs - segment.maxTimestamp > retentionMs;
        const oversize = retentionBytes >= 0 && remainingBytes - segment.sizeBytes >= retentionBytes;
        if (!expired && !oversize) break;
        remainingBytes -= segment.sizeBytes;
      }
      if (removable === 0) return { logStartOffset: this.logStart, logStartOffsetMoved: false, removedSegments: [] };
      return this.moveLogStart(this.segments[removable].baseOffset);
    });
  }

  /** Moves the log start offset (first, so no read is served below it), then removes whole segments below it. */
  private async moveLogStart(offset: number): Promise<LogStartResult> {
    const moved = offset > this.logStart;
    if (moved) this.logStart = offset;
    const removedSegments: SegmentInfo[] = [];
    // Bounded by the segment count; the active (last) segment always stays.
    while (this.segments.length > 1 && this.segments[0].nextOffset <= this.logStart) {
      const segment = this.segments.shift() as Segment;
      removedSegments.push(segment.info());
      await segment.retire();
      try {
        for (const suffix of ['.log', '.index', '.timeindex']) await this.storage.unlink(path.join(this.dirPath, segmentFileName(segment.baseOffset, suffix)));
      } catch (error) {
        throw new KafkaError('KAFKA_STORAGE_ERROR', `removing segment ${segment.logPath} failed`, { cause: error });
      }
    }
    if (removedSegments.length > 0) await this.storage.syncDir(this.dirPath);
    return { logStartOffset: this.logStart, logStartOffsetMoved: moved, removedSegments };
  }

  /** Makes the log durable and closes its files; later calls answer UNKNOWN_TOPIC_OR_PARTITION. */
  close(): Promise<void> {
    const run = this.queue.then(async () => {
      if (this.closed) return;
      try {
        if (this.failure === null) await this.flush({ sync: true });
      } finally {
        this.closed = true;
        for (const segment of this.segments) await segment.retire();
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/**
 * Reads whole batches of one segment from the batch holding `offset`: at most `budgetBytes`, or one whole
 * batch when `atLeastOne` and the first batch is larger; only batches ending below `boundOffset`.
 */
async function readFromSegment(
  segment: Segment,
  offset: number,
  budgetBytes: number,
  atLeastOne: boolean,
  boundOffset: number,
): Promise<{ records: Buffer; nextOffset: number; reachedSegmentEnd: boolean }> {
  const first = await segment.findBatch(offset);
  const endPosition = segment.sizeBytes;
  const wantBytes = Math.min(endPosition - first.position, Math.max(budgetBytes, atLeastOne ? first.sizeBytes : 0));
  const bytes = wantBytes > 0 ? await segment.readAt(first.position, wantBytes) : Buffer.alloc(0);
  let usedBytes = 0;
  let nextOffset = offset;
  // Bounded by the bytes read: each round takes one whole batch of at least 61 bytes.
  while (usedBytes < bytes.length) {
    const sizeBytes = batchSizeAt(bytes, usedBytes);
    if (sizeBytes === null || usedBytes + sizeBytes > bytes.length) break;
    const lastOffset = Number(bytes.readBigInt64BE(usedBytes + BatchField.baseOffset)) + bytes.readInt32BE(usedBytes + BatchField.lastOffsetDelta);
    if (lastOffset >= boundOffset) break;
    usedBytes += sizeBytes;
    nextOffset = lastOffset + 1;
  }
  const reachedSegmentEnd = first.position + usedBytes === endPosition;
  return { records: bytes.subarray(0, usedBytes), nextOffset, reachedSegmentEnd };
}
