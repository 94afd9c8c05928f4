/**
 * The writer's side of the shared index: applies committed batches to it.
 *
 * Owns: turning events into index changes. Entities the writer's state already holds (topics, brokers,
 * groups, watermarks, segments, transactions) are written from that state: each event marks the keys it
 * touched, and the batch writes their final values (or deletes them) once. Committed offsets, which the
 * writer's state does not keep, are written straight from the events, in order (in a replay, each key's
 * newest value once: see pending-offsets.ts), with each group's
 * offset directory (the topics and partitions it has offsets for: what `fetchOffsets` and the deletes
 * that cascade need, since a hash index cannot list keys by prefix) and the group and topic numbers
 * their keys are made of (the `ids` table; never reused, retired with the id epoch bumped first).
 *
 * Called by: the writer thread only, after a batch is durable (per the durability mode) and before the
 * record that acknowledges it is published; and by recovery, for the whole log, before any reader.
 * Must never: run for a batch that was rolled back; leave a table's write section open.
 */
import { SharedIndex } from '../../native-free/shared-index.js';
import { assert } from '../assert.js';
import { BinaryReader, INTERN_SLOTS, MalformedPayload } from '../codec/binary-reader.js';
import type { LogEvent, OffsetsCommitted } from '../codec/event-schema.js';
import type { Topic } from '../state/entities.js';
import type { MetadataState } from '../state/metadata-state.js';
import { decodeStringKey, ID_KIND, KeyEncoder, type IdKind } from './index-keys.js';
import {
  offsetDirectoryNames,
  decodeCommittedOffset,
  encodeBroker,
  encodeOffsetDirectory,
  encodeSegments,
  encodeTopic,
  encodeTransaction,
  encodeWatermarks,
  OffsetValueEncoder,
} from './index-values.js';
import { idNumberSource, offsetDirectorySource, partitionKeysSource, type PartitionsByTopic } from './index-sources.js';
import { FAMILIES, IndexControl, type Family, type StoreIndexBuffers } from './store-index.js';
import { BackedMap } from '../state/backed-map.js';
import { PENDING_OFFSETS_MAX, PendingOffsets } from './pending-offsets.js';


function addPartition(byTopic: PartitionsByTopic, topic: string, partition: number): boolean {
  let partitions = byTopic.get(topic);
  if (partitions === undefined) {
    partitions = new Set();
    byTopic.set(topic, partitions);
  }
  if (partitions.has(partition)) return false;
  partitions.add(partition);
  return true;
}

/** An entity write encoded ahead of its section. */
export interface PendingWrite {
  family: Family;
  key: Uint8Array;
  /** Undefined: delete the key. */
  value: Uint8Array | undefined;
}

/** A publish encoded ahead of the moment it may be shown (see `IndexWriter.prepare`). */
export interface PreparedPublish {
  readonly writes: readonly PendingWrite[];
  /** The topics written, each with the state's value it was encoded from (undefined: deleted). */
  readonly topics: readonly (readonly [string, Topic | undefined])[];
  readonly offsetEvents: readonly LogEvent[];
  readonly nextProducerId: number;
  readonly clusterId: string | null;
  readonly lastOffset: number;
}

const NO_EVENTS: readonly LogEvent[] = Object.freeze([]);

/** The entries of an OffsetsCommitted payload as read from its bytes, one array per field (reused). */
interface CommitEntryColumns {
  topics: string[];
  /** Each topic's intern slot in the payload reader (-1: not interned). */
  topicSlots: number[];
  partitions: number[];
  offsets: number[];
  leaderEpochs: number[];
  /** Where each entry's metadata (UTF-8) starts in the payload's buffer, and its byte count. */
  metadataStarts: number[];
  metadataBytes: number[];
}

/** The counters of the numbers given to group ids and topic names (see `Numbering`). */
export interface IndexNumbering {
  groupNumberNext: number;
  topicNumberNext: number;
}

const utf8 = new TextEncoder();

/** Numbers given to names (groups or topics): never reused, so `next` only grows. */
interface Numbering {
  readonly byName: Map<string, number>;
  next: number;
  /**
   * Replay's shortcut past `byName`: numbers by the intern slot (binary-reader.ts) of their name, valid
   * where `cachedNames` holds that very name. Emptied whenever a number is retired.
   */
  readonly cachedNames: (string | undefined)[];
  readonly cachedNumbers: Int32Array;
}

