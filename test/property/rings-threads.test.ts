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
 * Seen to fail against deliberate breaks of the compiled rings (each reverted):
 * - command ring without the fill(0) in `release`: the first run fails, through the producer's
 *   "a reserved commit word reads 0" assertion, or with that assertion removed too, through the checker
 *   ("stream 0: expected sequence 18, got 0");
 * - commit word stored before the payload copy: a consumer assertion ("the check word matches the
 *   commit word") in the run seen; a window this small is not hit every time, which is why the unit
 *   test plays it deterministically;
 * - a producer notifying the consumer only when it is awake (inverted check): the ring fills while the
 *   consumer sleeps and a producer reports "writeSync timed out";
 * - event ring computing free space without the open cursors: "an open cursor lags by <= capacity";
 * - a cursor never signalling the producer after advancing: the run stalls ("churning cursor stalled");
 * - a publish never notifying waiting cursors: "cursor stalled after 0 records".
 * Not caught here: `openCursor` keeping its first, possibly stale position (the window is a few
 * instructions wide); the event-ring unit test plays that race deterministically.
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
/**
 * Longest single wait of the main thread's producer and cursor, so they notice a run that already
 * failed (`Stop`) soon. A stall itself is reported by the workers, whose waits are bounded by stallMs.
 */
const waitSliceMs = 500;
const runCount = 6;

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

/** Set when a run ends (failed or not), so main-thread loops still waiting give up. */
interface Stop {
  requested: boolean;
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
    // fast-check keeps the predicate's own error as `cause`; show both.
    const reason = [error, (error as { cause?: unknown }).cause]
      .map((part) => (part instanceof Error ? part.message : ''))
      .join('\n');
    throw new Error(`property failed; replay the shapes with SEED=${seed}\n${reason}`, { cause: error });
  }
}

/**
 * The main thread is a producer too (stream 0), through tryWrite and waitForSpaceAsync, so the
 * non-blocking path races the worker producers' writeSync.
 */
async function writeStreamAsync(ring: CommandRing, seed: number, recordCount: number, stop: Stop): Promise<void> {
  const stream = new RecordStream(seed, 0, ring.recordBytesMax);
  // Bounded: each round waits for a release of space or one slice. A real stall is reported first by the
  // workers (their waits end after stallMs); this bound only keeps the loop finite.
  const roundsMax = recordCount * 64 + Math.ceil(stallMs / waitSliceMs);
  let round = 0;
  for (let sequence = 0; sequence < recordCount; sequence++) {
    const record = stream.next();
    while (!ring.tryWrite(record)) {
      if (stop.requested) return;
      round += 1;
      if (round > roundsMax) throw new Error(`main-thread producer made no progress at sequence ${sequence}`);
      await ring.waitForSpaceAsync(waitSliceMs);
    }
  }
}

test('command ring: concurrent producers, one consumer; each record intact, in stream order, once', async (t) => {
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
    const stop: Stop = { requested: false };
    try {
      // Promise.all, so a failing worker ends the run at once instead of after a stall.
      const [summary] = await Promise.all([
        consumer.done,
        writeStreamAsync(ring, run.seed, run.recordsPerProducer, stop),
        ...producers.map((producer) => producer.done),
      ]);
      t.is(summary.recordCount, streamCount * run.recordsPerProducer);
      t.is(ring.usedBytes(), 0);
    } finally {
      stop.requested = true;
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
    const stop: Stop = { requested: false };
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
        readAllAsync(mainCursor, run.seed, run.recordCount, ring.recordBytesMax, stop),
        ...early.map((worker) => worker.done),
      ]);
      for (const summary of summaries.slice(0, run.cursorWorkerCount)) t.is(summary.recordCount, run.recordCount);
      t.is(summaries[run.cursorWorkerCount].recordCount, run.quitAfter);
      t.true(lateSummary.recordCount <= run.recordCount);
      t.true((churnSummary.sessionCount ?? 0) >= 1);
    } finally {
      stop.requested = true;
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
  stop: Stop,
): Promise<void> {
  const checker = new StreamChecker(seed, [recordCount], recordBytesMax);
  // Bounded: a round reads records, or waits for a publish or one slice. A real stall is reported first by
  // the producer or the cursor workers; this bound only keeps the loop finite.
  const roundsMax = 4 * recordCount + Math.ceil(stallMs / waitSliceMs);
  try {
    for (let round = 0; !checker.complete() && !stop.requested; round++) {
      if (round >= roundsMax) throw new Error(`main-thread cursor made no progress in ${roundsMax} rounds`);
      if (cursor.poll((record) => checker.check(record), 64) > 0) continue;
      await cursor.waitAsync(waitSliceMs);
    }
  } finally {
    cursor.close();
  }
}
