/**
 * What the writer's pipeline would bring, the price of a thread hand-off, and whether a bounded spin of
 * the writer before it sleeps pays on this machine: the same durable offset commits (fsync) with the
 * writer as it ships (every fdatasync on its own thread, sleeping at once when the command ring is
 * empty), with its pipeline on, and looking at the ring for a while before sleeping. Measured: throughput with 64 in flight, latency one
 * at a time, and the CPU each thread spent per commit (a spin buys latency with CPU; on two cores the CPU
 * it burns is the caller's).
 */
import { MetaLog } from '../src/api/metalog.js';
import { drive } from './drive.js';
import { benchDir, check, latencyHistogram, percentilesMs, recordSince, type BenchRow } from './lib.js';
import { cpuNote, cpuPerOp, readThreadCpu } from './thread-cpu.js';

/** One way to run the writer: its pipeline on or off, and how long it looks before sleeping. */
interface WriterMode {
  pipeline: boolean;
  spinMicros: number;
}

export async function benchHandoff(sizes: { inFlightCommits: number; sequentialCommits: number; spins: number[] }): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // The first mode warms this thread's code up and is not reported: the order would favour the later ones.
  const modes: (WriterMode & { report: boolean })[] = [
    { pipeline: false, spinMicros: 0, report: false },
    { pipeline: false, spinMicros: 0, report: true },
    { pipeline: true, spinMicros: 0, report: true },
    ...sizes.spins.map((spinMicros) => ({ pipeline: false, spinMicros, report: true })),
  ];
  for (const { pipeline, spinMicros, report } of modes) {
    const { dir, cleanup } = benchDir('handoff');
    try {
      const log = await MetaLog.open({ dir, durability: 'fsync', snapshotEveryEvents: 0 }, { writerSpinMicros: spinMicros, writerPipeline: pipeline });
      await log.createTopic({ name: 'bench', partitions: 1 });
      const commit = (offset: number): Promise<void> => log.commitOffsets('bench-group', [{ topic: 'bench', partition: 0, offset }]);
      await drive(2000, 64, commit);
      const label = pipeline
        ? 'pipeline: fdatasync on the thread pool while the next batch fills'
        : spinMicros === 0
          ? 'default: fdatasync on the writer thread, which sleeps at once'
          : `writer looks ${spinMicros} µs at the ring before sleeping`;
      let cpuBefore = readThreadCpu();
      const seconds = await drive(sizes.inFlightCommits, 64, (i) => commit(10_000 + i), `commitOffsets, 64 in flight, ${label}`);
      const inFlightCpu = cpuPerOp(cpuBefore, readThreadCpu(), sizes.inFlightCommits);
      const histogram = latencyHistogram();
      cpuBefore = readThreadCpu();
      for (let i = 0; i < sizes.sequentialCommits; i++) {
        const started = process.hrtime.bigint();
        await commit(1_000_000 + i);
        recordSince(histogram, started);
      }
      const sequentialCpu = cpuPerOp(cpuBefore, readThreadCpu(), sizes.sequentialCommits);
      check(log.fetchOffset('bench-group', 'bench', 0)?.offset === 1_000_000 + sizes.sequentialCommits - 1, 'the last commit reads back');
      await log.close();
      const single = percentilesMs(histogram);
      if (!report) continue;
      rows.push(
        { workload: `hand-off: ${label}`, metric: '64 in flight', value: sizes.inFlightCommits / seconds, unit: 'commits/s', higherIsBetter: true, note: cpuNote(inFlightCpu) },
        { workload: `hand-off: ${label}`, metric: '1 at a time p50', value: single.p50, unit: 'ms', higherIsBetter: false, note: cpuNote(sequentialCpu) },
        { workload: `hand-off: ${label}`, metric: '1 at a time p99', value: single.p99, unit: 'ms', higherIsBetter: false },
      );
    } finally {
      cleanup();
    }
  }
  return rows;
}