function numbering(byName: Map<string, number>, next: number): Numbering {
  return { byName, next, cachedNames: new Array<string | undefined>(INTERN_SLOTS).fill(undefined), cachedNumbers: new Int32Array(INTERN_SLOTS) };
}

/** The `ids` value of a number: u32 little-endian (what readers view through a Uint32Array). */
function numberValue(number: number): Uint8Array {
  const value = new Uint8Array(4);
  new DataView(value.buffer).setUint32(0, number, true);
  return value;
}

/** Applies committed events to the shared index; the only code that changes it. */
export class IndexWriter {
  private readonly tables: Record<Family, SharedIndex>;
  private readonly control: IndexControl;
  private readonly keys = new KeyEncoder();
  private readonly offsetValues = new OffsetValueEncoder();
  /** Offset keys each group has in the index: its directory, kept here as well so the writer never decodes it. */
  private readonly offsetKeys: Map<string, PartitionsByTopic>;
  /** Partitions with watermarks / segments in the index, by topic: what a topic delete removes. */
  private readonly watermarkKeys: PartitionsByTopic;
  private readonly segmentKeys: PartitionsByTopic;
  /** Keys marked by the events of the batch being applied, written from the state when it ends. */
  private readonly dirtyTopics = new Set<string>();
  private readonly dirtyBrokers = new Set<number>();
  private readonly dirtyGroups = new Set<string>();
  private readonly dirtyTransactions = new Set<string>();
  private readonly dirtyWatermarks: PartitionsByTopic = new Map();
  private readonly dirtySegments: PartitionsByTopic = new Map();
  private readonly dirtyDirectories = new Set<string>();
  private readonly open = new Set<Family>();
  /** Events of the batch that change committed offsets, in order, applied by `publish`. */
  private readonly offsetEvents: LogEvent[] = [];
  /** Offsets of replayed commit records not yet in the table (`applyOffsetsCommittedPayload`). */
  private readonly pendingOffsets = new PendingOffsets();
  /** Numbers of the groups and topics that have (or had, for topics) offsets: see index-keys.ts. */
  private readonly groupNumbers: Numbering;
  private readonly topicNumbers: Numbering;
  private readonly payloadReader = new BinaryReader();
  /** The payload `readCommitPayload` read last: its group id, and its entries by field (reused). */
  private payloadGroupId = '';
  private payloadGroupSlot = -1;
  private readonly payloadEntries: CommitEntryColumns = {
    topics: [], topicSlots: [], partitions: [], offsets: [], leaderEpochs: [], metadataStarts: [], metadataBytes: [],
  };
  /** The cluster id last stored in the control words (it is stored once). */
  private publishedClusterId: string | null = null;

  /**
   * Opens the index in `buffers` as its writer: empty (a fold from the first event), or restored from a
   * snapshot with `restored`, the numbering counters saved with it (the rest of this writer's
   * bookkeeping then loads from the index on demand, like a restored `state`).
   */
  constructor(
    buffers: StoreIndexBuffers,
    private readonly state: MetadataState,
    restored?: IndexNumbering,
  ) {
    const tables = {} as Record<Family, SharedIndex>;
    for (const family of FAMILIES) tables[family] = SharedIndex.openWriter(buffers.tables[family]);
    this.tables = tables;
    this.control = new IndexControl(buffers.control);
    if (restored === undefined) {
      this.offsetKeys = new Map();
      this.watermarkKeys = new Map();
      this.segmentKeys = new Map();
      this.groupNumbers = numbering(new Map(), 1);
      this.topicNumbers = numbering(new Map(), 1);
      return;
    }
    this.offsetKeys = new BackedMap(offsetDirectorySource(tables));
    this.watermarkKeys = new BackedMap(partitionKeysSource(tables, 'watermarks'));
    this.segmentKeys = new BackedMap(partitionKeysSource(tables, 'segments'));
    this.groupNumbers = numbering(new BackedMap(idNumberSource(tables, ID_KIND.GROUP)), restored.groupNumberNext);
    this.topicNumbers = numbering(new BackedMap(idNumberSource(tables, ID_KIND.TOPIC)), restored.topicNumberNext);
    this.control.nextProducerId = state.nextProducerId;
    this.control.clusterId = state.clusterId;
    this.publishedClusterId = state.clusterId;
    this.control.appliedOffset = state.lastOffset;
  }

