/**
 * When snapshots are taken, on the opening thread: every `snapshotEveryEvents` durable events, every
 * `snapshotIntervalMs` when there were events, every `snapshotEveryBytes` of WAL, once the events since
 * the last one would take more than `snapshotRecoveryBudgetMs` to replay, or when asked (`log.snapshot()`). Runs the snapshot
 * thread, one snapshot at a time, and after each one asks the writer to delete the WAL segments the
 * snapshotter found unnecessary (compaction).
 *
 * The snapshot thread lives only while it works: it is started for a snapshot and ended once no other
 * one waits. Its fold is a whole private copy of the state (tens of MB for 20,000 topics, about as much
 * again as its heap keeps from the system), which an idle broker would otherwise carry between
 * snapshots, minutes apart by default. The next thread starts from the newest snapshot file and folds
 * only the WAL after it, so a snapshot folds the same events either way; it also restores that file.
 *
 * Snapshots only cover durable events: in `interval` and `none` mode the WAL may still lose its newest
 * events in a crash, and a snapshot must never hold an event the WAL could lose.
 */
import { Worker } from 'node:worker_threads';
import type { Clock } from '../clock.js';
import type { MetaLogConfig } from '../config.js';
import { fromSerialized, MetaLogError, type SerializedError } from '../errors.js';
import type { RecoveryReport } from '../recovery-report.js';
import type { SnapshotResult, SnapshotThreadData } from './snapshotter.js';

const SNAPSHOTTER_URL = new URL('../../workers/snapshotter.js', import.meta.url);
/** Replay rate assumed until one is measured at open: about what this machine replays (BENCHMARKS.md). */
const DEFAULT_REPLAY_EVENTS_PER_MS = 1000;
/** After a failed snapshot (a full disk, say), automatic ones wait this long before trying again. */
const FAILURE_BACKOFF_MS = 60_000;
/** How often the opening thread checks whether a snapshot is due (a few comparisons of numbers). */
const CHECK_INTERVAL_MS = 100;

/** What the scheduler needs of the store. */
export interface SnapshotHost {
  /** Offset of the last durable event (-1: none). */
  durableOffset(): number;
  /** Offset of the last acknowledged event (-1: none). */
  lastOffset(): number;
  /** Makes every acknowledged event durable (an fdatasync through the writer). */
  sync(): Promise<void>;
  /** Bytes the writer appended to the WAL since open. */
  bytesAppended(): number;
  /** Asks the writer to delete sealed segments holding only offsets up to `offset`. */
  compactThrough(offset: number): Promise<void>;
}

/** The last snapshot taken or found at open, and the last failure. */
export interface SnapshotStatus {
  lastOffset: number;
  file: string | null;
  takenMs: number | null;
  lastResult: SnapshotResult | null;
  lastError: MetaLogError | null;
  /** Snapshots written since open. */
  taken: number;
  /** Snapshots that failed since open. */
  failures: number;
}

