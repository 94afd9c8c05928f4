/**
 * `log.metrics()` and `serveMetrics` against real stores: the scrape is well-formed Prometheus text with
 * every metric family; counters follow the writes (exactly, since each awaited write is one batch);
 * rejected commands are counted by code whether the input checks or the writer refused them, from the
 * opener's or an attached handle; a slow fdatasync (FaultyStorage's delay, far over a tiny threshold)
 * is counted and raises one process warning; the HTTP endpoint answers; two stores keep apart.
 * Values that are durations are only checked for presence, never for size.
 */
import test from 'ava';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { MetaLog } from '../../src/api/metalog.js';
import { MetaLogError } from '../../src/errors.js';
import { serveMetrics } from '../../src/api/serve-metrics.js';
import { SLOW_FSYNC_WARNING_CODE } from '../../src/metrics/slow-fsync-warning.js';
import { FAULT_WORD_COUNT, FAULT_WORDS } from '../../src/wal/storage.js';
import { parsePrometheusText, sampleValue, type Family } from '../helpers/prometheus-text.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

/** Every metric family a store exposes, with its type. */
const FAMILIES: Record<string, string> = {
  metalog_batches_total: 'counter',
  metalog_events_appended_total: 'counter',
  metalog_wal_appended_bytes_total: 'counter',
  metalog_slow_fsync_total: 'counter',
  metalog_event_ring_full_waits_total: 'counter',
  metalog_event_ring_full_wait_seconds_total: 'counter',
  metalog_handle_evictions_total: 'counter',
  metalog_wal_append_seconds: 'histogram',
  metalog_wal_fdatasync_seconds: 'histogram',
  metalog_batch_records: 'histogram',
  metalog_batch_bytes: 'histogram',
  metalog_wal_unsynced_seconds: 'histogram',
  metalog_wal_unsynced_max_seconds: 'gauge',
  metalog_command_errors_total: 'counter',
  metalog_command_ring_full_commands_total: 'counter',
  metalog_command_ring_full_wait_seconds_total: 'counter',
  metalog_command_ring_used_bytes: 'gauge',
  metalog_command_ring_capacity_bytes: 'gauge',
  metalog_recovery_seconds: 'gauge',
  metalog_recovery_replayed_events: 'gauge',
  metalog_last_offset: 'gauge',
  metalog_durable_offset: 'gauge',
  metalog_read_only: 'gauge',
  metalog_wal_segments: 'gauge',
  metalog_wal_segment_bytes: 'gauge',
  metalog_index_entries: 'gauge',
  metalog_index_bytes: 'gauge',
  metalog_snapshot_last_offset: 'gauge',
  metalog_snapshot_age_seconds: 'gauge',
  metalog_snapshot_duration_seconds: 'gauge',
  metalog_snapshot_bytes: 'gauge',
  metalog_snapshots_total: 'counter',
  metalog_snapshot_failures_total: 'counter',
  metalog_recovery_snapshot_offset: 'gauge',
};

async function scrape(log: MetaLog): Promise<Map<string, Family>> {
  return parsePrometheusText(await log.metrics());
}

function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const found = sampleValue(families, name, labels);
  if (found === undefined) throw new Error(`no sample ${name} ${JSON.stringify(labels)}`);
  return found;
}

test('a scrape is well-formed Prometheus text with every metric family and its type', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir });
  await log.registerBroker({ brokerId: 1, host: 'h', port: 9092, brokerEpoch: 1 });
  await log.createTopic({ name: 'orders', partitions: 2 });
  await log.commitOffsets('billing', [{ topic: 'orders', partition: 0, offset: 5 }]);
  const families = await scrape(log);
  for (const [name, type] of Object.entries(FAMILIES)) {
    t.is(families.get(name)?.type, type, name);
    t.true((families.get(name)?.help.length ?? 0) > 10, `${name} has help`);
  }
  t.deepEqual([...families.keys()].filter((name) => !(name in FAMILIES)), [], 'no family without a test');
  t.is(value(families, 'metalog_index_entries', { table: 'topics' }), 1);
  t.is(value(families, 'metalog_index_entries', { table: 'brokers' }), 1);
  t.is(value(families, 'metalog_index_entries', { table: 'offsets' }), 1);
  t.is(value(families, 'metalog_last_offset'), 2);
  t.is(value(families, 'metalog_durable_offset'), 2);
  t.is(value(families, 'metalog_read_only'), 0);
  t.is(value(families, 'metalog_wal_segments'), 1);
  t.true(value(families, 'metalog_wal_segment_bytes') > 0);
  t.true(value(families, 'metalog_command_ring_capacity_bytes') > 0);
  const fdatasync = families.get('metalog_wal_fdatasync_seconds') as Family;
  const buckets = fdatasync.samples.filter((sample) => sample.name === 'metalog_wal_fdatasync_seconds_bucket');
  t.is(buckets.at(-1)?.labels.le, '+Inf');
  t.true(buckets.every((bucket, index) => index === 0 || bucket.value >= buckets[index - 1].value), 'buckets are cumulative');
  t.is(buckets.at(-1)?.value, value(families, 'metalog_wal_fdatasync_seconds_count'));
});

