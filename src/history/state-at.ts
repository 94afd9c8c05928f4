/**
 * State as of an offset or a time: the fold of the WAL up to there, by full replay from the first
 * segment (there are no snapshots yet, so it costs a replay of that stretch: about 1 s per million events
 * here). Read-only and safe while the store is open, like `history`; runs on the reader pool.
 */
import path from 'node:path';
import type { SegmentInfo, Watermarks } from '../codec/event-schema.js';
import { MetaLogError } from '../errors.js';
import { MetadataState, type Broker, type CommittedOffset, type Group, type Topic, type Transaction } from '../state/metadata-state.js';
import { damageError, scanWal } from '../wal/recovery.js';
import { NodeStorage } from '../wal/storage.js';

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

/**
 * The state folded from the WAL in `dir` up to `point` (all of it when null). CORRUPT_WAL for damage
 * before the newest append; OFFSET_OUT_OF_RANGE for an offset past the log's end.
 */
export function foldWal(dir: string, point: StatePoint | null): MetadataState {
  const state = new MetadataState();
  const walDir = path.join(dir, 'wal');
  const scan = scanWal(new NodeStorage(), walDir, (event) => {
    // Offsets are dense and timestamps never go back, so everything past the point is skipped.
    if (event === null || (point !== null && ('offset' in point ? event.offset > point.offset : event.timestampMs > point.time))) return;
    state.apply(event);
  });
  if (scan.damage !== null && scan.damage.kind !== 'torn') throw damageError(walDir, scan.damage);
  if (point !== null && 'offset' in point && point.offset > state.lastOffset) {
    throw new MetaLogError('OFFSET_OUT_OF_RANGE', `offset ${point.offset} is past the log's last offset ${state.lastOffset}`, { offset: state.lastOffset, field: 'offset' });
  }
  return state;
}

/** The state at `point` as plain data (see `foldWal`). */
export function foldStateAt(dir: string, point: StatePoint): StateAt {
  const state = foldWal(dir, point);
  const offsets: StateAt['offsets'] = [];
  for (const [groupId, byTopic] of [...state.offsetsByGroup].sort((a, b) => byText(a[0], b[0]))) {
    for (const [topic, partitions] of [...byTopic].sort((a, b) => byText(a[0], b[0]))) {
      for (const [partition, committed] of [...partitions].sort((a, b) => a[0] - b[0])) offsets.push({ groupId, topic, partition, ...committed });
    }
  }
  const watermarks: StateAt['watermarks'] = [];
  for (const [topic, partitions] of [...state.watermarks].sort((a, b) => byText(a[0], b[0]))) {
    for (const [partition, value] of [...partitions].sort((a, b) => a[0] - b[0])) watermarks.push({ topic, partition, ...value });
  }
  const segments: StateAt['segments'] = [];
  for (const [topic, partitions] of [...state.segments].sort((a, b) => byText(a[0], b[0]))) {
    for (const [partition, list] of [...partitions].sort((a, b) => a[0] - b[0])) {
      for (const segment of [...list.values()].sort((a, b) => a.baseOffset - b.baseOffset)) segments.push({ topic, partition, ...segment });
    }
  }
  return {
    offset: state.lastOffset,
    topics: [...state.topics.values()].sort((a, b) => byText(a.name, b.name)),
    brokers: [...state.brokers.values()].sort((a, b) => a.brokerId - b.brokerId),
    groups: [...state.groups.values()].sort((a, b) => byText(a.groupId, b.groupId)),
    offsets,
    watermarks,
    segments,
    transactions: [...state.transactions.values()].sort((a, b) => byText(a.transactionalId, b.transactionalId)),
    nextProducerId: state.nextProducerId,
  };
}
