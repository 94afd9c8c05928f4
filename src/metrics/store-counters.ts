/**
 * The store's shared counters: counts that any thread of the process raises now and then, kept once
 * for the whole store in atomic counters (native-free/atomic-counters.ts).
 *
 * Owns: which counters exist and what raises them:
 * - rejected commands, one counter per error code: the writer counts what it rejects (validation
 *   against the state, storage errors, a read-only store), and every handle counts what its input checks
 *   (or the command's encoding) refuse on the caller's thread before it is queued; no command is
 *   counted twice, and calls a handle refuses at once because the store is closed or already read-only
 *   are not commands the store saw, so they are not counted;
 * - waits for room on the command ring: commands a handle had to queue because the ring was full, and
 *   how long its queue waited for room (command-sender.ts).
 *
 * Called by: the writer thread, every handle's link and `MetaLog.command` on any thread; read by the
 * metrics of any handle (store-metrics.ts). Each thread makes its own `StoreCounters` on the buffer.
 *
 * Must never: be raised on a path that runs for every successful command.
 */
import { AtomicCounters } from '../../native-free/atomic-counters.js';
import { ERROR_CODES, type ErrorCode } from '../errors.js';

/** Every error code, in a fixed order: counter i counts commands rejected with code i. */
const ERROR_CODE_LIST = Object.keys(ERROR_CODES) as ErrorCode[];
const ERROR_COUNTER_BY_CODE = new Map(ERROR_CODE_LIST.map((code, index) => [code, index]));
const COUNTER_COMMAND_RING_FULL_COMMANDS = ERROR_CODE_LIST.length;
const COUNTER_COMMAND_RING_FULL_WAIT_MICROS = ERROR_CODE_LIST.length + 1;
const COUNTER_COUNT = ERROR_CODE_LIST.length + 2;

/** Allocates the store's counters, all 0 (by the opener, before the writer thread starts). */
export function allocateStoreCounters(): SharedArrayBuffer {
  return AtomicCounters.create(COUNTER_COUNT).buffer;
}

/** One thread's handle on the store's shared counters. */
export class StoreCounters {
  private readonly counters: AtomicCounters;

  constructor(buffer: SharedArrayBuffer) {
    this.counters = AtomicCounters.attach(buffer);
  }

  /** Counts one command rejected with `code` (an unknown code, from a newer writer, is not counted). */
  countCommandError(code: ErrorCode): void {
    const index = ERROR_COUNTER_BY_CODE.get(code);
    if (index !== undefined) this.counters.add(index, 1);
  }

  /** Counts one command that found the command ring full and was queued on its handle. */
  countCommandRingFull(): void {
    this.counters.add(COUNTER_COMMAND_RING_FULL_COMMANDS, 1);
  }

  /** Adds the time a handle's queue of commands waited for room on the command ring. */
  addCommandRingWait(seconds: number): void {
    this.counters.add(COUNTER_COMMAND_RING_FULL_WAIT_MICROS, Math.round(seconds * 1e6));
  }

  /** Rejected commands by code, only the codes counted at least once. */
  commandErrors(): { code: ErrorCode; count: number }[] {
    const counted: { code: ErrorCode; count: number }[] = [];
    ERROR_CODE_LIST.forEach((code, index) => {
      const count = this.counters.read(index);
      if (count > 0) counted.push({ code, count });
    });
    return counted;
  }

  /** Commands that found the command ring full. */
  commandRingFullCommands(): number {
    return this.counters.read(COUNTER_COMMAND_RING_FULL_COMMANDS);
  }

  /** Seconds that handles' queues waited for room on the command ring. */
  commandRingWaitSeconds(): number {
    return this.counters.read(COUNTER_COMMAND_RING_FULL_WAIT_MICROS) / 1e6;
  }
}
