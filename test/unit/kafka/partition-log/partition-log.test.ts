/**
 * The partition log on real files in a temporary folder: dense offsets across appends, reads by offset
 * (from the middle of a batch, across rolls, bounded by bytes and by the high watermark), rolls by size
 * and by time, ListOffsets by timestamp, and a reopen that finds everything where it was.
 * Time is passed in (nowMs); no test waits for a clock.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode, KafkaError } from '../../../../src/kafka/error-codes.js';
import { NodeLogStorage } from '../../../../src/kafka/partition-log/log-storage.js';
import { PartitionLog } from '../../../../src/kafka/partition-log/partition-log.js';
import type { PartitionLogConfig } from '../../../../src/kafka/partition-log/partition-log-config.js';
import { walkBatches } from '../../../../src/kafka/partition-log/record-batch.js';
import { tmpDir } from '../../../helpers/tmp.js';
import { batchOffsets, buildBatch, consumeWithKafkajs, values } from './batches.js';

const NOW_MS = 1_700_000_000_000;

async function openLog(dirPath: string, config: Partial<PartitionLogConfig> = {}): Promise<PartitionLog> {
  return PartitionLog.open({ storage: new NodeLogStorage(), dirPath, config });
}

/** Appends `count` batches of `recordsPerBatch` records each; returns each batch's size in bytes. */
async function appendMany(log: PartitionLog, count: number, recordsPerBatch: number, timestampMs = NOW_MS): Promise<number[]> {
  const sizes: number[] = [];
  for (let i = 0; i < count; i++) {
    const batch = await buildBatch({ values: values(`b${i}`, recordsPerBatch), timestampMs: timestampMs + i });
    sizes.push(batch.length);
    await log.append(batch, 0, timestampMs + i);
  }
  return sizes;
}

async function rejectsWith(t: { is(a: unknown, b: unknown, m?: string): void; fail(m: string): void }, run: Promise<unknown>, code: number): Promise<void> {
  try {
    await run;
    t.fail(`expected error code ${code}`);
  } catch (error) {
    if (!(error instanceof KafkaError)) throw error;
    t.is(error.errorCode, code);
  }
}

test('offsets are assigned densely across appends, and the stored batch carries them', async (t) => {
  const log = await openLog(tmpDir(t));
  const first = await log.append(await buildBatch({ values: values('a', 3) }), 5, NOW_MS);
  const second = await log.append(await buildBatch({ values: values('b', 2), compression: 'gzip' }), 5, NOW_MS);
  t.like(first, { baseOffset: 0, lastOffset: 2, logAppendTimeMs: -1, logStartOffset: 0, duplicate: false });
  t.like(second, { baseOffset: 3, lastOffset: 4 });
  t.is(log.logEndOffset, 5);
  const { records } = await log.read(0, 1 << 20, log.logEndOffset);
  const headers = walkBatches(records, 1 << 20);
  t.deepEqual(headers.map((header) => [header.baseOffset, header.partitionLeaderEpoch]), [[0, 5], [3, 5]]);
  await log.close();
});

test('what a read returns decodes in kafkajs (plain and gzip) with the offsets the log assigned', async (t) => {
  const log = await openLog(tmpDir(t));
  await log.append(await buildBatch({ values: ['p0', 'p1'] }), 0, NOW_MS);
  await log.append(await buildBatch({ values: ['g0', 'g1', 'g2'], compression: 'gzip' }), 0, NOW_MS);
  const { records } = await log.read(0, 1 << 20, log.logEndOffset);
  t.deepEqual(await consumeWithKafkajs(records), [[0, 'p0'], [1, 'p1'], [2, 'g0'], [3, 'g1'], [4, 'g2']]);
  await log.close();
});

test('one append of several batches gives each its own offsets', async (t) => {
  const log = await openLog(tmpDir(t));
  const records = Buffer.concat([await buildBatch({ values: values('a', 2) }), await buildBatch({ values: values('b', 3) })]);
  t.like(await log.append(records, 0, NOW_MS), { baseOffset: 0, lastOffset: 4 });
  t.deepEqual(batchOffsets((await log.read(0, 1 << 20, 5)).records), [[0, 1], [2, 4]]);
  await log.close();
});

test('a read from the middle of a batch starts with the whole batch that holds the offset', async (t) => {
  const log = await openLog(tmpDir(t));
  await appendMany(log, 3, 4); // offsets 0-3, 4-7, 8-11
  const result = await log.read(6, 1 << 20, log.logEndOffset);
  t.deepEqual(batchOffsets(result.records), [[4, 7], [8, 11]]);
  t.is(result.nextOffset, 12);
  await log.close();
});

