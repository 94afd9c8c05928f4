/**
 * The metadata state: the fold of every committed event, held in plain Maps.
 *
 * `apply` is the only way the state changes, one pure handler per event type. The writer applies each
 * event as soon as its command validates (so later commands of the same batch see it) and records how to
 * undo it; if the batch then cannot be written, the undo log restores the state exactly, so a rejected
 * batch leaves no trace. Handles fold the same events from the event ring to serve synchronous reads.
 *
 * Values handed out are frozen: a caller cannot change the store by mutating what a read returned.
 */
import type {
  BrokerRegistered,
  EventPayloads,
  EventType,
  LogEvent,
  OffsetsCommitted,
  PartitionState,
  SegmentInfo,
  TopicCreated,
  TransactionChanged,
  Watermarks,
} from '../codec/event-schema.js';
import { assert } from '../assert.js';
import { BackedMap, type MapSource } from './backed-map.js';
import { EncodedGroup } from './encoded-group.js';
import { offsetOnlyGroup, type Broker, type CommittedOffset, type Topic, type Transaction } from './entities.js';

/** Steps that revert applied events, run last-first. */
export type UndoLog = (() => void)[];

type PartitionOffsets = Map<number, CommittedOffset>;
type GroupOffsets = Map<string, PartitionOffsets>;

/** Watermarks of one topic, by partition. */
export type TopicWatermarks = Map<number, Readonly<Watermarks>>;
/** Segments of one topic, by partition, then segment id. */
export type TopicSegments = Map<number, Map<number, Readonly<SegmentInfo>>>;

/**
 * Where a state restored from a snapshot finds the entities it has not loaded yet (the restored shared
 * index; see backed-map.ts), with the scalars of the snapshot.
 */
export interface RestoredState {
  lastOffset: number;
  nextProducerId: number;
  clusterId: string | null;
  topics: MapSource<string, Topic>;
  brokers: MapSource<number, Broker>;
  groups: MapSource<string, EncodedGroup>;
  watermarks: MapSource<string, TopicWatermarks>;
  segments: MapSource<string, TopicSegments>;
  transactions: MapSource<string, Transaction>;
}

/** What a state keeps. */
export interface StateOptions {
  /**
   * Keep committed offsets. The handles that serve reads do; the writer does not, because no command's
   * validation depends on a committed offset, and skipping them halves the writer's work per commit.
   */
  committedOffsets: boolean;
  /** Start from a snapshot instead of the empty state (only without committed offsets: those live in the index). */
  restored?: RestoredState;
  /**
   * Where the topics this state published are read back from (the shared index it is folded into; a
   * restored state has them in `restored.topics`). With it, the state keeps a topic only from a change
   * until that change is published (`topicsPublished`), then reads it back when a command needs it: a
   * topic is ~1.6 KB of objects, the index holds it once already.
   */
  publishedTopics?: MapSource<string, Topic>;
}

/** The folded state of the log. */
export class MetadataState {
  readonly topics: Map<string, Topic>;
  readonly brokers: Map<number, Broker>;
  readonly groups: Map<string, EncodedGroup>;
  /** Watermarks by topic, then partition. */
  readonly watermarks: Map<string, TopicWatermarks>;
  /** Segments by topic, then partition, then segment id. */
  readonly segments: Map<string, TopicSegments>;
  readonly transactions: Map<string, Transaction>;
  /** The first producer id never handed out: ids are never reissued, also not after a restart. */
  nextProducerId = 0;
  /** The cluster's id (ClusterCreated, written at most once), or null before it. */
  clusterId: string | null = null;
  readonly offsetsByGroup = new Map<string, GroupOffsets>();
  /** Offset of the last applied event, -1 before the first. */
  lastOffset = -1;
  private readonly keepsOffsets: boolean;
  /** Where published topics are read back, or null when this state keeps every topic (see StateOptions). */
  private readonly topicSource: MapSource<string, Topic> | null;
  /**
   * Partition counts of published topics, the one fact the hot rules need (is this partition there?),
   * kept for every topic read so far: a commit never brings a whole topic back into the state.
   */
  private readonly publishedPartitionCounts = new Map<string, number>();
  /** On a state without committed offsets (the writer's): which groups have some, as last published. */
  private publishedOffsetOwners: ((groupId: string) => boolean) | null = null;

