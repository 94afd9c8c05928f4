/**
 * Property tests of the command ring and the event ring on real worker threads.
 *
 * How: fast-check draws the shape of a run (seed, thread count, record count, ring size); the threads
 * then race for real, so every run explores the interleavings the scheduler happens to produce. Each
 * record is self-checking (see `ring-streams.ts`): the reading side regenerates every stream from the
 * seed and demands each record byte for byte, in stream order, exactly once. Rings are small (1 to 4 KiB
 * against records of up to 2 KiB), so wrap-around, padding and back-pressure happen on most records.
 * Threads meet only through Atomics and messages; every wait is bounded, so a lost wake-up shows up as a
 * "stalled" failure rather than a hang. Outcomes are deterministic (pass), schedules are not; `SEED=<n>`
 * replays the drawn shapes of a failed run.
 *
 * These tests were seen to fail against deliberately broken rings (each break reverted afterwards):
 * - command ring without the fill(0) in `release`: the reserved-commit-word assertion fires in a
 *   producer within the first run (and, with that assertion also removed, the checker reports stale
 *   bytes or wrong sequences);
 * - command ring publishing the commit word before copying the payload: the checker reports records
 *   whose bytes differ;
 * - command ring notifying a sleeping consumer only when `consumerSleeping` reads 0 (inverted check):
 *   the consumer stalls;
 * - event ring computing free space without the open cursors (`lagBytesMax` returning 0): cursors see
 *   overwritten records;
 * - event ring `openCursor` keeping its first, possibly stale position (no second load): exercised by
 *   the late cursors; see the unit test for the deterministic version of that race.
 */
import test from 'ava';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { CommandRing } from '../../native-free/command-ring.js';
import { EventRing } from '../../native-free/event-ring.js';
import {
  RecordStream,
  StreamChecker,
  type RingWorkerMessage,
  type RingWorkerTask,
} from '../helpers/ring-streams.js';

const ringWorkerUrl = new URL('../helpers/ring-worker.js', import.meta.url);
/** Liveness bound for any single wait; generous because the suite shares two cores with other tests. */
const stallMs = 15_000;
const runCount = 4;

interface RunningWorker {
  readonly ready: Promise<void>;
  readonly done: Promise<Extract<RingWorkerMessage, { kind: 'done' }>>;
  readonly terminate: () => Promise<number>;
}

function startWorker(task: RingWorkerTask): RunningWorker {
  const worker = new Worker(ringWorkerUrl, { workerData: task });
  let readyResolve: () => void = () => undefined;
  let readyReject: (error: Error) => void = () => undefined;
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  const done = new Promise<Extract<RingWorkerMessage, { kind: 'done' }>>((resolve, reject) => {
    worker.on('message', (message: RingWorkerMessage) => {
      if (message.kind === 'ready') readyResolve();
      else resolve(message);
    });
    const fail = (error: Error): void => {
      readyReject(error);
      reject(error);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`${task.role} worker exited with code ${code} before done`)));
  });
  // A failure is reported through `done`; keep `ready` from being an unhandled rejection as well.
  ready.catch(() => undefined);
  return { ready, done, terminate: () => worker.terminate() };
}

async function terminateAll(workers: readonly RunningWorker[]): Promise<void> {
  await Promise.all(workers.map((worker) => worker.terminate()));
}

/** Seed for fast-check: `SEED` when set (to replay), else a fresh one; printed when a property fails. */
function propertySeed(): number {
  const replay = process.env['SEED'];
  return replay === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(replay);
}

async function assertProperty<T>(
  seed: number,
  arbitrary: fc.Arbitrary<T>,
  predicate: (shape: T) => Promise<void>,
): Promise<void> {
  try {
    // No shrinking: thread schedules do not replay, so a smaller shape need not fail again.
    await fc.assert(fc.asyncProperty(arbitrary, predicate), { seed, numRuns: runCount, endOnFailure: true });
  } catch (error) {
    throw new Error(`property failed; replay the shapes with SEED=${seed}`, { cause: error });
  }
}

/**
 * The main thread is a producer too (stream 0), through tryWrite and waitForSpaceAsync, so the
 * non-blocking path races the worker producers' writeSync.
 */
async function writeStreamAsync(ring: CommandRing, seed: number, recordCount: number): Promise<void> {
  const stream = new RecordStream(seed, 0, ring.recordBytesMax);
  for (let sequence = 0; sequence < recordCount; sequence++) {
    const record = stream.next();
    // Bounded: each round waits for one release of space (or stallMs); the consumer keeps releasing.
    const roundsMax = 10_000;
    let round = 0;
    while (!ring.tryWrite(record)) {
      round += 1;
      if (round > roundsMax) throw new Error(`main-thread producer made no progress at sequence ${sequence}`);
      await ring.waitForSpaceAsync(stallMs);
    }
  }
}

