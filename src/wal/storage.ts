/**
 * The one interface through which the store touches the disk, so tests can swap in a faulty one: the
 * WAL, snapshots, backup and restore, repair, and the history readers all go through it. `NodeStorage`
 * is the only class that touches store data with node:fs (the directory lock in src/lock.ts is not store
 * data). The durable sequences built on it (write-tmp-sync-rename, a durable truncate, copies) are in
 * durable-file.ts, once each.
 *
 * All calls but one are synchronous: they run on the writer thread, which owns the WAL, on the snapshot
 * thread, on the reader pool, or in short pieces on the caller's thread (a backup gives its thread a turn
 * between pieces). The one exception is `fdatasyncAsync`, the writer's fdatasync in mode 'fsync': it runs
 * on Node's thread pool so that the writer reads, checks and writes the next batch while the disk syncs.
 *
 * Which storage a thread uses is chosen in one place, {@link storageFor}: the real disk, or with a fault
 * buffer (a test-only option of `open`, `restore` and `repair`, passed to every thread the store starts)
 * a `FaultyStorage`. A storage object cannot cross threads; its fault buffer can.
 *
 * `FaultyStorage` wraps the real one and fails on command. Its fault switches live in a SharedArrayBuffer
 * (see {@link FAULT_WORDS}) so a test on another thread can turn a full disk or a failing fdatasync on and
 * off while the writer runs, deterministically and without timing, and can confine them to the files
 * whose path holds a given part (see {@link setFaultScope}): only snapshots, only a backup's destination.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Size and modification time of a file. */
export interface FileStat {
  bytes: number;
  modifiedMs: number;
}

/** Synchronous file operations used by everything that reads or writes a store's files. */
export interface Storage {
  /** Opens an existing file for writing at explicit positions; returns a descriptor. */
  openForWrite(filePath: string): number;
  /** Opens an existing file for reading at explicit positions; returns a descriptor. */
  openForRead(filePath: string): number;
  /** Creates or truncates a file for writing. */
  createForWrite(filePath: string): number;
  /** Writes `bytes[start, end)` at `position`; returns bytes written (may be fewer on some errors). */
  write(fd: number, bytes: Uint8Array, start: number, end: number, position: number): number;
  /** Reads into `into[start, end)` from `position`; returns bytes read (0 at the end of the file). */
  read(fd: number, into: Uint8Array, start: number, end: number, position: number): number;
  /** Size and modification time of an open file (fstat). */
  statFd(fd: number): FileStat;
  /** Size and modification time of a file. */
  stat(filePath: string): FileStat;
  fdatasync(fd: number): void;
  /**
   * fdatasync off this thread: `done` is called on this thread, with null or the error, once it has
   * finished. The descriptor must stay open until then.
   */
  fdatasyncAsync(fd: number, done: (error: Error | null) => void): void;
  ftruncate(fd: number, length: number): void;
  close(fd: number): void;
  readFile(filePath: string): Buffer;
  readdir(dirPath: string): string[];
  mkdirp(dirPath: string): void;
  rename(from: string, to: string): void;
  unlink(filePath: string): void;
  /** Removes a file, or a folder with everything in it; does nothing when there is none. */
  remove(targetPath: string): void;
  truncate(filePath: string, length: number): void;
  /** fsync of a directory, so a rename or a new file in it survives a crash (on a file: its bytes and size). */
  fsyncDir(dirPath: string): void;
  exists(filePath: string): boolean;
}

