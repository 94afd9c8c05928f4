/**
 * The writer's logic, one batch at a time: validate each command against the state, encode its event into
 * the batch, apply it (with undo), then append the whole batch with one write and make it durable per the
 * durability mode, and produce the record that acknowledges it on the event ring.
 *
 * Runs on the writer thread only (workers/writer.ts drives it). Invariants:
 * - a batch reaches the shared index after it is written (and fdatasync-ed in fsync mode) and before the
 *   record that acknowledges it, so a resolved write is visible to every thread that reads afterwards;
 * - records in a batch carry dense offsets starting at the appender's next offset;
 * - a command's result is "ok" only if its event is in the WAL and, in fsync mode, fdatasync-ed;
 * - if the append fails, every event of the batch is rolled back out of the state and its command fails:
 *   nothing partial is acknowledged, applied or left in the file (the appender cuts it back);
 * - after a fatal storage error (fdatasync failed) or a failed assertion the writer is read-only: every
 *   later command fails with STORE_READ_ONLY, whose cause is the original error;
 * - a batch's numbers (append and fdatasync durations, sizes) reach the writer stats block in one update
 *   before its acknowledgement is returned; every rejected command is counted by its code once.
 *
 * Two ways to finish a batch. `finishBatch` appends, fdatasyncs (when the mode asks) and acknowledges in
 * one call: what the writer thread runs by default. `sealBatch` is the pipeline (an option, measured by
 * the bench and off by default): it appends, and when the acknowledgement must wait for an fdatasync it
 * keeps the batch (`awaiting`) instead of syncing, so the next batch fills while the disk syncs
 * (`startSync` on the thread pool, `syncNow` on this thread, `settleSync` when it ends). Acknowledgements stay in log order: once one batch waits, every later batch waits behind it. A
 * waiting batch's index changes are encoded when it is sealed, from the state as it is then (exactly the
 * log up to that batch), and written to the index when its fdatasync has succeeded. If that fdatasync
 * fails, every waiting batch is rolled back, newest first, and fails, and the writer is read-only.
 */
import { assert, verify } from '../assert.js';
import type { Clock } from '../clock.js';
import { decide, mayWriteNothing, type Command, type EntryRefusal } from '../commands/commands.js';
import { EventCodec } from '../codec/event-codec.js';
import type { CommandMessage } from '../commands/command-codec.js';
import { EVENT_SCHEMA_VERSION, type EventBody, type LogEvent } from '../codec/event-schema.js';
import type { MetaLogConfig } from '../config.js';
import { MetaLogError, type SerializedError } from '../errors.js';
import { BATCH_COMMANDS_MAX, ERROR_BYTES_MAX, RECORD_BYTES_MAX } from '../limits.js';
import type { IndexWriter, PreparedPublish } from '../store-index/index-writer.js';
import { emptyBatchMeasures, type BatchMeasures, type WriterStatsRecorder } from '../metrics/writer-stats.js';
import { MetadataState, rollback, type UndoLog } from '../state/metadata-state.js';
import { RECORD_HEADER_BYTES, sealRecord, type RecordView } from '../wal/format.js';
import type { WalAppender } from '../wal/wal-appender.js';
import {
  BATCH_HEADER_BYTES,
  BATCH_KIND,
  encodeResultError,
  resultBytes,
  writeBatchHeader,
  writeResult,
} from './batch-record.js';

interface PendingResult {
  handleId: number;
  seq: number;
  /** True when the command appended an event to this batch (so a failed append fails it too). */
  wroteEvent: boolean;
  error: SerializedError | null;
  /** The entries a per-entry command refused. */
  refused: readonly EntryRefusal[];
}

const NO_REFUSALS: readonly EntryRefusal[] = Object.freeze([]);

/** A batch in the WAL whose acknowledgement waits for an fdatasync that covers it (see `sealBatch`). */
interface AwaitingBatch {
  /** The BATCH record, as it is published once the batch is durable (its durable offset is set then). */
  readonly record: Buffer;
  readonly results: PendingResult[];
  readonly undo: UndoLog;
  /** Its index changes, encoded when it was sealed. */
  readonly prepared: PreparedPublish | null;
  /** Every event up to this offset was written before the batch was sealed: an fdatasync that starts later covers it. */
  readonly throughOffset: number;
  readonly measures: BatchMeasures;
}

