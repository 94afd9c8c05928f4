/**
 * Backup and point-in-time restore, both by copying files: a store is its snapshots (immutable once
 * renamed into place) and its WAL segments (sealed ones immutable, the newest only appended to), so a
 * copy taken in the right order is consistent without stopping the writer, and without its lock.
 *
 * Backup order: snapshots first, then segments oldest first, the newest last and cut after its last
 * whole record. A snapshot copied first never holds an event past the WAL copied after it; the cut
 * drops at most an append in progress (never an acknowledged one: it was written before the copy
 * started). Then everything copied is verified (every snapshot's checksums, every WAL record's) and
 * made durable. Compaction running meanwhile can delete a segment before it is copied: the backup then
 * fails and says to try again (nothing half-made is left as a backup: the folder is removed).
 *
 * Restore copies a backup (or a store's folder) into a new folder up to a point: the newest snapshot
 * at or before it, the segments after that snapshot up to the point, the last one cut right after the
 * point's record; then folds the result to prove it ends exactly there.
 *
 * A crash midway: the destination keeps a marker (copy-marker.ts) from before its first file until all
 * of it is durable, and open and restore refuse a folder that has it, so a half copy never passes for a
 * whole store.
 *
 * Failures: every file goes through `Storage`. An I/O error (a full disk at the destination, EIO) fails
 * the backup or restore with KAFKA_STORAGE_ERROR naming the destination, the I/O error as its cause,
 * after the destination folder was removed; if even the removal fails, the error says so and that the
 * folder must be deleted by hand. The source is only read. A backup copies a piece of a file at a time
 * and gives the caller's thread a turn between pieces; a restore (offline) copies straight through.
 */
import path from 'node:path';
import { MetaLogError } from '../errors.js';
import { foldTo } from '../history/state-at.js';
import { firstWalOffset } from '../snapshot/fold.js';
import { listSnapshots, readSnapshotFile, SNAPSHOT_DIR, SnapshotDamage } from '../snapshot/snapshot-file.js';
import { copyFile, copyFileYielding, isIoError, isPathError, syncFile, writeFileDurably } from '../wal/durable-file.js';
import { decodeSegmentHeader, readRecord, segmentFilesOf, type SegmentFile } from '../wal/format.js';
import { scanWal } from '../wal/recovery.js';
import { COPY_MARKER, refuseUnfinishedCopy } from './copy-marker.js';
import { storageFor, type Storage } from '../wal/storage.js';

/** What a backup holds, checked when it was taken. */
export interface BackupReport {
  dest: string;
  /** Offset of the last event in the backup. */
  lastOffset: number;
  /** First offset the backup's WAL holds (older history is only in its snapshots). */
  firstOffset: number;
  /** Offsets of the snapshots copied, newest first. */
  snapshots: number[];
  segments: number;
  bytes: number;
  durationMs: number;
}

/** What a restore made. */
export interface RestoreReport {
  dir: string;
  /** Offset of the last event in the restored store: the point asked for. */
  lastOffset: number;
  /** The snapshot the restored store starts from, or null (its WAL starts at offset 0). */
  snapshot: number | null;
  segments: number;
  /** Events of the source after the point, left out. */
  eventsLeftOut: number;
  durationMs: number;
}

/** Where a restore stops: an offset (inclusive) or a time (every event committed by then). */
export interface RestorePoint {
  toOffset?: number;
  toTime?: number;
}

function segmentNames(storage: Storage, walDir: string): SegmentFile[] {
  return storage.exists(walDir) ? segmentFilesOf(storage.readdir(walDir)) : [];
}

/** Creates `dir` for a backup or restore: it must not exist, or be empty. */
function prepareEmpty(storage: Storage, dir: string, what: string): void {
  if (storage.exists(dir) && storage.readdir(dir).length > 0) {
    throw new MetaLogError('INVALID_REQUEST', `${what} ${dir} is not empty`, { file: dir });
  }
  try {
    storage.mkdirp(path.join(dir, 'wal'));
  } catch (error) {
    if (isPathError(error)) throw new MetaLogError('INVALID_REQUEST', `cannot create ${what} ${dir}: ${error.code}`, { file: dir, field: 'dest' }, error);
    throw failedCopy(error, `cannot create ${what} ${dir}`, dir);
  }
  try {
    writeFileDurably(storage, path.join(dir, COPY_MARKER), [Buffer.from(`${what}: a copy in progress; it did not finish while this file is here\n`)]);
  } catch (error) {
    throw abandonCopy(storage, dir, error, `preparing the ${what}`);
  }
}

