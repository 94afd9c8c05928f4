/**
 * The queries the reader pool answers: list, describe, batched point reads and filtered scans, each run
 * against the shared index by a `StoreIndexReader` in a pool thread. Declared as plain data (filters
 * are fields, not functions) because a query crosses threads by structured clone; results cross back
 * the same way, so they arrive as plain (unfrozen) copies.
 */
import type { GroupState, SegmentInfo } from '../codec/event-schema.js';
import type { Broker, CommittedOffset, Group, Topic } from '../state/metadata-state.js';
import type { ListedOffset, StoreIndexReader } from './store-index.js';

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

/** Every query, by kind, with what it answers. */
export interface ReaderQueries {
  listTopics: { query: {}; answer: Topic[] };
  listTopicNames: { query: {}; answer: string[] };
  getTopics: { query: { names: string[] }; answer: (Topic | null)[] };
  scanTopics: { query: { filter: TopicFilter }; answer: Topic[] };
  listBrokers: { query: {}; answer: Broker[] };
  listGroups: { query: {}; answer: Group[] };
  describeGroups: { query: { groupIds: string[] }; answer: (Group | null)[] };
  scanGroups: { query: { filter: GroupFilter }; answer: Group[] };
  fetchOffsets: { query: { groupId: string }; answer: ListedOffset[] };
  fetchOffsetBatch: { query: { keys: OffsetKey[] }; answer: (CommittedOffset | null)[] };
  listSegments: { query: { topic: string; partition: number }; answer: Readonly<SegmentInfo>[] };
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

function limited<T>(items: T[], limit: number | undefined): T[] {
  return limit === undefined ? items : items.slice(0, Math.max(0, limit));
}

/** Answers one query from `reader`. */
export function answerQuery(reader: StoreIndexReader, query: ReaderQuery): unknown {
  switch (query.kind) {
    case 'listTopics':
      return reader.listTopics();
    case 'listTopicNames':
      return reader.listTopicNames();
    case 'getTopics':
      return query.names.map((name) => reader.getTopic(name) ?? null);
    case 'scanTopics': {
      const { filter } = query;
      // A prefix narrows by name first, so only matching topics are decoded.
      const names = reader.listTopicNames().filter((name) => filter.namePrefix === undefined || name.startsWith(filter.namePrefix));
      const topics: Topic[] = [];
      for (const name of names) {
        const topic = reader.getTopic(name);
        if (topic !== undefined && matchesTopic(topic, filter)) topics.push(topic);
        if (filter.limit !== undefined && topics.length >= filter.limit) break;
      }
      return topics;
    }
    case 'listBrokers':
      return reader.listBrokers();
    case 'listGroups':
      return reader.listGroups();
    case 'describeGroups':
      return query.groupIds.map((groupId) => reader.getGroup(groupId) ?? null);
    case 'scanGroups':
      return limited(reader.listGroups().filter((group) => matchesGroup(group, query.filter)), query.filter.limit);
    case 'fetchOffsets':
      return reader.fetchOffsets(query.groupId);
    case 'fetchOffsetBatch':
      return query.keys.map(({ groupId, topic, partition }) => reader.fetchOffset(groupId, topic, partition) ?? null);
    case 'listSegments':
      return reader.listSegments(query.topic, query.partition);
  }
}
