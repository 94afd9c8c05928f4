/**
 * Snapshot thread entry point: keeps its own copy of the state, folded from the WAL, and writes it
 * out as a snapshot when asked. It never touches the store's shared index or the writer: the events it
 * folds are in WAL segments already written (and durable) when it is asked, so snapshots cost the
 * writer nothing but a share of the CPU and the disk.
 *
 * Message in: `{ id, throughOffset, nowMs }` (nowMs: the store's clock); out: `{ id, result }` or `{ id, error }` (a serialized
 * MetaLogError). Everything that is not plumbing lives in src/snapshot/.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MetaLogError } from '../src/errors.js';
import { Snapshotter, type SnapshotThreadData } from '../src/snapshot/snapshotter.js';
import { storageFor } from '../src/wal/storage.js';

const data = workerData as SnapshotThreadData;
// The same fault switches as the writer's, so tests can fail a snapshot's writes (see FaultyStorage).
const snapshotter = new Snapshotter(data, storageFor(data.faults));

parentPort?.on('message', (message: { id: number; throughOffset: number; nowMs: number }) => {
  try {
    parentPort?.postMessage({ id: message.id, result: snapshotter.snapshotThrough(message.throughOffset, message.nowMs) });
  } catch (error) {
    const failure = MetaLogError.wrap(error, 'KAFKA_STORAGE_ERROR', 'snapshot failed');
    parentPort?.postMessage({ id: message.id, error: failure.toJSON() });
  }
});
