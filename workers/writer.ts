/**
 * Writer thread entry point: the only code that appends to the WAL.
 *
 * Loop (the one loop in the store that runs until close): drain the command ring into a batch → validate
 * and encode each command → one write → fdatasync (fsync mode) → apply to the shared index → publish the
 * BATCH record that acknowledges it on the event ring. While the ring is empty it sleeps in Atomics.wait (it has no event
 * loop work to do), waking early only when an interval fdatasync falls due.
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
import { storageFor, type Storage } from '../src/wal/storage.js';

const data = workerData as WriterWorkerData;
const commandRing = CommandRing.attach(data.commandRing);
const eventRing = EventRing.attach(data.eventRing);
const storage: Storage = storageFor(data.faults);
const stats = new WriterStatsRecorder(data.metrics.writerStats, data.metrics.counters, data.config.slowFsyncWarnMs);

/** Commands read per ring pass; small so the batch-full check runs often. */
const READ_CHUNK_RECORDS = 256;

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

function runBatches(core: WriterCore, maxBatchBytes: number): void {
  let closing = false;
  const visit = (bytes: Uint8Array): void => {
    // Checked before every command, not only between ring reads: one read can hold many commands, and
    // an event can be much larger than its command (a topic's partitions), so only this keeps a batch
    // within maxBatchBytes plus one record, the room the writer's batch buffer has.
    if (core.batchFull()) throw BATCH_FULL;
    const message = decodeCommand(bytes);
    // The batch ends before a command that is decided on the published index; it opens the next one.
    if (message.kind === 'command' && core.needsPublishedIndex(message.command)) throw BATCH_FULL;
    if (message.kind === 'command') core.addCommand(message.handleId, message.seq, message.command);
    else if (message.kind === 'sync') core.addSync(message.handleId, message.seq);
    else if (message.kind === 'compact') core.addCompact(message.handleId, message.seq, message.throughOffset);
    else closing = true;
  };
  // Runs until a Close command arrives; every pass either processes a batch or sleeps. After every pass,
  // busy or idle, the interval flush rule (`core.intervalSyncDue`) decides whether to fdatasync now.
  for (;;) {
    core.startBatch();
    let read = 0;
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
    const record = core.finishBatch();
    if (record !== null) publish(record);
    if (core.intervalSyncDue()) publish(core.syncInterval());
    if (closing) return;
    if (read > 0) continue;
    commandRing.waitForData(core.idleWaitMs());
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
    runBatches(core, data.config.maxBatchBytes);
  } catch (error) {
    // A broken invariant: stop writing, tell the handles, keep nothing half-done.
    core.becomeReadOnly(error);
    publish(encodeControlRecord(BATCH_KIND.FATAL, serializeUnknown(error)));
  }
  core.close();
  new IndexControl(data.index.control).markStoreClosed();
  const readOnly = core.readOnlyError;
  publish(encodeControlRecord(BATCH_KIND.CLOSED, { readOnly: readOnly === null ? null : readOnly.toJSON() }));
}

void main();
