/**
 * Folding the WAL into an index: the one loop behind the writer's open, the snapshot writer and
 * `stateAt`. It starts from the newest usable snapshot (or from nothing), applies the events after it,
 * and says what it used and what it had to pass over.
 *
 * Snapshot choice: newest first; a snapshot is passed over (with the reason in the report) when its file
 * does not check out, was made with another index layout or event schema, lies past the point asked
 * for, or when the WAL does not continue it (the log would have a gap after it). With none usable the
 * fold starts from the first event, which needs the log to begin at offset 0.
 */
import path from 'node:path';
import type { SkippedSnapshot } from '../recovery-report.js';
import { EventCodec } from '../codec/event-codec.js';
import { checkOffsetsCommitted } from '../codec/hot-decoders.js';
import { EVENT_SCHEMA_VERSION, type LogEvent } from '../codec/event-schema.js';
import { assert } from '../assert.js';
import { allocateStoreIndex, resetStoreIndex, type StoreIndexBuffers } from '../store-index/store-index.js';
import { INDEX_VALUE_FORMAT } from '../store-index/index-values.js';
import { scanWal, type ScanOptions, type WalScan } from '../wal/recovery.js';
import type { Storage } from '../wal/storage.js';
import { emptyFoldTarget, readImage, restoredTarget, type FoldTarget } from './index-image.js';
import { listSnapshots, SnapshotDamage, type SnapshotMeta } from './snapshot-file.js';
import { segmentFilesOf } from '../wal/format.js';

/** Which snapshot an index was restored from (plain data: it is posted to the writer thread). */
export interface SnapshotChoice {
  /** The snapshot restored, or null (a fold from the first event). */
  snapshot: { file: string; meta: SnapshotMeta } | null;
  skipped: SkippedSnapshot[];
  /** Milliseconds spent reading the snapshot. */
  restoreMs: number;
}

/** What a fold started from. */
export interface FoldStart extends SnapshotChoice {
  target: FoldTarget;
}

/** The first offset the WAL in `walDir` holds (by file names), or null without segments. */
export function firstWalOffset(storage: Storage, walDir: string): number | null {
  if (!storage.exists(walDir)) return null;
  return segmentFilesOf(storage.readdir(walDir))[0]?.baseOffset ?? null;
}

/**
 * Restores the newest snapshot of the store in `storeDir` whose last offset is at most `atMost` (all
 * when undefined) and that the WAL continues; or an empty target when none is usable. `buffers` (fresh,
 * not yet opened: the store's shared index, or private memory) receive the index; a snapshot that fails
 * halfway is wiped from them before the next try.
 */
export function startFold(storeDir: string, storage: Storage, options: { atMost?: number; buffers?: StoreIndexBuffers } = {}): FoldStart {
  const buffers = options.buffers ?? allocateStoreIndex();
  const choice = chooseSnapshot(storeDir, storage, buffers, options.atMost);
  return { ...choice, target: targetFor(buffers, choice) };
}

/** The fold target over `buffers` as `chooseSnapshot` left them. */
export function targetFor(buffers: StoreIndexBuffers, choice: SnapshotChoice): FoldTarget {
  return choice.snapshot === null ? emptyFoldTarget(buffers) : restoredTarget(buffers, choice.snapshot.meta);
}

/**
 * Restores into `buffers` (fresh, not yet opened) the newest snapshot at or before `atMost` that the WAL
 * continues and that checks out, passing over the others with the reason; leaves them empty when none
 * is usable. The writer's open runs this on the opening thread while the writer thread starts.
 */
