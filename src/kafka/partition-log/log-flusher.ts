/**
 * Durability of the partition logs and group commit: the appends of many partitions made in one turn of
 * the event loop become durable together, through one round of fdatasyncs that run in parallel (one per
 * dirty segment file, on libuv's thread pool), instead of one fdatasync per Produce.
 *
 * Modes (the broker's `log.flush` choice, passed explicitly):
 * - 'fsync': {@link LogFlusher.afterAppend} resolves only once the appended offsets are durable. The first
 *   append of a turn schedules a flush for the end of the turn (setImmediate); every append of that turn
 *   joins it. A flush that starts while one is running waits for it and then covers all that came since.
 * - 'interval': afterAppend resolves at once; a timer flushes every `flushIntervalMs`.
 * - 'none': afterAppend resolves at once and moves the log's durableEndOffset without syncing: nothing is
 *   promised, the page cache is trusted (as Kafka's defaults do, leaning on replication this log lacks).
 *
 * Invariants: a waiter is resolved only when its log's durableEndOffset has reached its end offset, which
 * happens only after the fdatasync of every segment holding those offsets has returned; a waiter whose
 * log's fdatasync failed is rejected with that KAFKA_STORAGE_ERROR; at most {@link FLUSH_WAITER_COUNT_MAX}
 * waiters wait at once (more are refused with REQUEST_TIMED_OUT, which clients retry).
 */
import { KafkaError } from '../error-codes.js';
import { assert } from './assert.js';
import { FLUSH_WAITER_COUNT_MAX } from './limits.js';
import type { PartitionLog } from './partition-log.js';

/** When an append's bytes are made durable. */
export type FlushMode = 'fsync' | 'interval' | 'none';

/** How the flusher runs. */
export interface LogFlusherOptions {
  mode: FlushMode;
  /** Period of the timer in mode 'interval'. */
  flushIntervalMs?: number;
  /** Runs a flush at the end of the current turn; setImmediate unless a test passes its own. */
  scheduleFlush?: (run: () => void) => void;
  /** Called after a log's durableEndOffset moved (the broker reports high watermarks from here). */
  onDurable?: (log: PartitionLog) => void;
}

interface Waiter {
  log: PartitionLog;
  endOffset: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Group commit for every partition of a broker; see the module header. */
export class LogFlusher {
  readonly mode: FlushMode;
  private readonly flushIntervalMs: number;
  private readonly scheduleFlush: (run: () => void) => void;
  private readonly onDurable: (log: PartitionLog) => void;
  private readonly dirty = new Set<PartitionLog>();
  private waiters: Waiter[] = [];
  private scheduled = false;
  private running: Promise<void> | null = null;
  private following: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Rounds of fdatasyncs run so far (each covers every dirty log at its start). */
  flushCount = 0;

  constructor(options: LogFlusherOptions) {
    this.mode = options.mode;
    this.flushIntervalMs = options.flushIntervalMs ?? 1000;
    assert(Number.isSafeInteger(this.flushIntervalMs) && this.flushIntervalMs > 0, 'a flush interval is a positive integer of milliseconds');
    this.scheduleFlush = options.scheduleFlush ?? ((run) => setImmediate(run));
    this.onDurable = options.onDurable ?? (() => undefined);
  }

  /** Starts the timer of mode 'interval' (other modes need none). */
  start(): void {
    if (this.mode !== 'interval' || this.timer !== null) return;
    this.timer = setInterval(() => {
      this.flush().catch(() => undefined); // a failed sync shuts its log; its next call reports it
    }, this.flushIntervalMs);
    this.timer.unref();
  }

  /**
   * Call after each successful append of `log` that ended at `endOffset` (its lastOffset + 1). Resolves when
   * the Produce may be answered: in mode 'fsync' once those offsets are durable, otherwise at once.
   */
  afterAppend(log: PartitionLog, endOffset: number): Promise<void> {
    if (this.mode === 'none') {
      return log.flush({ sync: false }).then(() => this.onDurable(log));
    }
    this.dirty.add(log);
    if (this.mode === 'interval' || endOffset <= log.durableEndOffset) return Promise.resolve();
    if (this.waiters.length >= FLUSH_WAITER_COUNT_MAX) {
      return Promise.reject(new KafkaError('REQUEST_TIMED_OUT', `${FLUSH_WAITER_COUNT_MAX} produces already wait for a flush`));
    }
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ log, endOffset, resolve, reject }));
    if (!this.scheduled) {
      this.scheduled = true;
      this.scheduleFlush(() => {
        this.scheduled = false;
        this.flush().catch(() => undefined); // each waiter hears its own log's failure
      });
    }
    return done;
  }

  /**
   * Makes every dirty log durable: one fdatasync per dirty segment file, all in parallel; then settles the
   * waiters. When a flush is running, resolves after a further one that starts when it ends.
   */
  flush(): Promise<void> {
    if (this.running === null) return this.startFlush();
    if (this.following === null) {
      this.following = this.running.then(() => {
        this.following = null;
        return this.startFlush();
      });
    }
    return this.following;
  }

  private startFlush(): Promise<void> {
    assert(this.running === null, 'one flush runs at a time');
    const run = this.flushDirty().finally(() => {
      this.running = null;
    });
    this.running = run;
    return run;
  }

  private async flushDirty(): Promise<void> {
    const logs = [...this.dirty];
    this.dirty.clear();
    this.flushCount++;
    const outcomes = await Promise.allSettled(logs.map((log) => log.flush({ sync: true })));
    const failures = new Map<PartitionLog, unknown>();
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'rejected') failures.set(logs[i], outcome.reason);
      else this.onDurable(logs[i]);
    });
    this.settleWaiters(failures);
    if (failures.size > 0) {
      throw new KafkaError('KAFKA_STORAGE_ERROR', `fdatasync failed for ${failures.size} partition(s)`, { cause: [...failures.values()][0] });
    }
  }

  /** Resolves the waiters now durable, rejects those whose log failed, keeps the rest. */
  private settleWaiters(failures: ReadonlyMap<PartitionLog, unknown>): void {
    const waiting: Waiter[] = [];
    for (const waiter of this.waiters) {
      const failure = failures.get(waiter.log) ?? waiter.log.failed;
      if (failure !== null && failure !== undefined) waiter.reject(failure);
      else if (waiter.endOffset <= waiter.log.durableEndOffset) waiter.resolve();
      else waiting.push(waiter);
    }
    this.waiters = waiting;
  }

  /** Stops the timer and makes everything durable one last time. */
  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
