/**
 * The writer's pipeline (WriterCore.sealBatch / startSync / settleSync), driven in this thread the way
 * workers/writer.ts drives it, on a FaultyStorage whose fdatasync runs on a later turn of the event loop:
 * so the test decides exactly which batches are written before an fdatasync starts, and what it returns.
 *
 * What must hold: a batch is acknowledged only by an fdatasync that started after it was written; the
 * acknowledgements come in log order; the index shows a batch when it is acknowledged and not before
 * (the batches written after it, which the writer's state already holds, stay out of it); a failed
 * fdatasync fails every batch that waits, rolls the state back and leaves the writer read-only.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ManualClock } from '../../../src/clock.js';
import { checkCreatePartitionsInput, checkCreateTopicInput, checkDeleteGroupInput, checkDeleteTopicInput, checkUpsertGroupInput } from '../../../src/commands/commands.js';
import type { BackedMap } from '../../../src/state/backed-map.js';
import type { Topic } from '../../../src/state/entities.js';
import { resolveConfig } from '../../../src/config.js';
import { allocateStoreIndex, StoreIndexReader } from '../../../src/store-index/store-index.js';
import { allocateStoreMetricsBuffers } from '../../../src/metrics/metrics-buffers.js';
import { WriterStatsRecorder } from '../../../src/metrics/writer-stats.js';
import { FAULT_WORD_COUNT, FAULT_WORDS, FaultyStorage } from '../../../src/wal/storage.js';
import { decodeBatch, type DecodedBatch } from '../../../src/writer/batch-record.js';
import { openSnapshot, recoverWriter } from '../../../src/writer/recover-writer.js';
import type { WriterCore } from '../../../src/writer/writer-core.js';
import { tmpDir } from '../../helpers/tmp.js';

interface Opened {
  core: WriterCore;
  reader: StoreIndexReader;
  faults: Int32Array;
  fsyncs: () => number;
}

function openCore(dir: string, segmentBytes?: number): Opened {
  const config = resolveConfig({ dir, durability: 'fsync', ...(segmentBytes === undefined ? {} : { segmentBytes }) });
  const index = allocateStoreIndex();
  const metrics = allocateStoreMetricsBuffers();
  const stats = new WriterStatsRecorder(metrics.writerStats, metrics.counters, config.slowFsyncWarnMs);
  const faultBuffer = new SharedArrayBuffer(FAULT_WORD_COUNT * 4);
  const storage = new FaultyStorage(faultBuffer);
  const { core } = recoverWriter(config, storage, index, stats, openSnapshot(dir, index, storage), new ManualClock(1_000_000));
  const faults = new Int32Array(faultBuffer);
  const atOpen = Atomics.load(faults, FAULT_WORDS.FSYNCS);
  return { core, reader: new StoreIndexReader(index), faults, fsyncs: () => Atomics.load(faults, FAULT_WORDS.FSYNCS) - atOpen };
}

/** Seals a batch of topic creations; in fsync mode it waits, so no record comes back yet. */
function sealTopics(core: WriterCore, firstSeq: number, names: string[]): Buffer | null {
  core.startBatch();
  names.forEach((name, i) => core.addCommand(0, firstSeq + i, checkCreateTopicInput({ name, partitions: 1 })));
  return core.sealBatch();
}

/** Runs the fdatasync the core wants to its end and returns what settling it acknowledges. */
async function syncAndSettle(core: WriterCore): Promise<DecodedBatch[]> {
  let ended = 0;
  core.startSync(() => ended++);
  await core.whenSyncEnds();
  if (ended !== 1) throw new Error('the end of an fdatasync is reported once');
  return core.settleSync().map(decodeBatch);
}

test('a sealed batch waits for its fdatasync; one written after the fdatasync started waits for the next', async (t) => {
  const { core, reader, fsyncs } = openCore(tmpDir(t));
  t.is(sealTopics(core, 1, ['a', 'b']), null, 'fsync mode: nothing is acknowledged at seal');
  t.true(core.syncWanted);
  t.is(reader.getTopic('a'), undefined, 'not in the index before it is durable');
  core.startSync(() => undefined);
  t.false(core.syncWanted, 'one fdatasync at a time');
  // Written while the first fdatasync is in flight.
  t.is(sealTopics(core, 3, ['c']), null, 'waits behind the first batch');
  t.true(core.state.topics.has('c'), 'the writer decides later commands on the state that holds it');
  await core.whenSyncEnds();
  const first = core.settleSync().map(decodeBatch);
  t.deepEqual(first.map((batch) => [batch.firstOffset, batch.recordCount, batch.durableOffset]), [[0, 2, 1]]);
  t.deepEqual(first[0].results.map((result) => [result.seq, result.error, result.wroteEvent]), [[1, null, true], [2, null, true]]);
  t.truthy(reader.getTopic('a'));
  t.truthy(reader.getTopic('b'));
  t.is(reader.getTopic('c'), undefined, 'the batch the fdatasync did not cover stays out of the index');
  t.true(core.syncWanted, 'the batch left over wants the next fdatasync');
  const second = await syncAndSettle(core);
  t.deepEqual(second.map((batch) => [batch.firstOffset, batch.recordCount, batch.durableOffset]), [[2, 1, 2]]);
  t.truthy(reader.getTopic('c'));
  t.is(fsyncs(), 2);
  t.false(core.syncPending);
  core.close();
});