test('a read returns at least one whole batch even past maxBytes, and otherwise stays within it', async (t) => {
  const log = await openLog(tmpDir(t));
  const sizes = await appendMany(log, 3, 2);
  t.deepEqual(batchOffsets((await log.read(0, 1, 6)).records), [[0, 1]]);
  t.deepEqual(batchOffsets((await log.read(0, sizes[0] + sizes[1], 6)).records), [[0, 1], [2, 3]]);
  t.deepEqual(batchOffsets((await log.read(0, sizes[0] + sizes[1] - 1, 6)).records), [[0, 1]]);
  await log.close();
});

test('a read stops below the upper bound offset (the high watermark)', async (t) => {
  const log = await openLog(tmpDir(t));
  await appendMany(log, 3, 2);
  t.deepEqual(batchOffsets((await log.read(0, 1 << 20, 4)).records), [[0, 1], [2, 3]]);
  const atBound = await log.read(4, 1 << 20, 4);
  t.is(atBound.records.length, 0);
  t.is(atBound.nextOffset, 4);
  t.is((await log.read(6, 1 << 20, 6)).records.length, 0, 'at the log end: nothing yet');
  await log.close();
});

test('offsets below the log start or past the log end are OFFSET_OUT_OF_RANGE', async (t) => {
  const log = await openLog(tmpDir(t));
  await appendMany(log, 1, 2);
  await rejectsWith(t, log.read(3, 100, 2), ErrorCode.OFFSET_OUT_OF_RANGE);
  await rejectsWith(t, log.read(-1, 100, 2), ErrorCode.OFFSET_OUT_OF_RANGE);
  await log.close();
});

test('segments roll at segment.bytes; files are named by 20-digit base offsets; rolls are reported', async (t) => {
  const dir = tmpDir(t);
  const batch = await buildBatch({ values: values('s', 2) });
  const log = await openLog(dir, { segmentBytes: batch.length * 3, indexIntervalBytes: 1 });
  const rolled = [];
  for (let i = 0; i < 7; i++) rolled.push(...(await log.append(await buildBatch({ values: values('s', 2) }), 0, NOW_MS)).rolledSegments);
  t.deepEqual(rolled.map((info) => [info.baseOffset, info.lastOffset, info.recordCount, info.sizeBytes]), [
    [0, 5, 6, batch.length * 3],
    [6, 11, 6, batch.length * 3],
  ]);
  t.is(rolled[0].path, path.join(dir, '00000000000000000000.log'));
  t.deepEqual(fs.readdirSync(dir).sort(), [
    '00000000000000000000.index',
    '00000000000000000000.log',
    '00000000000000000000.timeindex',
    '00000000000000000006.index',
    '00000000000000000006.log',
    '00000000000000000006.timeindex',
    '00000000000000000012.log',
  ]);
  t.is(fs.statSync(path.join(dir, '00000000000000000000.index')).size, 2 * 8, 'entries for the 2nd and 3rd batch');
  t.deepEqual(log.segmentInfos().map((info) => info.baseOffset), [0, 6, 12]);
  await log.close();
});

test('a read that starts in one segment continues across the roll into the next', async (t) => {
  const batch = await buildBatch({ values: values('b0', 2) });
  const log = await openLog(tmpDir(t), { segmentBytes: batch.length * 2 });
  await appendMany(log, 5, 2); // segments [0-3] [4-7] [8-9]
  t.is(log.segmentInfos().length, 3);
  const all = await log.read(2, 1 << 20, log.logEndOffset);
  t.deepEqual(batchOffsets(all.records), [[2, 3], [4, 5], [6, 7], [8, 9]]);
  const fromSecond = await log.read(4, 1 << 20, log.logEndOffset);
  t.deepEqual(batchOffsets(fromSecond.records)[0], [4, 5]);
  await log.close();
});

test('a segment rolls once an incoming batch is segment.ms newer than its first batch (record timestamps, as Kafka)', async (t) => {
  const log = await openLog(tmpDir(t), { segmentMs: 1000 });
  await log.append(await buildBatch({ values: ['a'], timestampMs: NOW_MS }), 0, NOW_MS);
  t.deepEqual((await log.append(await buildBatch({ values: ['b'], timestampMs: NOW_MS + 999 }), 0, NOW_MS + 999)).rolledSegments, []);
  const third = await log.append(await buildBatch({ values: ['c'], timestampMs: NOW_MS + 1000 }), 0, NOW_MS + 1000);
  t.deepEqual(third.rolledSegments.map((info) => info.baseOffset), [0]);
  t.deepEqual(log.segmentInfos().map((info) => info.baseOffset), [0, 2]);
  await log.close();
});

