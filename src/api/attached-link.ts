/**
 * An attached link: a handle on a store opened elsewhere in this process (usually on another thread)
 * joins the running writer, with its own handle id and the same command ring. It never owns the writer:
 * closing it detaches this handle and leaves the store open.
 *
 * Its cursor on the event ring (which the writer then waits for) is opened only at its first write or
 * watch, so a handle that only reads holds none. A cursor that stops consuming for HANDLE_STALL_MS is
 * evicted by the writer; the link then fails its calls in flight with HANDLE_EVICTED and opens a new
 * cursor at its next write or watch.
 *
 * The states and their transitions are drawn in writer-link.ts, with what both roles share.
 */
import { CommandRing } from '../../native-free/command-ring.js';
import { EventRing, type EventCursor } from '../../native-free/event-ring.js';
import { MetaLogError } from '../errors.js';
import { IndexControl } from '../store-index/store-index.js';
import type { RecoveryReport } from '../recovery-report.js';
import { WriterLink, type BatchSink, type StoreHandle } from './writer-link.js';

/** Handle ids are u16 in result tables. */
const HANDLE_ID_MAX = 0xffff;

/** The link of a handle that joined an open store with `MetaLog.attach`. @internal */
export class AttachedLink extends WriterLink {
  /** The store was open when this link joined it. */
  readonly ready: Promise<void> = Promise.resolve();
  /** This link's cursor on the event ring: none before its first write or watch, nor after an eviction. */
  private cursor: EventCursor | null = null;
  /** The first `close()`, which later ones wait for. */
  private leaving: Promise<void> | null = null;

  private constructor(
    sink: BatchSink,
    handleId: number,
    private readonly handleValue: StoreHandle,
    /** The index's control words: the writer may close without this link holding a cursor to hear it. */
    private readonly control: IndexControl,
  ) {
    super(sink, CommandRing.attach(handleValue.commandRing), handleId, handleValue.index, handleValue.metrics, handleValue.config, {
      state: 'open',
      durableOffset: Math.min(handleValue.recovery.lastOffset, control.appliedOffset),
      seenOffset: control.appliedOffset,
    });
  }

  /**
   * Joins the writer of the store `handle` came from.
   * @throws STORE_CLOSED when the store is closed; INVALID_REQUEST when its handle ids are used up.
   */
  static attach(handle: StoreHandle, sink: BatchSink): AttachedLink {
    const control = new IndexControl(handle.index.control);
    if (control.storeClosed) throw new MetaLogError('STORE_CLOSED', 'the store is closed', {});
    // Ids are never reused while the store is open: a reused id could settle another handle's calls.
    const handleId = control.takeHandleId();
    if (handleId > HANDLE_ID_MAX) {
      throw new MetaLogError('INVALID_REQUEST', `this open store has given out all ${HANDLE_ID_MAX} handle ids; reopen it to attach more`, {});
    }
    return new AttachedLink(sink, handleId, handle, control);
  }

  get handle(): StoreHandle {
    return this.handleValue;
  }

  get recovery(): RecoveryReport {
    return this.handleValue.recovery;
  }

  /** True once the store closed (whether or not this link heard CLOSED), or this link was closed. */
  override get closed(): boolean {
    return super.closed || this.control.storeClosed;
  }

  /**
   * Opens this link's cursor (at the ring's current end) and starts consuming, if not yet done.
   * @throws INVALID_REQUEST when every cursor is taken (HANDLES_MAX handles write or watch at once).
   */
  ensureCursor(): void {
    // An evicted cursor is noticed here too, not only by the consume loop, so a call made right after
    // this thread wakes up goes out on a new cursor instead of being failed with the old one's calls.
    this.noticeEviction();
    if (this.cursor !== null || this.state !== 'open') return;
    let cursor: EventCursor;
    try {
      cursor = EventRing.attach(this.handleValue.eventRing).openCursor();
    } catch (error) {
      throw new MetaLogError('INVALID_REQUEST', `cannot follow the store's acknowledgements: ${(error as Error).message}`, {}, error);
    }
    this.cursor = cursor;
    // Everything already applied was published before this cursor's start or is on its way: a watch
    // from now starts after what the index shows.
    this.seenOffsetValue = Math.max(this.seenOffsetValue, this.control.appliedOffset);
    // A thread that ends without closing its handle must not leave the writer waiting for this cursor.
    process.once('exit', this.releaseCursorAtExit);
    void this.consume(cursor);
  }

  /**
   * Leaves the store: waits for this link's own calls in flight, stops consuming and releases its
   * cursor (so the writer no longer waits for it). The store stays open. Idempotent.
   */
  close(): Promise<void> {
    this.leaving ??= this.leave();
    return this.leaving;
  }

  private async leave(): Promise<void> {
    if (this.state === 'open') {
      this.state = 'closing';
      await this.settleOwnCalls();
    }
    this.releaseCursor();
    this.finishClosed(new MetaLogError('STORE_CLOSED', 'this handle was closed', {}));
  }

  /** Waits until the writer acknowledged every call this link sent (or they failed). */
  private async settleOwnCalls(): Promise<void> {
    // Calls on a cursor evicted while this thread was busy have failed already.
    this.noticeEviction();
    if (this.closed || !this.callsInFlight) return;
    // The writer acknowledges a handle's commands in order: once this sync is, every earlier one is.
    // How it ends (ok, STORE_READ_ONLY, HANDLE_EVICTED, STORE_CLOSED) does not matter here: each
    // earlier call has been settled by then with its own outcome.
    await this.send('sync', () => undefined).catch(() => undefined);
  }

  protected onReady(): void {
    // An attached link's cursor opens after the writer published READY (the handle it joins with is
    // built from READY), so a READY here means the rings are broken.
    this.fail(new MetaLogError('INTERNAL_ERROR', 'an attached handle received the writer\'s READY', {}));
  }

  /**
   * The writer evicted this link's cursor: it stopped consuming for too long (HANDLE_STALL_MS), so
   * acknowledgements of its calls in flight may be lost. Those calls fail with HANDLE_EVICTED (their
   * outcome is unknown: they may have been applied) and the watchers end; the next write or watch opens
   * a new cursor.
   */
  protected cursorEvicted(cursor: EventCursor): void {
    cursor.close();
    if (this.cursor === cursor) this.cursor = null;
    process.removeListener('exit', this.releaseCursorAtExit);
    this.rejectPending(new MetaLogError(
      'HANDLE_EVICTED',
      'this handle stopped consuming the store\'s acknowledgements for too long and was detached; calls in flight may or may not have been applied',
      {},
    ));
    this.sink.closed();
  }

  protected follows(cursor: EventCursor): boolean {
    return this.cursor === cursor;
  }

  /** Hands a cursor the writer evicted while the consume loop was not looking to `cursorEvicted`. */
  private noticeEviction(): void {
    if (this.cursor !== null && this.cursor.evicted()) this.cursorEvicted(this.cursor);
  }

  /** Stops consuming and frees this link's cursor slot. */
  private releaseCursor(): void {
    this.cursor?.close();
    this.cursor = null;
    process.removeListener('exit', this.releaseCursorAtExit);
  }

  private readonly releaseCursorAtExit = (): void => {
    this.cursor?.close();
  };
}