/** The real disk. */
export class NodeStorage implements Storage {
  openForWrite(filePath: string): number {
    return fs.openSync(filePath, fs.constants.O_WRONLY);
  }
  createForWrite(filePath: string): number {
    return fs.openSync(filePath, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o644);
  }
  openForRead(filePath: string): number {
    return fs.openSync(filePath, fs.constants.O_RDONLY);
  }
  write(fd: number, bytes: Uint8Array, start: number, end: number, position: number): number {
    return fs.writeSync(fd, bytes, start, end - start, position);
  }
  read(fd: number, into: Uint8Array, start: number, end: number, position: number): number {
    return fs.readSync(fd, into, start, end - start, position);
  }
  statFd(fd: number): FileStat {
    const stat = fs.fstatSync(fd);
    return { bytes: stat.size, modifiedMs: stat.mtimeMs };
  }
  stat(filePath: string): FileStat {
    const stat = fs.statSync(filePath);
    return { bytes: stat.size, modifiedMs: stat.mtimeMs };
  }
  fdatasync(fd: number): void {
    fs.fdatasyncSync(fd);
  }
  fdatasyncAsync(fd: number, done: (error: Error | null) => void): void {
    fs.fdatasync(fd, (error) => done(error ?? null));
  }
  ftruncate(fd: number, length: number): void {
    fs.ftruncateSync(fd, length);
  }
  close(fd: number): void {
    fs.closeSync(fd);
  }
  readFile(filePath: string): Buffer {
    return fs.readFileSync(filePath);
  }
  readdir(dirPath: string): string[] {
    return fs.readdirSync(dirPath);
  }
  mkdirp(dirPath: string): void {
    fs.mkdirSync(dirPath, { recursive: true });
  }
  rename(from: string, to: string): void {
    fs.renameSync(from, to);
  }
  unlink(filePath: string): void {
    fs.unlinkSync(filePath);
  }
  remove(targetPath: string): void {
    fs.rmSync(targetPath, { recursive: true, force: true });
  }
  truncate(filePath: string, length: number): void {
    fs.truncateSync(filePath, length);
  }
  fsyncDir(dirPath: string): void {
    const fd = fs.openSync(dirPath, fs.constants.O_RDONLY);
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }
  exists(filePath: string): boolean {
    return fs.existsSync(filePath);
  }
}

/** The storage a thread uses: the real disk, or with a fault buffer (tests) a {@link FaultyStorage} on it. */
export function storageFor(faults?: SharedArrayBuffer): Storage {
  return faults === undefined ? new NodeStorage() : new FaultyStorage(faults);
}

/**
 * Indexes of the fault switches and counters in a FaultyStorage control buffer (Int32 words).
 * - DISK_FULL: while 1, every write stores half its bytes, then fails with ENOSPC (a realistic partial write).
 * - FSYNC_FAILS: while 1, every fdatasync fails with EIO.
 * - WRITE_FAILS_AFTER: when > 0, counts down on each write; the write that brings it to 0 fails with EIO
 *   (with ENOSPC after storing half its bytes when WRITE_FAILS_ENOSPC is 1): a fault in the middle of a file.
 * - WRITES, FSYNCS: counters of calls that reached the disk, for tests to wait on.
 * - FSYNC_DELAY_MS: while > 0, every fdatasync first sleeps this long (a slow disk), then runs.
 * - WRITE_FAILS_ENOSPC: see WRITE_FAILS_AFTER.
 * - SCOPE_BYTES: 0, or the length of the UTF-8 path part stored from word SCOPE_FIRST on (see
 *   {@link setFaultScope}): then every switch and counter above concerns only the files whose path holds
 *   that part (`/snapshots/`, a backup's destination), and the other files work and are not counted.
 */
export const FAULT_WORDS = Object.freeze({
  DISK_FULL: 0, FSYNC_FAILS: 1, WRITE_FAILS_AFTER: 2, WRITES: 3, FSYNCS: 4, FSYNC_DELAY_MS: 5, WRITE_FAILS_ENOSPC: 6, SCOPE_BYTES: 7, SCOPE_FIRST: 8,
});
/** Bytes of the path part a fault scope may hold. */
export const FAULT_SCOPE_BYTES_MAX = 256;
/** Words in a fault control buffer. */
export const FAULT_WORD_COUNT = FAULT_WORDS.SCOPE_FIRST + FAULT_SCOPE_BYTES_MAX / 4;

/**
 * Confines the faults of the control buffer `faults` to the files whose path holds `pathPart` (null: every
 * file). Change it while every fault switch is off: a thread may read the part while it is being written.
 */
export function setFaultScope(faults: SharedArrayBuffer, pathPart: string | null): void {
  const bytes = Buffer.from(pathPart ?? '', 'utf8');
  if (bytes.length > FAULT_SCOPE_BYTES_MAX) throw new RangeError(`a fault scope holds at most ${FAULT_SCOPE_BYTES_MAX} bytes`);
  const words = new Int32Array(faults);
  // The bytes first, then the length that makes them count (a reader loads the length first).
  Atomics.store(words, FAULT_WORDS.SCOPE_BYTES, 0);
  new Uint8Array(faults, FAULT_WORDS.SCOPE_FIRST * 4, FAULT_SCOPE_BYTES_MAX).set(bytes);
  Atomics.store(words, FAULT_WORDS.SCOPE_BYTES, bytes.length);
}

