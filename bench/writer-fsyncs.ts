/**
 * The writer's own fdatasyncs over a stretch of a workload, read from the store's stats block: how many,
 * and the bucket bound under which 99% of them finished. Beside a request's latency, it says how much of
 * the tail is the disk's (an fdatasync of the store's own file at that moment) rather than the store's.
 */
import type { MetaLog } from '../src/api/metalog.js';
import { StatsBlock } from '../native-free/stats-block.js';
import { readWriterStats } from '../src/metrics/writer-stats.js';

/** The fdatasync histogram's bucket counts so far. */
export function fdatasyncCounts(log: MetaLog): readonly number[] {
  return readWriterStats(StatsBlock.attach(log.handle.metrics.writerStats)).fdatasyncSeconds.bucketCounts;
}

/** The number of fdatasyncs since `before`, and the bound (ms) of the bucket that holds their 99th percentile. */
export function fdatasyncP99Since(log: MetaLog, before: readonly number[]): { count: number; p99BoundMs: number } {
  const histogram = readWriterStats(StatsBlock.attach(log.handle.metrics.writerStats)).fdatasyncSeconds;
  const counts = histogram.bucketCounts.map((count, i) => count - (before[i] ?? 0));
  const total = counts.reduce((sum, count) => sum + count, 0);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= total * 0.99) return { count: total, p99BoundMs: (histogram.bounds[i] ?? Number.POSITIVE_INFINITY) * 1000 };
  }
  return { count: total, p99BoundMs: Number.NaN };
}

/** A note for a latency row: the writer's own fdatasyncs meanwhile. */
export function fdatasyncNote(fsyncs: { count: number; p99BoundMs: number }): string {
  return `the writer's own ${fsyncs.count} fdatasyncs meanwhile: p99 ≤ ${fsyncs.p99BoundMs} ms`;
}
