/**
 * native-free/ ring throughput between two threads: 64-byte records written by one worker thread and
 * read by another, through the command ring (many producers, one consumer) and the event ring (one
 * producer, a cursor per reader), each record checked in order. Baseline in the same run: the same
 * records handed over one `postMessage` each on a MessagePort.
 */
import { MessageChannel, Worker } from 'node:worker_threads';
import { CommandRing } from '../native-free/command-ring.js';
import { EventRing } from '../native-free/event-ring.js';
import type { BenchRow } from './lib.js';
import { startProgress, stopProgress } from './progress.js';
import type { RingBenchTask } from './ring-worker.js';

const WORKER_URL = new URL('./ring-worker.js', import.meta.url);
const RECORD_BYTES = 64;
const RING_BYTES = 1 << 22;

function runWorker(task: RingBenchTask, transfer: (import('node:worker_threads').MessagePort)[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_URL, { workerData: task, transferList: transfer });
    worker.once('message', (message: { seconds: number }) => resolve(message.seconds));
    worker.once('error', reject);
  });
}

/** Records per second through one ring kind: both sides run at once; the slower side's time counts. */
async function pair(kind: RingBenchTask['kind'], records: number): Promise<number> {
  const ready = new SharedArrayBuffer(4);
  let buffer: SharedArrayBuffer | undefined;
  let readerPort: import('node:worker_threads').MessagePort | undefined;
  let writerPort: import('node:worker_threads').MessagePort | undefined;
  if (kind === 'command') buffer = CommandRing.create(RING_BYTES).buffer;
  if (kind === 'event') buffer = EventRing.create(RING_BYTES, 4).buffer;
  if (kind === 'port') {
    const channel = new MessageChannel();
    readerPort = channel.port1;
    writerPort = channel.port2;
  }
  const reader = runWorker({ kind, role: 'read', records, recordBytes: RECORD_BYTES, buffer, port: readerPort, ready }, readerPort === undefined ? [] : [readerPort]);
  // The port writer waits until the reader listens, like the ring writers.
  while (Atomics.load(new Int32Array(ready), 0) === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  const writer = runWorker({ kind, role: 'write', records, recordBytes: RECORD_BYTES, buffer, port: writerPort, ready }, writerPort === undefined ? [] : [writerPort]);
  const [readSeconds, writeSeconds] = await Promise.all([reader, writer]);
  return records / Math.max(readSeconds, writeSeconds);
}

export async function benchRings(records: number): Promise<BenchRow[]> {
  startProgress('rings: command, event, MessagePort', 3);
  const port = await pair('port', Math.min(records, 500_000));
  const command = await pair('command', records);
  const event = await pair('event', records);
  stopProgress();
  const baseline = { name: 'postMessage per record', value: port };
  return [
    { workload: `command ring, ${RECORD_BYTES}-byte records, thread to thread`, metric: 'throughput', value: command, unit: 'records/s', baseline, higherIsBetter: true },
    { workload: `event ring, ${RECORD_BYTES}-byte records, thread to thread`, metric: 'throughput', value: event, unit: 'records/s', baseline, higherIsBetter: true },
  ];
}
