/**
 * The one interface through which the partition log touches the disk, so tests can swap in a faulty one
 * (a full disk on the third write, a failing fdatasync, a record of the order of calls).
 * `NodeLogStorage` is the only class here that uses node:fs.
 *
 * All calls are asynchronous (node:fs/promises): many partitions' fdatasyncs run in parallel on libuv's
 * thread pool, and the event loop keeps serving requests while a write or a sync is on its way.
 * A file is addressed by an opaque {@link LogFile} that knows its path; positions are explicit on every
 * read and write, so no call depends on a file cursor.
 */
import fs from 'node:fs/promises';
import { constants } from 'node:fs';

/** One open file of a segment (its .log, .index or .timeindex). */
export interface LogFile {
  /** The path the file was opened with. */
  readonly path: string;
  /** Reads into `into[start, end)` from `position`; returns bytes read (fewer at the end of the file). */
  read(into: Buffer, start: number, end: number, position: number): Promise<number>;
  /** Writes `bytes[start, end)` at `position`; returns bytes written (a short write is possible). */
  write(bytes: Buffer, start: number, end: number, position: number): Promise<number>;
  /** Cuts the file to `lengthBytes`. */
  truncate(lengthBytes: number): Promise<void>;
  /** Makes the file's bytes and size durable. */
  datasync(): Promise<void>;
  /** Size of the file in bytes. */
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
}

/** The file-system operations of the partition log. */
export interface LogStorage {
  /** Opens a file for reading and writing; creates it (empty) when `create` and it does not exist. */
  open(filePath: string, create: boolean): Promise<LogFile>;
  /** Names in a folder; an empty list when the folder does not exist. */
  readdir(dirPath: string): Promise<string[]>;
  /** Creates a folder and its parents. */
  mkdirp(dirPath: string): Promise<void>;
  /** Renames a file, replacing the target. */
  rename(fromPath: string, toPath: string): Promise<void>;
  /** Removes a file; does nothing when there is none. */
  unlink(filePath: string): Promise<void>;
  /** Removes a folder and everything in it; does nothing when there is none. */
  removeTree(dirPath: string): Promise<void>;
  /** fsync of a folder, so a created, renamed or removed name in it survives a crash. */
  syncDir(dirPath: string): Promise<void>;
}

class NodeLogFile implements LogFile {
  constructor(
    readonly path: string,
    private readonly handle: fs.FileHandle,
  ) {}
  async read(into: Buffer, start: number, end: number, position: number): Promise<number> {
    const { bytesRead } = await this.handle.read(into, start, end - start, position);
    return bytesRead;
  }
  async write(bytes: Buffer, start: number, end: number, position: number): Promise<number> {
    const { bytesWritten } = await this.handle.write(bytes, start, end - start, position);
    return bytesWritten;
  }
  truncate(lengthBytes: number): Promise<void> {
    return this.handle.truncate(lengthBytes);
  }
  datasync(): Promise<void> {
    return this.handle.datasync();
  }
  async sizeBytes(): Promise<number> {
    return (await this.handle.stat()).size;
  }
  close(): Promise<void> {
    return this.handle.close();
  }
}

/** The real disk. */
export class NodeLogStorage implements LogStorage {
  async open(filePath: string, create: boolean): Promise<LogFile> {
    const flags = constants.O_RDWR | (create ? constants.O_CREAT : 0);
    return new NodeLogFile(filePath, await fs.open(filePath, flags, 0o644));
  }
  async readdir(dirPath: string): Promise<string[]> {
    try {
      return await fs.readdir(dirPath);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
  async mkdirp(dirPath: string): Promise<void> {
    await fs.mkdir(dirPath, { recursive: true });
  }
  rename(fromPath: string, toPath: string): Promise<void> {
    return fs.rename(fromPath, toPath);
  }
  async unlink(filePath: string): Promise<void> {
    await fs.rm(filePath, { force: true });
  }
  async removeTree(dirPath: string): Promise<void> {
    await fs.rm(dirPath, { recursive: true, force: true });
  }
  async syncDir(dirPath: string): Promise<void> {
    const handle = await fs.open(dirPath, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}
