/**
 * Recovery on open, one test per row of the decision table in partition-dir.ts: a torn active tail cut at
 * every byte of its last batch, a corrupt byte in the active segment, sealed segments with missing or
 * insane indexes (rebuilt), a damaged sealed segment (refused), and leftover files. How: a log is written
 * and closed, its files are damaged with node:fs, and the log is opened again.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode, KafkaError } from '../../../../src/kafka/error-codes.js';
import { NodeLogStorage } from '../../../../src/kafka/partition-log/log-storage.js';
import { PartitionLog } from '../../../../src/kafka/partition-log/partition-log.js';
import type { PartitionLogConfig } from '../../../../src/kafka/partition-log/partition-log-config.js';
import { tmpDir } from '../../../helpers/tmp.js';
import { batchOffsets, buildBatch, values } from './batches.js';

const NOW_MS = 1_700_000_000_000;
const ACTIVE = '00000000000000000000.log';

function open(dirPath: string, config: Partial<PartitionLogConfig> = {}, logStartOffset?: number): Promise<PartitionLog> {
  return PartitionLog.open({ storage: new NodeLogStorage(), dirPath, config, logStartOffset });
}

/** Writes `count` batches of two records into a fresh log in `dir`; returns the end position of each batch. */
async function writeLog(dir: string, count: number, config: Partial<PartitionLogConfig> = {}): Promise<number[]> {
  const log = await open(dir, config);
  const ends: number[] = [];
  let position = 0;
  for (let i = 0; i < count; i++) {
    const batch = await buildBatch({ values: values(`v${i}`, 2), timestampMs: 1000 + i });
    await log.append(batch, 0, NOW_MS);
    position += batch.length;
    ends.push(position);
  }
  await log.close();
  return ends;
}

test('an empty folder opens as an empty log at offset 0, or at the log start offset the store recorded', async (t) => {
  const log = await open(tmpDir(t));
  t.is(log.logEndOffset, 0);
  t.is(log.logStartOffset, 0);
  await log.close();
  const later = await open(tmpDir(t), {}, 500);
  t.is(later.logEndOffset, 500);
  t.is(later.logStartOffset, 500);
  t.like(await later.append(await buildBatch({ values: ['a'] }), 0, NOW_MS), { baseOffset: 500 });
  await later.close();
});

test('a torn last batch is cut at every byte position it can be torn at; appends continue at the right offset', async (t) => {
  const pristine = tmpDir(t);
  const ends = await writeLog(pristine, 3);
  const fullBytes = fs.readFileSync(path.join(pristine, ACTIVE));
  // Every length from just past the second batch to one byte short of the whole file.
  for (let length = ends[1] + 1; length < ends[2]; length++) {
    const dir = tmpDir(t);
    fs.writeFileSync(path.join(dir, ACTIVE), fullBytes.subarray(0, length));
    const log = await open(dir);
    t.is(log.logEndOffset, 4, `torn at ${length}`);
    t.is(log.recovery.truncatedBytes, length - ends[1]);
    t.is(fs.statSync(path.join(dir, ACTIVE)).size, ends[1]);
    t.like(await log.append(await buildBatch({ values: ['after'] }), 0, NOW_MS), { baseOffset: 4, lastOffset: 4 });
    t.deepEqual(batchOffsets((await log.read(0, 1 << 20, 5)).records), [[0, 1], [2, 3], [4, 4]]);
    await log.close();
  }
});

test('a tail torn inside the first batch leaves an empty log', async (t) => {
  const dir = tmpDir(t);
  const ends = await writeLog(dir, 1);
  for (const length of [1, 11, 12, 60, ends[0] - 1]) {
    fs.truncateSync(path.join(dir, ACTIVE), length);
    const log = await open(dir);
    t.is(log.logEndOffset, 0, `torn at ${length}`);
    t.is(fs.statSync(path.join(dir, ACTIVE)).size, 0);
    await log.close();
  }
});

test('a corrupt byte in the active segment cuts it there, with the indexes rebuilt for what is left', async (t) => {
  const dir = tmpDir(t);
  const ends = await writeLog(dir, 4, { indexIntervalBytes: 1 });
  const file = path.join(dir, ACTIVE);
  const bytes = fs.readFileSync(file);
  bytes[ends[1] + 40] ^= 0xff; // inside the third batch's header, covered by its CRC
  fs.writeFileSync(file, bytes);
  const log = await open(dir, { indexIntervalBytes: 1 });
  t.is(log.logEndOffset, 4);
  t.regex(log.recovery.truncatedBecause ?? '', /CRC/);
  t.deepEqual(await log.offsetForTimestamp(1001), { offset: 2, timestamp: 1001 });
  t.is(await log.offsetForTimestamp(1002), null);
  await log.close();
});

test('zeros after the last batch (a preallocated or torn tail) are cut', async (t) => {
  const dir = tmpDir(t);
  const ends = await writeLog(dir, 2);
  fs.appendFileSync(path.join(dir, ACTIVE), Buffer.alloc(100));
  const log = await open(dir);
  t.is(log.logEndOffset, 4);
  t.is(fs.statSync(path.join(dir, ACTIVE)).size, ends[1]);
  await log.close();
});

