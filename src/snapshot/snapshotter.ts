/**
 * Making snapshots: fold the WAL up to an offset into a private copy of the state, write it out, keep
 * the newest few, and work out how much of the WAL the oldest one kept makes unnecessary.
 *
 * The private copy lives as long as this object, so each snapshot folds only the events since the last
 * one. It costs a second copy of the state in memory while it lives (the price of never pausing the
 * writer: the shared index changes under every batch, and copying it consistently would stop writes for
 * as long as the copy takes); the scheduler therefore ends the snapshot thread after each snapshot, and
 * the next one starts from the newest snapshot file.
 *
 * Called by: workers/snapshotter.ts (the snapshot thread), and directly by offline tools (CLI, restore).
 */
import path from 'node:path';
import { MetaLogError } from '../errors.js';
import { readAll } from '../wal/durable-file.js';
import { decodeSegmentHeader, SEGMENT_HEADER_FIXED_BYTES, segmentFilesOf } from '../wal/format.js';
import { damageError } from '../wal/recovery.js';
import type { Storage } from '../wal/storage.js';
import { foldWalInto, startFold } from './fold.js';
import { captureImage, type FoldTarget } from './index-image.js';
import { listSnapshots, writeSnapshotFile } from './snapshot-file.js';

/** The most of a segment header read to learn its time: it holds the writer schema (a few KiB); more is damage. */
const SEGMENT_HEADER_BYTES_MAX = 1024 * 1024;

/** How snapshots and the WAL behind them are kept. */
export interface SnapshotterOptions {
  dir: string;
  /** Snapshots kept (the newest ones); at least 1. */
  snapshotsRetained: number;
  /** WAL history kept at least this long (ms) after its segment was sealed; -1: forever. */
  historyRetentionMs: number;
  /** WAL bytes kept at most (older segments go first once a snapshot covers them); -1: no limit. */
  historyRetentionBytes: number;
}

/** What the snapshot thread is started with: the options, and the fault switches of tests (see FaultyStorage). */
export interface SnapshotThreadData extends SnapshotterOptions {
  faults?: SharedArrayBuffer;
}

/** What one snapshot did. */
export interface SnapshotResult {
  file: string;
  lastOffset: number;
  bytes: number;
  /** Events folded since the previous snapshot this thread made (or since the one it started from). */
  foldedEvents: number;
  foldMs: number;
  writeMs: number;
  /** Older snapshots deleted by retention. */
  removedSnapshots: string[];
  /** The WAL may be compacted through this offset (segments holding only offsets up to it), or null. */
  compactThrough: number | null;
}

export class Snapshotter {
  private target: FoldTarget | null = null;

  constructor(
    private readonly options: SnapshotterOptions,
    private readonly storage: Storage,
  ) {}

  /**
   * Folds through `throughOffset` (written and durable in the WAL) and writes a snapshot of it; `nowMs`
   * is the store's clock, which stamps the snapshot and decides which history is past retention.
   */
  snapshotThrough(throughOffset: number, nowMs: number): SnapshotResult {
    const started = performance.now();
    const walDir = path.join(this.options.dir, 'wal');
    // A snapshot newer than our copy (another tool made one) is a better start than our copy.
    this.target ??= startFold(this.options.dir, this.storage, { atMost: throughOffset }).target;
    const target = this.target;
    if (target.state.lastOffset > throughOffset) {
      throw new MetaLogError('INVALID_REQUEST', `the snapshot copy is already at offset ${target.state.lastOffset}, past ${throughOffset}`, { offset: throughOffset });
    }
    const before = target.state.lastOffset;
    if (before < throughOffset) {
      const scan = foldWalInto(target, this.storage, walDir, { throughOffset });
      if (scan.damage !== null && target.state.lastOffset < throughOffset) {
        this.target = null;
        throw damageError(walDir, scan.damage);
      }
      if (target.state.lastOffset !== throughOffset) {
        this.target = null;
        throw new MetaLogError('CORRUPT_WAL', `the WAL ends at offset ${target.state.lastOffset}, before ${throughOffset}`, { file: walDir, offset: throughOffset });
      }
    }
    const folded = performance.now();
    const image = captureImage(target, nowMs);
    const written = writeSnapshotFile(this.options.dir, image.meta, image.sections, this.storage);
    const removedSnapshots = this.pruneSnapshots();
    return {
      file: path.basename(written.file),
      lastOffset: throughOffset,
      bytes: written.bytes,
      foldedEvents: throughOffset - before,
      foldMs: folded - started,
      writeMs: performance.now() - folded,
      removedSnapshots,
      compactThrough: this.compactionPoint(nowMs),
    };
  }

