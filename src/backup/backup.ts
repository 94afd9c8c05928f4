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
 */
import fs from 'node:fs';
import path from 'node:path';
import { MetaLogError } from '../errors.js';
import { foldTo } from '../history/state-at.js';
import { firstWalOffset } from '../snapshot/fold.js';
import { fsyncPath, listSnapshots, readSnapshotFile, SNAPSHOT_DIR, SnapshotDamage } from '../snapshot/snapshot-file.js';
import { decodeSegmentHeader, readRecord, segmentFilesOf, type SegmentFile } from '../wal/format.js';
import { scanWal } from '../wal/recovery.js';
import { NodeStorage } from '../wal/storage.js';

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

function segmentNames(walDir: string): SegmentFile[] {
  return fs.existsSync(walDir) ? segmentFilesOf(fs.readdirSync(walDir)) : [];
}

/** Creates `dir` for a backup or restore: it must not exist, or be empty. */
function prepareEmpty(dir: string, what: string): void {
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
    throw new MetaLogError('INVALID_REQUEST', `${what} ${dir} is not empty`, { file: dir });
  }
  fs.mkdirSync(path.join(dir, 'wal'), { recursive: true });
}

/** fsync of every file under `dir` and of the folders, so the copy survives a crash once reported. */
function makeDurable(dir: string): void {
  for (const sub of ['wal', SNAPSHOT_DIR]) {
    const folder = path.join(dir, sub);
    if (!fs.existsSync(folder)) continue;
    for (const name of fs.readdirSync(folder)) fsyncPath(path.join(folder, name));
    fsyncPath(folder);
  }
  fsyncPath(dir);
}

/**
 * Copies the store in `dir` (open or not, in this process or another) to the empty folder `dest`,
 * verifies the copy and makes it durable. INVALID_REQUEST when `dest` is not empty; CORRUPT_WAL when the
 * copied WAL does not verify; KAFKA_STORAGE_ERROR when a copied snapshot does not, or when compaction
 * removed a file mid-copy (then try again). Nothing is left in `dest` on failure.
 */
