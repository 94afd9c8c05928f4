/**
 * Pieces common to the two shared-memory rings, `CommandRing` (command-ring.ts) and `EventRing`
 * (event-ring.ts).
 *
 * Owns: the record framing both data areas use (an 8-byte header of two Int32 words, the padding word -1
 * that sends a reader to index 0, records rounded up to 8 bytes), the bounds on a data area's capacity,
 * the typed handle on `Atomics.waitAsync`, and the timer that keeps a finite async wait alive.
 *
 * Why one module: both rings lay records out the same way and wait the same way, so these rules are
 * stated once and cannot drift apart. What differs stays in each ring's own file: its magic, layout
 * version, control words, and what the first header word means there (a commit word in the command ring,
 * a length word in the event ring). Like `assert.ts` this module imports nothing from `src/`.
 *
 * Not public API: everything here is `@internal`.
 */
import { assert } from './assert.js';

/**
 * Bytes in front of every record's payload: the first word (commit word or length word: -1 for padding,
 * otherwise the payload length plus one) and the check word (`~payloadBytes`).
 * @internal
 */
export const RECORD_HEADER_BYTES = 8;

/**
 * The first header word of a padding marker: the reader skips the rest of the data area and goes on at
 * index 0. Padding never starts at index 0.
 * @internal
 */
export const RECORD_WORD_PADDING = -1;

/** Smallest data area: leaves room for records of 24 payload bytes. */
const capacityBytesMin = 64;
/** Largest data area: keeps every distance between positions far below 2^31. */
const capacityBytesMax = 2 ** 30;

/**
 * What `Atomics.waitAsync` returns: settled at once (`async: false`) or a promise of the outcome.
 * @internal
 */
export type WaitAsyncResult =
  | { async: false; value: 'not-equal' | 'timed-out' }
  | { async: true; value: Promise<'ok' | 'timed-out'> };

/**
 * Signature of `Atomics.waitAsync` on an Int32Array.
 * @internal
 */
export type WaitAsync = (array: Int32Array, index: number, value: number, timeoutMs?: number) => WaitAsyncResult;

// Atomics.waitAsync ships in Node 20 but the project's lib (ES2022) does not declare it.
/**
 * `Atomics.waitAsync`, typed. Loading this module asserts that the runtime provides it.
 * @internal
 */
export const atomicsWaitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
assert(typeof atomicsWaitAsync === 'function', 'this runtime provides Atomics.waitAsync (Node >= 16)');

/**
 * Header plus payload, rounded up to 8 bytes.
 * @internal
 */
export function recordSpanBytes(payloadBytes: number): number {
  return (RECORD_HEADER_BYTES + payloadBytes + 7) & ~7;
}

/**
 * Asserts that `capacityBytes` is a valid data area size: an integer power of two from 64 B to 1 GiB.
 * @throws RingAssertionError when it is not.
 * @internal
 */
export function assertCapacityBytes(capacityBytes: number): void {
  assert(Number.isInteger(capacityBytes), 'capacityBytes is an integer');
  assert(capacityBytes >= capacityBytesMin, `capacityBytes is at least ${capacityBytesMin}`);
  assert(capacityBytes <= capacityBytesMax, `capacityBytes is at most ${capacityBytesMax}`);
  assert((capacityBytes & (capacityBytes - 1)) === 0, 'capacityBytes is a power of two');
}

/**
 * Resolves true when `waited` settles 'ok', false when it times out or `timeoutMs` passes first. The
 * timer keeps Node's event loop alive for a finite wait, which a pending Atomics.waitAsync alone does not.
 * @internal
 */
export function settleOnceWithKeepAlive(waited: Promise<'ok' | 'timed-out'>, timeoutMs: number): Promise<boolean> {
  if (!Number.isFinite(timeoutMs)) return waited.then((value) => value === 'ok');
  return new Promise<boolean>((resolve) => {
    const keepAlive = setTimeout(() => resolve(false), timeoutMs);
    void waited.then((value) => {
      clearTimeout(keepAlive);
      resolve(value === 'ok');
    });
  });
}
