/**
 * The `MetaLog` handle: what a broker holds. Writes go to the writer thread through the command ring and
 * resolve when the writer's BATCH record acknowledges them; reads are synchronous, from the state this
 * handle folds from the event ring (the same events, in the same order, as the WAL).
 *
 * Read-your-writes: a handle folds a batch's events before it settles the promises of that batch, so when
 * a write resolves, every read on this handle already shows it.
 *
 * Threads: the handle lives on the caller's thread and never blocks it; the thread plumbing (rings,
 * writer thread, settling calls) is its WriterLink's.
 */
import fs from 'node:fs';
import { EventCodec } from '../codec/event-codec.js';
import type { LogEvent } from '../codec/event-schema.js';
import {
  checkAddSegmentInput,
  checkAddToTxnInput,
  checkAllocateProducerIdsInput,
  checkAlterTopicConfigsInput,
  checkCompleteTxnInput,
  checkEndTxnInput,
  checkInitProducerIdInput,
  checkRemoveSegmentInput,
  checkWatermarksInput,
  type ProducerIdentity,
  checkChangePartitionInput,
  checkCommitOffsetsInput,
  checkCreatePartitionsInput,
  checkCreateTopicInput,
  checkDeleteGroupInput,
  checkDeleteOffsetsInput,
  checkDeleteTopicInput,
  checkResetOffsetsInput,
  checkUpsertGroupInput,
  type CommitMembership,
  type GroupInput,
  checkRegisterBrokerInput,
  checkSetBrokerStatusInput,
  checkUnregisterBrokerInput,
  type ChangePartitionInput,
  type Command,
  type CreateTopicInput,
  type OffsetCommitInput,
  type RegisterBrokerInput,
  type TopicConfigChanges,
} from '../commands/commands.js';
import type { BrokerStatus, PartitionState, SegmentInfo, Watermarks } from '../codec/event-schema.js';
import { resolveConfig, type MetaLogConfig, type MetaLogConfigInput } from '../config.js';
import { MetaLogError } from '../errors.js';
import { DirectoryLock } from '../lock.js';
import { MetadataState, type Broker, type CommittedOffset, type Group, type Topic, type Transaction } from '../state/metadata-state.js';
import { frameAt } from '../wal/format.js';
import { repairWal, type RepairReport } from '../wal/repair.js';
import { NodeStorage } from '../wal/storage.js';
import { BATCH_KIND, type DecodedBatch } from '../writer/batch-record.js';
import type { RecoveryReport } from '../writer/recover-writer.js';
import { Watcher, type WatchOptions } from './watcher.js';
import { WriterLink, type BatchSink, type OpenInternals } from './writer-link.js';

export type { OpenInternals } from './writer-link.js';

/** An open store. */
export class MetaLog {
  /** The resolved configuration. */
  readonly config: MetaLogConfig;
  private readonly state = new MetadataState();
  private readonly codecsBySchema = new Map<string, EventCodec>();
  private readonly watchers = new Set<Watcher>();
  /** Events of the batch being settled, reused from batch to batch. */
  private readonly batchEvents: LogEvent[] = [];
  private link!: WriterLink;
  private closePromise: Promise<void> | null = null;

  private constructor(
    config: MetaLogConfig,
    private readonly lock: DirectoryLock,
  ) {
    this.config = config;
  }

  /**
   * Opens (or creates) the store in `config.dir`: takes the directory lock, starts the writer thread,
   * recovers the WAL and rebuilds the state. Rejects with INVALID_CONFIG, STORE_LOCKED, CORRUPT_WAL or
   * UNSUPPORTED_FORMAT.
   */
  static async open(input: MetaLogConfigInput, internals: OpenInternals = {}): Promise<MetaLog> {
    const config = resolveConfig(input);
    try {
      fs.mkdirSync(config.dir, { recursive: true });
    } catch (error) {
      throw new MetaLogError('INVALID_CONFIG', `config.dir: cannot create ${config.dir}: ${(error as Error).message}`, { field: 'dir' }, error);
    }
    const lock = DirectoryLock.acquire(config.dir);
    const log = new MetaLog(config, lock);
    try {
      log.link = await WriterLink.start(config, log.sink, internals);
    } catch (error) {
      lock.release();
      throw error;
    }
    return log;
  }

