/**
 * The durable file sequences on an in-memory storage that records every call: the order of the steps
 * (write the temporary file, fdatasync, rename, fsync of the folder), the fdatasync every 8 MiB of a
 * large file, what a failed write leaves (the old file, no `.tmp`), the durable truncate, and copies.
 */
import test from 'ava';
import path from 'node:path';
import { copyFile, copyFileYielding, truncateDurably, writeFileDurably } from '../../../src/wal/durable-file.js';
import { MemoryStorage } from '../../helpers/memory-storage.js';

const MIB = 1024 * 1024;

/** A MemoryStorage that logs its calls and can fail the write that reaches `failAtBytes`. */
class RecordingStorage extends MemoryStorage {
  readonly calls: string[] = [];
  failAtBytes = -1;
  private writtenBytes = 0;

  override write(fd: number, bytes: Uint8Array, start: number, end: number, position: number): number {
    if (this.failAtBytes >= 0 && this.writtenBytes + (end - start) > this.failAtBytes) {
      throw Object.assign(new Error('ENOSPC: full'), { code: 'ENOSPC', syscall: 'write' });
    }
    this.writtenBytes += end - start;
    this.calls.push(`write ${end - start}`);
    return super.write(fd, bytes, start, end, position);
  }
  override fdatasync(fd: number): void {
    this.calls.push('fdatasync');
    super.fdatasync(fd);
  }
  override rename(from: string, to: string): void {
    this.calls.push(`rename ${path.basename(from)} ${path.basename(to)}`);
    super.rename(from, to);
  }
  override fsyncDir(dirPath: string): void {
    this.calls.push(`fsyncDir ${dirPath}`);
    super.fsyncDir(dirPath);
  }
  override truncate(filePath: string, length: number): void {
    this.calls.push(`truncate ${length}`);
    super.truncate(filePath, length);
  }
}

test('a durable write: tmp, fdatasync every 8 MiB and at the end, rename, fsync of the folder', (t) => {
  const storage = new RecordingStorage();
  const bytes = writeFileDurably(storage, '/d/f', [new Uint8Array(16), new Uint8Array(20 * MIB)]);
  t.is(bytes, 16 + 20 * MIB);
  t.deepEqual(storage.calls, [
    'write 16', `write ${8 * MIB}`, 'fdatasync', `write ${8 * MIB}`, 'fdatasync', `write ${4 * MIB}`, 'fdatasync',
    'rename f.tmp f', 'fsyncDir /d',
  ]);
  t.is(storage.readFile('/d/f').length, bytes);
  t.false(storage.files.has('/d/f.tmp'));
});

test('a failed durable write leaves the old file and no temporary file', (t) => {
  const storage = new RecordingStorage();
  writeFileDurably(storage, '/d/f', [Buffer.from('old')]);
  storage.failAtBytes = 3 + 10;
  const error = t.throws(() => writeFileDurably(storage, '/d/f', [new Uint8Array(8), new Uint8Array(8)])) as NodeJS.ErrnoException;
  t.is(error.code, 'ENOSPC');
  t.is(storage.readFile('/d/f').toString(), 'old');
  t.deepEqual([...storage.files.keys()], ['/d/f']);
});

test('a durable truncate cuts and then syncs', (t) => {
  const storage = new RecordingStorage();
  storage.files.set('/d/f', Buffer.alloc(100, 1));
  truncateDurably(storage, '/d/f', 40);
  t.deepEqual(storage.calls, ['truncate 40', 'fdatasync']);
  t.is(storage.readFile('/d/f').length, 40);
});

test('copies, in one go and a piece at a time, give the same bytes', async (t) => {
  const storage = new RecordingStorage();
  const source = Buffer.alloc(2 * MIB + 123);
  for (let i = 0; i < source.length; i++) source[i] = (i * 31) & 0xff;
  storage.files.set('/d/src', source);
  t.is(copyFile(storage, '/d/src', '/d/a'), source.length);
  t.is(await copyFileYielding(storage, '/d/src', '/d/b'), source.length);
  t.true(storage.readFile('/d/a').equals(source));
  t.true(storage.readFile('/d/b').equals(source));
  t.is(storage.calls.filter((call) => call.startsWith('write')).length, 6, 'three pieces per copy');
});
