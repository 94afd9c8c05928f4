/**
 * `diff(a, b)`: what changed in the state between two offsets, entity by entity: added, removed and
 * changed (with the value before and after). Both states are folded like `stateAt`; the comparison runs
 * where they were folded (the reader pool), so only the differences travel.
 */
import { MetaLogError } from '../errors.js';
import { storageFor, type Storage } from '../wal/storage.js';
import { stateAtPoint, type StateAt } from './state-at.js';

/** Changes to one kind of entity. */
export interface EntityChanges<T> {
  added: T[];
  removed: T[];
  changed: { before: T; after: T }[];
}

/** The differences between the state at `from` and at `to`. */
export interface StateDiff {
  from: number;
  to: number;
  topics: EntityChanges<StateAt['topics'][number]>;
  brokers: EntityChanges<StateAt['brokers'][number]>;
  groups: EntityChanges<StateAt['groups'][number]>;
  offsets: EntityChanges<StateAt['offsets'][number]>;
  watermarks: EntityChanges<StateAt['watermarks'][number]>;
  segments: EntityChanges<StateAt['segments'][number]>;
  transactions: EntityChanges<StateAt['transactions'][number]>;
  nextProducerId: { before: number; after: number } | null;
  /** The cluster id, when it changed (from null: it is written once). */
  clusterId: { before: string | null; after: string | null } | null;
}

/** Byte arrays compare by content (JSON of a Uint8Array lists its bytes). */
function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function changes<T>(before: readonly T[], after: readonly T[], key: (value: T) => string): EntityChanges<T> {
  const old = new Map(before.map((value) => [key(value), value]));
  const result: EntityChanges<T> = { added: [], removed: [], changed: [] };
  for (const value of after) {
    const previous = old.get(key(value));
    if (previous === undefined) result.added.push(value);
    else if (!same(previous, value)) result.changed.push({ before: previous, after: value });
    old.delete(key(value));
  }
  result.removed.push(...old.values());
  return result;
}

/** Checks the two offsets on the caller's thread. */
export function checkDiffOffsets(from: unknown, to: unknown): void {
  for (const [field, value] of [['from', from], ['to', to]] as const) {
    if (!(Number.isSafeInteger(value) && (value as number) >= 0)) throw new MetaLogError('INVALID_REQUEST', `diff ${field} must be an offset (an integer >= 0)`, { field });
  }
}

/** The differences between the states of the store in `dir` at offsets `from` and `to` (`storage`: the real disk when not given). */
export function diffStates(dir: string, from: number, to: number, storage: Storage = storageFor()): StateDiff {
  const a = stateAtPoint(dir, { offset: from }, storage);
  const b = stateAtPoint(dir, { offset: to }, storage);
  return {
    from,
    to,
    topics: changes(a.topics, b.topics, (topic) => topic.name),
    brokers: changes(a.brokers, b.brokers, (broker) => String(broker.brokerId)),
    groups: changes(a.groups, b.groups, (group) => group.groupId),
    offsets: changes(a.offsets, b.offsets, (offset) => `${offset.groupId}\u0000${offset.topic}\u0000${offset.partition}`),
    watermarks: changes(a.watermarks, b.watermarks, (mark) => `${mark.topic}\u0000${mark.partition}`),
    segments: changes(a.segments, b.segments, (segment) => `${segment.topic}\u0000${segment.partition}\u0000${segment.segmentId}`),
    transactions: changes(a.transactions, b.transactions, (transaction) => transaction.transactionalId),
    nextProducerId: a.nextProducerId === b.nextProducerId ? null : { before: a.nextProducerId, after: b.nextProducerId },
    clusterId: a.clusterId === b.clusterId ? null : { before: a.clusterId, after: b.clusterId },
  };
}
