/**
 * The group coordinator's one source of time: the clock it reads and the timers it sets (session
 * expiry, the rebalance deadline, the initial rebalance delay, the sync deadline).
 *
 * Owns: `SystemTimers` (the wall clock and `setTimeout`) and `ManualTimers` (a clock that moves only when
 * its holder advances it, firing due timers in deadline order).
 * Invariants: a cancelled timer never fires; a timer fires at most once; `ManualTimers` fires timers in
 * deadline order, and timers with the same deadline in the order they were scheduled.
 * Callers: the coordinator and its tests. Nothing in the coordinator may read `Date.now()` or call
 * `setTimeout` directly: it would escape a test's hold on time.
 */

/** An opaque handle of a scheduled timer. */
export interface TimerHandle {
  readonly id: number;
}

/** Where the coordinator reads the time and sets its timers. */
export interface Timers {
  /** Milliseconds since the epoch (or since any fixed origin: only differences matter). */
  now(): number;
  /** Calls `fn` once, `delayMs` from now (0 or less: as soon as possible, never synchronously). */
  schedule(delayMs: number, fn: () => void): TimerHandle;
  /** Cancels a timer; cancelling a fired or cancelled timer does nothing. */
  cancel(handle: TimerHandle): void;
}

/** The wall clock and Node's timers. */
export class SystemTimers implements Timers {
  private readonly pending = new Map<number, NodeJS.Timeout>();
  private nextId = 1;

  now(): number {
    return Date.now();
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    const timeout = setTimeout(() => {
      this.pending.delete(id);
      fn();
    }, Math.max(0, delayMs));
    this.pending.set(id, timeout);
    return { id };
  }

  cancel(handle: TimerHandle): void {
    const timeout = this.pending.get(handle.id);
    if (timeout === undefined) return;
    clearTimeout(timeout);
    this.pending.delete(handle.id);
  }
}

/** Timers one `advance` may fire: more means a timer keeps rescheduling itself without letting time pass. */
export const ADVANCE_FIRES_MAX = 1_000_000;

interface ManualTimer {
  readonly id: number;
  readonly deadlineMs: number;
  readonly fn: () => void;
}

/**
 * Time held by a test: `now()` moves only through {@link ManualTimers.advance}, which fires every timer
 * that falls due, in deadline order, with `now()` reading each timer's own deadline while it runs. A timer
 * scheduled by a firing timer fires in the same advance if its deadline is within it.
 */
export class ManualTimers implements Timers {
  private nowMs: number;
  private readonly timers = new Map<number, ManualTimer>();
  private nextId = 1;

  constructor(startMs = 0) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, deadlineMs: this.nowMs + Math.max(0, delayMs), fn });
    return { id };
  }

  cancel(handle: TimerHandle): void {
    this.timers.delete(handle.id);
  }

  /** Timers scheduled and neither fired nor cancelled. */
  get pendingCount(): number {
    return this.timers.size;
  }

  /** Moves time forward by `deltaMs`, firing every timer due by then; returns how many fired. */
  advance(deltaMs: number): number {
    if (!Number.isFinite(deltaMs) || deltaMs < 0) throw new RangeError(`advance takes a finite delta >= 0, got ${deltaMs}`);
    const targetMs = this.nowMs + deltaMs;
    let fired = 0;
    for (let next = this.nextDue(targetMs); next !== undefined; next = this.nextDue(targetMs)) {
      if (fired === ADVANCE_FIRES_MAX) throw new Error(`advance fired ${ADVANCE_FIRES_MAX} timers: a timer keeps rescheduling itself`);
      this.timers.delete(next.id);
      this.nowMs = next.deadlineMs;
      fired++;
      next.fn();
    }
    this.nowMs = targetMs;
    return fired;
  }

  /** The earliest timer due by `targetMs` (ties: the one scheduled first), or undefined. */
  private nextDue(targetMs: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const timer of this.timers.values()) {
      if (timer.deadlineMs > targetMs) continue;
      if (best === undefined || timer.deadlineMs < best.deadlineMs || (timer.deadlineMs === best.deadlineMs && timer.id < best.id)) best = timer;
    }
    return best;
  }
}

/**
 * The timers of one owner, so that it can cancel all of them at once (`cancelAll`) and schedule none
 * after that: a timer scheduled after `cancelAll` is never set.
 */
export class TimerSet {
  private readonly live = new Map<number, TimerHandle>();
  private closed = false;

  constructor(private readonly timers: Timers) {}

  now(): number {
    return this.timers.now();
  }

  /** Timers set and not yet fired or cancelled. */
  get size(): number {
    return this.live.size;
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    if (this.closed) return { id: -1 };
    const handle = this.timers.schedule(delayMs, () => {
      this.live.delete(handle.id);
      fn();
    });
    this.live.set(handle.id, handle);
    return handle;
  }

  cancel(handle: TimerHandle | null): void {
    if (handle === null || !this.live.delete(handle.id)) return;
    this.timers.cancel(handle);
  }

  /** Cancels every live timer; later `schedule` calls set nothing. */
  cancelAll(): void {
    this.closed = true;
    for (const handle of this.live.values()) this.timers.cancel(handle);
    this.live.clear();
  }
}
