/** resolveConfig: defaults, and one INVALID_CONFIG per field naming it. */
import test from 'ava';
import { CONFIG_OPTIONS, resolveConfig } from '../../src/config.js';
import { MetaLogError } from '../../src/errors.js';

test('defaults fill every option and the result is frozen', (t) => {
  const config = resolveConfig({ dir: '/tmp/x' });
  t.deepEqual(config, {
    dir: '/tmp/x',
    durability: 'fsync',
    flushIntervalMs: 100,
    maxBatchBytes: 2 * 1024 * 1024,
    segmentBytes: 64 * 1024 * 1024,
    readerThreads: 2,
    decodedCacheEntries: 100_000,
    snapshotEveryEvents: 100_000,
    snapshotIntervalMs: 600_000,
    snapshotEveryBytes: 256 * 1024 * 1024,
    snapshotRecoveryBudgetMs: 0,
    snapshotsRetained: 2,
    historyRetentionMs: 7 * 24 * 3600 * 1000,
    historyRetentionBytes: -1,
    offsetsRetentionMs: 7 * 24 * 3600 * 1000,
    offsetsRetentionCheckIntervalMs: 600_000,
    slowFsyncWarnMs: 500,
    groupMinSessionTimeoutMs: 6000,
    groupMaxSessionTimeoutMs: 1_800_000,
  });
  t.true(Object.isFrozen(config));
});

const BAD: [string, Record<string, unknown>][] = [
  ['dir', { dir: '' }],
  ['dir', { dir: 42 }],
  ['durability', { durability: 'always' }],
  ['flushIntervalMs', { flushIntervalMs: 0 }],
  ['flushIntervalMs', { flushIntervalMs: 1.5 }],
  ['flushIntervalMs', { flushIntervalMs: '100' }],
  ['maxBatchBytes', { maxBatchBytes: 1024 }],
  ['maxBatchBytes', { maxBatchBytes: 2 ** 40 }],
  ['segmentBytes', { segmentBytes: 100 }],
  ['segmentBytes', { segmentBytes: 2 ** 32 }],
  ['decodedCacheEntries', { decodedCacheEntries: -1 }],
  ['decodedCacheEntries', { decodedCacheEntries: 0.5 }],
  ['slowFsyncWarnMs', { slowFsyncWarnMs: 0 }],
  ['slowFsyncWarnMs', { slowFsyncWarnMs: 600001 }],
  ['flushIntervalMS', { flushIntervalMS: 10 }],
  ['groupMinSessionTimeoutMs', { groupMinSessionTimeoutMs: 0 }],
  ['groupMaxSessionTimeoutMs', { groupMaxSessionTimeoutMs: 2 ** 31 }],
  ['groupMinSessionTimeoutMs', { groupMinSessionTimeoutMs: 10_000, groupMaxSessionTimeoutMs: 9_999 }],
];

for (const [field, input] of BAD) {
  test(`INVALID_CONFIG names ${field} for ${JSON.stringify(input)}`, (t) => {
    const error = t.throws(() => resolveConfig({ dir: '/tmp/x', ...input }), { instanceOf: MetaLogError }) as MetaLogError;
    t.is(error.code, 'INVALID_CONFIG');
    t.is(error.details.field, field);
    t.true(error.message.includes(field));
  });
}

test('a config that is not an object is rejected', (t) => {
  for (const input of [null, 'dir', [], 3]) {
    t.is((t.throws(() => resolveConfig(input)) as MetaLogError).code, 'INVALID_CONFIG');
  }
});

test('every declared option has a doc line', (t) => {
  for (const [name, spec] of Object.entries(CONFIG_OPTIONS)) t.true(spec.doc.length > 10, name);
});
