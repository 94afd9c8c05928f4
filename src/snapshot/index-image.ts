/**
 * The state as a snapshot holds it: the shared index's tables byte for byte (slot table, arena, control
 * words of each), plus the few scalars that live outside them. Restoring is a copy into fresh index
 * memory, then a state and an index writer that load entities from it on demand (backed-map.ts), so an
 * open from a snapshot costs about one read of the file, whatever the number of entities.
 *
 * The digest is of the content, not the layout: the same events folded from scratch or on top of an
 * older snapshot leave the same entries with the same bytes but in other slots and arena blocks. Each
 * entry's key length, key and value are checksummed and the checksums combined order-independently, per
 * table; `verify` compares it with a fold of the WAL.
 *
 * Called by: recovery (writer thread), the snapshot writer, `stateAt`, verify and restore.
 */
import { SharedIndex } from '../../native-free/shared-index.js';
import { EVENT_SCHEMA_VERSION } from '../codec/event-schema.js';
import { crc32c } from '../crc32c.js';
import { IndexWriter } from '../store-index/index-writer.js';
import { INDEX_VALUE_FORMAT } from '../store-index/index-values.js';
import { restoredStateSources, topicSource } from '../store-index/index-sources.js';
import { allocateStoreIndex, FAMILIES, IndexControl, TABLE_SIZES, type Family, type StoreIndexBuffers } from '../store-index/store-index.js';
import { MetadataState } from '../state/metadata-state.js';
import type { Storage } from '../wal/storage.js';
import { readSnapshotFile, SnapshotDamage, type SnapshotMeta } from './snapshot-file.js';

const PARTS = ['control', 'slots', 'arena'] as const;

/** An index and the writer state over it, ready to fold the events after `lastOffset`. */
export interface FoldTarget {
  buffers: StoreIndexBuffers;
  state: MetadataState;
  index: IndexWriter;
  /** Commit time of the last event folded in (ms since the epoch), -1 before any. */
  lastTimestampMs: number;
}

/** An empty fold target (a fold from the first event), in fresh memory. */
export function emptyFoldTarget(buffers: StoreIndexBuffers = allocateStoreIndex()): FoldTarget {
  // Filled with the index writer's own table handles right below, before any topic is read back.
  const tables = {} as Record<Family, SharedIndex>;
  const state = new MetadataState({ committedOffsets: false, publishedTopics: topicSource(tables) });
  const index = new IndexWriter(buffers, state);
  for (const family of FAMILIES) tables[family] = index.ownTables[family];
  return { buffers, state, index, lastTimestampMs: -1 };
}

/**
 * Order-independent digest of every table's entries (`family:count:sum:xor` per table), then the
 * cluster id when there is one (`cluster:<id>`; a state without one digests as before it existed).
 */
export function stateDigest(tables: Readonly<Record<Family, SharedIndex>>, clusterId: string | null): string {
  const digest = FAMILIES.map((family) => {
    let count = 0;
    // Two 16-bit halves summed separately stay exact in a double for any table size.
    let sumLow = 0;
    let sumHigh = 0;
    let xor = 0;
    tables[family].forEachEntryBytes((bytes, start, end) => {
      const crc = crc32c(bytes, start, end);
      count++;
      sumLow += crc & 0xffff;
      sumHigh += crc >>> 16;
      xor = (xor ^ crc) >>> 0;
    });
    return `${family}:${count}:${sumHigh.toString(16)}.${sumLow.toString(16)}:${xor.toString(16)}`;
  }).join(' ');
  return clusterId === null ? digest : `${digest} cluster:${clusterId}`;
}

/**
 * `table` itself, or, when free blocks make up more than a quarter of its arena (values that grew
 * leave their old blocks to later reuse), a copy holding only its live entries: the snapshot is then
 * smaller, and so is every open that reads it. The copy costs the snapshot thread, not the writer.
 */
