/**
 * Appends batches to the newest WAL segment, rotates segments, and makes them durable.
 *
 * Owned by the writer thread alone. Invariants:
 * - `size` is the byte position after the last record that was written completely; a failed write is cut
 *   back to it (ftruncate) before the error is reported, so a partial batch never stays in the file;
 * - a segment is fdatasync-ed before the next one is created, so every sealed segment is whole on disk
 *   (recovery relies on it: only the newest segment may have a torn tail);
 * - a new segment appears atomically: header written to `<name>.tmp`, fdatasync, rename, fsync of wal/;
 * - after an fdatasync failure nothing is retried on the same descriptor (the kernel may have dropped the
 *   dirty pages and cleared the error): the failure is fatal and the store goes read-only.
 */
import path from 'node:path';
import { assert, verify } from '../assert.js';
import type { Clock } from '../clock.js';
import type { EventCodec } from '../codec/event-codec.js';
import { MetaLogError } from '../errors.js';
import { PREALLOCATE_STEP_BYTES } from '../limits.js';
import { encodeSegmentHeader, frameAt, parseSegmentFileName, readRecord, segmentFileName } from './format.js';
import type { VerifiedSegment } from './recovery.js';
import { truncateDurably, writeAll, writeFileDurably } from './durable-file.js';
import type { Storage } from './storage.js';

interface OpenSegment {
  name: string;
  baseOffset: number;
  fd: number;
  /** Bytes up to the end of the last whole record: where the next batch goes. */
  size: number;
  /** Bytes in the file: [size, fileBytes) is zero-filled space made ahead of the appends. */
  fileBytes: number;
  recordCount: number;
}

/** Zeros for preallocation, written in pieces of this buffer. */
const ZEROS = Buffer.alloc(1024 * 1024);

/** Thrown for an error after which the writer must stop writing (fdatasync failed, or a cut-back failed). */
function fatalStorageError(message: string, cause: unknown, file: string): MetaLogError {
  return new MetaLogError('STORAGE_FAILED', message, { file }, cause);
}

/** Appends to the WAL of one directory. */
export class WalAppender {
  private current: OpenSegment;
  private nextOffsetValue: number;
  /** fdatasyncs started by `syncAsync` and not yet finished. */
  private asyncSyncsInFlight = 0;
  /** Descriptors of sealed segments whose closing waits for those fdatasyncs. */
  private readonly descriptorsToClose: number[] = [];
  /** Segments sealed or open, oldest first: name and base offset (for metrics and inspection). */
  readonly segmentNames: string[];

  /**
   * Continues the newest verified segment if it was written with `codec`'s schema; otherwise (no segment, or
   * an older writer schema) starts a new one at `nextOffset`.
   */
  constructor(
    private readonly storage: Storage,
    private readonly walDir: string,
    private readonly codec: EventCodec,
    private readonly segmentBytes: number,
    segments: readonly VerifiedSegment[],
    nextOffset: number,
    /** The store's clock: a segment's header records when it was started (its predecessor's seal time). */
    private readonly clock: Clock,
  ) {
    storage.mkdirp(walDir);
    this.nextOffsetValue = nextOffset;
    this.segmentNames = segments.map((segment) => segment.name);
    const newest = segments.at(-1);
    if (newest !== undefined && newest.header !== null && newest.header.schemaJson === codec.writerSchemaJson) {
      assert(newest.validEnd <= newest.fileBytes, 'a continued segment ends at or before its file end');
      const fd = storage.openForWrite(newest.filePath);
      this.current = {
        name: newest.name, baseOffset: newest.baseOffset, fd, size: newest.validEnd, fileBytes: newest.fileBytes, recordCount: newest.recordCount,
      };
    } else {
      // The newest segment (older schema) is sealed from here on, and a sealed segment ends exactly at its
      // last record: cut the space the writer zero-filled ahead of its appends, durably, first.
      if (newest !== undefined && newest.fileBytes > newest.validEnd) {
        truncateDurably(storage, newest.filePath, newest.validEnd);
      }
      this.current = this.createSegment(nextOffset);
      this.segmentNames.push(this.current.name);
    }
  }