test('counters follow the writes: one awaited write is one batch, appended and fdatasync-ed (fsync mode); reopen reports the replay', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir, durability: 'fsync' });
  await log.createTopic({ name: 't', partitions: 4 });
  const before = await scrape(log);
  const writes = 20;
  for (let i = 0; i < writes; i++) await log.commitOffsets('g', [{ topic: 't', partition: i % 4, offset: i }]);
  const after = await scrape(log);
  const grew = (name: string): number => value(after, name) - value(before, name);
  t.is(grew('metalog_events_appended_total'), writes);
  t.is(grew('metalog_batches_total'), writes);
  t.is(grew('metalog_wal_fdatasync_seconds_count'), writes, 'every batch was fdatasync-ed');
  t.is(grew('metalog_wal_unsynced_seconds_count'), writes, 'each fdatasync made newly written bytes durable');
  // Each batch's bytes waited at least their own fdatasync, so the sums are ordered.
  t.true(grew('metalog_wal_unsynced_seconds_sum') >= grew('metalog_wal_fdatasync_seconds_sum'));
  t.true(value(after, 'metalog_wal_unsynced_max_seconds') > 0);
  t.is(grew('metalog_wal_append_seconds_count'), writes);
  t.is(grew('metalog_batch_records_count'), writes);
  t.is(grew('metalog_batch_records_sum'), writes);
  t.is(grew('metalog_batch_bytes_sum'), grew('metalog_wal_appended_bytes_total'));
  t.true(grew('metalog_wal_appended_bytes_total') > 0);
  t.is(value(after, 'metalog_last_offset'), writes);

  await log.sync();
  t.is(value(await scrape(log), 'metalog_batches_total'), value(after, 'metalog_batches_total') + 1, 'a sync() is a batch of its own');
  await closeAndVerify(log);
  await t.throwsAsync(log.metrics(), { instanceOf: MetaLogError, message: /closed/ });

  const reopened = await openStore(t, { dir });
  const recovered = await scrape(reopened);
  t.is(value(recovered, 'metalog_recovery_replayed_events'), writes + 1);
  t.true(value(recovered, 'metalog_recovery_seconds') >= 0);
  t.is(value(recovered, 'metalog_events_appended_total'), 0, 'counters start at open');
});

test('rejected commands are counted by code and Kafka code, from the input checks and from the writer, on any handle', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir });
  await log.createTopic({ name: 'orders', partitions: 1 });
  await t.throwsAsync(log.createTopic({ name: 'orders', partitions: 1 }), { instanceOf: MetaLogError, message: /exists/ });
  await t.throwsAsync(log.createTopic({ name: 'no/slashes', partitions: 1 }), { instanceOf: MetaLogError });
  let families = await scrape(log);
  t.is(value(families, 'metalog_command_errors_total', { code: 'TOPIC_ALREADY_EXISTS', kafka_code: '36' }), 1, 'by the writer');
  t.is(value(families, 'metalog_command_errors_total', { code: 'INVALID_TOPIC_EXCEPTION', kafka_code: '17' }), 1, 'by the input check');
  t.is(families.get('metalog_command_errors_total')?.samples.length, 2, 'no other code counted');

  const attached = MetaLog.attach(log.handle);
  await t.throwsAsync(attached.createTopic({ name: 'orders', partitions: 1 }), { instanceOf: MetaLogError });
  await t.throwsAsync(attached.deleteGroup(''), { instanceOf: MetaLogError });
  families = await scrape(attached);
  t.is(value(families, 'metalog_command_errors_total', { code: 'TOPIC_ALREADY_EXISTS' }), 2);
  t.is(value(families, 'metalog_command_errors_total', { code: 'INVALID_GROUP_ID', kafka_code: '24' }), 1);
  t.is(await attached.metrics(), await log.metrics(), 'every handle of a store shows the same numbers');
  await attached.close();
});