  /**
   * Cuts a corrupt log at its first damage so it can be opened again, saving everything it removes
   * under `<dir>/repair-<time>/` and reporting what was dropped. Takes the directory lock (so it fails
   * with STORE_LOCKED while the store is open). A sound log is left untouched (`damage: null`).
   */
  static repair(dir: string): RepairReport {
    const lock = DirectoryLock.acquire(dir);
    try {
      return repairWal(dir, new NodeStorage());
    } finally {
      lock.release();
    }
  }

  /** How the link hands batches to this handle: fold them, and end the watchers when the writer is gone. */
  private readonly sink: BatchSink = {
    fold: (batch) => this.fold(batch),
    closed: () => {
      for (const watcher of [...this.watchers]) watcher.finish();
    },
  };

  private codecFor(schemaJson: string | null): EventCodec {
    if (schemaJson === null) return EventCodec.current();
    let codec = this.codecsBySchema.get(schemaJson);
    if (codec === undefined) {
      codec = EventCodec.forWriterSchema(schemaJson);
      this.codecsBySchema.set(schemaJson, codec);
    }
    return codec;
  }

  /** Applies a batch's events to the state and the watchers; returns a BATCH's events in order. */
  private fold(batch: DecodedBatch): readonly LogEvent[] {
    const codec = this.codecFor(batch.schemaJson);
    const frames = batch.frames;
    const events = this.batchEvents;
    events.length = 0;
    let position = 0;
    for (let i = 0; i < batch.recordCount; i++) {
      const view = frameAt(frames, position);
      const body = codec.decode(view.eventType, frames, view.payloadStart, view.end);
      const event = { type: body.type, value: body.value, offset: view.offset, timestampMs: view.timestampMs } as LogEvent;
      this.state.apply(event);
      if (batch.kind === BATCH_KIND.BATCH) {
        events.push(event);
        if (this.watchers.size > 0) for (const watcher of this.watchers) watcher.push(event);
      }
      position = view.end;
    }
    return events;
  }

  private assertOpen(): void {
    if (this.link.closed) throw new MetaLogError('STORE_CLOSED', 'the store is closed', {});
  }

  /** What open recovered (events replayed, torn tail cut, CRC32C path, duration). */
  get recovery(): RecoveryReport {
    return this.link.recovery;
  }

  /** Why the store is read-only (a failed fdatasync, a broken invariant), or null while it accepts writes. */
  get readOnlyError(): MetaLogError | null {
    return this.link.readOnlyError;
  }

  /** Offset of the last acknowledged event (-1 for an empty store). In fsync mode it is also durable. */
  get lastOffset(): number {
    return this.state.lastOffset;
  }

  /** Offset of the last event known to be fdatasync-ed (lags lastOffset in interval and none modes). */
  get durableOffset(): number {
    return this.link.durableOffset;
  }

  /**
   * Creates a topic with all its partitions in one event. Resolves to the topic (with its `topicId`, a
   * UUID kept across restarts). Rejects with INVALID_TOPIC_EXCEPTION, INVALID_PARTITIONS,
   * INVALID_REPLICATION_FACTOR, INVALID_CONFIG, TOPIC_ALREADY_EXISTS or KAFKA_STORAGE_ERROR.
   */
  createTopic(input: CreateTopicInput): Promise<Topic> {
    return this.command(() => checkCreateTopicInput(input), () => this.state.topics.get(input.name) as Topic);
  }

