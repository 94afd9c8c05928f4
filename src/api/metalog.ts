/**
 * The `MetaLog` handle: what a broker holds. Writes go to the writer thread through the command ring and
 * resolve when the writer's BATCH record acknowledges them; point reads are synchronous, from the shared
 * index (store-index.ts) that the writer keeps; list and scan queries also run in the reader pool.
 *
 * Read-your-writes: the writer applies a batch to the shared index before it acknowledges it, so when a
 * write resolves, every read on every thread of the process already shows it.
 *
 * Threads: the handle lives on the caller's thread and never blocks it; the thread plumbing (rings,
 * writer thread, settling calls) is its WriterLink's. `MetaLog.attach(log.handle)` makes another handle
 * on the same store in another thread of the process, sharing the index and the rings.
 *
 * Metrics: every handle can build a prom-client registry of the store (src/metrics/, loaded at the first
 * `metricsRegistry()` call); the opener's handle also raises the slow-fdatasync warning.
 */
import { StatsBlock } from '../../native-free/stats-block.js';
import { bytesAppendedCount } from '../metrics/writer-stats.js';
import type { Registry } from 'prom-client';
import { EventCodec } from '../codec/event-codec.js';
import type { LogEvent } from '../codec/event-schema.js';
import {
  checkAddSegmentInput,
  checkAddToTxnInput,
  checkAllocateProducerIdsInput,
  checkAlterTopicConfigsInput,
  checkCompleteTxnInput,
  checkEndTxnInput,
  checkInitProducerIdInput,
  checkRemoveSegmentInput,
  checkWatermarksInput,
  type ProducerIdentity,
  checkChangePartitionInput,
  checkCommitOffsetsEachInput,
  checkCommitOffsetsInput,
  checkDeleteOffsetsEachInput,
  perEntryResults,
  type CheckedPerEntry,
  type PartitionResult,
  checkCreatePartitionsInput,
  checkCreateTopicInput,
  checkDeleteGroupInput,
  checkDeleteOffsetsInput,
  checkExpireOffsetsInput,
  checkDeleteTopicInput,
  checkResetOffsetsInput,
  checkUpsertGroupInput,
  checkSessionTimeouts,
  type CommitMembership,
  type GroupInput,
  checkRegisterBrokerInput,
  checkInitClusterInput,
  checkSetBrokerStatusInput,
  checkUnregisterBrokerInput,
  type ChangePartitionInput,
  type Command,
  type CreateTopicInput,
  type OffsetCommitInput,
  type RegisterBrokerInput,
  type TopicConfigChanges,
} from '../commands/commands.js';
import type { BrokerStatus, PartitionState, SegmentInfo, Watermarks } from '../codec/event-schema.js';
import { clockFromBuffer, SYSTEM_CLOCK, type Clock } from '../clock.js';
import { bootstrapIfBehind, type BootstrapReport } from '../cluster/bootstrap.js';
import { resolveConfig, type MetaLogConfig, type MetaLogConfigInput } from '../config.js';
import { MetaLogError } from '../errors.js';
import { DirectoryLock } from '../lock.js';
import { checkHistoryFilter, type HistoryFilter } from '../history/history.js';
import { checkStatePoint, type StateAt, type StatePoint } from '../history/state-at.js';
import { canonicalIndexState } from '../store-index/canonical-index-state.js';
import { StoreIndexReader } from '../store-index/store-index.js';
import { SlowFsyncWarning } from '../metrics/slow-fsync-warning.js';
import { StoreCounters } from '../metrics/store-counters.js';
import type { StoreMetricsSource } from '../metrics/store-metrics.js';
import type { Broker, CommittedOffset, Group, Topic, Transaction } from '../state/entities.js';
import { frameAt } from '../wal/format.js';
import { repairWal, type RepairReport } from '../wal/repair.js';
import { storageFor, type Storage } from '../wal/storage.js';
import type { DecodedBatch } from '../writer/batch-record.js';
import type { RecoveryReport } from '../recovery-report.js';
import { Watcher, type WatchEvent, type WatchOptions } from './watcher.js';
import { catchUpPager } from './watch-catch-up.js';
import { checkDiffOffsets, type StateDiff } from '../history/diff.js';
import { backupStore, restoreStore, type BackupReport, type RestorePoint, type RestoreReport } from '../backup/backup.js';
import { ReaderPool } from './reader-pool.js';
import { checkPath, checkRestorePoint, checkWatchOptions, isDirectory, storeCallError } from './api-input.js';
import { OffsetExpiry } from './offset-expiry.js';
import { SnapshotScheduler, type SnapshotStatus } from '../snapshot/snapshot-scheduler.js';
import type { SnapshotResult } from '../snapshot/snapshotter.js';
import type { BatchSink, OnOk, OpenInternals, StoreHandle, WriterLink } from './writer-link.js';
import { OpenerLink } from './opener-link.js';
import { AttachedLink } from './attached-link.js';

export type { OpenInternals, StoreHandle } from './writer-link.js';

