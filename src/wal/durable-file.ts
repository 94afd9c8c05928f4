/**
 * The durable file sequences of the store, each written once, on top of `Storage` (so a faulty storage
 * reaches them all): a file written whole under its final name or not at all, a durable truncate, a
 * durable file sync, a copy a piece at a time, and reading a file in place.
 *
 * Used by snapshots, backup and restore, repair and the writer's recovery. Nothing here decides what
 * a failure means: every I/O error reaches the caller as the storage threw it, after the sequence has
 * cleaned up what it made (a `.tmp` file, open descriptors).
 */
import path from 'node:path';
import type { Storage } from './storage.js';

/** Bytes written (or copied) between two fdatasyncs of a large file. */
const SYNC_EVERY_BYTES = 8 * 1024 * 1024;
/** Bytes a copy reads and writes at a time. */
const COPY_PIECE_BYTES = 1024 * 1024;

/** Writes `bytes[start, end)` at `position`, all of it or throws. */
export function writeAll(storage: Storage, fd: number, bytes: Uint8Array, start: number, end: number, position: number): void {
  let written = start;
  // Bounded: each pass writes at least one byte or throws; a zero-byte write is treated as a failure.
  while (written < end) {
    const count = storage.write(fd, bytes, written, end, position + (written - start));
    if (count <= 0) throw new Error(`write returned ${count}`);
    written += count;
  }
}

/** Reads `into` whole from `position`; returns false when the file ends first. */
export function readAll(storage: Storage, fd: number, into: Uint8Array, position: number): boolean {
  let read = 0;
  // Bounded: each pass reads at least one byte, or stops at the end of the file.
  while (read < into.byteLength) {
    const count = storage.read(fd, into, read, into.byteLength, position + read);
    if (count <= 0) return false;
    read += count;
  }
  return true;
}

/**
 * Writes `pieces`, in order, to `file` durably: into `<file>.tmp`, fdatasync-ed every SYNC_EVERY_BYTES
 * (a hundred megabytes of dirty pages flushed at once would make the WAL's next fdatasync wait behind
 * them) and at the end, renamed over `file`, then an fsync of the folder. A crash or an error leaves the
 * old `file` (or none) and at most a `.tmp`; an error removes the `.tmp` too. Returns the bytes written.
 * A failed fdatasync is never retried: the file is abandoned.
 */
export function writeFileDurably(storage: Storage, file: string, pieces: readonly Uint8Array[]): number {
  const temp = `${file}.tmp`;
  const fd = storage.createForWrite(temp);
  let position = 0;
  try {
    let syncedAt = 0;
    for (const bytes of pieces) {
      // Written a piece at a time so the syncs fall every SYNC_EVERY_BYTES even within one large piece.
      for (let start = 0; start < bytes.byteLength; start += SYNC_EVERY_BYTES) {
        const end = Math.min(bytes.byteLength, start + SYNC_EVERY_BYTES);
        writeAll(storage, fd, bytes, start, end, position);
        position += end - start;
        if (position - syncedAt >= SYNC_EVERY_BYTES) {
          storage.fdatasync(fd);
          syncedAt = position;
        }
      }
    }
    storage.fdatasync(fd);
  } catch (error) {
    storage.close(fd);
    storage.remove(temp);
    throw error;
  }
  storage.close(fd);
  storage.rename(temp, file);
  storage.fsyncDir(path.dirname(file));
  return position;
}

/** Cuts `file` to `length` bytes and makes the new size durable before returning. */
export function truncateDurably(storage: Storage, file: string, length: number): void {
  storage.truncate(file, length);
  syncFile(storage, file);
}

/** fdatasync of a file by name (after a copy or a truncate by path). */
export function syncFile(storage: Storage, file: string): void {
  const fd = storage.openForRead(file);
  try {
    storage.fdatasync(fd);
  } finally {
    storage.close(fd);
  }
}

/** Creates `dir` (and its parents) when missing, and makes its entry durable in its parent folder. */
export function makeDirDurably(storage: Storage, dir: string): void {
  if (storage.exists(dir)) return;
  storage.mkdirp(dir);
  storage.fsyncDir(path.dirname(dir));
}

/**
 * Copies `from` to `to` (created or emptied) COPY_PIECE_BYTES at a time, through the storage's reads and
 * writes (so a full disk hits a copy as it hits any write), and yields after each piece so an
 * asynchronous caller can give its thread a turn (see {@link copyFileYielding}). Not synced: the caller
 * syncs what it copied once it is all there. Returns the bytes copied; on an error `to` may hold part.
 */
export function* copyFilePieces(storage: Storage, from: string, to: string): Generator<void, number> {
  const source = storage.openForRead(from);
  try {
    const target = storage.createForWrite(to);
    try {
      const piece = new Uint8Array(COPY_PIECE_BYTES);
      let position = 0;
      // Bounded by the source's size: each pass copies at least one byte or ends.
      for (;;) {
        const count = storage.read(source, piece, 0, COPY_PIECE_BYTES, position);
        if (count <= 0) return position;
        writeAll(storage, target, piece, 0, count, position);
        position += count;
        yield;
      }
    } finally {
      storage.close(target);
    }
  } finally {
    storage.close(source);
  }
}

/** Copies `from` to `to` in one go (see {@link copyFilePieces}); returns the bytes copied. */
export function copyFile(storage: Storage, from: string, to: string): number {
  const pieces = copyFilePieces(storage, from, to);
  // Bounded by the source's size (see copyFilePieces).
  for (;;) {
    const next = pieces.next();
    if (next.done === true) return next.value;
  }
}

/** Copies `from` to `to`, giving the calling thread's event loop a turn after each piece. */
export async function copyFileYielding(storage: Storage, from: string, to: string): Promise<number> {
  const pieces = copyFilePieces(storage, from, to);
  // Bounded by the source's size (see copyFilePieces).
  for (;;) {
    const next = pieces.next();
    if (next.done === true) return next.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** True for an error of the operating system's file calls (it carries an errno code and the call's name). */
/**
 * The errno codes that mean a path given by the caller cannot be used (missing, too long, not a folder,
 * not allowed, taken), not that the disk failed: a call refuses such a path with INVALID_REQUEST.
 */
const PATH_ERRNOS: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG', 'EACCES', 'EPERM', 'ELOOP', 'EROFS', 'EEXIST', 'ENOTEMPTY']);

/** True for a file system error about the path itself (see PATH_ERRNOS) rather than a failing disk. */
export function isPathError(error: unknown): error is NodeJS.ErrnoException {
  return isIoError(error) && PATH_ERRNOS.has(error.code as string);
}

export function isIoError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}
