/**
 * The marker of a copy in progress. A backup or restore writes it (durably) into its destination before
 * the first file and removes it (durably) after the last file and every folder were made durable. A
 * crash in between leaves it: the folder then holds a store that may look whole but is not (a WAL cut
 * short, a missing snapshot), so open and restore refuse it, and the operator copies again.
 *
 * Called by: backup.ts (writes and removes it), the writer's recovery and restore (refuse a folder that
 * holds it). Must never: be removed before the copy is durable.
 */
import path from 'node:path';
import { MetaLogError } from '../errors.js';
import type { Storage } from '../wal/storage.js';

/** File name of the marker, in the destination's top folder. */
export const COPY_MARKER = 'COPY-IN-PROGRESS';

/** Throws CORRUPT_WAL when `dir` holds the marker of a backup or restore that did not finish. */
export function refuseUnfinishedCopy(dir: string, storage: Storage): void {
  const marker = path.join(dir, COPY_MARKER);
  if (!storage.exists(marker)) return;
  throw new MetaLogError(
    'CORRUPT_WAL',
    `${dir} is a backup or restore that did not finish (${COPY_MARKER} is still there): its files may be cut short; delete the folder and copy again`,
    { file: marker },
  );
}
