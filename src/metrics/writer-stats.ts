/**
 * The writer stats block: what the writer thread measures, in shared memory, so any thread of the
 * process reads it when metrics are scraped, with no message and no thread hop per batch.
 *
 * Owns: which scalars and histograms the block holds (with their bucket bounds), the writer's side that
 * fills them (`WriterStatsRecorder`, one update section per batch) and the readers' side that names
 * them (`readWriterStats`, `slowFdatasyncCount`). The memory layout is stats-block.ts's.
 *
 * Called by: the writer thread (writer-core.ts measures a batch, workers/writer.ts a wait in publish);
 * any handle's metrics (store-metrics.ts) and the opener's slow-fdatasync warning (slow-fsync-warning.ts).
 *
 * Invariants: only the writer thread records (the block's writer claim); a batch's numbers reach the
 * block before the batch is published, so a handle that sees a batch's acknowledgement also sees its
 * stats; durations are seconds, sizes are records and bytes.
 *
 * Must never: put anything on the writer's hot path beyond the per-batch section (two performance.now()
 * around the write and two around the fdatasync are the writer's own).
 */
import { StatsBlock, type HistogramSnapshot } from '../../native-free/stats-block.js';
import type { ErrorCode } from '../errors.js';
import { StoreCounters } from './store-counters.js';

/** Scalars of the block (counters unless said otherwise). */
const SCALAR = Object.freeze({
  /** Batches the writer acknowledged (appended, rejected only, or sync requests). */
  batches: 0,
  eventsAppended: 1,
  bytesAppended: 2,
  slowFdatasyncs: 3,
  /** A gauge: the duration of the latest slow fdatasync, for the warning's text. */
  lastSlowFdatasyncSeconds: 4,
  /** Publishes that found the event ring full and waited for a handle to consume. */
  eventRingFullWaits: 5,
  eventRingFullWaitSeconds: 6,
  /** Attached handles evicted for holding the event ring full (see workers/writer.ts). */
  handleEvictions: 7,
  /** A gauge: the longest written bytes have waited for their fdatasync since open (see unsyncedSeconds). */
  unsyncedSecondsMax: 8,
});
const SCALAR_COUNT = 9;

/** Histograms of the block. */
const HISTOGRAM = Object.freeze({ appendSeconds: 0, fdatasyncSeconds: 1, batchRecords: 2, batchBytes: 3, unsyncedSeconds: 4 });

/**
 * Bucket bounds. Latencies from 50 µs (a write to the page cache) to 10 s (a disk in trouble); sizes in
 * powers of four up to what one batch can hold (BATCH_COMMANDS_MAX records, BATCH_BYTES_MAX bytes).
 */