/** The outcome of the fdatasync started by `startSync`, kept until `settleSync`. */
interface FinishedSync {
  readonly error: MetaLogError | null;
  /** The last offset written when it started: all of them are durable if it succeeded. */
  readonly throughOffset: number;
  readonly seconds: number;
}

/** Byte position of the durable offset in a BATCH record's header (see batch-record.ts). */
const DURABLE_OFFSET_POSITION = 24;

/**
 * The command's own bytes as its event's encoding, when the event carries exactly what the command sent:
 * an upsert accepted as it is, a commit with none of its entries refused.
 */
function reusableEncoding(command: Command, body: EventBody, payload: Buffer | undefined): Buffer | undefined {
  if (payload === undefined) return undefined;
  if (command.type === 'UpsertGroup') return body.value === command.value ? payload : undefined;
  if (command.type === 'CommitOffsets' && body.type === 'OffsetsCommitted') {
    return body.value.entries === command.value.entries && body.value.groupId === command.value.groupId ? payload : undefined;
  }
  return undefined;
}

/** The rejection of a command that reaches a read-only writer: STORE_READ_ONLY, caused by what stopped it. */
function readOnlyRejection(cause: MetaLogError): SerializedError {
  return new MetaLogError('STORE_READ_ONLY', `the store is read-only after: ${cause.message}`, {}, cause).toJSON();
}

/** Validates, appends and acknowledges batches of commands. */
export class WriterCore {
  private readonly codec = EventCodec.current();
  private readonly frames: Buffer;
  private framesBytes = 0;
  private recordCount = 0;
  private firstOffset = 0;
  private batchTimestampMs = 0;
  private lastTimestampMs = 0;
  private results: PendingResult[] = [];
  private resultsBytes = 0;
  private undo: UndoLog = [];
  private syncRequested = false;
  /** Offset of the last event known to be fdatasync-ed (-1 before any). */
  private durableOffset: number;
  /** Bytes written since the last fdatasync. */
  private dirty = false;
  /** When (performance.now) the oldest bytes not yet fdatasync-ed were written; for the un-synced measure. */
  private dirtySinceMs = 0;
  /** When (by the store's clock) the WAL was last fdatasync-ed, or the writer started. */
  private lastSyncMs: number;
  /** Set once the writer may no longer write; the cause of every later rejection. */
  private readOnlyCause: MetaLogError | null = null;
  /**
   * Set while this node may not decide writes (a replicated log's follower, or a node between terms):
   * every write and `sync()` is answered with it (NOT_CONTROLLER), and nothing is decided.
   */
  private writeRefusal: SerializedError | null = null;

