/**
 * What a reader pool thread is: the data the pool starts it with, and how it answers one query. The
 * thread's entry (workers/reader.ts) only binds these to piscina.
 *
 * A thread attaches the shared index once and never writes to it; it keeps no copy of the state beyond
 * its cache of decoded values. Its answers cross to the caller by structured clone, which keeps only an
 * error's message, so every error goes back as a MetaLogError in data and is rebuilt on arrival (see
 * src/api/reader-pool.ts); a packed answer's buffer is transferred, not copied.
 */
import { move } from 'piscina';
import { MetaLogError } from '../errors.js';
import { StoreIndexReader, type StoreIndexBuffers } from '../store-index/store-index.js';
import { isIoError } from '../wal/durable-file.js';
import { storageFor } from '../wal/storage.js';
import { answerQuery, type ReaderQuery } from './reader-queries.js';

/** What the pool passes to each of its threads. */
export interface ReaderWorkerData {
  index: StoreIndexBuffers;
  /** The store's `decodedCacheEntries`: the bound of this thread's cache of decoded values. */
  decodedCacheEntries: number;
  /** Fault switches for the storage of history and backup checks (tests; see FaultyStorage). */
  faults?: SharedArrayBuffer;
}

/** The answer function of one reader thread, on the index and storage `data` names. */
export function readerAnswer(data: ReaderWorkerData): (query: ReaderQuery) => unknown {
  const reader = new StoreIndexReader(data.index, data.decodedCacheEntries);
  const storage = storageFor(data.faults);
  return (query) => {
    let answer: unknown;
    try {
      answer = answerQuery(reader, query, storage);
    } catch (error) {
      // A disk error keeps its errno in the cause; anything else unexpected is a bug of ours.
      const code = isIoError(error) ? 'KAFKA_STORAGE_ERROR' : 'INTERNAL_ERROR';
      return { metalogError: MetaLogError.wrap(error, code, `reader pool query ${query.kind} failed`).toJSON() };
    }
    return answer instanceof Uint8Array ? move(answer) : answer;
  };
}
