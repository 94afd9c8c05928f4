/**
 * History: the committed events of a store, read back from its WAL, filtered by type, offset range,
 * time range and the entity they concern ("which events made this value").
 *
 * Read-only and safe while the store is open: it reads the segment files without the lock, as the
 * operator CLI does. The newest segment may be in the middle of an append while it is read, so a torn
 * end of it only ends the history there (everything before it was verified); any other damage is
 * CORRUPT_WAL. Runs on the reader pool (`log.history`), never on the caller's thread.
 *
 * Not yet: a time → offset index (a time range scans from the first segment) and history that outlives
 * compaction (there is no compaction yet, so every event since the store was created is there).
 */
import path from 'node:path';
import type { EventType, LogEvent } from '../codec/event-schema.js';
import { MetaLogError } from '../errors.js';
import { damageError, scanWal } from '../wal/recovery.js';
import { storageFor, type Storage } from '../wal/storage.js';
import { isWellFormed } from '../well-formed.js';
import { firstOffsetFromTime } from './time-index.js';

/** The entity a history is about. */
export type EntityRef = { topic: string } | { group: string } | { broker: number } | { transactionalId: string };

/** What `history` returns; every field narrows it. */
export interface HistoryFilter {
  /** Only events of these types. */
  types?: EventType[];
  /** Offsets from `fromOffset` to `toOffset`, inclusive. */
  fromOffset?: number;
  toOffset?: number;
  /** Commit times (ms since the epoch) from `fromTime` to `toTime`, inclusive. */
  fromTime?: number;
  toTime?: number;
  /** Only events that changed this entity. */
  entity?: EntityRef;
  /** At most this many events, the earliest (default 10,000): continue from the last offset + 1. */
  limit?: number;
}

const LIMIT_DEFAULT = 10_000;
const LIMIT_MAX = 1_000_000;

function invalid(field: string, rule: string): MetaLogError {
  return new MetaLogError('INVALID_REQUEST', `history: ${field} ${rule}`, { field });
}

function optionalCount(value: unknown, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalid(field, 'must be an integer >= 0');
  return value as number;
}

/** Checks a filter on the caller's thread (a bad one rejects at once). */
export function checkHistoryFilter(input: unknown): HistoryFilter {
  if (input === undefined) return {};
  if (typeof input !== 'object' || input === null) throw invalid('filter', 'must be an object');
  const filter = input as HistoryFilter;
  if (filter.types !== undefined && (!Array.isArray(filter.types) || filter.types.some((type) => typeof type !== 'string' || !isWellFormed(type)))) {
    throw invalid('types', 'must be an array of event type names');
  }
  const limit = optionalCount(filter.limit, 'limit');
  if (limit !== undefined && (limit < 1 || limit > LIMIT_MAX)) throw invalid('limit', `must be from 1 to ${LIMIT_MAX}`);
  const entity = filter.entity;
  if (entity !== undefined) {
    const valid =
      typeof entity === 'object' && entity !== null && Object.keys(entity).length === 1 &&
      (typeof (entity as { topic?: unknown }).topic === 'string' ||
        typeof (entity as { group?: unknown }).group === 'string' ||
        Number.isInteger((entity as { broker?: unknown }).broker) ||
        typeof (entity as { transactionalId?: unknown }).transactionalId === 'string');
    if (!valid) throw invalid('entity', 'must be one of { topic }, { group }, { broker }, { transactionalId }');
    const name = Object.values(entity)[0];
    if (typeof name === 'string' && !isWellFormed(name)) throw invalid('entity', 'names an id that is not well-formed UTF-16');
  }
  return {
    types: filter.types === undefined ? undefined : [...filter.types],
    fromOffset: optionalCount(filter.fromOffset, 'fromOffset'),
    toOffset: optionalCount(filter.toOffset, 'toOffset'),
    fromTime: optionalCount(filter.fromTime, 'fromTime'),
    toTime: optionalCount(filter.toTime, 'toTime'),
    entity: entity === undefined ? undefined : { ...entity },
    limit,
  };
}

/** True when `event` changed the entity `entity` names. */
export function concerns(event: LogEvent, entity: EntityRef): boolean {
  if ('topic' in entity) {
    const topic = entity.topic;
    switch (event.type) {
      case 'TopicCreated':
      case 'TopicConfigsAltered':
      case 'PartitionsCreated':
      case 'PartitionChanged':
      case 'TopicDeleted':
        return event.value.name === topic;
      case 'OffsetsCommitted':
        return event.value.entries.some((entry) => entry.topic === topic);
      case 'OffsetsDeleted':
        return event.value.partitions.some((partition) => partition.topic === topic);
      case 'WatermarksUpdated':
      case 'SegmentAdded':
      case 'SegmentRemoved':
        return event.value.topic === topic;
      case 'TransactionChanged':
        return event.value.partitions.some((partition) => partition.topic === topic);
      default:
        return false;
    }
  }
  if ('group' in entity) {
    switch (event.type) {
      case 'GroupUpserted':
      case 'GroupDeleted':
      case 'OffsetsCommitted':
      case 'OffsetsDeleted':
      case 'OffsetsExpired':
        return event.value.groupId === entity.group;
      case 'TransactionChanged':
        return event.value.groupIds.includes(entity.group);
      default:
        return false;
    }
  }
  if ('broker' in entity) {
    switch (event.type) {
      case 'BrokerRegistered':
      case 'BrokerStatusChanged':
      case 'BrokerUnregistered':
        return event.value.brokerId === entity.broker;
      default:
        return false;
    }
  }
  return event.type === 'TransactionChanged' && event.value.transactionalId === entity.transactionalId;
}

/** Thrown by the history visitor once nothing later can pass the filter (the scan stops there). */
const DONE = Symbol('done');

/**
 * The events of the WAL in `dir` that pass `filter`, in offset order. Reads only what can hold them:
 * from the segment holding `fromOffset` (and, for `fromTime`, from the first segment whose successor
 * starts at or after that time; see time-index.ts), and stops at `toOffset`, at the first event after
 * `toTime` (times never go back) or once `limit` events were found.
 * @param storage the real disk when not given (offline tools).
 */
export function readHistory(dir: string, filter: HistoryFilter, storage: Storage = storageFor()): LogEvent[] {
  const types = filter.types === undefined ? null : new Set<string>(filter.types);
  const fromTime = filter.fromTime ?? 0;
  const toTime = filter.toTime ?? Number.MAX_SAFE_INTEGER;
  const limit = filter.limit ?? LIMIT_DEFAULT;
  const events: LogEvent[] = [];
  const walDir = path.join(dir, 'wal');
  const fromOffset = Math.max(filter.fromOffset ?? 0, filter.fromTime === undefined ? 0 : firstOffsetFromTime(walDir, fromTime, storage));
  let scan: ReturnType<typeof scanWal>;
  try {
    scan = scanWal(
      storage,
      walDir,
      (event, _bytes, view) => {
        if (view.timestampMs > toTime || events.length >= limit) throw DONE;
        if (event === null || view.timestampMs < fromTime) return;
        if (types !== null && !types.has(event.type)) return;
        if (filter.entity !== undefined && !concerns(event, filter.entity)) return;
        events.push(event);
      },
      // Only the types asked for are decoded; the others are still checked.
      { decodes: (type) => types === null || types.has(type), fromOffset, throughOffset: filter.toOffset },
    );
  } catch (error) {
    if (error === DONE) return events;
    throw error;
  }
  // A torn end of the newest segment is an append in progress (or a crash's tail that open will cut).
  if (scan.damage !== null && scan.damage.kind !== 'torn') throw damageError(walDir, scan.damage);
  return events;
}