function errnoError(code: 'ENOSPC' | 'EIO', syscall: string, filePath: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: injected fault, ${syscall} '${filePath}'`) as NodeJS.ErrnoException;
  error.code = code;
  error.syscall = syscall;
  error.path = filePath;
  return error;
}

/** A storage that fails on command (see {@link FAULT_WORDS}); otherwise it is the real disk. */
export class FaultyStorage extends NodeStorage {
  private readonly control: Int32Array;
  private readonly pathByFd = new Map<number, string>();
  /** A word nobody notifies: Atomics.wait on it is a sleep of the writer thread, for FSYNC_DELAY_MS. */
  private readonly sleepWord = new Int32Array(new SharedArrayBuffer(4));

  constructor(controlBuffer: SharedArrayBuffer) {
    super();
    this.control = new Int32Array(controlBuffer);
  }

  /** True when the faults concern `filePath` (see FAULT_WORDS.SCOPE_BYTES). */
  private inScope(filePath: string): boolean {
    const length = Atomics.load(this.control, FAULT_WORDS.SCOPE_BYTES);
    if (length === 0) return true;
    const scope = Buffer.from(this.control.buffer, FAULT_WORDS.SCOPE_FIRST * 4, length).toString('utf8');
    return filePath.includes(scope);
  }

  override openForWrite(filePath: string): number {
    const fd = super.openForWrite(filePath);
    this.pathByFd.set(fd, filePath);
    return fd;
  }
  override createForWrite(filePath: string): number {
    const fd = super.createForWrite(filePath);
    this.pathByFd.set(fd, filePath);
    return fd;
  }
  override openForRead(filePath: string): number {
    const fd = super.openForRead(filePath);
    this.pathByFd.set(fd, filePath);
    return fd;
  }

  override write(fd: number, bytes: Uint8Array, start: number, end: number, position: number): number {
    const filePath = this.pathByFd.get(fd) ?? String(fd);
    if (!this.inScope(filePath)) return super.write(fd, bytes, start, end, position);
    const name = path.basename(filePath);
    if (Atomics.load(this.control, FAULT_WORDS.DISK_FULL) === 1) this.failFull(fd, bytes, start, end, position, name);
    if (Atomics.load(this.control, FAULT_WORDS.WRITE_FAILS_AFTER) > 0) {
      if (Atomics.sub(this.control, FAULT_WORDS.WRITE_FAILS_AFTER, 1) === 1) {
        if (Atomics.load(this.control, FAULT_WORDS.WRITE_FAILS_ENOSPC) === 1) this.failFull(fd, bytes, start, end, position, name);
        throw errnoError('EIO', 'write', name);
      }
    }
    const written = super.write(fd, bytes, start, end, position);
    Atomics.add(this.control, FAULT_WORDS.WRITES, 1);
    return written;
  }

  /** A write to a full disk: half its bytes are stored, then it fails with ENOSPC. */
  private failFull(fd: number, bytes: Uint8Array, start: number, end: number, position: number, name: string): never {
    const half = start + Math.floor((end - start) / 2);
    if (half > start) super.write(fd, bytes, start, half, position);
    throw errnoError('ENOSPC', 'write', name);
  }

  override fdatasync(fd: number): void {
    const filePath = this.pathByFd.get(fd) ?? String(fd);
    if (!this.inScope(filePath)) return super.fdatasync(fd);
    const delayMs = Atomics.load(this.control, FAULT_WORDS.FSYNC_DELAY_MS);
    if (delayMs > 0) Atomics.wait(this.sleepWord, 0, 0, delayMs);
    if (Atomics.load(this.control, FAULT_WORDS.FSYNC_FAILS) === 1) {
      throw errnoError('EIO', 'fdatasync', path.basename(filePath));
    }
    super.fdatasync(fd);
    Atomics.add(this.control, FAULT_WORDS.FSYNCS, 1);
  }

  /**
   * The faulty fdatasync, run later on this thread (on the next turn of its event loop) instead of on the
   * thread pool: the switches are read when it runs, as a real fdatasync would meet the disk's state
   * then, and a delay is a sleep of this thread, so a test sees one outcome whatever the load.
   */
  override fdatasyncAsync(fd: number, done: (error: Error | null) => void): void {
    setImmediate(() => {
      try {
        this.fdatasync(fd);
      } catch (error) {
        done(error as Error);
        return;
      }
      done(null);
    });
  }

  override close(fd: number): void {
    this.pathByFd.delete(fd);
    super.close(fd);
  }
}