  /** The writer's handles of the tables (for snapshots and restored state sources), between publishes. */
  get ownTables(): Readonly<Record<Family, SharedIndex>> {
    return this.tables;
  }

  /** True when `groupId` has committed offsets in the index (as of the last publish). */
  groupHasOffsets(groupId: string): boolean {
    return this.offsetKeys.get(groupId) !== undefined;
  }

  /** The next group and topic numbers: with the tables, what a snapshot must keep. */
  get numbering(): IndexNumbering {
    return { groupNumberNext: this.groupNumbers.next, topicNumberNext: this.topicNumbers.next };
  }

  /**
   * Takes events that the writer's state has already applied (a whole batch, or a stretch of the log
   * during recovery), in offset order. Nothing is written yet: entities are marked, to be written from
   * the state by `publish`, and the events that change committed offsets are kept, in order, for it.
   */
  applyEvent(event: LogEvent): void {
    switch (event.type) {
      case 'TopicCreated':
      case 'TopicConfigsAltered':
      case 'PartitionsCreated':
      case 'PartitionChanged':
        this.dirtyTopics.add(event.value.name);
        return;
      case 'TopicDeleted':
        this.markTopicDeleted(event.value.name);
        this.offsetEvents.push(event);
        return;
      case 'BrokerRegistered':
      case 'BrokerStatusChanged':
      case 'BrokerUnregistered':
        this.dirtyBrokers.add(event.value.brokerId);
        return;
      case 'GroupUpserted':
        this.dirtyGroups.add(event.value.groupId);
        return;
      case 'GroupDeleted':
        this.dirtyGroups.add(event.value.groupId);
        this.offsetEvents.push(event);
        return;
      case 'OffsetsCommitted':
      case 'OffsetsDeleted':
      case 'OffsetsExpired':
        this.offsetEvents.push(event);
        return;
      case 'WatermarksUpdated':
        addPartition(this.dirtyWatermarks, event.value.topic, event.value.partition);
        return;
      case 'SegmentAdded':
      case 'SegmentRemoved':
        addPartition(this.dirtySegments, event.value.topic, event.value.partition);
        return;
      case 'TransactionChanged':
        this.dirtyTransactions.add(event.value.transactionalId);
        return;
      case 'ProducerIdsAllocated':
      case 'ClusterCreated':
        // Scalars of the state: published from it by `publish`.
        return;
      case 'WriterElected':
        // No state of its own.
        return;
    }
  }

  /**
   * Writes everything taken since the last publish, closes every write section, and stores the applied
   * offset: from here on every thread reads the state up to `state.lastOffset`.
   */
  publish(): void {
    this.commit(this.prepare());
  }

  /**
   * The first half of `publish`, for a batch that must wait (for its fdatasync) before it is shown: the
   * entities its events marked are encoded from the state now, while the state holds exactly what the
   * log holds up to this batch (later batches change it before this one is durable), with the events
   * that change committed offsets and the state's scalars. Nothing in the index changes until `commit`.
   * Prepared publishes are committed in the order they were prepared.
   */
  prepare(): PreparedPublish {
    const topics: [string, Topic | undefined][] = [];
    const prepared: PreparedPublish = {
      writes: this.encodeDirtyEntities(topics),
      topics,
      offsetEvents: this.offsetEvents.length === 0 ? NO_EVENTS : this.offsetEvents.splice(0),
      nextProducerId: this.state.nextProducerId,
      clusterId: this.state.clusterId,
      lastOffset: this.state.lastOffset,
    };
    this.dirtyTopics.clear();
    this.dirtyBrokers.clear();
    this.dirtyGroups.clear();
    this.dirtyTransactions.clear();
    this.dirtyWatermarks.clear();
    this.dirtySegments.clear();
    return prepared;
  }

