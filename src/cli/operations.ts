/**
 * The operations commands of the `metalog` CLI: snapshot, compact, backup, restore, diff, and the
 * snapshot half of verify. Each returns its exit code and prints one JSON object with `--json`.
 *
 * snapshot and compact open the store, so they are refused (STORE_LOCKED, exit 1) while another
 * process has it open: there the broker's own `log.snapshot()` is the way. backup, restore, diff and
 * verify only read files and are safe beside a running store.
 */
import path from 'node:path';
import { MetaLog } from '../api/metalog.js';
import { backupStore, restoreStore, type RestorePoint } from '../backup/backup.js';
import { Progress } from './progress.js';
import { diffStates } from '../history/diff.js';
import { firstWalOffset, foldWalInto, startFold } from '../snapshot/fold.js';
import { emptyFoldTarget, stateDigest } from '../snapshot/index-image.js';
import { listSnapshots, readSnapshotFile, SnapshotDamage, type SnapshotMeta } from '../snapshot/snapshot-file.js';
import type { Storage } from '../wal/storage.js';
import { print } from './cli-support.js';

function segmentCount(dir: string, storage: Storage): number {
  const walDir = path.join(dir, 'wal');
  return storage.exists(walDir) ? storage.readdir(walDir).filter((name) => name.endsWith('.log')).length : 0;
}

/** `snapshot <dir>`: opens the store, writes a snapshot of everything, compacts per its retention, closes. */
export async function snapshotCommand(dir: string, json: boolean, storage: Storage, retention: { historyRetentionMs?: number; historyRetentionBytes?: number } = {}): Promise<number> {
  const before = segmentCount(dir, storage);
  const log = await MetaLog.open({ dir, snapshotEveryEvents: 0, snapshotIntervalMs: 0, ...retention });
  try {
    const result = await log.snapshot();
    const removedSegments = before - segmentCount(dir, storage);
    print(json, { ...result, removedSegments }, [
      `snapshot ${result.file}: state at offset ${result.lastOffset}, ${result.bytes} bytes (fold ${result.foldMs.toFixed(0)} ms, write ${result.writeMs.toFixed(0)} ms)`,
      `removed ${result.removedSnapshots.length} older snapshots and ${removedSegments} WAL segments`,
    ]);
    return 0;
  } finally {
    await log.close();
  }
}

/** `backup <dir> <dest>`: copies the store's snapshots and WAL (safe while it runs) and verifies the copy. */
export async function backupCommand(dir: string, dest: string, json: boolean, storage: Storage): Promise<number> {
  const progress = new Progress('backup: files');
  const report = await backupStore(dir, dest, undefined, (copied, total, name) => progress.update(copied, total, name), storage).finally(() => progress.finish());
  print(json, report, [
    `backup of offsets ${report.firstOffset}..${report.lastOffset} in ${dest}: ${report.segments} segments, ${report.snapshots.length} snapshots, ${report.bytes} bytes, verified`,
  ]);
  return 0;
}

/** `restore <src> <dir> [--to N | --to-time T]`: a new store at `dir` with the state of `src` at that point. */
export function restoreCommand(src: string, dir: string, point: RestorePoint, json: boolean, storage: Storage): number {
  const progress = new Progress('restore: segments');
  let report: ReturnType<typeof restoreStore>;
  try {
    report = restoreStore(src, dir, point, (index, total, name) => progress.update(index, total, name), storage);
  } finally {
    progress.finish();
  }
  print(json, report, [
    `restored ${dir} to offset ${report.lastOffset}${report.snapshot === null ? '' : ` (from the snapshot at ${report.snapshot})`}; ${report.eventsLeftOut} later events left out`,
  ]);
  return 0;
}

/** `diff <dir> <from> <to>`: what changed between two offsets. */
export function diffCommand(dir: string, from: number, to: number, json: boolean, storage: Storage): number {
  const diff = diffStates(dir, from, to, storage);
  const kinds = ['topics', 'brokers', 'groups', 'offsets', 'watermarks', 'segments', 'transactions'] as const;
  print(json, diff, [
    `from offset ${from} to ${to}:`,
    ...kinds.map((kind) => `  ${kind.padEnd(13)} +${diff[kind].added.length} -${diff[kind].removed.length} ~${diff[kind].changed.length}`),
    ...(diff.nextProducerId === null ? [] : [`  next producer id ${diff.nextProducerId.before} -> ${diff.nextProducerId.after}`]),
    ...(diff.clusterId === null ? [] : [`  cluster id ${diff.clusterId.before ?? '(none)'} -> ${diff.clusterId.after ?? '(none)'}`]),
  ]);
  return 0;
}

/** One snapshot's verdict. */
export interface SnapshotCheck {
  file: string;
  lastOffset: number;
  /** ok: checksums hold and its digest equals the WAL folded to its offset; base: checksums hold, and the
   *  WAL before it was compacted, so it is the start the others are checked from. */
  verdict: 'ok' | 'base' | 'damaged' | 'digest-mismatch' | 'not-reached';
  reason?: string;
}

/**
 * Checks every snapshot of the store in `dir`: its checksums, and its state digest against the WAL
 * folded to its offset (from offset 0, or from the oldest sound snapshot when the WAL before it was
 * compacted). Read-only.
 */
export function verifySnapshots(dir: string, storage: Storage): SnapshotCheck[] {
  const walDir = path.join(dir, 'wal');
  const checks: SnapshotCheck[] = [];
  const sound: { file: string; meta: SnapshotMeta }[] = [];
  for (const { file, lastOffset } of [...listSnapshots(dir, storage)].reverse()) {
    try {
      sound.push({ file, meta: readSnapshotFile(file, () => null, undefined, storage) });
    } catch (error) {
      if (!(error instanceof SnapshotDamage)) throw error;
      checks.push({ file: path.basename(file), lastOffset, verdict: 'damaged', reason: error.reason });
    }
  }
  if (sound.length === 0) return checks;
  // From offset 0 when the WAL has it; else from the oldest sound snapshot, which is then the base.
  let target = emptyFoldTarget();
  if ((firstWalOffset(storage, walDir) ?? 0) > 0) {
    const base = sound[0];
    target = startFold(dir, storage, { atMost: base.meta.lastOffset }).target;
    checks.push({ file: path.basename(base.file), lastOffset: base.meta.lastOffset, verdict: 'base' });
    sound.shift();
  }
  for (const { file, meta } of sound) {
    const scan = foldWalInto(target, storage, walDir, { throughOffset: meta.lastOffset });
    if (target.state.lastOffset !== meta.lastOffset) {
      checks.push({ file: path.basename(file), lastOffset: meta.lastOffset, verdict: 'not-reached', reason: scan.damage?.reason ?? `the WAL ends at ${target.state.lastOffset}` });
      continue;
    }
    const digest = stateDigest(target.index.ownTables, target.state.clusterId);
    checks.push(digest === meta.digest
      ? { file: path.basename(file), lastOffset: meta.lastOffset, verdict: 'ok' }
      : { file: path.basename(file), lastOffset: meta.lastOffset, verdict: 'digest-mismatch', reason: `snapshot ${meta.digest} vs WAL ${digest}` });
  }
  return checks.sort((a, b) => b.lastOffset - a.lastOffset);
}
