/**
 * Durable offset commits (the broker's hottest write): one partition, 64 and 256 calls in flight, and
 * one call at a time, in fsync mode. Baselines from the same run: a raw append + fdatasync group-commit loop with
 * the same group size and record size, and a raw single append + fdatasync.
 */
import { MetaLog } from '../src/api/metalog.js';
import { drive } from './drive.js';
import { benchDir, check, latencyHistogram, percentilesMs, recordSince, type BenchRow } from './lib.js';
import { rawGroupCommit, rawSingleLatency } from './raw-baseline.js';
import { cpuNote, cpuPerOp, readThreadCpu } from './thread-cpu.js';
import { fdatasyncCounts, fdatasyncNote, fdatasyncP99Since } from './writer-fsyncs.js';

/** Bytes of one commit record in the WAL (header + Avro payload of a one-entry commit), for the raw baseline. */
const COMMIT_RECORD_BYTES = 48;

export async function benchCommitOffsets(sizes: { inFlightCommits: number; sequentialCommits: number }): Promise<BenchRow[]> {
  const { dir, cleanup } = benchDir('commits');
  try {
    const log = await MetaLog.open({ dir, durability: 'fsync', snapshotEveryEvents: 0 });
    await log.createTopic({ name: 'bench', partitions: 1 });
    const commit = (offset: number): Promise<void> => log.commitOffsets('bench-group', [{ topic: 'bench', partition: 0, offset }]);
    await drive(2000, 64, commit);

    const firstOffset = log.lastOffset + 1;
    let cpuBefore = readThreadCpu();
    const seconds = await drive(sizes.inFlightCommits, 64, (i) => commit(10_000 + i), 'commitOffsets, 64 in flight');
    const inFlightCpu = cpuPerOp(cpuBefore, readThreadCpu(), sizes.inFlightCommits);
    check(log.lastOffset === firstOffset + sizes.inFlightCommits - 1, 'every commit is one event');
    check(log.durableOffset === log.lastOffset, 'fsync mode: everything acknowledged is durable');
    const inFlightRate = sizes.inFlightCommits / seconds;
    cpuBefore = readThreadCpu();
    const wideSeconds = await drive(sizes.inFlightCommits, 256, (i) => commit(500_000 + i), 'commitOffsets, 256 in flight');
    const wideCpu = cpuPerOp(cpuBefore, readThreadCpu(), sizes.inFlightCommits);
    const wideRate = sizes.inFlightCommits / wideSeconds;

    const histogram = latencyHistogram();
    const fsyncsBefore = fdatasyncCounts(log);
    for (let i = 0; i < sizes.sequentialCommits; i++) {
      const started = process.hrtime.bigint();
      await commit(1_000_000 + i);
      recordSince(histogram, started);
    }
    check(log.fetchOffset('bench-group', 'bench', 0)?.offset === 1_000_000 + sizes.sequentialCommits - 1, 'the last commit reads back');
    const sequentialFsyncs = fdatasyncP99Since(log, fsyncsBefore);
    await log.close();

    const rawRate = rawGroupCommit(64, COMMIT_RECORD_BYTES, Math.max(64_000, sizes.inFlightCommits));
    const rawWideRate = rawGroupCommit(256, COMMIT_RECORD_BYTES, Math.max(256_000, sizes.inFlightCommits));
    const single = percentilesMs(histogram);
    const rawSingle = rawSingleLatency(COMMIT_RECORD_BYTES, sizes.sequentialCommits);
    return [
      { workload: 'commitOffsets, 64 in flight (fsync)', metric: 'throughput', value: inFlightRate, unit: 'commits/s', baseline: { name: 'raw write+fdatasync per 64', value: rawRate }, higherIsBetter: true, note: cpuNote(inFlightCpu) },
      { workload: 'commitOffsets, 256 in flight (fsync)', metric: 'throughput', value: wideRate, unit: 'commits/s', baseline: { name: 'raw write+fdatasync per 256', value: rawWideRate }, higherIsBetter: true, note: cpuNote(wideCpu) },
      { workload: 'commitOffsets, 1 at a time (fsync)', metric: 'p50', value: single.p50, unit: 'ms', baseline: { name: 'raw write+fdatasync', value: rawSingle.p50 }, higherIsBetter: false },
      { workload: 'commitOffsets, 1 at a time (fsync)', metric: 'p99', value: single.p99, unit: 'ms', baseline: { name: 'raw write+fdatasync', value: rawSingle.p99 }, higherIsBetter: false, note: fdatasyncNote(sequentialFsyncs) },
      { workload: 'commitOffsets, 1 at a time (fsync)', metric: 'max', value: single.max, unit: 'ms', baseline: { name: 'raw write+fdatasync', value: rawSingle.max }, higherIsBetter: false },
    ];
  } finally {
    cleanup();
  }
}