  /** Deletes all but the newest `snapshotsRetained` snapshots; returns the names deleted. */
  private pruneSnapshots(): string[] {
    const removed: string[] = [];
    for (const { file } of listSnapshots(this.options.dir, this.storage).slice(Math.max(1, this.options.snapshotsRetained))) {
      this.storage.remove(file);
      removed.push(path.basename(file));
    }
    if (removed.length > 0) this.storage.fsyncDir(path.join(this.options.dir, 'snapshots'));
    return removed;
  }

  /**
   * The offset through which WAL segments may go: never past the oldest snapshot kept (so every kept
   * snapshot still has its tail, and a damaged newest one can fall back to an older one), and only
   * for segments outside the history retention (older than historyRetentionMs, or beyond
   * historyRetentionBytes counted from the newest). Null when nothing may go.
   */
  private compactionPoint(nowMs: number): number | null {
    const { historyRetentionMs, historyRetentionBytes } = this.options;
    if (historyRetentionMs < 0 && historyRetentionBytes < 0) return null;
    const snapshots = listSnapshots(this.options.dir, this.storage);
    const oldestKept = snapshots.at(-1);
    if (oldestKept === undefined) return null;
    const walDir = path.join(this.options.dir, 'wal');
    const segments = segmentFilesOf(this.storage.readdir(walDir))
      .map((each) => ({ ...each, bytes: this.storage.stat(path.join(walDir, each.name)).bytes }));
    let bytesNewerThan = segments.reduce((sum, each) => sum + each.bytes, 0);
    let through: number | null = null;
    // Oldest first, never the newest (open) segment; a segment ends where the next begins.
    for (let index = 0; index + 1 < segments.length; index++) {
      const lastOffset = segments[index + 1].baseOffset - 1;
      if (lastOffset > oldestKept.lastOffset) break;
      bytesNewerThan -= segments[index].bytes;
      // A segment was sealed when the next one was started, by the store's clock (its header says when).
      const sealedMs = historyRetentionMs >= 0 ? this.startedMs(path.join(walDir, segments[index + 1].name)) : null;
      const tooOld = sealedMs !== null && nowMs - sealedMs >= historyRetentionMs;
      const tooMuch = historyRetentionBytes >= 0 && bytesNewerThan + segments[index].bytes > historyRetentionBytes;
      if (!tooOld && !tooMuch) break;
      through = lastOffset;
    }
    return through;
  }

  /** When the segment `file` was started (its header's time), or null when its header cannot be read. */
  private startedMs(file: string): number | null {
    const fd = this.storage.openForRead(file);
    try {
      const fixed = Buffer.alloc(SEGMENT_HEADER_FIXED_BYTES);
      if (!readAll(this.storage, fd, fixed, 0)) return null;
      const whole = Buffer.alloc(Math.max(SEGMENT_HEADER_FIXED_BYTES, Math.min(fixed.readUInt32LE(12), SEGMENT_HEADER_BYTES_MAX)));
      if (!readAll(this.storage, fd, whole, 0)) return null;
      const header = decodeSegmentHeader(whole);
      return 'problem' in header ? null : header.createdMs;
    } finally {
      this.storage.close(fd);
    }
  }
}
