/**
 * Idempotent producers, one test per row of the table in producer-state.ts, through the partition log
 * with batches kafkajs encodes (so producerId, epoch and sequence sit where a real client puts them), and
 * the state rebuilt from the segments on reopen.
 */
import test from 'ava';
import { ErrorCode, KafkaError } from '../../../../src/kafka/error-codes.js';
import { NodeLogStorage } from '../../../../src/kafka/partition-log/log-storage.js';
import { PartitionLog } from '../../../../src/kafka/partition-log/partition-log.js';
import type { PartitionLogConfig } from '../../../../src/kafka/partition-log/partition-log-config.js';
import { lastSequenceOf, nextSequence, ProducerStateTable } from '../../../../src/kafka/partition-log/producer-state.js';
import { walkBatches } from '../../../../src/kafka/partition-log/record-batch.js';
import { tmpDir } from '../../../helpers/tmp.js';
import { buildBatch, values } from './batches.js';

const NOW_MS = 1_700_000_000_000;
const PRODUCER = 4000;

function open(dirPath: string, config: Partial<PartitionLogConfig> = {}): Promise<PartitionLog> {
  return PartitionLog.open({ storage: new NodeLogStorage(), dirPath, config });
}

function idempotent(baseSequence: number, count: number, producerEpoch = 0, producerId = PRODUCER): Promise<Buffer> {
  return buildBatch({ values: values(`s${baseSequence}`, count), producerId, producerEpoch, baseSequence, timestampMs: NOW_MS });
}

async function codeOf(run: Promise<unknown>): Promise<number | undefined> {
  try {
    await run;
  } catch (error) {
    if (error instanceof KafkaError) return error.errorCode;
    throw error;
  }
  return undefined;
}