  /**
   * Writes a prepared publish. Readers wait while a section is open, so sections hold only copying:
   * entity values were encoded by `prepare`; the offset changes are applied in event order (their values
   * are fixed-size), the changed offset directories encoded and written (the directory section opens
   * before the offset section closes, which is what lets `fetchOffsets` see a batch whole), then the
   * entities.
   */
  commit(prepared: PreparedPublish): void {
    // Replayed commits still pending are older than the prepared offset events (see applyKeptOffsetEvents).
    this.writePendingOffsets();
    for (const event of prepared.offsetEvents) this.applyOffsetEvent(event);
    for (const groupId of this.dirtyDirectories) {
      const byTopic = this.offsetKeys.get(groupId);
      const entries = byTopic === undefined ? [] : [...byTopic].map(([topic, partitions]) => ({ topic, partitions: [...partitions] }));
      this.write('offsetDirectories', this.keys.group(groupId), entries.length === 0 ? undefined : encodeOffsetDirectory(entries));
    }
    this.dirtyDirectories.clear();
    for (const { family, key, value } of prepared.writes) this.write(family, key, value);
    for (const family of this.open) this.tables[family].endWrite();
    this.open.clear();
    this.control.nextProducerId = prepared.nextProducerId;
    if (prepared.clusterId !== this.publishedClusterId) {
      this.control.clusterId = prepared.clusterId;
      this.publishedClusterId = prepared.clusterId;
    }
    this.control.appliedOffset = prepared.lastOffset;
    // The index holds these topics now: the state need not keep its copies (see StateOptions.publishedTopics).
    this.state.topicsPublished(prepared.topics);
  }

  /** The writes of every marked entity, encoded from the state (keys copied): no section opens here. */
  private encodeDirtyEntities(writtenTopics: [string, Topic | undefined][]): PendingWrite[] {
    const { topics, brokers, groups, transactions, watermarks, segments } = this.state;
    const pending: PendingWrite[] = [];
    const add = (family: Family, key: Uint8Array, value: Uint8Array | undefined): void => {
      pending.push({ family, key: key.slice(), value });
    };
    for (const name of this.dirtyTopics) {
      const topic = topics.get(name);
      add('topics', this.keys.topic(name), topic === undefined ? undefined : encodeTopic(topic));
      writtenTopics.push([name, topic]);
    }
    for (const brokerId of this.dirtyBrokers) {
      const broker = brokers.get(brokerId);
      add('brokers', this.keys.broker(brokerId), broker === undefined ? undefined : encodeBroker(broker));
    }
    for (const groupId of this.dirtyGroups) {
      const group = groups.get(groupId);
      add('groups', this.keys.group(groupId), group?.encoding);
    }
    for (const transactionalId of this.dirtyTransactions) {
      const transaction = transactions.get(transactionalId);
      add('transactions', this.keys.transaction(transactionalId), transaction === undefined ? undefined : encodeTransaction(transaction));
    }
    for (const [topic, partitions] of this.dirtyWatermarks) {
      for (const partition of partitions) {
        const value = watermarks.get(topic)?.get(partition);
        if (value !== undefined) addPartition(this.watermarkKeys, topic, partition);
        add('watermarks', this.keys.topicPartition(topic, partition), value === undefined ? undefined : encodeWatermarks(value));
      }
    }
    for (const [topic, partitions] of this.dirtySegments) {
      for (const partition of partitions) {
        const list = segments.get(topic)?.get(partition);
        const sorted = list === undefined || list.size === 0 ? undefined : [...list.values()].sort((a, b) => a.baseOffset - b.baseOffset || a.segmentId - b.segmentId);
        if (sorted !== undefined) addPartition(this.segmentKeys, topic, partition);
        add('segments', this.keys.topicPartition(topic, partition), sorted === undefined ? undefined : encodeSegments(sorted));
      }
    }
    return pending;
  }

  private applyKeptOffsetEvents(): void {
    if (this.offsetEvents.length === 0) return;
    // The pending commits are older than every kept event (a commit record applies the kept ones first).
    this.writePendingOffsets();
    for (const event of this.offsetEvents) this.applyOffsetEvent(event);
    this.offsetEvents.length = 0;
  }

