/**
 * Explicit repair of a damaged log: cut it at the first damage and keep a copy of everything cut.
 *
 * Never automatic: open refuses a corrupt log (CORRUPT_WAL) and an operator decides to repair. Repair
 * truncates the damaged segment at the damage (or sets the whole segment aside when its header is
 * damaged), moves every later segment aside, and saves all of it under `<dir>/repair-<time>/`, then
 * reports what was dropped: the bytes, and how many records in them still verified (acknowledged writes
 * that the cut loses, which an operator may want to replay by hand from the saved copy).
 */
import path from 'node:path';
import { MetaLogError } from '../errors.js';
import { readRecord, validRecordAfter } from './format.js';
import { scanWal, type WalDamage } from './recovery.js';
import { makeDirDurably, truncateDurably, writeFileDurably } from './durable-file.js';
import type { Storage } from './storage.js';

/** What a repair did. */
export interface RepairReport {
  /** The damage that was cut at, or null when the log was sound (nothing changed). */
  damage: WalDamage | null;
  /** Bytes removed from the log (the damaged tail plus whole later segments). */
  droppedBytes: number;
  /** Records in the removed bytes that still verified: writes lost by the cut. */
  droppedRecordsVerified: number;
  /** Segments moved aside whole. */
  removedSegments: string[];
  /** Folder holding the copies of everything removed, or null. */
  savedTo: string | null;
  /** Offset the next write gets after the repair. */
  nextOffset: number;
}

/** Counts records that verify in `bytes[from, end)`, hopping from one good record to the next. */
function countVerifiedRecords(bytes: Buffer, from: number): number {
  let count = 0;
  let position = from;
  // Bounded: every pass moves `position` forward by at least one byte.
  while (position < bytes.length) {
    const found = readRecord(bytes, position, bytes.length);
    if (typeof found !== 'string') {
      count++;
      position = found.end;
      continue;
    }
    const next = validRecordAfter(bytes, position, bytes.length, -1);
    if (next === null) break;
    position = next;
  }
  return count;
}

/** Repairs the log in `dir` (the caller holds the directory lock). */
export function repairWal(dir: string, storage: Storage, nowMs = Date.now()): RepairReport {
  const walDir = path.join(dir, 'wal');
  const scan = scanWal(storage, walDir, () => undefined);
  const report: RepairReport = { damage: scan.damage, droppedBytes: 0, droppedRecordsVerified: 0, removedSegments: [], savedTo: null, nextOffset: scan.nextOffset };
  if (scan.damage === null) return report;
  if (scan.damage.kind === 'unsupported') {
    throw new MetaLogError('UNSUPPORTED_FORMAT', `refusing to repair a log this version cannot read: ${scan.damage.reason}`, {
      file: path.join(walDir, scan.damage.file),
    });
  }
  const savedTo = path.join(dir, `repair-${new Date(nowMs).toISOString().replace(/[:.]/g, '-')}`);
  makeDirDurably(storage, savedTo);
  report.savedTo = savedTo;
  const names = storage.readdir(walDir).filter((name) => name.endsWith('.log')).sort();
  const damagedIndex = names.indexOf(scan.damage.file);
  const damagedPath = path.join(walDir, scan.damage.file);
  const damagedBytes = storage.readFile(damagedPath);
  const verifiedSegment = scan.segments.find((segment) => segment.name === scan.damage?.file);
  if (verifiedSegment === undefined) {
    // The header itself is damaged: the whole segment goes aside.
    storage.rename(damagedPath, path.join(savedTo, scan.damage.file));
    report.removedSegments.push(scan.damage.file);
    report.droppedBytes += damagedBytes.length;
    report.droppedRecordsVerified += countVerifiedRecords(damagedBytes, 0);
  } else {
    const cut = damagedBytes.subarray(scan.damage.position);
    // The copy is durable before the cut, so a crash between the two loses nothing.
    writeFileDurably(storage, path.join(savedTo, `${scan.damage.file}.from-${scan.damage.position}`), [cut]);
    report.droppedBytes += cut.length;
    report.droppedRecordsVerified += countVerifiedRecords(damagedBytes, scan.damage.position);
    truncateDurably(storage, damagedPath, scan.damage.position);
  }
  for (const name of names.slice(damagedIndex + 1)) {
    const bytes = storage.readFile(path.join(walDir, name));
    report.droppedBytes += bytes.length;
    report.droppedRecordsVerified += countVerifiedRecords(bytes, 0);
    storage.rename(path.join(walDir, name), path.join(savedTo, name));
    report.removedSegments.push(name);
  }
  storage.fsyncDir(savedTo);
  storage.fsyncDir(walDir);
  return report;
}
