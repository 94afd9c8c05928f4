/**
 * A LogStorage over the real disk that records every call in order and fails on command: a write that
 * writes some bytes and then fails with ENOSPC, a failing truncate or fdatasync, an fdatasync held at a
 * gate until the test opens it. Faults are switched by the test between calls; nothing depends on time.
 */
import path from 'node:path';
import { NodeLogStorage, type LogFile, type LogStorage } from '../../../../src/kafka/partition-log/log-storage.js';

function errno(code: string): NodeJS.ErrnoException {
  const error = new Error(`${code}: injected`) as NodeJS.ErrnoException;
  error.code = code;
  return error;
}

/** A promise the test resolves by hand. */
export interface Gate {
  promise: Promise<void>;
  open(): void;
}

export function gate(): Gate {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

export class FaultStorage implements LogStorage {
  private readonly disk = new NodeLogStorage();
  /** Every call, as "<operation> <file name>", in the order made (datasync also when it returns). */
  readonly calls: string[] = [];
  /** When set, the next write writes this many bytes and then fails with `writeFault`. */
  writeFaultAfterBytes: number | null = null;
  writeFault = 'ENOSPC';
  /** When set, the next write to the file of this name writes nothing and fails with `writeFault`. */
  failWriteTo: string | null = null;
  /** When set, truncates fail with this code. */
  truncateFault: string | null = null;
  /** When set, fdatasyncs fail with this code. */
  datasyncFault: string | null = null;
  /** When set, fdatasyncs wait for this gate before they run. */
  datasyncGate: Gate | null = null;
  /** Resolves each time an fdatasync is entered (before the gate). */
  onDatasyncEntered: ((name: string) => void) | null = null;

  async open(filePath: string, create: boolean): Promise<LogFile> {
    this.calls.push(`open ${path.basename(filePath)}`);
    return new FaultFile(this, await this.disk.open(filePath, create));
  }
  readdir(dirPath: string): Promise<string[]> {
    return this.disk.readdir(dirPath);
  }
  mkdirp(dirPath: string): Promise<void> {
    return this.disk.mkdirp(dirPath);
  }
  rename(fromPath: string, toPath: string): Promise<void> {
    this.calls.push(`rename ${path.basename(fromPath)} ${path.basename(toPath)}`);
    return this.disk.rename(fromPath, toPath);
  }
  unlink(filePath: string): Promise<void> {
    this.calls.push(`unlink ${path.basename(filePath)}`);
    return this.disk.unlink(filePath);
  }
  removeTree(dirPath: string): Promise<void> {
    this.calls.push(`removeTree ${path.basename(dirPath)}`);
    return this.disk.removeTree(dirPath);
  }
  syncDir(dirPath: string): Promise<void> {
    return this.disk.syncDir(dirPath);
  }
}

class FaultFile implements LogFile {
  constructor(
    private readonly storage: FaultStorage,
    private readonly file: LogFile,
  ) {}
  get path(): string {
    return this.file.path;
  }
  private get name(): string {
    return path.basename(this.file.path);
  }
  read(into: Buffer, start: number, end: number, position: number): Promise<number> {
    return this.file.read(into, start, end, position);
  }
  async write(bytes: Buffer, start: number, end: number, position: number): Promise<number> {
    this.storage.calls.push(`write ${this.name}`);
    if (this.storage.failWriteTo === this.name) {
      this.storage.failWriteTo = null;
      throw errno(this.storage.writeFault);
    }
    const faultAfter = this.storage.writeFaultAfterBytes;
    if (faultAfter !== null) {
      this.storage.writeFaultAfterBytes = null;
      if (faultAfter > 0) await this.file.write(bytes, start, Math.min(end, start + faultAfter), position);
      throw errno(this.storage.writeFault);
    }
    return this.file.write(bytes, start, end, position);
  }
  async truncate(lengthBytes: number): Promise<void> {
    this.storage.calls.push(`truncate ${this.name} ${lengthBytes}`);
    if (this.storage.truncateFault !== null) throw errno(this.storage.truncateFault);
    return this.file.truncate(lengthBytes);
  }
  async datasync(): Promise<void> {
    this.storage.calls.push(`datasync ${this.name}`);
    this.storage.onDatasyncEntered?.(this.name);
    if (this.storage.datasyncGate !== null) await this.storage.datasyncGate.promise;
    if (this.storage.datasyncFault !== null) throw errno(this.storage.datasyncFault);
    await this.file.datasync();
    this.storage.calls.push(`datasynced ${this.name}`);
  }
  sizeBytes(): Promise<number> {
    return this.file.sizeBytes();
  }
  close(): Promise<void> {
    return this.file.close();
  }
}
