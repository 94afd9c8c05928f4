/**
 * One `watch()` subscription: an async iterator over committed events, fed by the handle as it settles
 * each batch. Events arrive in offset order, each once, only after they are durable per the durability
 * mode (the handle sees a batch only once the writer acknowledged it).
 *
 * From an older offset it first catches up: the events before the live ones are read back from the WAL
 * a page at a time, only as the consumer asks for them, while live events wait behind them. Where that
 * history was compacted away, the catch-up starts with a snapshot marker (the whole state at the oldest
 * snapshot kept) and goes on from there: never a dead end, never a silent gap.
 *
 * A watcher that falls more than WATCH_QUEUE_EVENTS_MAX events behind is ended with WATCH_LAGGING, whose
 * details name the offset to resume from, rather than buffering without bound.
 */
import type { EventType, LogEvent } from '../codec/event-schema.js';
import { MetaLogError } from '../errors.js';
import type { StateAt } from '../history/state-at.js';

/** Events a watcher may hold unread. */
export const WATCH_QUEUE_EVENTS_MAX = 100_000;

/** Options of `watch`. */
export interface WatchOptions {
  /**
   * First offset wanted; default: the next event. An older offset replays the history from there
   * first; if it was compacted, a `Snapshot` marker with the state then comes first.
   */
  from?: number;
  /** Only these event types; default: all. */
  types?: EventType[];
}

/**
 * What a watch from a compacted offset yields first: the whole state as of `offset` (the oldest snapshot
 * kept); the events after it follow.
 */
export interface SnapshotMarker {
  type: 'Snapshot';
  offset: number;
  state: StateAt;
}

/** What a watcher yields. */
export type WatchEvent = LogEvent | SnapshotMarker;

/** Reads the next page of history from `from`: what to yield, and where the next page starts (null: caught up). */
export type HistoryPager = (from: number) => Promise<{ items: WatchEvent[]; next: number | null }>;

/** A subscription to committed events. */
export class Watcher implements AsyncIterableIterator<WatchEvent> {
  private readonly queue: WatchEvent[] = [];
  private head = 0;
  private waiting: { resolve: (result: IteratorResult<WatchEvent>) => void; reject: (error: unknown) => void } | null = null;
  private ended = false;
  private failure: MetaLogError | null = null;
  /** Live events that arrived while the history before them is still being read (catch-up only). */
  private live: LogEvent[] | null = null;
  /** Where the next history page starts, while catching up. */
  private historyNext: number | null = null;
  private loading: Promise<void> | null = null;

  constructor(
    private readonly from: number,
    private readonly types: ReadonlySet<EventType> | null,
    private readonly unsubscribe: (watcher: Watcher) => void,
    private readonly pager: HistoryPager | null = null,
  ) {
    if (pager !== null) {
      this.live = [];
      this.historyNext = from;
    }
  }

  /** A watcher that yields nothing: its first `next()` rejects with `error` (a watch that could not start). */
  static failed(error: MetaLogError): Watcher {
    const watcher = new Watcher(0, null, () => undefined);
    watcher.fail(error);
    return watcher;
  }

  /** Called by the handle for each committed event, in offset order. */
  push(event: LogEvent): void {
    if (this.ended || event.offset < this.from) return;
    if (this.types !== null && !this.types.has(event.type)) return;
    if (this.live !== null) {
      if (this.live.length >= WATCH_QUEUE_EVENTS_MAX) {
        this.fail(
          new MetaLogError('WATCH_LAGGING', `the watcher fell ${WATCH_QUEUE_EVENTS_MAX} events behind while catching up; watch again from offset ${this.live[0].offset}`, {
            offset: this.live[0].offset,
          }),
        );
        return;
      }
      this.live.push(event);
      return;
    }
    if (this.waiting !== null) {
      const waiting = this.waiting;
      this.waiting = null;
      waiting.resolve({ value: event, done: false });
      return;
    }
    if (this.queue.length - this.head >= WATCH_QUEUE_EVENTS_MAX) {
      // The queued events are still delivered; the first one dropped is where to resume.
      this.fail(
        new MetaLogError('WATCH_LAGGING', `the watcher fell ${WATCH_QUEUE_EVENTS_MAX} events behind; watch again from offset ${event.offset}`, {
          offset: event.offset,
        }),
      );
      return;
    }
    this.queue.push(event);
  }

  /** Ends the iteration with an error (after the events already queued). */
  fail(error: MetaLogError): void {
    if (this.ended) return;
    this.failure = error;
    this.finish();
  }

  /** Ends the iteration normally (the store closed). */
  finish(): void {
    if (this.ended) return;
    // What was read back already is still delivered; live events waiting behind unread history are not.
    this.live = null;
    this.historyNext = null;
    this.ended = true;
    this.unsubscribe(this);
    if (this.waiting !== null && this.head === this.queue.length) {
      const waiting = this.waiting;
      this.waiting = null;
      if (this.failure !== null) waiting.reject(this.failure);
      else waiting.resolve({ value: undefined, done: true });
    }
  }

  async next(): Promise<IteratorResult<WatchEvent>> {
    // Bounded: each round either delivers, or reads one history page (which moves historyNext forward
    // or ends the catch-up).
    while (this.head >= this.queue.length && this.historyNext !== null && !this.ended) {
      this.loading ??= this.loadPage().finally(() => {
        this.loading = null;
      });
      await this.loading;
    }
    return this.nextQueued();
  }

  /** Reads one page of history into the queue; past the last, the live events that waited follow it. */
  private async loadPage(): Promise<void> {
    const from = this.historyNext;
    if (from === null || this.pager === null) return;
    let page: Awaited<ReturnType<HistoryPager>>;
    try {
      page = await this.pager(from);
    } catch (error) {
      this.fail(MetaLogError.wrap(error, 'INTERNAL_ERROR', 'watch history failed'));
      return;
    }
    if (this.historyNext !== from) return;
    for (const item of page.items) {
      if (item.type === 'Snapshot' || this.types === null || this.types.has(item.type)) this.queue.push(item);
    }
    this.historyNext = page.next;
    if (page.next === null) {
      const live = this.live ?? [];
      this.live = null;
      for (const event of live) this.queue.push(event);
    }
  }

  private nextQueued(): Promise<IteratorResult<WatchEvent>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head++];
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return this.failure !== null ? Promise.reject(this.failure) : Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<WatchEvent>> {
    this.queue.length = 0;
    this.head = 0;
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<WatchEvent> {
    return this;
  }
}
