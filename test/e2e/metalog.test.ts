/**
 * The public API end to end on a real directory and a real writer thread: writes, synchronous reads,
 * read-your-writes, every Kafka error code with bad input (and the state unchanged after it), restarts,
 * durability modes and segment rotation.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { MetaLog } from '../../src/api/metalog.js';
import { ManualClock } from '../../src/clock.js';
import { MetaLogError, type ErrorCode } from '../../src/errors.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

async function rejectsWith(t: import('ava').ExecutionContext, promise: Promise<unknown>, code: ErrorCode, kafkaCode?: number): Promise<MetaLogError> {
  const error = (await t.throwsAsync(promise, { instanceOf: MetaLogError })) as MetaLogError;
  t.is(error.code, code, error.message);
  if (kafkaCode !== undefined) t.is(error.kafkaCode, kafkaCode);
  return error;
}

test('create, read, commit, fetch; the writes resolve after the reads show them', async (t) => {
  const clock = new ManualClock(1_000_000);
  const log = await openStore(t, { dir: tmpDir(t) }, { clock });
  t.is(log.lastOffset, -1);
  const topic = await log.createTopic({ name: 'orders', partitions: 6, replicationFactor: 1, configs: { 'retention.ms': '60000' } });
  t.regex(topic.topicId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  t.is(topic.partitions.length, 6);
  t.deepEqual(topic.partitions.map((p) => p.partition), [0, 1, 2, 3, 4, 5]);
  t.is(topic.partitions[0].leader, -1, 'no broker registered: unassigned');
  t.deepEqual(topic.configs, { 'retention.ms': '60000' });
  t.is(log.getTopic('orders'), topic);
  t.is(log.getTopic('missing'), undefined);
  t.is(log.lastOffset, 0);
  const before = clock.advance(1);
  await log.commitOffsets('group-a', [
    { topic: 'orders', partition: 0, offset: 10 },
    { topic: 'orders', partition: 5, offset: 99, leaderEpoch: 4, metadata: 'host-1' },
  ]);
  t.is(log.lastOffset, 1, 'one commit call is one event');
  const committed = log.fetchOffset('group-a', 'orders', 5);
  t.is(committed?.offset, 99);
  t.is(committed?.leaderEpoch, 4);
  t.is(committed?.metadata, 'host-1');
  t.is(committed?.commitTimestamp, before, 'stamped by the store\'s clock');
  t.deepEqual(log.fetchOffset('group-a', 'orders', 0), { offset: 10, leaderEpoch: -1, metadata: '', commitTimestamp: committed?.commitTimestamp });
  t.is(log.fetchOffset('group-a', 'orders', 1), undefined);
  t.is(log.fetchOffset('group-b', 'orders', 0), undefined);
  // Shared values are frozen; committed offsets are fresh copies, so changing one changes nothing.
  t.true(Object.isFrozen(topic) && Object.isFrozen(topic.partitions[0]));
  (committed as { offset: number }).offset = -5;
  t.is(log.fetchOffset('group-a', 'orders', 5)?.offset, 99);
});

test('a restart keeps every topic (same topicId) and offset', async (t) => {
  const dir = tmpDir(t);
  let log = await openStore(t, { dir });
  const created = await log.createTopic({ name: 'a.b_c-1', partitions: 2 });
  const commits: Promise<void>[] = [];
  for (let i = 0; i < 500; i++) commits.push(log.commitOffsets(`g${i % 7}`, [{ topic: 'a.b_c-1', partition: i % 2, offset: i }]));
  await Promise.all(commits);
  const served = log.canonicalState();
  await closeAndVerify(log);
  log = await openStore(t, { dir });
  t.is(log.recovery.replayedEvents, 501);
  t.is(log.recovery.truncatedTail, null);
  t.is(log.getTopic('a.b_c-1')?.topicId, created.topicId);
  t.is(log.fetchOffset('g6', 'a.b_c-1', 1)?.offset, 489, 'the last i < 500 with i % 7 = 6 and i odd');
  t.is(log.canonicalState(), served);
  t.is(log.lastOffset, 500);
});

const BAD_TOPICS: [string, unknown, ErrorCode, number][] = [
  ['empty name', { name: '', partitions: 1 }, 'INVALID_TOPIC_EXCEPTION', 17],
  ['"."', { name: '.', partitions: 1 }, 'INVALID_TOPIC_EXCEPTION', 17],
  ['".."', { name: '..', partitions: 1 }, 'INVALID_TOPIC_EXCEPTION', 17],
  ['250 characters', { name: 'x'.repeat(250), partitions: 1 }, 'INVALID_TOPIC_EXCEPTION', 17],
  ['a space', { name: 'my topic', partitions: 1 }, 'INVALID_TOPIC_EXCEPTION', 17],
  ['a slash', { name: 'a/b', partitions: 1 }, 'INVALID_TOPIC_EXCEPTION', 17],
  ['a non-string name', { name: 7, partitions: 1 }, 'INVALID_TOPIC_EXCEPTION', 17],
  ['0 partitions', { name: 't', partitions: 0 }, 'INVALID_PARTITIONS', 37],
  ['1.5 partitions', { name: 't', partitions: 1.5 }, 'INVALID_PARTITIONS', 37],
  ['too many partitions', { name: 't', partitions: 20001 }, 'INVALID_PARTITIONS', 37],
  ['replication factor 0', { name: 't', partitions: 1, replicationFactor: 0 }, 'INVALID_REPLICATION_FACTOR', 38],
  ['replication factor 40000', { name: 't', partitions: 1, replicationFactor: 40000 }, 'INVALID_REPLICATION_FACTOR', 38],
  ['an unknown config key', { name: 't', partitions: 1, configs: { 'retention.msx': '1' } }, 'INVALID_CONFIG', 40],
  ['a bad config value', { name: 't', partitions: 1, configs: { 'cleanup.policy': 'shred' } }, 'INVALID_CONFIG', 40],
  ['a non-string config value', { name: 't', partitions: 1, configs: { 'retention.ms': 5 } }, 'INVALID_CONFIG', 40],
];

test('every bad createTopic is rejected with its Kafka code and leaves no trace', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 'existing', partitions: 1 });
  const before = log.canonicalState();
  for (const [what, input, code, kafkaCode] of BAD_TOPICS) {
    const error = await rejectsWith(t, log.createTopic(input as never), code, kafkaCode);
    t.truthy(error.details.field ?? error.details.entity, `${what}: the error names the field`);
  }
  await rejectsWith(t, log.createTopic({ name: 'existing', partitions: 3 }), 'TOPIC_ALREADY_EXISTS', 36);
  t.is(log.canonicalState(), before);
  t.is(log.lastOffset, 0);
});

test('every bad commitOffsets is rejected with its Kafka code, atomically, and leaves no trace', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 'orders', partitions: 2 });
  await log.commitOffsets('g', [{ topic: 'orders', partition: 0, offset: 1 }]);
  const before = log.canonicalState();
  await rejectsWith(t, log.commitOffsets('g', [{ topic: 'orders', partition: 0, offset: 5 }, { topic: 'nope', partition: 0, offset: 5 }]), 'UNKNOWN_TOPIC_OR_PARTITION', 3);
  await rejectsWith(t, log.commitOffsets('g', [{ topic: 'orders', partition: 2, offset: 5 }]), 'UNKNOWN_TOPIC_OR_PARTITION', 3);
  await rejectsWith(t, log.commitOffsets('g', [{ topic: 'orders', partition: -1, offset: 5 }]), 'UNKNOWN_TOPIC_OR_PARTITION', 3);
  await rejectsWith(t, log.commitOffsets('', [{ topic: 'orders', partition: 0, offset: 5 }]), 'INVALID_GROUP_ID', 24);
  await rejectsWith(t, log.commitOffsets('g', []), 'INVALID_REQUEST', 42);
  // Negative offsets down to -2^52 are valid (admin resets write -1 and -2); below that avsc's long is not exact.
  await rejectsWith(t, log.commitOffsets('g', [{ topic: 'orders', partition: 0, offset: -(2 ** 52) - 1 }]), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log.commitOffsets('g', [{ topic: 'orders', partition: 0, offset: 2 ** 53 - 1 }]), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log.commitOffsets('g', [{ topic: 'orders', partition: 0, offset: 3, metadata: 'm'.repeat(4097) }]), 'OFFSET_METADATA_TOO_LARGE', 12);
  await rejectsWith(t, log.commitOffsets('g', [{ topic: 'orders', partition: 0, offset: 3 }, { topic: 'orders', partition: 0, offset: 4 }]), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log.commitOffsets('g', [{ topic: 'bad name', partition: 0, offset: 3 }]), 'INVALID_TOPIC_EXCEPTION', 17);
  t.is(log.canonicalState(), before);
  t.is(log.fetchOffset('g', 'orders', 0)?.offset, 1);
});

test('a rejected command does not disturb the other commands of its batch', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  const results = await Promise.allSettled([
    log.createTopic({ name: 'one', partitions: 1 }),
    log.createTopic({ name: 'one', partitions: 1 }),
    log.createTopic({ name: 'two', partitions: 1 }),
    log.commitOffsets('g', [{ topic: 'three', partition: 0, offset: 1 }]),
    log.commitOffsets('g', [{ topic: 'two', partition: 0, offset: 1 }]),
  ]);
  t.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
  t.is(((results[1] as PromiseRejectedResult).reason as MetaLogError).code, 'TOPIC_ALREADY_EXISTS');
  t.is(((results[3] as PromiseRejectedResult).reason as MetaLogError).code, 'UNKNOWN_TOPIC_OR_PARTITION');
  t.is(log.lastOffset, 2);
  t.is(log.fetchOffset('g', 'two', 0)?.offset, 1);
});

for (const durability of ['interval', 'none'] as const) {
  test(`durability ${durability}: writes resolve, sync() makes them durable, close keeps them`, async (t) => {
    const dir = tmpDir(t);
    let log = await openStore(t, { dir, durability, flushIntervalMs: 5 });
    await log.createTopic({ name: 't', partitions: 1 });
    for (let i = 0; i < 50; i++) await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: i }]);
    await log.sync();
    t.is(log.durableOffset, log.lastOffset);
    await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 1000 }]);
    await closeAndVerify(log);
    log = await openStore(t, { dir, durability });
    t.is(log.fetchOffset('g', 't', 0)?.offset, 1000);
  });
}

test('segments rotate by size and a reopen reads them all', async (t) => {
  const dir = tmpDir(t);
  let log = await openStore(t, { dir, segmentBytes: 64 * 1024 });
  await log.createTopic({ name: 't', partitions: 3 });
  for (let round = 0; round < 20; round++) {
    const batch: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) batch.push(log.commitOffsets(`group-${i}`, [{ topic: 't', partition: i % 3, offset: round * 100 + i, metadata: 'x'.repeat(40) }]));
    await Promise.all(batch);
  }
  await closeAndVerify(log);
  const segments = fs.readdirSync(path.join(dir, 'wal')).filter((name) => name.endsWith('.log'));
  t.true(segments.length >= 3, `${segments.length} segments`);
  for (const name of segments) t.true(fs.statSync(path.join(dir, 'wal', name)).size <= 64 * 1024);
  log = await openStore(t, { dir, segmentBytes: 64 * 1024 });
  t.is(log.recovery.replayedEvents, 2001);
  t.is(log.fetchOffset('group-99', 't', 0)?.offset, 1999);
});

test('calls after close fail with STORE_CLOSED; close is idempotent', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await closeAndVerify(log);
  await log.close();
  await rejectsWith(t, log.createTopic({ name: 't', partitions: 1 }), 'STORE_CLOSED');
  t.is((t.throws(() => log.getTopic('t')) as MetaLogError).code, 'STORE_CLOSED');
  t.is((t.throws(() => log.fetchOffset('g', 't', 0)) as MetaLogError).code, 'STORE_CLOSED');
});

test('writes in flight at close are all acknowledged before close resolves', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir });
  await log.createTopic({ name: 't', partitions: 1 });
  const writes = Array.from({ length: 2000 }, (_, i) => log.commitOffsets('g', [{ topic: 't', partition: 0, offset: i }]));
  const closed = closeAndVerify(log);
  const settled = await Promise.allSettled(writes);
  await closed;
  t.true(settled.every((s) => s.status === 'fulfilled'));
  const reopened = await MetaLog.open({ dir });
  t.is(reopened.fetchOffset('g', 't', 0)?.offset, 1999);
  await reopened.close();
});

test('open rejects bad config with INVALID_CONFIG before touching the directory', async (t) => {
  const dir = path.join(tmpDir(t), 'never-created');
  await rejectsWith(t, MetaLog.open({ dir, durability: 'sometimes' as never }), 'INVALID_CONFIG', 40);
  t.false(fs.existsSync(dir));
});

test('an open whose recovery cannot even start fails with the writer error, releases the lock, and leaves no thread', async (t) => {
  const dir = tmpDir(t);
  fs.writeFileSync(path.join(dir, 'wal'), 'not a directory');
  const error = (await t.throwsAsync(MetaLog.open({ dir }), { instanceOf: MetaLogError })) as MetaLogError;
  t.is(error.code, 'KAFKA_STORAGE_ERROR');
  t.regex(error.message, /EEXIST|ENOTDIR/);
  t.is(error.details.file, path.join(dir, 'wal'));
  t.false(fs.existsSync(path.join(dir, 'LOCK')));
});

test('a batch closes at maxBatchBytes even when small commands make large events (one ring read holds many)', async (t) => {
  // 30 topics of 20,000 partitions: each command is a few bytes, each event about 160 KB, so one read of
  // the command ring holds about 5 MB of events against 1 MiB batches (and a batch buffer of 2 MiB).
  const log = await openStore(t, { dir: tmpDir(t), durability: 'none', maxBatchBytes: 1024 * 1024 });
  const created = await Promise.all(Array.from({ length: 30 }, (_, i) => log.createTopic({ name: `wide-${i}`, partitions: 20_000 })));
  t.is(created.length, 30);
  t.is(log.readOnlyError, null);
  t.is(log.getTopic('wide-29')?.partitions.length, 20_000);
});

test('durability interval under steady load: once flushIntervalMs of the clock has passed, the writer fdatasyncs after the batch it is on', async (t) => {
  // How: thousands of commits keep the command ring busy, so the writer is never idle. Once the first
  // is acknowledged, the test moves the store's clock past the flush interval and sends one commit; the
  // writer reads the clock after it read that commit, so the batch holding it ends after the move and
  // the fdatasync follows its acknowledgement at once. A second commit, sent after the first resolved,
  // is acknowledged after that fdatasync: by then everything written before the move is durable.
  const clock = new ManualClock(1_000_000);
  const log = await openStore(t, { dir: tmpDir(t), durability: 'interval', flushIntervalMs: 20 }, { clock });
  await log.createTopic({ name: 't', partitions: 1 });
  const load: Promise<void>[] = [];
  for (let i = 0; i < 4000; i++) load.push(log.commitOffsets('g', [{ topic: 't', partition: 0, offset: i }]));
  await load[0];
  clock.advance(25);
  const writtenBeforeMove = log.lastOffset;
  await log.commitOffsets('late', [{ topic: 't', partition: 0, offset: 1 }]);
  await log.commitOffsets('late', [{ topic: 't', partition: 0, offset: 2 }]);
  t.true(log.durableOffset >= writtenBeforeMove, `durable ${log.durableOffset} < ${writtenBeforeMove}`);
  await Promise.all(load);
});
