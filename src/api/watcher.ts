/**
 * One `watch()` subscription: an async iterator over committed events, fed by the handle as it settles
 * each batch. Events arrive in offset order, each once, only after they are durable per the durability
 * mode (the handle sees a batch only once the writer acknowledged it).
 *
 * A watcher that falls more than WATCH_QUEUE_EVENTS_MAX events behind is ended with WATCH_LAGGING, whose
 * details name the offset to resume from, rather than buffering without bound.
 */
import type { EventType, LogEvent } from '../codec/event-schema.js';
import { MetaLogError } from '../errors.js';

/** Events a watcher may hold unread. */
export const WATCH_QUEUE_EVENTS_MAX = 100_000;

/** Options of `watch`. */
export interface WatchOptions {
  /** First offset wanted; default: the next event. Older offsets need the history feature. */
  from?: number;
  /** Only these event types; default: all. */
  types?: EventType[];
}

/** A subscription to committed events. */
export class Watcher implements AsyncIterableIterator<LogEvent> {
  private readonly queue: LogEvent[] = [];
  private head = 0;
  private waiting: { resolve: (result: IteratorResult<LogEvent>) => void; reject: (error: unknown) => void } | null = null;
  private ended = false;
  private failure: MetaLogError | null = null;

  constructor(
    private readonly from: number,
    private readonly types: ReadonlySet<EventType> | null,
    private readonly unsubscribe: (watcher: Watcher) => void,
  ) {}

  /** Called by the handle for each committed event, in offset order. */
  push(event: LogEvent): void {
    if (this.ended || event.offset < this.from) return;
    if (this.types !== null && !this.types.has(event.type)) return;
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
    this.ended = true;
    this.unsubscribe(this);
    if (this.waiting !== null && this.head === this.queue.length) {
      const waiting = this.waiting;
      this.waiting = null;
      if (this.failure !== null) waiting.reject(this.failure);
      else waiting.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<LogEvent>> {
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

  return(): Promise<IteratorResult<LogEvent>> {
    this.queue.length = 0;
    this.head = 0;
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<LogEvent> {
    return this;
  }
}
