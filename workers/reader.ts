/**
 * Reader pool thread (piscina): answers list, describe and scan queries from the shared index, which it
 * attaches once; it never writes and never holds a copy of the state beyond its cache of decoded values.
 */
import { move, workerData } from 'piscina';
import { MetaLogError } from '../src/errors.js';
import { answerQuery, type ReaderQuery } from '../src/index/reader-queries.js';
import { StoreIndexReader, type StoreIndexBuffers } from '../src/index/store-index.js';
import { storageFor } from '../src/wal/storage.js';

/** What the pool passes to each of its threads. */
export interface ReaderWorkerData {
  index: StoreIndexBuffers;
  /** Fault switches for the storage of history and backup checks (tests; see FaultyStorage). */
  faults?: SharedArrayBuffer;
}

const data = workerData as ReaderWorkerData;
const reader = new StoreIndexReader(data.index);
const storage = storageFor(data.faults);

export default function answer(query: ReaderQuery): unknown {
  let answer: unknown;
  try {
    answer = answerQuery(reader, query, storage);
  } catch (error) {
    // A thrown error reaches the caller by structured clone, which keeps only its message: send a
    // MetaLogError as data instead, so it arrives with its code and details.
    if (error instanceof MetaLogError) return { metalogError: error.toJSON() };
    throw error;
  }
  // A packed answer's buffer is transferred, not copied.
  return answer instanceof Uint8Array ? move(answer) : answer;
}
