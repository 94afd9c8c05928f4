/**
 * Assertions for the shared-memory primitives in `native-free/`.
 *
 * Owns: `RingAssertionError` and `assert`. This module imports nothing, so `native-free/` stays free of
 * `src/` (imports flow one way: `native-free/` <- `src/` <- `workers/`).
 *
 * An assertion states something that only a programmer error can make false: a capacity that is not a
 * power of two, a buffer that is not a ring, a record header that contradicts its check word. It is never
 * used for control flow, and a caller never catches it to carry on: a ring whose invariant failed is not
 * trusted again. Errors a correct caller can meet at run time (a full ring, an over-long record) are
 * reported by return values or `RangeError`, not here.
 */

/**
 * Thrown when an invariant of a shared-memory ring does not hold: a programmer error, never bad input.
 */
export class RingAssertionError extends Error {
  /** @param message what must have held, in words a reader of the code recognises. */
  constructor(message: string) {
    super(message);
    this.name = 'RingAssertionError';
  }
}

/**
 * Throws `RingAssertionError` with `message` when `condition` is falsy; narrows `condition` otherwise.
 *
 * Check one condition per call, so the message names exactly what failed.
 */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) {
    throw new RingAssertionError(message);
  }
}