  constructor(options: StateOptions = { committedOffsets: true }) {
    this.keepsOffsets = options.committedOffsets;
    const restored = options.restored;
    assert(restored === undefined || !options.committedOffsets, 'a restored state keeps no committed offsets');
    const backedBy = <K, V>(source: MapSource<K, V> | undefined): Map<K, V> => (source === undefined ? new Map() : new BackedMap(source));
    this.topicSource = restored?.topics ?? options.publishedTopics ?? null;
    this.topics = backedBy(this.topicSource ?? undefined);
    this.brokers = backedBy(restored?.brokers);
    this.groups = backedBy(restored?.groups);
    this.watermarks = backedBy(restored?.watermarks);
    this.segments = backedBy(restored?.segments);
    this.transactions = backedBy(restored?.transactions);
    if (restored !== undefined) {
      this.lastOffset = restored.lastOffset;
      this.nextProducerId = restored.nextProducerId;
      this.clusterId = restored.clusterId;
    }
  }

  /** The number of partitions of `topic`, or undefined when there is no such topic. */
  partitionCount(topic: string): number | undefined {
    const topics = this.topics;
    if (this.topicSource === null || (topics as BackedMap<string, Topic>).decided(topic)) return topics.get(topic)?.partitions.length;
    let count = this.publishedPartitionCounts.get(topic);
    if (count === undefined) {
      count = this.topicSource.load(topic)?.partitions.length;
      if (count === undefined) return undefined;
      this.publishedPartitionCounts.set(topic, count);
    }
    return count;
  }

  /**
   * Told that the index now shows the topics of a publish (`written`: each with the value it was
   * encoded from, undefined for a deleted one): the state keeps no copy of a topic the index holds,
   * unless a later change, not yet published, replaced it. Topics read back only to decide commands
   * that changed nothing (a refused change) are copies of the index too, and go as well.
   */
  topicsPublished(written: readonly (readonly [string, Topic | undefined])[]): void {
    if (this.topicSource === null) return;
    const topics = this.topics as BackedMap<string, Topic>;
    for (const [name, published] of written) {
      topics.forget(name, published);
      // A count is kept once a rule asked for it; the others load when first asked.
      if (published === undefined) this.publishedPartitionCounts.delete(name);
      else if (this.publishedPartitionCounts.has(name)) this.publishedPartitionCounts.set(name, published.partitions.length);
    }
    topics.forgetLoaded();
  }

  /**
   * On a state that keeps no committed offsets (the writer's): where `hasCommittedOffsets` asks, the
   * shared index as of its last published batch.
   */
  askOffsetOwners(published: (groupId: string) => boolean): void {
    assert(!this.keepsOffsets, 'a state with committed offsets knows their owners itself');
    this.publishedOffsetOwners = published;
  }

  /**
   * True when `groupId` has committed offsets (a group that only has offsets exists, see
   * `offsetOnlyGroup`). The writer's state asks the index as of its last published batch, so the
   * writer decides a command that asks this first in its batch (see `WriterCore.needsPublishedIndex`).
   */
  hasCommittedOffsets(groupId: string): boolean {
    if (this.keepsOffsets) return this.offsetsByGroup.has(groupId);
    assert(this.publishedOffsetOwners !== null, 'the writer said where offset owners are found');
    return this.publishedOffsetOwners(groupId);
  }

  /** True when applying events of `type` changes this state (a writer's state skips committed offsets). */
  needs(type: EventType): boolean {
    return type !== 'OffsetsCommitted' || this.keepsOffsets;
  }

  /** Moves past an event this state does not need (see `needs`), keeping offsets dense. */
  skip(offset: number): void {
    assert(offset === this.lastOffset + 1, 'events are skipped densely, in offset order');
    this.lastOffset = offset;
  }