  /** Offset the next appended record must carry. */
  get nextOffset(): number {
    return this.nextOffsetValue;
  }

  /** Bytes in the open segment. */
  get openSegmentBytes(): number {
    return this.current.size;
  }

  private createSegment(baseOffset: number): OpenSegment {
    const name = segmentFileName(baseOffset);
    const finalPath = path.join(this.walDir, name);
    const header = encodeSegmentHeader(baseOffset, this.clock.nowMs(), this.codec.fingerprint, this.codec.writerSchemaJson);
    try {
      writeFileDurably(this.storage, finalPath, [header]);
    } catch (error) {
      throw new MetaLogError('KAFKA_STORAGE_ERROR', `cannot create segment ${name}: ${(error as Error).message}`, { file: name }, error);
    }
    const fd = this.storage.openForWrite(finalPath);
    return { name, baseOffset, fd, size: header.length, fileBytes: header.length, recordCount: 0 };
  }

  /**
   * Appends `bytes[start, end)`, which hold `recordCount` records numbered from `nextOffset`. Rotates first
   * if the batch would take a non-empty segment past segmentBytes. On a write error (ENOSPC, EIO) the file
   * is cut back to its previous size and KAFKA_STORAGE_ERROR is thrown: nothing of the batch remains.
   */
  append(bytes: Uint8Array, start: number, end: number, recordCount: number): void {
    assert(recordCount > 0, 'a batch appends at least one record');
    assert(end > start, 'a batch has bytes');
    // Offsets are dense across the whole log: the batch starts at the next one (cheap, always), and
    // under verify every record checks out and follows the one before it.
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    assert(frameAt(buffer, start).offset === this.nextOffsetValue, 'a batch starts at the next offset');
    verify(() => assertDenseRecords(buffer, start, end, this.nextOffsetValue, recordCount));
    if (this.current.recordCount > 0 && this.current.size + (end - start) > this.segmentBytes) this.rotate();
    const segment = this.current;
    const sizeBefore = segment.size;
    try {
      this.preallocate(segment, sizeBefore + (end - start));
      writeAll(this.storage, segment.fd, bytes, start, end, sizeBefore);
    } catch (error) {
      this.cutBack(segment, sizeBefore, error);
      throw new MetaLogError(
        'KAFKA_STORAGE_ERROR',
        `write to ${segment.name} failed (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the batch was not stored`,
        { file: segment.name, position: sizeBefore, offset: this.nextOffsetValue },
        error,
      );
    }
    segment.size = sizeBefore + (end - start);
    segment.recordCount += recordCount;
    this.nextOffsetValue += recordCount;
  }

  /**
   * Zero-fills the segment ahead of the append position, a step at a time, so appends overwrite blocks
   * that are already allocated. The next fdatasync makes the new size durable with the batch.
   */
  private preallocate(segment: OpenSegment, needed: number): void {
    if (needed <= segment.fileBytes) return;
    const target = Math.max(needed, Math.min(segment.fileBytes + PREALLOCATE_STEP_BYTES, this.segmentBytes));
    // Bounded: each pass writes at least one byte towards `target`.
    while (segment.fileBytes < target) {
      const length = Math.min(ZEROS.length, target - segment.fileBytes);
      writeAll(this.storage, segment.fd, ZEROS, 0, length, segment.fileBytes);
      segment.fileBytes += length;
    }
  }

  private cutBack(segment: OpenSegment, size: number, writeError: unknown): void {
    try {
      this.storage.ftruncate(segment.fd, size);
      segment.fileBytes = size;
    } catch (truncateError) {
      throw fatalStorageError(
        `cannot cut ${segment.name} back to ${size} bytes after a failed write: ${(truncateError as Error).message}`,
        writeError,
        segment.name,
      );
    }
  }