/** An open store. */
export class MetaLog {
  /** The resolved configuration. */
  readonly config: MetaLogConfig;
  private readonly reader: StoreIndexReader;
  private pool: ReaderPool | null = null;
  private readonly codecsBySchema = new Map<string, EventCodec>();
  private readonly watchers = new Set<Watcher>();
  private readonly link: WriterLink;
  /** Snapshots and compaction; the opener's handle only. */
  private snapshots: SnapshotScheduler | null = null;
  /** Offset retention; the opener's handle only. */
  private offsetExpiry: OffsetExpiry | null = null;
  private closePromise: Promise<void> | null = null;
  /** The store's shared counters (rejected commands by code). */
  private readonly counters: StoreCounters;
  /** On the opener's handle only: raises the slow-fdatasync warning. */
  private slowFsyncWarning: SlowFsyncWarning | null = null;
  private registry: Promise<Registry> | null = null;
  /** Stops waking the writer when a test's clock moves (opener with a ManualClock only). */
  private stopClockWakes: (() => void) | null = null;
  /** How this handle reads and writes the store's files (a FaultyStorage in fault tests; see `open`'s internals). */
  private storage: Storage = storageFor();
  /** The fault switches the threads this handle starts build their storage from (tests only). */
  private faults: SharedArrayBuffer | undefined;
  /** What the open did to catch up a node of an etcd log (see `bootstrap`). */
  private bootstrapReport: BootstrapReport | null = null;

  // Store: open, attach, close, durability, operations and introspection.

  private constructor(
    config: MetaLogConfig,
    /** The directory lock, held by the opener's handle; null on an attached handle. */
    private readonly lock: DirectoryLock | null,
    /** Where this handle reads the time (the wall clock, or the test's clock on every thread). */
    private readonly clock: Clock,
    /** Starts or joins the writer with this handle's sink (which the writer's batches reach). */
    connect: (sink: BatchSink) => WriterLink,
  ) {
    this.config = config;
    this.link = connect(this.sink);
    this.reader = new StoreIndexReader(this.link.index, config.decodedCacheEntries);
    this.counters = new StoreCounters(this.link.metrics.counters);
  }

  /**
   * Opens (or creates) the store in `config.dir`: takes the directory lock, starts the writer thread,
   * recovers the WAL and rebuilds the state. Rejects with INVALID_CONFIG, STORE_LOCKED, CORRUPT_WAL or
   * UNSUPPORTED_FORMAT.
   */
  static async open(input: MetaLogConfigInput, internals: OpenInternals = {}): Promise<MetaLog> {
    const config = resolveConfig(input);
    const storage = storageFor(internals.faults);
    try {
      storage.mkdirp(config.dir);
    } catch (error) {
      throw new MetaLogError('INVALID_CONFIG', `config.dir: cannot create ${config.dir}: ${(error as Error).message}`, { field: 'dir' }, error);
    }
    let lock: DirectoryLock;
    try {
      lock = DirectoryLock.acquire(config.dir);
    } catch (error) {
      throw storeCallError(error, `open of ${config.dir}`);
    }
    let log: MetaLog;
    try {
      // A node of a replicated log that fell behind what etcd still holds starts from a peer's snapshot.
      const bootstrap = config.log.kind === 'etcd' ? await bootstrapIfBehind(config.dir, config.log, storage, internals.clock ?? SYSTEM_CLOCK) : null;
      log = new MetaLog(config, lock, internals.clock ?? SYSTEM_CLOCK, (sink) => OpenerLink.start(config, sink, internals));
      log.bootstrapReport = bootstrap;
      log.storage = storage;
      log.faults = internals.faults;
      await log.link.ready;
    } catch (error) {
      lock.release();
      throw error;
    }
    const link = log.link;
    const writerStats = StatsBlock.attach(link.handle.metrics.writerStats);
    log.snapshots = new SnapshotScheduler(config, {
      durableOffset: () => link.durableOffset,
      lastOffset: () => log.lastOffset,
      sync: () => link.submit('sync', () => undefined),
      bytesAppended: () => bytesAppendedCount(writerStats),
      compactThrough: (offset) => link.submit({ compactThrough: offset }, () => undefined),
    }, link.recovery, log.clock, internals.faults);
    log.slowFsyncWarning = new SlowFsyncWarning(config.dir, config.slowFsyncWarnMs, log.link.handle.metrics.writerStats);
    log.offsetExpiry = new OffsetExpiry(config, { reader: log.reader, expire: (groupId, before) => log.expireOffsetsBefore(groupId, before) }, log.clock);
    // What waits for time counts it on the test's clock: a writer asleep until an interval fdatasync
    // falls due, the snapshot and offset retention checks.
    log.stopClockWakes = internals.clock?.onMove(() => {
      link.wakeWriterForClock();
      log.snapshots?.clockMoved();
      log.offsetExpiry?.clockMoved();
    }) ?? null;
    return log;
  }

  /**
   * A handle on a store that is open in this process, from `log.handle` (posted to a worker thread, or
   * used on the same one): the same synchronous reads from the same shared index, writes through the
   * same writer, its own watchers. `close()` on it detaches it (the store stays open); close it before
   * its thread ends, since the writer waits for every attached handle to consume its acknowledgements.
   * Throws STORE_CLOSED when the store is closed, and INVALID_REQUEST once this open store has given
   * out 65,535 handle ids (they are not reused while it is open). What is limited at once is cursors:
   * at most 63 attached handles write or watch at the same time (a handle that only reads takes none);
   * the first write or watch beyond that is refused with INVALID_REQUEST.
   */
  static attach(handle: StoreHandle): MetaLog {
    return new MetaLog(handle.config, null, clockFromBuffer(handle.clock), (sink) => AttachedLink.attach(handle, sink));
  }

