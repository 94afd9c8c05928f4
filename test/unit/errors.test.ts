/**
 * MetaLogError.wrap: the one way an unknown thrown value becomes a coded error. A bug must never be
 * reported as a retriable disk error, an OS error must keep its errno as the cause, and the code table
 * alone says which codes stop the writer.
 */
import test from 'ava';
import { AssertionError } from '../../src/assert.js';
import { ERROR_CODES, fromSerialized, MetaLogError } from '../../src/errors.js';
import { RingAssertionError } from '../../native-free/assert.js';

function errno(code: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: injected`) as NodeJS.ErrnoException;
  error.code = code;
  return error;
}

test('a MetaLogError is wrapped as itself', (t) => {
  const original = new MetaLogError('TOPIC_ALREADY_EXISTS', 'exists', { entity: 't' });
  t.is(MetaLogError.wrap(original, 'KAFKA_STORAGE_ERROR'), original);
});

test('an OS error takes the code asked for, keeps the context and its cause', (t) => {
  const cause = errno('ENOSPC');
  const wrapped = MetaLogError.wrap(cause, 'KAFKA_STORAGE_ERROR', 'snapshot failed', { file: 'x' });
  t.is(wrapped.code, 'KAFKA_STORAGE_ERROR');
  t.is(wrapped.message, 'snapshot failed: ENOSPC: injected');
  t.is(wrapped.cause, cause);
  t.deepEqual(wrapped.details, { file: 'x' });
  t.is(fromSerialized(wrapped.toJSON()).toJSON().cause?.message, 'ENOSPC: injected');
});

test('programmer errors become a non-retriable INTERNAL_ERROR whatever code was asked for', (t) => {
  const argumentError = new TypeError('The argument must be a string') as NodeJS.ErrnoException;
  argumentError.code = 'ERR_INVALID_ARG_TYPE';
  for (const bug of [new AssertionError('offsets dense'), new RingAssertionError('ring'), new TypeError('x is undefined'), new RangeError('bad length'), argumentError]) {
    const wrapped = MetaLogError.wrap(bug, 'KAFKA_STORAGE_ERROR', 'snapshot failed');
    t.is(wrapped.code, 'INTERNAL_ERROR', bug.name);
    t.false(wrapped.retriable);
    t.true(wrapped.makesReadOnly);
  }
  t.is(MetaLogError.wrap('a thrown string').code, 'INTERNAL_ERROR');
  t.is(MetaLogError.wrap(undefined).message, 'unexpected error: undefined');
});

test('the code table says which codes stop the writer; none of them is retriable', (t) => {
  const readOnly = Object.entries(ERROR_CODES).filter(([, entry]) => entry.readOnly).map(([code]) => code);
  t.deepEqual(readOnly.sort(), ['INTERNAL_ERROR', 'STORAGE_FAILED', 'STORE_READ_ONLY']);
  for (const code of readOnly) t.false(ERROR_CODES[code as keyof typeof ERROR_CODES].retriable, code);
});
