/**
 * The store's one source of time: event timestamps, the flush interval of durability 'interval', the
 * snapshot interval, history retention and offset expiry all read it, on whichever thread they run.
 *
 * In production that is the wall clock. A test passes a `ManualClock` to `MetaLog.open` (an internal
 * option, not a config key); its time lives in shared memory, so the writer and snapshot threads read
 * the time the test set, and time passes only when the test advances it. Nothing that decides what the
 * store does may call `Date.now()` directly: it would escape the test's hold and make the test depend on
 * how busy the machine is. (Durations measured for metrics, such as how long an fdatasync took, use
 * `performance.now()`: they are measurements, not decisions.)
 */
import { SharedClock } from '../native-free/shared-clock.js';

/** Where the store reads the time. */
export interface Clock {
  /** Milliseconds since the epoch. */
  nowMs(): number;
}

/** The wall clock. */
export const SYSTEM_CLOCK: Clock = Object.freeze({ nowMs: (): number => Date.now() });

/**
 * A clock a test holds: it reads what the test set, on every thread of the store, until the test moves
 * it. Moving it also tells the store (see `onMove`), so a writer that sleeps until an interval
 * fdatasync falls due wakes up and looks at the new time.
 * @internal
 */
export class ManualClock implements Clock {
  private readonly shared: SharedClock;
  private readonly listeners = new Set<() => void>();

  /** Starts at `startMs` (by default the wall clock's time now, so file times and event times agree). */
  constructor(startMs: number = Date.now()) {
    this.shared = SharedClock.create(startMs);
  }

  /** The shared memory other threads read this clock from (see {@link clockFromBuffer}). */
  get buffer(): SharedArrayBuffer {
    return this.shared.buffer;
  }

  nowMs(): number {
    return this.shared.nowMs();
  }

  /** Moves the time forward by `ms` and tells the store; returns the new time. */
  advance(ms: number): number {
    const nowMs = this.shared.advance(ms);
    for (const listener of this.listeners) listener();
    return nowMs;
  }

  /** Sets the time (backwards too) and tells the store. */
  set(nowMs: number): void {
    this.shared.set(nowMs);
    for (const listener of this.listeners) listener();
  }

  /** Calls `listener` after every move; returns the function that stops it. */
  onMove(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The clock a thread of the store reads: the test's shared clock when there is one, else the wall clock. */
export function clockFromBuffer(buffer: SharedArrayBuffer | undefined): Clock {
  if (buffer === undefined) return SYSTEM_CLOCK;
  const shared = SharedClock.attach(buffer);
  return { nowMs: () => shared.nowMs() };
}