function compacted(table: SharedIndex, family: Family): SharedIndex {
  const usage = table.stats();
  if (usage.arenaBytesFree * 4 <= usage.arenaBytesLive + usage.arenaBytesFree) return table;
  const copy = SharedIndex.create(TABLE_SIZES[family]);
  copy.beginWrite();
  table.forEachEntryBytes((bytes, start, end) => {
    const keyEnd = start + 2 + (bytes[start] | (bytes[start + 1] << 8));
    copy.set(bytes.subarray(start + 2, keyEnd), bytes.subarray(keyEnd, end));
  });
  copy.endWrite();
  return copy;
}

/** The sections and meta of a snapshot of `target` (between batches: no write section open). */
/** The snapshot image of `target`, stamped `createdMs` (by the store's clock). */
export function captureImage(target: FoldTarget, createdMs: number): {
  meta: Omit<SnapshotMeta, 'sections' | 'formatVersion'>;
  sections: { name: string; bytes: Uint8Array }[];
} {
  const tables = target.index.ownTables;
  const sections: { name: string; bytes: Uint8Array }[] = [];
  const entries: Record<string, number> = {};
  for (const family of FAMILIES) {
    const parts = compacted(tables[family], family).imageParts();
    for (const part of PARTS) sections.push({ name: `${family}.${part}`, bytes: parts[part] });
    entries[family] = tables[family].stats().entries;
  }
  const control = new IndexControl(target.buffers.control);
  return {
    meta: {
      lastOffset: target.state.lastOffset,
      lastTimestampMs: target.lastTimestampMs,
      createdMs,
      eventSchemaVersion: EVENT_SCHEMA_VERSION,
      indexValueFormat: INDEX_VALUE_FORMAT,
      state: { nextProducerId: target.state.nextProducerId, idEpoch: control.idEpoch, ...target.index.numbering, clusterId: target.state.clusterId },
      digest: stateDigest(tables, target.state.clusterId),
      entries,
    },
    sections,
  };
}

/**
 * Reads the snapshot `file` into `buffers` (fresh from `allocateStoreIndex`, not yet opened by anyone)
 * and returns its meta; `restoredTarget` then makes the fold target over them (on any thread). Throws
 * `SnapshotDamage` when the file is damaged or was made with another index layout; `buffers` must then
 * be reset (`resetStoreIndex`) or discarded.
 */
export function readImage(file: string, buffers: StoreIndexBuffers, storage: Storage): SnapshotMeta {
  const expected = FAMILIES.flatMap((family) => PARTS.map((part) => `${family}.${part}`));
  const targets = new Map<string, Uint8Array>();
  const meta = readSnapshotFile(
    file,
    (section, found) => {
      if (found.sections.length !== expected.length || found.sections.some((each, at) => each.name !== expected[at])) {
        throw new SnapshotDamage(file, 'sections are not the index tables this build has');
      }
      return targets.get(section.name) ?? null;
    },
    (section, bytes) => {
      const [family, part] = section.name.split('.') as [Family, (typeof PARTS)[number]];
      if (part !== 'control') return;
      const views = SharedIndex.restoreImage(buffers.tables[family], bytes);
      if (typeof views === 'string') throw new SnapshotDamage(file, `table ${family}: ${views}`);
      targets.set(`${family}.slots`, views.slots);
      targets.set(`${family}.arena`, views.arena);
    },
    storage,
  );
  new IndexControl(buffers.control).restoreIdEpoch(meta.state.idEpoch);
  return meta;
}

/** The fold target over `buffers` that `readImage` filled from the snapshot with `meta`. */
export function restoredTarget(buffers: StoreIndexBuffers, meta: SnapshotMeta): FoldTarget {
  // Filled with the index writer's own table handles right below, before any entity is loaded.
  const tables = {} as Record<Family, SharedIndex>;
  const state = new MetadataState({
    committedOffsets: false,
    restored: restoredStateSources(tables, meta.lastOffset, meta.state.nextProducerId, meta.state.clusterId ?? null),
  });
  const index = new IndexWriter(buffers, state, { groupNumberNext: meta.state.groupNumberNext, topicNumberNext: meta.state.topicNumberNext });
  for (const family of FAMILIES) tables[family] = index.ownTables[family];
  return { buffers, state, index, lastTimestampMs: meta.lastTimestampMs };
}
