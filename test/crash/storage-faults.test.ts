/**
 * Injected disk faults outside the WAL: in the middle of a snapshot (ENOSPC, EIO), in a snapshot's
 * fdatasync, in a backup to a full disk, in a restore. The fault switches are shared with every thread
 * the store starts (writer, snapshot thread, reader pool) and confined to one kind of file by a path part
 * (setFaultScope), so the WAL runs on a sound disk while the snapshot or backup fails.
 *
 * How: each test turns a switch on, awaits the call that must fail (its promise settles when the thread
 * that hit the fault reports), checks the error, the files and the store, turns the switch off and
 * checks that the same call then succeeds. No sleeps, no clock.
 *
 * The properties: a failed snapshot fails alone (the store keeps writing, no half file is ever offered
 * to open, `snapshotStatus` says why, the next one succeeds); a failed snapshot fdatasync does not make
 * the WAL read-only (a snapshot is only a copy of what the WAL holds durably); a failed backup or restore
 * rejects with KAFKA_STORAGE_ERROR carrying the I/O error, leaves the source as it was and leaves no
 * destination that could be mistaken for a whole copy.
 */
import test, { type ExecutionContext } from 'ava';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { MetaLog } from '../../src/api/metalog.js';
import { MetaLogError } from '../../src/errors.js';
import { FAULT_WORD_COUNT, FAULT_WORDS, setFaultScope } from '../../src/wal/storage.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

/** Snapshots only when asked, so each test decides when one is written. */
const manual = { snapshotEveryEvents: 0, snapshotIntervalMs: 0, snapshotEveryBytes: 0 };
const SNAPSHOTS_ONLY = `${path.sep}snapshots${path.sep}`;

function faultSwitches(): { buffer: SharedArrayBuffer; words: Int32Array } {
  const buffer = new SharedArrayBuffer(FAULT_WORD_COUNT * 4);
  return { buffer, words: new Int32Array(buffer) };
}

async function fill(log: MetaLog, prefix: string, topics = 10, metadataBytes = 200): Promise<void> {
  for (let i = 0; i < topics; i++) await log.createTopic({ name: `${prefix}-${i}`, partitions: 2, configs: { 'retention.ms': String(i) } });
  for (let i = 0; i < topics; i++) await log.commitOffsets('g', [{ topic: `${prefix}-${i}`, partition: i % 2, offset: i, metadata: 'm'.repeat(metadataBytes) }]);
}

/** The names of the files in `dir`'s snapshots folder, sorted. */
function snapshotFiles(dir: string): string[] {
  return fs.readdirSync(path.join(dir, 'snapshots')).sort();
}

/** Name → SHA-256 of every file of a folder of `dir`, so a test can tell that nothing in it changed. */
function digests(dir: string, sub: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const name of fs.readdirSync(path.join(dir, sub)).sort()) {
    result[name] = crypto.createHash('sha256').update(fs.readFileSync(path.join(dir, sub, name))).digest('hex');
  }
  return result;
}

/** Checks a failed snapshot's error and status, and that the store went on and left no half file. */
async function checkSnapshotFailed(t: ExecutionContext, log: MetaLog, dir: string, code: string, kept: string[]): Promise<void> {
  // The status is a live object: keep its numbers, not the object.
  const failuresBefore = log.snapshotStatus?.failures ?? 0;
  const lastOffsetBefore = log.snapshotStatus?.lastOffset;
  const error = (await t.throwsAsync(log.snapshot(), { instanceOf: MetaLogError })) as MetaLogError;
  t.is(error.code, 'KAFKA_STORAGE_ERROR');
  t.is((error.cause as NodeJS.ErrnoException).code, code);
  const status = log.snapshotStatus;
  t.is(status?.failures, failuresBefore + 1);
  t.is(status?.lastError?.code, 'KAFKA_STORAGE_ERROR');
  t.regex(status?.lastError?.message ?? '', new RegExp(code), 'the status says why');
  t.is(status?.lastOffset, lastOffsetBefore, 'the last good snapshot is still the one reported');
  t.deepEqual(snapshotFiles(dir), kept, 'no half file and no .tmp is left under the snapshots folder');
  await log.commitOffsets('g', [{ topic: 'a-0', partition: 0, offset: 1000 + (status?.failures ?? 0) }]);
  await log.sync();
  t.is(log.readOnlyError, null, 'the WAL goes on');
}