test('command ring: concurrent producers, one consumer; every record intact, in stream order, exactly once', async (t) => {
  const seed = propertySeed();
  const shape = fc.record({
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
    workerProducerCount: fc.integer({ min: 2, max: 4 }),
    recordsPerProducer: fc.integer({ min: 300, max: 1500 }),
    capacityBytes: fc.constantFrom(1024, 4096),
  });
  await assertProperty(seed, shape, async (run) => {
    const ring = CommandRing.create(run.capacityBytes);
    const streamCount = run.workerProducerCount + 1;
    const recordCounts = Array.from({ length: streamCount }, () => run.recordsPerProducer);
    const consumer = startWorker({
      role: 'command-consumer',
      buffer: ring.buffer,
      seed: run.seed,
      recordCounts,
      stallMs,
    });
    const producers = Array.from({ length: run.workerProducerCount }, (_, index) =>
      startWorker({
        role: 'command-producer',
        buffer: ring.buffer,
        seed: run.seed,
        streamId: index + 1,
        recordCount: run.recordsPerProducer,
        timeoutMs: stallMs,
      }),
    );
    const workers = [consumer, ...producers];
    try {
      // Promise.all, so a failing worker ends the run at once instead of after a stall.
      const [summary] = await Promise.all([
        consumer.done,
        writeStreamAsync(ring, run.seed, run.recordsPerProducer),
        ...producers.map((producer) => producer.done),
      ]);
      t.is(summary.recordCount, streamCount * run.recordsPerProducer);
      t.is(ring.usedBytes(), 0);
    } finally {
      await terminateAll(workers);
    }
  });
});

test('event ring: one producer, cursors on several threads each see the whole sequence intact', async (t) => {
  const seed = propertySeed();
  const shape = fc.record({
    seed: fc.integer({ min: 1, max: 0x7fffffff }),
    cursorWorkerCount: fc.integer({ min: 2, max: 3 }),
    recordCount: fc.integer({ min: 1000, max: 4000 }),
    capacityBytes: fc.constantFrom(1024, 4096),
    quitAfter: fc.integer({ min: 0, max: 500 }),
  });
  await assertProperty(seed, shape, async (run) => {
    const ring = EventRing.create(run.capacityBytes, 8);
    const doneBuffer = new SharedArrayBuffer(4);
    const cursorTask = (mode: 'full' | 'quitter' | 'late' | 'churn'): RingWorkerTask => ({
      role: 'event-cursor',
      buffer: ring.buffer,
      seed: run.seed,
      recordCount: run.recordCount,
      mode,
      quitAfter: run.quitAfter,
      stallMs,
      doneBuffer,
    });
    // Cursors that must see every record open before the producer starts; a quitter closes mid-stream
    // (the producer must not keep waiting for it); a late cursor opens while the producer runs, and a
    // churning one opens and closes cursors all along.
    const early = [
      ...Array.from({ length: run.cursorWorkerCount }, () => startWorker(cursorTask('full'))),
      startWorker(cursorTask('quitter')),
    ];
    const workers = [...early];
    try {
      await Promise.all(early.map((worker) => worker.ready));
      const mainCursor = ring.openCursor();
      const producer = startWorker({
        role: 'event-producer',
        buffer: ring.buffer,
        seed: run.seed,
        recordCount: run.recordCount,
        timeoutMs: stallMs,
        doneBuffer,
      });
      const late = startWorker(cursorTask('late'));
      const churn = startWorker(cursorTask('churn'));
      workers.push(producer, late, churn);
      // Promise.all, so a failing worker ends the run at once instead of after a stall.
      const [lateSummary, churnSummary, , , ...summaries] = await Promise.all([
        late.done,
        churn.done,
        producer.done,
        readAllAsync(mainCursor, run.seed, run.recordCount, ring.recordBytesMax),
        ...early.map((worker) => worker.done),
      ]);
      for (const summary of summaries.slice(0, run.cursorWorkerCount)) t.is(summary.recordCount, run.recordCount);
      t.is(summaries[run.cursorWorkerCount].recordCount, run.quitAfter);
      t.true(lateSummary.recordCount <= run.recordCount);
      t.true((churnSummary.sessionCount ?? 0) >= 1);
    } finally {
      await terminateAll(workers);
    }
  });
});

/** A cursor on the main thread, waiting through waitAsync so the thread never blocks. */
async function readAllAsync(
  cursor: ReturnType<EventRing['openCursor']>,
  seed: number,
  recordCount: number,
  recordBytesMax: number,
): Promise<void> {
  const checker = new StreamChecker(seed, [recordCount], recordBytesMax);
  // Bounded: a round reads records or waits for a publish (or stallMs, which fails the run).
  const roundsMax = 4 * recordCount + 1000;
  try {
    for (let round = 0; !checker.complete(); round++) {
      if (round >= roundsMax) throw new Error(`main-thread cursor made no progress in ${roundsMax} rounds`);
      if (cursor.poll((record) => checker.check(record), 64) > 0) continue;
      if (!(await cursor.waitAsync(stallMs))) {
        throw new Error(`main-thread cursor stalled after ${checker.recordCount()} records`);
      }
    }
  } finally {
    cursor.close();
  }
}
