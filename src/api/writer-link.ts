/**
 * The link between a handle and the writer thread, in one of two roles: the opener's link
 * (opener-link.ts) starts the writer thread and owns it until it stops; an attached link
 * (attached-link.ts) joins the writer of a store opened elsewhere in the process. This module holds what
 * both share: it puts commands on the command ring (through a CommandSender), consumes the event ring,
 * and settles each call when the writer's acknowledgement arrives.
 *
 * It owns the thread plumbing only. The writer applies each batch to the shared index before it
 * publishes the acknowledgement, so a resolved write is already visible to reads on every thread
 * (read-your-writes); the link hands each batch to its `BatchSink` (the `MetaLog` handle, for its
 * watchers) before it settles the batch's calls.
 *
 * Lifecycle: one `LinkState` per link; `closed` is final. Calls are taken in `starting` and `open` and
 * refused with STORE_CLOSED from `closing` on.
 *
 *   role      from       event                                                      to
 *   opener    starting   READY record (what recovery found)                         open
 *   opener    starting   FATAL record, thread error: `ready` rejects                starting
 *   opener    starting   close(): the `close` command is queued                     closing
 *   opener    open       close(): the `close` command is queued                     closing
 *   opener    closing    READY record (the close was asked for during recovery)     closing
 *   opener    any        CLOSED record, or the thread exits (calls in flight fail)  closed
 *   attached  open       cursor evicted: calls in flight fail with HANDLE_EVICTED   open (no cursor)
 *   attached  open       close(): waits for its own calls in flight                 closing
 *   attached  closing    those calls settled: releases its cursor                   closed
 *   attached  any        CLOSED record (the store closed)                           closed
 *
 * An attached link starts `open`. Before its first write or watch, and again after an eviction, it holds
 * no cursor; it then learns that the store closed from the index's control words, so `closed` is also
 * true when they say so. Read-only is not a state: the store refuses writes from a FATAL record, a failed
 * thread or a failed fdatasync on, in whatever state it is, and still reads, watches and closes
 * (`readOnlyError` says why).
 *
 * Never blocks the caller's thread: it waits for the event ring with Atomics.waitAsync and for command
 * ring space with a queue and Atomics.waitAsync.
 */
import type { CommandRing } from '../../native-free/command-ring.js';
import { CursorEvictedError, type EventCursor } from '../../native-free/event-ring.js';
import { encodeCommand, type CompactRequest } from '../commands/command-codec.js';
import type { LogEvent } from '../codec/event-schema.js';
import type { Command, EntryRefusal } from '../commands/commands.js';
import type { ManualClock } from '../clock.js';
import type { MetaLogConfig } from '../config.js';
import { fromSerialized, MetaLogError, type SerializedError } from '../errors.js';
import { COMMAND_BYTES_MAX } from '../limits.js';
import type { StoreIndexBuffers } from '../store-index/store-index.js';
import type { StoreMetricsBuffers } from '../metrics/metrics-buffers.js';
import { StoreCounters } from '../metrics/store-counters.js';
import { BATCH_KIND, decodeBatch, decodeControlBody, recordKind, type DecodedBatch } from '../writer/batch-record.js';
import type { RecoveryReport } from '../recovery-report.js';
import { CommandSender } from './command-sender.js';

/** Test-only hooks of `open`. @internal */
export interface OpenInternals {
  /** Fault switches for the storage of the store's threads and files (see FaultyStorage). */
  faults?: SharedArrayBuffer;
  /** Overrides HANDLE_STALL_MS, the wait before a stalled attached handle is evicted. */
  handleStallMs?: number;
  /** The clock the store reads instead of the wall clock, on every thread (see ManualClock). */
  clock?: ManualClock;
  /**
   * How long the writer looks at an empty command ring before it sleeps (µs; 0, the default, sleeps at
   * once). For the bench, which prices the hand-off both ways.
   */
  writerSpinMicros?: number;
  /**
   * True: the writer's pipeline (the fdatasync on the thread pool while the next batch fills; see
   * WriterCore). Off by default, where the writer fdatasyncs each batch on its own thread. For the bench,
   * which measures what the pipeline brings.
   */
  writerPipeline?: boolean;
}

