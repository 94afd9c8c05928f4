/**
 * The API edge's argument checks (src/api/api-input.ts) and how it codes the file system errors that
 * still escape: a path the caller gave that cannot be used is INVALID_REQUEST, a failing disk
 * KAFKA_STORAGE_ERROR, anything else INTERNAL_ERROR; the original error is always the cause.
 */
import test from 'ava';
import { checkPath, checkRestorePoint, checkWatchOptions, storeCallError } from '../../../src/api/api-input.js';
import { MetaLogError } from '../../../src/errors.js';
import { isWellFormed } from '../../../src/well-formed.js';

function errno(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: failed, open '/x'`), { code, syscall: 'open', path: '/x' });
}

test('file system errors get a code by their errno, with the error as cause', (t) => {
  for (const [code, expected] of [['ENOENT', 'INVALID_REQUEST'], ['ENOTDIR', 'INVALID_REQUEST'], ['ENAMETOOLONG', 'INVALID_REQUEST'], ['EIO', 'KAFKA_STORAGE_ERROR'], ['ENOSPC', 'KAFKA_STORAGE_ERROR']] as const) {
    const cause = errno(code);
    const error = storeCallError(cause, 'backup to /x');
    t.is(error.code, expected, code);
    t.is(error.cause, cause);
    t.is(error.details.errno, code);
  }
  const coded = new MetaLogError('STORE_LOCKED', 'locked', {});
  t.is(storeCallError(coded, 'open'), coded);
  t.is(storeCallError(new TypeError('x is not a function'), 'open').code, 'INTERNAL_ERROR');
  t.is(storeCallError('a thrown string', 'open').code, 'INTERNAL_ERROR');
});

test('paths: a NUL, a lone surrogate, more than PATH_MAX bytes or a non-string are INVALID_REQUEST', (t) => {
  t.is(checkPath('/tmp/b\u00e9', 'dest'), '/tmp/b\u00e9');
  for (const bad of ['', 'a\u0000b', 'a\uD800', 'x'.repeat(4097), '\u20ac'.repeat(1366), 5, null, Symbol('p')]) {
    const error = t.throws(() => checkPath(bad, 'dest'), { instanceOf: MetaLogError }) as MetaLogError;
    t.is(error.code, 'INVALID_REQUEST');
    t.is(error.details.field, 'dest');
  }
});

test('watch options and restore points: known fields only, each of its type', (t) => {
  t.deepEqual(checkWatchOptions(undefined), { from: undefined, types: undefined });
  t.deepEqual(checkWatchOptions({ from: 3, types: ['TopicCreated'] }), { from: 3, types: ['TopicCreated'] });
  t.is((t.throws(() => checkWatchOptions({ from: -0.5 })) as MetaLogError).code, 'OFFSET_OUT_OF_RANGE');
  t.is((t.throws(() => checkWatchOptions({ types: 'TopicCreated' })) as MetaLogError).details.field, 'types');
  t.deepEqual(checkRestorePoint({ toTime: 0 }), { toOffset: undefined, toTime: 0 });
  t.is((t.throws(() => checkRestorePoint({ toOffset: 1, toTime: 1 })) as MetaLogError).details.field, 'toOffset');
  t.is((t.throws(() => checkRestorePoint({ toOffset: Number.POSITIVE_INFINITY })) as MetaLogError).details.field, 'toOffset');
});

test('well-formed UTF-16: pairs are, lone halves are not', (t) => {
  for (const good of ['', 'a', '\u{1F600}', '\uFFFD', '\u0000', 'a\uD83D\uDE00b']) t.true(isWellFormed(good), JSON.stringify(good));
  for (const bad of ['\uD800', '\uDC00', 'a\uDBFF', '\uDC00\uD800', 'x\uD83D']) t.false(isWellFormed(bad), JSON.stringify(bad));
});