export async function backupStore(
  dir: string,
  dest: string,
  verify: (dest: string) => ReturnType<typeof verifyCopy> | Promise<ReturnType<typeof verifyCopy>> = verifyCopy,
  onFile: (copied: number, total: number, name: string) => void = () => {},
): Promise<BackupReport> {
  const started = performance.now();
  prepareEmpty(dest, 'backup destination');
  try {
    fs.mkdirSync(path.join(dest, SNAPSHOT_DIR), { recursive: true });
    let bytes = 0;
    const snapshots = listSnapshots(dir);
    try {
      const segments = segmentNames(path.join(dir, 'wal'));
      const total = snapshots.length + segments.length;
      let copied = 0;
      for (const { file } of snapshots) {
        onFile(copied++, total, path.basename(file));
        await fs.promises.copyFile(file, path.join(dest, SNAPSHOT_DIR, path.basename(file)));
      }
      for (const { name } of segments) {
        onFile(copied++, total, name);
        await fs.promises.copyFile(path.join(dir, 'wal', name), path.join(dest, 'wal', name));
      }
      onFile(copied, total, 'verifying');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new MetaLogError('KAFKA_STORAGE_ERROR', `a file of ${dir} was removed during the backup (compaction); try again`, { file: dir }, error);
      }
      throw error;
    }
    const verified = await verify(dest);
    for (const sub of ['wal', SNAPSHOT_DIR]) {
      for (const name of fs.readdirSync(path.join(dest, sub))) bytes += fs.statSync(path.join(dest, sub, name)).size;
    }
    makeDurable(dest);
    return { dest, ...verified, snapshots: snapshots.map((each) => each.lastOffset), bytes, durationMs: performance.now() - started };
  } catch (error) {
    fs.rmSync(dest, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Checks a copied store: every snapshot whole, every WAL record whole, the WAL continuing the oldest
 * snapshot; cuts the newest segment after its last whole record (an append that was in progress).
 */
export function verifyCopy(dest: string): { lastOffset: number; firstOffset: number; segments: number } {
  for (const { file } of listSnapshots(dest)) {
    try {
      readSnapshotFile(file, () => null);
    } catch (error) {
      if (error instanceof SnapshotDamage) throw new MetaLogError('KAFKA_STORAGE_ERROR', `the copy of ${error.message}`, { file }, error);
      throw error;
    }
  }
  const walDir = path.join(dest, 'wal');
  const scan = scanWal(new NodeStorage(), walDir, () => undefined, { decodes: () => false });
  if (scan.damage !== null) {
    const newest = scan.segments.at(-1);
    if (scan.damage.kind !== 'torn' || newest === undefined || newest.name !== scan.damage.file) {
      throw new MetaLogError('CORRUPT_WAL', `the copied WAL does not verify: ${scan.damage.file} at ${scan.damage.position}: ${scan.damage.reason}`, { file: scan.damage.file, offset: scan.damage.offset });
    }
    fs.truncateSync(newest.filePath, newest.validEnd);
  }
  const firstOffset = firstWalOffset(new NodeStorage(), walDir) ?? 0;
  const oldest = listSnapshots(dest).at(-1);
  if (firstOffset > 0 && (oldest === undefined || oldest.lastOffset + 1 < firstOffset)) {
    throw new MetaLogError('KAFKA_STORAGE_ERROR', `the copied WAL starts at offset ${firstOffset} and no copied snapshot reaches it`, { offset: firstOffset });
  }
  return { lastOffset: scan.nextOffset - 1, firstOffset, segments: scan.segments.length };
}

/** The offset of the last record of the WAL in `walDir` committed at or before `time` (-1: none). */
function offsetAtTime(walDir: string, time: number): number {
  let last = -1;
  let stopped = false;
  scanWal(new NodeStorage(), walDir, (_event, _bytes, view) => {
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
 * the source's end or before its oldest history (compacted, with no snapshot that old).
 */
export function restoreStore(src: string, dir: string, point: RestorePoint = {}, onSegment: (index: number, total: number, name: string) => void = () => {}): RestoreReport {
  const started = performance.now();
  if (point.toOffset !== undefined && point.toTime !== undefined) throw new MetaLogError('INVALID_REQUEST', 'restore takes toOffset or toTime, not both', { field: 'toOffset' });
  for (const [field, value] of Object.entries(point)) {
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 0)) throw new MetaLogError('INVALID_REQUEST', `${field} must be an integer >= 0`, { field });
  }
  const srcWal = path.join(src, 'wal');
  if (!fs.existsSync(srcWal)) throw new MetaLogError('INVALID_REQUEST', `${src} holds no store (no wal folder)`, { file: src });
  const scan = scanWal(new NodeStorage(), srcWal, () => undefined, { decodes: () => false, fromOffset: Number.MAX_SAFE_INTEGER });
  const srcLast = scan.nextOffset - 1;
  const target = point.toTime !== undefined ? offsetAtTime(srcWal, point.toTime) : (point.toOffset ?? srcLast);
  if (target > srcLast) throw new MetaLogError('OFFSET_OUT_OF_RANGE', `offset ${target} is past the source's last offset ${srcLast}`, { offset: srcLast, field: 'toOffset' });
  if (target < 0) throw new MetaLogError('OFFSET_OUT_OF_RANGE', 'the source holds no event at or before that point', { offset: 0, field: 'toTime' });
  const segments = segmentNames(srcWal);
  const walFirst = segments[0]?.baseOffset ?? 0;
  // The newest snapshot at or before the point that the WAL continues; none is needed when the WAL
  // holds everything from offset 0.
  const snapshot = listSnapshots(src).find((each) => each.lastOffset <= target && each.lastOffset + 1 >= walFirst) ?? null;
  if (snapshot === null && walFirst > 0) {
    throw new MetaLogError('OFFSET_OUT_OF_RANGE', `history before offset ${walFirst} was compacted and no snapshot reaches offset ${target}`, { offset: walFirst, field: 'toOffset' });
  }
  prepareEmpty(dir, 'restore destination');
  try {
    if (snapshot !== null) {
      fs.mkdirSync(path.join(dir, SNAPSHOT_DIR), { recursive: true });
      fs.copyFileSync(snapshot.file, path.join(dir, SNAPSHOT_DIR, path.basename(snapshot.file)));
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
      fs.copyFileSync(path.join(srcWal, name), copy);
      copied++;
      if (target <= lastInSegment) fs.truncateSync(copy, endOfRecord(copy, target));
    }
    const folded = foldTo(dir, null);
    if (folded.state.lastOffset !== target) {
      throw new MetaLogError('INTERNAL_ERROR', `the restored store ends at offset ${folded.state.lastOffset}, not ${target}`, { offset: target });
    }
    makeDurable(dir);
    return { dir, lastOffset: target, snapshot: snapshot?.lastOffset ?? null, segments: copied, eventsLeftOut: srcLast - target, durationMs: performance.now() - started };
  } catch (error) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * The byte position right after the record of `offset` in the segment file `file` (or after its last
 * whole record, when the segment ends before that offset).
 */
function endOfRecord(file: string, offset: number): number {
  const bytes = fs.readFileSync(file);
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