/** What a link hands each batch to, and tells when the writer is gone. @internal */
export interface BatchSink {
  /** Decodes a batch's events, in order. */
  decode(batch: DecodedBatch): LogEvent[];
  /** A committed batch, before its calls settle; `events` decodes it (once) if anyone needs its events. */
  batch(batch: DecodedBatch, events: () => readonly LogEvent[]): void;
  /** The writer closed or died: end whatever waits on the store. */
  closed(): void;
}

/**
 * What another thread needs to attach to an open store: its shared memory and what open found. Plain
 * data and SharedArrayBuffers, so it can be posted to a worker thread.
 */
export interface StoreHandle {
  readonly config: MetaLogConfig;
  readonly commandRing: SharedArrayBuffer;
  readonly eventRing: SharedArrayBuffer;
  readonly index: StoreIndexBuffers;
  readonly recovery: RecoveryReport;
  /** The writer stats block and the shared counters that metrics read (see src/metrics/). */
  readonly metrics: StoreMetricsBuffers;
  /** The test's shared clock, when the store was opened with one (see ManualClock). */
  readonly clock?: SharedArrayBuffer;
}

/** The event of a settled call, decoded on demand (undefined when the call wrote none). */
export type EventOf = () => LogEvent | undefined;

/**
 * What a call resolves with, from its acknowledgement: the event its command became, and the entries
 * a per-entry command refused (by their index in the command; empty for every other command).
 */
export type OnOk<T> = (event: EventOf, refused: readonly EntryRefusal[]) => T;

/** Where a link is in its lifecycle; the module header has the transitions. @internal */
export type LinkState = 'starting' | 'open' | 'closing' | 'closed';

/** What a link's subclass sets up before the link takes calls. @internal */
export interface LinkStart {
  readonly state: LinkState;
  /** Offset of the last event known to be fdatasync-ed. */
  readonly durableOffset: number;
  /** Offset of the last event this link has seen acknowledged. */
  readonly seenOffset: number;
}

interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (error: MetaLogError) => void;
  /** Builds the resolved value; may ask for the event the call's command became, and gets the entries it refused. */
  onOk: OnOk<unknown>;
}

/** Event ring records consumed before the link yields to the caller's event loop. */
const CONSUME_RECORDS_PER_TURN = 1024;
/** Records taken from the event ring per poll. */
const POLL_RECORDS_MAX = 64;
/** How long one wait for the event ring lasts before the consume loop looks again (ms). */
const EVENT_WAIT_MS = 1000;
const NO_EVENT: EventOf = () => undefined;

/**
 * A handle's link to the writer thread: the part both roles share. The opener's link is an OpenerLink,
 * a joined one an AttachedLink. @internal
 */
export abstract class WriterLink {
  /** Where this link is in its lifecycle (see the module header). */
  protected state: LinkState;
  /** Offset of the last event known to be fdatasync-ed. */
  protected durableOffsetValue: number;
  /** Offset of the last event this link has seen acknowledged (where a watch from now starts). */
  protected seenOffsetValue: number;
  /** The store's shared counters (rejected commands, waits of the command queue). */
  protected readonly counters: StoreCounters;
  private readonly pending = new Map<number, PendingCall>();
  private readonly sender: CommandSender;
  private readonly scratch = Buffer.allocUnsafe(COMMAND_BYTES_MAX + 64);
  private nextSeq = 1;
  private readOnlyCause: MetaLogError | null = null;

