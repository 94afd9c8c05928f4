/**
 * Writer thread entry point: the only code that appends to the WAL.
 *
 * Loop (the one loop in the store that runs until close): drain the command ring into a batch → validate
 * and encode each command → one write → fdatasync (fsync mode) → apply to the shared index → publish the
 * BATCH record that acknowledges it on the event ring. While the ring is empty it sleeps in Atomics.wait
 * (it has no event loop work to do), waking early only when an interval fdatasync falls due. With the
 * pipeline on (an option the bench measures; off by default), the fdatasync runs on Node's thread pool
 * while this thread fills the next batch (acknowledgements still follow their own fdatasync, in order),
 * and it then waits for commands or the fdatasync's end without blocking its event loop.
 *
 * With a log replicated through etcd (config `log.kind` 'etcd') the loop is src/writer/replicated-writer.ts.
 *
 * Everything that is not plumbing lives in src/writer/.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CommandRing } from '../native-free/command-ring.js';
import { EventRing } from '../native-free/event-ring.js';
import { clockFromBuffer } from '../src/clock.js';
import { EventCodec } from '../src/codec/event-codec.js';
import { decodeCommand } from '../src/commands/command-codec.js';
import { IndexControl } from '../src/store-index/store-index.js';
import { fromSerialized, MetaLogError, type SerializedError } from '../src/errors.js';
import { HANDLE_STALL_MS } from '../src/limits.js';
import { WriterStatsRecorder } from '../src/metrics/writer-stats.js';
import { BATCH_KIND, encodeControlRecord } from '../src/writer/batch-record.js';
import { recoverWriter, type SnapshotOpening } from '../src/writer/recover-writer.js';
import type { WriterWorkerData } from '../src/writer/writer-thread-data.js';
import type { WriterCore } from '../src/writer/writer-core.js';
import { ReplicatedWriter } from '../src/writer/replicated-writer.js';
import { storageFor, type Storage } from '../src/wal/storage.js';

const data = workerData as WriterWorkerData;
const commandRing = CommandRing.attach(data.commandRing);
const eventRing = EventRing.attach(data.eventRing);
const storage: Storage = storageFor(data.faults);
const stats = new WriterStatsRecorder(data.metrics.writerStats, data.metrics.counters, data.config.slowFsyncWarnMs);

/** Commands read per ring pass; small so the batch-full check runs often. */
const READ_CHUNK_RECORDS = 256;

/** The bench's bounded look at an empty ring before sleeping (µs), or 0. */
const writerSpinMicros = data.writerSpinMicros ?? 0;

/**
 * True when the bench runs the writer with its pipeline (the fdatasync on the thread pool while the next
 * batch fills); off by default: on the disks measured it cost more in hand-offs than it overlapped
 * (BENCHMARKS.md, the write path).
 */
const pipelined = data.writerPipeline ?? false;

/** The longest a publish waits for one attached handle before that handle's cursor is evicted. */
const handleStallMs = data.handleStallMs ?? HANDLE_STALL_MS;

function publish(record: Buffer): void {
  // The usual case: there is room, and nothing is timed.
  if (eventRing.tryPublish(record)) return;
  // Back-pressure: wait for the slowest handle to make room. Handles consume from their event loop, so
  // this normally waits only while a handle's thread is busy. The opener's handle is waited for without
  // end (its acknowledgements must reach it); an attached handle that holds the ring full for
  // handleStallMs (its thread was terminated, or hangs) is evicted, and learns so at its next poll.
  const startedMs = performance.now();
  let waitedSinceMs = startedMs;
  let evictions = 0;
  // Bounded: each round publishes, or waits up to 100 ms, and past handleStallMs evicts the handle that
  // blocks; only the opener's handle can hold it longer, and it is the owner.
  while (!eventRing.publishSync(record, Math.min(100, handleStallMs))) {
    if (performance.now() - waitedSinceMs >= handleStallMs && eventRing.evictSlowest(data.openerCursorSlot) >= 0) {
      evictions++;
      waitedSinceMs = performance.now();
    }
  }
  stats.recordEventRingWait((performance.now() - startedMs) / 1000, evictions);
}

function serializeUnknown(error: unknown): ReturnType<MetaLogError['toJSON']> {
  return MetaLogError.wrap(error, 'INTERNAL_ERROR', 'writer failed').toJSON();
}

/** Thrown by the ring visitor to stop a read when the batch is full; the record stays for the next batch. */
const BATCH_FULL = Symbol('batch full');

/** One turn of this thread's event loop: where a finished fdatasync's callback runs. */
function eventLoopTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