  /** Applies one event that changes committed offsets (kept in order by `applyEvent`). */
  private applyOffsetEvent(event: LogEvent): void {
    switch (event.type) {
      case 'OffsetsCommitted':
        this.commitOffsets(event.value, event.timestampMs);
        return;
      case 'OffsetsDeleted':
        for (const { topic, partition } of event.value.partitions) this.deleteOffset(event.value.groupId, topic, partition);
        return;
      case 'GroupDeleted':
        this.deleteGroupOffsets(event.value.groupId);
        return;
      case 'OffsetsExpired':
        this.expireGroupOffsets(event.value.groupId, event.value.expireBeforeMs);
        return;
      case 'TopicDeleted':
        this.deleteTopicOffsets(event.value.name);
        return;
      default:
        assert(false, `${event.type} does not change committed offsets`);
    }
  }

  /** The table of `family`, with a write section open on it. */
  private writing(family: Family): SharedIndex {
    const table = this.tables[family];
    if (!this.open.has(family)) {
      table.beginWrite();
      this.open.add(family);
    }
    return table;
  }

  private write(family: Family, key: Uint8Array, value: Uint8Array | undefined): void {
    const table = this.writing(family);
    if (value === undefined) table.delete(key);
    else table.set(key, value);
  }

  private commitOffsets(value: OffsetsCommitted, timestampMs: number): void {
    const table = this.writing('offsets');
    const groupId = value.groupId;
    const groupNumber = this.groupNumber(groupId);
    for (const entry of value.entries) {
      const inserted = table.set(
        this.keys.offset(groupNumber, this.topicNumber(entry.topic), entry.partition),
        this.offsetValues.encode(entry.offset, entry.leaderEpoch, timestampMs, entry.metadata),
      );
      // Most commits replace an offset the group already had: only a new key changes its directory.
      if (inserted) this.addToDirectory(groupId, entry.topic, entry.partition);
    }
  }

  /**
   * Recovery's fast path for the bulk of a log: applies an OffsetsCommitted record straight from its Avro
   * payload `bytes[start, end)`, written under this build's schema, without building the event (ids are
   * read as interned strings; metadata is copied as bytes). Its offsets are kept pending, the newest per
   * key, and written when anything else touches offsets or the index publishes. The payload is checked
   * as it is read, and read whole before anything changes: a payload that does not decode throws
   * MalformedPayload with the index and the pending offsets untouched (the scan reports the record as
   * corrupt).
   */
  applyOffsetsCommittedPayload(bytes: Buffer, start: number, end: number, timestampMs: number): void {
    const entries = this.readCommitPayload(bytes, start, end);
    // Offset changes kept from earlier events come first: they are older than this record.
    this.applyKeptOffsetEvents();
    const groupId = this.payloadGroupId;
    const groupNumber = this.numberOfRead(this.groupNumbers, ID_KIND.GROUP, groupId, this.payloadGroupSlot);
    const scratch = this.payloadEntries;
    for (let item = 0; item < entries; item++) {
      const topic = scratch.topics[item];
      const metadataBytes = scratch.metadataBytes[item];
      const metadataStart = scratch.metadataStarts[item];
      this.pendingOffsets.put(
        groupId,
        groupNumber,
        topic,
        this.numberOfRead(this.topicNumbers, ID_KIND.TOPIC, topic, scratch.topicSlots[item]),
        scratch.partitions[item],
        scratch.offsets[item],
        scratch.leaderEpochs[item],
        timestampMs,
        // A copy (Buffer's own slice would be a view of the segment being read).
        metadataBytes === 0 ? null : Uint8Array.prototype.slice.call(bytes, metadataStart, metadataStart + metadataBytes),
      );
    }
    if (this.pendingOffsets.size >= PENDING_OFFSETS_MAX) this.writePendingOffsets();
  }

  /** Writes the offsets that replayed commits left pending (see pending-offsets.ts), each key once. */
  private writePendingOffsets(): void {
    if (this.pendingOffsets.size === 0) return;
    const table = this.writing('offsets');
    this.pendingOffsets.drain((entry) => {
      const { metadata } = entry;
      const inserted = table.set(
        this.keys.offset(entry.groupNumber, entry.topicNumber, entry.partition),
        metadata === null
          ? this.offsetValues.encode(entry.offset, entry.leaderEpoch, entry.commitTimestampMs, '')
          : this.offsetValues.encodeFromBytes(entry.offset, entry.leaderEpoch, entry.commitTimestampMs, metadata, 0, metadata.length),
      );
      if (inserted) this.addToDirectory(entry.groupId, entry.topic, entry.partition);
    });
  }