test('a retry of one of the last five batches is answered with its original offsets and not written', async (t) => {
  const log = await open(tmpDir(t));
  const results = [];
  for (let i = 0; i < 6; i++) results.push(await log.append(await idempotent(i * 2, 2), 0, NOW_MS));
  const endBefore = log.logEndOffset;
  // Batches 1..5 are remembered (the last five); batch 0 is not any more.
  for (let i = 1; i < 6; i++) {
    const retry = await log.append(await idempotent(i * 2, 2), 0, NOW_MS);
    t.like(retry, { baseOffset: results[i].baseOffset, lastOffset: results[i].lastOffset, duplicate: true }, `batch ${i}`);
  }
  t.is(log.logEndOffset, endBefore);
  t.is(await codeOf(log.append(await idempotent(0, 2), 0, NOW_MS)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, 'too old to be known as a duplicate');
  await log.close();
});

test('a gap in the sequence is OUT_OF_ORDER_SEQUENCE_NUMBER and leaves no trace', async (t) => {
  const log = await open(tmpDir(t));
  await log.append(await idempotent(0, 3), 0, NOW_MS);
  t.is(await codeOf(log.append(await idempotent(4, 1), 0, NOW_MS)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  t.is(log.logEndOffset, 3);
  t.like(await log.append(await idempotent(3, 1), 0, NOW_MS), { baseOffset: 3, duplicate: false });
  await log.close();
});

test('an older epoch is INVALID_PRODUCER_EPOCH; a newer epoch must start at sequence 0', async (t) => {
  const log = await open(tmpDir(t));
  await log.append(await idempotent(0, 2, 3), 0, NOW_MS);
  t.is(await codeOf(log.append(await idempotent(2, 1, 2), 0, NOW_MS)), ErrorCode.INVALID_PRODUCER_EPOCH);
  t.is(await codeOf(log.append(await idempotent(2, 1, 4), 0, NOW_MS)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  t.like(await log.append(await idempotent(0, 1, 4), 0, NOW_MS), { baseOffset: 2, duplicate: false });
  t.is(log.producerEntry(PRODUCER)?.producerEpoch, 4);
  t.is(log.producerEntry(PRODUCER)?.batches.length, 1, 'a new epoch starts a new history');
  await log.close();
});

test('an unknown producer is accepted at any sequence, as Kafka does after its state is gone', async (t) => {
  const log = await open(tmpDir(t));
  t.like(await log.append(await idempotent(77, 2), 0, NOW_MS), { baseOffset: 0, duplicate: false });
  t.like(await log.append(await idempotent(79, 1), 0, NOW_MS), { baseOffset: 2 });
  await log.close();
});

test('producerId -1 is never checked: the same bytes twice are two appends', async (t) => {
  const log = await open(tmpDir(t));
  const batch = await buildBatch({ values: ['x'], producerId: -1, baseSequence: 5 });
  await log.append(Buffer.from(batch), 0, NOW_MS);
  t.like(await log.append(Buffer.from(batch), 0, NOW_MS), { baseOffset: 1, duplicate: false });
  t.is(log.producerEntry(-1), undefined);
  await log.close();
});

test('producers are kept apart', async (t) => {
  const log = await open(tmpDir(t));
  await log.append(await idempotent(0, 1, 0, 1), 0, NOW_MS);
  await log.append(await idempotent(0, 1, 0, 2), 0, NOW_MS);
  t.like(await log.append(await idempotent(0, 1, 0, 1), 0, NOW_MS), { baseOffset: 0, duplicate: true });
  t.like(await log.append(await idempotent(0, 1, 0, 2), 0, NOW_MS), { baseOffset: 1, duplicate: true });
  await log.close();
});

test('sequences wrap from 2^31 - 1 to 0', async (t) => {
  t.is(nextSequence(2 ** 31 - 1), 0);
  t.is(lastSequenceOf(2 ** 31 - 2, 2), 0);
  const log = await open(tmpDir(t));
  await log.append(await idempotent(2 ** 31 - 3, 2), 0, NOW_MS); // sequences 2^31-3, 2^31-2
  t.like(await log.append(await idempotent(2 ** 31 - 1, 3), 0, NOW_MS), { baseOffset: 2, duplicate: false }); // 2^31-1, 0, 1
  t.like(await log.append(await idempotent(2, 1), 0, NOW_MS), { baseOffset: 5, duplicate: false });
  t.like(await log.append(await idempotent(2 ** 31 - 1, 3), 0, NOW_MS), { baseOffset: 2, duplicate: true });
  await log.close();
});

test('the producer state is rebuilt on reopen from the newest segments', async (t) => {
  const dir = tmpDir(t);
  const size = (await idempotent(0, 2)).length;
  const config = { segmentBytes: size * 2 };
  const log = await open(dir, config);
  for (let i = 0; i < 5; i++) await log.append(await idempotent(i * 2, 2), 0, NOW_MS);
  await log.close();
  const reopened = await open(dir, config);
  t.true(reopened.segmentInfos().length >= 2);
  t.like(await reopened.append(await idempotent(8, 2), 0, NOW_MS), { baseOffset: 8, duplicate: true });
  t.is(await codeOf(reopened.append(await idempotent(11, 1), 0, NOW_MS)), ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  t.like(await reopened.append(await idempotent(10, 1), 0, NOW_MS), { baseOffset: 10, duplicate: false });
  await reopened.close();
});

test('the table checks a batch against batches earlier in the same append', async (t) => {
  const table = new ProducerStateTable();
  const [first] = walkBatches(await idempotent(0, 2), 1 << 20);
  const [gap] = walkBatches(await idempotent(5, 1), 1 << 20);
  table.replay({ ...first, baseOffset: 0 });
  const pending = new Map([[PRODUCER, ProducerStateTable.advance(table.get(PRODUCER), { ...first, baseSequence: 2, baseOffset: 2 })]]);
  t.throws(() => table.check(gap, pending), { instanceOf: KafkaError });
  const [next] = walkBatches(await idempotent(4, 1), 1 << 20);
  t.deepEqual(table.check(next, pending), { kind: 'append' });
});
