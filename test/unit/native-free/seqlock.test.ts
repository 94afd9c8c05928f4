/**
 * The sequence lock's reader protocol on one thread: `begin` / `validate` (the inline first attempt of
 * the hottest reads) and `read`, against write sections opened and closed in between.
 */
import test from 'ava';
import { SequenceLock, torn } from '../../../native-free/seqlock.js';

function lock(): SequenceLock {
  return new SequenceLock(new Int32Array(new SharedArrayBuffer(64)), 0, 1);
}

test('begin refuses an open section; validate fails once a section opened or closed since begin', (t) => {
  const sequenceLock = lock();
  const quiet = sequenceLock.begin();
  t.not(quiet, -1);
  t.true(sequenceLock.validate(quiet), 'nothing happened in between');
  sequenceLock.beginWrite();
  t.is(sequenceLock.begin(), -1, 'no attempt starts inside a section');
  t.false(sequenceLock.validate(quiet), 'a section opened after begin');
  sequenceLock.endWrite();
  t.false(sequenceLock.validate(quiet), 'a whole section came and went after begin');
  const after = sequenceLock.begin();
  t.true(sequenceLock.validate(after));
  t.false(sequenceLock.validate(-1), 'the refusal of begin never validates');
});

test('read retries an attempt that reports torn, and returns the first whole one', (t) => {
  const sequenceLock = lock();
  let attempts = 0;
  const result = sequenceLock.read(() => (++attempts < 3 ? torn : 'whole'));
  t.is(result, 'whole');
  t.is(attempts, 3);
});

test('read retries an attempt that a section overlapped', (t) => {
  const sequenceLock = lock();
  let attempts = 0;
  const result = sequenceLock.read(() => {
    attempts++;
    // The first attempt "overlaps" a whole write section: its result must be thrown away.
    if (attempts === 1) {
      sequenceLock.beginWrite();
      sequenceLock.endWrite();
      return 'stale';
    }
    return 'fresh';
  });
  t.is(result, 'fresh');
  t.is(attempts, 2);
});
