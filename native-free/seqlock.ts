/**
 * Sequence lock: one writer publishes whole write sections; any number of readers on any thread read
 * without taking a lock, and retry what a write section touched.
 *
 * Owns: the two words it is given in a caller's Int32Array (the sequence word and the count of readers
 * asleep on it), the write-section protocol, and the reader's retry policy (spin, then sleep on the
 * sequence word, then give up with `ReadStarvedError`). It does not own the data it protects: the caller
 * (`SharedIndex` in shared-index.ts) passes an attempt function that reads that data once.
 *
 * Invariants:
 * - The sequence word is odd exactly while a write section is open; sections do not nest.
 * - Only the writer changes the sequence word, always by adding 1 (int32 wrap-around keeps the parity).
 * - A read attempt's result is returned only if the sequence word was even before the attempt and held
 *   the same value after it: no write section opened or closed in between, so everything the attempt
 *   read belongs to one published state.
 *
 * Must never: return a result that a write section overlapped; block the writer (the writer never waits
 * for readers); let an attempt that read garbage throw or run unbounded (the attempt function returns
 * `torn` instead: see shared-index.ts); loop without a bound.
 *
 * Memory layout: two Int32 words chosen by the owner, which puts them on their own 64-byte line:
 *
 *   +----------------------------------------------+------------------------------------------------+
 *   | sequence        writer: add 1 at begin (odd)  | readersWaiting   readers: add 1 / sub 1 around |
 *   |                 and add 1 at end (even)       |                  an Atomics.wait on sequence   |
 *   +----------------------------------------------+------------------------------------------------+
 *
 * Memory ordering. The protected data is read and written with plain (non-atomic) accesses. The
 * ECMAScript memory model makes a racing plain read return some bytes rather than undefined behaviour,
 * which is what lets a reader detect a torn read instead of crashing on one. The order that matters:
 * - writer: `Atomics.add` (sequence odd), then the data stores, then `Atomics.add` (sequence even). On
 *   x86-64, where V8 compiles `Atomics.add` to a locked instruction (a full fence), no data store
 *   becomes visible before the odd value nor after the even one.
 * - reader: `Atomics.load` (sequence), then the data loads, then `Atomics.load` (sequence) again. x86-64
 *   never reorders a load with an older load, so if the second load still sees the first value, every
 *   data load in between saw memory from before the next section began. V8 does not move memory
 *   accesses across Atomics operations when it compiles.
 * Weaker hardware (arm64) would need the data accessed through Atomics as well; this module targets the
 * x86-64 servers the store runs on, and the thread property test checks the protocol there.
 */
import { assert } from './assert.js';

/**
 * What a read attempt returns when what it saw cannot be a published state (an offset out of bounds, a
 * probe sequence without an end): the lock retries the attempt.
 * @internal
 */
export const torn: unique symbol = Symbol('torn');

/** The type of `torn`. @internal */
export type Torn = typeof torn;

/** Attempts that retry at once, without sleeping: a write section is usually a few microseconds long. */
const spinAttemptsMax = 64;
/**
 * Longest single sleep of a reader on the sequence word. `endWrite` notifies sleeping readers, so this
 * bound only matters if a notify is missed; it keeps every sleep finite.
 */
const waitSliceMs = 1;
/**
 * Attempts before a read gives up. After the spins, an attempt that meets an open section sleeps up to
 * `waitSliceMs`, so a writer must hold one section open for roughly 100 s (or, on the other path,
 * 100 000 sections must each overlap this reader's attempt) before a reader throws: long enough that only
 * a writer that died inside a section, or one that never pauses between sections, can cause it.
 */
const readAttemptsMax = 100_000;

/**
 * Thrown by a read that found a write section in its way `readAttemptsMax` times in a row: the writer
 * died inside a section, or it never leaves a gap between sections long enough for this read.
 */
export class ReadStarvedError extends Error {
  /** @param attempts how many attempts the read made. */
  constructor(attempts: number) {
    super(`no consistent read after ${attempts} attempts: a write section stayed open or kept interfering`);
    this.name = 'ReadStarvedError';
  }
}

/**
 * A sequence lock over two words of a shared Int32Array. One writer thread calls `beginWrite` and
 * `endWrite`; any thread calls `read`.
 * @internal
 */
export class SequenceLock {
  private readonly words: Int32Array;
  private readonly wordSequence: number;
  private readonly wordReadersWaiting: number;