test('without record timestamps (-1), segment.ms counts from the first append by the nowMs passed in', async (t) => {
  const log = await openLog(tmpDir(t), { segmentMs: 1000 });
  await log.append(await buildBatch({ values: ['a'], timestampMs: -1 }), 0, NOW_MS);
  t.deepEqual((await log.append(await buildBatch({ values: ['b'], timestampMs: -1 }), 0, NOW_MS + 999)).rolledSegments, []);
  const third = await log.append(await buildBatch({ values: ['c'], timestampMs: -1 }), 0, NOW_MS + 1000);
  t.deepEqual(third.rolledSegments.map((info) => info.baseOffset), [0]);
  await log.close();
});

test('records larger than segment.bytes are RECORD_LIST_TOO_LARGE and leave no trace', async (t) => {
  const batch = await buildBatch({ values: values('big', 10) });
  const log = await openLog(tmpDir(t), { segmentBytes: batch.length - 1 });
  await rejectsWith(t, log.append(batch, 0, NOW_MS), ErrorCode.RECORD_LIST_TOO_LARGE);
  t.is(log.logEndOffset, 0);
  await log.close();
});

test('a batch above max.message.bytes is MESSAGE_TOO_LARGE; a control batch from a client is INVALID_RECORD', async (t) => {
  const log = await openLog(tmpDir(t), { maxMessageBytes: 100 });
  await rejectsWith(t, log.append(await buildBatch({ values: values('m', 10) }), 0, NOW_MS), ErrorCode.MESSAGE_TOO_LARGE);
  const control = await buildBatch({ values: ['c'] });
  control.writeInt16BE(0x20, 21);
  const { crc32c } = await import('../../../../src/index.js');
  control.writeUInt32BE(crc32c(control, 21, control.length), 17);
  await rejectsWith(t, log.append(control, 0, NOW_MS), ErrorCode.INVALID_RECORD);
  t.is(log.logEndOffset, 0);
  await log.close();
});

test('ListOffsets by timestamp finds the first batch whose max timestamp reaches it, across segments', async (t) => {
  const batch = await buildBatch({ values: values('t', 2) });
  const log = await openLog(tmpDir(t), { segmentBytes: batch.length * 3, indexIntervalBytes: 1 });
  for (let i = 0; i < 8; i++) await log.append(await buildBatch({ values: values('t', 2), timestampMs: 1000 + i * 10 }), 0, NOW_MS);
  // batch i holds offsets 2i, 2i+1 and timestamp 1000 + 10i
  t.deepEqual(await log.offsetForTimestamp(0), { offset: 0, timestamp: 1000 });
  t.deepEqual(await log.offsetForTimestamp(1000), { offset: 0, timestamp: 1000 });
  t.deepEqual(await log.offsetForTimestamp(1001), { offset: 2, timestamp: 1010 });
  t.deepEqual(await log.offsetForTimestamp(1040), { offset: 8, timestamp: 1040 });
  t.deepEqual(await log.offsetForTimestamp(1070), { offset: 14, timestamp: 1070 });
  t.is(await log.offsetForTimestamp(1071), null);
  await log.close();
});

test('a reopened log has the same offsets, segments and timestamps, and appends continue after them', async (t) => {
  const dir = tmpDir(t);
  const batch = await buildBatch({ values: values('r', 2) });
  const config = { segmentBytes: batch.length * 2, indexIntervalBytes: 1 };
  const log = await openLog(dir, config);
  for (let i = 0; i < 5; i++) await log.append(await buildBatch({ values: values('r', 2), timestampMs: 5000 + i }), 0, NOW_MS);
  const before = await log.read(0, 1 << 20, 10);
  await log.close();
  const reopened = await openLog(dir, config);
  t.is(reopened.logEndOffset, 10);
  t.is(reopened.durableEndOffset, 10);
  t.deepEqual(reopened.recovery.rebuiltIndexBaseOffsets, []);
  t.is(reopened.recovery.truncatedBytes, 0);
  t.deepEqual((await reopened.read(0, 1 << 20, 10)).records, before.records);
  t.deepEqual(await reopened.offsetForTimestamp(5003), { offset: 6, timestamp: 5003 });
  t.like(await reopened.append(await buildBatch({ values: ['z'] }), 1, NOW_MS), { baseOffset: 10, lastOffset: 10 });
  await reopened.close();
});

test('a closed log answers UNKNOWN_TOPIC_OR_PARTITION', async (t) => {
  const log = await openLog(tmpDir(t));
  await log.close();
  await rejectsWith(t, log.append(await buildBatch({ values: ['a'] }), 0, NOW_MS), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
});

test('a bad topic config is INVALID_CONFIG naming it', async (t) => {
  const error = await t.throwsAsync(openLog(tmpDir(t), { segmentBytes: 10 }), { instanceOf: KafkaError });
  t.is(error?.errorCode, ErrorCode.INVALID_CONFIG);
  t.regex(error?.message ?? '', /segment\.bytes/);
});