  /** What `MetaLog.attach` takes in another thread: shared memory and settings, safe to post. */
  get handle(): StoreHandle {
    return this.link.handle;
  }

  /**
   * The reader pool (piscina worker threads, up to `readerThreads`, started as queries need them, ended after a minute idle): list,
   * describe and scan queries answered from the shared index off the caller's thread.
   */
  get readers(): ReaderPool {
    this.assertOpen();
    this.pool ??= new ReaderPool(this.reader, this.config.readerThreads, this.config.decodedCacheEntries, this.faults);
    return this.pool;
  }

  /**
   * Cuts a corrupt log at its first damage so it can be opened again, saving everything it removes
   * under `<dir>/repair-<time>/` and reporting what was dropped. Takes the directory lock (so it fails
   * with STORE_LOCKED while the store is open). A sound log is left untouched (`damage: null`).
   * INVALID_REQUEST when `dir` is not a path to a folder; KAFKA_STORAGE_ERROR when the disk fails.
   * `internals` are test-only hooks, as for `open` (fault switches).
   */
  static repair(dir: string, internals: OpenInternals = {}): RepairReport {
    checkPath(dir, 'dir');
    if (!isDirectory(dir)) throw new MetaLogError('INVALID_REQUEST', `dir: ${dir} is not a folder`, { field: 'dir', file: dir });
    let lock: DirectoryLock;
    try {
      lock = DirectoryLock.acquire(dir);
    } catch (error) {
      throw storeCallError(error, `repair of ${dir}`);
    }
    try {
      return repairWal(dir, storageFor(internals.faults));
    } catch (error) {
      throw storeCallError(error, `repair of ${dir}`);
    } finally {
      lock.release();
    }
  }

  /**
   * Makes a new store in the empty folder `dir` from the store or backup in `src`, as of `toOffset` or
   * `toTime` (default: all of it): opening `dir` then serves exactly the state at that point. Safe while
   * `src` is open (it only reads files). OFFSET_OUT_OF_RANGE for a point past the end of `src` or
   * older than its oldest kept history; INVALID_REQUEST for a path that cannot be used or a point that
   * is not `{ toOffset? , toTime? }`. `internals` are test-only hooks, as for `open` (fault switches).
   */
  static async restore(src: string, dir: string, point: RestorePoint = {}, internals: OpenInternals = {}): Promise<RestoreReport> {
    checkPath(src, 'src');
    checkPath(dir, 'dir');
    const { toOffset, toTime } = checkRestorePoint(point);
    try {
      return await restoreStore(src, dir, { ...(toOffset === undefined ? {} : { toOffset }), ...(toTime === undefined ? {} : { toTime }) }, undefined, storageFor(internals.faults));
    } catch (error) {
      throw storeCallError(error, `restore from ${src} to ${dir}`);
    }
  }

  /**
   * Waits for every write in flight, fdatasyncs (unless the store is read-only after a failed fdatasync),
   * stops the writer thread and releases the directory lock. Idempotent.
   */
  close(): Promise<void> {
    this.closePromise ??= this.closeOnce();
    return this.closePromise;
  }

  private async closeOnce(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.close();
    await this.snapshots?.close();
    this.offsetExpiry?.close();
    this.stopClockWakes?.();
    await this.link.close();
    this.lock?.release();
  }

  /** Makes every acknowledged write durable now (fdatasync), whatever the durability mode. */
  sync(): Promise<void> {
    return this.link.submit('sync', () => undefined);
  }

