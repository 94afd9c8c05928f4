/**
 * Reader pool thread (piscina): answers list, describe and scan queries from the shared index, which it
 * attaches once; it never writes and never holds a copy of the state beyond its cache of decoded values.
 */
import { move, workerData } from 'piscina';
import { answerQuery, type ReaderQuery } from '../src/index/reader-queries.js';
import { StoreIndexReader, type StoreIndexBuffers } from '../src/index/store-index.js';

/** What the pool passes to each of its threads. */
export interface ReaderWorkerData {
  index: StoreIndexBuffers;
}

const reader = new StoreIndexReader((workerData as ReaderWorkerData).index);

export default function answer(query: ReaderQuery): unknown {
  const answer = answerQuery(reader, query);
  // A packed answer's buffer is transferred, not copied.
  if (typeof answer === 'object' && answer !== null && 'packed' in answer) {
    return move((answer as { packed: Uint8Array }).packed);
  }
  return answer;
}