  /**
   * Reads an OffsetsCommitted payload into `payloadGroupId` and `payloadEntries`; returns the entry count.
   * @throws MalformedPayload when the bytes are not such a payload, exactly to `end`.
   */
  private readCommitPayload(bytes: Buffer, start: number, end: number): number {
    const reader = this.payloadReader;
    const scratch = this.payloadEntries;
    reader.reset(bytes, start, end);
    this.payloadGroupId = reader.readString();
    this.payloadGroupSlot = reader.internSlot;
    let entries = 0;
    // Avro array blocks: a count (negative: followed by the block's byte size), items, a zero count.
    // Bounded: every block and every item takes at least one byte of the payload.
    for (let count = reader.readLong(); count !== 0; count = reader.readLong()) {
      if (count < 0) {
        count = -count;
        reader.readLong();
      }
      if (count > end - reader.position) throw new MalformedPayload(`array block of ${count} items in ${end - reader.position} bytes`);
      for (let item = 0; item < count; item++, entries++) {
        scratch.topics[entries] = reader.readString();
        scratch.topicSlots[entries] = reader.internSlot;
        scratch.partitions[entries] = reader.readLong();
        scratch.offsets[entries] = reader.readLong();
        scratch.leaderEpochs[entries] = reader.readLong();
        const metadataBytes = reader.readLong();
        if (metadataBytes < 0 || reader.position + metadataBytes > end) throw new MalformedPayload('string runs past the end of the payload');
        scratch.metadataStarts[entries] = reader.position;
        scratch.metadataBytes[entries] = metadataBytes;
        reader.position += metadataBytes;
      }
    }
    if (reader.position !== end) throw new MalformedPayload(`payload of ${end - start} bytes decoded to ${reader.position - start}`);
    return entries;
  }

  /** The number offsets of `groupId` are keyed by, given (and published in `ids`) at its first offset. */
  private groupNumber(groupId: string): number {
    return this.numberOf(this.groupNumbers, ID_KIND.GROUP, groupId);
  }

  /** The number offsets for `topic` are keyed by, given at the first offset committed for it. */
  private topicNumber(topic: string): number {
    return this.numberOf(this.topicNumbers, ID_KIND.TOPIC, topic);
  }

  /** `numberOf` for a name the payload reader has just read, whose intern slot was `slot` (-1: none). */
  private numberOfRead(numbering: Numbering, kind: IdKind, name: string, slot: number): number {
    if (slot >= 0 && numbering.cachedNames[slot] === name) return numbering.cachedNumbers[slot];
    const number = this.numberOf(numbering, kind, name);
    if (slot >= 0) {
      numbering.cachedNames[slot] = name;
      numbering.cachedNumbers[slot] = number;
    }
    return number;
  }

  private numberOf(numbering: Numbering, kind: IdKind, name: string): number {
    let number = numbering.byName.get(name);
    if (number === undefined) {
      number = numbering.next++;
      numbering.byName.set(name, number);
      this.writing('ids').set(this.keys.id(kind, name), numberValue(number));
    }
    return number;
  }

  /**
   * Retires a group's or a topic's number: bumps the id epoch first (readers that cached the number
   * then retry; see `IdNumbers` in store-index.ts), then removes it from `ids`. Numbers are never reused.
   */
  private retireNumber(numbering: Numbering, kind: IdKind, name: string): void {
    if (!numbering.byName.delete(name)) return;
    numbering.cachedNames.fill(undefined);
    this.control.bumpIdEpoch();
    this.writing('ids').delete(this.keys.id(kind, name));
  }

  private addToDirectory(groupId: string, topic: string, partition: number): void {
    let byTopic = this.offsetKeys.get(groupId);
    if (byTopic === undefined) {
      byTopic = new Map();
      this.offsetKeys.set(groupId, byTopic);
    }
    addPartition(byTopic, topic, partition);
    this.dirtyDirectories.add(groupId);
  }

