/**
 * A store's metrics as a prom-client `Registry` of its own (never prom-client's global one, so two
 * stores open in one process do not clash), every value read when the registry is scraped: no timer, no
 * work between scrapes.
 *
 * Owns: the name, type, unit and help of every `metalog_*` metric, and where each value comes from:
 * - the writer stats block (writer-stats.ts): appends, fdatasyncs, batch sizes, event ring waits;
 * - the store's shared counters (store-counters.ts): rejected commands by code, command ring waits;
 * - shared memory read on the spot: command ring occupancy, the shared index's entry counts and bytes;
 * - what open reported (`RecoveryReport`), the handle's offsets and read-only state;
 * - the WAL directory, listed at scrape time (segment files and their bytes).
 * Every source is shared memory or the disk, so the registry of any handle, the opener's or an attached
 * one on another thread, shows the same store.
 *
 * Called by: `MetaLog.metricsRegistry()` (loaded on first use: prom-client is not loaded by a process
 * that never asks for metrics). Adding a metric later (a snapshot's age or duration) is one call to
 * `registerStoreGauge` or `registerStoreCounter` in `registerStoreMetrics`.
 */
import type { SnapshotStatus } from '../snapshot/snapshot-scheduler.js';
import path from 'node:path';
import { Counter, Gauge, Registry } from 'prom-client';
import { CommandRing } from '../../native-free/command-ring.js';
import { StatsBlock } from '../../native-free/stats-block.js';
import { ERROR_CODES } from '../errors.js';
import type { RecoveryReport } from '../recovery-report.js';
import type { StoreMetricsBuffers } from './metrics-buffers.js';
import { FAMILIES, type StoreIndexReader } from '../store-index/store-index.js';
import { parseSegmentFileName } from '../wal/format.js';
import type { Storage } from '../wal/storage.js';
import { registerSharedHistogram } from './shared-histogram.js';
import { StoreCounters } from './store-counters.js';
import { readWriterStats, type WriterStats } from './writer-stats.js';

/** The parts of a store handle the metrics read. */
export interface StoreMetricsHandle {
  readonly metrics: StoreMetricsBuffers;
  readonly commandRing: SharedArrayBuffer;
  readonly recovery: RecoveryReport;
  readonly config: { readonly dir: string };
}

/** What a handle gives its registry to read from. */
export interface StoreMetricsSource {
  /** The store's shared memory, folder and recovery report (a handle's StoreHandle has all of it). */
  readonly handle: StoreMetricsHandle;
  /** How the WAL directory is listed. */
  readonly storage: Storage;
  /** Entry counts and bytes of the shared index's tables. */
  indexStats(): ReturnType<StoreIndexReader['stats']>;
  lastOffset(): number;
  durableOffset(): number;
  readOnly(): boolean;
  /** The snapshot status (null on an attached handle: snapshots belong to the opener). */
  snapshots(): Readonly<SnapshotStatus> | null;
  /** The store's clock (for the snapshot's age). */
  nowMs(): number;
}

/** One value of a labelled metric. */
export interface LabelledValue<L extends string> {
  labels: Record<L, string>;
  value: number;
}

/** A metric read at scrape time: one value, or one per label set (label sets not listed are left out). */
export interface ScrapedMetricSpec<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
  read: () => number | readonly LabelledValue<L>[] | Promise<number | readonly LabelledValue<L>[]>;
}

/** Registers a gauge whose value `spec.read` gives at every scrape. */
export function registerStoreGauge<L extends string = never>(registry: Registry, spec: ScrapedMetricSpec<L>): void {
  registerScraped(registry, spec, 'gauge');
}

/**
 * Registers a counter whose total `spec.read` gives at every scrape (the count lives in shared memory;
 * prom-client's counter only carries it to the exposition).
 */
export function registerStoreCounter<L extends string = never>(registry: Registry, spec: ScrapedMetricSpec<L>): void {
  registerScraped(registry, spec, 'counter');
}

/** A gauge or counter that reads its value(s) at scrape time: reset, then set (gauge) or add (counter). */
function registerScraped<L extends string>(registry: Registry, spec: ScrapedMetricSpec<L>, kind: 'gauge' | 'counter'): void {
  const options = { name: spec.name, help: spec.help, labelNames: spec.labelNames ?? [], registers: [registry] };
  const apply = (metric: Gauge<L> | Counter<L>, labels: Partial<Record<L, string>> | null, value: number): void => {
    if (metric instanceof Gauge) {
      if (labels === null) metric.set(value);
      else metric.set(labels, value);
    } else if (labels === null) metric.inc(value);
    else metric.inc(labels, value);
  };
  async function collect(this: Gauge<L> | Counter<L>): Promise<void> {
    const read = await spec.read();
    this.reset();
    if (typeof read === 'number') apply(this, null, read);
    else for (const { labels, value } of read) apply(this, labels as Partial<Record<L, string>>, value);
  }
  if (kind === 'gauge') new Gauge<L>({ ...options, collect });
  else new Counter<L>({ ...options, collect });
}

