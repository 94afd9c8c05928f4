/**
 * The flush rule of durability 'interval' (DESIGN §6: written bytes are fdatasync-ed at least every
 * flushIntervalMs), tested on the writer's core in this thread with the store's clock in the test's
 * hand.
 *
 * How: the core is driven the way the writer thread drives it, one pass at a time, but every pass holds
 * a command, as if the command ring were never empty (a broker under steady load). Between passes the
 * clock moves a few milliseconds. After each pass (its acknowledgement, then the interval fdatasync if
 * the rule says it is due) the durable offset must cover every event written at least flushIntervalMs
 * (by the clock) before; a writer that synced only when idle would leave every event un-synced here.
 */
import test from 'ava';
import { ManualClock } from '../../../src/clock.js';
import { checkCreateTopicInput } from '../../../src/commands/commands.js';
import { resolveConfig } from '../../../src/config.js';
import { allocateStoreIndex } from '../../../src/store-index/store-index.js';
import { allocateStoreMetricsBuffers } from '../../../src/metrics/metrics-buffers.js';
import { WriterStatsRecorder } from '../../../src/metrics/writer-stats.js';
import { FAULT_WORD_COUNT, FAULT_WORDS, FaultyStorage } from '../../../src/wal/storage.js';
import { decodeBatch } from '../../../src/writer/batch-record.js';
import { openSnapshot, recoverWriter } from '../../../src/writer/recover-writer.js';
import type { WriterCore } from '../../../src/writer/writer-core.js';
import { tmpDir } from '../../helpers/tmp.js';

function openCore(dir: string, durability: 'interval' | 'fsync' | 'none', clock: ManualClock): { core: WriterCore; fsyncs: () => number } {
  const config = resolveConfig({ dir, durability, flushIntervalMs: 20 });
  const index = allocateStoreIndex();
  const metrics = allocateStoreMetricsBuffers();
  const stats = new WriterStatsRecorder(metrics.writerStats, metrics.counters, config.slowFsyncWarnMs);
  const faults = new SharedArrayBuffer(FAULT_WORD_COUNT * 4);
  const { core } = recoverWriter(config, new FaultyStorage(faults), index, stats, openSnapshot(dir, index, new FaultyStorage(faults)), clock);
  // Counted from here: opening a new log fdatasyncs its first segment's header.
  const counted = (): number => Atomics.load(new Int32Array(faults), FAULT_WORDS.FSYNCS);
  const atOpen = counted();
  return { core, fsyncs: () => counted() - atOpen };
}

/**
 * One writer pass holding one command, as workers/writer.ts runs it: the batch's acknowledgement, then
 * the interval fdatasync if the flush rule says it is due. Returns the acknowledgement, and the durable
 * offset once the pass is over.
 */
function pass(core: WriterCore, seq: number): ReturnType<typeof decodeBatch> & { durableAfter: number } {
  core.startBatch();
  core.addCommand(0, seq, checkCreateTopicInput({ name: `t${seq}`, partitions: 1 }));
  const record = core.finishBatch();
  if (record === null) throw new Error('a pass with a command is acknowledged');
  const batch = decodeBatch(record);
  const durableAfter = core.intervalSyncDue() ? decodeBatch(core.syncInterval()).durableOffset : batch.durableOffset;
  return { ...batch, durableAfter };
}

test('interval mode: a writer that is never idle still fdatasyncs every flushIntervalMs of the clock', (t) => {
  const clock = new ManualClock(1_000_000);
  const { core, fsyncs } = openCore(tmpDir(t), 'interval', clock);
  const writtenAtMs: number[] = [];
  for (let seq = 0; seq < 200; seq++) {
    const batch = pass(core, seq);
    writtenAtMs[batch.firstOffset] = clock.nowMs();
    for (let offset = 0; offset < writtenAtMs.length; offset++) {
      if (clock.nowMs() - writtenAtMs[offset] >= 20) t.true(batch.durableAfter >= offset, `offset ${offset} un-synced for ${clock.nowMs() - writtenAtMs[offset]} ms`);
    }
    clock.advance(3);
  }
  // 600 ms of the clock at one fdatasync per 20 ms or so (each falls due on the first pass past 20 ms).
  t.true(fsyncs() >= 25 && fsyncs() <= 30, `fdatasyncs: ${fsyncs()}`);
  core.close();
});

test('interval mode: passes inside one interval do not fdatasync; time alone, not load, decides', (t) => {
  const clock = new ManualClock(1_000_000);
  const { core, fsyncs } = openCore(tmpDir(t), 'interval', clock);
  for (let seq = 0; seq < 50; seq++) t.is(pass(core, seq).durableAfter, -1);
  t.is(fsyncs(), 0);
  clock.advance(20);
  const due = pass(core, 50);
  t.is(due.durableOffset, -1, 'the batch is acknowledged without waiting for the fdatasync');
  t.is(due.durableAfter, 50, 'which follows it at once');
  t.is(fsyncs(), 1);
  core.close();
});

test('interval mode: an idle writer fdatasyncs once the interval passed and publishes the new durable offset', (t) => {
  const clock = new ManualClock(1_000_000);
  const { core, fsyncs } = openCore(tmpDir(t), 'interval', clock);
  pass(core, 0);
  core.startBatch();
  t.is(core.finishBatch(), null, 'nothing to acknowledge and nothing due: no record');
  t.is(core.idleWaitMs(), 20);
  clock.advance(15);
  t.is(core.idleWaitMs(), 5);
  t.false(core.intervalSyncDue());
  clock.advance(5);
  t.true(core.intervalSyncDue());
  t.is(decodeBatch(core.syncInterval()).durableOffset, 0);
  t.false(core.intervalSyncDue());
  t.is(fsyncs(), 1);
  t.is(core.idleWaitMs(), 1000, 'nothing written since: sleep long');
  core.close();
});

test('fsync mode syncs every pass whatever the clock; none mode never does', (t) => {
  const clock = new ManualClock(1_000_000);
  const fsync = openCore(tmpDir(t), 'fsync', clock);
  for (let seq = 0; seq < 5; seq++) t.is(pass(fsync.core, seq).durableOffset, seq);
  t.is(fsync.fsyncs(), 5);
  fsync.core.close();
  const none = openCore(tmpDir(t), 'none', clock);
  for (let seq = 0; seq < 5; seq++) {
    t.is(pass(none.core, seq).durableOffset, -1);
    clock.advance(1000);
  }
  t.is(none.fsyncs(), 0);
  none.core.close();
});

test('event timestamps come from the clock and never go backwards when it does', (t) => {
  const clock = new ManualClock(5_000_000);
  const { core } = openCore(tmpDir(t), 'fsync', clock);
  const stamps: number[] = [];
  for (const step of [0, 7, -100, 3, 200]) {
    clock.set(clock.nowMs() + step);
    // The record header holds the timestamp at byte 16 (docs/format.md).
    stamps.push(pass(core, stamps.length).frames.readDoubleLE(16));
  }
  t.deepEqual(stamps, [5_000_000, 5_000_007, 5_000_007, 5_000_007, 5_000_110]);
  core.close();
});
