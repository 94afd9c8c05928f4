/**
 * One side of the ring throughput bench, as a worker thread (workerData is a `RingBenchTask`): writes or
 * reads `records` records of `recordBytes` through a command ring, an event ring, or a MessagePort (the
 * baseline: what threads use without shared memory). Each record carries its sequence number, which the
 * reader checks, so a lost, repeated or reordered record fails the run. Posts { seconds } when done.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { CommandRing } from '../native-free/command-ring.js';
import { EventRing } from '../native-free/event-ring.js';

export interface RingBenchTask {
  kind: 'command' | 'event' | 'port';
  role: 'write' | 'read';
  records: number;
  recordBytes: number;
  /** The ring's buffer (command and event kinds). */
  buffer?: SharedArrayBuffer;
  /** The port (port kind). */
  port?: MessagePort;
  /** Int32 word 0: readers ready (the writer starts when it reaches 1). */
  ready: SharedArrayBuffer;
}

const WAIT_MS = 5000;

function fail(message: string): never {
  throw new Error(`ring bench: ${message}`);
}

function checker(): { visit: (record: Uint8Array) => void; count: () => number } {
  let expected = 0;
  return {
    visit: (record) => {
      const sequence = record[0] | (record[1] << 8) | (record[2] << 16) | (record[3] << 24);
      if (sequence !== expected) fail(`record ${expected} expected, ${sequence} read`);
      expected++;
    },
    count: () => expected,
  };
}

function run(task: RingBenchTask): number {
  const ready = new Int32Array(task.ready);
  const record = new Uint8Array(task.recordBytes);
  const stamp = (sequence: number): Uint8Array => {
    record[0] = sequence & 255;
    record[1] = (sequence >> 8) & 255;
    record[2] = (sequence >> 16) & 255;
    record[3] = (sequence >> 24) & 255;
    return record;
  };
  const started = performance.now();
  if (task.kind === 'command') {
    const ring = CommandRing.attach(task.buffer as SharedArrayBuffer);
    if (task.role === 'write') {
      for (let i = 0; i < task.records; i++) if (!ring.writeSync(stamp(i), WAIT_MS)) fail('writeSync timed out');
    } else {
      const check = checker();
      Atomics.add(ready, 0, 1);
      // Bounded: every pass reads records or waits at most WAIT_MS, and a timeout fails the run.
      while (check.count() < task.records) {
        if (ring.read(check.visit, 4096, 1 << 20) === 0 && !ring.waitForData(WAIT_MS)) fail('waitForData timed out');
      }
    }
  } else if (task.kind === 'event') {
    const ring = EventRing.attach(task.buffer as SharedArrayBuffer);
    if (task.role === 'write') {
      for (let i = 0; i < task.records; i++) if (!ring.publishSync(stamp(i), WAIT_MS)) fail('publishSync timed out');
    } else {
      const cursor = ring.openCursor();
      const check = checker();
      Atomics.add(ready, 0, 1);
      // Bounded as above.
      while (check.count() < task.records) {
        if (cursor.poll(check.visit, 4096) === 0 && !cursor.waitSync(WAIT_MS)) fail('waitSync timed out');
      }
      cursor.close();
    }
  }
  return (performance.now() - started) / 1000;
}

if (parentPort !== null && workerData !== null) {
  const task = workerData as RingBenchTask;
  if (task.kind === 'port') {
    const port = task.port as MessagePort;
    if (task.role === 'write') {
      const started = performance.now();
      // Batches of records per message would be the fair use of a port for many small records; one
      // message per record is what code does that hands work to another thread one item at a time.
      for (let i = 0; i < task.records; i++) port.postMessage(i);
      parentPort.postMessage({ seconds: (performance.now() - started) / 1000 });
    } else {
      let expected = 0;
      const started = performance.now();
      port.on('message', (sequence: number) => {
        if (sequence !== expected) fail(`record ${expected} expected, ${sequence} read`);
        expected++;
        if (expected === task.records) {
          port.close();
          parentPort?.postMessage({ seconds: (performance.now() - started) / 1000 });
        }
      });
      Atomics.add(new Int32Array(task.ready), 0, 1);
    }
  } else {
    if (task.role === 'write') {
      // Start when the reader is attached, so the ring's back-pressure is part of what is measured.
      // Bounded: the reader attaches within WAIT_MS or the run fails.
      if (Atomics.wait(new Int32Array(task.ready), 0, 0, WAIT_MS) === 'timed-out' && Atomics.load(new Int32Array(task.ready), 0) === 0) fail('reader never attached');
    }
    parentPort.postMessage({ seconds: run(task) });
  }
}
