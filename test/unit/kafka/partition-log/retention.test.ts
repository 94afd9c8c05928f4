/**
 * Moving the log start offset: DeleteRecords, retention by bytes and by time (with nowMs passed in).
 * The log start offset moves first and is reported; then whole sealed segments below it go, never the
 * active one; reads below it are OFFSET_OUT_OF_RANGE.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode, KafkaError } from '../../../../src/kafka/error-codes.js';
import { NodeLogStorage } from '../../../../src/kafka/partition-log/log-storage.js';
import { PartitionLog } from '../../../../src/kafka/partition-log/partition-log.js';
import { tmpDir } from '../../../helpers/tmp.js';
import { batchOffsets, buildBatch, values } from './batches.js';

const NOW_MS = 1_700_000_000_000;

/** A log of 4 segments of two 2-record batches each (offsets 0-3, 4-7, 8-11, 12-15), batch i stamped 1000 + 100 i. */
async function fourSegments(dir: string): Promise<{ log: PartitionLog; batchBytes: number }> {
  const batchBytes = (await buildBatch({ values: values('b0', 2), timestampMs: 1000 })).length;
  const log = await PartitionLog.open({ storage: new NodeLogStorage(), dirPath: dir, config: { segmentBytes: batchBytes * 2 } });
  for (let i = 0; i < 8; i++) await log.append(await buildBatch({ values: values(`b${i}`, 2), timestampMs: 1000 + 100 * i }), 0, NOW_MS);
  return { log, batchBytes };
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

test('DeleteRecords moves the log start offset and removes only segments wholly below it', async (t) => {
  const dir = tmpDir(t);
  const { log } = await fourSegments(dir);
  t.deepEqual(log.segmentInfos().map((info) => info.baseOffset), [0, 4, 8, 12]);
  const result = await log.deleteRecordsBefore(6);
  t.is(result.logStartOffset, 6);
  t.true(result.logStartOffsetMoved);
  t.deepEqual(result.removedSegments.map((info) => [info.baseOffset, info.lastOffset, info.recordCount]), [[0, 3, 4]]);
  t.false(fs.existsSync(path.join(dir, '00000000000000000000.log')));
  t.false(fs.existsSync(path.join(dir, '00000000000000000000.index')));
  t.is(log.logStartOffset, 6);
  t.is(await codeOf(log.read(5, 1 << 20, 16)), ErrorCode.OFFSET_OUT_OF_RANGE);
  t.deepEqual(batchOffsets((await log.read(6, 1 << 20, 16)).records)[0], [6, 7]);
  t.deepEqual(await log.offsetForTimestamp(0), { offset: 6, timestamp: 1300 }, 'never below the log start');
  t.like(await log.deleteRecordsBefore(2), { logStartOffset: 6, logStartOffsetMoved: false, removedSegments: [] });
  t.is(await codeOf(log.deleteRecordsBefore(17)), ErrorCode.OFFSET_OUT_OF_RANGE);
  await log.close();
});

test('DeleteRecords up to the log end keeps the active segment', async (t) => {
  const { log } = await fourSegments(tmpDir(t));
  const result = await log.deleteRecordsBefore(16);
  t.deepEqual(result.removedSegments.map((info) => info.baseOffset), [0, 4, 8]);
  t.deepEqual(log.segmentInfos().map((info) => info.baseOffset), [12]);
  t.is((await log.read(16, 1 << 20, 16)).records.length, 0);
  t.like(await log.append(await buildBatch({ values: ['next'] }), 0, NOW_MS), { baseOffset: 16, logStartOffset: 16 });
  await log.close();
});

test('retention by bytes removes the oldest segments while the rest still holds retention.bytes', async (t) => {
  const { log, batchBytes } = await fourSegments(tmpDir(t));
  const segmentBytes = batchBytes * 2;
  t.like(await log.retention(NOW_MS, -1, segmentBytes * 4), { logStartOffsetMoved: false, removedSegments: [] });
  const result = await log.retention(NOW_MS, -1, segmentBytes * 2);
  t.deepEqual(result.removedSegments.map((info) => info.baseOffset), [0, 4]);
  t.is(result.logStartOffset, 8);
  const all = await log.retention(NOW_MS, -1, 0);
  t.deepEqual(all.removedSegments.map((info) => info.baseOffset), [8], 'the active segment stays');
  t.is(all.logStartOffset, 12);
  await log.close();
});

test('retention by time removes segments whose newest record is older than retention.ms at nowMs', async (t) => {
  const { log } = await fourSegments(tmpDir(t));
  // Segment maxima: 1100, 1300, 1500, 1700.
  t.like(await log.retention(2100, 1000, -1), { removedSegments: [] });
  const result = await log.retention(2200, 1000, -1);
  t.deepEqual(result.removedSegments.map((info) => info.baseOffset), [0]);
  const later = await log.retention(100_000, 1000, -1);
  t.deepEqual(later.removedSegments.map((info) => info.baseOffset), [4, 8]);
  t.is(later.logStartOffset, 12);
  await log.close();
});

test('segments whose records carry no timestamps expire by size only', async (t) => {
  const batchBytes = (await buildBatch({ values: values('n0', 2), timestampMs: -1 })).length;
  const log = await PartitionLog.open({ storage: new NodeLogStorage(), dirPath: tmpDir(t), config: { segmentBytes: batchBytes } });
  for (let i = 0; i < 3; i++) await log.append(await buildBatch({ values: values(`n${i}`, 2), timestampMs: -1 }), 0, NOW_MS);
  t.like(await log.retention(NOW_MS * 2, 1, -1), { removedSegments: [] });
  t.deepEqual((await log.retention(NOW_MS, -1, batchBytes)).removedSegments.map((info) => info.baseOffset), [0, 2]);
  await log.close();
});

test('a reopened log starts at its first segment, or higher at the log start offset the store recorded', async (t) => {
  const dir = tmpDir(t);
  const { log } = await fourSegments(dir);
  await log.deleteRecordsBefore(6);
  await log.close();
  const config = { segmentBytes: 1 << 20 };
  const plain = await PartitionLog.open({ storage: new NodeLogStorage(), dirPath: dir, config });
  t.is(plain.logStartOffset, 4);
  await plain.close();
  const told = await PartitionLog.open({ storage: new NodeLogStorage(), dirPath: dir, config, logStartOffset: 6 });
  t.is(told.logStartOffset, 6);
  t.is(told.logEndOffset, 16);
  await told.close();
});

test('a read that was under way when its segment was removed still completes', async (t) => {
  const { log } = await fourSegments(tmpDir(t));
  const reading = log.read(0, 1 << 20, 16);
  const removing = log.deleteRecordsBefore(8);
  const [read, removed] = await Promise.all([reading, removing]);
  t.deepEqual(batchOffsets(read.records)[0], [0, 1]);
  t.deepEqual(removed.removedSegments.map((info) => info.baseOffset), [0, 4]);
  await log.close();
});
