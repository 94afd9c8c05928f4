/**
 * The RecordBatch walker against bytes kafkajs encodes (plain and gzip): every header field read in
 * place, and each way a batch can be refused with its Kafka error code. Damage is planted by changing
 * one byte or one length of a real batch.
 */
import test from 'ava';
import { crc32c } from '../../../../src/index.js';
import { ErrorCode, KafkaError } from '../../../../src/kafka/error-codes.js';
import { BatchField, rewriteBatchOffsets, walkBatches } from '../../../../src/kafka/partition-log/record-batch.js';
import { buildBatch, values } from './batches.js';

const MAX = 1024 * 1024;

function codeOf(run: () => unknown): number | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof KafkaError) return error.errorCode;
    throw error;
  }
  return undefined;
}

test('a plain kafkajs batch is read field by field', async (t) => {
  const bytes = await buildBatch({ values: values('a', 3), timestampMs: 1234, producerId: 7, producerEpoch: 2, baseSequence: 10 });
  const [header] = walkBatches(bytes, MAX);
  t.is(header.position, 0);
  t.is(header.sizeBytes, bytes.length);
  t.is(header.magic, 2);
  t.is(header.recordCount, 3);
  t.is(header.lastOffsetDelta, 2);
  t.is(header.baseTimestamp, 1234);
  t.is(header.maxTimestamp, 1234);
  t.is(header.producerId, 7);
  t.is(header.producerEpoch, 2);
  t.is(header.baseSequence, 10);
  t.is(header.attributes & 7, 0);
  t.is(header.crc, crc32c(bytes, 21, bytes.length));
});

test('a gzip kafkajs batch is walked without being decompressed', async (t) => {
  const bytes = await buildBatch({ values: values('g', 50), compression: 'gzip' });
  const [header] = walkBatches(bytes, MAX);
  t.is(header.attributes & 7, 1);
  t.is(header.recordCount, 50);
  t.is(header.sizeBytes, bytes.length);
});

test('several batches back to back are walked in order', async (t) => {
  const bytes = Buffer.concat([await buildBatch({ values: values('a', 2) }), await buildBatch({ values: values('b', 5), compression: 'gzip' })]);
  const headers = walkBatches(bytes, MAX);
  t.deepEqual(headers.map((header) => header.recordCount), [2, 5]);
  t.is(headers[1].position, headers[0].sizeBytes);
});

test('a flipped bit anywhere the CRC covers is CORRUPT_MESSAGE', async (t) => {
  const pristine = await buildBatch({ values: values('c', 2) });
  // Every byte from attributes to the end, one bit each: the CRC notices all of them.
  for (let position = BatchField.attributes; position < pristine.length; position++) {
    const damaged = Buffer.from(pristine);
    damaged[position] ^= 0x10;
    t.is(codeOf(() => walkBatches(damaged, MAX)), ErrorCode.CORRUPT_MESSAGE, `bit flip at ${position}`);
  }
});

test('a flipped bit in the CRC field itself is CORRUPT_MESSAGE', async (t) => {
  const damaged = await buildBatch({ values: values('c', 2) });
  damaged[BatchField.crc + 3] ^= 0x01;
  t.is(codeOf(() => walkBatches(damaged, MAX)), ErrorCode.CORRUPT_MESSAGE);
});

test('magic 0 or 1 is UNSUPPORTED_FOR_MESSAGE_FORMAT; an unknown magic is CORRUPT_MESSAGE', async (t) => {
  for (const [magic, code] of [
    [0, ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT],
    [1, ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT],
    [3, ErrorCode.CORRUPT_MESSAGE],
  ] as const) {
    const bytes = await buildBatch({ values: ['x'] });
    bytes[BatchField.magic] = magic;
    t.is(codeOf(() => walkBatches(bytes, MAX)), code, `magic ${magic}`);
  }
});

test('a batch larger than max.message.bytes is MESSAGE_TOO_LARGE', async (t) => {
  const bytes = await buildBatch({ values: values('big', 20) });
  t.is(codeOf(() => walkBatches(bytes, bytes.length - 1)), ErrorCode.MESSAGE_TOO_LARGE);
  t.is(walkBatches(bytes, bytes.length).length, 1);
});

test('a batch length that runs past the buffer or is below the header is CORRUPT_MESSAGE', async (t) => {
  const bytes = await buildBatch({ values: ['x'] });
  t.is(codeOf(() => walkBatches(bytes.subarray(0, bytes.length - 1), MAX)), ErrorCode.CORRUPT_MESSAGE, 'cut short');
  t.is(codeOf(() => walkBatches(bytes.subarray(0, 8), MAX)), ErrorCode.CORRUPT_MESSAGE, 'no length');
  const short = Buffer.from(bytes);
  short.writeInt32BE(40, BatchField.batchLength);
  t.is(codeOf(() => walkBatches(short.subarray(0, 52), MAX)), ErrorCode.CORRUPT_MESSAGE, 'below the header');
  const negative = Buffer.from(bytes);
  negative.writeInt32BE(-5, BatchField.batchLength);
  t.is(codeOf(() => walkBatches(negative, MAX)), ErrorCode.CORRUPT_MESSAGE, 'negative length');
  t.is(codeOf(() => walkBatches(Buffer.alloc(0), MAX)), ErrorCode.CORRUPT_MESSAGE, 'empty');
});

test('a record count that disagrees with lastOffsetDelta is CORRUPT_MESSAGE even with a matching CRC', async (t) => {
  const bytes = await buildBatch({ values: values('n', 3) });
  bytes.writeInt32BE(4, BatchField.recordCount);
  bytes.writeUInt32BE(crc32c(bytes, 21, bytes.length), BatchField.crc);
  t.is(codeOf(() => walkBatches(bytes, MAX)), ErrorCode.CORRUPT_MESSAGE);
});

test('rewriting baseOffset and partitionLeaderEpoch keeps the CRC valid', async (t) => {
  const bytes = await buildBatch({ values: values('r', 4), compression: 'gzip' });
  rewriteBatchOffsets(bytes, 0, 1_000_000_007, 42);
  const [header] = walkBatches(bytes, MAX);
  t.is(header.baseOffset, 1_000_000_007);
  t.is(header.partitionLeaderEpoch, 42);
});

test('the known CRC-32C check value holds for the checksum the walker uses', (t) => {
  t.is(crc32c(Buffer.from('123456789')), 0xe3069283);
});
