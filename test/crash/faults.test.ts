/**
 * Injected disk faults through FaultyStorage (switches in shared memory, flipped by the test while the
 * writer runs): a full disk rejects the batch with KAFKA_STORAGE_ERROR, leaves no partial bytes and no
 * applied state, and writes work again once space is back; a failed fdatasync makes the store read-only
 * without retrying fdatasync; in every case each acknowledged write survives reopen.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { MetaLog } from '../../src/api/metalog.js';
import { MetaLogError } from '../../src/errors.js';
import { FAULT_WORD_COUNT, FAULT_WORDS } from '../../src/wal/storage.js';
import { closeAndVerify, foldFromDisk, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

function faultSwitches(): { buffer: SharedArrayBuffer; words: Int32Array } {
  const buffer = new SharedArrayBuffer(FAULT_WORD_COUNT * 4);
  return { buffer, words: new Int32Array(buffer) };
}

/** Bytes of records in the WAL: file sizes less the zero-filled space the writer makes ahead of appends. */
function walBytes(dir: string): number {
  const walDir = path.join(dir, 'wal');
  let total = 0;
  for (const name of fs.readdirSync(walDir)) {
    const bytes = fs.readFileSync(path.join(walDir, name));
    let end = bytes.length;
    while (end > 0 && bytes[end - 1] === 0) end--;
    total += end;
  }
  return total;
}

test('ENOSPC: the batch is rejected with KAFKA_STORAGE_ERROR (56), cut back, not applied; writes resume after space returns', async (t) => {
  const dir = tmpDir(t);
  const faults = faultSwitches();
  const log = await openStore(t, { dir }, { faults: faults.buffer });
  await log.createTopic({ name: 't', partitions: 2 });
  await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 1 }]);
  const stateBefore = log.canonicalState();
  const bytesBefore = walBytes(dir);

  Atomics.store(faults.words, FAULT_WORDS.DISK_FULL, 1);
  const results = await Promise.allSettled([
    log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 2 }]),
    log.commitOffsets('g', [{ topic: 't', partition: 1, offset: 2 }]),
    log.createTopic({ name: 'u', partitions: 1 }),
  ]);
  for (const result of results) {
    t.is(result.status, 'rejected');
    const error = (result as PromiseRejectedResult).reason as MetaLogError;
    t.is(error.code, 'KAFKA_STORAGE_ERROR');
    t.is(error.kafkaCode, 56);
    t.true(error.retriable);
    t.is((error.cause as NodeJS.ErrnoException).code, 'ENOSPC');
  }
  t.is(log.canonicalState(), stateBefore, 'nothing of the failed batch is applied');
  t.is(walBytes(dir), bytesBefore, 'the partial write was cut back');
  t.is(log.readOnlyError, null, 'a full disk is not fatal');

  Atomics.store(faults.words, FAULT_WORDS.DISK_FULL, 0);
  await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 3 }]);
  await log.createTopic({ name: 'u', partitions: 1 });
  t.is(log.fetchOffset('g', 't', 0)?.offset, 3);
  t.is(log.fetchOffset('g', 't', 1), undefined);
  t.is(log.lastOffset, 3, 'offsets stay dense across the failed batch');
  await closeAndVerify(log);
  const reopened = foldFromDisk(dir);
  t.is(reopened.fetchOffset('g', 't', 0)?.offset, 3);
  t.true(reopened.topics.has('u'));
});

test('ENOSPC while creating the next segment: rejected, and the next write after space returns rotates', async (t) => {
  const dir = tmpDir(t);
  const faults = faultSwitches();
  const log = await openStore(t, { dir, segmentBytes: 64 * 1024 }, { faults: faults.buffer });
  await log.createTopic({ name: 't', partitions: 1 });
  const metadata = 'm'.repeat(4000);
  // Fill the first segment to just under its limit.
  while (walBytes(dir) < 60 * 1024) await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 1, metadata }]);
  Atomics.store(faults.words, FAULT_WORDS.DISK_FULL, 1);
  const error = (await t.throwsAsync(log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 2, metadata }]))) as MetaLogError;
  t.is(error.code, 'KAFKA_STORAGE_ERROR');
  t.deepEqual(fs.readdirSync(path.join(dir, 'wal')).filter((n) => n.endsWith('.tmp')), [], 'no half-made segment stays');
  Atomics.store(faults.words, FAULT_WORDS.DISK_FULL, 0);
  await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 3, metadata }]);
  t.is(fs.readdirSync(path.join(dir, 'wal')).length, 2);
  t.is(log.fetchOffset('g', 't', 0)?.offset, 3);
});

test('EIO on write: that batch fails, the store carries on', async (t) => {
  const dir = tmpDir(t);
  const faults = faultSwitches();
  const log = await openStore(t, { dir }, { faults: faults.buffer });
  await log.createTopic({ name: 't', partitions: 1 });
  Atomics.store(faults.words, FAULT_WORDS.WRITE_FAILS_AFTER, 1);
  const error = (await t.throwsAsync(log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 1 }]))) as MetaLogError;
  t.is(error.code, 'KAFKA_STORAGE_ERROR');
  t.is((error.cause as NodeJS.ErrnoException).code, 'EIO');
  await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 2 }]);
  t.is(log.fetchOffset('g', 't', 0)?.offset, 2);
});

test('fdatasync failure: the batch fails, the store turns read-only, fdatasync is never retried, acknowledged writes survive', async (t) => {
  const dir = tmpDir(t);
  const faults = faultSwitches();
  const log = await MetaLog.open({ dir }, { faults: faults.buffer });
  t.teardown(() => log.close());
  await log.createTopic({ name: 't', partitions: 1 });
  await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 1 }]);

  Atomics.store(faults.words, FAULT_WORDS.FSYNC_FAILS, 1);
  const failed = (await t.throwsAsync(log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 2 }]))) as MetaLogError;
  t.is(failed.code, 'STORAGE_FAILED');
  t.is(failed.kafkaCode, 56);
  t.true(failed.makesReadOnly);
  t.is((failed.cause as NodeJS.ErrnoException).code, 'EIO');
  t.is(log.fetchOffset('g', 't', 0)?.offset, 1, 'the unsynced write is not served');
  const fsyncsAfterFailure = Atomics.load(faults.words, FAULT_WORDS.FSYNCS);

  Atomics.store(faults.words, FAULT_WORDS.FSYNC_FAILS, 0);
  const later = (await t.throwsAsync(log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 3 }]))) as MetaLogError;
  t.is(later.code, 'STORE_READ_ONLY');
  t.is(log.readOnlyError?.code, 'STORAGE_FAILED');
  t.is(log.getTopic('t')?.name, 't', 'reads still work');
  await log.close();
  t.is(Atomics.load(faults.words, FAULT_WORDS.FSYNCS), fsyncsAfterFailure, 'no fdatasync after the failure, not even at close');

  const reopened = foldFromDisk(dir);
  t.true((reopened.fetchOffset('g', 't', 0)?.offset ?? 0) >= 1, 'the acknowledged commit survived');
});
