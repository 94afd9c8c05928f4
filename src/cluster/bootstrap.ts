/**
 * Bootstrapping a node of a replicated log whose local log ends before the oldest batch etcd still holds
 * (it was down while the controller deleted the batches every live node had in a snapshot): before the
 * store opens, a checksummed snapshot that reaches at least that far is copied in from another node's
 * store (the `log.bootstrapFrom` directories), the old WAL is kept aside, and the WAL starts afresh
 * right after the snapshot. The open then restores the snapshot and the follower tails etcd from there.
 *
 * Runs in the opening thread, with the directory locked, before recovery. Never deletes the old WAL: it
 * is renamed to `wal-before-bootstrap-<its next offset>/` (what repair does with what it cuts), so an
 * operator can still read it.
 */
import path from 'node:path';
import { EventCodec } from '../codec/event-codec.js';
import type { Clock } from '../clock.js';
import type { EtcdLogConfig } from '../config.js';
import { MetaLogError } from '../errors.js';
import { listSnapshots, readSnapshotFile, snapshotFileName, SNAPSHOT_DIR } from '../snapshot/snapshot-file.js';
import { copyFile, makeDirDurably, syncFile, writeFileDurably } from '../wal/durable-file.js';
import { encodeSegmentHeader, segmentFileName, segmentFilesOf } from '../wal/format.js';
import { scanWal } from '../wal/recovery.js';
import type { Storage } from '../wal/storage.js';
import { EtcdClient } from './etcd-client.js';
import { EtcdLog } from './etcd-log.js';

/** What a bootstrap did (null from `bootstrapIfBehind` when the node was not behind). */
export interface BootstrapReport {
  /** The offset the local log would have continued from. */
  localNextOffset: number;
  /** The oldest offset etcd still holds. */
  firstAvailableOffset: number;
  /** The snapshot copied in (its path in the source) and its last offset. */
  snapshot: string;
  snapshotLastOffset: number;
  /** Where the old WAL was moved (null when there was none). */
  keptWal: string | null;
}

/** The offset the store in `dir` would continue from: after its WAL, or its newest snapshot, or 0. */
export function localNextOffset(dir: string, storage: Storage): number {
  const walDir = path.join(dir, 'wal');
  const segments = storage.exists(walDir) ? segmentFilesOf(storage.readdir(walDir)) : [];
  const newestSnapshot = listSnapshots(dir, storage)[0]?.lastOffset ?? -1;
  if (segments.length === 0) return newestSnapshot + 1;
  // Only the newest segment is read: the ones before it end where it begins.
  const scan = scanWal(storage, walDir, () => undefined, { decodes: () => false, fromOffset: segments[segments.length - 1].baseOffset });
  return Math.max(scan.nextOffset, newestSnapshot + 1);
}

/**
 * Copies in a snapshot and restarts the WAL after it if the local log ends before what etcd holds;
 * returns what it did, or null when nothing was needed. Throws CORRUPT_WAL when no snapshot in
 * `log.bootstrapFrom` reaches far enough (the node cannot catch up; nothing was changed).
 */
export async function bootstrapIfBehind(dir: string, log: EtcdLogConfig, storage: Storage, clock: Clock): Promise<BootstrapReport | null> {
  const client = new EtcdClient({ endpoints: log.endpoints, deadlineMs: log.requestTimeoutMs });
  const next = localNextOffset(dir, storage);
  let first: number | null;
  try {
    const engine = new EtcdLog(client, { prefix: log.prefix, appendRetryMs: log.leaseTtlMs });
    // Announced before the check, under a lease of its own that lapses by itself: from here on the
    // controller keeps what this node needs, until the writer thread publishes under its own lease.
    const lease = await client.leaseGrant(Math.ceil(log.leaseTtlMs / 1000));
    await engine.publishProgress(log.nodeId, lease.id, listSnapshots(dir, storage)[0]?.lastOffset ?? -1);
    first = await engine.firstOffset();
  } catch (error) {
    throw MetaLogError.wrap(error, 'REQUEST_TIMED_OUT', 'reading where the cluster log starts');
  } finally {
    client.close();
  }
  if (first === null || next >= first) return null;
  const source = newestSnapshotReaching(log.bootstrapFrom, first - 1, storage);
  if (source === null) {
    throw new MetaLogError(
      'CORRUPT_WAL',
      `this node's log ends before offset ${next}, the cluster log now starts at ${first}, and no snapshot in log.bootstrapFrom (${log.bootstrapFrom.join(', ') || 'none given'}) reaches offset ${first - 1}`,
      { offset: next },
    );
  }
  const snapshotDir = path.join(dir, SNAPSHOT_DIR);
  makeDirDurably(storage, snapshotDir);
  const copy = path.join(snapshotDir, snapshotFileName(source.lastOffset));
  const temp = `${copy}.tmp`;
  copyFile(storage, source.file, temp);
  syncFile(storage, temp);
  // Checked again as copied: what is installed is what verified.
  readSnapshotFile(temp, () => null, undefined, storage);
  storage.rename(temp, copy);
  storage.fsyncDir(snapshotDir);
  const walDir = path.join(dir, 'wal');
  let keptWal: string | null = null;
  if (storage.exists(walDir)) {
    keptWal = path.join(dir, `wal-before-bootstrap-${next}`);
    storage.rename(walDir, keptWal);
    storage.fsyncDir(dir);
  }
  makeDirDurably(storage, walDir);
  const codec = EventCodec.current();
  const start = source.lastOffset + 1;
  writeFileDurably(storage, path.join(walDir, segmentFileName(start)), [encodeSegmentHeader(start, clock.nowMs(), codec.fingerprint, codec.writerSchemaJson)]);
  return { localNextOffset: next, firstAvailableOffset: first, snapshot: source.file, snapshotLastOffset: source.lastOffset, keptWal };
}

/** The newest snapshot among the stores in `sources` whose last offset is at least `atLeast` and that checks out. */
function newestSnapshotReaching(sources: readonly string[], atLeast: number, storage: Storage): { file: string; lastOffset: number } | null {
  const candidates = sources.flatMap((source) => listSnapshots(source, storage)).filter((each) => each.lastOffset >= atLeast);
  candidates.sort((a, b) => b.lastOffset - a.lastOffset);
  for (const candidate of candidates) {
    try {
      const meta = readSnapshotFile(candidate.file, () => null, undefined, storage);
      if (meta.lastOffset === candidate.lastOffset) return candidate;
    } catch {
      // Damaged, half-deleted by its owner's retention, or unreadable: the next one may do.
    }
  }
  return null;
}