const LATENCY_BOUNDS_SECONDS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];
const BATCH_RECORDS_BOUNDS = [1, 4, 16, 64, 256, 1024, 4096, 16384];
const BATCH_BYTES_BOUNDS = [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

/** Allocates an empty writer stats block (by the opener, before the writer thread starts). */
export function allocateWriterStats(): SharedArrayBuffer {
  return StatsBlock.create({
    scalarCount: SCALAR_COUNT,
    histogramBounds: [LATENCY_BOUNDS_SECONDS, LATENCY_BOUNDS_SECONDS, BATCH_RECORDS_BOUNDS, BATCH_BYTES_BOUNDS, LATENCY_BOUNDS_SECONDS],
  }).buffer;
}

/**
 * What one batch did, filled in by the writer as it goes and recorded when the batch finishes. One
 * object per writer, reset after each batch (no allocation per batch).
 */
export interface BatchMeasures {
  /** Results in the batch: commands (accepted or rejected) and sync requests. */
  commands: number;
  /** Records written by the batch's append, 0 when it appended nothing or the write failed. */
  appendedRecords: number;
  appendedBytes: number;
  /** Duration of the append (a segment rotation included), when it succeeded. */
  appendSeconds: number;
  /** Duration of the batch's fdatasync, or -1 when it made none (or it failed). */
  fdatasyncSeconds: number;
  /**
   * With that fdatasync: how long the oldest bytes it made durable had been written (from the end of the
   * first append after the previous fdatasync to the end of this one); -1 without one. The flush rule
   * of mode 'interval' bounds it by about flushIntervalMs plus a batch and an fdatasync.
   */
  unsyncedSeconds: number;
}

/** A fresh, empty `BatchMeasures`. */
export function emptyBatchMeasures(): BatchMeasures {
  return { commands: 0, appendedRecords: 0, appendedBytes: 0, appendSeconds: 0, fdatasyncSeconds: -1, unsyncedSeconds: -1 };
}

/** The writer thread's side: records batches, fdatasyncs and waits into the block. */
export class WriterStatsRecorder {
  private readonly block: StatsBlock;
  private readonly counters: StoreCounters;
  private readonly slowFdatasyncSeconds: number;
  private unsyncedSecondsMax = 0;

  /**
   * @param statsBuffer the block from `allocateWriterStats`; this recorder claims its writer role.
   * @param countersBuffer the store's shared counters (store-counters.ts), for rejected commands.
   * @param slowFsyncWarnMs an fdatasync longer than this is counted as slow.
   */
  constructor(statsBuffer: SharedArrayBuffer, countersBuffer: SharedArrayBuffer, slowFsyncWarnMs: number) {
    this.block = StatsBlock.claimWriter(statsBuffer);
    this.counters = new StoreCounters(countersBuffer);
    this.slowFdatasyncSeconds = slowFsyncWarnMs / 1000;
  }

  /** Records a finished batch in one update section (none when it did nothing), then resets `measures`. */
  recordBatch(measures: BatchMeasures): void {
    if (measures.commands === 0 && measures.fdatasyncSeconds < 0) return;
    const block = this.block;
    block.beginUpdate();
    if (measures.commands > 0) block.add(SCALAR.batches, 1);
    if (measures.appendedRecords > 0) {
      block.add(SCALAR.eventsAppended, measures.appendedRecords);
      block.add(SCALAR.bytesAppended, measures.appendedBytes);
      block.observe(HISTOGRAM.appendSeconds, measures.appendSeconds);
      block.observe(HISTOGRAM.batchRecords, measures.appendedRecords);
      block.observe(HISTOGRAM.batchBytes, measures.appendedBytes);
    }
    if (measures.fdatasyncSeconds >= 0) this.observeFdatasync(measures.fdatasyncSeconds);
    if (measures.unsyncedSeconds >= 0) this.observeUnsynced(measures.unsyncedSeconds);
    block.endUpdate();
    measures.commands = 0;
    measures.appendedRecords = 0;
    measures.appendedBytes = 0;
    measures.appendSeconds = 0;
    measures.fdatasyncSeconds = -1;
    measures.unsyncedSeconds = -1;
  }

  /** Records an fdatasync outside a batch (the one at close). */
  recordFdatasync(seconds: number): void {
    this.block.beginUpdate();
    this.observeFdatasync(seconds);
    this.block.endUpdate();
  }

  /** Records one publish that waited for room on the event ring, and the handles evicted meanwhile. */
  recordEventRingWait(seconds: number, evictions: number): void {
    const block = this.block;
    block.beginUpdate();
    block.add(SCALAR.eventRingFullWaits, 1);
    block.add(SCALAR.eventRingFullWaitSeconds, seconds);
    block.add(SCALAR.handleEvictions, evictions);
    block.endUpdate();
  }

  /** Counts a command the writer rejected (rare, so an atomic add per rejection). */
  countCommandError(code: ErrorCode): void {
    this.counters.countCommandError(code);
  }

  private observeUnsynced(seconds: number): void {
    this.block.observe(HISTOGRAM.unsyncedSeconds, seconds);
    if (seconds <= this.unsyncedSecondsMax) return;
    // Kept here too: the block's own value is not read back inside an update section.
    this.unsyncedSecondsMax = seconds;
    this.block.set(SCALAR.unsyncedSecondsMax, seconds);
  }

  private observeFdatasync(seconds: number): void {
    this.block.observe(HISTOGRAM.fdatasyncSeconds, seconds);
    if (seconds > this.slowFdatasyncSeconds) {
      this.block.add(SCALAR.slowFdatasyncs, 1);
      this.block.set(SCALAR.lastSlowFdatasyncSeconds, seconds);
    }
  }
}

/** What the writer has measured since open, by name. */
export interface WriterStats {
  batches: number;
  eventsAppended: number;
  bytesAppended: number;
  slowFdatasyncs: number;
  eventRingFullWaits: number;
  eventRingFullWaitSeconds: number;
  handleEvictions: number;
  unsyncedSecondsMax: number;
  appendSeconds: HistogramSnapshot;
  fdatasyncSeconds: HistogramSnapshot;
  batchRecords: HistogramSnapshot;
  batchBytes: HistogramSnapshot;
  unsyncedSeconds: HistogramSnapshot;
}

/** Reads the whole block (one published state) on any thread. */
export function readWriterStats(block: StatsBlock): WriterStats {
  const { scalars, histograms } = block.read();
  return {
    batches: scalars[SCALAR.batches],
    eventsAppended: scalars[SCALAR.eventsAppended],
    bytesAppended: scalars[SCALAR.bytesAppended],
    slowFdatasyncs: scalars[SCALAR.slowFdatasyncs],
    eventRingFullWaits: scalars[SCALAR.eventRingFullWaits],
    eventRingFullWaitSeconds: scalars[SCALAR.eventRingFullWaitSeconds],
    handleEvictions: scalars[SCALAR.handleEvictions],
    unsyncedSecondsMax: scalars[SCALAR.unsyncedSecondsMax],
    appendSeconds: histograms[HISTOGRAM.appendSeconds],
    fdatasyncSeconds: histograms[HISTOGRAM.fdatasyncSeconds],
    batchRecords: histograms[HISTOGRAM.batchRecords],
    batchBytes: histograms[HISTOGRAM.batchBytes],
    unsyncedSeconds: histograms[HISTOGRAM.unsyncedSeconds],
  };
}

/** Bytes the writer appended to the WAL since open: one scalar (what snapshots by bytes count). */
export function bytesAppendedCount(block: StatsBlock): number {
  return block.readScalar(SCALAR.bytesAppended);
}

/** Slow fdatasyncs so far: one scalar, cheap enough to check at every batch. */
export function slowFdatasyncCount(block: StatsBlock): number {
  return block.readScalar(SCALAR.slowFdatasyncs);
}

/** Duration of the latest slow fdatasync (0 before any). */
export function lastSlowFdatasyncSeconds(block: StatsBlock): number {
  return block.readScalar(SCALAR.lastSlowFdatasyncSeconds);
}
