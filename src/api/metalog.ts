/**
 * The `MetaLog` handle: what a broker holds. Writes go to the writer thread through the command ring and
 * resolve when the writer's BATCH record acknowledges them; reads are synchronous, from the state this
 * handle folds from the event ring (the same events, in the same order, as the WAL).
 *
 * Read-your-writes: a handle folds a batch's events before it settles the promises of that batch, so when
 * a write resolves, every read on this handle already shows it.
 *
 * Threads: the handle lives on the caller's thread and never blocks it. It waits for the event ring with
 * Atomics.waitAsync and for command ring space with a queue and Atomics.waitAsync.
 */
import { Worker } from 'node:worker_threads';
import fs from 'node:fs';
import { CommandRing } from '../../native-free/command-ring.js';
import { EventRing, type EventCursor } from '../../native-free/event-ring.js';
import { encodeCommand } from '../codec/command-codec.js';
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
import { fromSerialized, MetaLogError, type SerializedError } from '../errors.js';
import { COMMAND_BYTES_MAX, COMMAND_RING_BYTES, eventRingBytesFor, HANDLES_MAX } from '../limits.js';
import { DirectoryLock } from '../lock.js';
import { MetadataState, type Broker, type CommittedOffset, type Group, type Topic, type Transaction } from '../state/metadata-state.js';
import { frameAt } from '../wal/format.js';
import { repairWal, type RepairReport } from '../wal/repair.js';
import { NodeStorage } from '../wal/storage.js';
import { BATCH_KIND, decodeBatch, decodeControlBody, recordKind, type DecodedBatch } from '../writer/batch-record.js';
import type { RecoveryReport } from '../writer/recover-writer.js';
import { Watcher, type WatchOptions } from './watcher.js';

/** Test-only hooks of `open`. @internal */
export interface OpenInternals {
  /** Fault switches for the writer's storage (see FaultyStorage). */
  faults?: SharedArrayBuffer;
}

interface PendingCall {
  resolve: (value: unknown) => void;
  reject: (error: MetaLogError) => void;
  /** Builds the resolved value; gets the event the call's command became, when it became one. */
  onOk: (event: LogEvent | undefined) => unknown;
}

const WRITER_URL = new URL('../../workers/writer.js', import.meta.url);
/** Event ring records consumed before the handle yields to the caller's event loop. */
const CONSUME_RECORDS_PER_TURN = 1024;
/** Commands of one burst after which the writer is woken without waiting for the burst to end. */
const EARLY_WAKE_COMMANDS = 8;
/** The opener's handle id in result tables. */
const OPENER_HANDLE_ID = 0;

/** An open store. */
export class MetaLog {
  /** The resolved configuration. */
  readonly config: MetaLogConfig;
  private readonly state = new MetadataState();
  private readonly pending = new Map<number, PendingCall>();
  private readonly overflow: Uint8Array[] = [];
  private readonly scratch = Buffer.allocUnsafe(COMMAND_BYTES_MAX + 64);
  private readonly codecsBySchema = new Map<string, EventCodec>();
  private readonly watchers = new Set<Watcher>();
  /** Events of the batch being settled, reused from batch to batch. */
  private readonly batchEvents: LogEvent[] = [];
  private nextSeq = 1;
  private durableOffsetValue = -1;
  private recoveryReport: RecoveryReport | null = null;
  private readOnlyCause: MetaLogError | null = null;
  private closing = false;
  private closed = false;
  private draining = false;
  private wakeScheduled = false;
  private commandsSinceWake = 0;
  private closePromise: Promise<void> | null = null;
  private settleOpen!: { resolve: () => void; reject: (error: MetaLogError) => void };
  private settleClosed!: () => void;
  private readonly closedSignal = new Promise<void>((resolve) => (this.settleClosed = resolve));