  /** Applies one event; with `undo`, records how to revert it. Events must arrive in offset order. */
  apply(event: LogEvent, undo?: UndoLog): void {
    assert(event.offset === this.lastOffset + 1, 'events are applied densely, in offset order');
    const previousLastOffset = this.lastOffset;
    switch (event.type) {
      case 'TopicCreated':
        this.applyTopicCreated(event.value, undo);
        break;
      case 'OffsetsCommitted':
        if (this.keepsOffsets) this.applyOffsetsCommitted(event.value, event.timestampMs, undo);
        break;
      case 'BrokerRegistered':
        this.applyBrokerRegistered(event.value, undo);
        break;
      case 'BrokerStatusChanged': {
        const broker = this.brokers.get(event.value.brokerId);
        assert(broker !== undefined, 'a broker whose status changes is registered');
        this.setBroker(Object.freeze({ ...broker, status: event.value.status }), undo);
        break;
      }
      case 'BrokerUnregistered':
        this.applyBrokerUnregistered(event.value.brokerId, undo);
        break;
      case 'TopicConfigsAltered':
        this.replaceTopic(event.value.name, (topic) => ({ ...topic, configs: Object.freeze({ ...event.value.configs }) }), undo);
        break;
      case 'PartitionsCreated':
        this.replaceTopic(event.value.name, (topic) => ({ ...topic, partitions: Object.freeze([...topic.partitions, ...event.value.partitions.map(freezePartition)]) }), undo);
        break;
      case 'PartitionChanged':
        this.applyPartitionChanged(event.value, undo);
        break;
      case 'TopicDeleted':
        this.applyTopicDeleted(event.value, undo);
        break;
      case 'GroupUpserted':
        this.applyGroupUpserted(event.value, undo);
        break;
      case 'GroupDeleted':
        this.applyGroupDeleted(event.value.groupId, undo);
        break;
      case 'OffsetsExpired':
        if (this.keepsOffsets) this.applyOffsetsExpired(event.value, undo);
        break;
      case 'OffsetsDeleted':
        if (this.keepsOffsets) this.applyOffsetsDeleted(event.value, undo);
        break;
      case 'WatermarksUpdated': {
        const { topic, partition, highWatermark, logStartOffset } = event.value;
        setNested(this.watermarks, topic, partition, Object.freeze({ highWatermark, logStartOffset }), undo);
        break;
      }
      case 'SegmentAdded':
        this.applySegmentAdded(event.value, undo);
        break;
      case 'SegmentRemoved':
        this.applySegmentRemoved(event.value, undo);
        break;
      case 'ProducerIdsAllocated':
        this.advanceProducerIds(event.value.firstProducerId + event.value.count, undo);
        break;
      case 'TransactionChanged':
        this.applyTransactionChanged(event.value, undo);
        break;
      case 'WriterElected':
        // A marker of the log (where a controller's term begins): the state is the same after it.
        break;
      case 'ClusterCreated':
        assert(this.clusterId === null, 'a cluster is created once');
        this.clusterId = event.value.clusterId;
        undo?.push(() => {
          this.clusterId = null;
        });
        break;
      default:
        assert(false, `no fold handler for event type ${(event as LogEvent).type}`);
    }
    this.lastOffset = event.offset;
    undo?.push(() => {
      this.lastOffset = previousLastOffset;
    });
  }

  private applyTopicCreated(value: TopicCreated, undo?: UndoLog): void {
    assert(!this.topics.has(value.name), 'a created topic did not exist');
    const topic: Topic = Object.freeze({
      topicId: value.topicId,
      name: value.name,
      replicationFactor: value.replicationFactor,
      partitions: Object.freeze(value.partitions.map(freezePartition)),
      configs: Object.freeze(value.configs),
    });
    this.topics.set(value.name, topic);
    undo?.push(() => this.topics.delete(value.name));
  }

  /** Replaces a topic by `change(topic)` (frozen), recording the old one for undo. */
  private replaceTopic(name: string, change: (topic: Topic) => Topic, undo?: UndoLog): void {
    const previous = this.topics.get(name);
    assert(previous !== undefined, 'a changed topic exists');
    this.topics.set(name, Object.freeze(change(previous)));
    undo?.push(() => this.topics.set(name, previous));
  }

