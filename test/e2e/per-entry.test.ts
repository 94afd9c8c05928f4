/**
 * Per-entry answers (commitOffsetsEach, deleteOffsetsEach), as Kafka answers OffsetCommit and
 * OffsetDelete per partition: the valid entries land as one event, each refused entry carries its own
 * error in the order given, nothing is written when every entry is refused, and what concerns the
 * whole request still rejects. The refusals decided on the writer thread travel back in the
 * acknowledgement; the test also checks those made on the caller's thread, and that the all-or-nothing
 * calls keep refusing the whole request.
 */
import test from 'ava';
import { MetaLog } from '../../src/api/metalog.js';
import type { PartitionResult } from '../../src/index.js';
import { MetaLogError } from '../../src/errors.js';
import { rejectsWith } from '../helpers/reject.js';
import { openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

function codes(results: PartitionResult[]): (string | null)[] {
  return results.map((result) => result.error?.code ?? null);
}

async function setUp(log: MetaLog): Promise<void> {
  await log.createTopic({ name: 'orders', partitions: 2 });
  await log.createTopic({ name: 'audit', partitions: 1 });
}

test('commitOffsetsEach: valid entries land as one event, each refused entry has its own error, in order', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await setUp(log);
  const before = log.lastOffset;
  const results = await log.commitOffsetsEach('billing', [
    { topic: 'orders', partition: 0, offset: 10 },
    { topic: 'missing', partition: 0, offset: 1 },
    { topic: 'orders', partition: 5, offset: 1 },
    { topic: 'orders', partition: -1, offset: 1 },
    { topic: 'audit', partition: 0, offset: 3, metadata: 'x'.repeat(4097) },
    { topic: 'orders', partition: 1, offset: -1 },
  ]);
  t.deepEqual(codes(results), [null, 'UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_OR_PARTITION', 'OFFSET_METADATA_TOO_LARGE', null]);
  t.deepEqual(results.map((r) => `${r.topic}-${r.partition}`), ['orders-0', 'missing-0', 'orders-5', 'orders--1', 'audit-0', 'orders-1']);
  for (const result of results) {
    if (result.error === null) continue;
    t.true(result.error instanceof MetaLogError);
    t.is(result.error.kafkaCode, result.error.code === 'OFFSET_METADATA_TOO_LARGE' ? 12 : 3);
  }
  t.is(results[1].error?.details.entity, 'missing-0');
  t.is(log.lastOffset, before + 1, 'one event');
  const [event] = await log.history({ fromOffset: before + 1 });
  t.is(event.type, 'OffsetsCommitted');
  t.deepEqual(log.fetchOffsets('billing').map((o) => [o.topic, o.partition, o.offset]), [['orders', 0, 10], ['orders', 1, -1]]);
});

test('commitOffsetsEach: when every entry is refused nothing is written', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await setUp(log);
  const before = log.lastOffset;
  const state = log.canonicalState();
  const results = await log.commitOffsetsEach('billing', [
    { topic: 'missing', partition: 0, offset: 1 },
    { topic: 'orders', partition: 9, offset: 1 },
  ]);
  t.deepEqual(codes(results), ['UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_OR_PARTITION']);
  const refusedHere = await log.commitOffsetsEach('billing', [{ topic: 'orders', partition: 0, offset: 1, metadata: 'y'.repeat(5000) }]);
  t.deepEqual(codes(refusedHere), ['OFFSET_METADATA_TOO_LARGE']);
  t.is(log.lastOffset, before);
  t.is(log.canonicalState(), state);
  t.deepEqual(log.fetchOffsets('billing'), []);
});

