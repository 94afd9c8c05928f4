/**
 * Worker-thread entry for the ring property tests: one role per thread, given by `workerData` (a
 * `RingWorkerTask`). A role posts `{ kind: 'ready' }` once it is attached (cursors: once open) and
 * `{ kind: 'done', ... }` when its work is checked; any failure is thrown, which the parent sees as the
 * worker's 'error' event. Every wait is bounded by `timeoutMs` / `stallMs`, so a lost wake-up fails the
 * test as a stall instead of hanging it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CommandRing, commandRingLayout } from '../../native-free/command-ring.js';
import { EventRing } from '../../native-free/event-ring.js';
import {
  allZero,
  createRandom,
  RecordStream,
  recordIdentity,
  StreamChecker,
  type RingWorkerMessage,
  type RingWorkerTask,
} from './ring-streams.js';

/** Empty polls a late cursor makes (each waiting up to lateWaitMs) before it calls the stream stalled. */
const lateWaitMs = 20;

function post(message: RingWorkerMessage): void {
  if (parentPort === null) throw new Error('ring-worker runs only as a worker thread');
  parentPort.postMessage(message);
}

function runCommandProducer(task: Extract<RingWorkerTask, { role: 'command-producer' }>): void {
  const ring = CommandRing.attach(task.buffer);
  const stream = new RecordStream(task.seed, task.streamId, ring.recordBytesMax);
  post({ kind: 'ready' });
  for (let sequence = 0; sequence < task.recordCount; sequence++) {
    if (!ring.writeSync(stream.next(), task.timeoutMs)) {
      throw new Error(`stream ${task.streamId}: writeSync timed out at sequence ${sequence}`);
    }
  }
  post({ kind: 'done', recordCount: task.recordCount });
}

function runCommandConsumer(task: Extract<RingWorkerTask, { role: 'command-consumer' }>): void {
  const ring = CommandRing.attach(task.buffer);
  const checker = new StreamChecker(task.seed, task.recordCounts, ring.recordBytesMax);
  const random = createRandom(task.seed ^ 0x7f4a7c15);
  const recordCountTotal = task.recordCounts.reduce((sum, count) => sum + count, 0);
  post({ kind: 'ready' });
  // Bounded: a round consumes records, or finds padding (at most one per record), or waits; a wait that
  // times out ends the loop as a stall.
  const roundsMax = 4 * recordCountTotal + 1000;
  for (let round = 0; !checker.complete(); round++) {
    if (round >= roundsMax) throw new Error(`consumer made no progress in ${roundsMax} rounds`);
    // Vary the batch shape so maxRecords and maxBytes both cut batches.
    const maxRecords = 1 + (random() % 32);
    const maxBytes = random() % 4096;
    const consumed = ring.read((record) => checker.check(record), maxRecords, maxBytes);
    if (consumed === 0 && !ring.waitForData(task.stallMs)) {
      throw new Error(`consumer stalled after ${checker.recordCount()} of ${recordCountTotal} records`);
    }
  }
  if (ring.read(() => undefined, 1, 0) !== 0) throw new Error('a record arrived after every stream completed');
  if (ring.usedBytes() !== 0) throw new Error(`usedBytes is ${ring.usedBytes()} after draining`);
  // The consumer zeroes what it releases, so a drained ring's data area is all zero.
  if (!allZero(new Uint8Array(task.buffer, commandRingLayout.controlBytes))) {
    throw new Error('the data area is not zero after draining');
  }
  post({ kind: 'done', recordCount: checker.recordCount() });
}

function runEventProducer(task: Extract<RingWorkerTask, { role: 'event-producer' }>): void {
  const ring = EventRing.attach(task.buffer);
  const stream = new RecordStream(task.seed, 0, ring.recordBytesMax);
  const done = new Int32Array(task.doneBuffer);
  post({ kind: 'ready' });
  for (let sequence = 0; sequence < task.recordCount; sequence++) {
    if (!ring.publishSync(stream.next(), task.timeoutMs)) {
      throw new Error(`publishSync timed out at sequence ${sequence}`);
    }
  }
  // Stored after the last publish: a cursor that loads 1 here sees every record in publishedPosition.
  Atomics.store(done, 0, 1);
  post({ kind: 'done', recordCount: task.recordCount });
}

