/**
 * Assertions for programmer errors (never for control flow, never for bad user input).
 *
 * A failed assertion means the code is wrong, so the writer stops accepting writes instead of carrying on
 * with a state it no longer understands. `verify` wraps checks too expensive for production (a whole
 * structure compared with a model); they run when METALOG_VERIFY=1, which the test script sets.
 */

/** Thrown when an internal invariant does not hold. */
export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssertionError';
  }
}

/** Throws {@link AssertionError} unless `condition` holds. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** True when expensive whole-structure checks are enabled (METALOG_VERIFY=1). */
export const VERIFY_ENABLED = process.env.METALOG_VERIFY === '1';

/** Runs an expensive check only when METALOG_VERIFY=1. */
export function verify(check: () => void): void {
  if (VERIFY_ENABLED) check();
}
