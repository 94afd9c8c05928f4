/**
 * An in-memory Storage for pure recovery tests: thousands of damaged logs per second, no disk.
 * Files are Buffers in a Map keyed by path; directories are implied by paths.
 */
import path from 'node:path';
import type { FileStat, Storage } from '../../src/wal/storage.js';

export class MemoryStorage implements Storage {
  readonly files = new Map<string, Buffer>();
  private readonly pathByFd = new Map<number, string>();
  private nextFd = 100;

  /** A deep copy, so one pristine log can be damaged many ways. */
  clone(): MemoryStorage {
    const copy = new MemoryStorage();
    for (const [name, bytes] of this.files) copy.files.set(name, Buffer.from(bytes));
    return copy;
  }

  private open(filePath: string): number {
    const fd = this.nextFd++;
    this.pathByFd.set(fd, filePath);
    return fd;
  }
  private file(fd: number): string {
    const filePath = this.pathByFd.get(fd);
    if (filePath === undefined) throw new Error(`EBADF ${fd}`);
    return filePath;
  }

  openForWrite(filePath: string): number {
    if (!this.files.has(filePath)) throw Object.assign(new Error(`ENOENT ${filePath}`), { code: 'ENOENT' });
    return this.open(filePath);
  }
  openForRead(filePath: string): number {
    this.readFile(filePath);
    return this.open(filePath);
  }
  createForWrite(filePath: string): number {
    this.files.set(filePath, Buffer.alloc(0));
    return this.open(filePath);
  }
  write(fd: number, bytes: Uint8Array, start: number, end: number, position: number): number {
    const filePath = this.file(fd);
    const current = this.files.get(filePath) as Buffer;
    const next = Buffer.alloc(Math.max(current.length, position + (end - start)));
    current.copy(next);
    next.set(bytes.subarray(start, end), position);
    this.files.set(filePath, next);
    return end - start;
  }
  read(fd: number, into: Uint8Array, start: number, end: number, position: number): number {
    const bytes = this.readFile(this.file(fd));
    const count = Math.max(0, Math.min(end - start, bytes.length - position));
    into.set(bytes.subarray(position, position + count), start);
    return count;
  }
  statFd(fd: number): FileStat {
    return this.stat(this.file(fd));
  }
  stat(filePath: string): FileStat {
    return { bytes: this.readFile(filePath).length, modifiedMs: 0 };
  }
  fdatasync(fd: number): void {
    this.file(fd);
  }
  fdatasyncAsync(fd: number, done: (error: Error | null) => void): void {
    setImmediate(() => {
      try {
        this.file(fd);
      } catch (error) {
        done(error as Error);
        return;
      }
      done(null);
    });
  }
  ftruncate(fd: number, length: number): void {
    this.truncate(this.file(fd), length);
  }
  close(fd: number): void {
    this.pathByFd.delete(fd);
  }
  readFile(filePath: string): Buffer {
    const bytes = this.files.get(filePath);
    if (bytes === undefined) throw Object.assign(new Error(`ENOENT ${filePath}`), { code: 'ENOENT' });
    return Buffer.from(bytes);
  }
  readdir(dirPath: string): string[] {
    return [...this.files.keys()].filter((name) => path.dirname(name) === dirPath).map((name) => path.basename(name));
  }
  mkdirp(): void {}
  rename(from: string, to: string): void {
    this.files.set(to, this.readFile(from));
    this.files.delete(from);
  }
  unlink(filePath: string): void {
    this.files.delete(filePath);
  }
  remove(targetPath: string): void {
    for (const name of [...this.files.keys()]) {
      if (name === targetPath || name.startsWith(`${targetPath}${path.sep}`)) this.files.delete(name);
    }
  }
  truncate(filePath: string, length: number): void {
    this.files.set(filePath, Buffer.from(this.readFile(filePath).subarray(0, length)));
  }
  fsyncDir(_dirPath?: string): void {}
  exists(dirPath: string): boolean {
    return [...this.files.keys()].some((name) => name.startsWith(dirPath));
  }
}
