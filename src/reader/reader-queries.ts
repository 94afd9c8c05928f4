/**
 * The queries the reader pool answers: list, describe, batched point reads and filtered scans, each run
 * against the shared index by a `StoreIndexReader` in a pool thread. Declared as plain data (filters
 * are fields, not functions) because a query crosses threads by structured clone.
 */
import type { GroupState, SegmentInfo } from '../codec/event-schema.js';
import type { Broker, Group, Topic } from '../state/entities.js';
import type { LogEvent } from '../codec/event-schema.js';
import { readHistory, type HistoryFilter } from '../history/history.js';
import { stateAtPoint, type StateAt, type StatePoint } from '../history/state-at.js';
import { diffStates, type StateDiff } from '../history/diff.js';
import { verifyCopy } from '../backup/backup.js';
import type { Storage } from '../wal/storage.js';
import { packScan, packValues } from '../store-index/index-values.js';
import type { ListedOffset, StoreIndexReader } from '../store-index/store-index.js';

/** Which topics a scan returns; every given field must match. */
export interface TopicFilter {
  /** Names starting with this. */
  namePrefix?: string;
  /** Topics that set this config key (to `configValue`, if given). */
  configKey?: string;
  configValue?: string;
  /** At most this many topics (the first by name). */
  limit?: number;
}

/** Which groups a scan returns; every given field must match. */
export interface GroupFilter {
  idPrefix?: string;
  /** Groups in one of these states. */
  states?: GroupState[];
  protocolType?: string;
  /** At most this many groups (the first by id). */
  limit?: number;
}

/** One (group, topic, partition) of a batched offset fetch. */
export interface OffsetKey {
  groupId: string;
  topic: string;
  partition: number;
}

/**
 * Every query, by kind: what it asks, and what the pool thread sends back. Topics, groups and committed
 * offsets come back packed in the index's own encoding (a Uint8Array from `packValues` or `packScan`:
 * one transferable buffer instead of a structured clone of an object graph) and are decoded by the
 * caller; the rest as plain data.
 */
export interface ReaderQueries {
  listTopics: { query: { known: Int32Array }; answer: Uint8Array };
  listTopicNames: { query: {}; answer: string[] };
  getTopics: { query: { names: string[] }; answer: Uint8Array };
  scanTopics: { query: { filter: TopicFilter }; answer: Uint8Array };
  listBrokers: { query: {}; answer: Broker[] };
  listGroups: { query: {}; answer: Uint8Array };
  describeGroups: { query: { groupIds: string[] }; answer: Uint8Array };
  scanGroups: { query: { filter: GroupFilter }; answer: Uint8Array };
  fetchOffsets: { query: { groupId: string }; answer: ListedOffset[] };
  fetchOffsetBatch: { query: { keys: OffsetKey[] }; answer: Uint8Array };
  listSegments: { query: { topic: string; partition: number }; answer: Readonly<SegmentInfo>[] };
  history: { query: { dir: string; filter: HistoryFilter }; answer: LogEvent[] };
  stateAt: { query: { dir: string; point: StatePoint }; answer: StateAt };
  diff: { query: { dir: string; from: number; to: number }; answer: StateDiff };
  verifyBackup: { query: { dest: string }; answer: ReturnType<typeof verifyCopy> };
}


export type QueryKind = keyof ReaderQueries;
export type ReaderQuery = { [K in QueryKind]: { kind: K } & ReaderQueries[K]['query'] }[QueryKind];

function matchesTopic(topic: Topic, filter: TopicFilter): boolean {
  if (filter.namePrefix !== undefined && !topic.name.startsWith(filter.namePrefix)) return false;
  if (filter.configKey !== undefined) {
    const value = Object.hasOwn(topic.configs, filter.configKey) ? topic.configs[filter.configKey] : undefined;
    if (value === undefined || (filter.configValue !== undefined && value !== filter.configValue)) return false;
  }
  return true;
}

function matchesGroup(group: Group, filter: GroupFilter): boolean {
  if (filter.idPrefix !== undefined && !group.groupId.startsWith(filter.idPrefix)) return false;
  if (filter.states !== undefined && !filter.states.includes(group.state)) return false;
  if (filter.protocolType !== undefined && group.protocolType !== filter.protocolType) return false;
  return true;
}


/** Answers one query from `reader` (in a pool thread); history and backup checks read files through `storage`. */
export function answerQuery(reader: StoreIndexReader, query: ReaderQuery, storage: Storage): unknown {
  switch (query.kind) {
    case 'listTopics':
      // Only the topics the caller has not decoded in their current version are copied back.
      return packScan(reader.scanTopicTable(query.known));
    case 'listTopicNames':
      return reader.listTopicNames();
    case 'getTopics':
      return packValues(reader.rawTopics(query.names));
    case 'scanTopics': {
      const { filter } = query;
      // A prefix narrows by name first, so only candidate topics are read and decoded.
      const names = reader.listTopicNames().filter((name) => filter.namePrefix === undefined || name.startsWith(filter.namePrefix));
      const matching: string[] = [];
      for (const name of names) {
        const topic = reader.getTopic(name);
        if (topic !== undefined && matchesTopic(topic, filter)) matching.push(name);
        if (filter.limit !== undefined && matching.length >= filter.limit) break;
      }
      return packValues(reader.rawTopics(matching));
    }
    case 'listBrokers':
      return reader.listBrokers();
    case 'listGroups':
      return packValues(reader.rawGroupList());
    case 'describeGroups':
      return packValues(reader.rawGroups(query.groupIds));
    case 'scanGroups': {
      const matching = reader.listGroups().filter((group) => matchesGroup(group, query.filter)).map((group) => group.groupId);
      const limit = query.filter.limit;
      return packValues(reader.rawGroups(limit === undefined ? matching : matching.slice(0, Math.max(0, limit))));
    }
    case 'fetchOffsets':
      return reader.fetchOffsets(query.groupId);
    case 'fetchOffsetBatch':
      return packValues(reader.rawOffsets(query.keys));
    case 'listSegments':
      return reader.listSegments(query.topic, query.partition);
    case 'history':
      return readHistory(query.dir, query.filter, storage);
    case 'stateAt':
      return stateAtPoint(query.dir, query.point, storage);
    case 'diff':
      return diffStates(query.dir, query.from, query.to, storage);
    case 'verifyBackup':
      return verifyCopy(query.dest, storage);
  }
}