  protected constructor(
    protected readonly sink: BatchSink,
    commandRing: CommandRing,
    /** This link's id in the writer's result tables. */
    private readonly handleId: number,
    /** The shared index's buffers. */
    readonly index: StoreIndexBuffers,
    /** The writer stats block and the shared counters. */
    readonly metrics: StoreMetricsBuffers,
    /** The store's configuration. */
    readonly storeConfig: MetaLogConfig,
    start: LinkStart,
  ) {
    this.state = start.state;
    this.durableOffsetValue = start.durableOffset;
    this.seenOffsetValue = start.seenOffset;
    this.counters = new StoreCounters(metrics.counters);
    this.sender = new CommandSender(commandRing, this.counters, () => this.state === 'closed');
  }

  /** Wakes the writer if it sleeps, so it looks at the time again (after a test moved its clock). */
  wakeWriterForClock(): void {
    this.sender.wakeWriterNow();
  }

  /** What another thread passes to `MetaLog.attach`. */
  abstract get handle(): StoreHandle;

  /** What the writer's recovery found. */
  abstract get recovery(): RecoveryReport;

  /**
   * Resolves once the link takes calls: when the writer reported READY (an attached link joins a store
   * that is open, so at once). Rejects with why the writer could not start, after its thread has exited.
   */
  abstract readonly ready: Promise<void>;

  /**
   * Makes sure this link follows the event ring, which its calls and watches need.
   * @throws INVALID_REQUEST when every cursor is taken (HANDLES_MAX handles write or watch at once).
   */
  abstract ensureCursor(): void;

  /** Leaves the store: the opener's link closes it, an attached one detaches. Idempotent. */
  abstract close(): Promise<void>;

  /** The writer reported READY with what its recovery found. */
  protected abstract onReady(report: RecoveryReport): void;

  /** The writer evicted `cursor` (it stopped consuming for too long); `consume` has stopped on it. */
  protected abstract cursorEvicted(cursor: EventCursor): void;

  /** True while `cursor` is the one this link consumes (the consume loop ends on any other). */
  protected abstract follows(cursor: EventCursor): boolean;

  /** Offset of the last event this link has seen acknowledged. */
  get seenOffset(): number {
    return this.seenOffsetValue;
  }

  /** True once the writer has closed (or died), or this attached link was closed. */
  get closed(): boolean {
    return this.state === 'closed';
  }

  /** Why the store is read-only, or null. */
  get readOnlyError(): MetaLogError | null {
    return this.readOnlyCause;
  }

  /** Offset of the last event known to be fdatasync-ed. */
  get durableOffset(): number {
    return this.durableOffsetValue;
  }

  /** True while calls of this link wait for their acknowledgement. */
  protected get callsInFlight(): boolean {
    return this.pending.size > 0;
  }

