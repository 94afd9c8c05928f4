/** Asserting a rejected store call: its code, its Kafka code, and that it left the state unchanged. */
import type { ExecutionContext } from 'ava';
import type { MetaLog } from '../../src/api/metalog.js';
import { MetaLogError, type ErrorCode } from '../../src/errors.js';

/** Awaits `promise`, expects a MetaLogError with `code` (and `kafkaCode`), and the state of `log` unchanged. */
export async function rejectsWith(t: ExecutionContext, log: MetaLog, promise: Promise<unknown>, code: ErrorCode, kafkaCode?: number): Promise<MetaLogError> {
  const before = log.canonicalState();
  const error = (await t.throwsAsync(promise, { instanceOf: MetaLogError })) as MetaLogError;
  t.is(error.code, code, error.message);
  if (kafkaCode !== undefined) t.is(error.kafkaCode, kafkaCode);
  t.is(log.canonicalState(), before, `${code}: the state is unchanged`);
  return error;
}