/** A new registry with every metric of the store that `source` reads. */
export function createStoreRegistry(source: StoreMetricsSource): Registry {
  const registry = new Registry();
  registerStoreMetrics(registry, source);
  return registry;
}

/** Registers every `metalog_*` metric in `registry`. */
export function registerStoreMetrics(registry: Registry, source: StoreMetricsSource): void {
  registerWriterMetrics(registry, StatsBlock.attach(source.handle.metrics.writerStats));
  registerCommandMetrics(registry, source);
  registerStateMetrics(registry, source);
}

function registerWriterMetrics(registry: Registry, block: StatsBlock): void {
  const writer = (): WriterStats => readWriterStats(block);
  const counter = (name: string, help: string, read: (stats: WriterStats) => number): void =>
    registerStoreCounter(registry, { name, help, read: () => read(writer()) });
  counter('metalog_batches_total', 'Batches the writer acknowledged (group commits, batches of rejected commands only, sync requests).', (s) => s.batches);
  counter('metalog_events_appended_total', 'Events (WAL records) written to the WAL.', (s) => s.eventsAppended);
  counter('metalog_wal_appended_bytes_total', 'Bytes of records written to the WAL.', (s) => s.bytesAppended);
  counter('metalog_slow_fsync_total', 'fdatasyncs of the WAL that took longer than slowFsyncWarnMs.', (s) => s.slowFdatasyncs);
  counter('metalog_event_ring_full_waits_total', 'Acknowledgements the writer had to hold until a handle consumed the event ring.', (s) => s.eventRingFullWaits);
  counter('metalog_event_ring_full_wait_seconds_total', 'Time the writer waited for room on the event ring.', (s) => s.eventRingFullWaitSeconds);
  counter('metalog_handle_evictions_total', 'Attached handles evicted for holding the event ring full too long.', (s) => s.handleEvictions);
  registerSharedHistogram(registry, 'metalog_wal_append_seconds', 'Duration of one batch write() to the WAL (a segment rotation included).', () => writer().appendSeconds);
  registerSharedHistogram(registry, 'metalog_wal_fdatasync_seconds', 'Duration of one fdatasync of the WAL (per batch in fsync mode, per interval, at sync() and close).', () => writer().fdatasyncSeconds);
  registerSharedHistogram(registry, 'metalog_batch_records', 'Records appended per batch (batches that appended something).', () => writer().batchRecords);
  registerSharedHistogram(registry, 'metalog_batch_bytes', 'Bytes appended per batch (batches that appended something).', () => writer().batchBytes);
  registerSharedHistogram(registry, 'metalog_wal_unsynced_seconds', 'At each fdatasync of the WAL: how long the oldest bytes it made durable had waited since they were written.', () => writer().unsyncedSeconds);
  registerStoreGauge(registry, { name: 'metalog_wal_unsynced_max_seconds', help: 'The longest written bytes have waited for their fdatasync since open.', read: () => writer().unsyncedSecondsMax });
}

function registerCommandMetrics(registry: Registry, source: StoreMetricsSource): void {
  const counters = new StoreCounters(source.handle.metrics.counters);
  const commandRing = CommandRing.attach(source.handle.commandRing);
  registerStoreCounter(registry, {
    name: 'metalog_command_errors_total',
    help: 'Commands rejected, by error code and Kafka error code ("none" where Kafka has none): by the input checks on the calling thread or by the writer.',
    labelNames: ['code', 'kafka_code'],
    read: () =>
      counters.commandErrors().map(({ code, count }) => ({
        labels: { code, kafka_code: String(ERROR_CODES[code].kafkaCode ?? 'none') },
        value: count,
      })),
  });
  registerStoreCounter(registry, {
    name: 'metalog_command_ring_full_commands_total',
    help: 'Commands that found the command ring full and queued on their handle until the writer made room.',
    read: () => counters.commandRingFullCommands(),
  });
  registerStoreCounter(registry, {
    name: 'metalog_command_ring_full_wait_seconds_total',
    help: 'Time handles had commands queued waiting for room on the command ring.',
    read: () => counters.commandRingWaitSeconds(),
  });
  registerStoreGauge(registry, { name: 'metalog_command_ring_used_bytes', help: 'Bytes of the command ring holding commands the writer has not taken yet.', read: () => commandRing.usedBytes() });
  registerStoreGauge(registry, { name: 'metalog_command_ring_capacity_bytes', help: 'Size of the command ring.', read: () => commandRing.capacityBytes });
}

