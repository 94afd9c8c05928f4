/**
 * What open found and did (`log.recovery`): read by the opener, attached handles, the snapshot
 * scheduler and the metrics, written by the writer thread's recovery. Types only, importing nothing, so
 * every layer can name them without depending on the writer.
 */

/** A snapshot that open (or a fold) could not use, and why. */
export interface SkippedSnapshot {
  file: string;
  lastOffset: number;
  reason: string;
}

/** What open found and did; returned to the caller of `MetaLog.open` as `log.recovery`. */
export interface RecoveryReport {
  /** Events read back from the WAL (after the snapshot, when one was used). */
  replayedEvents: number;
  /** Offset of the last recovered event, -1 for an empty log. */
  lastOffset: number;
  segments: number;
  /** The snapshot open started from, or null (a replay of the whole log). */
  snapshot: { file: string; lastOffset: number; createdMs: number; bytes: number; restoreMs: number } | null;
  /** Snapshots passed over (damaged, another layout, or not continued by the WAL), newest first, with why. */
  skippedSnapshots: SkippedSnapshot[];
  /** A torn tail that was cut off, if any. */
  truncatedTail: { file: string; position: number; bytes: number } | null;
  /** Unfinished segment and snapshot files (`*.tmp`) that were removed. */
  removedTempFiles: string[];
  /** Milliseconds of recovery in the writer thread: snapshot restore (on the opening thread), WAL read, verify and fold. */
  durationMs: number;
  /**
   * When the writer thread began its recovery, in milliseconds since the epoch (fractional: the
   * process's `performance.timeOrigin + performance.now()`): what came before it in an open is the
   * thread's start and module loading, overlapped with the opening thread's setup and snapshot restore.
   */
  recoveryStartedAtMs: number;
  /** Which CRC32C implementation the writer uses. */
  crc32cPath: 'native' | 'js';
}
