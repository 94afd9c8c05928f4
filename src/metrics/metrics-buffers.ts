/**
 * The shared memory a store's metrics live in: the writer stats block (writer-stats.ts) and the shared
 * counters (store-counters.ts). Allocated once by the opener with the rings and the index, passed to the
 * writer thread in its worker data and to attached handles in the store handle, so every thread records
 * into, and reads from, the same numbers.
 */
import { allocateStoreCounters } from './store-counters.js';
import { allocateWriterStats } from './writer-stats.js';

/** The store's metrics memory: plain SharedArrayBuffers, safe to post to another thread. */
export interface StoreMetricsBuffers {
  /** What the writer measures per batch (one writer thread; see writer-stats.ts). */
  readonly writerStats: SharedArrayBuffer;
  /** Counts any thread raises: rejected commands by code, command ring waits (see store-counters.ts). */
  readonly counters: SharedArrayBuffer;
}

/** Allocates a store's metrics memory, every number 0. */
export function allocateStoreMetricsBuffers(): StoreMetricsBuffers {
  return { writerStats: allocateWriterStats(), counters: allocateStoreCounters() };
}