  /**
   * @param words the shared control words.
   * @param wordSequence index of the sequence word.
   * @param wordReadersWaiting index of the sleeping-readers count.
   */
  constructor(words: Int32Array, wordSequence: number, wordReadersWaiting: number) {
    assert(words.buffer instanceof SharedArrayBuffer, 'a sequence lock lives in shared memory');
    assert(wordSequence >= 0 && wordSequence < words.length, 'the sequence word is inside the control words');
    assert(
      wordReadersWaiting >= 0 && wordReadersWaiting < words.length,
      'the readersWaiting word is inside the control words',
    );
    this.words = words;
    this.wordSequence = wordSequence;
    this.wordReadersWaiting = wordReadersWaiting;
  }

  /** True while a write section is open (the sequence word is odd). */
  isWriting(): boolean {
    return (Atomics.load(this.words, this.wordSequence) & 1) !== 0;
  }

  /** Writer: opens a write section. From here on every reader attempt retries until `endWrite`. */
  beginWrite(): void {
    // A locked add: the data stores that follow cannot become visible before the odd value.
    const sequence = Atomics.add(this.words, this.wordSequence, 1);
    assert((sequence & 1) === 0, 'beginWrite finds no write section open');
  }

  /** Writer: closes the write section and wakes readers sleeping on it. */
  endWrite(): void {
    // A locked add after the section's data stores: a reader that loads the even value after its data
    // loads (see `read`) knows none of them overlapped this section.
    const sequence = Atomics.add(this.words, this.wordSequence, 1);
    assert((sequence & 1) === 1, 'endWrite closes an open write section');
    // Add to the sequence, then load readersWaiting: the mirror of `sleepWhileWriting`, which adds to
    // readersWaiting and then loads the sequence. Sequentially consistent Atomics order the four
    // accesses, so either this load sees the sleeper and notifies, or the sleeper's load sees the even
    // value and does not sleep (or Atomics.wait finds the value changed and returns 'not-equal').
    if (Atomics.load(this.words, this.wordReadersWaiting) > 0) {
      Atomics.notify(this.words, this.wordSequence);
    }
  }

  /**
   * Any thread, the first half of one read attempt made by the caller itself (for a hot read that should
   * not go through a closure): the sequence to pass to `validate`, or -1 while a section is open. Then
   * read the data once, without side effects, and keep the result only if `validate` says so; otherwise
   * fall back to `read`, which retries and sleeps.
   */
  begin(): number {
    const sequence = Atomics.load(this.words, this.wordSequence);
    return (sequence & 1) === 0 ? sequence : -1;
  }

  /** Any thread: true when no write section opened or closed since `begin` returned `sequence`. */
  validate(sequence: number): boolean {
    return sequence !== -1 && Atomics.load(this.words, this.wordSequence) === sequence;
  }

  /**
   * Any thread: runs `attempt` until one run overlaps no write section, and returns its result. The
   * attempt must be free of side effects other threads can see (it may run many times), must not throw
   * on garbage, and returns `torn` for what cannot be a published state.
   * @throws ReadStarvedError after `readAttemptsMax` overlapped attempts.
   */
  read<T>(attempt: () => T | Torn): T {
    // Bounded by readAttemptsMax; see there for how long that is.
    for (let attemptCount = 0; attemptCount < readAttemptsMax; attemptCount++) {
      // Load the sequence before the data and again after it (the load order the header argues for).
      const sequenceBefore = Atomics.load(this.words, this.wordSequence);
      if ((sequenceBefore & 1) === 0) {
        const result = attempt();
        const sequenceAfter = Atomics.load(this.words, this.wordSequence);
        // A torn result between equal sequences is retried too rather than asserted against: a growth of
        // the arena may reach this thread's view of the buffer a moment after the section that made it.
        if (sequenceAfter === sequenceBefore && result !== torn) return result;
      }
      if (attemptCount >= spinAttemptsMax) this.sleepWhileWriting();
    }
    throw new ReadStarvedError(readAttemptsMax);
  }

  /** Sleeps up to `waitSliceMs` if a write section is open now; returns at once otherwise. */
  private sleepWhileWriting(): void {
    // Add to readersWaiting, then load the sequence: the handshake `endWrite` describes.
    Atomics.add(this.words, this.wordReadersWaiting, 1);
    const sequence = Atomics.load(this.words, this.wordSequence);
    if ((sequence & 1) !== 0) Atomics.wait(this.words, this.wordSequence, sequence, waitSliceMs);
    Atomics.sub(this.words, this.wordReadersWaiting, 1);
  }
}