  /**
   * Writes a snapshot of every durable event now (in the background snapshot thread; writes go on),
   * keeps the newest `snapshotsRetained`, and deletes the WAL segments that the oldest one kept covers
   * and that are outside the history retention. Resolves with what it did. Opening handle only
   * (INVALID_REQUEST on an attached one); INVALID_REQUEST on an empty log.
   */
  snapshot(): Promise<SnapshotResult> {
    try {
      this.assertOpen();
      if (this.snapshots === null) throw new MetaLogError('INVALID_REQUEST', 'snapshots are taken by the handle that opened the store', {});
      return this.snapshots.snapshot();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Copies the store, while it runs, to the empty folder `dest`: a snapshot of every acknowledged event
   * first (opening handle only), then the snapshots and WAL segments, verified (on the reader pool) and
   * made durable. `MetaLog.restore(dest, ...)` makes a store of it; so does opening `dest` itself.
   * INVALID_REQUEST when `dest` is not a usable path to an empty or missing folder.
   */
  async backup(dest: string): Promise<BackupReport> {
    this.assertOpen();
    checkPath(dest, 'dest');
    if (this.snapshots !== null && this.lastOffset >= 0) await this.snapshots.snapshot();
    try {
      return await backupStore(this.config.dir, dest, (copy) => this.readers.verifyBackup(copy), undefined, this.storage);
    } catch (error) {
      throw storeCallError(error, `backup to ${dest}`);
    }
  }

  /** What open recovered (events replayed, torn tail cut, CRC32C path, duration). */
  get recovery(): RecoveryReport {
    return this.link.recovery;
  }

  /**
   * With an etcd log: what the open did to catch up when this node's log ended before the oldest batch
   * etcd still holds (a snapshot copied in from `log.bootstrapFrom`, the old WAL kept aside); null when
   * nothing was needed, and on a local log.
   */
  get bootstrap(): BootstrapReport | null {
    return this.bootstrapReport;
  }

  /** Why the store is read-only (a failed fdatasync, a broken invariant), or null while it accepts writes. */
  get readOnlyError(): MetaLogError | null {
    return this.link.readOnlyError;
  }

  /**
   * Offset of the last event the shared index shows (-1 for an empty store): every acknowledged write is
   * at or below it. In fsync mode it is also durable.
   */
  get lastOffset(): number {
    return this.reader.appliedOffset;
  }

  /**
   * Resolves once this handle's state holds `offset` (`lastOffset >= offset`): read-your-writes across the
   * nodes of a replicated log (note the controller's `lastOffset` after a write; wait for it on another
   * node). Rejects with INVALID_REQUEST for an offset that is not an integer from -1 to 2^53-1, and
   * STORE_CLOSED if the store closes first.
   */
  async waitForOffset(offset: number): Promise<void> {
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < -1) {
      throw new MetaLogError('INVALID_REQUEST', `waitForOffset: offset must be an integer from -1 to 2^53-1, got ${String(offset)}`, { field: 'offset' });
    }
    // Bounded by the log: each round ends when the offset is applied, the store closes, or the watch
    // fell behind (WATCH_LAGGING: a node far behind), after which the next round starts from now.
    for (;;) {
      if (this.lastOffset >= offset) return;
      // Watching from the next batch this handle sees: a batch that lands between the check above and
      // the watch is seen by the check below.
      const watcher = this.watch();
      try {
        if (this.lastOffset >= offset) return;
        for await (const event of watcher) if (event.offset >= offset) return;
        throw new MetaLogError('STORE_CLOSED', 'the store closed before it applied the offset waited for', { offset });
      } catch (error) {
        if (!(error instanceof MetaLogError && error.code === 'WATCH_LAGGING')) throw error;
      } finally {
        await watcher.return?.();
      }
    }
  }

  /** Offset of the last event known to be fdatasync-ed (lags lastOffset in interval and none modes). */
  get durableOffset(): number {
    return this.link.durableOffset;
  }

  /** The newest snapshot (taken, or found at open) and the last snapshot failure; null on an attached handle. */
  /**
   * Resolves with the next snapshot that completes from now on (automatic or asked for); rejects with
   * STORE_CLOSED if the store closes first, INVALID_REQUEST on an attached handle. For tests. @internal
   */
  snapshotTaken(): Promise<SnapshotResult> {
    if (this.snapshots === null) return Promise.reject(new MetaLogError('INVALID_REQUEST', 'snapshots belong to the handle that opened the store', {}));
    return this.snapshots.nextTaken();
  }

  get snapshotStatus(): Readonly<SnapshotStatus> | null {
    return this.snapshots?.status ?? null;
  }

  /** Entry counts and bytes of the shared index's tables. */
  indexStats(): ReturnType<StoreIndexReader['stats']> {
    return this.reader.stats();
  }

  /**
   * The served state in canonical form (see `canonicalState`), read from the shared index: what tests
   * compare with a fold of the WAL. @internal
   */
  canonicalState(): string {
    return canonicalIndexState(this.reader);
  }

  /**
   * An async iterator over committed events from now on, or from `from`: an older offset replays the
   * history from there first (read from the WAL on the reader pool, a page at a time as the iterator is
   * consumed), then goes on live. Where that history was compacted, the first item is a `Snapshot`
   * marker with the whole state at the oldest snapshot kept, then the events after it. Ends when the
   * store closes; `return()` (or leaving a `for await` loop) unsubscribes.
   *
   * Never throws: a call that cannot watch returns an iterator whose `next()` rejects with the reason,
   * OFFSET_OUT_OF_RANGE for a negative or fractional `from`, INVALID_REQUEST for options of the wrong
   * shape (an unknown field, `types` not an array of strings), STORE_CLOSED after `close()`.
   */
  watch(options?: WatchOptions): AsyncIterableIterator<WatchEvent> {
    let checked: ReturnType<typeof checkWatchOptions>;
    try {
      this.assertOpen();
      checked = checkWatchOptions(options);
      this.link.ensureCursor();
    } catch (error) {
      return Watcher.failed(storeCallError(error, 'watch'));
    }
    // From the next batch this handle will see: a watcher gets every event after that, none twice.
    const next = this.link.seenOffset + 1;
    const from = checked.from ?? next;
    const types = checked.types === undefined ? null : new Set(checked.types);
    const pager = from < next
      ? catchUpPager({ dir: this.config.dir, storage: this.storage, history: (filter) => this.history(filter), stateAt: (point) => this.stateAt(point) }, next - 1, checked.types)
      : null;
    const watcher = new Watcher(from, types, (w) => this.watchers.delete(w), pager);
    this.watchers.add(watcher);
    return watcher;
  }

  /**
   * Committed events read back from the WAL, oldest first, filtered by `types`, an offset range
   * (`fromOffset`, `toOffset`), a time range (`fromTime`, `toTime`, ms since the epoch) and the
   * `entity` they changed ({ topic } | { group } | { broker } | { transactionalId }); at most `limit`
   * (default 10,000: continue from the last offset + 1). Runs on the reader pool. INVALID_REQUEST for a
   * bad filter; CORRUPT_WAL if the log is damaged before its newest append.
   */
  history(filter?: HistoryFilter): Promise<LogEvent[]> {
    let checked: HistoryFilter;
    try {
      this.assertOpen();
      checked = checkHistoryFilter(filter);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.readers.history(this.config.dir, checked);
  }

  /**
   * The whole state as of `{ offset }` (inclusive) or `{ time }` (ms since the epoch: everything committed
   * by then), folded from the WAL on the reader pool. By full replay from the first segment (no
   * snapshots yet): about a second per million events. OFFSET_OUT_OF_RANGE past the log's end.
   */
  stateAt(point: StatePoint): Promise<StateAt> {
    let checked: StatePoint;
    try {
      this.assertOpen();
      checked = checkStatePoint(point);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.readers.stateAt(this.config.dir, checked);
  }

  /**
   * What changed between the state at offset `from` and at offset `to` (see `StateDiff`): entities
   * added, removed and changed, with their values before and after. Runs on the reader pool.
   */
  diff(from: number, to: number): Promise<StateDiff> {
    try {
      this.assertOpen();
      checkDiffOffsets(from, to);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.readers.diff(this.config.dir, from, to);
  }

  /**
   * The store's metrics in the Prometheus text format (`metalog_*`, see README "Metrics"), read when
   * called. Rejects with STORE_CLOSED after `close()`.
   */
  async metrics(): Promise<string> {
    this.assertOpen();
    return (await this.metricsRegistry()).metrics();
  }

  /**
   * This handle's prom-client `Registry` of the store's metrics (its own, not prom-client's global one,
   * so two stores never clash). Every value is read at scrape time from shared memory, so any handle of
   * a store shows the same numbers. A broker can serve it, or merge it with its own
   * (`Registry.merge([brokerRegistry, await log.metricsRegistry()])`). prom-client is loaded at the first
   * call.
   */
  metricsRegistry(): Promise<Registry> {
    this.registry ??= import('../metrics/store-metrics.js').then(({ createStoreRegistry }) => createStoreRegistry(this.metricsSource()));
    return this.registry;
  }

  private metricsSource(): StoreMetricsSource {
    return {
      handle: this.handle,
      storage: this.storage,
      indexStats: () => this.reader.stats(),
      lastOffset: () => this.lastOffset,
      durableOffset: () => this.durableOffset,
      readOnly: () => this.readOnlyError !== null,
      snapshots: () => this.snapshotStatus,
      nowMs: () => this.clock.nowMs(),
    };
  }

  /** How the link hands batches to this handle: to its watchers; and ends them when the writer is gone. */
  private readonly sink: BatchSink = {
    decode: (batch) => this.decode(batch),
    batch: (_batch, events) => {
      this.slowFsyncWarning?.check();
      if (this.watchers.size === 0) return;
      for (const event of events()) for (const watcher of this.watchers) watcher.push(event);
    },
    closed: () => {
      this.slowFsyncWarning?.check();
      for (const watcher of [...this.watchers]) watcher.finish();
    },
  };

  private codecFor(schemaJson: string | null): EventCodec {
    if (schemaJson === null) return EventCodec.current();
    let codec = this.codecsBySchema.get(schemaJson);
    if (codec === undefined) {
      codec = EventCodec.forWriterSchema(schemaJson);
      this.codecsBySchema.set(schemaJson, codec);
    }
    return codec;
  }

  /** A batch's events, in order (decoded only when a watcher or a call needs them). */
  private decode(batch: DecodedBatch): LogEvent[] {
    const codec = this.codecFor(batch.schemaJson);
    const frames = batch.frames;
    const events: LogEvent[] = [];
    let position = 0;
    for (let i = 0; i < batch.recordCount; i++) {
      const view = frameAt(frames, position);
      const body = codec.decode(view.eventType, frames, view.payloadStart, view.end);
      events.push({ type: body.type, value: body.value, offset: view.offset, timestampMs: view.timestampMs } as LogEvent);
      position = view.end;
    }
    return events;
  }

  private assertOpen(): void {
    if (this.link.closed) throw new MetaLogError('STORE_CLOSED', 'the store is closed', {});
  }

  /** Checks a call on this thread (a bad one rejects at once), then queues it for the writer. */
  private command<T>(check: () => Command, onOk: OnOk<T>): Promise<T> {
    let command: Command;
    try {
      command = check();
    } catch (error) {
      // Refused before it reached the writer, so the writer does not count it: count it here.
      if (error instanceof MetaLogError) this.counters.countCommandError(error.code);
      return Promise.reject(error);
    }
    return this.link.submit(command, onOk);
  }

  // Cluster identity.

  /**
   * The cluster's id, kept in the store (one ClusterCreated event), or null before `initCluster`.
   * Synchronous; the same on every handle of the store.
   */
  get clusterId(): string | null {
    this.assertOpen();
    return this.reader.clusterId;
  }

  /**
   * The cluster's id: the one the store has (nothing is written), or else `clusterId` if given (1 to 64
   * characters of [A-Za-z0-9_-]; INVALID_REQUEST otherwise), or else a fresh one in Kafka's form (a
   * random UUID as 22 characters of unpadded base64url), written as one ClusterCreated event. Calls at
   * the same time, from any handles, all resolve to the one id that was written.
   */
  initCluster(clusterId?: string): Promise<string> {
    let command: Command;
    try {
      command = checkInitClusterInput(clusterId);
      this.assertOpen();
    } catch (error) {
      if (error instanceof MetaLogError) this.counters.countCommandError(error.code);
      return Promise.reject(error);
    }
    const existing = this.reader.clusterId;
    if (existing !== null) return Promise.resolve(existing);
    return this.link.submit(command, () => this.reader.clusterId as string);
  }

  // Brokers.

  /**
   * Registers a broker (ONLINE), or re-registers it with a higher `brokerEpoch` (else
   * STALE_BROKER_EPOCH, 77). Resolves to the broker.
   */
  registerBroker(input: RegisterBrokerInput): Promise<Broker> {
    return this.command(() => checkRegisterBrokerInput(input), () => this.reader.getBroker(input.brokerId) as Broker);
  }

  /** Marks a broker ONLINE, FENCED or MAINTENANCE (BROKER_ID_NOT_REGISTERED, 102, if unknown). */
  setBrokerStatus(brokerId: number, status: BrokerStatus): Promise<Broker> {
    return this.command(() => checkSetBrokerStatusInput(brokerId, status), () => this.reader.getBroker(brokerId) as Broker);
  }

  /** Removes a broker's registration (BROKER_ID_NOT_REGISTERED, 102, if unknown). */
  unregisterBroker(brokerId: number): Promise<void> {
    return this.command(() => checkUnregisterBrokerInput(brokerId), () => undefined);
  }

  /** A registered broker, or undefined. Synchronous. */
  getBroker(brokerId: number): Broker | undefined {
    this.assertOpen();
    return this.reader.getBroker(brokerId);
  }

  /** Every registered broker, in id order. Synchronous. */
  listBrokers(): Broker[] {
    this.assertOpen();
    return this.reader.listBrokers();
  }

  // Topics.

  /**
   * Creates a topic with all its partitions in one event. Resolves to the topic (with its `topicId`, a
   * UUID kept across restarts). Rejects with INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS,
   * INVALID_REPLICATION_FACTOR, INVALID_CONFIG, TOPIC_ALREADY_EXISTS or KAFKA_STORAGE_ERROR.
   */
  createTopic(input: CreateTopicInput): Promise<Topic> {
    return this.command(() => checkCreateTopicInput(input), () => this.reader.getTopic(input.name) as Topic);
  }

  /**
   * Sets and removes topic configs (keys and values validated; INVALID_CONFIG names the key). Resolves to
   * the topic. UNKNOWN_TOPIC_OR_PARTITION for a missing topic.
   */
  alterTopicConfigs(name: string, changes: TopicConfigChanges): Promise<Topic> {
    return this.command(() => checkAlterTopicConfigsInput(name, changes), () => this.reader.getTopic(name) as Topic);
  }

  /**
   * Grows a topic to `totalCount` partitions (never fewer: INVALID_PARTITIONS), with replicas assigned
   * like createTopic or given in `assignments` (one list per new partition). Resolves to the topic.
   */
  createPartitions(name: string, totalCount: number, assignments?: number[][]): Promise<Topic> {
    return this.command(() => checkCreatePartitionsInput(name, totalCount, assignments), () => this.reader.getTopic(name) as Topic);
  }

  /** Deletes a topic with its partitions and every committed offset for it, as one event. */
  deleteTopic(name: string): Promise<void> {
    return this.command(() => checkDeleteTopicInput(name), () => undefined);
  }

  /** The topic named `name`, or undefined. Synchronous. */
  getTopic(name: string): Topic | undefined {
    this.assertOpen();
    return this.reader.getTopic(name);
  }

  /** Every topic, in name order. Synchronous. */
  listTopics(): Topic[] {
    this.assertOpen();
    return this.reader.listTopics();
  }

  // Partitions.

  /**
   * Changes a partition's leader, ISR and (for a reassignment) replicas, if its partition epoch is still
   * `expectedPartitionEpoch` (else INVALID_UPDATE_VERSION, 95). A new leader bumps the leader epoch;
   * every change bumps the partition epoch. Resolves to the new partition state.
   */
  changePartition(name: string, partition: number, change: ChangePartitionInput): Promise<Readonly<PartitionState>> {
    return this.command(
      () => checkChangePartitionInput(name, partition, change),
      () => this.reader.getPartition(name, partition) as Readonly<PartitionState>,
    );
  }

  /** One partition of a topic, or undefined. Synchronous. */
  getPartition(name: string, partition: number): Readonly<PartitionState> | undefined {
    this.assertOpen();
    return this.reader.getPartition(name, partition);
  }

  // Consumer groups.

  /**
   * Stores a consumer group whole: state, protocol, generation (never backwards: ILLEGAL_GENERATION),
   * leader and members with their subscription and assignment bytes. Resolves once the group is
   * durable, to nothing: the store adds nothing to what the caller sent, and reading a whole group back
   * (every member's strings and bytes) cost a quarter of the call; `getGroup` reads it. A member's
   * session timeout must be within `groupMinSessionTimeoutMs..groupMaxSessionTimeoutMs`
   * (INVALID_SESSION_TIMEOUT); two members may not share a group instance id (INVALID_REQUEST).
   */
  upsertGroup(group: GroupInput): Promise<void> {
    const { groupMinSessionTimeoutMs, groupMaxSessionTimeoutMs } = this.config;
    return this.command(() => checkSessionTimeouts(checkUpsertGroupInput(group), groupMinSessionTimeoutMs, groupMaxSessionTimeoutMs), () => undefined);
  }

  /**
   * Deletes a group and all its offsets as one event (NON_EMPTY_GROUP while it has members;
   * GROUP_ID_NOT_FOUND, writing nothing, for a group neither stored nor holding committed offsets).
   */
  deleteGroup(groupId: string): Promise<void> {
    return this.command(() => checkDeleteGroupInput(groupId), () => undefined);
  }

  /** A consumer group (a group that only has committed offsets reads as Empty, generation 0), or undefined. Synchronous. */
  getGroup(groupId: string): Group | undefined {
    this.assertOpen();
    return this.reader.getGroup(groupId);
  }

  /** Every stored group and every group that only has committed offsets, in id order. Synchronous. */
  listGroups(): Group[] {
    this.assertOpen();
    return this.reader.listGroups();
  }

  // Committed offsets.

  /**
   * Commits offsets for a group; all entries are one atomic event. Offsets may be negative (-1, -2: an
   * admin tool's reset), down to -2^52. Without `membership`, or with `{ generation: -1, memberId: '' }`,
   * the group must have no members; with it, the member is checked first (UNKNOWN_MEMBER_ID), then the
   * generation (ILLEGAL_GENERATION). Rejects with INVALID_GROUP_ID, UNKNOWN_TOPIC_OR_PARTITION,
   * OFFSET_METADATA_TOO_LARGE, ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, INVALID_REQUEST or KAFKA_STORAGE_ERROR.
   */
  commitOffsets(groupId: string, entries: OffsetCommitInput[], membership?: CommitMembership): Promise<void> {
    return this.command(() => checkCommitOffsetsInput(groupId, entries, membership), () => undefined);
  }

  /**
   * Kafka's OffsetCommit answered per partition: the entries that can be committed are, as one atomic
   * event, and each other one gets its own error (UNKNOWN_TOPIC_OR_PARTITION, OFFSET_METADATA_TOO_LARGE),
   * in the order given; when every entry is refused nothing is written. What concerns the whole request
   * rejects the promise as for commitOffsets: a bad group id, the membership check (ILLEGAL_GENERATION,
   * UNKNOWN_MEMBER_ID), malformed input (INVALID_REQUEST), STORE_CLOSED, STORE_READ_ONLY.
   */
  commitOffsetsEach(groupId: string, entries: OffsetCommitInput[], membership?: CommitMembership): Promise<PartitionResult[]> {
    return this.perEntryCommand(() => checkCommitOffsetsEachInput(groupId, entries, membership), groupId);
  }

  /** Sets offsets of a group without members (an operator's reset; NON_EMPTY_GROUP otherwise). */
  resetOffsets(groupId: string, entries: OffsetCommitInput[]): Promise<void> {
    return this.command(() => checkResetOffsetsInput(groupId, entries), () => undefined);
  }

  /**
   * Deletes committed offsets (Kafka's OffsetDelete): GROUP_SUBSCRIBED_TO_TOPIC while a member of a live
   * group subscribes to the topic; UNKNOWN_TOPIC_OR_PARTITION for a partition that does not exist.
   */
  deleteOffsets(groupId: string, partitions: { topic: string; partition: number }[]): Promise<void> {
    return this.command(() => checkDeleteOffsetsInput(groupId, partitions), () => undefined);
  }

  /**
   * Kafka's OffsetDelete answered per partition: the offsets that can be deleted are, as one event, and
   * each other partition gets its own error (UNKNOWN_TOPIC_OR_PARTITION; GROUP_SUBSCRIBED_TO_TOPIC while
   * a member of a live group subscribes to its topic), in the order given; when every partition is
   * refused nothing is written. A bad group id, malformed input, STORE_CLOSED or STORE_READ_ONLY reject.
   */
  deleteOffsetsEach(groupId: string, partitions: { topic: string; partition: number }[]): Promise<PartitionResult[]> {
    return this.perEntryCommand(() => checkDeleteOffsetsEachInput(groupId, partitions), groupId);
  }

  /** Runs a per-entry command: the writer's refusals and this thread's become one result per entry. */
  private perEntryCommand(check: () => CheckedPerEntry<Command>, groupId: string): Promise<PartitionResult[]> {
    let checked: CheckedPerEntry<Command> | undefined;
    return this.command(
      () => {
        checked = check();
        return checked.command;
      },
      (_event, refused) => perEntryResults(checked as CheckedPerEntry<Command>, refused, groupId),
    );
  }

  /**
   * Offset retention now (it also runs every `offsetsRetentionCheckIntervalMs` on the opening handle):
   * the offsets of `groupId` last committed more than `retentionMs` (default `offsetsRetentionMs`) ago
   * expire, by one OffsetsExpired event. NON_EMPTY_GROUP while the group has members. Resolves with the
   * partitions whose offsets expired.
   */
  async expireOffsets(groupId: string, retentionMs: number = this.config.offsetsRetentionMs): Promise<{ topic: string; partition: number }[]> {
    if (!Number.isSafeInteger(retentionMs) || retentionMs < 0) throw new MetaLogError('INVALID_REQUEST', 'retentionMs must be an integer >= 0', { field: 'retentionMs' });
    return this.expireOffsetsBefore(groupId, this.clock.nowMs() - retentionMs);
  }

  private async expireOffsetsBefore(groupId: string, expireBeforeMs: number): Promise<{ topic: string; partition: number }[]> {
    const before = this.fetchOffsets(groupId);
    await this.command(() => checkExpireOffsetsInput(groupId, expireBeforeMs), () => undefined);
    const kept = new Set(this.fetchOffsets(groupId).map((offset) => `${offset.topic}\u0000${offset.partition}`));
    return before.filter((offset) => !kept.has(`${offset.topic}\u0000${offset.partition}`)).map(({ topic, partition }) => ({ topic, partition }));
  }

  /** The committed offset of (group, topic, partition), or undefined. Synchronous. */
  fetchOffset(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    this.assertOpen();
    return this.reader.fetchOffset(groupId, topic, partition);
  }

  /** Every committed offset of a group, in topic then partition order. Synchronous. */
  fetchOffsets(groupId: string): (CommittedOffset & { topic: string; partition: number })[] {
    this.assertOpen();
    return this.reader.fetchOffsets(groupId);
  }

  // Partition logs: watermarks and segments.

  /**
   * Moves a partition's high watermark and/or log start offset forward (WATERMARK_REGRESSION if either
   * would move back, or the log start would pass the high watermark). Resolves to the new watermarks.
   */
  updateWatermarks(topic: string, partition: number, change: Partial<Watermarks>): Promise<Readonly<Watermarks>> {
    return this.command(() => checkWatermarksInput(topic, partition, change, false), () => this.getWatermarks(topic, partition) as Watermarks);
  }

  /** Sets both watermarks to any values (the explicit reset, the only way back). */
  resetWatermarks(topic: string, partition: number, watermarks: Watermarks): Promise<Readonly<Watermarks>> {
    return this.command(() => checkWatermarksInput(topic, partition, watermarks, true), () => this.getWatermarks(topic, partition) as Watermarks);
  }

  /** Records a log segment of a partition (its id once per partition). */
  addSegment(topic: string, partition: number, segment: SegmentInfo): Promise<void> {
    return this.command(() => checkAddSegmentInput(topic, partition, segment), () => undefined);
  }

  /** Forgets a log segment of a partition. */
  removeSegment(topic: string, partition: number, segmentId: number): Promise<void> {
    return this.command(() => checkRemoveSegmentInput(topic, partition, segmentId), () => undefined);
  }

  /** A partition's watermarks, or undefined before the first update. Synchronous. */
  getWatermarks(topic: string, partition: number): Readonly<Watermarks> | undefined {
    this.assertOpen();
    return this.reader.getWatermarks(topic, partition);
  }

  /** The segments of a partition, in base offset order. Synchronous. */
  listSegments(topic: string, partition: number): Readonly<SegmentInfo>[] {
    this.assertOpen();
    return this.reader.listSegments(topic, partition);
  }

  // Producer ids and transactions.

  /** Hands out a block of `count` producer ids that no one ever got before (also across restarts). */
  allocateProducerIds(count: number): Promise<{ firstProducerId: number; count: number }> {
    return this.command(() => checkAllocateProducerIdsInput(count), (event) => {
      const value = (event() as Extract<LogEvent, { type: 'ProducerIdsAllocated' }>).value;
      return { firstProducerId: value.firstProducerId, count: value.count };
    });
  }

  /**
   * Kafka's InitProducerId for a transactional id: a new producer id with epoch 0, or the same id with
   * the next epoch (fencing the previous incarnation). Resolves to the producer's identity.
   */
  initProducerId(transactionalId: string, timeoutMs: number): Promise<ProducerIdentity> {
    return this.command(() => checkInitProducerIdInput(transactionalId, timeoutMs), (event) => {
      const value = (event() as Extract<LogEvent, { type: 'TransactionChanged' }>).value;
      return { producerId: value.producerId, producerEpoch: value.producerEpoch };
    });
  }

  /** Adds partitions to the producer's transaction (it becomes Ongoing). */
  addPartitionsToTxn(transactionalId: string, producer: ProducerIdentity, partitions: { topic: string; partition: number }[]): Promise<void> {
    return this.command(() => checkAddToTxnInput(transactionalId, producer, partitions, []), () => undefined);
  }

  /** Adds a consumer group's offsets to the producer's transaction (it becomes Ongoing). */
  addOffsetsToTxn(transactionalId: string, producer: ProducerIdentity, groupId: string): Promise<void> {
    return this.command(() => checkAddToTxnInput(transactionalId, producer, [], [groupId]), () => undefined);
  }

  /** Ends the producer's Ongoing transaction: PrepareCommit (commit true) or PrepareAbort. */
  endTxn(transactionalId: string, producer: ProducerIdentity, commit: boolean): Promise<void> {
    return this.command(() => checkEndTxnInput(transactionalId, producer, commit), () => undefined);
  }

  /** Marks a prepared transaction complete, once the broker has written its markers. */
  completeTxn(transactionalId: string): Promise<void> {
    return this.command(() => checkCompleteTxnInput(transactionalId), () => undefined);
  }

  /** A transaction, or undefined. Synchronous. */
  getTransaction(transactionalId: string): Transaction | undefined {
    this.assertOpen();
    return this.reader.getTransaction(transactionalId);
  }
}