test('a batch whose base offset breaks the sequence ends the active segment', async (t) => {
  const dir = tmpDir(t);
  const ends = await writeLog(dir, 3);
  const file = path.join(dir, ACTIVE);
  const bytes = fs.readFileSync(file);
  bytes.writeBigInt64BE(99n, ends[1]); // not covered by the CRC, so only the sequence check sees it
  fs.writeFileSync(file, bytes);
  const log = await open(dir);
  t.is(log.logEndOffset, 4);
  t.regex(log.recovery.truncatedBecause ?? '', /base offset 99/);
  await log.close();
});

/** A log of three segments: [0-5] [6-11] [12-...], sealed ones with index files. */
async function writeSegmented(t: Parameters<typeof tmpDir>[0]): Promise<{ dir: string; config: Partial<PartitionLogConfig> }> {
  const dir = tmpDir(t);
  const batch = await buildBatch({ values: values('v0', 2), timestampMs: 1000 });
  const config = { segmentBytes: batch.length * 3, indexIntervalBytes: 1 };
  await writeLog(dir, 7, config);
  t.true(fs.existsSync(path.join(dir, '00000000000000000012.log')));
  return { dir, config };
}

test('sealed segments with sane indexes are trusted as they are', async (t) => {
  const { dir, config } = await writeSegmented(t);
  const log = await open(dir, config);
  t.deepEqual(log.recovery.rebuiltIndexBaseOffsets, []);
  t.deepEqual(log.segmentInfos().map((info) => [info.baseOffset, info.lastOffset]), [[0, 5], [6, 11], [12, 13]]);
  t.deepEqual(await log.offsetForTimestamp(1004), { offset: 8, timestamp: 1004 });
  await log.close();
});

test('a sealed segment with a missing, cut or garbled index is rebuilt by scanning', async (t) => {
  const damages: Array<[string, (dir: string) => void]> = [
    ['offset index missing', (dir) => fs.rmSync(path.join(dir, '00000000000000000006.index'))],
    ['time index missing', (dir) => fs.rmSync(path.join(dir, '00000000000000000006.timeindex'))],
    ['offset index cut mid-entry', (dir) => fs.truncateSync(path.join(dir, '00000000000000000006.index'), 5)],
    ['time index empty', (dir) => fs.truncateSync(path.join(dir, '00000000000000000006.timeindex'), 0)],
    ['offset index points past the log', (dir) => fs.writeFileSync(path.join(dir, '00000000000000000006.index'), Buffer.from([0, 0, 0, 1, 0x7f, 0, 0, 0]))],
    ['offset index out of order', (dir) => fs.writeFileSync(path.join(dir, '00000000000000000006.index'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 90, 0, 0, 0, 2, 0, 0, 0, 80]))],
  ];
  for (const [name, damage] of damages) {
    const { dir, config } = await writeSegmented(t);
    const sane = fs.readFileSync(path.join(dir, '00000000000000000006.index'));
    damage(dir);
    const log = await open(dir, config);
    t.deepEqual(log.recovery.rebuiltIndexBaseOffsets, [6], name);
    t.deepEqual(fs.readFileSync(path.join(dir, '00000000000000000006.index')), sane, `${name}: rewritten as it was`);
    t.deepEqual(await log.offsetForTimestamp(1004), { offset: 8, timestamp: 1004 }, name);
    t.deepEqual(batchOffsets((await log.read(7, 1 << 20, 14)).records)[0], [6, 7], name);
    await log.close();
  }
});

test('a damaged sealed segment is refused with KAFKA_STORAGE_ERROR, not cut', async (t) => {
  const { dir, config } = await writeSegmented(t);
  const file = path.join(dir, '00000000000000000006.log');
  const bytes = fs.readFileSync(file);
  bytes[bytes.length - 3] ^= 0x01; // in the last batch: past the last index entry, so the tail check sees it
  fs.writeFileSync(file, bytes);
  const error = await t.throwsAsync(open(dir, config), { instanceOf: KafkaError });
  t.is(error?.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
  t.regex(error?.message ?? '', /00000000000000000006\.log is damaged/);
  t.is(fs.statSync(file).size, bytes.length, 'nothing was cut');
});

test('leftover temporary files and indexes without a log are removed', async (t) => {
  const { dir, config } = await writeSegmented(t);
  fs.writeFileSync(path.join(dir, '00000000000000000012.index.tmp'), 'x');
  fs.writeFileSync(path.join(dir, '00000000000000000099.index'), 'x');
  const log = await open(dir, config);
  t.deepEqual(log.recovery.removedFiles.sort(), ['00000000000000000012.index.tmp', '00000000000000000099.index']);
  t.false(fs.existsSync(path.join(dir, '00000000000000000099.index')));
  t.is(log.logEndOffset, 14);
  await log.close();
});