  /** Events of the batch being built, applied to the shared index once the batch is written. */
  private readonly batchEvents: LogEvent[] = [];
  /** What the batch being built did, for the writer stats (reset by each recordBatch). */
  private measures: BatchMeasures = emptyBatchMeasures();
  /** Sealed batches waiting for their fdatasync, oldest first. */
  private readonly awaiting: AwaitingBatch[] = [];
  /** True while the fdatasync started by `startSync` runs. */
  private syncing = false;
  /** Its outcome, once it has finished and until `settleSync` takes it. */
  private finishedSync: FinishedSync | null = null;
  /** Resolves when the fdatasync in flight finishes. */
  private syncEnded: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: MetaLogConfig,
    readonly state: MetadataState,
    private readonly appender: WalAppender,
    private readonly index: IndexWriter,
    private readonly stats: WriterStatsRecorder,
    private readonly clock: Clock,
  ) {
    assert(appender.nextOffset === state.lastOffset + 1, 'the appender continues where the state ends');
    state.askOffsetOwners((groupId) => index.groupHasOffsets(groupId));
    this.durableOffset = state.lastOffset;
    this.frames = Buffer.allocUnsafe(config.maxBatchBytes + RECORD_BYTES_MAX);
    this.lastTimestampMs = clock.nowMs();
    this.lastSyncMs = this.lastTimestampMs;
  }

  /** The error that made the writer read-only, if any. */
  get readOnlyError(): MetaLogError | null {
    return this.readOnlyCause;
  }

  /** The offset the next event gets. */
  get nextOffset(): number {
    return this.appender.nextOffset;
  }

  /** Starts a new batch. */
  startBatch(): void {
    assert(this.results.length === 0 && this.framesBytes === 0 && this.undo.length === 0, 'previous batch finished');
    this.firstOffset = this.appender.nextOffset;
    // Timestamps never go backwards, even if the wall clock does: time lookups rely on their order.
    this.batchTimestampMs = Math.max(this.clock.nowMs(), this.lastTimestampMs);
    this.lastTimestampMs = this.batchTimestampMs;
  }

  /** True when the batch should close (by bytes or by command count). */
  batchFull(): boolean {
    return this.framesBytes + this.resultsBytes >= this.config.maxBatchBytes || this.results.length >= BATCH_COMMANDS_MAX;
  }

  /** True when the batch has anything to acknowledge. */
  batchHasWork(): boolean {
    return this.results.length > 0 || this.syncRequested;
  }

  /**
   * True when `command` must be decided on a published index and this batch already wrote events, so it
   * waits for the next batch. Only a group delete asks (does a group without a record have committed
   * offsets?), which the writer's state learns from the index: a rare admin call, worth a batch.
   */
  needsPublishedIndex(command: Command): boolean {
    return command.type === 'DeleteGroup' && (this.recordCount > 0 || this.awaiting.length > 0);
  }

  /**
   * Handles one command: a rejected command gets an error result and leaves no trace. `payload`, when
   * given, is the encoding of the command's value, which its event reuses if it carries that value.
   */
  addCommand(handleId: number, seq: number, command: Command, payload?: Buffer): void {
    if (this.readOnlyCause !== null) {
      this.addResult(handleId, seq, false, readOnlyRejection(this.readOnlyCause));
      return;
    }
    if (this.writeRefusal !== null) {
      this.addResult(handleId, seq, false, this.writeRefusal);
      return;
    }
    let event: LogEvent;
    let end: number;
    const refused: EntryRefusal[] = [];
    assert(!this.needsPublishedIndex(command), 'a command that asks the published index starts its batch');
    try {
      const body = decide(command, this.state, refused);
      if (body === null) {
        // A per-entry command that refused every entry (or was sent none: the caller's thread refused them
        // all, and only the checks of the whole request were left), or initCluster on a store that has
        // a cluster id: acknowledged, nothing written.
        assert(mayWriteNothing(command), 'only a per-entry command or initCluster becomes no event');
        this.addResult(handleId, seq, false, null, refused);
        return;
      }
      end = this.encodeRecord(body, reusableEncoding(command, body, payload));
      event = { type: body.type, value: body.value, offset: this.firstOffset + this.recordCount, timestampMs: this.batchTimestampMs } as LogEvent;
    } catch (error) {
      // A rule refused the command (a coded error), or the writer's own code is wrong (INTERNAL_ERROR,
      // which stops the writer: it does not carry on with a state it no longer understands).
      const failure = MetaLogError.wrap(error);
      if (failure.makesReadOnly) this.becomeReadOnly(failure);
      this.addResult(handleId, seq, false, failure.toJSON());
      return;
    }
    this.state.apply(event, this.undo);
    this.batchEvents.push(event);
    this.framesBytes = end;
    this.recordCount++;
    this.addResult(handleId, seq, true, null, refused.length === 0 ? NO_REFUSALS : refused);
  }

  /**
   * Adds one message from the command ring to the open batch (a command, `sync()` or a compaction);
   * returns true for the Close message, which the caller acts on. The one place both writer loops (local
   * and replicated) hand the ring's messages to the core.
   */
  addMessage(message: CommandMessage): boolean {
    if (message.kind === 'command') this.addCommand(message.handleId, message.seq, message.command, message.payload);
    else if (message.kind === 'sync') this.addSync(message.handleId, message.seq);
    else if (message.kind === 'compact') this.addCompact(message.handleId, message.seq, message.throughOffset);
    else return true;
    return false;
  }

  /** Asks for an fdatasync at the end of this batch (the `sync()` API), acknowledged like a command. */
  addSync(handleId: number, seq: number): void {
    if (this.readOnlyCause === null && this.writeRefusal !== null) {
      this.addResult(handleId, seq, false, this.writeRefusal);
      return;
    }
    this.syncRequested = true;
    this.addResult(handleId, seq, false, this.readOnlyCause === null ? null : readOnlyRejection(this.readOnlyCause));
  }

  /**
   * A replicated log's node: `refusal` (NOT_CONTROLLER, naming the controller when known) answers every
   * write from now on, until it is set back to null (this node became the controller).
   */
  refuseWrites(refusal: SerializedError | null): void {
    this.writeRefusal = refusal;
  }

  /** Adds the WriterElected event that opens a controller's term to the open batch (no caller waits for it). */
  addElection(epoch: number, nodeId: string): void {
    assert(this.readOnlyCause === null, 'a read-only writer opens no term');
    const body: EventBody = { type: 'WriterElected', value: { epoch, nodeId } };
    const end = this.encodeRecord(body);
    const event = { ...body, offset: this.firstOffset + this.recordCount, timestampMs: this.batchTimestampMs } as LogEvent;
    this.state.apply(event, this.undo);
    this.batchEvents.push(event);
    this.framesBytes = end;
    this.recordCount++;
  }

  /**
   * Adds one record that the replicated log already holds (a follower applying the controller's batch):
   * `records[view.position, view.end)`, verified by the caller, decoded here with `codec` and applied as
   * it is; it must be the next offset. Throws CORRUPT_WAL if it does not decode.
   */
  addReplicatedRecord(records: Buffer, view: RecordView, codec: EventCodec): void {
    assert(view.offset === this.firstOffset + this.recordCount, 'replicated records arrive at the next offset');
    assert(this.frames.length - this.framesBytes >= view.end - view.position, 'the batch buffer has room for one more record');
    const body = codec.decode(view.eventType, records, view.payloadStart, view.end);
    const event = { type: body.type, value: body.value, offset: view.offset, timestampMs: view.timestampMs } as LogEvent;
    this.state.apply(event, this.undo);
    this.batchEvents.push(event);
    records.copy(this.frames, this.framesBytes, view.position, view.end);
    this.framesBytes += view.end - view.position;
    this.recordCount++;
    // Timestamps never go backwards: this node's own first batch as controller comes after these.
    this.lastTimestampMs = Math.max(this.lastTimestampMs, view.timestampMs);
  }

  /** The open batch's records (a view of the batch buffer, valid until the batch ends), or null if it has none. */
  openBatchRecords(): { firstOffset: number; recordCount: number; records: Buffer } | null {
    if (this.recordCount === 0) return null;
    return { firstOffset: this.firstOffset, recordCount: this.recordCount, records: this.frames.subarray(0, this.framesBytes) };
  }

  /**
   * Ends the open batch without writing it (the replicated log refused it, or its fate is unknown):
   * its changes are rolled back and every command that wrote an event fails with `error`. Returns the
   * BATCH record of its results, or null when it had none.
   */
  failOpenBatch(error: MetaLogError): Buffer | null {
    this.failBatch(error);
    return this.acknowledge(false);
  }

  /**
   * Deletes the sealed segments that hold only offsets up to `throughOffset` (compaction: the caller
   * made sure a durable snapshot covers them), acknowledged like `sync`. A failure fails this request
   * only: what was not deleted stays, and the log is whole either way.
   */
  addCompact(handleId: number, seq: number, throughOffset: number): void {
    let error: SerializedError | null = this.readOnlyCause === null ? null : readOnlyRejection(this.readOnlyCause);
    if (error === null) {
      try {
        this.appender.removeSegmentsThrough(throughOffset);
      } catch (failure) {
        error = MetaLogError.wrap(failure, 'KAFKA_STORAGE_ERROR', 'compaction failed').toJSON();
      }
    }
    this.addResult(handleId, seq, false, error);
  }

  private addResult(handleId: number, seq: number, wroteEvent: boolean, error: SerializedError | null, refused: readonly EntryRefusal[] = NO_REFUSALS): void {
    if (error !== null) this.stats.countCommandError(error.code);
    this.results.push({ handleId, seq, wroteEvent, error, refused });
    this.resultsBytes += error === null ? resultBytes(null, refused) : 12 + ERROR_BYTES_MAX;
  }

  /**
   * Encodes one event as a sealed record at the end of the batch (copying `encoded`, its value's
   * encoding, when the command brought it); returns the record's end.
   */
  private encodeRecord(body: EventBody, encoded?: Buffer): number {
    const start = this.framesBytes;
    assert(this.frames.length - start >= RECORD_BYTES_MAX, 'batch buffer keeps room for one maximal record');
    const payloadStart = start + RECORD_HEADER_BYTES;
    let payloadEnd: number;
    if (encoded === undefined) {
      payloadEnd = this.codec.encode(body, this.frames.subarray(0, start + RECORD_BYTES_MAX), payloadStart);
    } else {
      payloadEnd = payloadStart + encoded.length <= start + RECORD_BYTES_MAX ? payloadStart + encoded.copy(this.frames, payloadStart) : -1;
      verify(() => {
        const check = Buffer.allocUnsafe(RECORD_BYTES_MAX);
        const end = this.codec.encode(body, check, 0);
        assert(end === encoded.length && check.subarray(0, end).equals(encoded), 'a reused payload is the event\'s own encoding');
      });
    }
    if (payloadEnd < 0) {
      throw new MetaLogError('INVALID_REQUEST', `the event would exceed ${RECORD_BYTES_MAX} bytes`, { entity: body.type });
    }
    const offset = this.firstOffset + this.recordCount;
    return sealRecord(this.frames, start, payloadEnd, offset, this.batchTimestampMs, this.codec.typeIndex(body.type), EVENT_SCHEMA_VERSION);
  }

  /**
   * Appends the batch (one write), fdatasyncs it first when its acknowledgement must wait for that
   * (mode 'fsync', or `sync()` asked), and returns the BATCH record that acknowledges it, or null when
   * the batch had nothing to acknowledge (an idle pass). On failure the batch's events are rolled back
   * and their commands fail. The fdatasync of mode 'interval' is not this batch's business: see
   * `intervalSyncDue`. With `always`, the record is returned even when no caller waits for it (records
   * a replicated log's follower applied, or a term's WriterElected: every handle must see them).
   */
  finishBatch(always = false): Buffer | null {
    assert(this.awaiting.length === 0 && !this.syncing, 'finishBatch is not mixed with the pipeline');
    return this.closeBatch(always);
  }

  /**
   * Finishes the batch the pipelined way (see the module header): appends it, and returns the BATCH
   * record to publish now, or null when there is none yet: the batch had nothing to acknowledge, or it
   * waits for an fdatasync (`startSync`), behind any batch that already waits.
   */
  sealBatch(): Buffer | null {
    if (this.recordCount > 0) this.appendBatch();
    if (this.awaiting.length === 0 && !this.syncBeforeAck()) return this.acknowledge(false);
    if (!this.batchHasWork()) {
      this.undo.length = 0;
      return null;
    }
    let prepared: PreparedPublish | null = null;
    if (this.batchEvents.length > 0) {
      for (const event of this.batchEvents) this.index.applyEvent(event);
      prepared = this.index.prepare();
      this.batchEvents.length = 0;
    }
    this.measures.commands = this.results.length;
    this.awaiting.push({
      record: this.encodeBatchRecord(),
      results: this.results,
      undo: this.undo,
      prepared,
      throughOffset: this.appender.nextOffset - 1,
      measures: this.measures,
    });
    this.results = [];
    this.undo = [];
    this.measures = emptyBatchMeasures();
    this.framesBytes = 0;
    this.recordCount = 0;
    this.resultsBytes = 0;
    this.syncRequested = false;
    return null;
  }

  /** True when sealed batches wait and no fdatasync is in flight for them: time for `startSync`. */
  get syncWanted(): boolean {
    return this.awaiting.length > 0 && !this.syncing && this.finishedSync === null;
  }

  /** True while an fdatasync started by `startSync` has not been settled. */
  get syncPending(): boolean {
    return this.syncing || this.finishedSync !== null;
  }

  /** True when an fdatasync has finished and `settleSync` has its outcome to take. */
  get syncFinished(): boolean {
    return this.finishedSync !== null;
  }

  /** Resolves once the fdatasync in flight (if any) has finished; `settleSync` then takes its outcome. */
  whenSyncEnds(): Promise<void> {
    return this.syncEnded;
  }

  /**
   * Starts an fdatasync of everything written so far on the thread pool, for the batches that wait;
   * `ended` is called on this thread when it finishes (the writer thread wakes itself with it).
   */
  startSync(ended: () => void): void {
    assert(this.syncWanted, 'an fdatasync starts only for waiting batches, one at a time');
    const throughOffset = this.appender.nextOffset - 1;
    const startedMs = performance.now();
    this.syncing = true;
    this.syncEnded = new Promise<void>((resolve) => {
      this.appender.syncAsync((error) => {
        this.syncing = false;
        this.finishedSync = { error, throughOffset, seconds: (performance.now() - startedMs) / 1000 };
        resolve();
        ended();
      });
    });
  }

  /**
   * The fdatasync for the waiting batches, on this thread, when the writer has nothing else to do while
   * it runs (the command ring is empty): the hand-off to the thread pool and back would only add to their
   * latency. Returns the records it acknowledges (or fails), as `settleSync` does.
   */
  syncNow(): Buffer[] {
    assert(this.syncWanted, 'an fdatasync starts only for waiting batches, one at a time');
    const throughOffset = this.appender.nextOffset - 1;
    const startedMs = performance.now();
    let error: MetaLogError | null = null;
    try {
      this.appender.sync();
    } catch (failure) {
      error = MetaLogError.wrap(failure);
    }
    this.finishedSync = { error, throughOffset, seconds: (performance.now() - startedMs) / 1000 };
    return this.settleSync();
  }

  /**
   * Takes the outcome of the finished fdatasync: the batches it made durable are shown in the index and
   * their records returned, oldest first, for publishing; on failure every waiting batch is rolled back
   * and fails (records with their errors), and the writer is read-only. Empty when none has finished.
   */
  settleSync(): Buffer[] {
    const finished = this.finishedSync;
    if (finished === null) return [];
    this.finishedSync = null;
    if (finished.error !== null) {
      this.becomeReadOnly(finished.error);
      return this.failAwaiting(finished.error);
    }
    this.durableOffset = Math.max(this.durableOffset, finished.throughOffset);
    this.lastSyncMs = this.clock.nowMs();
    const syncedMs = performance.now();
    if (this.dirty && this.awaiting.length > 0) {
      this.awaiting[0].measures.unsyncedSeconds = (syncedMs - this.dirtySinceMs) / 1000;
      // Bytes written while it ran wait for the next one; they are dated from its start.
      if (this.appender.nextOffset - 1 > finished.throughOffset) this.dirtySinceMs = syncedMs - finished.seconds * 1000;
      else this.dirty = false;
    }
    let durable = 0;
    while (durable < this.awaiting.length && this.awaiting[durable].throughOffset <= finished.throughOffset) durable++;
    const records: Buffer[] = [];
    for (const batch of this.awaiting.splice(0, durable)) {
      if (batch.prepared !== null) this.index.commit(batch.prepared);
      batch.record.writeDoubleLE(this.durableOffset, DURABLE_OFFSET_POSITION);
      if (records.length === 0) batch.measures.fdatasyncSeconds = finished.seconds;
      this.stats.recordBatch(batch.measures);
      records.push(batch.record);
    }
    // Read-only since (a broken invariant): what still waits is not synced any more, so it fails.
    if (this.readOnlyCause !== null && this.awaiting.length > 0) records.push(...this.failAwaiting(this.readOnlyCause));
    return records;
  }

  /** Rolls back every waiting batch, newest first, and returns their records with every write failed. */
  private failAwaiting(error: unknown): Buffer[] {
    const failure = MetaLogError.wrap(error).toJSON();
    for (let i = this.awaiting.length - 1; i >= 0; i--) rollback(this.awaiting[i].undo);
    const records: Buffer[] = [];
    for (const batch of this.awaiting.splice(0)) {
      this.failResults(batch.results, failure);
      this.stats.recordBatch(batch.measures);
      records.push(this.encodeResultsRecord(batch.results, this.state.lastOffset + 1, 0, 0));
    }
    return records;
  }

  /** Finishes the batch; with `always`, publishes a record even with nothing to acknowledge. */
  private closeBatch(always: boolean): Buffer | null {
    if (this.recordCount > 0) this.appendBatch();
    if (this.syncBeforeAck()) this.syncNowOrFail();
    return this.acknowledge(always);
  }

  /** Shows the written batch in the index and returns its BATCH record (null: nothing to acknowledge, unless `always`). */
  private acknowledge(always: boolean): Buffer | null {
    if (!always && !this.batchHasWork()) {
      this.undo.length = 0;
      return null;
    }
    // Written (and durable where the mode asks for it): show it to every thread before acknowledging it.
    if (this.batchEvents.length > 0) {
      for (const event of this.batchEvents) this.index.applyEvent(event);
      this.index.publish();
      this.batchEvents.length = 0;
    }
    this.undo.length = 0;
    const record = this.encodeBatchRecord();
    this.measures.commands = this.results.length;
    this.stats.recordBatch(this.measures);
    this.framesBytes = 0;
    this.recordCount = 0;
    this.results.length = 0;
    this.resultsBytes = 0;
    this.syncRequested = false;
    return record;
  }

  private appendBatch(): void {
    const startedMs = performance.now();
    try {
      this.appender.append(this.frames, 0, this.framesBytes, this.recordCount);
      if (!this.dirty) this.dirtySinceMs = performance.now();
      this.dirty = true;
    } catch (error) {
      this.failBatch(error);
      return;
    }
    this.measures.appendSeconds = (performance.now() - startedMs) / 1000;
    this.measures.appendedRecords = this.recordCount;
    this.measures.appendedBytes = this.framesBytes;
  }

  /** fdatasync; on failure the store goes read-only and this batch's writes fail (never acknowledged). */
  private syncNowOrFail(): void {
    const failure = this.syncAppender();
    if (failure !== null) this.failBatch(failure);
  }

  /** fdatasync of everything written so far; returns the (fatal) error instead of throwing it. */
  private syncAppender(): unknown {
    const startedMs = performance.now();
    try {
      this.appender.sync();
    } catch (error) {
      return error;
    }
    const syncedMs = performance.now();
    this.measures.fdatasyncSeconds = (syncedMs - startedMs) / 1000;
    if (this.dirty) this.measures.unsyncedSeconds = (syncedMs - this.dirtySinceMs) / 1000;
    this.dirty = false;
    this.lastSyncMs = this.clock.nowMs();
    this.durableOffset = this.appender.nextOffset - 1;
    return null;
  }

  private failBatch(error: unknown): void {
    rollback(this.undo);
    this.batchEvents.length = 0;
    const wrapped = MetaLogError.wrap(error);
    this.failResults(this.results, wrapped.toJSON());
    if (wrapped.makesReadOnly) this.becomeReadOnly(wrapped);
    this.framesBytes = 0;
    this.recordCount = 0;
  }

  /**
   * Fails every result of a batch that is gone (rolled back) and was counting on it: each command that
   * wrote an event, and each per-entry command, which wrote nothing if it refused every entry but was
   * decided against the state the batch had built up.
   */
  private failResults(results: PendingResult[], failure: SerializedError): void {
    for (const result of results) {
      if (result.wroteEvent || result.refused.length > 0) {
        result.error = failure;
        result.wroteEvent = false;
        result.refused = NO_REFUSALS;
        this.stats.countCommandError(failure.code);
      }
    }
  }

  /** Makes the writer read-only (fatal storage error or broken invariant). */
  becomeReadOnly(error: unknown): void {
    if (this.readOnlyCause !== null) return;
    this.readOnlyCause = MetaLogError.wrap(error, 'INTERNAL_ERROR', 'writer stopped');
  }

  private encodeBatchRecord(): Buffer {
    return this.encodeResultsRecord(this.results, this.firstOffset, this.recordCount, this.framesBytes);
  }

  /** A BATCH record of `results` and the first `framesBytes` of the batch buffer (its `recordCount` records). */
  private encodeResultsRecord(results: readonly PendingResult[], firstOffset: number, recordCount: number, framesBytes: number): Buffer {
    let resultsBytes = 0;
    const errorJsons = results.map((result) => (result.error === null ? null : encodeResultError(result.error)));
    results.forEach((result, i) => {
      resultsBytes += resultBytes(errorJsons[i], result.refused);
    });
    const record = Buffer.allocUnsafe(BATCH_HEADER_BYTES + resultsBytes + framesBytes);
    writeBatchHeader(record, BATCH_KIND.BATCH, {
      resultCount: results.length,
      firstOffset,
      recordCount,
      framesBytes,
      durableOffset: this.durableOffset,
      resultsBytes,
      schemaBytes: 0,
    });
    let position = BATCH_HEADER_BYTES;
    for (let i = 0; i < results.length; i++) {
      const result = results[i];
      position = writeResult(record, position, result.handleId, result.seq, errorJsons[i], result.wroteEvent, result.refused);
    }
    this.frames.copy(record, position, 0, framesBytes);
    verify(() => assert(position + framesBytes === record.length, 'batch record filled exactly'));
    return record;
  }

  /**
   * True when the batch's acknowledgement must wait for an fdatasync: mode 'fsync', or `sync()` asked.
   * Never once read-only: after a failed fdatasync the kernel may have dropped the dirty pages and
   * cleared the error, so a retry could report success for data that is gone.
   */
  private syncBeforeAck(): boolean {
    return this.readOnlyCause === null && this.dirty && (this.config.durability === 'fsync' || this.syncRequested);
  }

  /**
   * The flush rule of mode 'interval' (DESIGN §6), decided here only: written bytes are fdatasync-ed once
   * flushIntervalMs has passed since the last fdatasync, by the store's clock. The writer asks after
   * every pass, busy or idle, so a writer kept busy by a full command ring still syncs on time; the
   * batch it just acknowledged did not wait for it (that is what mode 'interval' trades).
   */
  intervalSyncDue(): boolean {
    if (this.readOnlyCause !== null || !this.dirty || this.config.durability !== 'interval') return false;
    // A pipelined fdatasync (a `sync()` call's) is under way or waits to be settled: it covers the same bytes.
    if (this.awaiting.length > 0 || this.syncPending) return false;
    return this.clock.nowMs() - this.lastSyncMs >= this.config.flushIntervalMs;
  }

  /** How long the idle writer may sleep before an interval fdatasync falls due (by the store's clock). */
  idleWaitMs(): number {
    if (!this.dirty || this.config.durability !== 'interval') return 1000;
    return Math.max(0, this.config.flushIntervalMs - (this.clock.nowMs() - this.lastSyncMs));
  }

  /** The interval fdatasync outside a batch; returns an empty BATCH record carrying the new durable offset. */
  syncInterval(): Buffer {
    this.startBatch();
    const failure = this.syncAppender();
    if (failure !== null) this.becomeReadOnly(failure);
    // An empty batch with nothing to acknowledge still tells every handle the new durable offset.
    const record = this.closeBatch(true);
    assert(record !== null, 'a sync pass always publishes its durable offset');
    return record;
  }

  /** Syncs (unless read-only: never retry fdatasync after it failed) and closes the WAL. */
  close(): void {
    assert(this.awaiting.length === 0 && !this.syncPending, 'the pipeline is drained before the writer closes');
    if (this.readOnlyCause === null && this.dirty) {
      const startedMs = performance.now();
      try {
        this.appender.sync();
        this.stats.recordFdatasync((performance.now() - startedMs) / 1000);
      } catch (error) {
        this.becomeReadOnly(error);
      }
    }
    this.appender.close();
  }
}
