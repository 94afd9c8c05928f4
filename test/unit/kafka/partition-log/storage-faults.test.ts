/**
 * A full disk and other write failures: the append fails with KAFKA_STORAGE_ERROR, the bytes it managed
 * to write are cut off again, the log end offset and producer state are as before, and the next append
 * works. A write whose bytes cannot be cut off shuts the partition. How: a storage over the real disk
 * that fails the next write after a chosen number of bytes.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode, KafkaError } from '../../../../src/kafka/error-codes.js';
import { NodeLogStorage } from '../../../../src/kafka/partition-log/log-storage.js';
import { PartitionLog } from '../../../../src/kafka/partition-log/partition-log.js';
import { tmpDir } from '../../../helpers/tmp.js';
import { batchOffsets, buildBatch, values } from './batches.js';
import { FaultStorage } from './fault-storage.js';

const NOW_MS = 1_700_000_000_000;
const ACTIVE = '00000000000000000000.log';

test('ENOSPC after part of a write: KAFKA_STORAGE_ERROR, partial bytes cut, the log goes on', async (t) => {
  const dir = tmpDir(t);
  const storage = new FaultStorage();
  const log = await PartitionLog.open({ storage, dirPath: dir });
  const first = await buildBatch({ values: values('a', 2) });
  await log.append(first, 0, NOW_MS);
  for (const partialBytes of [0, 1, 30, 70]) {
    storage.writeFaultAfterBytes = partialBytes;
    const error = await t.throwsAsync(log.append(await buildBatch({ values: values('b', 3), producerId: 9, baseSequence: 0 }), 0, NOW_MS), { instanceOf: KafkaError });
    t.is(error?.errorCode, ErrorCode.KAFKA_STORAGE_ERROR, `fault after ${partialBytes} bytes`);
    t.is(log.logEndOffset, 2);
    t.is(fs.statSync(path.join(dir, ACTIVE)).size, first.length, 'the partial bytes were cut');
    t.is(log.producerEntry(9), undefined, 'the failed batch left no producer state');
  }
  t.like(await log.append(await buildBatch({ values: values('c', 3), producerId: 9, baseSequence: 0 }), 0, NOW_MS), { baseOffset: 2, lastOffset: 4 });
  t.deepEqual(batchOffsets((await log.read(0, 1 << 20, 5)).records), [[0, 1], [2, 4]]);
  await log.close();
  const reopened = await PartitionLog.open({ storage: new NodeLogStorage(), dirPath: dir });
  t.is(reopened.logEndOffset, 5);
  t.is(reopened.recovery.truncatedBytes, 0);
  await reopened.close();
});

test('a write fault during a roll leaves the log usable, and the roll happens on the next append', async (t) => {
  const dir = tmpDir(t);
  const storage = new FaultStorage();
  const batch = await buildBatch({ values: values('r', 2) });
  const log = await PartitionLog.open({ storage, dirPath: dir, config: { segmentBytes: batch.length } });
  await log.append(await buildBatch({ values: values('r', 2) }), 0, NOW_MS);
  storage.writeFaultAfterBytes = 3; // the first write of the roll: an index file of the segment being sealed
  const error = await t.throwsAsync(log.append(await buildBatch({ values: values('r', 2) }), 0, NOW_MS), { instanceOf: KafkaError });
  t.is(error?.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
  t.is(log.logEndOffset, 2);
  const next = await log.append(await buildBatch({ values: values('r', 2) }), 0, NOW_MS);
  t.like(next, { baseOffset: 2 });
  t.deepEqual(next.rolledSegments.map((info) => info.baseOffset), [0]);
  await log.close();
  const reopened = await PartitionLog.open({ storage: new NodeLogStorage(), dirPath: dir, config: { segmentBytes: batch.length } });
  t.deepEqual(reopened.recovery.rebuiltIndexBaseOffsets, []);
  t.is(reopened.logEndOffset, 4);
  await reopened.close();
});

test('a roll whose append then fails is reported with the next append that succeeds', async (t) => {
  const storage = new FaultStorage();
  const batch = await buildBatch({ values: values('r', 2) });
  const log = await PartitionLog.open({ storage, dirPath: tmpDir(t), config: { segmentBytes: batch.length } });
  await log.append(await buildBatch({ values: values('r', 2) }), 0, NOW_MS);
  storage.failWriteTo = '00000000000000000002.log';
  await t.throwsAsync(log.append(await buildBatch({ values: values('r', 2) }), 0, NOW_MS), { instanceOf: KafkaError });
  t.deepEqual(log.segmentInfos().map((info) => info.baseOffset), [0, 2], 'rolled; the new segment is empty');
  const next = await log.append(await buildBatch({ values: values('r', 2) }), 0, NOW_MS);
  t.like(next, { baseOffset: 2 });
  t.deepEqual(next.rolledSegments.map((info) => [info.baseOffset, info.lastOffset]), [[0, 1]]);
  await log.close();
});

test('a failed write whose bytes cannot be cut off shuts the partition', async (t) => {
  const dir = tmpDir(t);
  const storage = new FaultStorage();
  const log = await PartitionLog.open({ storage, dirPath: dir });
  storage.writeFaultAfterBytes = 10;
  storage.truncateFault = 'EIO';
  await t.throwsAsync(log.append(await buildBatch({ values: ['a'] }), 0, NOW_MS), { instanceOf: KafkaError });
  storage.truncateFault = null;
  t.not(log.failed, null);
  const next = await t.throwsAsync(log.append(await buildBatch({ values: ['b'] }), 0, NOW_MS), { instanceOf: KafkaError });
  t.is(next?.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
  await log.close();
  const reopened = await PartitionLog.open({ storage: new NodeLogStorage(), dirPath: dir });
  t.is(reopened.logEndOffset, 0, 'recovery cuts the 10 stray bytes');
  t.is(reopened.recovery.truncatedBytes, 10);
  await reopened.close();
});
