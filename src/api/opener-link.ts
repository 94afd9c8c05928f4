/**
 * The opener's link: it starts the writer thread on a store it has just locked, restores the newest
 * snapshot into the shared index while the thread starts, waits for the writer's READY, and owns the
 * thread until it stops: the close sequence, FATAL and CLOSED, and a thread that dies. Its cursor on
 * the event ring is opened before the thread starts and is never evicted (the writer exempts its slot),
 * so it sees every record the writer publishes, READY included.
 *
 * The states and their transitions are drawn in writer-link.ts, with what both roles share.
 */
import { Worker } from 'node:worker_threads';
import { CommandRing } from '../../native-free/command-ring.js';
import { EventRing, type EventCursor } from '../../native-free/event-ring.js';
import type { MetaLogConfig } from '../config.js';
import { MetaLogError } from '../errors.js';
import { COMMAND_RING_BYTES, eventRingBytesFor, HANDLES_MAX } from '../limits.js';
import { allocateStoreIndex, IndexControl, type StoreIndexBuffers } from '../store-index/store-index.js';
import { allocateStoreMetricsBuffers, type StoreMetricsBuffers } from '../metrics/metrics-buffers.js';
import { storageFor, type Storage } from '../wal/storage.js';
import type { RecoveryReport } from '../recovery-report.js';
import { openSnapshot } from '../writer/recover-writer.js';
import type { WriterWorkerData } from '../writer/writer-thread-data.js';
import { WriterLink, type BatchSink, type OpenInternals, type StoreHandle } from './writer-link.js';

const WRITER_URL = new URL('../../workers/writer.js', import.meta.url);

/**
 * The writer thread's young generation, MiB (V8's default grows to tens of MiB): what it allocates per
 * command dies young. Measured (BENCHMARKS.md, memory): 17-21 MiB less RSS for 20,000 topics, the
 * writer's heap held 66 -> 42-44 MiB, and no change in commit, topic or group throughput beyond the noise.
 */
const WRITER_YOUNG_GENERATION_MB = 8;
/** The opener's handle id in result tables; attached handles take theirs from the index's control words. */
const OPENER_HANDLE_ID = 0;

/** What the opener's link allocates for a store before its writer thread starts. */
interface StoreMemory {
  readonly commandRing: CommandRing;
  readonly eventRing: EventRing;
  readonly index: StoreIndexBuffers;
  readonly metrics: StoreMetricsBuffers;
}

/** The link of the handle that opened the store: it runs the writer thread. @internal */
export class OpenerLink extends WriterLink {
  readonly ready: Promise<void>;
  /** What the writer's recovery found: set by READY. */
  private recoveryReport: RecoveryReport | null = null;
  /** What another thread needs to attach: built at READY (it carries the recovery report). */
  private handleValue: StoreHandle | null = null;
  private readonly workerExited: Promise<void>;
  /** Settles `ready` (before the thread exits, which `ready` then waits for on failure). */
  private readonly started = settlement<void>();
  /** Resolves when the link enters `closed`. */
  private readonly stopped = settlement<void>();

  private constructor(
    sink: BatchSink,
    private readonly memory: StoreMemory,
    /** This link's cursor on the event ring, open from before the thread starts until close. */
    private readonly cursor: EventCursor,
    /** The writer thread. */
    private readonly worker: Worker,
    config: MetaLogConfig,
    /** The test's shared clock, handed on to attached handles (see ManualClock); undefined in production. */
    private readonly clockBuffer: SharedArrayBuffer | undefined,
  ) {
    super(sink, memory.commandRing, OPENER_HANDLE_ID, memory.index, memory.metrics, config, {
      state: 'starting',
      durableOffset: -1,
      seenOffset: -1,
    });
    this.workerExited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    this.ready = this.started.promise.catch(async (error: unknown) => {
      await this.workerExited;
      cursor.close();
      throw error;
    });
    this.watchWorker();
    void this.consume(cursor);
  }

