/**
 * Finding a replicated log's controller the way a broker does: send the write to each node in turn until
 * one takes it. NOT_CONTROLLER and REQUEST_TIMED_OUT (an election or a term opening) are retried after a
 * short pause; any other error is the write's own and is thrown.
 */
import type { MetaLog } from '../../src/api/metalog.js';
import { MetaLogError } from '../../src/errors.js';

/** Rounds over the stores before giving up (each round pauses RETRY_PAUSE_MS: about 20 s in all). */
const ROUNDS_MAX = 1000;
const RETRY_PAUSE_MS = 20;

export async function onController<T>(stores: readonly MetaLog[], write: (store: MetaLog) => Promise<T>): Promise<{ store: MetaLog; value: T }> {
  for (let round = 0; round < ROUNDS_MAX; round++) {
    for (const store of stores) {
      try {
        return { store, value: await write(store) };
      } catch (error) {
        if (!(error instanceof MetaLogError) || (error.code !== 'NOT_CONTROLLER' && error.code !== 'REQUEST_TIMED_OUT')) throw error;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
  }
  throw new Error('no node became the controller');
}
