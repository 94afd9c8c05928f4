/**
 * The stats block and the atomic counters on one thread: bucket placement (a value on a bound counts in
 * that bound's bucket), sections required for every change, one writer per block, attach from the
 * layout alone; and, with a writer on another thread, that every read is one published state (a
 * histogram's count always equals its buckets' sum and the scalar updated in the same section).
 */
import test from 'ava';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { AtomicCounters } from '../../../native-free/atomic-counters.js';
import { RingAssertionError } from '../../../native-free/assert.js';
import { StatsBlock } from '../../../native-free/stats-block.js';

test('observe puts a value in the first bucket whose bound is >= it, past the last bound in +Inf', (t) => {
  const block = StatsBlock.create({ scalarCount: 1, histogramBounds: [[1, 10, 100]] });
  const writer = StatsBlock.claimWriter(block.buffer);
  writer.beginUpdate();
  for (const value of [0, 1, 1.5, 10, 99, 100, 101, 5000]) writer.observe(0, value);
  writer.endUpdate();
  const histogram = StatsBlock.attach(block.buffer).read().histograms[0];
  t.deepEqual(histogram.bounds, [1, 10, 100]);
  t.deepEqual(histogram.bucketCounts, [2, 2, 2, 2]);
  t.is(histogram.count, 8);
  t.is(histogram.sum, 0 + 1 + 1.5 + 10 + 99 + 100 + 101 + 5000);
});

test('scalars add and set inside a section; readScalar and read agree', (t) => {
  const block = StatsBlock.create({ scalarCount: 3, histogramBounds: [[1], [2, 4]] });
  const writer = StatsBlock.claimWriter(block.buffer);
  writer.beginUpdate();
  writer.add(0, 5);
  writer.add(0, 2.5);
  writer.set(2, 42);
  writer.observe(1, 3);
  writer.endUpdate();
  const reader = StatsBlock.attach(block.buffer);
  t.is(reader.readScalar(0), 7.5);
  t.is(reader.readScalar(1), 0);
  t.is(reader.readScalar(2), 42);
  const snapshot = reader.read();
  t.deepEqual(snapshot.scalars, [7.5, 0, 42]);
  t.deepEqual(snapshot.histograms[0].bucketCounts, [0, 0], 'the first histogram is untouched');
  t.deepEqual(snapshot.histograms[1].bucketCounts, [0, 1, 0]);
});

test('a change outside a section, a second writer, a reader that writes, or a bad shape is a programmer error', (t) => {
  const block = StatsBlock.create({ scalarCount: 1, histogramBounds: [[1]] });
  const writer = StatsBlock.claimWriter(block.buffer);
  t.throws(() => writer.add(0, 1), { instanceOf: RingAssertionError });
  t.throws(() => writer.observe(0, 1), { instanceOf: RingAssertionError });
  t.throws(() => StatsBlock.claimWriter(block.buffer), { instanceOf: RingAssertionError });
  t.throws(() => StatsBlock.attach(block.buffer).beginUpdate(), { instanceOf: RingAssertionError });
  writer.beginUpdate();
  t.throws(() => writer.beginUpdate(), { instanceOf: RingAssertionError }, 'sections do not nest');
  t.throws(() => writer.add(1, 1), { instanceOf: RingAssertionError }, 'no such scalar');
  t.throws(() => writer.observe(1, 1), { instanceOf: RingAssertionError }, 'no such histogram');
  writer.endUpdate();
  t.throws(() => StatsBlock.create({ scalarCount: 0, histogramBounds: [[2, 1]] }), { instanceOf: RingAssertionError });
  t.throws(() => StatsBlock.create({ scalarCount: 0, histogramBounds: [[1, Infinity]] }), { instanceOf: RingAssertionError });
  t.throws(() => StatsBlock.create({ scalarCount: 0, histogramBounds: [[]] }), { instanceOf: RingAssertionError });
  t.throws(() => StatsBlock.attach(new SharedArrayBuffer(256)), { instanceOf: RingAssertionError });
});

test('atomic counters: adds from any handle land in the same counter; only non-negative integers', (t) => {
  const counters = AtomicCounters.create(3);
  const other = AtomicCounters.attach(counters.buffer);
  counters.add(0, 2);
  other.add(0, 3);
  other.add(2, 2 ** 40);
  other.add(2, 2 ** 40);
  t.is(counters.read(0), 5);
  t.is(counters.read(1), 0);
  t.is(counters.read(2), 2 ** 41, 'counters are 64-bit');
  t.throws(() => counters.add(0, -1), { instanceOf: RingAssertionError });
  t.throws(() => counters.add(0, 0.5), { instanceOf: RingAssertionError });
  t.throws(() => counters.add(3, 1), { instanceOf: RingAssertionError });
  t.throws(() => AtomicCounters.create(0), { instanceOf: RingAssertionError });
});

const WRITER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
import(workerData.module).then(({ StatsBlock }) => {
  const writer = StatsBlock.claimWriter(workerData.buffer);
  for (let i = 0; i < workerData.updates; i++) {
    writer.beginUpdate();
    const value = i % 7;
    writer.observe(0, value);
    writer.add(0, value);
    writer.add(1, 1);
    writer.endUpdate();
  }
  parentPort.postMessage('done');
});
`;

test('reads while another thread updates are whole states: count = sum of buckets = the scalar updated with them', async (t) => {
  const updates = 200_000;
  const block = StatsBlock.create({ scalarCount: 2, histogramBounds: [[1, 2, 3, 4, 5]] });
  const worker = new Worker(WRITER_SOURCE, {
    eval: true,
    workerData: { buffer: block.buffer, updates, module: new URL('../../../native-free/stats-block.js', import.meta.url).href },
  });
  // Both listeners from the start: the thread may exit while this one is still reading.
  const done = once(worker, 'message');
  const exited = once(worker, 'exit');
  let finished = false;
  void done.then(() => (finished = true));
  let reads = 0;
  let lastCount = 0;
  // Bounded by the writer's updates: once it reports done, one last read ends the loop. The event loop
  // gets a turn every 100 reads so the 'message' can arrive.
  for (;;) {
    const { scalars, histograms } = block.read();
    const histogram = histograms[0];
    const bucketSum = histogram.bucketCounts.reduce((sum, count) => sum + count, 0);
    if (bucketSum !== histogram.count || scalars[1] !== histogram.count || scalars[0] !== histogram.sum || histogram.count < lastCount) {
      t.fail(`a torn read: buckets ${histogram.bucketCounts.join(',')}, count ${histogram.count}, scalars ${scalars.join(',')}, last ${lastCount}`);
      break;
    }
    lastCount = histogram.count;
    reads++;
    if (finished) break;
    if (reads % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await exited;
  t.is(lastCount, updates, 'the last read sees every update');
  t.true(reads > 1);
});