test('batches sealed before an fdatasync starts are all acknowledged by it, oldest first', async (t) => {
  const { core, reader, fsyncs } = openCore(tmpDir(t));
  sealTopics(core, 1, ['a']);
  sealTopics(core, 2, ['b']);
  // A batch of refusals only (a topic that exists) still waits: acknowledgements keep the log's order.
  t.is(sealTopics(core, 3, ['a']), null);
  const acknowledged = await syncAndSettle(core);
  t.deepEqual(acknowledged.map((batch) => batch.results.map((result) => result.seq)), [[1], [2], [3]]);
  t.deepEqual(acknowledged.map((batch) => batch.durableOffset), [1, 1, 1]);
  t.is(acknowledged[2].results[0].error?.code, 'TOPIC_ALREADY_EXISTS');
  t.truthy(reader.getTopic('b'));
  t.is(fsyncs(), 1, 'one fdatasync for the three batches');
  core.close();
});

test('a failed fdatasync fails every waiting batch, rolls the state back, and leaves the writer read-only', async (t) => {
  const { core, reader, faults } = openCore(tmpDir(t));
  sealTopics(core, 1, ['kept']);
  t.is((await syncAndSettle(core))[0].durableOffset, 0);
  sealTopics(core, 2, ['a']);
  core.startSync(() => undefined);
  sealTopics(core, 3, ['b', 'c']);
  // The disk fails before the thread pool gets to it.
  Atomics.store(faults, FAULT_WORDS.FSYNC_FAILS, 1);
  await core.whenSyncEnds();
  const failed = core.settleSync().map(decodeBatch);
  t.is(failed.length, 2, 'both waiting batches are answered');
  for (const batch of failed) {
    t.is(batch.recordCount, 0);
    for (const result of batch.results) {
      t.is(result.error?.code, 'STORAGE_FAILED');
      t.false(result.wroteEvent);
    }
  }
  t.deepEqual([...core.state.topics.keys()], ['kept'], 'the state is what was acknowledged');
  t.is(reader.getTopic('a'), undefined);
  t.is(reader.getTopic('b'), undefined);
  t.truthy(reader.getTopic('kept'));
  t.is(core.readOnlyError?.code, 'STORAGE_FAILED');
  t.false(core.syncWanted, 'nothing waits');
  core.startBatch();
  core.addCommand(0, 9, checkCreateTopicInput({ name: 'later', partitions: 1 }));
  const refused = core.sealBatch();
  t.not(refused, null, 'read-only: refused at once, no fdatasync is retried');
  t.is(decodeBatch(refused as Buffer).results[0].error?.code, 'STORE_READ_ONLY');
  core.close();
});

test('a group delete waits until every batch before it is shown in the index', async (t) => {
  const { core } = openCore(tmpDir(t));
  const upsert = checkUpsertGroupInput({ groupId: 'g', state: 'Empty', protocolType: 'consumer', generation: 1, members: [] });
  core.startBatch();
  core.addCommand(0, 1, upsert);
  core.sealBatch();
  core.startBatch();
  t.true(core.needsPublishedIndex(checkDeleteGroupInput('g')), 'a batch still waits for its fdatasync');
  await syncAndSettle(core);
  t.false(core.needsPublishedIndex(checkDeleteGroupInput('g')));
  core.addCommand(0, 2, checkDeleteGroupInput('g'));
  t.is(core.sealBatch(), null);
  const [deleted] = await syncAndSettle(core);
  t.is(deleted.results[0].error, null);
  core.close();
});

test('with nothing else to do, the fdatasync runs on the writer thread and settles at once', (t) => {
  const { core, reader, faults, fsyncs } = openCore(tmpDir(t));
  sealTopics(core, 1, ['a']);
  sealTopics(core, 2, ['b']);
  const [first, second] = core.syncNow().map(decodeBatch);
  t.deepEqual([first.durableOffset, second.durableOffset], [1, 1]);
  t.truthy(reader.getTopic('b'));
  t.is(fsyncs(), 1);
  t.false(core.syncPending);
  // And when it fails, it fails what waits, as the pipelined one does.
  sealTopics(core, 3, ['c']);
  Atomics.store(faults, FAULT_WORDS.FSYNC_FAILS, 1);
  const [failed] = core.syncNow().map(decodeBatch);
  t.is(failed.results[0].error?.code, 'STORAGE_FAILED');
  t.false(core.state.topics.has('c'));
  core.close();
});