/** fsync of every file under `dir`, of its folders and of its entry, so the copy survives a crash once reported. */
function makeDurable(storage: Storage, dir: string): void {
  for (const sub of ['wal', SNAPSHOT_DIR]) {
    const folder = path.join(dir, sub);
    if (!storage.exists(folder)) continue;
    for (const name of storage.readdir(folder)) syncFile(storage, path.join(folder, name));
    storage.fsyncDir(folder);
  }
  storage.fsyncDir(dir);
  storage.fsyncDir(path.dirname(dir));
  // Only now, with every file and folder durable, is the copy whole: take its marker away, durably.
  storage.unlink(path.join(dir, COPY_MARKER));
  storage.fsyncDir(dir);
}

/** The error of a failed copy: an I/O error becomes KAFKA_STORAGE_ERROR naming `file`; others stay as they are. */
function failedCopy(error: unknown, what: string, file: string): unknown {
  if (!isIoError(error)) return error;
  return new MetaLogError('KAFKA_STORAGE_ERROR', `${what}: ${error.code} (${error.syscall})`, { file }, error);
}

/**
 * Removes what a failed backup or restore made in `dest` and returns the error to throw: `error` (an I/O
 * error as KAFKA_STORAGE_ERROR), or, when the folder cannot be removed, one that says it must be.
 */
function abandonCopy(storage: Storage, dest: string, error: unknown, what: string): unknown {
  const failure = failedCopy(error, `${what} into ${dest} failed`, dest);
  try {
    storage.remove(dest);
  } catch (removeError) {
    const reason = failure instanceof Error ? failure.message : String(failure);
    return new MetaLogError('KAFKA_STORAGE_ERROR', `${reason}; and its unfinished copy could not be removed (${(removeError as Error).message}): delete ${dest} before using it`, { file: dest }, failure);
  }
  return failure;
}

/**
 * Copies the store in `dir` (open or not, in this process or another) to the empty folder `dest`,
 * verifies the copy and makes it durable. INVALID_REQUEST when `dest` is not empty; CORRUPT_WAL when the
 * copied WAL does not verify; KAFKA_STORAGE_ERROR when a copied snapshot does not, when compaction
 * removed a file mid-copy (then try again), or on an I/O error (a full disk: the error's cause). Nothing
 * is left in `dest` on failure. `verify` defaults to `verifyCopy` on this thread; `storage`, to the real disk.
 */
export async function backupStore(
  dir: string,
  dest: string,
  verify?: (dest: string) => ReturnType<typeof verifyCopy> | Promise<ReturnType<typeof verifyCopy>>,
  onFile: (copied: number, total: number, name: string) => void = () => {},
  storage: Storage = storageFor(),
): Promise<BackupReport> {
  const started = performance.now();
  prepareEmpty(storage, dest, 'backup destination');
  try {
    storage.mkdirp(path.join(dest, SNAPSHOT_DIR));
    let bytes = 0;
    const snapshots = listSnapshots(dir, storage);
    const segments = segmentNames(storage, path.join(dir, 'wal'));
    const total = snapshots.length + segments.length;
    let copied = 0;
    for (const { file } of snapshots) {
      onFile(copied++, total, path.basename(file));
      await copyFromStore(storage, file, path.join(dest, SNAPSHOT_DIR, path.basename(file)), dir);
    }
    for (const { name } of segments) {
      onFile(copied++, total, name);
      await copyFromStore(storage, path.join(dir, 'wal', name), path.join(dest, 'wal', name), dir);
    }
    onFile(copied, total, 'verifying');
    const verified = await (verify ?? ((copy: string) => verifyCopy(copy, storage)))(dest);
    for (const sub of ['wal', SNAPSHOT_DIR]) {
      for (const name of storage.readdir(path.join(dest, sub))) bytes += storage.stat(path.join(dest, sub, name)).bytes;
    }
    makeDurable(storage, dest);
    return { dest, ...verified, snapshots: snapshots.map((each) => each.lastOffset), bytes, durationMs: performance.now() - started };
  } catch (error) {
    throw abandonCopy(storage, dest, error, `the backup of ${dir}`);
  }
}