/** Snapshot age, size and cost; zero (or absent) before the first snapshot. */
function registerSnapshotMetrics(registry: Registry, source: StoreMetricsSource): void {
  const status = (): Readonly<SnapshotStatus> | null => source.snapshots();
  registerStoreGauge(registry, { name: 'metalog_snapshot_last_offset', help: 'Offset the newest snapshot holds the state at (-1: none).', read: () => status()?.lastOffset ?? -1 });
  registerStoreGauge(registry, {
    name: 'metalog_snapshot_age_seconds',
    help: 'Time since the newest snapshot was written (0 without one).',
    read: () => {
      const takenMs = status()?.takenMs ?? null;
      return takenMs === null ? 0 : (source.nowMs() - takenMs) / 1000;
    },
  });
  registerStoreGauge(registry, {
    name: 'metalog_snapshot_duration_seconds',
    help: 'Time the last snapshot took in the snapshot thread (fold of the new events plus writing the file).',
    read: () => {
      const last = status()?.lastResult ?? null;
      return last === null ? 0 : (last.foldMs + last.writeMs) / 1000;
    },
  });
  registerStoreGauge(registry, { name: 'metalog_snapshot_bytes', help: 'Size of the last snapshot written since open.', read: () => status()?.lastResult?.bytes ?? 0 });
  registerStoreCounter(registry, { name: 'metalog_snapshots_total', help: 'Snapshots written since open.', read: () => status()?.taken ?? 0 });
  registerStoreCounter(registry, { name: 'metalog_snapshot_failures_total', help: 'Snapshots that failed since open (the last error is in log.snapshotStatus).', read: () => status()?.failures ?? 0 });
  registerStoreGauge(registry, {
    name: 'metalog_recovery_snapshot_offset',
    help: 'Offset of the snapshot open started from (-1: a replay of the whole WAL).',
    read: () => source.handle.recovery.snapshot?.lastOffset ?? -1,
  });
}

function registerStateMetrics(registry: Registry, source: StoreMetricsSource): void {
  const recovery = source.handle.recovery;
  const walDir = path.join(source.handle.config.dir, 'wal');
  registerStoreGauge(registry, { name: 'metalog_recovery_seconds', help: 'Time the writer took to recover the WAL at open.', read: () => recovery.durationMs / 1000 });
  registerStoreGauge(registry, { name: 'metalog_recovery_replayed_events', help: 'Events replayed from the WAL at open.', read: () => recovery.replayedEvents });
  registerStoreGauge(registry, { name: 'metalog_last_offset', help: 'Offset of the last event the shared index shows (-1: empty store).', read: () => source.lastOffset() });
  registerStoreGauge(registry, { name: 'metalog_durable_offset', help: 'Offset of the last event known to be fdatasync-ed.', read: () => source.durableOffset() });
  registerSnapshotMetrics(registry, source);
  registerStoreGauge(registry, { name: 'metalog_read_only', help: '1 once the store is read-only (a failed fdatasync or a broken invariant), else 0.', read: () => (source.readOnly() ? 1 : 0) });
  const segmentFiles = sharedWhileInFlight(async () => walSegmentFiles(source.storage, walDir));
  registerStoreGauge(registry, { name: 'metalog_wal_segments', help: 'WAL segment files.', read: async () => (await segmentFiles()).count });
  registerStoreGauge(registry, {
    name: 'metalog_wal_segment_bytes',
    help: 'Bytes of the WAL segment files on disk (the open segment includes the space zero-filled ahead of appends).',
    read: async () => (await segmentFiles()).bytes,
  });
  const byTable = (read: (stats: ReturnType<StoreIndexReader['stats']>[(typeof FAMILIES)[number]]) => number) => (): LabelledValue<'table'>[] => {
    const stats = source.indexStats();
    return FAMILIES.map((table) => ({ labels: { table }, value: read(stats[table]) }));
  };
  registerStoreGauge(registry, {
    name: 'metalog_index_entries',
    help: 'Entries in each table of the shared index: topics, brokers, groups, committed offsets (offsets), transactions, partitions with watermarks or segments, and internal tables.',
    labelNames: ['table'],
    read: byTable((stats) => stats.entries),
  });
  registerStoreGauge(registry, {
    name: 'metalog_index_bytes',
    help: 'Memory of each table of the shared index (slot table and arena).',
    labelNames: ['table'],
    read: byTable((stats) => stats.slotBytes + stats.arenaBytes),
  });
}

/** Segment files in `walDir` and their bytes on disk (a listing and a stat per segment: microseconds). */
function walSegmentFiles(storage: Storage, walDir: string): { count: number; bytes: number } {
  let count = 0;
  let bytes = 0;
  for (const name of storage.readdir(walDir)) {
    if (parseSegmentFileName(name) === null) continue;
    try {
      bytes += storage.stat(path.join(walDir, name)).bytes;
      count++;
    } catch (error) {
      // A segment removed between the listing and its stat is no longer there to count.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return { count, bytes };
}

/**
 * `read`, with calls made while an earlier one is still in flight sharing its result: the gauges of one
 * scrape are collected together, so the WAL directory is listed once per scrape.
 */
function sharedWhileInFlight<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | null = null;
  return () => {
    inFlight ??= read().finally(() => {
      inFlight = null;
    });
    return inFlight;
  };
}
