/**
 * The log manager: one folder per topic id, so a topic deleted and created again gets an empty log;
 * drop removes a topic's data; one open log per partition; close closes everything.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode, KafkaError } from '../../../../src/kafka/error-codes.js';
import { LogFlusher } from '../../../../src/kafka/partition-log/log-flusher.js';
import { LogManager } from '../../../../src/kafka/partition-log/log-manager.js';
import { tmpDir } from '../../../helpers/tmp.js';
import { buildBatch } from './batches.js';

const NOW_MS = 1_700_000_000_000;
const OLD_ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const NEW_ID = 'BBBBBBBBBBBBBBBBBBBBBB';

test('partitions live in <root>/<topicId>/<partition>, and one log is open per partition', async (t) => {
  const root = tmpDir(t);
  const manager = await LogManager.open(root);
  const [first, again] = await Promise.all([manager.getOrCreate(OLD_ID, 0), manager.getOrCreate(OLD_ID, 0)]);
  t.is(first, again);
  await first.append(await buildBatch({ values: ['a'] }), 0, NOW_MS);
  t.true(fs.existsSync(path.join(root, OLD_ID, '0', '00000000000000000000.log')));
  t.deepEqual(await manager.topicIdsOnDisk(), [OLD_ID]);
  await manager.close();
});

test('a topic created again under a new id gets an empty log; drop removes the old one', async (t) => {
  const root = tmpDir(t);
  const manager = await LogManager.open(root);
  const old = await manager.getOrCreate(OLD_ID, 0);
  await old.append(await buildBatch({ values: ['old', 'bytes'] }), 0, NOW_MS);
  await manager.drop(OLD_ID);
  t.false(fs.existsSync(path.join(root, OLD_ID)));
  const error = await t.throwsAsync(old.append(await buildBatch({ values: ['late'] }), 0, NOW_MS), { instanceOf: KafkaError });
  t.is(error?.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const recreated = await manager.getOrCreate(NEW_ID, 0);
  t.is(recreated.logEndOffset, 0);
  t.is((await recreated.read(0, 1 << 20, 0)).records.length, 0);
  await manager.close();
});

test('the logs come back after a close and reopen of the manager', async (t) => {
  const root = tmpDir(t);
  const flusher = new LogFlusher({ mode: 'interval', flushIntervalMs: 1000 });
  const manager = await LogManager.open(root, { flusher });
  const log = await manager.getOrCreate(OLD_ID, 3);
  await log.append(await buildBatch({ values: ['a', 'b'] }), 0, NOW_MS);
  await flusher.afterAppend(log, 2);
  await manager.close();
  t.is(log.durableEndOffset, 2, 'close made it durable');
  const again = await LogManager.open(root);
  t.is((await again.getOrCreate(OLD_ID, 3)).logEndOffset, 2);
  await again.close();
  await t.throwsAsync(again.getOrCreate(OLD_ID, 3), { instanceOf: KafkaError });
});

test('topic ids that could walk the file system and bad partitions are refused', async (t) => {
  const manager = await LogManager.open(tmpDir(t));
  for (const topicId of ['..', 'a/b', '', 'x'.repeat(65)]) t.throws(() => manager.partitionDir(topicId, 0), { instanceOf: KafkaError }, topicId);
  for (const partition of [-1, 1.5, 2 ** 31]) t.throws(() => manager.partitionDir(OLD_ID, partition), { instanceOf: KafkaError }, String(partition));
  await manager.close();
});