/** Copies one file of the store in `dir` for a backup; a file gone from the source means compaction ran. */
async function copyFromStore(storage: Storage, from: string, to: string, dir: string): Promise<void> {
  try {
    await copyFileYielding(storage, from, to);
  } catch (error) {
    if (isIoError(error) && error.code === 'ENOENT' && error.path === from) {
      throw new MetaLogError('KAFKA_STORAGE_ERROR', `a file of ${dir} was removed during the backup (compaction); try again`, { file: dir }, error);
    }
    throw error;
  }
}

/**
 * Checks a copied store: every snapshot whole, every WAL record whole, the WAL continuing the oldest
 * snapshot; cuts the newest segment after its last whole record (an append that was in progress).
 */
export function verifyCopy(dest: string, storage: Storage): { lastOffset: number; firstOffset: number; segments: number } {
  for (const { file } of listSnapshots(dest, storage)) {
    try {
      readSnapshotFile(file, () => null, undefined, storage);
    } catch (error) {
      if (error instanceof SnapshotDamage) throw new MetaLogError('KAFKA_STORAGE_ERROR', `the copy of ${error.message}`, { file }, error);
      throw error;
    }
  }
  const walDir = path.join(dest, 'wal');
  const scan = scanWal(storage, walDir, () => undefined, { decodes: () => false });
  if (scan.damage !== null) {
    const newest = scan.segments.at(-1);
    if (scan.damage.kind !== 'torn' || newest === undefined || newest.name !== scan.damage.file) {
      throw new MetaLogError('CORRUPT_WAL', `the copied WAL does not verify: ${scan.damage.file} at ${scan.damage.position}: ${scan.damage.reason}`, { file: scan.damage.file, offset: scan.damage.offset });
    }
    // Made durable with the rest of the copy (makeDurable).
    storage.truncate(newest.filePath, newest.validEnd);
  }
  const firstOffset = firstWalOffset(storage, walDir) ?? 0;
  const oldest = listSnapshots(dest, storage).at(-1);
  if (firstOffset > 0 && (oldest === undefined || oldest.lastOffset + 1 < firstOffset)) {
    throw new MetaLogError('KAFKA_STORAGE_ERROR', `the copied WAL starts at offset ${firstOffset} and no copied snapshot reaches it`, { offset: firstOffset });
  }
  return { lastOffset: scan.nextOffset - 1, firstOffset, segments: scan.segments.length };
}

/** The offset of the last record of the WAL in `walDir` committed at or before `time` (-1: none). */
function offsetAtTime(storage: Storage, walDir: string, time: number): number {
  let last = -1;
  let stopped = false;
  scanWal(storage, walDir, (_event, _bytes, view) => {
    if (stopped || view.timestampMs > time) {
      stopped = true;
      return;
    }
    last = view.offset;
  }, { decodes: () => false });
  return last;
}

/**
 * Restores the store (or backup) in `src` into the empty folder `dir`, up to `point` (all of it when
 * empty): a store that opens with exactly the state at that point. OFFSET_OUT_OF_RANGE for a point past
 * the source's end or before its oldest history (compacted, with no snapshot that old);
 * KAFKA_STORAGE_ERROR when a file cannot be copied (then `dir` is removed).
 * @param storage the real disk when not given (offline tools).
 */
