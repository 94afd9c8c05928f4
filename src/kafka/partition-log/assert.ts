/**
 * Assertions for programmer errors inside the partition log (never for bad client bytes, which are
 * answered with a {@link KafkaError}). The broker layer reaches the store only through its package entry,
 * which does not export the store's own assert, so the log keeps this one-function twin.
 *
 * @internal The broker reaches the partition log through index.ts; this module is not part of that surface.
 */

/** Thrown when an invariant of the partition log does not hold: the code is wrong, not the input. */
export class PartitionLogAssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PartitionLogAssertionError';
  }
}

/** Throws {@link PartitionLogAssertionError} unless `condition` holds. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new PartitionLogAssertionError(message);
}