/**
 * One run of a snapshot fault: a good snapshot, then a failed one (`arm` turns the fault on), the
 * store reopened from the good one with the right state, then a failure again on the new handle and,
 * with the fault off, a snapshot that succeeds on the same snapshot thread that failed.
 */
async function snapshotFaultRun(
  t: ExecutionContext,
  fault: { code: string; onThirdWrite: boolean; arm: (words: Int32Array) => void; disarm: (words: Int32Array) => void },
): Promise<void> {
  const { code, arm, disarm } = fault;
  const dir = tmpDir(t);
  const faults = faultSwitches();
  let log = await openStore(t, { dir, ...manual }, { faults: faults.buffer });
  await fill(log, 'a');
  const good = await log.snapshot();
  await fill(log, 'b');
  setFaultScope(faults.buffer, SNAPSHOTS_ONLY);
  const writesBefore = Atomics.load(faults.words, FAULT_WORDS.WRITES);
  arm(faults.words);
  await checkSnapshotFailed(t, log, dir, code, [good.file]);
  if (fault.onThirdWrite) {
    t.is(Atomics.load(faults.words, FAULT_WORDS.WRITES) - writesBefore, 2, 'the fault hit the third write of the file: its header and meta were written');
  }
  const served = log.canonicalState();
  await closeAndVerify(log);

  log = await openStore(t, { dir, ...manual }, { faults: faults.buffer });
  t.is(log.recovery.snapshot?.file, good.file, 'open starts from the last whole snapshot');
  t.deepEqual(log.recovery.skippedSnapshots, []);
  t.is(log.canonicalState(), served, 'and replays the WAL after it to the same state');
  arm(faults.words);
  await checkSnapshotFailed(t, log, dir, code, [good.file]);
  disarm(faults.words);
  const next = await log.snapshot();
  t.is(next.lastOffset, log.lastOffset);
  t.is(log.snapshotStatus?.lastError, null);
  t.deepEqual(snapshotFiles(dir), [good.file, next.file].sort());
  const servedAfter = log.canonicalState();
  await closeAndVerify(log);
  log = await openStore(t, { dir, ...manual });
  t.is(log.recovery.snapshot?.file, next.file);
  t.is(log.canonicalState(), servedAfter);
}

test('ENOSPC in the middle of a snapshot: it fails alone, no half file is offered to open, the next one succeeds', async (t) => {
  await snapshotFaultRun(t, {
    code: 'ENOSPC',
    onThirdWrite: true,
    arm: (words) => {
      Atomics.store(words, FAULT_WORDS.WRITE_FAILS_ENOSPC, 1);
      Atomics.store(words, FAULT_WORDS.WRITE_FAILS_AFTER, 3);
    },
    disarm: (words) => Atomics.store(words, FAULT_WORDS.WRITE_FAILS_ENOSPC, 0),
  });
});

test('EIO in the middle of a snapshot: it fails alone, no half file is offered to open, the next one succeeds', async (t) => {
  await snapshotFaultRun(t, {
    code: 'EIO',
    onThirdWrite: true,
    arm: (words) => Atomics.store(words, FAULT_WORDS.WRITE_FAILS_AFTER, 3),
    // The countdown ends at the failing write.
    disarm: () => undefined,
  });
});

test('a failed fdatasync of a snapshot abandons that snapshot only: the WAL stays writable and durable', async (t) => {
  await snapshotFaultRun(t, {
    code: 'EIO',
    onThirdWrite: false,
    arm: (words) => Atomics.store(words, FAULT_WORDS.FSYNC_FAILS, 1),
    disarm: (words) => Atomics.store(words, FAULT_WORDS.FSYNC_FAILS, 0),
  });
});