  /** Consumes the event ring until the writer reports CLOSED (or dies), or this link stops following `cursor`. */
  protected async consume(cursor: EventCursor): Promise<void> {
    // Each pass either consumes records or waits.
    let consumedSinceYield = 0;
    while (this.state !== 'closed' && this.follows(cursor)) {
      const consumed = this.pollRecords(cursor);
      if (consumed < 0) return;
      if (consumed === 0) {
        consumedSinceYield = 0;
        await cursor.waitAsync(EVENT_WAIT_MS);
      } else if ((consumedSinceYield += consumed) >= CONSUME_RECORDS_PER_TURN) {
        // A long replay must not starve the caller's event loop: give it a turn now and then.
        consumedSinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Consumes what `cursor` has ready (up to POLL_RECORDS_MAX records); -1 when the writer evicted it. */
  protected pollRecords(cursor: EventCursor): number {
    try {
      return cursor.poll(this.onRecord, POLL_RECORDS_MAX);
    } catch (error) {
      if (!(error instanceof CursorEvictedError)) throw error;
      this.cursorEvicted(cursor);
      return -1;
    }
  }

  private readonly onRecord = (bytes: Uint8Array): void => {
    switch (recordKind(bytes)) {
      case BATCH_KIND.BATCH:
        this.onBatch(decodeBatch(bytes));
        return;
      case BATCH_KIND.READY:
        this.onReady(decodeControlBody(bytes) as RecoveryReport);
        return;
      case BATCH_KIND.FATAL: {
        this.fail(fromSerialized(decodeControlBody(bytes) as SerializedError));
        return;
      }
      case BATCH_KIND.CLOSED:
        this.finishClosed(new MetaLogError('STORE_CLOSED', 'the store was closed before this call was acknowledged', {}));
        return;
    }
  };

  private onBatch(batch: DecodedBatch): void {
    let decoded: LogEvent[] | null = null;
    const events = (): LogEvent[] => (decoded ??= this.sink.decode(batch));
    this.durableOffsetValue = batch.durableOffset;
    if (batch.recordCount > 0) this.seenOffsetValue = batch.firstOffset + batch.recordCount - 1;
    this.sink.batch(batch, events);
    let eventIndex = 0;
    for (const result of batch.results) {
      const index = result.wroteEvent ? eventIndex++ : -1;
      if (result.handleId !== this.handleId) continue;
      const call = this.pending.get(result.seq);
      if (call === undefined) continue;
      this.pending.delete(result.seq);
      if (result.error === null) {
        call.resolve(call.onOk(index < 0 ? NO_EVENT : () => events()[index], result.refused));
        continue;
      }
      const error = fromSerialized(result.error);
      // The writer reports a failed fdatasync through the results; from then on, fail writes here at once.
      if (error.makesReadOnly) this.readOnlyCause ??= error;
      call.reject(error);
    }
  }

  /** The writer stopped writing: later writes fail at once; calls in flight fail with the cause. */
  protected fail(cause: MetaLogError): void {
    this.readOnlyCause ??= cause;
    this.rejectPending(new MetaLogError('STORE_READ_ONLY', `the store is read-only: ${cause.message}`, {}, cause));
    this.sender.clear();
  }

  /** Enters `closed` (once): ends the sink's waits and fails the calls in flight with `error`. */
  protected finishClosed(error: MetaLogError): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.sink.closed();
    this.rejectPending(error);
  }

  /** Fails every call in flight with `error`. */
  protected rejectPending(error: MetaLogError): void {
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
  }

  /** Queues a command (or `sync`) for the writer; resolves with `onOk(event)` once it is acknowledged. */
  submit<T>(command: Command | 'sync' | CompactRequest, onOk: OnOk<T>): Promise<T> {
    if (this.state === 'closing' || this.closed) {
      return Promise.reject(new MetaLogError('STORE_CLOSED', 'the store is closed', {}));
    }
    try {
      this.ensureCursor();
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.readOnlyCause !== null) {
      return Promise.reject(new MetaLogError('STORE_READ_ONLY', `the store is read-only: ${this.readOnlyCause.message}`, {}, this.readOnlyCause));
    }
    return this.send(command, onOk);
  }

  /**
   * Puts a command on the ring whatever the state, for the close sequences (the caller knows the writer
   * still reads commands, and that this link follows the event ring); `submit` checks both first.
   */
  protected send<T>(command: Command | 'sync' | 'close' | CompactRequest, onOk: OnOk<T>): Promise<T> {
    const seq = this.nextSeq;
    this.nextSeq = (this.nextSeq + 1) >>> 0 || 1;
    let length: number;
    try {
      length = encodeCommand(this.handleId, seq, command, this.scratch);
    } catch (error) {
      // Input checks run first, so only a value outside what the check knows can land here.
      this.counters.countCommandError('INVALID_REQUEST');
      return Promise.reject(new MetaLogError('INVALID_REQUEST', `the command cannot be encoded: ${(error as Error).message}`, {}, error));
    }
    if (length < 0) {
      this.counters.countCommandError('INVALID_REQUEST');
      return Promise.reject(new MetaLogError('INVALID_REQUEST', `the command exceeds ${COMMAND_BYTES_MAX} bytes`, {}));
    }
    const promise = new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (value: unknown) => void, reject, onOk });
    });
    this.sender.send(this.scratch.subarray(0, length));
    return promise;
  }
}