  private deleteOffset(groupId: string, topic: string, partition: number): void {
    const byTopic = this.offsetKeys.get(groupId);
    const partitions = byTopic?.get(topic);
    if (byTopic === undefined || partitions === undefined || !partitions.delete(partition)) return;
    const groupNumber = this.groupNumbers.byName.get(groupId);
    const topicNumber = this.topicNumbers.byName.get(topic);
    assert(groupNumber !== undefined && topicNumber !== undefined, 'a group and topic with offsets have numbers');
    this.writing('offsets').delete(this.keys.offset(groupNumber, topicNumber, partition));
    this.dirtyDirectories.add(groupId);
    if (partitions.size === 0) byTopic.delete(topic);
    if (byTopic.size === 0) {
      this.offsetKeys.delete(groupId);
      this.retireNumber(this.groupNumbers, ID_KIND.GROUP, groupId);
    }
  }

  private deleteGroupOffsets(groupId: string): void {
    const byTopic = this.offsetKeys.get(groupId);
    if (byTopic === undefined) return;
    for (const [topic, partitions] of [...byTopic]) {
      for (const partition of [...partitions]) this.deleteOffset(groupId, topic, partition);
    }
  }

  /** Offset retention: deletes the group's offsets committed before `expireBeforeMs` (read from the index, in event order). */
  private expireGroupOffsets(groupId: string, expireBeforeMs: number): void {
    const byTopic = this.offsetKeys.get(groupId);
    const groupNumber = this.groupNumbers.byName.get(groupId);
    if (byTopic === undefined || groupNumber === undefined) return;
    for (const [topic, partitions] of [...byTopic]) {
      const topicNumber = this.topicNumbers.byName.get(topic);
      assert(topicNumber !== undefined, 'a topic with offsets has a number');
      for (const partition of [...partitions]) {
        const value = this.tables.offsets.get(this.keys.offset(groupNumber, topicNumber, partition));
        assert(value !== undefined, 'an offset in the directory is in the offsets table');
        if (decodeCommittedOffset(value).commitTimestamp < expireBeforeMs) this.deleteOffset(groupId, topic, partition);
      }
    }
  }

  /** A deleted topic takes its watermarks and segments along (and its offsets: `deleteTopicOffsets`). */
  private markTopicDeleted(name: string): void {
    this.dirtyTopics.add(name);
    for (const [keys, dirty] of [[this.watermarkKeys, this.dirtyWatermarks], [this.segmentKeys, this.dirtySegments]]) {
      const partitions = keys.get(name);
      if (partitions === undefined) continue;
      for (const partition of partitions) addPartition(dirty, name, partition);
      keys.delete(name);
    }
  }

  /** The groups with offsets for `topic`: from the directories loaded here, and, in a restored index, the others compared in place. */
  private groupsWithOffsetsFor(topic: string): string[] {
    const directories = this.offsetKeys;
    if (!(directories instanceof BackedMap) || !directories.backed) {
      return [...directories].filter(([, byTopic]) => byTopic.has(topic)).map(([groupId]) => groupId);
    }
    // Decoding every group's directory (a million offsets' worth after a restore) to find a few would
    // stall the writer for most of a second; the undecided ones are compared in their encoded form.
    const found = [...directories.decidedEntries()].filter(([, byTopic]) => byTopic.has(topic)).map(([groupId]) => groupId);
    const name = utf8.encode(topic);
    this.tables.offsetDirectories.forEachEntryBytes((bytes, start, end) => {
      const keyEnd = start + 2 + (bytes[start] | (bytes[start + 1] << 8));
      const groupId = decodeStringKey(bytes.subarray(start + 2, keyEnd));
      if (!directories.decided(groupId) && offsetDirectoryNames(bytes.subarray(keyEnd, end), name)) found.push(groupId);
    });
    return found;
  }

  /** Every group's offsets for a deleted topic go, and the topic's number is retired. */
  private deleteTopicOffsets(name: string): void {
    for (const groupId of this.groupsWithOffsetsFor(name)) {
      const partitions = this.offsetKeys.get(groupId)?.get(name);
      if (partitions === undefined) continue;
      for (const partition of [...partitions]) this.deleteOffset(groupId, name, partition);
    }
    // A topic created again under this name gets a new number.
    this.retireNumber(this.topicNumbers, ID_KIND.TOPIC, name);
  }
}
