/**
 * Watermarks, segment metadata, producer ids and transactions end to end: each rule, each error code with
 * the state unchanged, the cascade of a topic delete, and ids never reissued after a restart.
 */
import test from 'ava';
import { rejectsWith } from '../helpers/reject.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

const segment = (segmentId: number, baseOffset: number): { segmentId: number; baseOffset: number; lastOffset: number; sizeBytes: number; recordCount: number; path: string } => ({
  segmentId, baseOffset, lastOffset: baseOffset + 99, sizeBytes: 4096, recordCount: 100, path: `/data/t-0/${String(baseOffset).padStart(20, '0')}.log`,
});

test('watermarks only move forward, except by an explicit reset', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 't', partitions: 2 });
  t.is(log.getWatermarks('t', 0), undefined);
  t.deepEqual({ ...(await log.updateWatermarks('t', 0, { highWatermark: 100 })) }, { highWatermark: 100, logStartOffset: 0 });
  t.deepEqual({ ...(await log.updateWatermarks('t', 0, { logStartOffset: 40 })) }, { highWatermark: 100, logStartOffset: 40 });
  await rejectsWith(t, log, log.updateWatermarks('t', 0, { highWatermark: 99 }), 'WATERMARK_REGRESSION');
  await rejectsWith(t, log, log.updateWatermarks('t', 0, { logStartOffset: 39 }), 'WATERMARK_REGRESSION');
  await rejectsWith(t, log, log.updateWatermarks('t', 0, { logStartOffset: 101 }), 'WATERMARK_REGRESSION');
  await rejectsWith(t, log, log.updateWatermarks('t', 2, { highWatermark: 1 }), 'UNKNOWN_TOPIC_OR_PARTITION', 3);
  await rejectsWith(t, log, log.updateWatermarks('t', 0, {}), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log, log.resetWatermarks('t', 0, { highWatermark: 5, logStartOffset: 6 }), 'WATERMARK_REGRESSION');
  t.deepEqual({ ...(await log.resetWatermarks('t', 0, { highWatermark: 10, logStartOffset: 0 })) }, { highWatermark: 10, logStartOffset: 0 });
});

test('segments are added once and removed once per partition, and listed in offset order', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 't', partitions: 1 });
  await log.addSegment('t', 0, segment(2, 100));
  await log.addSegment('t', 0, segment(1, 0));
  t.deepEqual(log.listSegments('t', 0).map((s) => s.segmentId), [1, 2]);
  await rejectsWith(t, log, log.addSegment('t', 0, segment(1, 200)), 'INVALID_REQUEST', 42);
  await rejectsWith(t, log, log.addSegment('t', 1, segment(3, 0)), 'UNKNOWN_TOPIC_OR_PARTITION', 3);
  await rejectsWith(t, log, log.addSegment('t', 0, { ...segment(4, 10), lastOffset: 5 }), 'INVALID_REQUEST', 42);
  await log.removeSegment('t', 0, 1);
  t.deepEqual(log.listSegments('t', 0).map((s) => s.segmentId), [2]);
  await rejectsWith(t, log, log.removeSegment('t', 0, 1), 'INVALID_REQUEST', 42);
  t.deepEqual(log.listSegments('other', 0), []);
});

test('deleting a topic takes its watermarks and segments with it', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 't', partitions: 1 });
  await log.updateWatermarks('t', 0, { highWatermark: 5 });
  await log.addSegment('t', 0, segment(1, 0));
  await log.deleteTopic('t');
  await log.createTopic({ name: 't', partitions: 1 });
  t.is(log.getWatermarks('t', 0), undefined);
  t.deepEqual(log.listSegments('t', 0), []);
});

test('producer id blocks are never reissued, also after a restart', async (t) => {
  const dir = tmpDir(t);
  let log = await openStore(t, { dir });
  const first = await log.allocateProducerIds(1000);
  const [second, third] = await Promise.all([log.allocateProducerIds(10), log.allocateProducerIds(5)]);
  t.deepEqual(first, { firstProducerId: 0, count: 1000 });
  t.deepEqual([second, third], [{ firstProducerId: 1000, count: 10 }, { firstProducerId: 1010, count: 5 }], 'two allocations in one batch get their own blocks');
  const producer = await log.initProducerId('tx-1', 60000);
  t.is(producer.producerId, 1015);
  await closeAndVerify(log);
  log = await openStore(t, { dir });
  t.deepEqual(await log.allocateProducerIds(1), { firstProducerId: 1016, count: 1 });
  await rejectsWith(t, log, log.allocateProducerIds(0), 'INVALID_REQUEST', 42);
});

