/**
 * Atomic counters: a fixed number of 64-bit counters in one SharedArrayBuffer that any thread adds to
 * and any thread reads, with Atomics only.
 *
 * Owns: the layout below and the one operation on it (Atomics.add of a non-negative integer). For counts
 * that many threads raise now and then (a rejected call, a wait for space); a number that one thread
 * changes on every unit of work belongs in a `StatsBlock` (stats-block.ts), whose update costs the same
 * whatever it changes.
 *
 * Called by: any thread, each through its own handle (`create` once, `attach` elsewhere).
 *
 * Invariants: a counter only grows (adds are asserted non-negative integers); each add is one atomic
 * read-modify-write, so concurrent adds are never lost. Reads of different counters are not one
 * snapshot: each is exact at its own moment.
 *
 * Must never: lose an add; go backwards; take a lock.
 *
 * Memory layout (w<n> is Int32 word n, c<n> BigInt64 word n of the counters area):
 *
 *   byte 0
 *   +- line 0 -------------------------------------------------------------+
 *   | w0 magic 'ACNT' | w1 layoutVersion | w2 counterCount | w3..w15 zero    |
 *   +-----------------------------------------------------------------------+
 *   byte 64: c0 .. c(counterCount - 1), packed: the counters are raised too rarely for the threads that
 *   raise them to contend for a cache line.
 */
import { assert } from './assert.js';

const MAGIC = 0x41434e54; // 'ACNT'
const LAYOUT_VERSION = 1;

const WORD_MAGIC = 0;
const WORD_LAYOUT_VERSION = 1;
const WORD_COUNTER_COUNT = 2;
const CONTROL_BYTES = 64;

/** Counters per buffer: a bound on its size, far above what a store needs. */
const counterCountMax = 4096;

/** Non-negative 64-bit counters in a SharedArrayBuffer, raised and read by any thread. */
export class AtomicCounters {
  /** The shared memory; post it to another thread and `attach` there. */
  readonly buffer: SharedArrayBuffer;
  /** Number of counters. */
  readonly counterCount: number;
  private readonly counters: BigInt64Array;

  private constructor(buffer: SharedArrayBuffer) {
    const control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    assert(Atomics.load(control, WORD_MAGIC) === MAGIC, 'the buffer holds atomic counters');
    assert(Atomics.load(control, WORD_LAYOUT_VERSION) === LAYOUT_VERSION, 'the layout version is known');
    const counterCount = Atomics.load(control, WORD_COUNTER_COUNT);
    assertCounterCount(counterCount);
    assert(buffer.byteLength === CONTROL_BYTES + counterCount * 8, 'the buffer is control words plus counters');
    this.buffer = buffer;
    this.counterCount = counterCount;
    this.counters = new BigInt64Array(buffer, CONTROL_BYTES, counterCount);
  }

  /**
   * Allocates `counterCount` counters, all 0.
   * @throws RingAssertionError when `counterCount` is not an integer from 1 to 4096.
   */
  static create(counterCount: number): AtomicCounters {
    assertCounterCount(counterCount);
    const buffer = new SharedArrayBuffer(CONTROL_BYTES + counterCount * 8);
    const control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    // Atomic stores, so a thread that attaches later reads the layout through Atomics.load whatever way
    // the buffer travelled to it.
    Atomics.store(control, WORD_COUNTER_COUNT, counterCount);
    Atomics.store(control, WORD_LAYOUT_VERSION, LAYOUT_VERSION);
    Atomics.store(control, WORD_MAGIC, MAGIC);
    return new AtomicCounters(buffer);
  }

  /**
   * A handle on counters created elsewhere (typically on another thread).
   * @throws RingAssertionError when `buffer` does not hold atomic counters.
   */
  static attach(buffer: SharedArrayBuffer): AtomicCounters {
    assert(buffer instanceof SharedArrayBuffer, 'attach takes a SharedArrayBuffer');
    assert(buffer.byteLength >= CONTROL_BYTES, 'the buffer is long enough for the control words');
    return new AtomicCounters(buffer);
  }

  /** Any thread: adds `amount` (a non-negative safe integer) to counter `index`. */
  add(index: number, amount: number): void {
    assert(Number.isInteger(index) && index >= 0 && index < this.counterCount, 'the counter exists');
    assert(Number.isSafeInteger(amount) && amount >= 0, 'a counter grows by a non-negative integer');
    Atomics.add(this.counters, index, BigInt(amount));
  }

  /** Any thread: counter `index` now. */
  read(index: number): number {
    assert(Number.isInteger(index) && index >= 0 && index < this.counterCount, 'the counter exists');
    return Number(Atomics.load(this.counters, index));
  }
}

function assertCounterCount(counterCount: number): void {
  assert(Number.isInteger(counterCount), 'counterCount is an integer');
  assert(counterCount >= 1, 'counterCount is at least 1');
  assert(counterCount <= counterCountMax, `counterCount is at most ${counterCountMax}`);
}