export function restoreStore(
  src: string,
  dir: string,
  point: RestorePoint = {},
  onSegment: (index: number, total: number, name: string) => void = () => {},
  storage: Storage = storageFor(),
): RestoreReport {
  const started = performance.now();
  if (point.toOffset !== undefined && point.toTime !== undefined) throw new MetaLogError('INVALID_REQUEST', 'restore takes toOffset or toTime, not both', { field: 'toOffset' });
  for (const [field, value] of Object.entries(point)) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) throw new MetaLogError('INVALID_REQUEST', `${field} must be an integer >= 0`, { field });
  }
  const srcWal = path.join(src, 'wal');
  if (!storage.exists(srcWal)) throw new MetaLogError('INVALID_REQUEST', `${src} holds no store (no wal folder)`, { file: src });
  refuseUnfinishedCopy(src, storage);
  const scan = scanWal(storage, srcWal, () => undefined, { decodes: () => false, fromOffset: Number.MAX_SAFE_INTEGER });
  const srcLast = scan.nextOffset - 1;
  const target = point.toTime !== undefined ? offsetAtTime(storage, srcWal, point.toTime) : (point.toOffset ?? srcLast);
  if (target > srcLast) throw new MetaLogError('OFFSET_OUT_OF_RANGE', `offset ${target} is past the source's last offset ${srcLast}`, { offset: srcLast, field: 'toOffset' });
  if (target < 0) throw new MetaLogError('OFFSET_OUT_OF_RANGE', 'the source holds no event at or before that point', { offset: 0, field: 'toTime' });
  const segments = segmentNames(storage, srcWal);
  const walFirst = segments[0]?.baseOffset ?? 0;
  // The newest snapshot at or before the point that the WAL continues; none is needed when the WAL
  // holds everything from offset 0.
  const snapshot = listSnapshots(src, storage).find((each) => each.lastOffset <= target && each.lastOffset + 1 >= walFirst) ?? null;
  if (snapshot === null && walFirst > 0) {
    throw new MetaLogError('OFFSET_OUT_OF_RANGE', `history before offset ${walFirst} was compacted and no snapshot reaches offset ${target}`, { offset: walFirst, field: 'toOffset' });
  }
  prepareEmpty(storage, dir, 'restore destination');
  try {
    if (snapshot !== null) {
      storage.mkdirp(path.join(dir, SNAPSHOT_DIR));
      copyFile(storage, snapshot.file, path.join(dir, SNAPSHOT_DIR, path.basename(snapshot.file)));
    }
    // Segments holding events from the snapshot's next offset through the target; at least the one
    // holding the target, so the restored WAL ends exactly there (cut right after its record).
    const from = Math.min(snapshot === null ? 0 : snapshot.lastOffset + 1, target);
    let copied = 0;
    for (let index = 0; index < segments.length; index++) {
      const { name, baseOffset } = segments[index];
      const lastInSegment = (segments[index + 1]?.baseOffset ?? Number.MAX_SAFE_INTEGER) - 1;
      if (lastInSegment < from || baseOffset > target) continue;
      onSegment(index, segments.length, name);
      const copy = path.join(dir, 'wal', name);
      copyFile(storage, path.join(srcWal, name), copy);
      copied++;
      // Made durable with the rest of the copy (makeDurable).
      if (target <= lastInSegment) storage.truncate(copy, endOfRecord(storage, copy, target));
    }
    const folded = foldTo(dir, null, storage);
    if (folded.state.lastOffset !== target) {
      throw new MetaLogError('INTERNAL_ERROR', `the restored store ends at offset ${folded.state.lastOffset}, not ${target}`, { offset: target });
    }
    makeDurable(storage, dir);
    return { dir, lastOffset: target, snapshot: snapshot?.lastOffset ?? null, segments: copied, eventsLeftOut: srcLast - target, durationMs: performance.now() - started };
  } catch (error) {
    throw abandonCopy(storage, dir, error, `the restore of ${src}`);
  }
}

/**
 * The byte position right after the record of `offset` in the segment file `file` (or after its last
 * whole record, when the segment ends before that offset).
 */
function endOfRecord(storage: Storage, file: string, offset: number): number {
  const bytes = storage.readFile(file);
  const header = decodeSegmentHeader(bytes);
  if ('problem' in header) throw new MetaLogError('CORRUPT_WAL', `segment ${path.basename(file)} has a damaged header (${header.problem})`, { file });
  let position = header.headerBytes;
  // Bounded: each pass moves past one whole record.
  for (;;) {
    const found = readRecord(bytes, position, bytes.length);
    if (typeof found === 'string' || found.offset > offset) return position;
    position = found.end;
  }
}
