/**
 * The history half of `watch({ from })`: the pages a watcher reads before it goes live. Each page is a
 * `history()` query on the reader pool (WATCH_HISTORY_PAGE_EVENTS events); where the WAL no longer
 * reaches back to the page's start (compacted), the page is instead the snapshot marker of the oldest
 * snapshot kept, which the WAL continues (compaction never deletes past it).
 */
import path from 'node:path';
import type { EventType, LogEvent } from '../codec/event-schema.js';
import { MetaLogError } from '../errors.js';
import type { HistoryFilter } from '../history/history.js';
import type { StateAt, StatePoint } from '../history/state-at.js';
import { firstWalOffset } from '../snapshot/fold.js';
import { listSnapshots } from '../snapshot/snapshot-file.js';
import type { Storage } from '../wal/storage.js';
import type { HistoryPager } from './watcher.js';

/** Events a watcher's catch-up reads from the WAL per page. */
export const WATCH_HISTORY_PAGE_EVENTS = 10_000;

/** The reads a catch-up needs of the store. */
export interface HistorySource {
  dir: string;
  /** The store's storage, for the WAL's and the snapshots' file names. */
  storage: Storage;
  history(filter: HistoryFilter): Promise<LogEvent[]>;
  stateAt(point: StatePoint): Promise<StateAt>;
}

/** The pager of a watcher catching up through offset `last`, with the watcher's type filter. */
export function catchUpPager(source: HistorySource, last: number, types: EventType[] | undefined): HistoryPager {
  return async (from) => {
    const walFirst = firstWalOffset(source.storage, path.join(source.dir, 'wal')) ?? 0;
    if (from < walFirst) {
      const snapshot = listSnapshots(source.dir, source.storage).filter((each) => each.lastOffset + 1 >= walFirst).at(-1);
      if (snapshot === undefined) {
        throw new MetaLogError('OFFSET_OUT_OF_RANGE', `history before offset ${walFirst} was compacted and no snapshot covers it`, { offset: walFirst, field: 'from' });
      }
      const state = await source.stateAt({ offset: snapshot.lastOffset });
      return { items: [{ type: 'Snapshot', offset: snapshot.lastOffset, state }], next: snapshot.lastOffset + 1 > last ? null : snapshot.lastOffset + 1 };
    }
    const limit = WATCH_HISTORY_PAGE_EVENTS;
    const events = await source.history({ fromOffset: from, toOffset: last, limit, ...(types === undefined ? {} : { types }) });
    // A page that ended early reached `last` (the history filter stops only at the limit or the range's end).
    const next = events.length < limit ? null : (events.at(-1) as LogEvent).offset + 1;
    return { items: events, next: next === null || next > last ? null : next };
  };
}