test('transactions: the state machine, fencing by producer epoch, and the error codes', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 't', partitions: 2 });
  const first = await log.initProducerId('tx', 60000);
  t.deepEqual(first, { producerId: 0, producerEpoch: 0 });
  await log.addPartitionsToTxn('tx', first, [{ topic: 't', partition: 0 }]);
  await log.addPartitionsToTxn('tx', first, [{ topic: 't', partition: 0 }, { topic: 't', partition: 1 }]);
  await log.addOffsetsToTxn('tx', first, 'consumers');
  let txn = log.getTransaction('tx');
  t.is(txn?.state, 'Ongoing');
  t.deepEqual(txn?.partitions.map((p) => `${p.topic}-${p.partition}`), ['t-0', 't-1']);
  t.deepEqual(txn?.groupIds, ['consumers']);
  await rejectsWith(t, log, log.initProducerId('tx', 60000), 'CONCURRENT_TRANSACTIONS', 51);
  await log.endTxn('tx', first, true);
  t.is(log.getTransaction('tx')?.state, 'PrepareCommit');
  // A transaction being completed answers the retriable CONCURRENT_TRANSACTIONS (Kafka's coordinator),
  // except for the other outcome, which no retry makes valid.
  const adding = await rejectsWith(t, log, log.addPartitionsToTxn('tx', first, [{ topic: 't', partition: 0 }]), 'CONCURRENT_TRANSACTIONS', 51);
  t.true(adding.retriable);
  await rejectsWith(t, log, log.addOffsetsToTxn('tx', first, 'consumers'), 'CONCURRENT_TRANSACTIONS', 51);
  await rejectsWith(t, log, log.endTxn('tx', first, true), 'CONCURRENT_TRANSACTIONS', 51);
  await rejectsWith(t, log, log.initProducerId('tx', 60000), 'CONCURRENT_TRANSACTIONS', 51);
  await rejectsWith(t, log, log.endTxn('tx', first, false), 'INVALID_TXN_STATE', 48);
  await log.completeTxn('tx');
  txn = log.getTransaction('tx');
  t.is(txn?.state, 'CompleteCommit');
  t.deepEqual(txn?.partitions, []);
  await rejectsWith(t, log, log.completeTxn('tx'), 'INVALID_TXN_STATE', 48);

  const second = await log.initProducerId('tx', 30000);
  t.deepEqual(second, { producerId: 0, producerEpoch: 1 }, 'the same producer id, the next epoch');
  await rejectsWith(t, log, log.addPartitionsToTxn('tx', first, [{ topic: 't', partition: 0 }]), 'PRODUCER_FENCED', 90);
  await rejectsWith(t, log, log.addPartitionsToTxn('tx', { producerId: 0, producerEpoch: 2 }, [{ topic: 't', partition: 0 }]), 'INVALID_PRODUCER_EPOCH', 47);
  await rejectsWith(t, log, log.addPartitionsToTxn('tx', { producerId: 7, producerEpoch: 1 }, [{ topic: 't', partition: 0 }]), 'INVALID_PRODUCER_ID_MAPPING', 49);
  await rejectsWith(t, log, log.addPartitionsToTxn('tx', second, [{ topic: 't', partition: 5 }]), 'UNKNOWN_TOPIC_OR_PARTITION', 3);
  await rejectsWith(t, log, log.initProducerId('tx2', 0), 'INVALID_TRANSACTION_TIMEOUT', 50);
  await rejectsWith(t, log, log.endTxn('tx', second, true), 'INVALID_TXN_STATE', 48);
  await log.addPartitionsToTxn('tx', second, [{ topic: 't', partition: 1 }]);
  await log.endTxn('tx', second, false);
  await rejectsWith(t, log, log.endTxn('tx', second, false), 'CONCURRENT_TRANSACTIONS', 51);
  await rejectsWith(t, log, log.addPartitionsToTxn('tx', second, [{ topic: 't', partition: 0 }]), 'CONCURRENT_TRANSACTIONS', 51);
  await rejectsWith(t, log, log.endTxn('tx', second, true), 'INVALID_TXN_STATE', 48);
  await log.completeTxn('tx');
  t.is(log.getTransaction('tx')?.state, 'CompleteAbort');
});