test('a segment sealed while an fdatasync runs on it keeps its descriptor until that fdatasync ends', async (t) => {
  const dir = tmpDir(t);
  const { core, fsyncs } = openCore(dir, 64 * 1024);
  // Topics of many partitions fill the 64 KiB segment in a few batches.
  const big = (name: string) => checkCreateTopicInput({ name, partitions: 4_000 });
  core.startBatch();
  core.addCommand(0, 1, big('a'));
  core.addCommand(0, 2, big('b'));
  t.is(core.sealBatch(), null);
  core.startSync(() => undefined);
  // This batch no longer fits the open segment: it is sealed (fdatasync-ed on this thread) and a new one starts.
  core.startBatch();
  core.addCommand(0, 3, big('c'));
  core.addCommand(0, 4, big('d'));
  t.is(core.sealBatch(), null);
  await core.whenSyncEnds();
  const first = core.settleSync().map(decodeBatch);
  t.deepEqual(first.map((batch) => batch.results.map((result) => result.error)), [[null, null]]);
  const second = await syncAndSettle(core);
  t.deepEqual(second.map((batch) => batch.results.map((result) => result.error)), [[null, null]]);
  t.true(fsyncs() >= 3, 'the pipelined fdatasyncs and the seal');
  t.true(fs.readdirSync(path.join(dir, 'wal')).filter((name) => name.endsWith('.log')).length >= 2, 'the second batch went to a new segment');
  core.close();
  const reopened = openCore(dir, 64 * 1024);
  t.deepEqual([...reopened.core.state.topics.keys()].sort(), ['a', 'b', 'c', 'd'], 'every acknowledged batch is in the log');
  reopened.core.close();
});

/** The topics the writer's state holds itself (the others it reads back from the index when needed). */
function keptTopics(core: WriterCore): string[] {
  return [...(core.state.topics as BackedMap<string, Topic>).decidedEntries()].map(([name]) => name).sort();
}

test('the state keeps a topic only until its change is shown in the index; a change made after that batch was sealed stays', async (t) => {
  const { core, reader } = openCore(tmpDir(t));
  sealTopics(core, 1, ['a', 'b']);
  await syncAndSettle(core);
  t.deepEqual(keptTopics(core), [], 'published topics are read back from the index, not kept');
  t.is(core.state.partitionCount('a'), 1);
  // Batch 2 adds a partition to a (read back from the index to decide it); batch 3, written while
  // batch 2's fdatasync runs, adds another and deletes b.
  core.startBatch();
  core.addCommand(0, 3, checkCreatePartitionsInput('a', 2));
  core.sealBatch();
  core.startSync(() => undefined);
  core.startBatch();
  core.addCommand(0, 4, checkCreatePartitionsInput('a', 3));
  core.addCommand(0, 5, checkDeleteTopicInput('b'));
  core.sealBatch();
  t.deepEqual(keptTopics(core), ['a']);
  t.is(core.state.partitionCount('a'), 3, 'rules see the newest state');
  t.is(core.state.partitionCount('b'), undefined);
  await core.whenSyncEnds();
  core.settleSync();
  t.is(reader.getTopic('a')?.partitions.length, 2, 'the index shows batch 2 only');
  t.deepEqual(keptTopics(core), ['a'], 'batch 3\'s change to a is not published yet: the state keeps it');
  t.is(core.state.partitionCount('a'), 3);
  t.is(core.state.partitionCount('b'), undefined, 'the delete of b is kept too');
  await syncAndSettle(core);
  t.deepEqual(keptTopics(core), []);
  t.is(reader.getTopic('a')?.partitions.length, 3);
  t.is(reader.getTopic('b'), undefined);
  t.is(core.state.partitionCount('a'), 3);
  t.is(core.state.partitionCount('b'), undefined);
  // A refused change reads a back to decide it; the next publish drops that copy too.
  core.startBatch();
  core.addCommand(0, 6, checkCreatePartitionsInput('a', 2));
  // Nothing written and nothing waiting: acknowledged at once.
  const refused = core.sealBatch();
  t.is(refused === null ? null : decodeBatch(refused).results[0].error?.code, 'INVALID_PARTITIONS');
  t.deepEqual(keptTopics(core), ['a']);
  sealTopics(core, 7, ['c']);
  await syncAndSettle(core);
  t.deepEqual(keptTopics(core), []);
  core.close();
});

