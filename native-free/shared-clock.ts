/**
 * A clock in shared memory: one time value that every thread of a store reads, and that only its owner
 * moves. Tests hold one so that the writer thread, the snapshot thread and the caller's thread agree on
 * what time it is, and time passes exactly when the test says so.
 *
 * Owns: the layout below and its two operations (read, move forward or to a value).
 *
 * Called by: the owner (`create`) moves it; any thread (`attach`) reads it.
 *
 * Invariants: the value is a whole number of milliseconds since the epoch, within ±2^53; a read sees
 * either the old or the new value of a move, never a torn one (one BigInt64 word, moved with Atomics).
 *
 * Must never: read the wall clock (that is the other clock's job, in src/clock.ts).
 *
 * Memory layout (one BigInt64 word):
 *
 *   byte 0
 *   +---------------------------------+
 *   | t0 nowMs (BigInt64, ms, epoch)  |
 *   +---------------------------------+
 */
import { assert } from './assert.js';

const WORD_NOW_MS = 0;
/** Bytes of a shared clock's buffer. */
export const SHARED_CLOCK_BYTES = 8;

/** A millisecond clock in a SharedArrayBuffer, read by any thread and moved by its owner. */
export class SharedClock {
  private readonly words: BigInt64Array;

  private constructor(readonly buffer: SharedArrayBuffer) {
    assert(buffer.byteLength === SHARED_CLOCK_BYTES, 'a shared clock is one BigInt64 word');
    this.words = new BigInt64Array(buffer);
  }

  /** A new clock that reads `startMs` until it is moved. */
  static create(startMs: number): SharedClock {
    const clock = new SharedClock(new SharedArrayBuffer(SHARED_CLOCK_BYTES));
    clock.set(startMs);
    return clock;
  }

  /** Another handle on the clock in `buffer` (for another thread). */
  static attach(buffer: SharedArrayBuffer): SharedClock {
    return new SharedClock(buffer);
  }

  /** The time, in ms since the epoch. */
  nowMs(): number {
    return Number(Atomics.load(this.words, WORD_NOW_MS));
  }

  /** Sets the time (it may go backwards: tests check what a wall clock that steps back does). */
  set(nowMs: number): void {
    assert(Number.isSafeInteger(nowMs), 'a shared clock holds whole milliseconds');
    Atomics.store(this.words, WORD_NOW_MS, BigInt(nowMs));
  }

  /** Moves the time forward by `ms`; returns the new time. */
  advance(ms: number): number {
    assert(Number.isSafeInteger(ms) && ms >= 0, 'a shared clock advances by whole, non-negative milliseconds');
    return Number(Atomics.add(this.words, WORD_NOW_MS, BigInt(ms))) + ms;
  }
}