  private applyPartitionChanged(value: EventPayloads['PartitionChanged'], undo?: UndoLog): void {
    this.replaceTopic(
      value.name,
      (topic) => {
        assert(value.state.partition < topic.partitions.length, 'a changed partition exists');
        const partitions = [...topic.partitions];
        partitions[value.state.partition] = freezePartition(value.state);
        return { ...topic, partitions: Object.freeze(partitions) };
      },
      undo,
    );
  }

  /** Removes the topic and, as one change, every committed offset for it (DESIGN: delete cascades). */
  private applyTopicDeleted(value: EventPayloads['TopicDeleted'], undo?: UndoLog): void {
    const topic = this.topics.get(value.name);
    assert(topic !== undefined && topic.topicId === value.topicId, 'the deleted topic exists with that id');
    this.topics.delete(value.name);
    undo?.push(() => this.topics.set(value.name, topic));
    for (const byTopic of [this.watermarks, this.segments] as Map<string, unknown>[]) {
      const previous = byTopic.get(value.name);
      if (previous === undefined) continue;
      byTopic.delete(value.name);
      undo?.push(() => byTopic.set(value.name, previous));
    }
    for (const [groupId, group] of this.offsetsByGroup) {
      const partitions = group.get(value.name);
      if (partitions === undefined) continue;
      group.delete(value.name);
      undo?.push(() => group.set(value.name, partitions));
      if (group.size === 0) {
        this.offsetsByGroup.delete(groupId);
        undo?.push(() => this.offsetsByGroup.set(groupId, group));
      }
    }
  }

  private applyGroupUpserted(value: EventPayloads['GroupUpserted'], undo?: UndoLog): void {
    const previous = this.groups.get(value.groupId);
    // The writer's decided upsert is already an EncodedGroup; a replayed event is encoded once here.
    const group = EncodedGroup.fromValue(value);
    this.groups.set(value.groupId, group);
    undo?.push(() => (previous === undefined ? this.groups.delete(value.groupId) : this.groups.set(value.groupId, previous)));
  }

  /** Removes the group record and, as one change, all its committed offsets. */
  private applyGroupDeleted(groupId: string, undo?: UndoLog): void {
    const group = this.groups.get(groupId);
    if (group !== undefined) {
      this.groups.delete(groupId);
      undo?.push(() => this.groups.set(groupId, group));
    }
    const offsets = this.offsetsByGroup.get(groupId);
    if (offsets !== undefined) {
      this.offsetsByGroup.delete(groupId);
      undo?.push(() => this.offsetsByGroup.set(groupId, offsets));
    }
  }

  /** Offset retention: the group's offsets committed before the cutoff go, as a delete of them would. */
  private applyOffsetsExpired(value: EventPayloads['OffsetsExpired'], undo?: UndoLog): void {
    const group = this.offsetsByGroup.get(value.groupId);
    if (group === undefined) return;
    const partitions: { topic: string; partition: number }[] = [];
    for (const [topic, byPartition] of group) {
      for (const [partition, committed] of byPartition) if (committed.commitTimestamp < value.expireBeforeMs) partitions.push({ topic, partition });
    }
    this.applyOffsetsDeleted({ groupId: value.groupId, partitions }, undo);
  }

  private applyOffsetsDeleted(value: EventPayloads['OffsetsDeleted'], undo?: UndoLog): void {
    const group = this.offsetsByGroup.get(value.groupId);
    if (group === undefined) return;
    for (const { topic, partition } of value.partitions) {
      const partitions = group.get(topic);
      const previous = partitions?.get(partition);
      if (partitions === undefined || previous === undefined) continue;
      partitions.delete(partition);
      undo?.push(() => partitions.set(partition, previous));
      if (partitions.size === 0) {
        group.delete(topic);
        undo?.push(() => group.set(topic, partitions));
      }
    }
    if (group.size === 0) {
      this.offsetsByGroup.delete(value.groupId);
      undo?.push(() => this.offsetsByGroup.set(value.groupId, group));
    }
  }

