/**
 * A corrupt log is never served: open fails with CORRUPT_WAL naming file, byte position and offset.
 * An explicit repair cuts it there, keeps a copy of what it cut, reports what it dropped, and the store
 * opens again with everything before the damage.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { MetaLog } from '../../src/api/metalog.js';
import { MetaLogError } from '../../src/errors.js';
import { readRecord } from '../../src/wal/format.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

/** Byte ranges of the records of a segment file. */
function recordRanges(bytes: Buffer): { position: number; end: number; offset: number }[] {
  const ranges: { position: number; end: number; offset: number }[] = [];
  let position = bytes.readUInt32LE(12);
  for (;;) {
    const found = readRecord(bytes, position, bytes.length);
    if (typeof found === 'string') return ranges;
    ranges.push({ position, end: found.end, offset: found.offset });
    position = found.end;
  }
}

test('a bit flip mid-log fails open with CORRUPT_WAL; repair cuts there and reports the loss', async (t) => {
  const dir = tmpDir(t);
  let log = await openStore(t, { dir });
  await log.createTopic({ name: 't', partitions: 1 });
  for (let i = 0; i < 20; i++) await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: i }]);
  await closeAndVerify(log);
  const file = path.join(dir, 'wal', fs.readdirSync(path.join(dir, 'wal'))[0]);
  const bytes = fs.readFileSync(file);
  const ranges = recordRanges(bytes);
  const victim = ranges[10];
  bytes[victim.position + 20] ^= 0x10;
  fs.writeFileSync(file, bytes);

  const error = (await t.throwsAsync(MetaLog.open({ dir }), { instanceOf: MetaLogError })) as MetaLogError;
  t.is(error.code, 'CORRUPT_WAL');
  t.is(error.details.file, file);
  t.is(error.details.position, victim.position);
  t.is(error.details.offset, 10);
  t.false(fs.existsSync(path.join(dir, 'LOCK')));

  const report = MetaLog.repair(dir);
  t.is(report.damage?.offset, 10);
  t.is(report.nextOffset, 10);
  t.is(report.droppedBytes, bytes.length - victim.position);
  t.is(report.droppedRecordsVerified, 10, 'records 11..20 still verified and were dropped');
  const saved = fs.readdirSync(report.savedTo as string);
  t.is(saved.length, 1);
  t.true(fs.readFileSync(path.join(report.savedTo as string, saved[0])).equals(bytes.subarray(victim.position)));

  log = await openStore(t, { dir });
  t.is(log.lastOffset, 9);
  t.is(log.fetchOffset('g', 't', 0)?.offset, 8);
  await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 100 }]);
  t.is(log.lastOffset, 10);
});

test('repair of a sound log changes nothing; repair of an open store fails with STORE_LOCKED', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir });
  await log.createTopic({ name: 't', partitions: 1 });
  t.is((t.throws(() => MetaLog.repair(dir)) as MetaLogError).code, 'STORE_LOCKED');
  await closeAndVerify(log);
  const report = MetaLog.repair(dir);
  t.is(report.damage, null);
  t.is(report.savedTo, null);
});

test('a torn tail is cut at open and reported, and the store goes on', async (t) => {
  const dir = tmpDir(t);
  let log = await openStore(t, { dir });
  await log.createTopic({ name: 't', partitions: 1 });
  for (let i = 0; i < 5; i++) await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: i }]);
  await closeAndVerify(log);
  const file = path.join(dir, 'wal', fs.readdirSync(path.join(dir, 'wal'))[0]);
  const bytes = fs.readFileSync(file);
  const last = recordRanges(bytes).at(-1) as { position: number; end: number };
  fs.writeFileSync(file, bytes.subarray(0, last.end - 7));
  log = await openStore(t, { dir });
  t.deepEqual(log.recovery.truncatedTail, { file: path.basename(file), position: last.position, bytes: last.end - 7 - last.position });
  t.is(log.lastOffset, 4);
  t.is(fs.statSync(file).size, last.position, 'the cut is on disk');
  await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 50 }]);
  t.is(log.lastOffset, 5);
});