  /**
   * Seals the open segment and starts the next; the old one stays open until the new one exists. The
   * zero-filled tail is cut first, so a sealed segment ends exactly at its last record.
   */
  private rotate(): void {
    if (this.current.fileBytes > this.current.size) {
      try {
        this.storage.ftruncate(this.current.fd, this.current.size);
      } catch (error) {
        throw new MetaLogError('KAFKA_STORAGE_ERROR', `cannot seal ${this.current.name}: ${(error as Error).message}`, { file: this.current.name }, error);
      }
      this.current.fileBytes = this.current.size;
    }
    this.sync();
    const next = this.createSegment(this.nextOffsetValue);
    // An fdatasync still in flight on the old descriptor (see syncAsync) keeps it open until it ends: a
    // descriptor closed under it could be reused for another file before the thread pool gets to it.
    if (this.asyncSyncsInFlight === 0) this.storage.close(this.current.fd);
    else this.descriptorsToClose.push(this.current.fd);
    this.current = next;
    this.segmentNames.push(next.name);
  }

  /**
   * Deletes the oldest sealed segments while each holds only offsets up to `throughOffset` (never the
   * open one), then makes the deletions durable; returns the names deleted. Oldest first, so the log
   * stays one unbroken run of offsets whatever fails in between.
   */
  removeSegmentsThrough(throughOffset: number): string[] {
    const removed: string[] = [];
    // A sealed segment ends where the next begins; the open segment is always the last name.
    while (this.segmentNames.length > 1) {
      const nextBase = parseSegmentFileName(this.segmentNames[1]);
      assert(nextBase !== null, 'segment names parse');
      if (nextBase - 1 > throughOffset) break;
      const name = this.segmentNames[0];
      try {
        this.storage.unlink(path.join(this.walDir, name));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
          throw new MetaLogError('KAFKA_STORAGE_ERROR', `cannot delete segment ${name}: ${(error as Error).message}`, { file: name }, error);
        }
      }
      this.segmentNames.shift();
      removed.push(name);
    }
    if (removed.length > 0) this.storage.fsyncDir(this.walDir);
    return removed;
  }

  /** fdatasync of the open segment; a failure is fatal (never retried on this descriptor). */
  sync(): void {
    try {
      this.storage.fdatasync(this.current.fd);
    } catch (error) {
      throw fatalStorageError(
        `fdatasync of ${this.current.name} failed (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the store is read-only`,
        error,
        this.current.name,
      );
    }
  }

  /**
   * fdatasync of the open segment off this thread; `done` gets null, or the fatal error (see `sync`).
   * Everything appended before the call is durable when it succeeds.
   */
  syncAsync(done: (error: MetaLogError | null) => void): void {
    const segment = this.current;
    this.asyncSyncsInFlight++;
    this.storage.fdatasyncAsync(segment.fd, (error) => {
      this.asyncSyncsInFlight--;
      if (this.asyncSyncsInFlight === 0) {
        for (const fd of this.descriptorsToClose.splice(0)) this.storage.close(fd);
      }
      if (error === null) {
        done(null);
        return;
      }
      done(fatalStorageError(`fdatasync of ${segment.name} failed (${(error as NodeJS.ErrnoException).code ?? error.message}); the store is read-only`, error, segment.name));
    });
  }

  /** Closes the open segment's descriptor (the caller syncs first when it should). */
  close(): void {
    assert(this.asyncSyncsInFlight === 0, 'no fdatasync is in flight when the log closes');
    this.storage.close(this.current.fd);
  }
}

/** Every record in `bytes[start, end)` verifies, and they are `recordCount` records numbered from `firstOffset`. */
function assertDenseRecords(bytes: Buffer, start: number, end: number, firstOffset: number, recordCount: number): void {
  let position = start;
  for (let index = 0; index < recordCount; index++) {
    const found = readRecord(bytes, position, end);
    assert(typeof found !== 'string', 'every appended record verifies');
    assert(found.offset === firstOffset + index, 'appended offsets are dense');
    position = found.end;
  }
  assert(position === end, 'a batch holds exactly its records');
}