  private applySegmentAdded(value: EventPayloads['SegmentAdded'], undo?: UndoLog): void {
    const { topic, partition, ...info } = value;
    let byPartition = this.segments.get(topic)?.get(partition);
    if (byPartition === undefined) {
      byPartition = new Map();
      setNested(this.segments, topic, partition, byPartition, undo);
    }
    const segments = byPartition;
    segments.set(info.segmentId, Object.freeze(info));
    undo?.push(() => segments.delete(info.segmentId));
  }

  private applySegmentRemoved(value: EventPayloads['SegmentRemoved'], undo?: UndoLog): void {
    const segments = this.segments.get(value.topic)?.get(value.partition);
    const previous = segments?.get(value.segmentId);
    assert(segments !== undefined && previous !== undefined, 'a removed segment exists');
    segments.delete(value.segmentId);
    undo?.push(() => segments.set(value.segmentId, previous));
  }

  private advanceProducerIds(next: number, undo?: UndoLog): void {
    if (next <= this.nextProducerId) return;
    const previous = this.nextProducerId;
    this.nextProducerId = next;
    undo?.push(() => {
      this.nextProducerId = previous;
    });
  }

  private applyTransactionChanged(value: TransactionChanged, undo?: UndoLog): void {
    const previous = this.transactions.get(value.transactionalId);
    const transaction: Transaction = Object.freeze({
      ...value,
      partitions: Object.freeze(value.partitions.map((p) => Object.freeze({ topic: p.topic, partition: p.partition }))) as { topic: string; partition: number }[],
      groupIds: Object.freeze([...value.groupIds]) as string[],
    });
    this.transactions.set(value.transactionalId, transaction);
    undo?.push(() => (previous === undefined ? this.transactions.delete(value.transactionalId) : this.transactions.set(value.transactionalId, previous)));
    this.advanceProducerIds(value.producerId + 1, undo);
  }

  private applyBrokerRegistered(value: BrokerRegistered, undo?: UndoLog): void {
    this.setBroker(
      Object.freeze({ brokerId: value.brokerId, host: value.host, port: value.port, rack: value.rack, brokerEpoch: value.brokerEpoch, status: 'ONLINE' }),
      undo,
    );
  }

  private setBroker(broker: Broker, undo?: UndoLog): void {
    const previous = this.brokers.get(broker.brokerId);
    this.brokers.set(broker.brokerId, broker);
    undo?.push(() => (previous === undefined ? this.brokers.delete(broker.brokerId) : this.brokers.set(broker.brokerId, previous)));
  }

  private applyBrokerUnregistered(brokerId: number, undo?: UndoLog): void {
    const previous = this.brokers.get(brokerId);
    assert(previous !== undefined, 'an unregistered broker was registered');
    this.brokers.delete(brokerId);
    undo?.push(() => this.brokers.set(brokerId, previous));
  }

  private applyOffsetsCommitted(value: OffsetsCommitted, timestampMs: number, undo?: UndoLog): void {
    let group = this.offsetsByGroup.get(value.groupId);
    if (group === undefined) {
      group = new Map();
      this.offsetsByGroup.set(value.groupId, group);
      const groupId = value.groupId;
      undo?.push(() => this.offsetsByGroup.delete(groupId));
    }
    for (const entry of value.entries) {
      let partitions = group.get(entry.topic);
      if (partitions === undefined) {
        partitions = new Map();
        group.set(entry.topic, partitions);
        const topicOffsets = group;
        undo?.push(() => topicOffsets.delete(entry.topic));
      }
      const previous = partitions.get(entry.partition);
      partitions.set(
        entry.partition,
        Object.freeze({ offset: entry.offset, leaderEpoch: entry.leaderEpoch, metadata: entry.metadata, commitTimestamp: timestampMs }),
      );
      if (undo !== undefined) {
        const target = partitions;
        undo.push(() => (previous === undefined ? target.delete(entry.partition) : target.set(entry.partition, previous)));
      }
    }
  }