  private constructor(
    config: MetaLogConfig,
    private readonly lock: DirectoryLock,
    private readonly commandRing: CommandRing,
    private readonly cursor: EventCursor,
    private readonly worker: Worker,
    private readonly workerExited: Promise<void>,
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
    let worker: Worker;
    let log: MetaLog;
    try {
      const commandRing = CommandRing.create(COMMAND_RING_BYTES);
      const eventRing = EventRing.create(eventRingBytesFor(config.maxBatchBytes), HANDLES_MAX);
      const cursor = eventRing.openCursor();
      worker = new Worker(WRITER_URL, {
        workerData: { config, commandRing: commandRing.buffer, eventRing: eventRing.buffer, faults: internals.faults },
      });
      const workerExited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      log = new MetaLog(config, lock, commandRing, cursor, worker, workerExited);
    } catch (error) {
      lock.release();
      throw error;
    }
    const opened = new Promise<void>((resolve, reject) => (log.settleOpen = { resolve, reject }));
    log.watchWorker();
    void log.consume();
    try {
      await opened;
    } catch (error) {
      await log.workerExited;
      log.cursor.close();
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

  private watchWorker(): void {
    this.worker.on('error', (error) => {
      this.fail(new MetaLogError('INTERNAL_ERROR', `writer thread failed: ${error.message}`, {}, error));
    });
    this.worker.once('exit', (code) => {
      // The exit can be seen before the last records the writer published (its final acknowledgements and
      // CLOSED): consume them first, so no acknowledged write is reported as failed.
      if (!this.closed) this.drainEventRing();
      if (!this.closed) {
        this.fail(new MetaLogError('INTERNAL_ERROR', `writer thread exited (code ${code})`, {}));
        this.finishClosed();
      }
    });
  }

  /** Consumes the event ring until the writer reports CLOSED (or dies). */
  private async consume(): Promise<void> {
    const onRecord = (bytes: Uint8Array): void => this.onRecord(bytes);
    // Ends when the writer publishes CLOSED or exits; each pass either consumes records or waits.
    let consumedSinceYield = 0;
    while (!this.closed) {
      const consumed = this.cursor.poll(onRecord, 64);
      if (consumed === 0) {
        consumedSinceYield = 0;
        await this.cursor.waitAsync(1000);
      } else if ((consumedSinceYield += consumed) >= CONSUME_RECORDS_PER_TURN) {
        // A long replay must not starve the caller's event loop: give it a turn now and then.
        consumedSinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  /** Consumes everything already published on the event ring, synchronously. */
  private drainEventRing(): void {
    const onRecord = (bytes: Uint8Array): void => this.onRecord(bytes);
    // Bounded: the writer has exited, so nothing more is published while this runs.
    while (!this.closed && this.cursor.poll(onRecord, 64) > 0) {
      /* consume */
    }
  }

  private onRecord(bytes: Uint8Array): void {
    switch (recordKind(bytes)) {
      case BATCH_KIND.BATCH:
      case BATCH_KIND.REPLAY:
        this.onBatch(decodeBatch(bytes));
        return;
      case BATCH_KIND.READY:
        this.recoveryReport = decodeControlBody(bytes) as RecoveryReport;
        this.durableOffsetValue = this.state.lastOffset;
        this.settleOpen.resolve();
        return;
      case BATCH_KIND.FATAL: {
        const error = fromSerialized(decodeControlBody(bytes) as SerializedError);
        if (this.recoveryReport === null) this.settleOpen.reject(error);
        this.fail(error);
        return;
      }
      case BATCH_KIND.CLOSED:
        this.finishClosed();
        return;
    }
  }

  private codecFor(schemaJson: string | null): EventCodec {
    if (schemaJson === null) return EventCodec.current();
    let codec = this.codecsBySchema.get(schemaJson);
    if (codec === undefined) {
      codec = EventCodec.forWriterSchema(schemaJson);
      this.codecsBySchema.set(schemaJson, codec);
    }
    return codec;
  }

  private onBatch(batch: DecodedBatch): void {
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
        for (const watcher of this.watchers) watcher.push(event);
      }
      position = view.end;
    }
    if (batch.kind === BATCH_KIND.BATCH) this.durableOffsetValue = batch.durableOffset;
    let eventIndex = 0;
    for (const result of batch.results) {
      const event = result.wroteEvent ? events[eventIndex++] : undefined;
      if (result.handleId !== OPENER_HANDLE_ID) continue;
      const call = this.pending.get(result.seq);
      if (call === undefined) continue;
      this.pending.delete(result.seq);
      if (result.error === null) {
        call.resolve(call.onOk(event));
        continue;
      }
      const error = fromSerialized(result.error);
      // The writer reports a failed fdatasync through the results; from then on, fail writes here at once.
      if (error.code === 'STORE_READ_ONLY' || error.details.fatal === true) this.readOnlyCause ??= error;
      call.reject(error);
    }
  }

  /** The writer stopped writing: later writes fail at once; calls in flight fail with the cause. */
  private fail(cause: MetaLogError): void {
    if (this.readOnlyCause === null) this.readOnlyCause = cause;
    const error = new MetaLogError('STORE_READ_ONLY', `the store is read-only: ${cause.message}`, {}, cause);
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
    this.overflow.length = 0;
  }

  private finishClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const watcher of [...this.watchers]) watcher.finish();
    const error = new MetaLogError('STORE_CLOSED', 'the store was closed before this call was acknowledged', {});
    for (const call of this.pending.values()) call.reject(error);
    this.pending.clear();
    this.settleClosed();
  }

  private submit<T>(command: Command | 'sync' | 'close', onOk: (event: LogEvent | undefined) => T): Promise<T> {
    if (this.closing || this.closed) {
      return Promise.reject(new MetaLogError('STORE_CLOSED', 'the store is closed', {}));
    }
    if (this.readOnlyCause !== null && command !== 'close') {
      return Promise.reject(new MetaLogError('STORE_READ_ONLY', `the store is read-only: ${this.readOnlyCause.message}`, {}, this.readOnlyCause));
    }
    const seq = this.nextSeq;
    this.nextSeq = (this.nextSeq + 1) >>> 0 || 1;
    let length: number;
    try {
      length = encodeCommand(OPENER_HANDLE_ID, seq, command, this.scratch);
    } catch (error) {
      // Input checks run first, so only a value outside what the check knows can land here.
      return Promise.reject(new MetaLogError('INVALID_REQUEST', `the command cannot be encoded: ${(error as Error).message}`, {}, error));
    }
    if (length < 0) {
      return Promise.reject(new MetaLogError('INVALID_REQUEST', `the command exceeds ${COMMAND_BYTES_MAX} bytes`, {}));
    }
    const promise = new Promise<T>((resolve, reject) => {
      this.pending.set(seq, { resolve: resolve as (value: unknown) => void, reject, onOk });
    });
    const bytes = this.scratch.subarray(0, length);
    if (this.overflow.length === 0 && this.commandRing.tryWrite(bytes, false)) {
      this.scheduleWake();
    } else {
      // The ring is full: keep order by queueing behind earlier overflow, and wait for space off-thread.
      this.overflow.push(Uint8Array.prototype.slice.call(bytes));
      if (!this.draining) void this.drainOverflow();
    }
    return promise;
  }

  /**
   * Wakes the writer a few times per burst of calls instead of once per call (each wake-up of a sleeping
   * thread costs about 25 µs): once when the burst reaches EARLY_WAKE_COMMANDS, so the writer starts its
   * batch and fdatasync while this thread is still submitting, and once after the burst (process.nextTick
   * runs when the call chain and its promise continuations are done) for whatever came after. Measured
   * here with 64 callers: about 150k commits/s with the early wake, 120-130k/s with only the last one.
   */
  private scheduleWake(): void {
    this.commandsSinceWake++;
    if (this.commandsSinceWake === EARLY_WAKE_COMMANDS) this.commandRing.wakeConsumerIfSleeping();
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    process.nextTick(this.wakeWriter);
  }

  private readonly wakeWriter = (): void => {
    this.wakeScheduled = false;
    this.commandsSinceWake = 0;
    this.commandRing.wakeConsumerIfSleeping();
  };

  private async drainOverflow(): Promise<void> {
    this.draining = true;
    // Ends when the queue is empty or the store stops; each pass writes what fits, then waits for space.
    while (this.overflow.length > 0 && !this.closed) {
      while (this.overflow.length > 0 && this.commandRing.tryWrite(this.overflow[0], false)) this.overflow.shift();
      this.commandRing.wakeConsumerIfSleeping();
      if (this.overflow.length > 0) await this.commandRing.waitForSpaceAsync(1000);
    }
    this.draining = false;
  }

  private assertOpen(): void {
    if (this.closed) throw new MetaLogError('STORE_CLOSED', 'the store is closed', {});
  }

  /** What open recovered (events replayed, torn tail cut, CRC32C path, duration). */
  get recovery(): RecoveryReport {
    return this.recoveryReport as RecoveryReport;
  }

  /** Why the store is read-only (a failed fdatasync, a broken invariant), or null while it accepts writes. */
  get readOnlyError(): MetaLogError | null {
    return this.readOnlyCause;
  }

  /** Offset of the last acknowledged event (-1 for an empty store). In fsync mode it is also durable. */
  get lastOffset(): number {
    return this.state.lastOffset;
  }

  /** Offset of the last event known to be fdatasync-ed (lags lastOffset in interval and none modes). */
  get durableOffset(): number {
    return this.durableOffsetValue;
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
    return this.submit(command, onOk);
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
    return this.submit('sync', () => undefined);
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
    if (!this.closed) {
      void this.submit('close', () => undefined).catch(() => undefined);
      this.closing = true;
      await this.closedSignal;
    }
    await this.workerExited;
    this.cursor.close();
    this.lock.release();
  }

  /** Counts for tests and inspection. @internal */
  stateForTests(): MetadataState {
    return this.state;
  }
}
