/**
 * The writer's state and the index writer's own bookkeeping, loaded on demand from an index restored
 * from a snapshot (see src/state/backed-map.ts for the rules that keep that equal to a full fold).
 *
 * Reads go through the writer's handles of the tables (no sequence lock: the writer is the only thread
 * that changes them, and it may read while one of its own sections is open).
 *
 * Called by: `IndexWriter` when it is restored (writer thread, snapshot writer, `stateAt`).
 */
import type { SharedIndex } from '../../native-free/shared-index.js';
import type { SegmentInfo } from '../codec/event-schema.js';
import type { MapSource } from '../state/backed-map.js';
import type { Topic } from '../state/entities.js';
import { EncodedGroup } from '../state/encoded-group.js';
import type { RestoredState, TopicSegments, TopicWatermarks } from '../state/metadata-state.js';
import { decodeBrokerKey, decodeStringKey, decodeTopicPartitionKey, KeyEncoder, type IdKind } from './index-keys.js';
import {
  decodeBroker,
  decodeOffsetDirectory,
  decodeSegments,
  decodeTopic,
  decodeTransaction,
  decodeWatermarks,
} from './index-values.js';
import type { Family } from './store-index.js';

type Tables = Readonly<Record<Family, SharedIndex>>;

/** A source for a table keyed by a string (topics, groups, transactions). */
function byName<V>(tables: Tables, family: Family, keys: KeyEncoder, decode: (bytes: Uint8Array) => V): MapSource<string, V> {
  return {
    load: (name) => {
      const bytes = tables[family].get(keys.topic(name));
      return bytes === undefined ? undefined : decode(bytes);
    },
    loadAll: () => {
      const all: [string, V][] = [];
      tables[family].forEachEntry((key, value) => all.push([decodeStringKey(key), decode(value)]));
      return all;
    },
  };
}

/** Partitions (and their decoded values) of every topic in a table keyed by topic and partition. */
function groupByTopic<V>(table: SharedIndex, decode: (bytes: Uint8Array) => V): Map<string, Map<number, V>> {
  const byTopic = new Map<string, Map<number, V>>();
  table.forEachEntry((key, value) => {
    const { topic, partition } = decodeTopicPartitionKey(key);
    let partitions = byTopic.get(topic);
    if (partitions === undefined) {
      partitions = new Map();
      byTopic.set(topic, partitions);
    }
    partitions.set(partition, decode(value));
  });
  return byTopic;
}

/**
 * The values a table keyed by topic and partition holds for `topic`, found by probing the partitions the
 * index's own copy of the topic has (the table never holds a partition its topic lacks), or undefined.
 */
function partitionsOf<V>(tables: Tables, family: 'watermarks' | 'segments', keys: KeyEncoder, topic: string, decode: (bytes: Uint8Array) => V): Map<number, V> | undefined {
  const topicBytes = tables.topics.get(keys.topic(topic));
  if (topicBytes === undefined) return undefined;
  const partitionCount = decodeTopic(topicBytes).partitions.length;
  let found: Map<number, V> | undefined;
  for (let partition = 0; partition < partitionCount; partition++) {
    const bytes = tables[family].get(keys.topicPartition(topic, partition));
    if (bytes === undefined) continue;
    found ??= new Map();
    found.set(partition, decode(bytes));
  }
  return found;
}

function segmentsById(bytes: Uint8Array): Map<number, Readonly<SegmentInfo>> {
  return new Map(decodeSegments(bytes).map((segment) => [segment.segmentId, segment]));
}

/** The topics of `tables` (filled in before the first read), for a state that reads its published topics back. */
export function topicSource(tables: Tables): MapSource<string, Topic> {
  return byName(tables, 'topics', new KeyEncoder(), decodeTopic);
}

/**
 * The entity sources of a writer state restored from `tables` (read when an entity is first needed, so
 * the record may be filled after this call, before the state is used).
 */