test('a backup to a full disk: a coded error, no backup left, the source untouched and writable; then it succeeds', async (t) => {
  const dir = tmpDir(t);
  const faults = faultSwitches();
  const log = await openStore(t, { dir, ...manual, segmentBytes: 64 * 1024 }, { faults: faults.buffer });
  await fill(log, 'a', 60, 4000);
  await log.snapshot();
  const served = log.canonicalState();
  const walBefore = digests(dir, 'wal');
  const snapshotsBefore = digests(dir, 'snapshots');
  t.true(Object.keys(walBefore).length >= 3, 'the WAL has several segments to copy');
  const dest = path.join(tmpDir(t), 'backup');
  setFaultScope(faults.buffer, `${dest}${path.sep}`);
  const writesBefore = Atomics.load(faults.words, FAULT_WORDS.WRITES);
  // Two pieces are copied, then the disk is full halfway through the third.
  Atomics.store(faults.words, FAULT_WORDS.WRITE_FAILS_ENOSPC, 1);
  Atomics.store(faults.words, FAULT_WORDS.WRITE_FAILS_AFTER, 3);

  const error = (await t.throwsAsync(log.backup(dest), { instanceOf: MetaLogError })) as MetaLogError;
  t.is(error.code, 'KAFKA_STORAGE_ERROR');
  t.is((error.cause as NodeJS.ErrnoException).code, 'ENOSPC');
  t.is(error.details.file, dest);
  t.is(Atomics.load(faults.words, FAULT_WORDS.WRITES) - writesBefore, 2, 'the disk filled up in the middle of the copy');
  t.false(fs.existsSync(dest), 'no half backup is left to be taken for a whole one');
  const restored = path.join(tmpDir(t), 'restored');
  const restoreError = (await t.throwsAsync(MetaLog.restore(dest, restored), { instanceOf: MetaLogError })) as MetaLogError;
  t.is(restoreError.code, 'INVALID_REQUEST', 'a restore from the failed backup fails clearly');
  t.false(fs.existsSync(restored));

  t.deepEqual(digests(dir, 'wal'), walBefore, 'the source WAL is untouched');
  t.deepEqual(digests(dir, 'snapshots'), snapshotsBefore, 'the source snapshots are untouched');
  t.is(log.canonicalState(), served);
  await log.createTopic({ name: 'after-backup', partitions: 1 });
  t.is(log.readOnlyError, null, 'the source is still writable');

  Atomics.store(faults.words, FAULT_WORDS.WRITE_FAILS_ENOSPC, 0);
  const report = await log.backup(dest);
  t.is(report.lastOffset, log.lastOffset);
  await MetaLog.restore(dest, restored);
  const copy = await openStore(t, { dir: restored, ...manual });
  t.is(copy.canonicalState(), log.canonicalState());
});

/** A closed store with a snapshot and several segments after it, and its state. */
async function sourceStore(t: ExecutionContext): Promise<{ src: string; served: string }> {
  const src = tmpDir(t);
  const log = await openStore(t, { dir: src, ...manual, segmentBytes: 64 * 1024 });
  await fill(log, 'a', 20, 4000);
  await log.snapshot();
  await fill(log, 'b', 40, 4000);
  const served = log.canonicalState();
  await closeAndVerify(log);
  return { src, served };
}

test('a restore that fails midway (EIO on a copy, then a failed fdatasync): a coded error and no half store; then it succeeds', async (t) => {
  const { src, served } = await sourceStore(t);
  const srcWal = digests(src, 'wal');
  const faults = faultSwitches();
  const dir = path.join(tmpDir(t), 'restored');
  setFaultScope(faults.buffer, `${dir}${path.sep}`);

  // EIO on the second piece copied: part of the copy is there, the rest is not.
  Atomics.store(faults.words, FAULT_WORDS.WRITE_FAILS_AFTER, 2);
  const copyError = (await t.throwsAsync(MetaLog.restore(src, dir, {}, { faults: faults.buffer }), { instanceOf: MetaLogError })) as MetaLogError;
  t.is(copyError.code, 'KAFKA_STORAGE_ERROR');
  t.is((copyError.cause as NodeJS.ErrnoException).code, 'EIO');
  t.is(copyError.details.file, dir);
  t.false(fs.existsSync(dir), 'no half-restored store is left to be opened');

  // Every file copied and folded, then its fdatasync fails: still nothing left.
  Atomics.store(faults.words, FAULT_WORDS.FSYNC_FAILS, 1);
  const syncError = (await t.throwsAsync(MetaLog.restore(src, dir, {}, { faults: faults.buffer }), { instanceOf: MetaLogError })) as MetaLogError;
  t.is(syncError.code, 'KAFKA_STORAGE_ERROR');
  t.is((syncError.cause as NodeJS.ErrnoException).syscall, 'fdatasync');
  t.false(fs.existsSync(dir));
  t.deepEqual(digests(src, 'wal'), srcWal, 'the source is only read');

  Atomics.store(faults.words, FAULT_WORDS.FSYNC_FAILS, 0);
  const report = await MetaLog.restore(src, dir, {}, { faults: faults.buffer });
  t.not(report.snapshot, null);
  const restored = await openStore(t, { dir, ...manual });
  t.is(restored.canonicalState(), served);
});
