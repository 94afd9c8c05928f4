/**
 * Reader pool thread entry (piscina): answers list, describe and scan queries from the shared index.
 * Everything that is not plumbing lives in src/reader/.
 */
import { workerData } from 'piscina';
import { readerAnswer, type ReaderWorkerData } from '../src/reader/reader-thread.js';

export default readerAnswer(workerData as ReaderWorkerData);
