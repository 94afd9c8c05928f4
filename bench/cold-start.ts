/**
 * Cold start with a snapshot, and what taking that snapshot costs the writes running beside it.
 *
 * The store holds `topics` topics (6 partitions each) and `offsets` committed offsets (all distinct keys,
 * over 1,000 groups). Measured, all in the same run:
 * - one durable write at a time (fsync mode) for a while without a snapshot, then while `log.snapshot()`
 *   runs: p50/p99/max of both (the snapshot thread folds and writes the state; the writer never pauses
 *   for it, so any difference is the shared CPU and disk);
 * - the snapshot itself (fold of the whole log the first time, then the file);
 * - open → first correct read from that snapshot, in a fresh process (as a broker restart is; median of
 *   three), against the same by replaying the whole WAL (before the snapshot existed).
 */
import fs from 'node:fs';
import path from 'node:path';
import { MetaLog } from '../src/api/metalog.js';
import { coldOpen, type ColdOpen } from './cold-open-runner.js';
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

    // Opens are measured in a fresh process, as a broker restart is: first a full replay (no snapshot yet).
    const probe = offsetKey(offsets - 1, topics);
    const opened = (): ColdOpen =>
      coldOpen(dir, { topic: `topic-${topics - 1}`, group: probe.group, offsetTopic: probe.topic, partition: probe.partition, expectedOffset: offsets - 1 });
    const coldOpens = (): { median: ColdOpen; all: ColdOpen[] } => {
      const all = [opened(), opened(), opened()].sort((a, b) => a.totalMs - b.totalMs);
      return { median: all[1], all };
    };
    const replayOpen = opened();
    check(replayOpen.snapshotOffset === null, 'the first open replays the whole log');
    const replayOpenMs = replayOpen.totalMs;
    log = await MetaLog.open({ dir, ...manual });

    const quiet = await writeSteadily(log, 2000, null, 'quiet');
    const snapshotStarted = performance.now();
    const snapshot = log.snapshot();
    const during = await writeSteadily(log, 0, snapshot, 'during');
    const taken = await snapshot;
    const snapshotMs = performance.now() - snapshotStarted;
    await log.close();
    const tail = coldOpens();
    // Then a snapshot of everything (folding only the writes made during the first), and opens with no tail.
    log = await MetaLog.open({ dir, ...manual });
    const latest = await log.snapshot();
    await log.close();
    const noTail = coldOpens();
    check(noTail.median.snapshotOffset === latest.lastOffset && noTail.median.replayedEvents === 0, 'the second snapshot holds every event');

    check(tail.median.snapshotOffset === taken.lastOffset, 'open started from the snapshot');
    const snapshotBytes = fs.statSync(path.join(dir, 'snapshots', latest.file)).size;
    const openRow = (metric: string, opens: ReturnType<typeof coldOpens>): BenchRow => ({
      workload: label, metric, value: opens.median.totalMs, unit: 'ms', higherIsBetter: false,
      baseline: { name: 'full WAL replay', value: replayOpenMs },
      note: `median of 3 fresh processes (${opens.all.map((each) => each.totalMs.toFixed(0)).join(', ')} ms); snapshot ${(snapshotBytes / 2 ** 20).toFixed(0)} MiB read in ${opens.median.restoreMs.toFixed(0)} ms; ${opens.median.replayedEvents} events replayed after it`,
    });

    return [
      openRow('open → first read, from a snapshot of everything', noTail),
      openRow('open → first read, snapshot + the writes made during it', tail),
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
