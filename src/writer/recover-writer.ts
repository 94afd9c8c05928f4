/**
 * Opening the writer: recover the WAL, rebuild the state, stream the verified records to the handles,
 * and leave an appender positioned after the last good record.
 *
 * The decisions about damage are recovery.ts's table; this module carries them out: a torn tail is cut
 * off (and the cut made durable) before anything new is appended; corruption or an unknown format stops
 * the open with the error that names the file, byte position and offset.
 */
import path from 'node:path';
import { EventCodec } from '../codec/event-codec.js';
import type { MetaLogConfig } from '../config.js';
import { CRC32C_PATH } from '../crc32c.js';
import { MetaLogError } from '../errors.js';
import { MetadataState } from '../state/metadata-state.js';
import { damageError, scanWal } from '../wal/recovery.js';
import type { Storage } from '../wal/storage.js';
import { WalAppender } from '../wal/wal-appender.js';
import { BATCH_HEADER_BYTES, BATCH_KIND, writeBatchHeader } from './batch-record.js';
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

/** Frames of REPLAY records are sent in chunks of about this size. */
const REPLAY_CHUNK_BYTES = 1024 * 1024;

/**
 * Accumulates verified records into REPLAY records for the handles. Records of a segment lie back to
 * back in the file buffer, so a chunk is just a range of it, copied once when the chunk is published.
 */
class ReplayStreamer {
  private source: Buffer | null = null;
  private start = 0;
  private end = 0;
  private firstOffset = 0;
  private count = 0;
  private schemaJson: string | null = null;

  constructor(private readonly publish: (record: Buffer) => void) {}

  add(bytes: Buffer, start: number, end: number, offset: number, codec: EventCodec): void {
    const schemaJson = codec === EventCodec.current() ? null : codec.writerSchemaJson;
    const continues = bytes === this.source && start === this.end && schemaJson === this.schemaJson;
    if (this.count > 0 && (!continues || end - this.start > REPLAY_CHUNK_BYTES)) this.flush();
    if (this.count === 0) {
      this.source = bytes;
      this.start = start;
      this.firstOffset = offset;
      this.schemaJson = schemaJson;
    }
    this.end = end;
    this.count++;
  }

  flush(): void {
    if (this.count === 0 || this.source === null) return;
    const schema = this.schemaJson === null ? null : Buffer.from(this.schemaJson, 'utf8');
    const schemaBytes = schema?.length ?? 0;
    const framesBytes = this.end - this.start;
    const record = Buffer.allocUnsafe(BATCH_HEADER_BYTES + schemaBytes + framesBytes);
    writeBatchHeader(record, BATCH_KIND.REPLAY, {
      resultCount: 0,
      firstOffset: this.firstOffset,
      recordCount: this.count,
      framesBytes,
      durableOffset: this.firstOffset + this.count - 1,
      resultsBytes: 0,
      schemaBytes,
    });
    schema?.copy(record, BATCH_HEADER_BYTES);
    this.source.copy(record, BATCH_HEADER_BYTES + schemaBytes, this.start, this.end);
    this.publish(record);
    this.source = null;
    this.count = 0;
  }
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
 * Recovers the WAL in `config.dir`, publishing REPLAY records as it goes. Throws CORRUPT_WAL or
 * UNSUPPORTED_FORMAT when the log cannot be opened as it is.
 */
export function recoverWriter(config: MetaLogConfig, storage: Storage, publish: (record: Buffer) => void): { core: WriterCore; report: RecoveryReport } {
  const startedMs = performance.now();
  const walDir = path.join(config.dir, 'wal');
  try {
    storage.mkdirp(walDir);
  } catch (error) {
    throw new MetaLogError('KAFKA_STORAGE_ERROR', `cannot use ${walDir} for the WAL: ${(error as Error).message}`, { file: walDir }, error);
  }
  // The writer validates commands; committed offsets never decide a validation, so it does not keep them.
  const state = new MetadataState({ committedOffsets: false });
  const streamer = new ReplayStreamer(publish);
  const scan = scanWal(
    storage,
    walDir,
    (event, bytes, view, codec) => {
      if (event === null) state.skip(view.offset);
      else state.apply(event);
      streamer.add(bytes, view.position, view.end, view.offset, codec);
    },
    { removeTempFiles: true, decodes: (type) => state.needs(type) },
  );
  streamer.flush();
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
  const core = new WriterCore(config, state, appender);
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