  /**
   * Starts the writer thread on `config` and restores the newest snapshot into the shared index while
   * the thread starts. The link's `ready` resolves once the writer recovered the WAL, and rejects with
   * the writer's error (CORRUPT_WAL, UNSUPPORTED_FORMAT, ...) after the thread has exited.
   * @throws whatever keeps the thread from starting (nothing is left running then).
   */
  static start(config: MetaLogConfig, sink: BatchSink, internals: OpenInternals): OpenerLink {
    const memory: StoreMemory = {
      commandRing: CommandRing.create(COMMAND_RING_BYTES),
      eventRing: EventRing.create(eventRingBytesFor(config.maxBatchBytes), HANDLES_MAX),
      index: allocateStoreIndex(),
      metrics: allocateStoreMetricsBuffers(),
    };
    const cursor = memory.eventRing.openCursor();
    let worker: Worker;
    try {
      const workerData: WriterWorkerData = {
        config,
        commandRing: memory.commandRing.buffer,
        eventRing: memory.eventRing.buffer,
        index: memory.index,
        metrics: memory.metrics,
        faults: internals.faults,
        openerCursorSlot: cursor.slot,
        handleStallMs: internals.handleStallMs,
        writerSpinMicros: internals.writerSpinMicros,
        writerPipeline: internals.writerPipeline,
        clock: internals.clock?.buffer,
      };
      worker = new Worker(WRITER_URL, { workerData, resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB } });
    } catch (error) {
      cursor.close();
      throw error;
    }
    const link = new OpenerLink(sink, memory, cursor, worker, config, internals.clock?.buffer);
    link.restoreSnapshot(storageFor(internals.faults));
    return link;
  }

  /**
   * Restores the newest snapshot here while the writer thread starts (both take tens of milliseconds),
   * then tells the writer which one it got, or why there is none it can use.
   */
  private restoreSnapshot(storage: Storage): void {
    const dir = this.storeConfig.dir;
    try {
      this.worker.postMessage(openSnapshot(dir, this.index, storage));
    } catch (error) {
      const failure = MetaLogError.wrap(error, 'KAFKA_STORAGE_ERROR', `cannot read the snapshots of ${dir}`, { file: dir });
      this.worker.postMessage({ error: failure.toJSON() });
    }
  }

  get handle(): StoreHandle {
    if (this.handleValue === null) throw notReady('the store handle');
    return this.handleValue;
  }

  get recovery(): RecoveryReport {
    if (this.recoveryReport === null) throw notReady('the recovery report');
    return this.recoveryReport;
  }

  ensureCursor(): void {
    // Nothing to open: the opener's cursor is open from before the thread starts until close.
  }

  /**
   * Asks the writer to finish every command queued before this one, fdatasync and stop; resolves once
   * the thread has exited. Idempotent.
   */
  async close(): Promise<void> {
    if (this.state === 'starting' || this.state === 'open') {
      // Not `submit`: a read-only store closes too. The writer answers with CLOSED after every command
      // queued before this one, and CLOSED settles this call with the others still in flight; its own
      // rejection (STORE_CLOSED, or STORE_READ_ONLY if the writer died) says nothing `stopped` does not.
      void this.send('close', () => undefined).catch(() => undefined);
      this.state = 'closing';
    }
    await this.stopped.promise;
    await this.workerExited;
    this.cursor.close();
  }

  protected onReady(report: RecoveryReport): void {
    this.recoveryReport = report;
    this.durableOffsetValue = report.lastOffset;
    this.seenOffsetValue = report.lastOffset;
    const { commandRing, eventRing, index, metrics } = this.memory;
    this.handleValue = { config: this.storeConfig, commandRing: commandRing.buffer, eventRing: eventRing.buffer, index, recovery: report, metrics, clock: this.clockBuffer };
    // A close asked for while the writer recovered stays `closing`.
    if (this.state === 'starting') this.state = 'open';
    this.started.resolve();
  }

  /**
   * The writer exempts the opener's slot from eviction, so this means the rings are broken: the store
   * cannot follow its own acknowledgements, so it stops taking writes.
   */
  protected cursorEvicted(): void {
    this.fail(new MetaLogError('INTERNAL_ERROR', 'the writer evicted the opener\'s cursor, whose slot it never evicts', {}));
  }

  protected follows(): boolean {
    return true;
  }

  protected override fail(cause: MetaLogError): void {
    // A writer that dies before it reported READY fails the open itself (settling twice is harmless).
    if (this.recoveryReport === null) this.started.reject(cause);
    super.fail(cause);
  }

  protected override finishClosed(error: MetaLogError): void {
    if (this.state === 'closed') return;
    // Tell attached handles too (the writer does this itself unless it died).
    new IndexControl(this.index.control).markStoreClosed();
    super.finishClosed(error);
    this.stopped.resolve();
  }

  private watchWorker(): void {
    this.worker.on('error', (error) => {
      this.fail(new MetaLogError('INTERNAL_ERROR', `writer thread failed: ${error.message}`, {}, error));
    });
    this.worker.once('exit', (code) => {
      // The exit can be seen before the last records the writer published (its final acknowledgements and
      // CLOSED): consume them first, so no acknowledged write is reported as failed.
      this.drainEventRing();
      if (this.state !== 'closed') {
        this.fail(new MetaLogError('INTERNAL_ERROR', `writer thread exited (code ${code})`, {}));
        this.finishClosed(new MetaLogError('STORE_CLOSED', 'the store was closed before this call was acknowledged', {}));
      }
    });
  }

  /** Consumes everything already published on the event ring, synchronously. */
  private drainEventRing(): void {
    // Bounded: the writer has exited, so nothing more is published while this runs.
    while (this.state !== 'closed' && this.pollRecords(this.cursor) > 0) {
      /* consume */
    }
  }
}

/** A promise with its settling functions, for settling it from a record handler. */
interface Settlement<T> {
  readonly promise: Promise<T>;
  readonly resolve: (value: T) => void;
  readonly reject: (error: unknown) => void;
}

function settlement<T>(): Settlement<T> {
  let resolve: (value: T) => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  // The executor runs synchronously, so both are the promise's own before this returns.
  const promise = new Promise<T>((resolvePromise, rejectPromise) => {
    resolve = resolvePromise;
    reject = rejectPromise;
  });
  return { promise, resolve, reject };
}

function notReady(what: string): MetaLogError {
  return new MetaLogError('INTERNAL_ERROR', `${what} is asked for before the writer reported READY`, {});
}
