/**
 * Group commit: an fsync-mode append resolves only after the fdatasync of its segment has returned, the
 * appends of many partitions in one turn share one round of fdatasyncs that run in parallel, and
 * durableEndOffset moves only with a flush. How: a storage that records the order of calls and holds each
 * fdatasync at a gate the test opens; a flush is scheduled by the test's own hook, not by a timer.
 */
import test from 'ava';
import path from 'node:path';
import { ErrorCode, KafkaError } from '../../../../src/kafka/error-codes.js';
import { LogFlusher } from '../../../../src/kafka/partition-log/log-flusher.js';
import { PartitionLog } from '../../../../src/kafka/partition-log/partition-log.js';
import { tmpDir } from '../../../helpers/tmp.js';
import { buildBatch } from './batches.js';
import { FaultStorage, gate } from './fault-storage.js';

const NOW_MS = 1_700_000_000_000;

/** A flusher whose scheduled flushes run only when the test calls `runScheduled`. */
function manualFlusher(mode: 'fsync' | 'interval' | 'none'): { flusher: LogFlusher; runScheduled: () => void; scheduledCount: () => number } {
  const scheduled: Array<() => void> = [];
  const flusher = new LogFlusher({ mode, flushIntervalMs: 1000, scheduleFlush: (run) => scheduled.push(run) });
  return {
    flusher,
    runScheduled: () => scheduled.splice(0).forEach((run) => run()),
    scheduledCount: () => scheduled.length,
  };
}

async function openLogs(t: Parameters<typeof tmpDir>[0], storage: FaultStorage, count: number): Promise<PartitionLog[]> {
  const root = tmpDir(t);
  const logs: PartitionLog[] = [];
  for (let i = 0; i < count; i++) logs.push(await PartitionLog.open({ storage, dirPath: path.join(root, `topic/${i}`) }));
  t.teardown(async () => {
    storage.datasyncGate = null;
    storage.datasyncFault = null;
    for (const log of logs) await log.close().catch(() => undefined);
  });
  return logs;
}

test('an fsync-mode append resolves only after its segment file was fdatasynced', async (t) => {
  const storage = new FaultStorage();
  const [log] = await openLogs(t, storage, 1);
  const { flusher, runScheduled } = manualFlusher('fsync');
  const syncGate = gate();
  const entered = gate();
  storage.datasyncGate = syncGate;
  storage.onDatasyncEntered = () => entered.open();
  storage.calls.length = 0;

  const appended = await log.append(await buildBatch({ values: ['a'] }), 0, NOW_MS);
  let durable = false;
  const waiting = flusher.afterAppend(log, appended.lastOffset + 1).then(() => {
    durable = true;
    storage.calls.push('produce answered');
  });
  t.is(log.durableEndOffset, 0);
  runScheduled();
  await entered.promise;
  t.false(durable, 'not answered while the fdatasync is still running');
  t.is(log.durableEndOffset, 0);
  syncGate.open();
  await waiting;
  t.is(log.durableEndOffset, 1);
  t.deepEqual(storage.calls, ['write 00000000000000000000.log', 'datasync 00000000000000000000.log', 'datasynced 00000000000000000000.log', 'produce answered']);
});

test('appends of many partitions in one turn share one flush whose fdatasyncs run in parallel', async (t) => {
  const storage = new FaultStorage();
  const logs = await openLogs(t, storage, 3);
  const { flusher, runScheduled, scheduledCount } = manualFlusher('fsync');
  const syncGate = gate();
  let enteredCount = 0;
  const allEntered = gate();
  storage.datasyncGate = syncGate;
  storage.onDatasyncEntered = () => {
    if (++enteredCount === 3) allEntered.open();
  };
  const waits = [];
  for (const log of logs) {
    const appended = await log.append(await buildBatch({ values: ['a', 'b'] }), 0, NOW_MS);
    waits.push(flusher.afterAppend(log, appended.lastOffset + 1));
  }
  t.is(scheduledCount(), 1, 'one flush for the whole turn');
  runScheduled();
  await allEntered.promise; // all three fdatasyncs are in progress at once
  t.is(enteredCount, 3);
  syncGate.open();
  await Promise.all(waits);
  t.is(flusher.flushCount, 1);
  t.deepEqual(logs.map((log) => log.durableEndOffset), [2, 2, 2]);
});

test('appends made while a flush runs are covered by the next one', async (t) => {
  const storage = new FaultStorage();
  const [log] = await openLogs(t, storage, 1);
  const { flusher, runScheduled } = manualFlusher('fsync');
  const firstGate = gate();
  const entered = gate();
  storage.datasyncGate = firstGate;
  storage.onDatasyncEntered = () => entered.open();
  const first = await log.append(await buildBatch({ values: ['a'] }), 0, NOW_MS);
  const firstDone = flusher.afterAppend(log, first.lastOffset + 1);
  runScheduled();
  await entered.promise;
  const second = await log.append(await buildBatch({ values: ['b'] }), 0, NOW_MS);
  const secondDone = flusher.afterAppend(log, second.lastOffset + 1);
  runScheduled();
  storage.datasyncGate = null;
  firstGate.open();
  await firstDone;
  await secondDone;
  t.is(log.durableEndOffset, 2);
  t.is(flusher.flushCount, 2);
});

test('interval mode answers at once; durableEndOffset moves at the next flush', async (t) => {
  const storage = new FaultStorage();
  const [log] = await openLogs(t, storage, 1);
  const { flusher, scheduledCount } = manualFlusher('interval');
  const appended = await log.append(await buildBatch({ values: ['a'] }), 0, NOW_MS);
  storage.calls.length = 0;
  await flusher.afterAppend(log, appended.lastOffset + 1);
  t.is(scheduledCount(), 0);
  t.deepEqual(storage.calls, [], 'no fdatasync before the Produce is answered');
  t.is(log.durableEndOffset, 0);
  await flusher.flush();
  t.is(log.durableEndOffset, 1);
  t.deepEqual(storage.calls, ['datasync 00000000000000000000.log', 'datasynced 00000000000000000000.log']);
});

test('none mode never syncs and lets durableEndOffset follow the log end', async (t) => {
  const storage = new FaultStorage();
  const [log] = await openLogs(t, storage, 1);
  const { flusher } = manualFlusher('none');
  const appended = await log.append(await buildBatch({ values: ['a'] }), 0, NOW_MS);
  storage.calls.length = 0;
  await flusher.afterAppend(log, appended.lastOffset + 1);
  t.is(log.durableEndOffset, 1);
  t.deepEqual(storage.calls, []);
});

test('a failed fdatasync rejects the waiting append with KAFKA_STORAGE_ERROR and shuts the partition', async (t) => {
  const storage = new FaultStorage();
  const [log, other] = await openLogs(t, storage, 2);
  const { flusher, runScheduled } = manualFlusher('fsync');
  const appended = await log.append(await buildBatch({ values: ['a'] }), 0, NOW_MS);
  storage.datasyncFault = 'EIO';
  const waiting = flusher.afterAppend(log, appended.lastOffset + 1);
  runScheduled();
  const error = await t.throwsAsync(waiting, { instanceOf: KafkaError });
  t.is(error?.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
  t.is(log.durableEndOffset, 0, 'nothing claimed durable');
  const next = await t.throwsAsync(log.append(await buildBatch({ values: ['b'] }), 0, NOW_MS), { instanceOf: KafkaError });
  t.is(next?.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
  storage.datasyncFault = null;
  t.like(await other.append(await buildBatch({ values: ['c'] }), 0, NOW_MS), { baseOffset: 0 }, 'other partitions go on');
});