export function restoredStateSources(tables: Tables, lastOffset: number, nextProducerId: number, clusterId: string | null): RestoredState {
  const keys = new KeyEncoder();
  return {
    lastOffset,
    nextProducerId,
    clusterId,
    topics: topicSource(tables),
    groups: byName(tables, 'groups', keys, (bytes) => EncodedGroup.fromCopyOf(bytes)),
    transactions: byName(tables, 'transactions', keys, decodeTransaction),
    brokers: {
      load: (brokerId) => {
        const bytes = tables.brokers.get(keys.broker(brokerId));
        return bytes === undefined ? undefined : decodeBroker(bytes);
      },
      loadAll: () => {
        const all: [number, ReturnType<typeof decodeBroker>][] = [];
        tables.brokers.forEachEntry((key, value) => all.push([decodeBrokerKey(key), decodeBroker(value)]));
        return all;
      },
    },
    // Asked only for topics that exist (the rules check the partition first), and a miss reads every
    // partition's key: misses are remembered.
    watermarks: {
      load: (topic): TopicWatermarks | undefined => partitionsOf(tables, 'watermarks', keys, topic, decodeWatermarks),
      loadAll: () => groupByTopic(tables.watermarks, decodeWatermarks),
      rememberMisses: true,
    },
    segments: {
      load: (topic): TopicSegments | undefined => partitionsOf(tables, 'segments', keys, topic, segmentsById),
      loadAll: () => groupByTopic(tables.segments, segmentsById),
      rememberMisses: true,
    },
  };
}

/** Partitions by topic. */
export type PartitionsByTopic = Map<string, Set<number>>;

/** Which partitions of a topic have a value in `family` (watermarks or segments): what a topic delete removes. */
export function partitionKeysSource(tables: Tables, family: 'watermarks' | 'segments'): MapSource<string, Set<number>> {
  const keys = new KeyEncoder();
  const partitionSet = <V>(partitions: Map<number, V> | undefined): Set<number> | undefined =>
    partitions === undefined ? undefined : new Set(partitions.keys());
  return {
    load: (topic) => partitionSet(partitionsOf(tables, family, keys, topic, () => true)),
    // Asked for topics being deleted (which exist); a miss reads every partition's key.
    rememberMisses: true,
    loadAll: () => [...groupByTopic(tables[family], () => true)].map(([topic, partitions]) => [topic, new Set(partitions.keys())] as [string, Set<number>]),
  };
}

/** A group's offset directory: the partitions it has committed offsets for, by topic. */
export function offsetDirectorySource(tables: Tables): MapSource<string, PartitionsByTopic> {
  const keys = new KeyEncoder();
  const decode = (bytes: Uint8Array): PartitionsByTopic => new Map(decodeOffsetDirectory(bytes).map(({ topic, partitions }) => [topic, new Set(partitions)]));
  return {
    load: (groupId) => {
      const bytes = tables.offsetDirectories.get(keys.group(groupId));
      return bytes === undefined ? undefined : decode(bytes);
    },
    loadAll: () => {
      const all: [string, PartitionsByTopic][] = [];
      tables.offsetDirectories.forEachEntry((key, value) => all.push([decodeStringKey(key), decode(value)]));
      return all;
    },
  };
}

/** The numbers the `ids` table gives group ids (kind 1) or topic names (kind 2). */
export function idNumberSource(tables: Tables, kind: IdKind): MapSource<string, number> {
  const keys = new KeyEncoder();
  const number = (bytes: Uint8Array): number => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  return {
    load: (name) => {
      const bytes = tables.ids.get(keys.id(kind, name));
      return bytes === undefined ? undefined : number(bytes);
    },
    loadAll: () => {
      const all: [string, number][] = [];
      tables.ids.forEachEntry((key, value) => {
        if (key[0] === kind) all.push([decodeStringKey(key.subarray(1)), number(value)]);
      });
      return all;
    },
  };
}

