/**
 * Opening stores in tests. Every store a test opens goes through `openStore`, whose teardown closes it
 * and checks it: the state the handle served must equal the state folded independently from the WAL on
 * disk. A handle that diverged from its log fails the test even if the test forgot to look.
 */
import type { ExecutionContext } from 'ava';
import path from 'node:path';
import { MetaLog, type OpenInternals } from '../../src/api/metalog.js';
import type { MetaLogConfigInput } from '../../src/config.js';
import { canonicalState, MetadataState } from '../../src/state/metadata-state.js';
import { scanWal } from '../../src/wal/recovery.js';
import { firstWalOffset, foldWalInto, startFold } from '../../src/snapshot/fold.js';
import { canonicalIndexState } from '../../src/store-index/canonical-index-state.js';
import { assertStoreIndexInvariants, StoreIndexReader } from '../../src/store-index/store-index.js';
import { NodeStorage } from '../../src/wal/storage.js';

/** Folds the WAL in `dir` from disk into a fresh state (no writer thread involved). */
export function foldFromDisk(dir: string): MetadataState {
  const state = new MetadataState();
  const scan = scanWal(new NodeStorage(), path.join(dir, 'wal'), (event) => event !== null && state.apply(event));
  if (scan.damage !== null && scan.damage.kind !== 'torn') throw new Error(`log damaged: ${scan.damage.reason}`);
  return state;
}

/**
 * The canonical state of the store in `dir` folded from disk: the whole WAL into a plain state when it
 * starts at offset 0; after compaction, from the snapshot the WAL continues, through the index.
 */
export function canonicalFromDisk(dir: string): string {
  const storage = new NodeStorage();
  const walDir = path.join(dir, 'wal');
  const first = firstWalOffset(storage, walDir);
  if (first === null || first === 0) return canonicalState(foldFromDisk(dir));
  const start = startFold(dir, storage);
  const scan = foldWalInto(start.target, storage, walDir);
  if (scan.damage !== null && scan.damage.kind !== 'torn') throw new Error(`log damaged: ${scan.damage.reason}`);
  return canonicalIndexState(new StoreIndexReader(start.target.buffers));
}

const checked = new WeakSet<MetaLog>();

/**
 * Closes `log` and throws unless the shared index's structure is whole and what it served equals the
 * log folded from disk. The fold comparison is skipped for a store that went read-only (its file may
 * hold a batch whose fdatasync failed; the fault tests check that case); the structure never is.
 */
export async function closeAndVerify(log: MetaLog): Promise<void> {
  if (checked.has(log)) return log.close();
  checked.add(log);
  await log.close();
  // The writer thread has exited: nothing changes the index any more.
  assertStoreIndexInvariants(log.handle.index);
  if (log.readOnlyError !== null) return;
  const served = log.canonicalState();
  const onDisk = canonicalFromDisk(log.config.dir);
  if (onDisk !== served) throw new Error(`served state differs from the WAL on disk:\nserved ${served.slice(0, 400)}\ndisk   ${onDisk.slice(0, 400)}`);
}

/** Opens a store whose teardown closes and verifies it. */
export async function openStore(t: ExecutionContext, config: MetaLogConfigInput, internals?: OpenInternals): Promise<MetaLog> {
  const log = await MetaLog.open(config, internals);
  t.teardown(() => closeAndVerify(log));
  return log;
}
