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
import type { LogEvent } from '../codec/event-schema.js';
import type { MetaLogConfig } from '../config.js';
import { CRC32C_PATH } from '../crc32c.js';
import { MetaLogError } from '../errors.js';
import { MetadataState } from '../state/metadata-state.js';
import { damageError, scanWal } from '../wal/recovery.js';
import type { Storage } from '../wal/storage.js';
import { WalAppender } from '../wal/wal-appender.js';
import { assert } from '../assert.js';
import { IndexWriter } from '../index/index-writer.js';
import type { StoreIndexBuffers } from '../index/store-index.js';
import type { WriterStatsRecorder } from '../metrics/writer-stats.js';
import { WriterCore } from './writer-core.js';

/** What open found and did; returned to the caller of `MetaLog.open` as `log.recovery`. */
export interface RecoveryReport {
  /** Events read back from the WAL. */
  replayedEvents: number;
  /** Offset of the last recovered event, -1 for an empty log. */
  lastOffset: number;
  segments: number;
  /** A torn tail that was cut off, if any. */
  truncatedTail: { file: string; position: number; bytes: number } | null;
  /** Unfinished segment files (`*.tmp`) that were removed. */
  removedTempFiles: string[];
  durationMs: number;
  /** Which CRC32C implementation the writer uses. */
  crc32cPath: 'native' | 'js';
}

function makeTruncationDurable(filePath: string, position: number, storage: Storage): void {
  storage.truncate(filePath, position);
  const fd = storage.openForWrite(filePath);
  try {
    storage.fdatasync(fd);
  } finally {
    storage.close(fd);
  }
}

/**
 * Recovers the WAL in `config.dir` into a writer state and the shared index in `indexBuffers` (no
 * reader sees the index before the writer reports READY), and returns the writer core that records its
 * batches in `stats`. Throws CORRUPT_WAL or UNSUPPORTED_FORMAT when the log cannot be opened as it is.
 */
export function recoverWriter(
  config: MetaLogConfig,
  storage: Storage,
  indexBuffers: StoreIndexBuffers,
  stats: WriterStatsRecorder,
): { core: WriterCore; report: RecoveryReport } {
  const startedMs = performance.now();
  const walDir = path.join(config.dir, 'wal');
  try {
    storage.mkdirp(walDir);
  } catch (error) {
    throw new MetaLogError('KAFKA_STORAGE_ERROR', `cannot use ${walDir} for the WAL: ${(error as Error).message}`, { file: walDir }, error);
  }
  // The writer validates commands; committed offsets never decide a validation, so its state does not
  // keep them: they go to the index only.
  const state = new MetadataState({ committedOffsets: false });
  const index = new IndexWriter(indexBuffers, state);
  const current = EventCodec.current();
  const scan = scanWal(
    storage,
    walDir,
    (event, bytes, view, codec) => {
      if (event !== null) {
        state.apply(event);
        index.applyEvent(event);
        return;
      }
      // Offset commits, the bulk of a log, are not decoded by the scan (only checked): the index takes
      // them from the payload bytes; records under an older schema are decoded here instead.
      state.skip(view.offset);
      if (codec === current) {
        index.applyOffsetsCommittedPayload(bytes, view.payloadStart, view.end, view.timestampMs);
      } else {
        const body = codec.decode(view.eventType, bytes, view.payloadStart, view.end);
        assert(body.type === 'OffsetsCommitted', 'only offset commits are left undecoded');
        index.applyEvent({ type: body.type, value: body.value, offset: view.offset, timestampMs: view.timestampMs } as LogEvent);
      }
    },
    { removeTempFiles: true, decodes: (type) => type !== 'OffsetsCommitted' },
  );
  index.publish();
  let truncatedTail: RecoveryReport['truncatedTail'] = null;
  if (scan.damage !== null) {
    if (scan.damage.kind !== 'torn') throw damageError(walDir, scan.damage);
    const segment = scan.segments.at(-1);
    if (segment === undefined) throw damageError(walDir, scan.damage);
    makeTruncationDurable(segment.filePath, scan.damage.position, storage);
    truncatedTail = { file: segment.name, position: scan.damage.position, bytes: segment.fileBytes - scan.damage.position };
    segment.fileBytes = scan.damage.position;
  }
  const appender = new WalAppender(storage, walDir, EventCodec.current(), config.segmentBytes, scan.segments, scan.nextOffset);
  const core = new WriterCore(config, state, appender, index, stats);
  return {
    core,
    report: {
      replayedEvents: state.lastOffset + 1 - (scan.segments[0]?.baseOffset ?? 0),
      lastOffset: state.lastOffset,
      segments: appender.segmentNames.length,
      truncatedTail,
      removedTempFiles: scan.removedTempFiles,
      durationMs: performance.now() - startedMs,
      crc32cPath: CRC32C_PATH,
    },
  };
}