test('a slow fdatasync is counted and raises one MetaLogWarning (METALOG_SLOW_FSYNC) naming the store; more within the interval only count', async (t) => {
  const dir = tmpDir(t);
  const buffer = new SharedArrayBuffer(FAULT_WORD_COUNT * 4);
  const faults = new Int32Array(buffer);
  const warnings: Error[] = [];
  const onWarning = (warning: Error): void => {
    if ((warning as Error & { code?: string }).code === SLOW_FSYNC_WARNING_CODE && warning.message.includes(dir)) warnings.push(warning);
  };
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  // Every fdatasync sleeps 50 ms from the start, five times the threshold, so whichever comes first is slow.
  Atomics.store(faults, FAULT_WORDS.FSYNC_DELAY_MS, 50);
  const log = await openStore(t, { dir, slowFsyncWarnMs: 10 }, { faults: buffer });
  await log.createTopic({ name: 't', partitions: 1 });
  // process.emitWarning delivers on the next tick.
  await new Promise((resolve) => setImmediate(resolve));
  t.is(warnings.length, 1);
  t.is(warnings[0].name, 'MetaLogWarning');
  t.regex(warnings[0].message, /fdatasync of the WAL in .* took \d+ ms \(slowFsyncWarnMs: 10\)/);

  await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 1 }]);
  await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 2 }]);
  await new Promise((resolve) => setImmediate(resolve));
  t.is(warnings.length, 1, 'one warning per interval');
  t.is(value(await scrape(log), 'metalog_slow_fsync_total'), 3);
  Atomics.store(faults, FAULT_WORDS.FSYNC_DELAY_MS, 0);
});

test('serveMetrics answers GET /metrics with the registry content type; 404 elsewhere, 405 for other methods, 503 once the store is closed', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir });
  await log.createTopic({ name: 't', partitions: 1 });
  const server = await serveMetrics(log, { port: 0 });
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const response = await fetch(`${base}/metrics`);
  t.is(response.status, 200);
  t.is(response.headers.get('content-type'), (await log.metricsRegistry()).contentType);
  const families = parsePrometheusText(await response.text());
  t.is(value(families, 'metalog_events_appended_total'), 1);
  t.is((await fetch(`${base}/`)).status, 404);
  t.is((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  await closeAndVerify(log);
  const closed = await fetch(`${base}/metrics`);
  t.is(closed.status, 503);
  t.regex(await closed.text(), /^STORE_CLOSED/);
});

test('two stores open at once have registries of their own', async (t) => {
  const a = await openStore(t, { dir: tmpDir(t) });
  const b = await openStore(t, { dir: tmpDir(t) });
  for (let i = 0; i < 3; i++) await a.createTopic({ name: `t${i}`, partitions: 1 });
  await t.throwsAsync(a.createTopic({ name: 't0', partitions: 1 }));
  t.not(await a.metricsRegistry(), await b.metricsRegistry());
  t.is(await a.metricsRegistry(), await a.metricsRegistry(), 'one registry per handle');
  const [fromA, fromB] = [await scrape(a), await scrape(b)];
  t.is(value(fromA, 'metalog_events_appended_total'), 3);
  t.is(value(fromB, 'metalog_events_appended_total'), 0);
  t.is(value(fromA, 'metalog_index_entries', { table: 'topics' }), 3);
  t.is(value(fromB, 'metalog_index_entries', { table: 'topics' }), 0);
  t.is(fromB.get('metalog_command_errors_total')?.samples.length, 0);
  t.true(fs.existsSync(path.join(a.config.dir, 'wal')));
});

test('snapshot metrics follow log.snapshot(), and a reopen reports the snapshot it started from', async (t) => {
  const dir = tmpDir(t);
  let log = await MetaLog.open({ dir, snapshotEveryEvents: 0, snapshotIntervalMs: 0 });
  let families = await scrape(log);
  t.is(value(families, 'metalog_snapshots_total'), 0);
  t.is(value(families, 'metalog_snapshot_last_offset'), -1);
  await log.createTopic({ name: 'a', partitions: 2 });
  await log.createTopic({ name: 'b', partitions: 2 });
  const taken = await log.snapshot();
  families = await scrape(log);
  t.is(value(families, 'metalog_snapshots_total'), 1);
  t.is(value(families, 'metalog_snapshot_failures_total'), 0);
  t.is(value(families, 'metalog_snapshot_last_offset'), taken.lastOffset);
  t.is(value(families, 'metalog_snapshot_bytes'), taken.bytes);
  t.true(value(families, 'metalog_snapshot_duration_seconds') > 0);
  await closeAndVerify(log);
  log = await openStore(t, { dir, snapshotEveryEvents: 0, snapshotIntervalMs: 0 });
  families = await scrape(log);
  t.is(value(families, 'metalog_recovery_snapshot_offset'), taken.lastOffset);
  t.is(value(families, 'metalog_recovery_replayed_events'), 0);
  t.true(value(families, 'metalog_snapshot_age_seconds') >= 0);
});
