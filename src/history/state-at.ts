/**
 * State as of an offset or a time: the newest snapshot at or before that point, and the WAL's events
 * after it up to the point, folded into a private index (the same fold as open). Snapshots also serve
 * as the time index: each records its last event's time, so a time point starts from the newest
 * snapshot taken before it and reads only the WAL after that. Read-only and safe while the store is
 * open, like `history`; runs on the reader pool.
 */
import path from 'node:path';
import type { SegmentInfo, Watermarks } from '../codec/event-schema.js';
import { MetaLogError } from '../errors.js';
import { StoreIndexReader } from '../store-index/store-index.js';
import { firstWalOffset, foldWalInto, startFold } from '../snapshot/fold.js';
import type { FoldTarget } from '../snapshot/index-image.js';
import { listSnapshots, readSnapshotMeta, SnapshotDamage } from '../snapshot/snapshot-file.js';
import type { Broker, CommittedOffset, Group, Topic, Transaction } from '../state/entities.js';
import { damageError } from '../wal/recovery.js';
import { storageFor, type Storage } from '../wal/storage.js';

/** Where to stop: an offset (inclusive), or a time (ms since the epoch: every event committed by then). */
export type StatePoint = { offset: number } | { time: number };

/** The whole state at a point, in plain data (sorted: names, ids, then partitions). */
export interface StateAt {
  /** Offset of the last event folded (-1: none). */
  offset: number;
  topics: Topic[];
  brokers: Broker[];
  groups: Group[];
  offsets: (CommittedOffset & { groupId: string; topic: string; partition: number })[];
  watermarks: (Watermarks & { topic: string; partition: number })[];
  segments: (SegmentInfo & { topic: string; partition: number })[];
  transactions: Transaction[];
  nextProducerId: number;
  /** The cluster's id (ClusterCreated), or null before one was written. */
  clusterId: string | null;
}

/** Checks a point on the caller's thread. */
export function checkStatePoint(point: unknown): StatePoint {
  const value = point as { offset?: unknown; time?: unknown } | null;
  const valid = typeof value === 'object' && value !== null && Object.keys(value).length === 1 &&
    ((Number.isSafeInteger(value.offset) && (value.offset as number) >= 0) || (Number.isSafeInteger(value.time) && (value.time as number) >= 0));
  if (!valid) throw new MetaLogError('INVALID_REQUEST', 'stateAt takes { offset } or { time }, an integer >= 0', { field: 'point' });
  return 'offset' in (value as object) ? { offset: value!.offset as number } : { time: value!.time as number };
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The offset of the newest snapshot whose last event is at or before `time` (undefined: none is). */
function snapshotBefore(dir: string, time: number, storage: Storage): number | undefined {
  for (const { file, lastOffset } of listSnapshots(dir, storage)) {
    try {
      if (readSnapshotMeta(file, storage).lastTimestampMs <= time) return lastOffset;
    } catch (error) {
      if (!(error instanceof SnapshotDamage)) throw error;
    }
  }
  return undefined;
}

/**
 * The index folded from the store in `dir` up to `point` (all of it when null): from the newest usable
 * snapshot before it, then the WAL. OFFSET_OUT_OF_RANGE for an offset past the log's end, or a point
 * before the oldest history kept (compacted away, with no snapshot that old); CORRUPT_WAL for damage
 * before the newest append.
 * @param storage the real disk when not given (offline tools).
 */
export function foldTo(dir: string, point: StatePoint | null, storage: Storage = storageFor()): FoldTarget {
  const walDir = path.join(dir, 'wal');
  const atMost = point === null ? undefined : 'offset' in point ? point.offset : (snapshotBefore(dir, point.time, storage) ?? -1);
  const { target } = startFold(dir, storage, { atMost });
  const walFirst = firstWalOffset(storage, walDir);
  if (walFirst !== null && walFirst > target.state.lastOffset + 1) {
    throw new MetaLogError('OFFSET_OUT_OF_RANGE', `history before offset ${walFirst} was compacted and no snapshot reaches that point`, { offset: walFirst, field: 'point' });
  }
  const scan = foldWalInto(target, storage, walDir, {
    throughOffset: point !== null && 'offset' in point ? point.offset : undefined,
    // Timestamps never go back, so the first event after the time ends the fold.
    stopAt: point !== null && 'time' in point ? (_offset, timestampMs) => timestampMs > point.time : undefined,
  });
  if (scan.damage !== null && scan.damage.kind !== 'torn') throw damageError(walDir, scan.damage);
  if (point !== null && 'offset' in point && point.offset > target.state.lastOffset) {
    throw new MetaLogError('OFFSET_OUT_OF_RANGE', `offset ${point.offset} is past the log's last offset ${target.state.lastOffset}`, { offset: target.state.lastOffset, field: 'offset' });
  }
  return target;
}

/** The state a folded index holds, as plain data (sorted: names, ids, then partitions). */
export function stateOf(target: FoldTarget): StateAt {
  const reader = new StoreIndexReader(target.buffers);
  const offsets: StateAt['offsets'] = [];
  for (const groupId of reader.listGroupIds().sort(byText)) {
    for (const { topic, partition, ...committed } of reader.fetchOffsets(groupId)) offsets.push({ groupId, topic, partition, ...committed });
  }
  const segments: StateAt['segments'] = [];
  for (const { topic, partition, segments: list } of reader.listAllSegments()) {
    for (const segment of list) segments.push({ topic, partition, ...segment });
  }
  return {
    offset: target.state.lastOffset,
    topics: reader.listTopics().sort((a, b) => byText(a.name, b.name)),
    brokers: reader.listBrokers().sort((a, b) => a.brokerId - b.brokerId),
    groups: reader.listGroups().sort((a, b) => byText(a.groupId, b.groupId)),
    offsets,
    watermarks: reader.listWatermarks().map(({ topic, partition, watermarks }) => ({ topic, partition, ...watermarks })),
    segments,
    transactions: reader.listTransactions().sort((a, b) => byText(a.transactionalId, b.transactionalId)),
    nextProducerId: reader.nextProducerId,
    clusterId: reader.clusterId,
  };
}

/** The state of the store in `dir` at `point` as plain data. */
export function stateAtPoint(dir: string, point: StatePoint, storage: Storage): StateAt {
  return stateOf(foldTo(dir, point, storage));
}