export function chooseSnapshot(storeDir: string, storage: Storage, buffers: StoreIndexBuffers, atMost?: number): SnapshotChoice {
  const started = performance.now();
  const skipped: SkippedSnapshot[] = [];
  let walFirst: number | null;
  try {
    walFirst = firstWalOffset(storage, path.join(storeDir, 'wal'));
  } catch {
    // An unreadable WAL directory is the writer's open to report (with the file and the cause).
    walFirst = null;
  }
  let used = false;
  for (const { file, lastOffset } of listSnapshots(storeDir, storage)) {
    const skip = (reason: string): void => {
      skipped.push({ file: path.basename(file), lastOffset, reason });
    };
    if (atMost !== undefined && lastOffset > atMost) continue;
    // The WAL must hold every event after the snapshot: its first segment starts at or before the next.
    if (walFirst !== null && walFirst > lastOffset + 1) {
      skip(`the WAL starts at offset ${walFirst}, after this snapshot's next offset ${lastOffset + 1}`);
      continue;
    }
    if (used) resetStoreIndex(buffers);
    used = true;
    try {
      const meta = readImage(file, buffers, storage);
      if (meta.lastOffset !== lastOffset) throw new SnapshotDamage(file, `meta says offset ${meta.lastOffset}, its name ${lastOffset}`);
      if (meta.indexValueFormat !== INDEX_VALUE_FORMAT) {
        throw new SnapshotDamage(file, `index value format ${meta.indexValueFormat}, this build has ${INDEX_VALUE_FORMAT}`);
      }
      if (meta.eventSchemaVersion > EVENT_SCHEMA_VERSION) {
        throw new SnapshotDamage(file, `made with event schema ${meta.eventSchemaVersion}, newer than this build's ${EVENT_SCHEMA_VERSION}`);
      }
      return { snapshot: { file, meta }, skipped, restoreMs: performance.now() - started };
    } catch (error) {
      if (!(error instanceof SnapshotDamage)) throw error;
      skip(error.reason);
    }
  }
  if (used) resetStoreIndex(buffers);
  return { snapshot: null, skipped, restoreMs: performance.now() - started };
}

/**
 * Applies the WAL's events after `target.state.lastOffset` (through `options.throughOffset` when
 * given) to `target`, then publishes the index. Returns the scan (segments, damage) for the caller
 * to act on; the caller checks that the log reaches back to the target's next offset.
 */
export function foldWalInto(target: FoldTarget, storage: Storage, walDir: string, options: Pick<ScanOptions, 'removeTempFiles' | 'throughOffset'> & { stopAt?: (offset: number, timestampMs: number) => boolean } = {}): WalScan {
  const { state, index } = target;
  const current = EventCodec.current();
  const stopAt = options.stopAt;
  let stopped = false;
  const scan = scanWal(
    storage,
    walDir,
    (event, bytes, view, codec) => {
      if (stopped || (stopAt !== undefined && (stopped = stopAt(view.offset, view.timestampMs)))) {
        // Past the stop nothing is applied, but every record is still checked, as the scan checks those it
        // does not decode.
        if (event === null && codec === current) checkOffsetsCommitted(bytes, view.payloadStart, view.end);
        return;
      }
      if (event !== null) {
        target.lastTimestampMs = view.timestampMs;
        state.apply(event);
        index.applyEvent(event);
        return;
      }
      // Offset commits, the bulk of a log, are neither decoded nor checked by the scan: under this
      // version's schema the index takes them from the payload bytes, checking them as it reads (it
      // throws MalformedPayload before changing anything); records under an older schema were checked
      // by the scan and are decoded here instead.
      if (codec === current) {
        index.applyOffsetsCommittedPayload(bytes, view.payloadStart, view.end, view.timestampMs);
      } else {
        const body = codec.decode(view.eventType, bytes, view.payloadStart, view.end);
        assert(body.type === 'OffsetsCommitted', 'only offset commits are left undecoded');
        index.applyEvent({ type: body.type, value: body.value, offset: view.offset, timestampMs: view.timestampMs } as LogEvent);
      }
      state.skip(view.offset);
      target.lastTimestampMs = view.timestampMs;
    },
    {
      removeTempFiles: options.removeTempFiles,
      throughOffset: options.throughOffset,
      fromOffset: state.lastOffset + 1,
      decodes: (type) => type !== 'OffsetsCommitted',
      checkedByVisitor: (type, codec) => type === 'OffsetsCommitted' && codec === current,
    },
  );
  index.publish();
  return scan;
}
