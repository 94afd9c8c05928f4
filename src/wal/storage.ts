/**
 * The one interface through which the store touches the disk, so tests can swap in a faulty one.
 *
 * All calls are synchronous: they run on the writer thread, which owns the WAL and has nothing else to do
 * while a write or an fdatasync is in progress (the broker's thread never waits on them directly).
 *
 * `FaultyStorage` wraps the real one and fails on command. Its fault switches live in a SharedArrayBuffer
 * (see {@link FAULT_WORDS}) so a test on another thread can turn a full disk or a failing fdatasync on and
 * off while the writer runs, deterministically and without timing.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Synchronous file operations used by the WAL. */
export interface Storage {
  /** Opens an existing file for writing at explicit positions; returns a descriptor. */
  openForWrite(filePath: string): number;
  /** Creates or truncates a file for writing. */
  createForWrite(filePath: string): number;
  /** Writes `bytes[start, end)` at `position`; returns bytes written (may be fewer on some errors). */
  write(fd: number, bytes: Uint8Array, start: number, end: number, position: number): number;
  fdatasync(fd: number): void;
  ftruncate(fd: number, length: number): void;
  close(fd: number): void;
  readFile(filePath: string): Buffer;
  readdir(dirPath: string): string[];
  mkdirp(dirPath: string): void;
  rename(from: string, to: string): void;
  unlink(filePath: string): void;
  truncate(filePath: string, length: number): void;
  /** fsync of a directory, so a rename or a new file in it survives a crash. */
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
  write(fd: number, bytes: Uint8Array, start: number, end: number, position: number): number {
    return fs.writeSync(fd, bytes, start, end - start, position);
  }
  fdatasync(fd: number): void {
    fs.fdatasyncSync(fd);
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

/**
 * Indexes of the fault switches and counters in a FaultyStorage control buffer (Int32 words).
 * - DISK_FULL: while 1, every write stores half its bytes, then fails with ENOSPC (a realistic partial write).
 * - FSYNC_FAILS: while 1, every fdatasync fails with EIO.
 * - WRITE_FAILS_AFTER: when > 0, counts down on each write; the write that brings it to 0 fails with EIO.
 * - WRITES, FSYNCS: counters of calls that reached the disk, for tests to wait on.
 * - FSYNC_DELAY_MS: while > 0, every fdatasync first sleeps this long (a slow disk), then runs.
 */
export const FAULT_WORDS = Object.freeze({ DISK_FULL: 0, FSYNC_FAILS: 1, WRITE_FAILS_AFTER: 2, WRITES: 3, FSYNCS: 4, FSYNC_DELAY_MS: 5 });
/** Words in a fault control buffer. */
export const FAULT_WORD_COUNT = 8;

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

  override openForWrite(filePath: string): number {
    const fd = super.openForWrite(filePath);
    this.pathByFd.set(fd, path.basename(filePath));
    return fd;
  }
  override createForWrite(filePath: string): number {
    const fd = super.createForWrite(filePath);
    this.pathByFd.set(fd, path.basename(filePath));
    return fd;
  }

  override write(fd: number, bytes: Uint8Array, start: number, end: number, position: number): number {
    const name = this.pathByFd.get(fd) ?? String(fd);
    if (Atomics.load(this.control, FAULT_WORDS.DISK_FULL) === 1) {
      const half = start + Math.floor((end - start) / 2);
      if (half > start) super.write(fd, bytes, start, half, position);
      throw errnoError('ENOSPC', 'write', name);
    }
    if (Atomics.load(this.control, FAULT_WORDS.WRITE_FAILS_AFTER) > 0) {
      if (Atomics.sub(this.control, FAULT_WORDS.WRITE_FAILS_AFTER, 1) === 1) throw errnoError('EIO', 'write', name);
    }
    const written = super.write(fd, bytes, start, end, position);
    Atomics.add(this.control, FAULT_WORDS.WRITES, 1);
    return written;
  }

  override fdatasync(fd: number): void {
    const delayMs = Atomics.load(this.control, FAULT_WORDS.FSYNC_DELAY_MS);
    if (delayMs > 0) Atomics.wait(this.sleepWord, 0, 0, delayMs);
    if (Atomics.load(this.control, FAULT_WORDS.FSYNC_FAILS) === 1) {
      throw errnoError('EIO', 'fdatasync', this.pathByFd.get(fd) ?? String(fd));
    }
    super.fdatasync(fd);
    Atomics.add(this.control, FAULT_WORDS.FSYNCS, 1);
  }

  override close(fd: number): void {
    this.pathByFd.delete(fd);
    super.close(fd);
  }
}
