/**
 * Opening the writer: recover the WAL, rebuild the writer's state and the shared index from it, and
 * leave an appender positioned after the last good record.
 *
 * The decisions about damage are recovery.ts's table; this module carries them out: a torn tail is cut
 * off (and the cut made durable) before anything new is appended; corruption or an unknown format stops
 * the open with the error that names the file, byte position and offset.
 */
import path from 'node:path';
import { EventCodec } from '../codec/event-codec.js';
import type { Clock } from '../clock.js';
import type { RecoveryReport } from '../recovery-report.js';
import type { MetaLogConfig } from '../config.js';
import { CRC32C_PATH } from '../crc32c.js';
import { MetaLogError } from '../errors.js';
import { damageError } from '../wal/recovery.js';
import { truncateDurably } from '../wal/durable-file.js';
import type { Storage } from '../wal/storage.js';
import { WalAppender } from '../wal/wal-appender.js';
import type { StoreIndexBuffers } from '../store-index/store-index.js';
import { chooseSnapshot, firstWalOffset, foldWalInto, targetFor, type SnapshotChoice } from '../snapshot/fold.js';
import { removeSnapshotTemps } from '../snapshot/snapshot-file.js';
import type { WriterStatsRecorder } from '../metrics/writer-stats.js';
import { refuseUnfinishedCopy } from '../backup/copy-marker.js';
import { WriterCore } from './writer-core.js';

/**
 * What the opening thread did before the writer's recovery: restored the newest usable snapshot into
 * the shared index (while this thread was starting) and removed unfinished snapshot files.
 */
export interface SnapshotOpening {
  choice: SnapshotChoice;
  removedTempFiles: string[];
}

/**
 * The opening thread's part of recovery: restores the newest usable snapshot into `indexBuffers`
 * (fresh, not yet opened by the writer). Runs while the writer thread starts, which is what makes an
 * open from a snapshot cost about one read of the file.
 */
export function openSnapshot(dir: string, indexBuffers: StoreIndexBuffers, storage: Storage): SnapshotOpening {
  const removedTempFiles = removeSnapshotTemps(dir, storage);
  return { choice: chooseSnapshot(dir, storage, indexBuffers), removedTempFiles };
}

/**
 * Recovers the store in `config.dir` into a writer state and the shared index in `indexBuffers` (no
 * reader sees the index before the writer reports READY): from the newest usable snapshot, then the WAL
 * after it; returns the writer core that records its batches in `stats`. Throws CORRUPT_WAL or
 * UNSUPPORTED_FORMAT when the log cannot be opened as it is.
 */
export function recoverWriter(
  config: MetaLogConfig,
  storage: Storage,
  indexBuffers: StoreIndexBuffers,
  stats: WriterStatsRecorder,
  opening: SnapshotOpening,
  clock: Clock,
): { core: WriterCore; report: RecoveryReport } {
  const startedMs = performance.now();
  refuseUnfinishedCopy(config.dir, storage);
  const walDir = path.join(config.dir, 'wal');
  try {
    storage.mkdirp(walDir);
  } catch (error) {
    throw new MetaLogError('KAFKA_STORAGE_ERROR', `cannot use ${walDir} for the WAL: ${(error as Error).message}`, { file: walDir }, error);
  }
  // The writer validates commands; committed offsets never decide a validation, so its state does not
  // keep them: they go to the index only.
  const start = { ...opening.choice, target: targetFor(indexBuffers, opening.choice) };
  const { state, index } = start.target;
  const firstOffset = state.lastOffset + 1;
  const walFirst = firstWalOffset(storage, walDir);
  if (walFirst !== null && walFirst > firstOffset) {
    throw new MetaLogError(
      'CORRUPT_WAL',
      `the WAL starts at offset ${walFirst} but no usable snapshot reaches it (events ${firstOffset}..${walFirst - 1} are missing)` +
        (start.skipped.length > 0 ? `; passed over: ${start.skipped.map((each) => `${each.file} (${each.reason})`).join('; ')}` : ''),
      { file: walDir, offset: firstOffset },
    );
  }
  const scan = foldWalInto(start.target, storage, walDir, { removeTempFiles: true });
  let truncatedTail: RecoveryReport['truncatedTail'] = null;
  if (scan.damage !== null) {
    if (scan.damage.kind !== 'torn') throw damageError(walDir, scan.damage);
    const segment = scan.segments.at(-1);
    if (segment === undefined) throw damageError(walDir, scan.damage);
    truncateDurably(storage, segment.filePath, scan.damage.position);
    truncatedTail = { file: segment.name, position: scan.damage.position, bytes: segment.fileBytes - scan.damage.position };
    segment.fileBytes = scan.damage.position;
  }
  if (scan.nextOffset < firstOffset) {
    throw new MetaLogError(
      'CORRUPT_WAL',
      `snapshot ${path.basename(start.snapshot?.file ?? '')} holds events up to offset ${firstOffset - 1} but the WAL ends before offset ${scan.nextOffset}`,
      { file: walDir, offset: scan.nextOffset },
    );
  }
  const appender = new WalAppender(storage, walDir, EventCodec.current(), config.segmentBytes, scan.segments, scan.nextOffset, clock);
  const core = new WriterCore(config, state, appender, index, stats, clock);
  return {
    core,
    report: {
      replayedEvents: state.lastOffset + 1 - firstOffset,
      lastOffset: state.lastOffset,
      segments: appender.segmentNames.length,
      snapshot: start.snapshot === null ? null : {
        file: path.basename(start.snapshot.file),
        lastOffset: start.snapshot.meta.lastOffset,
        createdMs: start.snapshot.meta.createdMs,
        bytes: start.snapshot.meta.sections.reduce((sum, section) => sum + section.bytes, 0),
        restoreMs: start.restoreMs,
      },
      skippedSnapshots: start.skipped,
      truncatedTail,
      removedTempFiles: [...scan.removedTempFiles, ...opening.removedTempFiles],
      durationMs: performance.now() - startedMs + start.restoreMs,
      recoveryStartedAtMs: performance.timeOrigin + startedMs,
      crc32cPath: CRC32C_PATH,
    },
  };
}