export class SnapshotScheduler {
  private worker: Worker | null = null;
  /** Threads ended after their snapshot, until they have exited (close waits for them). */
  private readonly ending = new Set<Promise<number>>();
  private inFlight: Promise<SnapshotResult> | null = null;
  private readonly waiting = new Map<number, { resolve: (result: SnapshotResult) => void; reject: (error: Error) => void }>();
  private nextId = 1;
  /** Waiting for the next snapshot to complete (see `nextTaken`). */
  private readonly takenWaiters: { resolve: (result: SnapshotResult) => void; reject: (error: Error) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly statusValue: SnapshotStatus;
  /** Since when time counts for `snapshotIntervalMs` when no snapshot was taken or found at open. */
  private readonly openedMs: number;
  /** No automatic snapshot before this time (set after a failure). */
  private pausedUntilMs = 0;
  /** The WAL's appended bytes when the last snapshot was asked for. */
  private bytesAtLastSnapshot = 0;
  /** Events replayed per ms at open (what the recovery budget is counted in). */
  private readonly replayEventsPerMs: number;

  constructor(
    private readonly config: MetaLogConfig,
    private readonly host: SnapshotHost,
    recovery: RecoveryReport,
    private readonly clock: Clock,
    /** Fault switches for the snapshot thread's storage (tests; see FaultyStorage). */
    private readonly faults?: SharedArrayBuffer,
  ) {
    this.openedMs = clock.nowMs();
    this.statusValue = {
      lastOffset: recovery.snapshot?.lastOffset ?? -1,
      file: recovery.snapshot?.file ?? null,
      takenMs: recovery.snapshot?.createdMs ?? null,
      lastResult: null,
      lastError: null,
      taken: 0,
      failures: 0,
    };
    const replayMs = recovery.durationMs - (recovery.snapshot?.restoreMs ?? 0);
    // Measured only on a replay long enough to mean something; 1M events/s is this machine's order.
    this.replayEventsPerMs = recovery.replayedEvents >= 10_000 && replayMs > 0 ? recovery.replayedEvents / replayMs : DEFAULT_REPLAY_EVENTS_PER_MS;
    if (config.snapshotEveryEvents > 0 || config.snapshotIntervalMs > 0 || config.snapshotEveryBytes > 0 || config.snapshotRecoveryBudgetMs > 0) {
      this.timer = setInterval(() => this.check(), CHECK_INTERVAL_MS);
      this.timer.unref();
    }
  }

  get status(): Readonly<SnapshotStatus> {
    return this.statusValue;
  }

  /**
   * Takes a snapshot of every acknowledged event now (made durable first; after a snapshot in
   * progress), compacts the WAL behind it per retention, and resolves with what it did. With nothing
   * new since the last snapshot it resolves with that one's result (or rejects with INVALID_REQUEST on
   * an empty log).
   */
  async snapshot(): Promise<SnapshotResult> {
    if (this.inFlight !== null) await this.inFlight.catch(() => undefined);
    if (this.host.durableOffset() < this.host.lastOffset()) await this.host.sync();
    const through = this.host.durableOffset();
    if (through < 0) throw new MetaLogError('INVALID_REQUEST', 'the log is empty: there is nothing to snapshot', {});
    if (through === this.statusValue.lastOffset && this.statusValue.lastResult !== null) return this.statusValue.lastResult;
    return this.take(through);
  }

  /**
   * Resolves with the next snapshot that completes from now on, automatic or asked for; rejects with
   * STORE_CLOSED if the store closes first. For tests: a signal to wait on instead of polling the status.
   * @internal
   */
  nextTaken(): Promise<SnapshotResult> {
    if (this.closed) return Promise.reject(new MetaLogError('STORE_CLOSED', 'the store is closed', {}));
    return new Promise((resolve, reject) => this.takenWaiters.push({ resolve, reject }));
  }

  /** Stops the timer and the snapshot thread (a snapshot being written is abandoned: its file was a .tmp). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    const worker = this.worker;
    this.worker = null;
    for (const { reject } of this.waiting.values()) reject(new MetaLogError('STORE_CLOSED', 'the store closed during the snapshot', {}));
    this.waiting.clear();
    for (const { reject } of this.takenWaiters.splice(0)) reject(new MetaLogError('STORE_CLOSED', 'the store closed before a snapshot', {}));
    if (worker !== null) await worker.terminate();
    await Promise.all(this.ending);
  }

  /** A test moved the store's clock: look at once whether a snapshot fell due by that clock. */
  clockMoved(): void {
    this.check();
  }

  private check(): void {
    if (this.closed || this.inFlight !== null || this.clock.nowMs() < this.pausedUntilMs) return;
    const through = this.host.durableOffset();
    const newEvents = through - this.statusValue.lastOffset;
    if (newEvents <= 0) return;
    const now = this.clock.nowMs();
    const sinceMs = now - (this.statusValue.takenMs ?? this.openedMs);
    const { snapshotEveryEvents, snapshotIntervalMs, snapshotEveryBytes, snapshotRecoveryBudgetMs } = this.config;
    const byCount = snapshotEveryEvents > 0 && newEvents >= snapshotEveryEvents;
    const byTime = snapshotIntervalMs > 0 && sinceMs >= snapshotIntervalMs;
    const byBytes = snapshotEveryBytes > 0 && this.host.bytesAppended() - this.bytesAtLastSnapshot >= snapshotEveryBytes;
    const byBudget = snapshotRecoveryBudgetMs > 0 && newEvents / this.replayEventsPerMs >= snapshotRecoveryBudgetMs;
    if (!byCount && !byTime && !byBytes && !byBudget) return;
    // A failure is kept in the status and retried after FAILURE_BACKOFF_MS; the store goes on without it.
    this.take(through).catch(() => undefined);
  }

  private take(through: number): Promise<SnapshotResult> {
    this.bytesAtLastSnapshot = this.host.bytesAppended();
    const run = this.run(through).finally(() => {
      if (this.inFlight === run) this.inFlight = null;
    });
    this.inFlight = run;
    return run;
  }

  private async run(through: number): Promise<SnapshotResult> {
    let result: SnapshotResult;
    try {
      result = await this.request(through);
      this.statusValue.lastOffset = result.lastOffset;
      this.statusValue.file = result.file;
      this.statusValue.takenMs = this.clock.nowMs();
      this.statusValue.lastResult = result;
      this.statusValue.lastError = null;
      this.statusValue.taken++;
      for (const { resolve } of this.takenWaiters.splice(0)) resolve(result);
      if (result.compactThrough !== null && !this.closed) await this.host.compactThrough(result.compactThrough);
    } catch (error) {
      const failure = MetaLogError.wrap(error, 'KAFKA_STORAGE_ERROR', 'snapshot failed');
      this.statusValue.lastError = failure;
      this.statusValue.failures++;
      this.pausedUntilMs = this.clock.nowMs() + FAILURE_BACKOFF_MS;
      throw failure;
    }
    return result;
  }

  private request(throughOffset: number): Promise<SnapshotResult> {
    if (this.closed) return Promise.reject(new MetaLogError('STORE_CLOSED', 'the store is closed', {}));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, throughOffset, nowMs: this.clock.nowMs() });
    });
  }

  private ensureWorker(): Worker {
    if (this.worker !== null) return this.worker;
    const options: SnapshotThreadData = {
      dir: this.config.dir,
      snapshotsRetained: this.config.snapshotsRetained,
      historyRetentionMs: this.config.historyRetentionMs,
      historyRetentionBytes: this.config.historyRetentionBytes,
      faults: this.faults,
    };
    const worker = new Worker(SNAPSHOTTER_URL, { workerData: options });
    // The snapshot thread never keeps the broker's process alive on its own.
    worker.unref();
    worker.on('message', (message: { id: number; result?: SnapshotResult; error?: SerializedError }) => {
      const waiter = this.waiting.get(message.id);
      if (waiter === undefined) return;
      this.waiting.delete(message.id);
      if (message.error !== undefined) waiter.reject(fromSerialized(message.error));
      else waiter.resolve(message.result as SnapshotResult);
      if (this.waiting.size === 0) this.endWorker(worker);
    });
    worker.on('error', (error) => {
      if (this.worker === worker) this.worker = null;
      for (const { reject } of this.waiting.values()) reject(new MetaLogError('INTERNAL_ERROR', `snapshot thread failed: ${error.message}`, {}, error));
      this.waiting.clear();
    });
    this.worker = worker;
    return worker;
  }

  /** Ends an idle snapshot thread, and with it its copy of the state (see the header). */
  private endWorker(worker: Worker): void {
    if (this.worker !== worker) return;
    this.worker = null;
    const ended = worker.terminate().finally(() => this.ending.delete(ended));
    this.ending.add(ended);
  }
}
