/**
 * Child process for the SIGKILL crash test: opens the store in argv[2] (argv[3]: fsync by default,
 * interval, or snapshots: fsync with frequent snapshots and compaction), then commits
 * forever with several calls in flight and prints "ack <value>" for every commit that resolved. Commit
 * <value> sets (group "crash", topic "t", partition value % 8) to offset <value>; values only grow, so
 * the parent can check that the offset of each partition is at least the largest value acknowledged.
 */
import { MetaLog } from '../../src/api/metalog.js';

const PARTITIONS = 8;
const IN_FLIGHT = 16;

async function main(): Promise<void> {
  const dir = process.argv[2];
  const durability = process.argv[3] === 'interval' ? 'interval' : 'fsync';
  // "snapshots": snapshots every few hundred events and compaction of everything they cover, so kills
  // land in the middle of snapshot writes and segment deletions too.
  const snapshots = process.argv[3] === 'snapshots'
    ? { snapshotEveryEvents: 150, snapshotsRetained: 2, historyRetentionMs: 0, segmentBytes: 64 * 1024 }
    : { segmentBytes: 256 * 1024 };
  const log = await MetaLog.open({ dir, durability, flushIntervalMs: 50, ...snapshots });
  if (log.getTopic('t') === undefined) await log.createTopic({ name: 't', partitions: PARTITIONS });
  let next = 0;
  for (let p = 0; p < PARTITIONS; p++) next = Math.max(next, (log.fetchOffset('crash', 't', p)?.offset ?? -1) + 1);
  process.stdout.write(`ready ${next}\n`);
  const commitOne = async (): Promise<void> => {
    // Runs until the parent kills the process.
    for (;;) {
      const value = next++;
      await log.commitOffsets('crash', [{ topic: 't', partition: value % PARTITIONS, offset: value, metadata: 'x'.repeat(value % 97) }]);
      process.stdout.write(`ack ${value}\n`);
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, commitOne));
}

void main();
