/**
 * Cold start with a snapshot, and what taking that snapshot costs the writes running beside it.
 *
 * The store holds `topics` topics (6 partitions each) and `offsets` committed offsets (all distinct keys,
 * over 1,000 groups). Measured, all in the same run:
 * - one durable write at a time (fsync mode) for a while without a snapshot, then while `log.snapshot()`
 *   runs: p50/p99/max of both (the snapshot thread folds and writes the state; the writer never pauses
 *   for it, so any difference is the shared CPU and disk);
 * - the snapshot itself (fold of the whole log the first time, then the file);
 * - open → first correct read from that snapshot, against open → first read by replaying the whole WAL
 *   (the same store with its snapshots set aside).
 */
import fs from 'node:fs';
import path from 'node:path';
import { MetaLog } from '../src/api/metalog.js';
import { drive } from './drive.js';
import { benchDir, check, latencyHistogram, percentilesMs, recordSince, type BenchRow } from './lib.js';

const PARTITIONS = 6;
const GROUPS = 1000;

/** Offset key `i`: every i below topics × 10 is a distinct (group, topic, partition). */
function offsetKey(i: number, topics: number): { group: string; topic: string; partition: number } {
  return { group: `group-${i % GROUPS}`, topic: `topic-${Math.floor(i / 10) % topics}`, partition: i % PARTITIONS };
}

/** One durable write after another for `ms`, or until `until` settles; latencies in a histogram. */
async function writeSteadily(log: MetaLog, ms: number, until: Promise<unknown> | null, label: string) {
  const histogram = latencyHistogram();
  const started = performance.now();
  let settled = false;
  void until?.finally(() => {
    settled = true;
  });
  let i = 0;
  // Bounded: by time without `until`, by the snapshot's end with it.
  while (until === null ? performance.now() - started < ms : !settled) {
    const start = process.hrtime.bigint();
    await log.commitOffsets(`steady-${label}`, [{ topic: 'topic-0', partition: 0, offset: i++ }]);
    recordSince(histogram, start);
  }
  return { ...percentilesMs(histogram), writes: i };
}

export async function benchColdStart(options: { topics: number; offsets: number }): Promise<BenchRow[]> {
  const { topics, offsets } = options;
  check(offsets <= topics * 10, 'offset keys are distinct');
  const { dir, cleanup } = benchDir('cold-start');
  const label = `cold start, ${topics.toLocaleString('en-US')} topics + ${offsets.toLocaleString('en-US')} offsets`;
  try {
    const manual = { snapshotEveryEvents: 0, snapshotIntervalMs: 0 };
    let log = await MetaLog.open({ dir, durability: 'none', ...manual });
    await drive(topics, 64, (i) => log.createTopic({ name: `topic-${i}`, partitions: PARTITIONS }), `cold start: creating ${topics} topics`);
    await drive(offsets, 256, (i) => {
      const { group, topic, partition } = offsetKey(i, topics);
      return log.commitOffsets(group, [{ topic, partition, offset: i }]);
    }, `cold start: committing ${offsets} offsets`);
    await log.close();

    // A full replay (no snapshot yet): the baseline open, and the store the writes below go to.
    let openStarted = performance.now();
    log = await MetaLog.open({ dir, ...manual });
    const probe = offsetKey(offsets - 1, topics);
    check(log.fetchOffset(probe.group, probe.topic, probe.partition)?.offset === offsets - 1, 'the first read after a full replay is correct');
    const replayOpenMs = performance.now() - openStarted;
    check(log.recovery.snapshot === null, 'the first open replays the whole log');

    const quiet = await writeSteadily(log, 2000, null, 'quiet');
    const snapshotStarted = performance.now();
    const snapshot = log.snapshot();
    const during = await writeSteadily(log, 0, snapshot, 'during');
    const taken = await snapshot;
    const snapshotMs = performance.now() - snapshotStarted;
    await log.close();

    openStarted = performance.now();
    log = await MetaLog.open({ dir, ...manual });
    const topic = log.getTopic(`topic-${topics - 1}`);
    const offset = log.fetchOffset(probe.group, probe.topic, probe.partition);
    const snapshotOpenMs = performance.now() - openStarted;
    check(topic?.partitions.length === PARTITIONS && offset?.offset === offsets - 1, 'the first reads after a snapshot open are correct');
    check(log.recovery.snapshot?.lastOffset === taken.lastOffset, 'open started from the snapshot');
    const replayedAfter = log.recovery.replayedEvents;
    const restoreMs = log.recovery.snapshot?.restoreMs ?? 0;
    await log.close();
    const snapshotBytes = fs.statSync(path.join(dir, 'snapshots', taken.file)).size;

    return [
      {
        workload: label, metric: 'open → first read, from a snapshot', value: snapshotOpenMs, unit: 'ms', higherIsBetter: false,
        baseline: { name: 'full WAL replay', value: replayOpenMs },
        note: `snapshot ${(snapshotBytes / 2 ** 20).toFixed(0)} MiB read in ${restoreMs.toFixed(0)} ms; ${replayedAfter} events replayed after it`,
      },
      {
        workload: label, metric: 'snapshot (first: fold of the whole log + write)', value: snapshotMs, unit: 'ms', higherIsBetter: false,
        note: `fold ${taken.foldMs.toFixed(0)} ms, write ${taken.writeMs.toFixed(0)} ms, ${taken.foldedEvents.toLocaleString('en-US')} events`,
      },
      {
        workload: label, metric: 'one durable write p99, during the snapshot', value: during.p99, unit: 'ms', higherIsBetter: false,
        baseline: { name: 'without a snapshot', value: quiet.p99 },
        note: `p50 ${during.p50.toFixed(2)} vs ${quiet.p50.toFixed(2)} ms, max ${during.max.toFixed(1)} vs ${quiet.max.toFixed(1)} ms, ${during.writes} writes during it`,
      },
    ];
  } finally {
    cleanup();
  }
}