  /** The committed offset of (group, topic, partition), if any. */
  fetchOffset(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.offsetsByGroup.get(groupId)?.get(topic)?.get(partition);
  }

  /** Every committed offset of a group, in topic then partition order. */
  fetchOffsets(groupId: string): (CommittedOffset & { topic: string; partition: number })[] {
    const group = this.offsetsByGroup.get(groupId);
    if (group === undefined) return [];
    const all: (CommittedOffset & { topic: string; partition: number })[] = [];
    for (const [topic, partitions] of [...group].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      for (const [partition, committed] of [...partitions].sort((a, b) => a[0] - b[0])) all.push({ topic, partition, ...committed });
    }
    return all;
  }

  /** Number of committed (group, topic, partition) offsets. */
  offsetCount(): number {
    let count = 0;
    for (const group of this.offsetsByGroup.values()) for (const partitions of group.values()) count += partitions.size;
    return count;
  }
}

/** Sets `outer[key1][key2] = value`, creating the inner map, recording undo steps. */
function setNested<K1, K2, V>(outer: Map<K1, Map<K2, V>>, key1: K1, key2: K2, value: V, undo?: UndoLog): void {
  let inner = outer.get(key1);
  if (inner === undefined) {
    const created = new Map<K2, V>();
    inner = created;
    outer.set(key1, created);
    undo?.push(() => outer.delete(key1));
  }
  const target = inner;
  const previous = target.get(key2);
  target.set(key2, value);
  undo?.push(() => (previous === undefined ? target.delete(key2) : target.set(key2, previous)));
}

/**
 * Freezes an event's partition state in place: an event's value belongs to whoever made it (the writer
 * deciding a command, recovery decoding the log) and is handed to the state whole, so a copy would only
 * be garbage.
 */
function freezePartition(partition: PartitionState): Readonly<PartitionState> {
  Object.freeze(partition.replicas);
  Object.freeze(partition.isr);
  return Object.freeze(partition);
}

/** Reverts the events recorded in `undo`, newest first. */
export function rollback(undo: UndoLog): void {
  for (let i = undo.length - 1; i >= 0; i--) undo[i]();
  undo.length = 0;
}

/**
 * A canonical, order-independent digest input of a state (used by tests and verify to compare a state
 * folded one way with a state folded another way).
 */
export function canonicalState(state: MetadataState): string {
  const topics = [...state.topics.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  const offsets: unknown[] = [];
  for (const [groupId, group] of [...state.offsetsByGroup].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    for (const [topic, partitions] of [...group].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      for (const [partition, committed] of [...partitions].sort((a, b) => a[0] - b[0])) {
        offsets.push([groupId, topic, partition, committed]);
      }
    }
  }
  const brokers = [...state.brokers.values()].sort((a, b) => a.brokerId - b.brokerId);
  // A group that only has committed offsets reads as an Empty group (see offsetOnlyGroup).
  const offsetOnly = [...state.offsetsByGroup.keys()].filter((groupId) => !state.groups.has(groupId)).map(offsetOnlyGroup);
  const groups = [...[...state.groups.values()].map((group) => group.toGroup()), ...offsetOnly].sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
  const byKey = (a: [string | number, unknown], b: [string | number, unknown]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  const watermarks = [...state.watermarks].sort(byKey).map(([topic, partitions]) => [topic, [...partitions].sort(byKey)]);
  // A partition whose segments were all removed has none, like one that never had any.
  const segments = [...state.segments]
    .sort(byKey)
    .map(([topic, partitions]) => [topic, [...partitions].filter(([, list]) => list.size > 0).sort(byKey).map(([p, list]) => [p, [...list].sort(byKey)])])
    .filter(([, partitions]) => (partitions as unknown[]).length > 0);
  const transactions = [...state.transactions].sort(byKey);
  return JSON.stringify({
    lastOffset: state.lastOffset, topics, brokers, groups, offsets, watermarks, segments, transactions, nextProducerId: state.nextProducerId,
    clusterId: state.clusterId,
  });
}
