/**
 * The slow-fdatasync warning: when an fdatasync of the WAL took longer than `slowFsyncWarnMs`, the
 * opener's thread raises a process warning a broker can listen for:
 *
 *   process.on('warning', (warning) => { if (warning.code === 'METALOG_SLOW_FSYNC') ... });
 *
 * (name 'MetaLogWarning', code 'METALOG_SLOW_FSYNC', the store's directory in the message). Node also
 * prints it on stderr unless warnings are silenced.
 *
 * Owns: noticing slow fdatasyncs on the opener's thread and the rate limit. The writer counts them in
 * the writer stats block (writer-stats.ts) before it publishes the batch that waited for them; this side
 * reads that one counter at every batch the opener's handle receives (two Atomics.load), so the warning
 * comes with the acknowledgement, without a message from the writer. At most one warning per
 * SLOW_FSYNC_WARNING_INTERVAL_MS: the slow fdatasyncs in between are summed up in the next one (the
 * counter has every one of them).
 *
 * Called by: the opener's `MetaLog` (its batch sink), never on an attached handle: one store, one
 * warning.
 */
import { StatsBlock } from '../../native-free/stats-block.js';
import { SLOW_FSYNC_WARNING_INTERVAL_MS } from '../limits.js';
import { lastSlowFdatasyncSeconds, slowFdatasyncCount } from './writer-stats.js';

/** The `code` of the process warning raised for slow fdatasyncs. */
export const SLOW_FSYNC_WARNING_CODE = 'METALOG_SLOW_FSYNC';

/** Watches one store's slow-fdatasync counter and raises the warning. */
export class SlowFsyncWarning {
  private readonly block: StatsBlock;
  /** Slow fdatasyncs already noticed. */
  private seenCount = 0;
  /** Slow fdatasyncs noticed but not yet in a warning. */
  private pendingCount = 0;
  private lastWarningMs = -Infinity;

  constructor(
    private readonly dir: string,
    private readonly slowFsyncWarnMs: number,
    writerStats: SharedArrayBuffer,
  ) {
    this.block = StatsBlock.attach(writerStats);
  }

  /** Called at every batch the opener's handle receives, and when the store closes. */
  check(): void {
    const count = slowFdatasyncCount(this.block);
    if (count !== this.seenCount) {
      this.pendingCount += count - this.seenCount;
      this.seenCount = count;
    }
    if (this.pendingCount === 0) return;
    const nowMs = performance.now();
    if (nowMs - this.lastWarningMs < SLOW_FSYNC_WARNING_INTERVAL_MS) return;
    this.lastWarningMs = nowMs;
    const latestMs = Math.round(lastSlowFdatasyncSeconds(this.block) * 1000);
    const message =
      this.pendingCount === 1
        ? `an fdatasync of the WAL in ${this.dir} took ${latestMs} ms (slowFsyncWarnMs: ${this.slowFsyncWarnMs})`
        : `${this.pendingCount} fdatasyncs of the WAL in ${this.dir} took longer than slowFsyncWarnMs (${this.slowFsyncWarnMs} ms) ` +
          `since the last warning; the latest took ${latestMs} ms`;
    this.pendingCount = 0;
    process.emitWarning(message, {
      type: 'MetaLogWarning',
      code: SLOW_FSYNC_WARNING_CODE,
      detail: 'Writes wait for fdatasync (in fsync mode each acknowledgement does): the disk under the store is slow or overloaded.',
    });
  }
}
