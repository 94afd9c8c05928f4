/**
 * The flush-interval sweep: the same commit load under each durability setting, so a user can trade
 * latency and throughput against how much an OS crash or power loss may take back (README, "Choosing
 * durability"). Each setting: 64 callers in flight (throughput) and one caller at a time (latency). In
 * interval mode, also the longest written bytes waited for their fdatasync while the 64 callers kept the
 * writer busy, as the writer measures it (the flush rule promises flushIntervalMs plus a batch and an
 * fdatasync).
 */
import { StatsBlock } from '../native-free/stats-block.js';
import { MetaLog } from '../src/api/metalog.js';
import type { MetaLogConfigInput } from '../src/config.js';
import { readWriterStats } from '../src/metrics/writer-stats.js';
import { drive } from './drive.js';
import { benchDir, check, latencyHistogram, percentilesMs, recordSince, type BenchRow } from './lib.js';

const SETTINGS: { label: string; config: Omit<MetaLogConfigInput, 'dir'> }[] = [
  { label: 'fsync', config: { durability: 'fsync' } },
  { label: 'interval 1 ms', config: { durability: 'interval', flushIntervalMs: 1 } },
  { label: 'interval 10 ms', config: { durability: 'interval', flushIntervalMs: 10 } },
  { label: 'interval 100 ms', config: { durability: 'interval', flushIntervalMs: 100 } },
  { label: 'none', config: { durability: 'none' } },
];

export async function benchDurabilitySweep(sizes: { inFlightCommits: number; sequentialCommits: number }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  let fsyncRate = 0;
  for (const setting of SETTINGS) {
    const { dir, cleanup } = benchDir('sweep');
    try {
      const log = await MetaLog.open({ dir, snapshotEveryEvents: 0, ...setting.config });
      await log.createTopic({ name: 'bench', partitions: 1 });
      const commit = (offset: number): Promise<void> => log.commitOffsets('sweep', [{ topic: 'bench', partition: 0, offset }]);
      await drive(1000, 64, commit);
      const seconds = await drive(sizes.inFlightCommits, 64, (i) => commit(10_000 + i), `sweep ${setting.label}, 64 in flight`);
      // Measured by the writer at each fdatasync: how long the oldest bytes it made durable had waited.
      const unsyncedMs = readWriterStats(StatsBlock.attach(log.handle.metrics.writerStats)).unsyncedSecondsMax * 1000;
      const histogram = latencyHistogram();
      for (let i = 0; i < sizes.sequentialCommits; i++) {
        const started = process.hrtime.bigint();
        await commit(1_000_000 + i);
        recordSince(histogram, started);
      }
      await log.sync();
      check(log.durableOffset === log.lastOffset, `${setting.label}: sync() makes everything durable`);
      await log.close();
      const rate = sizes.inFlightCommits / seconds;
      if (setting.label === 'fsync') fsyncRate = rate;
      const latency = percentilesMs(histogram);
      const workload = `durability ${setting.label}`;
      rows.push(
        { workload, metric: '64 in flight', value: rate, unit: 'commits/s', baseline: { name: 'fsync', value: fsyncRate }, higherIsBetter: true },
        { workload, metric: '1 at a time p50', value: latency.p50, unit: 'ms', higherIsBetter: false },
        { workload, metric: '1 at a time p99', value: latency.p99, unit: 'ms', higherIsBetter: false },
      );
      if (setting.config.durability === 'interval') {
        const flushIntervalMs = setting.config.flushIntervalMs ?? 100;
        // With 4,096 in flight the command ring never runs dry: the writer is never idle between batches.
        const busyMs = await unsyncedUnderLoad(setting.config, sizes.inFlightCommits);
        rows.push(
          { workload, metric: `longest un-synced write (flush every ${flushIntervalMs} ms), 64 in flight`, value: unsyncedMs, unit: 'ms', higherIsBetter: false },
          { workload, metric: `longest un-synced write (flush every ${flushIntervalMs} ms), 4,096 in flight`, value: busyMs, unit: 'ms', higherIsBetter: false },
        );
      }
    } finally {
      cleanup();
    }
  }
  return rows;
}

/** On a fresh store: the writer's longest un-synced write while 4,096 commits stay in flight. */
async function unsyncedUnderLoad(config: Omit<MetaLogConfigInput, 'dir'>, commits: number): Promise<number> {
  const { dir, cleanup } = benchDir('sweep-busy');
  try {
    const log = await MetaLog.open({ dir, snapshotEveryEvents: 0, ...config });
    await log.createTopic({ name: 'bench', partitions: 1 });
    await drive(commits, 4096, (i) => log.commitOffsets('busy', [{ topic: 'bench', partition: 0, offset: i }]), 'sweep, 4,096 in flight');
    const unsyncedMs = readWriterStats(StatsBlock.attach(log.handle.metrics.writerStats)).unsyncedSecondsMax * 1000;
    await log.close();
    return unsyncedMs;
  } finally {
    cleanup();
  }
}