test('commitOffsetsEach: what concerns the whole request rejects, and commitOffsets stays all or nothing', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await setUp(log);
  await log.upsertGroup({
    groupId: 'live', state: 'Stable', protocolType: 'consumer', protocol: 'range', generation: 2, leader: 'm',
    members: [{ memberId: 'm', clientId: 'c', clientHost: 'h', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, topics: ['orders'], subscription: new Uint8Array(0), assignment: new Uint8Array(0) }],
  });
  const entries = [{ topic: 'orders', partition: 0, offset: 1 }, { topic: 'missing', partition: 0, offset: 1 }];
  await rejectsWith(t, log, log.commitOffsetsEach('', entries), 'INVALID_GROUP_ID', 24);
  await rejectsWith(t, log, log.commitOffsetsEach('live', entries), 'UNKNOWN_MEMBER_ID', 25);
  await rejectsWith(t, log, log.commitOffsetsEach('live', entries, { generation: 1, memberId: 'm' }), 'ILLEGAL_GENERATION', 22);
  await rejectsWith(t, log, log.commitOffsetsEach('live', [{ topic: 'orders', partition: 0, offset: 1.5 }]), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log, log.commitOffsetsEach('live', [entries[0], entries[0]], { generation: 2, memberId: 'm' }), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log, log.commitOffsetsEach('live', [] as never), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log, log.commitOffsetsEach('live', 'x' as never), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log, log.commitOffsets('live', entries, { generation: 2, memberId: 'm' }), 'UNKNOWN_TOPIC_OR_PARTITION', 3);
  t.deepEqual(codes(await log.commitOffsetsEach('live', entries, { generation: 2, memberId: 'm' })), [null, 'UNKNOWN_TOPIC_OR_PARTITION']);
  t.is(log.fetchOffset('live', 'orders', 0)?.offset, 1);
  await log.close();
  await t.throwsAsync(log.commitOffsetsEach('live', entries), { instanceOf: MetaLogError, message: /closed/ });
});

test('deleteOffsetsEach: subscribed topics and unknown partitions are refused one by one', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await setUp(log);
  await log.commitOffsets('billing', [
    { topic: 'orders', partition: 0, offset: 1 },
    { topic: 'orders', partition: 1, offset: 2 },
    { topic: 'audit', partition: 0, offset: 3 },
  ]);
  await log.upsertGroup({
    groupId: 'billing', state: 'Stable', protocolType: 'consumer', protocol: 'range', generation: 1, leader: 'm',
    members: [{ memberId: 'm', clientId: 'c', clientHost: 'h', sessionTimeoutMs: 10000, rebalanceTimeoutMs: 10000, topics: ['orders'], subscription: new Uint8Array(0), assignment: new Uint8Array(0) }],
  });
  const before = log.lastOffset;
  const results = await log.deleteOffsetsEach('billing', [
    { topic: 'orders', partition: 0 },
    { topic: 'audit', partition: 0 },
    { topic: 'missing', partition: 0 },
    { topic: 'audit', partition: 70000 },
  ]);
  t.deepEqual(codes(results), ['GROUP_SUBSCRIBED_TO_TOPIC', null, 'UNKNOWN_TOPIC_OR_PARTITION', 'UNKNOWN_TOPIC_OR_PARTITION']);
  t.is(results[0].error?.kafkaCode, 86);
  t.is(log.lastOffset, before + 1);
  t.deepEqual(log.fetchOffsets('billing').map((o) => `${o.topic}-${o.partition}`), ['orders-0', 'orders-1']);
  const none = await log.deleteOffsetsEach('billing', [{ topic: 'orders', partition: 1 }]);
  t.deepEqual(codes(none), ['GROUP_SUBSCRIBED_TO_TOPIC']);
  t.is(log.lastOffset, before + 1, 'nothing written when every partition is refused');
  await rejectsWith(t, log, log.deleteOffsets('billing', [{ topic: 'orders', partition: 1 }]), 'GROUP_SUBSCRIBED_TO_TOPIC', 86);
  await rejectsWith(t, log, log.deleteOffsetsEach('billing', [{ topic: 'orders', partition: 'x' as never }]), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log, log.deleteOffsetsEach('', [{ topic: 'orders', partition: 0 }]), 'INVALID_GROUP_ID', 24);
});

test('per-entry calls from an attached handle get their refusals through the same acknowledgement', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await setUp(log);
  const attached = MetaLog.attach(log.handle);
  try {
    const results = await attached.commitOffsetsEach('g', [{ topic: 'missing', partition: 0, offset: 1 }, { topic: 'audit', partition: 0, offset: 4 }]);
    t.deepEqual(codes(results), ['UNKNOWN_TOPIC_OR_PARTITION', null]);
    t.is(log.fetchOffset('g', 'audit', 0)?.offset, 4);
  } finally {
    await attached.close();
  }
});
