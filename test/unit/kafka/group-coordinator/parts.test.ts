/**
 * The coordinator's pure parts: manual timers (deadline order, cancellation, timers set while firing),
 * the timer set's cancelAll, the protocol vote, the subscription reader, the store-error table (one test
 * per row) and the config checks.
 */
import test from 'ava';
import { MetaLogError } from '../../../../src/index.js';
import { ErrorCode, KafkaError } from '../../../../src/kafka/error-codes.js';
import { resolveCoordinatorConfig } from '../../../../src/kafka/group-coordinator/coordinator-config.js';
import { encodeSubscription, subscribedTopics } from '../../../../src/kafka/group-coordinator/consumer-subscription.js';
import { storeErrorCode } from '../../../../src/kafka/group-coordinator/group-store.js';
import { canJoinWith, protocolsSupportedByAll, voteProtocol } from '../../../../src/kafka/group-coordinator/protocol-vote.js';
import { ManualTimers, TimerSet } from '../../../../src/kafka/group-coordinator/timers.js';

test('manual timers fire in deadline order, ties in scheduling order, each reading its own deadline as now', (t) => {
  const timers = new ManualTimers(100);
  const fired: string[] = [];
  timers.schedule(30, () => fired.push(`c@${timers.now()}`));
  timers.schedule(10, () => fired.push(`a@${timers.now()}`));
  timers.schedule(10, () => fired.push(`b@${timers.now()}`));
  timers.schedule(31, () => fired.push('late'));
  t.is(timers.advance(30), 3);
  t.deepEqual(fired, ['a@110', 'b@110', 'c@130']);
  t.is(timers.now(), 130);
  t.is(timers.pendingCount, 1);
});

test('a cancelled manual timer never fires; one set while firing fires in the same advance if due', (t) => {
  const timers = new ManualTimers();
  const fired: string[] = [];
  const cancelled = timers.schedule(5, () => fired.push('cancelled'));
  timers.schedule(5, () => timers.schedule(5, () => fired.push('nested')));
  timers.cancel(cancelled);
  timers.advance(10);
  t.deepEqual(fired, ['nested']);
  t.throws(() => timers.advance(-1), { instanceOf: RangeError });
});

test('a timer set cancels all its timers at once and sets none afterwards', (t) => {
  const timers = new ManualTimers();
  const set = new TimerSet(timers);
  let fired = 0;
  set.schedule(1, () => fired++);
  const handle = set.schedule(2, () => fired++);
  set.cancel(handle);
  set.cancel(handle);
  t.is(set.size, 1);
  set.cancelAll();
  set.schedule(1, () => fired++);
  timers.advance(10);
  t.is(fired, 0);
  t.is(timers.pendingCount, 0);
});

test('vote: candidates are the protocols all support; the most preferred wins; ties go to the first member\'s preference', (t) => {
  const member = (...names: string[]) => ({ protocols: names.map((name) => ({ name })) });
  t.deepEqual(protocolsSupportedByAll([member('range', 'roundrobin'), member('roundrobin', 'range'), member('roundrobin')]), ['roundrobin']);
  t.is(voteProtocol([member('range', 'roundrobin'), member('roundrobin', 'range'), member('roundrobin', 'range')]), 'roundrobin');
  t.is(voteProtocol([member('range', 'roundrobin'), member('roundrobin', 'range')]), 'range');
  t.throws(() => voteProtocol([member('range'), member('sticky')]));
});

test('canJoinWith: any non-empty type joins a group without others; otherwise same type and a common protocol', (t) => {
  const others = [{ protocols: [{ name: 'range' }, { name: 'sticky' }] }, { protocols: [{ name: 'range' }] }];
  t.true(canJoinWith(null, [], 'consumer', [{ name: 'x' }]));
  t.false(canJoinWith(null, [], '', [{ name: 'x' }]));
  t.false(canJoinWith(null, [], 'consumer', []));
  t.true(canJoinWith('consumer', others, 'consumer', [{ name: 'sticky' }, { name: 'range' }]));
  t.false(canJoinWith('consumer', others, 'consumer', [{ name: 'sticky' }]));
  t.false(canJoinWith('consumer', others, 'connect', [{ name: 'range' }]));
});