function runEventCursor(task: Extract<RingWorkerTask, { role: 'event-cursor' }>): void {
  const ring = EventRing.attach(task.buffer);
  const cursor = ring.openCursor();
  post({ kind: 'ready' });
  const checker = new StreamChecker(task.seed, [task.recordCount], ring.recordBytesMax);
  const random = createRandom(task.seed ^ Math.imul(cursor.slot + 1, 0x3c6ef372));
  const recordCountWanted = task.mode === 'quitter' ? task.quitAfter : task.recordCount;
  let firstSequence: number | undefined;
  const visit = (record: Uint8Array): void => {
    if (firstSequence === undefined) {
      firstSequence = recordIdentity(record)?.sequence ?? 0;
      // A full cursor opened before the first publish must start at sequence 0; a late one anywhere.
      if (task.mode === 'late') checker.skipTo(0, firstSequence);
    }
    checker.check(record);
  };
  const roundsMax = 4 * task.recordCount + Math.ceil(task.stallMs / lateWaitMs) + 1000;
  let idleRounds = 0;
  for (let round = 0; checker.recordCount() < recordCountWanted && !checker.complete(); round++) {
    if (round >= roundsMax) throw new Error(`cursor made no progress in ${roundsMax} rounds`);
    const maxRecords = Math.min(1 + (random() % 16), recordCountWanted - checker.recordCount());
    if (cursor.poll(visit, maxRecords) > 0) {
      idleRounds = 0;
      continue;
    }
    if (task.mode !== 'late') {
      if (!cursor.waitSync(task.stallMs)) throw new Error(`cursor stalled after ${checker.recordCount()} records`);
      continue;
    }
    // A late cursor may open after the last record and then never be notified, so it checks the
    // producer's done flag and waits in short bounded slices.
    if (Atomics.load(new Int32Array(task.doneBuffer), 0) === 1) {
      cursor.poll(visit, task.recordCount);
      break;
    }
    idleRounds += 1;
    if (idleRounds * lateWaitMs > task.stallMs) throw new Error('late cursor stalled');
    cursor.waitSync(lateWaitMs);
  }
  cursor.close();
  if (task.mode === 'full' && firstSequence !== 0) throw new Error(`full cursor started at ${firstSequence}`);
  if (task.mode === 'late' && firstSequence !== undefined && !checker.complete()) {
    throw new Error(`late cursor stopped at ${checker.recordCount()} records from sequence ${firstSequence}`);
  }
  post({ kind: 'done', recordCount: checker.recordCount(), firstSequence });
}

/**
 * Opens a cursor, checks that what it reads is a contiguous run of the stream, closes it, and again,
 * until the producer is done: every open races the producer's scan of the slot table.
 */
function runEventChurn(task: Extract<RingWorkerTask, { role: 'event-cursor' }>): void {
  const ring = EventRing.attach(task.buffer);
  const done = new Int32Array(task.doneBuffer);
  const random = createRandom(task.seed ^ 0x1b873593);
  post({ kind: 'ready' });
  let recordCount = 0;
  let sessionCount = 0;
  // Bounded: every session but the last two reads at least one record.
  const sessionsMax = task.recordCount + 2;
  for (let session = 0; session < sessionsMax; session++) {
    const producerDone = Atomics.load(done, 0) === 1;
    const cursor = ring.openCursor();
    const checker = new StreamChecker(task.seed, [task.recordCount], ring.recordBytesMax);
    const visit = (record: Uint8Array): void => {
      if (checker.recordCount() === 0) checker.skipTo(0, recordIdentity(record)?.sequence ?? 0);
      checker.check(record);
    };
    const recordGoal = 1 + (random() % 32);
    let idleRounds = 0;
    try {
      while (checker.recordCount() < recordGoal && !checker.complete()) {
        if (cursor.poll(visit, recordGoal - checker.recordCount()) > 0) continue;
        if (Atomics.load(done, 0) === 1) break;
        idleRounds += 1;
        if (idleRounds * lateWaitMs > task.stallMs) throw new Error('churning cursor stalled');
        cursor.waitSync(lateWaitMs);
      }
    } finally {
      cursor.close();
    }
    recordCount += checker.recordCount();
    sessionCount += 1;
    if (producerDone) break;
  }
  post({ kind: 'done', recordCount, sessionCount });
}

const task = workerData as RingWorkerTask;
switch (task.role) {
  case 'command-producer':
    runCommandProducer(task);
    break;
  case 'command-consumer':
    runCommandConsumer(task);
    break;
  case 'event-producer':
    runEventProducer(task);
    break;
  case 'event-cursor':
    if (task.mode === 'churn') runEventChurn(task);
    else runEventCursor(task);
    break;
}