  /** Checks a call on this thread (a bad one rejects at once), then queues it for the writer. */
  private command<T>(check: () => Command, onOk: (event: LogEvent | undefined) => T): Promise<T> {
    let command: Command;
    try {
      command = check();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.link.submit(command, onOk);
  }

  /**
   * Sets and removes topic configs (keys and values validated; INVALID_CONFIG names the key). Resolves to
   * the topic. UNKNOWN_TOPIC_OR_PARTITION for a missing topic.
   */
  alterTopicConfigs(name: string, changes: TopicConfigChanges): Promise<Topic> {
    return this.command(() => checkAlterTopicConfigsInput(name, changes), () => this.state.topics.get(name) as Topic);
  }

  /**
   * Grows a topic to `totalCount` partitions (never fewer: INVALID_PARTITIONS), with replicas assigned
   * like createTopic or given in `assignments` (one list per new partition). Resolves to the topic.
   */
  createPartitions(name: string, totalCount: number, assignments?: number[][]): Promise<Topic> {
    return this.command(() => checkCreatePartitionsInput(name, totalCount, assignments), () => this.state.topics.get(name) as Topic);
  }

  /** Deletes a topic with its partitions and every committed offset for it, as one event. */
  deleteTopic(name: string): Promise<void> {
    return this.command(() => checkDeleteTopicInput(name), () => undefined);
  }

  /**
   * Changes a partition's leader, ISR and (for a reassignment) replicas, if its partition epoch is still
   * `expectedPartitionEpoch` (else INVALID_UPDATE_VERSION, 95). A new leader bumps the leader epoch;
   * every change bumps the partition epoch. Resolves to the new partition state.
   */
  changePartition(name: string, partition: number, change: ChangePartitionInput): Promise<Readonly<PartitionState>> {
    return this.command(
      () => checkChangePartitionInput(name, partition, change),
      () => this.state.topics.get(name)?.partitions[partition] as Readonly<PartitionState>,
    );
  }

  /** One partition of a topic, or undefined. Synchronous. */
  getPartition(name: string, partition: number): Readonly<PartitionState> | undefined {
    this.assertOpen();
    return this.state.topics.get(name)?.partitions[partition];
  }

  /** Every topic, in name order. Synchronous. */
  listTopics(): Topic[] {
    this.assertOpen();
    return [...this.state.topics.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Registers a broker (ONLINE), or re-registers it with a higher `brokerEpoch` (else
   * STALE_BROKER_EPOCH, 77). Resolves to the broker.
   */
  registerBroker(input: RegisterBrokerInput): Promise<Broker> {
    return this.command(() => checkRegisterBrokerInput(input), () => this.state.brokers.get(input.brokerId) as Broker);
  }

  /** Marks a broker ONLINE, FENCED or MAINTENANCE (BROKER_ID_NOT_REGISTERED, 102, if unknown). */
  setBrokerStatus(brokerId: number, status: BrokerStatus): Promise<Broker> {
    return this.command(() => checkSetBrokerStatusInput(brokerId, status), () => this.state.brokers.get(brokerId) as Broker);
  }

  /** Removes a broker's registration (BROKER_ID_NOT_REGISTERED, 102, if unknown). */
  unregisterBroker(brokerId: number): Promise<void> {
    return this.command(() => checkUnregisterBrokerInput(brokerId), () => undefined);
  }

  /**
   * Moves a partition's high watermark and/or log start offset forward (WATERMARK_REGRESSION if either
   * would move back, or the log start would pass the high watermark). Resolves to the new watermarks.
   */
  updateWatermarks(topic: string, partition: number, change: Partial<Watermarks>): Promise<Readonly<Watermarks>> {
    return this.command(() => checkWatermarksInput(topic, partition, change, false), () => this.getWatermarks(topic, partition) as Watermarks);
  }

  /** Sets both watermarks to any values (the explicit reset, the only way back). */
  resetWatermarks(topic: string, partition: number, watermarks: Watermarks): Promise<Readonly<Watermarks>> {
    return this.command(() => checkWatermarksInput(topic, partition, watermarks, true), () => this.getWatermarks(topic, partition) as Watermarks);
  }

  /** A partition's watermarks, or undefined before the first update. Synchronous. */
  getWatermarks(topic: string, partition: number): Readonly<Watermarks> | undefined {
    this.assertOpen();
    return this.state.watermarks.get(topic)?.get(partition);
  }

  /** Records a log segment of a partition (its id once per partition). */
  addSegment(topic: string, partition: number, segment: SegmentInfo): Promise<void> {
    return this.command(() => checkAddSegmentInput(topic, partition, segment), () => undefined);
  }

  /** Forgets a log segment of a partition. */
  removeSegment(topic: string, partition: number, segmentId: number): Promise<void> {
    return this.command(() => checkRemoveSegmentInput(topic, partition, segmentId), () => undefined);
  }

  /** The segments of a partition, in base offset order. Synchronous. */
  listSegments(topic: string, partition: number): Readonly<SegmentInfo>[] {
    this.assertOpen();
    const segments = this.state.segments.get(topic)?.get(partition);
    return segments === undefined ? [] : [...segments.values()].sort((a, b) => a.baseOffset - b.baseOffset || a.segmentId - b.segmentId);
  }

  /** Hands out a block of `count` producer ids that no one ever got before (also across restarts). */
  allocateProducerIds(count: number): Promise<{ firstProducerId: number; count: number }> {
    return this.command(() => checkAllocateProducerIdsInput(count), (event) => {
      const value = (event as Extract<LogEvent, { type: 'ProducerIdsAllocated' }>).value;
      return { firstProducerId: value.firstProducerId, count: value.count };
    });
  }

  /**
   * Kafka's InitProducerId for a transactional id: a new producer id with epoch 0, or the same id with
   * the next epoch (fencing the previous incarnation). Resolves to the producer's identity.
   */
  initProducerId(transactionalId: string, timeoutMs: number): Promise<ProducerIdentity> {
    return this.command(() => checkInitProducerIdInput(transactionalId, timeoutMs), (event) => {
      const value = (event as Extract<LogEvent, { type: 'TransactionChanged' }>).value;
      return { producerId: value.producerId, producerEpoch: value.producerEpoch };
    });
  }

  /** Adds partitions to the producer's transaction (it becomes Ongoing). */
  addPartitionsToTxn(transactionalId: string, producer: ProducerIdentity, partitions: { topic: string; partition: number }[]): Promise<void> {
    return this.command(() => checkAddToTxnInput(transactionalId, producer, partitions, []), () => undefined);
  }

  /** Adds a consumer group's offsets to the producer's transaction (it becomes Ongoing). */
  addOffsetsToTxn(transactionalId: string, producer: ProducerIdentity, groupId: string): Promise<void> {
    return this.command(() => checkAddToTxnInput(transactionalId, producer, [], [groupId]), () => undefined);
  }

  /** Ends the producer's Ongoing transaction: PrepareCommit (commit true) or PrepareAbort. */
  endTxn(transactionalId: string, producer: ProducerIdentity, commit: boolean): Promise<void> {
    return this.command(() => checkEndTxnInput(transactionalId, producer, commit), () => undefined);
  }

  /** Marks a prepared transaction complete, once the broker has written its markers. */
  completeTxn(transactionalId: string): Promise<void> {
    return this.command(() => checkCompleteTxnInput(transactionalId), () => undefined);
  }

  /**
   * An async iterator over committed events from now on (or from `from`, which may not be older than the
   * next offset yet: OFFSET_OUT_OF_RANGE). Ends when the store closes; `return()` (or leaving a
   * `for await` loop) unsubscribes.
   */
  watch(options: WatchOptions = {}): AsyncIterableIterator<LogEvent> {
    this.assertOpen();
    const from = options.from ?? this.state.lastOffset + 1;
    if (!Number.isInteger(from) || from < this.state.lastOffset + 1) {
      throw new MetaLogError('OFFSET_OUT_OF_RANGE', `watch can start at offset ${this.state.lastOffset + 1} or later; older history is not served yet`, {
        field: 'from',
        offset: this.state.lastOffset + 1,
      });
    }
    const watcher = new Watcher(from, options.types === undefined ? null : new Set(options.types), (w) => this.watchers.delete(w));
    this.watchers.add(watcher);
    return watcher;
  }

  /** A transaction, or undefined. Synchronous. */
  getTransaction(transactionalId: string): Transaction | undefined {
    this.assertOpen();
    return this.state.transactions.get(transactionalId);
  }

  /** A registered broker, or undefined. Synchronous. */
  getBroker(brokerId: number): Broker | undefined {
    this.assertOpen();
    return this.state.brokers.get(brokerId);
  }

  /** Every registered broker, in id order. Synchronous. */
  listBrokers(): Broker[] {
    this.assertOpen();
    return [...this.state.brokers.values()].sort((a, b) => a.brokerId - b.brokerId);
  }

  /** The topic named `name`, or undefined. Synchronous. */
  getTopic(name: string): Topic | undefined {
    this.assertOpen();
    return this.state.topics.get(name);
  }

  /**
   * Commits offsets for a group; all entries are one atomic event. Rejects with INVALID_GROUP_ID,
   * UNKNOWN_TOPIC_OR_PARTITION, OFFSET_METADATA_TOO_LARGE, INVALID_REQUEST or KAFKA_STORAGE_ERROR.
   */
  commitOffsets(groupId: string, entries: OffsetCommitInput[], membership?: CommitMembership): Promise<void> {
    return this.command(() => checkCommitOffsetsInput(groupId, entries, membership), () => undefined);
  }

  /** Every committed offset of a group, in topic then partition order. Synchronous. */
  fetchOffsets(groupId: string): (CommittedOffset & { topic: string; partition: number })[] {
    this.assertOpen();
    return this.state.fetchOffsets(groupId);
  }

  /**
   * Deletes committed offsets (Kafka's OffsetDelete): GROUP_SUBSCRIBED_TO_TOPIC while a member of a live
   * group subscribes to the topic; UNKNOWN_TOPIC_OR_PARTITION for a partition that does not exist.
   */
  deleteOffsets(groupId: string, partitions: { topic: string; partition: number }[]): Promise<void> {
    return this.command(() => checkDeleteOffsetsInput(groupId, partitions), () => undefined);
  }

  /** Sets offsets of a group without members (an operator's reset; NON_EMPTY_GROUP otherwise). */
  resetOffsets(groupId: string, entries: OffsetCommitInput[]): Promise<void> {
    return this.command(() => checkResetOffsetsInput(groupId, entries), () => undefined);
  }

  /**
   * Stores a consumer group whole: state, protocol, generation (never backwards: ILLEGAL_GENERATION),
   * leader and members with their subscription and assignment bytes. Resolves to the group.
   */
  upsertGroup(group: GroupInput): Promise<Group> {
    return this.command(() => checkUpsertGroupInput(group), () => this.state.groups.get(group.groupId) as Group);
  }

  /** Deletes a group and all its offsets as one event (NON_EMPTY_GROUP while it has members). */
  deleteGroup(groupId: string): Promise<void> {
    return this.command(() => checkDeleteGroupInput(groupId), () => undefined);
  }

  /** A consumer group, or undefined. Synchronous. */
  getGroup(groupId: string): Group | undefined {
    this.assertOpen();
    return this.state.groups.get(groupId);
  }

  /** Every stored group, in id order. Synchronous. */
  listGroups(): Group[] {
    this.assertOpen();
    return [...this.state.groups.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
  }

  /** The committed offset of (group, topic, partition), or undefined. Synchronous. */
  fetchOffset(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    this.assertOpen();
    return this.state.fetchOffset(groupId, topic, partition);
  }

  /** Makes every acknowledged write durable now (fdatasync), whatever the durability mode. */
  sync(): Promise<void> {
    return this.link.submit('sync', () => undefined);
  }

  /**
   * Waits for every write in flight, fdatasyncs (unless the store is read-only after a failed fdatasync),
   * stops the writer thread and releases the directory lock. Idempotent.
   */
  close(): Promise<void> {
    this.closePromise ??= this.closeOnce();
    return this.closePromise;
  }

  private async closeOnce(): Promise<void> {
    await this.link.close();
    this.lock.release();
  }


  /** Counts for tests and inspection. @internal */
  stateForTests(): MetadataState {
    return this.state;
  }
}