test('subscription: topics of a v0 subscription, and of one with user data and fields past it', (t) => {
  t.deepEqual(subscribedTopics(encodeSubscription(['orders', 'payments'])), ['orders', 'payments']);
  const withUserData = encodeSubscription(['orders'], Uint8Array.of(1, 2, 3));
  const later = new Uint8Array(withUserData.length + 8);
  later.set(withUserData);
  new DataView(later.buffer).setInt16(0, 3); // a v3 subscription: owned partitions etc. follow, unread
  t.deepEqual(subscribedTopics(later), ['orders']);
});

test('subscription: truncated, negative or non-UTF-8 bytes record no topics; illegal names and repeats are left out', (t) => {
  const bytes = encodeSubscription(['orders', 'payments']);
  t.deepEqual(subscribedTopics(bytes.subarray(0, 12)), []);
  t.deepEqual(subscribedTopics(new Uint8Array(0)), []);
  t.deepEqual(subscribedTopics(Uint8Array.of(0xff, 0xff, 0, 0, 0, 0)), []);
  const bad = encodeSubscription(['ab']);
  bad[8] = 0xc3; // a lone UTF-8 lead byte
  bad[9] = 0x28;
  t.deepEqual(subscribedTopics(bad), []);
  t.deepEqual(subscribedTopics(encodeSubscription(['ok', 'not ok', '..', 'ok'])), ['ok']);
});

test('store errors: closed store or evicted handle → COORDINATOR_NOT_AVAILABLE', (t) => {
  t.is(storeErrorCode(new MetaLogError('STORE_CLOSED', 'closed', {})), ErrorCode.COORDINATOR_NOT_AVAILABLE);
  t.is(storeErrorCode(new MetaLogError('HANDLE_EVICTED', 'evicted', {})), ErrorCode.COORDINATOR_NOT_AVAILABLE);
});

test('store errors: UNKNOWN_TOPIC_OR_PARTITION / REQUEST_TIMED_OUT → COORDINATOR_NOT_AVAILABLE', (t) => {
  t.is(storeErrorCode(new MetaLogError('UNKNOWN_TOPIC_OR_PARTITION', 'x', {})), ErrorCode.COORDINATOR_NOT_AVAILABLE);
  t.is(storeErrorCode(new KafkaError('REQUEST_TIMED_OUT', 'x')), ErrorCode.COORDINATOR_NOT_AVAILABLE);
});

test('store errors: a failed or read-only disk (KAFKA_STORAGE_ERROR) → NOT_COORDINATOR', (t) => {
  t.is(storeErrorCode(new MetaLogError('STORE_READ_ONLY', 'x', {})), ErrorCode.NOT_COORDINATOR);
  t.is(storeErrorCode(new MetaLogError('KAFKA_STORAGE_ERROR', 'x', {})), ErrorCode.NOT_COORDINATOR);
});

test('store errors: MESSAGE_TOO_LARGE / RECORD_LIST_TOO_LARGE → UNKNOWN_SERVER_ERROR', (t) => {
  t.is(storeErrorCode(new KafkaError('MESSAGE_TOO_LARGE', 'x')), ErrorCode.UNKNOWN_SERVER_ERROR);
  t.is(storeErrorCode(new KafkaError('RECORD_LIST_TOO_LARGE', 'x')), ErrorCode.UNKNOWN_SERVER_ERROR);
});

test('store errors: another store error keeps its own Kafka code; anything else → UNKNOWN_SERVER_ERROR', (t) => {
  t.is(storeErrorCode(new MetaLogError('ILLEGAL_GENERATION', 'x', {})), ErrorCode.ILLEGAL_GENERATION);
  t.is(storeErrorCode(new MetaLogError('INVALID_REQUEST', 'x', {})), ErrorCode.INVALID_REQUEST);
  t.is(storeErrorCode(new Error('x')), ErrorCode.UNKNOWN_SERVER_ERROR);
});

test('config: defaults are Kafka\'s; bad values name the field', (t) => {
  t.like(resolveCoordinatorConfig(), { minSessionTimeoutMs: 6_000, maxSessionTimeoutMs: 1_800_000, initialRebalanceDelayMs: 3_000 });
  t.throws(() => resolveCoordinatorConfig({ minSessionTimeoutMs: -1 }), { message: /minSessionTimeoutMs/ });
  t.throws(() => resolveCoordinatorConfig({ minSessionTimeoutMs: 10, maxSessionTimeoutMs: 5 }), { message: /minSessionTimeoutMs/ });
  t.throws(() => resolveCoordinatorConfig({ groupMaxSize: 0 }), { message: /groupMaxSize/ });
  t.throws(() => resolveCoordinatorConfig({ groupMaxSize: 10_001 }), { message: /groupMaxSize/ });
});