async function runBatches(core: WriterCore, maxBatchBytes: number): Promise<void> {
  let closing = false;
  /** Set when the pass stopped before a command that must be decided on the published index. */
  let needsIndex = false;
  const visit = (bytes: Uint8Array): void => {
    // Checked before every command, not only between ring reads: one read can hold many commands, and
    // an event can be much larger than its command (a topic's partitions), so only this keeps a batch
    // within maxBatchBytes plus one record, the room the writer's batch buffer has.
    if (core.batchFull()) throw BATCH_FULL;
    const message = decodeCommand(bytes);
    // The batch ends before a command that is decided on the published index; it opens the next one
    // once every batch before it is shown there.
    if (message.kind === 'command' && core.needsPublishedIndex(message.command)) {
      needsIndex = true;
      throw BATCH_FULL;
    }
    if (core.addMessage(message)) closing = true;
  };
  // The end of a pipelined fdatasync wakes this thread wherever it waits for the ring.
  const syncEnded = (): void => commandRing.wake();
  const settle = (): void => {
    for (const record of core.settleSync()) publish(record);
    if (!core.syncWanted) return;
    // With commands waiting, the disk syncs on the thread pool while this thread handles them; with
    // none, the fdatasync runs here (a hand-off each way would only delay the acknowledgement).
    if (commandRing.hasRecord()) core.startSync(syncEnded);
    else for (const record of core.syncNow()) publish(record);
  };
  // Runs until a Close command arrives; every pass either reads commands into the open batch, or finishes
  // it, or waits. After every finished batch, busy or idle, the interval flush rule
  // (`core.intervalSyncDue`) decides whether to fdatasync now.
  let batchOpen = false;
  for (;;) {
    if (!batchOpen) {
      core.startBatch();
      batchOpen = true;
    }
    let read = 0;
    needsIndex = false;
    // A batch also ends once an interval fdatasync falls due (checked every READ_CHUNK_RECORDS
    // commands), so a long batch under heavy load does not keep written bytes waiting for it.
    while (!closing && !core.batchFull() && !core.intervalSyncDue()) {
      let count: number;
      try {
        count = commandRing.read(visit, READ_CHUNK_RECORDS, maxBatchBytes);
      } catch (error) {
        if (error !== BATCH_FULL) throw error;
        // The commands before the stop were consumed and are in the batch.
        read += 1;
        break;
      }
      if (count === 0) break;
      read += count;
    }
    // While an fdatasync runs, the batch stays open and takes whatever arrives: it could not be
    // acknowledged before that fdatasync ends anyway, and then one write and one fdatasync serve it all.
    if (core.syncPending && !closing && !needsIndex && !core.batchFull()) {
      if (!core.syncFinished) {
        // Let the event loop deliver the fdatasync's end; with nothing read, wait for commands or for it.
        if (read > 0) await eventLoopTurn();
        else await commandRing.waitForDataAsync(core.idleWaitMs());
      }
      if (!core.syncFinished) continue;
      for (const record of core.settleSync()) publish(record);
    }
    const record = pipelined ? core.sealBatch() : core.finishBatch();
    batchOpen = false;
    if (record !== null) publish(record);
    settle();
    if (core.intervalSyncDue()) publish(core.syncInterval());
    // Bounded below: each round ends the one fdatasync in flight, which acknowledges or fails what waits.
    if (closing || needsIndex) {
      while (core.syncPending) {
        await core.whenSyncEnds();
        settle();
      }
      if (closing) return;
      continue;
    }
    if (core.syncPending || read > 0) continue;
    commandRing.waitForData(core.idleWaitMs(), writerSpinMicros);
  }
}

async function main(): Promise<void> {
  // The opening thread restores the snapshot into the index while this thread starts, and then says
  // which one it restored (or why it could not). Meanwhile this thread builds the event codec that
  // recovery needs first (avsc types: tens of milliseconds that a long restore then hides).
  EventCodec.current();
  const opening = await new Promise<SnapshotOpening | { error: SerializedError }>((resolve) => parentPort?.once('message', resolve));
  let core: WriterCore;
  try {
    if ('error' in opening) throw fromSerialized(opening.error);
    const recovered = recoverWriter(data.config, storage, data.index, stats, opening, clockFromBuffer(data.clock));
    core = recovered.core;
    publish(encodeControlRecord(BATCH_KIND.READY, recovered.report));
  } catch (error) {
    publish(encodeControlRecord(BATCH_KIND.FATAL, serializeUnknown(error)));
    return;
  }
  try {
    const logConfig = data.config.log;
    if (logConfig.kind === 'etcd') {
      await new ReplicatedWriter({
        core,
        config: logConfig,
        dir: data.config.dir,
        storage,
        maxBatchBytes: data.config.maxBatchBytes,
        commandRing,
        publish,
        onTrouble: (message) => process.emitWarning(message, 'MetaLogClusterWarning'),
      }).run();
    } else {
      await runBatches(core, data.config.maxBatchBytes);
    }
  } catch (error) {
    // A broken invariant: stop writing, tell the handles, keep nothing half-done.
    core.becomeReadOnly(error);
    publish(encodeControlRecord(BATCH_KIND.FATAL, serializeUnknown(error)));
    // Bounded: each round ends the one fdatasync in flight, or runs one for what still waits; what it
    // settles is acknowledged if durable, failed otherwise.
    while (core.syncPending || core.syncWanted) {
      if (core.syncPending) await core.whenSyncEnds();
      const settled = core.syncPending ? core.settleSync() : core.syncNow();
      for (const record of settled) publish(record);
    }
  }
  core.close();
  new IndexControl(data.index.control).markStoreClosed();
  const readOnly = core.readOnlyError;
  publish(encodeControlRecord(BATCH_KIND.CLOSED, { readOnly: readOnly === null ? null : readOnly.toJSON() }));
}

void main();
