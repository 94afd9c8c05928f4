/**
 * What the opening thread passes to the writer thread (workers/writer.ts) when it starts it: shared
 * memory it allocated, the configuration, and test-only switches. Plain data and SharedArrayBuffers, so
 * it survives the structured clone of workerData.
 */
import type { MetaLogConfig } from '../config.js';
import type { StoreMetricsBuffers } from '../metrics/metrics-buffers.js';
import type { StoreIndexBuffers } from '../store-index/store-index.js';

/** What the opening thread passes to the writer. */
export interface WriterWorkerData {
  config: MetaLogConfig;
  commandRing: SharedArrayBuffer;
  eventRing: SharedArrayBuffer;
  /** The shared index, allocated empty by the opener; this thread is its only writer. */
  index: StoreIndexBuffers;
  /** The store's metrics memory, allocated by the opener; this thread is the writer stats block's only writer. */
  metrics: StoreMetricsBuffers;
  /** Fault switches for tests (see FaultyStorage); absent in production. */
  faults?: SharedArrayBuffer;
  /** The opener's cursor slot on the event ring: never evicted. */
  openerCursorSlot: number;
  /** Overrides HANDLE_STALL_MS (tests). */
  handleStallMs?: number;
  /** The test's shared clock (see ManualClock); absent in production, where the wall clock is read. */
  clock?: SharedArrayBuffer;
  /** How long to look at an empty command ring before sleeping, µs (the bench's; absent: sleep at once). */
  writerSpinMicros?: number;
  /** True: the pipeline (fdatasync on the thread pool while the next batch fills); the bench's switch, off by default. */
  writerPipeline?: boolean;
}
