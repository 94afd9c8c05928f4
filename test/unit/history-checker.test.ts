/**
 * The cluster tests' history checker finds each kind of violation it claims to (a checker that passes
 * everything would prove nothing), and passes a correct history with unknown outcomes in it.
 */
import test from 'ava';
import { checkHistory, type LogEntry, type ReadCall, type WriteCall } from '../helpers/history-checker.js';

const write = (value: number, invokedAt: number, completedAt: number | null, outcome: WriteCall['outcome'], key = 'k'): WriteCall => ({ key, value, invokedAt, completedAt, outcome });
const entry = (value: number, key = 'k'): LogEntry => ({ key, value });
const read = (node: string, value: number | null, at: number, key = 'k'): ReadCall => ({ node, key, value, at });

test('a correct history passes, unknown outcomes in the log or not', (t) => {
  const writes = [write(1, 1, 2, 'ok'), write(2, 3, 6, 'ok'), write(3, 4, null, 'unknown'), write(4, 5, 7, 'unknown'), write(5, 8, 9, 'fail')];
  const log = [entry(1), entry(3), entry(2)];
  const reads = [read('a', null, 0), read('a', 1, 3), read('b', 3, 8), read('a', 2, 10)];
  t.deepEqual(checkHistory(writes, reads, log), []);
});

test('a lost acknowledged write is found', (t) => {
  t.deepEqual(checkHistory([write(1, 1, 2, 'ok'), write(2, 3, 4, 'ok')], [], [entry(1)]), ['acknowledged write k=2 is not in the log']);
});

test('a duplicated write is found', (t) => {
  t.deepEqual(checkHistory([write(1, 1, 2, 'unknown')], [], [entry(1), entry(1)]), ['the log holds k=1 twice (at 0 and 1)']);
});

test('a failed write in the log is found', (t) => {
  t.deepEqual(checkHistory([write(1, 1, 2, 'fail')], [], [entry(1)]), ['write k=1 failed, yet the log holds it at 0']);
});

test('a value no call wrote is found', (t) => {
  t.deepEqual(checkHistory([], [], [entry(9)]), ['the log holds k=9 at 0, which no call wrote']);
});

test('an acknowledged write ordered after a later one is found', (t) => {
  // 1 was acknowledged (time 2) before 2 was invoked (time 3), yet the log has 2 first.
  const violations = checkHistory([write(1, 1, 2, 'ok'), write(2, 3, 4, 'ok')], [], [entry(2), entry(1)]);
  t.deepEqual(violations, ['k=1 was acknowledged before k=2 was invoked, yet the log has it after']);
  // Concurrent calls (2 invoked before 1 was acknowledged) may land in either order.
  t.deepEqual(checkHistory([write(1, 1, 4, 'ok'), write(2, 2, 3, 'ok')], [], [entry(2), entry(1)]), []);
});

test('a value served that the log does not hold, and a node going back, are found', (t) => {
  const writes = [write(1, 1, 2, 'ok'), write(2, 3, 4, 'ok'), write(3, 5, 6, 'fail')];
  const log = [entry(1), entry(2)];
  t.deepEqual(checkHistory(writes, [read('a', 3, 7)], log), ['node a served k=3, which the log does not hold']);
  t.deepEqual(checkHistory(writes, [read('a', 2, 5), read('a', 1, 6)], log), ['node a served k=2 and later k=1, which comes before it in the log']);
  // Another node may lag behind the first.
  t.deepEqual(checkHistory(writes, [read('a', 2, 5), read('b', 1, 6)], log), []);
});
