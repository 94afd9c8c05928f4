/**
 * Snapshots and compaction: open starts from the newest usable snapshot and replays only the tail; the
 * state restored that way validates later commands exactly as a full replay would; a damaged snapshot
 * falls back to an older one or to a full replay and says so; compaction deletes only WAL segments
 * that a kept snapshot covers. Every store is checked on close against an independent fold from disk.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { MetaLog } from '../../src/api/metalog.js';
import { ManualClock } from '../../src/clock.js';
import { MetaLogError } from '../../src/errors.js';
import { listSnapshots, readSnapshotFile, writeSnapshotFile } from '../../src/snapshot/snapshot-file.js';
import { storageFor } from '../../src/wal/storage.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

const manual = { snapshotEveryEvents: 0, snapshotIntervalMs: 0 };

function member(memberId: string) {
  return { memberId, clientId: 'c', clientHost: 'h', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, subscription: new Uint8Array([1]), assignment: new Uint8Array([2]) };
}

async function fill(log: MetaLog, prefix: string): Promise<void> {
  await log.registerBroker({ brokerId: 1, host: 'b1', port: 9092, brokerEpoch: 1 });
  await log.registerBroker({ brokerId: 2, host: 'b2', port: 9092, brokerEpoch: 1 });
  for (let i = 0; i < 20; i++) await log.createTopic({ name: `${prefix}-${i}`, partitions: 3, replicationFactor: 2, configs: { 'retention.ms': String(i) } });
  await log.upsertGroup({ groupId: 'g', state: 'Stable', protocolType: 'consumer', protocol: 'range', generation: 3, leader: 'm1', members: [member('m1'), member('m2')] });
  for (let i = 0; i < 20; i++) {
    await log.commitOffsets('g', [{ topic: `${prefix}-${i}`, partition: i % 3, offset: i * 10, metadata: `m${i}` }], { generation: 3, memberId: 'm1' });
    await log.updateWatermarks(`${prefix}-${i}`, 0, { highWatermark: 100 + i });
    await log.addSegment(`${prefix}-${i}`, 1, { segmentId: i, baseOffset: 0, lastOffset: 10, sizeBytes: 1000, recordCount: 10, path: `s${i}` });
  }
  await log.commitOffsets('solo', [{ topic: `${prefix}-1`, partition: 0, offset: 7 }]);
  const producer = await log.initProducerId('tx-1', 60000);
  await log.addPartitionsToTxn('tx-1', producer, [{ topic: `${prefix}-2`, partition: 0 }]);
}

test('open from a snapshot replays only the tail, and the restored state validates like a full replay', async (t) => {
  const dir = tmpDir(t);
  let log = await MetaLog.open({ dir, ...manual });
  await fill(log, 't');
  const taken = await log.snapshot();
  t.is(taken.lastOffset, log.recovery.lastOffset + taken.foldedEvents);
  t.true(fs.existsSync(path.join(dir, 'snapshots', taken.file)));
  await log.createTopic({ name: 'after', partitions: 1 });
  await closeAndVerify(log);

  log = await openStore(t, { dir, ...manual });
  t.is(log.recovery.snapshot?.lastOffset, taken.lastOffset);
  t.is(log.recovery.replayedEvents, 1);
  t.deepEqual(log.recovery.skippedSnapshots, []);
  // Reads come from the restored index; commands validate against the state loaded on demand.
  t.is(log.getTopic('t-5')?.configs['retention.ms'], '5');
  t.is(log.fetchOffset('g', 't-4', 1)?.metadata, 'm4');
  t.is(log.getWatermarks('t-3', 0)?.highWatermark, 103);
  await t.throwsAsync(log.createTopic({ name: 't-7', partitions: 1 }), { instanceOf: MetaLogError, message: /already exists/ });
  await t.throwsAsync(log.commitOffsets('g', [{ topic: 't-1', partition: 0, offset: 1 }], { generation: 2, memberId: 'm1' }), { instanceOf: MetaLogError });
  await t.throwsAsync(log.updateWatermarks('t-3', 0, { highWatermark: 50 }), { instanceOf: MetaLogError });
  await t.throwsAsync(log.deleteGroup('g'), { instanceOf: MetaLogError });
  await t.throwsAsync(log.addSegment('t-3', 1, { segmentId: 3, baseOffset: 0, lastOffset: 10, sizeBytes: 1, recordCount: 1, path: "x" }), { instanceOf: MetaLogError });
  // Changes to entities that so far exist only in the snapshot.
  await log.createPartitions('t-9', 5);
  await log.deleteTopic('t-4');
  t.is(log.fetchOffset('g', 't-4', 1), undefined);
  await log.deleteOffsets('g', [{ topic: 't-5', partition: 2 }]);
  await log.removeSegment('t-6', 1, 6);
  await log.setBrokerStatus(2, 'FENCED');
  await log.deleteGroup('solo');
  await log.upsertGroup({ groupId: 'g', state: 'Empty', protocolType: 'consumer', protocol: null, generation: 4, leader: null, members: [] });
  await log.commitOffsets('g', [{ topic: 't-4', partition: 0, offset: 1 }]).catch(() => undefined);
  await log.createTopic({ name: 't-4', partitions: 2 });
  await log.commitOffsets('g', [{ topic: 't-4', partition: 1, offset: 11 }]);
  t.is(log.fetchOffset('g', 't-4', 1)?.offset, 11);
  const ongoing = await t.throwsAsync(log.initProducerId('tx-1', 60000), { instanceOf: MetaLogError });
  t.is(ongoing?.code, 'CONCURRENT_TRANSACTIONS', 'the ongoing transaction from the snapshot was found');
  t.is(log.listTopics().length, 21);
});

test('writes go on while a snapshot is written, and a second snapshot folds only the events since the first', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir, ...manual });
  await fill(log, 'a');
  const first = log.snapshot();
  const during = Array.from({ length: 300 }, (_, i) => log.commitOffsets('busy', [{ topic: 'a-1', partition: i % 3, offset: i }]));
  const [result] = await Promise.all([first, ...during]);
  t.true(result.lastOffset >= 0);
  const second = await log.snapshot();
  t.true(second.lastOffset >= result.lastOffset + 1);
  t.is(second.foldedEvents, second.lastOffset - result.lastOffset);
  t.is(await log.snapshot(), second, 'nothing new: the last snapshot is returned');
  t.is(listSnapshots(dir).length, 2);
  await log.commitOffsets('busy', [{ topic: 'a-1', partition: 0, offset: 1000 }]);
  await log.snapshot();
  t.is(listSnapshots(dir).length, 2, 'snapshotsRetained (default 2) are kept');
});

test('a damaged snapshot falls back to an older one, then to a full replay, and the report says why', async (t) => {
  const dir = tmpDir(t);
  let log = await MetaLog.open({ dir, ...manual, snapshotsRetained: 3 });
  await fill(log, 'c');
  const older = await log.snapshot();
  await log.createTopic({ name: 'between', partitions: 1 });
  const newer = await log.snapshot();
  await log.createTopic({ name: 'last', partitions: 1 });
  await closeAndVerify(log);

  // A bit flip in the middle of the newest snapshot.
  const newerPath = path.join(dir, 'snapshots', newer.file);
  const bytes = fs.readFileSync(newerPath);
  bytes[Math.floor(bytes.length / 2)] ^= 0x10;
  fs.writeFileSync(newerPath, bytes);
  log = await MetaLog.open({ dir, ...manual });
  t.is(log.recovery.snapshot?.lastOffset, older.lastOffset);
  t.is(log.recovery.skippedSnapshots.length, 1);
  t.regex(log.recovery.skippedSnapshots[0].reason, /checksum/);
  t.truthy(log.getTopic('between'));
  t.truthy(log.getTopic('last'));
  await closeAndVerify(log);

  // Both damaged (one truncated): a full replay.
  const olderPath = path.join(dir, 'snapshots', older.file);
  fs.truncateSync(olderPath, 100);
  log = await MetaLog.open({ dir, ...manual });
  t.is(log.recovery.snapshot, null);
  t.is(log.recovery.skippedSnapshots.length, 2);
  t.is(log.recovery.replayedEvents, log.recovery.lastOffset + 1);
  t.truthy(log.getTopic('last'));
  await closeAndVerify(log);
});

test('compaction deletes only segments a kept snapshot covers; open then starts from that snapshot', async (t) => {
  const dir = tmpDir(t);
  const config = { dir, ...manual, segmentBytes: 64 * 1024, historyRetentionMs: 0, snapshotsRetained: 1 };
  let log = await MetaLog.open(config);
  await log.createTopic({ name: 'x', partitions: 4 });
  // In rounds: a batch is never split across segments, so many small batches are what rolls the WAL.
  for (let round = 0; round < 40; round++) {
    const commits: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) commits.push(log.commitOffsets(`g${i % 50}`, [{ topic: 'x', partition: i % 4, offset: round * 100 + i, metadata: 'padding-'.repeat(4) }]));
    await Promise.all(commits);
  }
  const walDir = path.join(dir, 'wal');
  const before = fs.readdirSync(walDir).filter((name) => name.endsWith('.log')).length;
  t.true(before >= 3, `the WAL rolled (${before} segments)`);
  const snapshot = await log.snapshot();
  t.not(snapshot.compactThrough, null);
  const after = fs.readdirSync(walDir).filter((name) => name.endsWith('.log')).sort();
  t.true(after.length < before, 'segments were deleted');
  t.true(Number(after[0].slice(0, 20)) <= snapshot.lastOffset + 1, 'the WAL still continues the snapshot');
  await log.commitOffsets('g1', [{ topic: 'x', partition: 1, offset: 99999 }]);
  const expected = log.canonicalState();
  await closeAndVerify(log);

  log = await MetaLog.open(config);
  t.is(log.recovery.snapshot?.lastOffset, snapshot.lastOffset);
  t.is(log.canonicalState(), expected);
  await closeAndVerify(log);

  // Without a usable snapshot the compacted WAL cannot be replayed: open refuses and says why.
  fs.truncateSync(path.join(dir, 'snapshots', snapshot.file), 10);
  const error = await t.throwsAsync(MetaLog.open(config), { instanceOf: MetaLogError });
  t.is(error?.code, 'CORRUPT_WAL');
  t.regex(error?.message ?? '', /no usable snapshot/);
});

test('history retention counts on the store\'s clock: sealed segments go once they are older than historyRetentionMs', async (t) => {
  const dir = tmpDir(t);
  const clock = new ManualClock(1_000_000_000);
  const log = await openStore(t, { dir, ...manual, segmentBytes: 64 * 1024, historyRetentionMs: 3_600_000, snapshotsRetained: 1 }, { clock });
  await log.createTopic({ name: 'x', partitions: 4 });
  const walDir = path.join(dir, 'wal');
  const segments = (): string[] => fs.readdirSync(walDir).filter((name) => name.endsWith('.log')).sort();
  for (let round = 0; round < 40; round++) {
    await Promise.all(Array.from({ length: 100 }, (_, i) => log.commitOffsets(`g${i % 50}`, [{ topic: 'x', partition: i % 4, offset: round * 100 + i, metadata: 'padding-'.repeat(4) }])));
  }
  const rolled = segments();
  t.true(rolled.length >= 3, `the WAL rolled (${rolled.length} segments)`);
  // An hour less a millisecond after the segments were sealed: all history is kept.
  clock.advance(3_599_999);
  t.is((await log.snapshot()).compactThrough, null);
  t.deepEqual(segments(), rolled);
  // A millisecond later the sealed segments are an hour old, and the next snapshot lets them go.
  clock.advance(1);
  await log.commitOffsets('g1', [{ topic: 'x', partition: 1, offset: 99999 }]);
  t.not((await log.snapshot()).compactThrough, null);
  t.deepEqual(segments(), rolled.slice(-1), 'only the open segment is left');
});

test('automatic snapshots by event count', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir, snapshotEveryEvents: 50 });
  // Waits for the signal of the snapshot thread, whenever the opening thread's check finds it due.
  const taken = log.snapshotTaken();
  await log.createTopic({ name: 'x', partitions: 1 });
  for (let i = 0; i < 60; i++) await log.commitOffsets('g', [{ topic: 'x', partition: 0, offset: i }]);
  await taken;
  t.is(log.snapshotStatus?.taken, 1);
  // Taken once 50 events (offsets 0..49) were durable: the check may run at any point of the 61 writes.
  t.true((log.snapshotStatus?.lastOffset ?? -1) >= 49);
  t.is(log.snapshotStatus?.lastError, null);
});

test('a snapshot of another index value format is passed over, not misread', async (t) => {
  const dir = tmpDir(t);
  let log = await MetaLog.open({ dir, ...manual });
  await fill(log, 'v');
  const taken = await log.snapshot();
  await closeAndVerify(log);
  // The same sections under a meta that claims another value format (checksums all valid).
  const file = path.join(dir, 'snapshots', taken.file);
  const sections: { name: string; bytes: Uint8Array }[] = [];
  const meta = readSnapshotFile(file, () => null, (section, bytes) => sections.push({ name: section.name, bytes: bytes.slice() }));
  const { sections: _list, formatVersion: _version, ...rest } = meta;
  writeSnapshotFile(dir, { ...rest, indexValueFormat: meta.indexValueFormat + 1 }, sections, storageFor());
  log = await openStore(t, { dir, ...manual });
  t.is(log.recovery.snapshot, null);
  t.regex(log.recovery.skippedSnapshots[0]?.reason ?? '', /index value format/);
  t.is(log.getTopic('v-3')?.configs['retention.ms'], '3');
});

test('automatic snapshots by WAL bytes and by recovery-time budget', async (t) => {
  const byBytes = await openStore(t, { dir: tmpDir(t), snapshotEveryEvents: 0, snapshotIntervalMs: 0, snapshotEveryBytes: 8192 });
  const takenByBytes = byBytes.snapshotTaken();
  await byBytes.createTopic({ name: 'x', partitions: 1 });
  for (let i = 0; i < 100; i++) await byBytes.commitOffsets('g', [{ topic: 'x', partition: 0, offset: i, metadata: 'm'.repeat(100) }]);
  await takenByBytes;
  t.is(byBytes.snapshotStatus?.taken, 1, 'about 15 KB of WAL passed 8 KB');

  // With no replay measured at open, the budget counts 1,000 events per ms: 1 ms is 1,000 events.
  const byBudget = await openStore(t, { dir: tmpDir(t), snapshotEveryEvents: 0, snapshotIntervalMs: 0, snapshotEveryBytes: 0, snapshotRecoveryBudgetMs: 1 });
  const takenByBudget = byBudget.snapshotTaken();
  await byBudget.createTopic({ name: 'x', partitions: 1 });
  for (let round = 0; round < 11; round++) {
    await Promise.all(Array.from({ length: 100 }, (_, i) => byBudget.commitOffsets('g', [{ topic: 'x', partition: 0, offset: round * 100 + i }])));
  }
  await takenByBudget;
  t.is(byBudget.snapshotStatus?.taken, 1);
  t.true((byBudget.snapshotStatus?.lastOffset ?? 0) >= 999, 'taken once 1,000 events (offsets 0..999) were durable');
});

test('a snapshot that cannot be written fails alone: the store keeps writing, the status says why, a later one succeeds', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir, ...manual });
  await log.createTopic({ name: 'x', partitions: 1 });
  // A file where the snapshots folder should be: the snapshot thread cannot create its file.
  fs.writeFileSync(path.join(dir, 'snapshots'), 'in the way');
  const error = await t.throwsAsync(log.snapshot(), { instanceOf: MetaLogError });
  t.is(error?.code, 'KAFKA_STORAGE_ERROR');
  t.is(log.snapshotStatus?.failures, 1);
  t.is(log.snapshotStatus?.lastError?.code, 'KAFKA_STORAGE_ERROR');
  await log.commitOffsets('g', [{ topic: 'x', partition: 0, offset: 1 }]);
  t.is(log.readOnlyError, null);
  fs.rmSync(path.join(dir, 'snapshots'));
  const taken = await log.snapshot();
  t.is(taken.lastOffset, log.lastOffset);
  t.is(log.snapshotStatus?.lastError, null);
});
