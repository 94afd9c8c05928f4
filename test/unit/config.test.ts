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
    log: { kind: 'local' },
  });
  t.true(Object.isFrozen(config));
  t.true(Object.isFrozen(config.log));
});

test('an etcd log fills its timing defaults and bounds the batch to one etcd request', (t) => {
  const config = resolveConfig({ dir: '/tmp/x', log: { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], prefix: 'cluster-a', nodeId: 'broker-1' } });
  t.deepEqual(config.log, { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], prefix: 'cluster-a', nodeId: 'broker-1', leaseTtlMs: 3000, requestTimeoutMs: 5000, bootstrapFrom: [] });
  t.is(config.maxBatchBytes, 256 * 1024);
  t.is(config.durability, 'interval', 'etcd holds every acknowledged write; the local copy syncs by interval');
  t.true(Object.isFrozen(config.log));
  t.is(resolveConfig({ dir: '/tmp/x', durability: 'fsync', log: config.log }).durability, 'fsync');
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
  ['log', { log: 'etcd' }],
  ['log', { log: null }],
  ['log.kind', { log: { kind: 'zookeeper' } }],
  ['log.endpoints', { log: { kind: 'etcd', endpoints: [], prefix: 'p', nodeId: 'n' } }],
  ['log.endpoints', { log: { kind: 'etcd', endpoints: ['https://127.0.0.1:2379'], prefix: 'p', nodeId: 'n' } }],
  ['log.endpoints', { log: { kind: 'etcd', endpoints: ['not a url'], prefix: 'p', nodeId: 'n' } }],
  ['log.endpoints', { log: { kind: 'etcd', endpoints: 'http://127.0.0.1:2379', prefix: 'p', nodeId: 'n' } }],
  ['log.prefix', { log: { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], prefix: 'p/', nodeId: 'n' } }],
  ['log.prefix', { log: { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], prefix: 'has space', nodeId: 'n' } }],
  ['log.nodeId', { log: { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], prefix: 'p', nodeId: '' } }],
  ['log.leaseTtlMs', { log: { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], prefix: 'p', nodeId: 'n', leaseTtlMs: 2500 } }],
  ['log.leaseTtlMs', { log: { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], prefix: 'p', nodeId: 'n', leaseTtlMs: 1000 } }],
  ['log.requestTimeoutMs', { log: { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], prefix: 'p', nodeId: 'n', requestTimeoutMs: 10 } }],
  ['log.bootstrapFrom', { log: { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], prefix: 'p', nodeId: 'n', bootstrapFrom: '/a' } }],
  ['log.bootstrapFrom', { log: { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], prefix: 'p', nodeId: 'n', bootstrapFrom: [''] } }],
  ['log.ttl', { log: { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], prefix: 'p', nodeId: 'n', ttl: 3 } }],
  ['maxBatchBytes', { maxBatchBytes: 4 * 1024 * 1024, log: { kind: 'etcd', endpoints: ['http://127.0.0.1:2379'], prefix: 'p', nodeId: 'n' } }],
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
