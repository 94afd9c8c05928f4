/**
 * Self-checking entries for the shared-index thread test, and the reader thread that checks them.
 *
 * Format: key id n has key "key-<n>" (every seventh id padded to 100 bytes, so key lengths vary). Its
 * value is
 *
 *   +-------------+---------------+-----------------+--------------------------+---------------+
 *   | u32 keyId   | u32 sequence  | u32 fillerBytes | filler: f(keyId, seq, i) | u32 checksum  |
 *   +-------------+---------------+-----------------+--------------------------+---------------+
 *
 * where the sequence counts the writer's sets of that key (it keeps counting across deletes) and the
 * checksum is FNV-1a of everything before it. A value torn between two writes, or read from a freed
 * and reused block, fails the length, filler or checksum check; a value of an older set than one already
 * seen fails the sequence check. Two more keys, `PAIR_FIRST_ID` and `PAIR_LAST_ID`, are set as the first
 * and the last change of every write section, both with the section number as sequence: a consistent
 * snapshot (`forEachEntry`) holds them with equal sequences, a half-published section would not.
 *
 * As a worker (workerData is a `SharedIndexReaderTask`): attaches the index, posts 'ready', then reads
 * until the stop word is set, counting each finished operation in its progress word (the writer paces
 * itself on these words), and posts 'done' with its counts. A failed check is thrown, which the parent
 * sees as the worker's 'error' event. Loaded on the main thread, it only exports the format.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SharedIndex, type SharedIndexBuffers } from '../../native-free/shared-index.js';
import { createRandom } from './ring-streams.js';

/** Key ids of the section pair (see the header); ordinary key ids are below them. */
export const PAIR_FIRST_ID = 1_000_000;
/** See `PAIR_FIRST_ID`. */
export const PAIR_LAST_ID = 1_000_001;

/** Words of the progress buffer: the stop word, then one progress counter per reader. */
export const PROGRESS_WORD_STOP = 0;

/** What the parent passes to a reader worker. */
export interface SharedIndexReaderTask {
  readonly buffers: SharedIndexBuffers;
  /** Int32 words: stop (0 = run, 1 = stop), then one finished-operation counter per reader. */
  readonly progressBuffer: SharedArrayBuffer;
  readonly readerId: number;
  readonly seed: number;
  /** Ordinary key ids are 0 .. keyCount - 1. */
  readonly keyCount: number;
  /** Bound on the operations of one reader, so the loop is finite even if stop never comes. */
  readonly operationsMax: number;
}

/** What a reader worker posts. */
export type SharedIndexReaderMessage =
  | { kind: 'ready' }
  | { kind: 'done'; operations: number; valuesChecked: number; snapshots: number };

const encoder = new TextEncoder();
const headerBytes = 12;
const checksumBytes = 4;

/** The key of key id `keyId`. */
export function keyFor(keyId: number): Uint8Array {
  const text = `key-${keyId}`;
  return encoder.encode(keyId % 7 === 0 ? text.padEnd(100, '~') : text);
}

function checksum(bytes: Uint8Array, end: number): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < end; index++) hash = Math.imul(hash ^ bytes[index], 0x01000193);
  return hash >>> 0;
}

function fillerByte(keyId: number, sequence: number, index: number): number {
  return (keyId * 29 + sequence * 13 + index * 7 + 1) & 0xff;
}

/** The value of the `sequence`-th set of key id `keyId`, with `fillerBytes` of filler. */
export function encodeValue(keyId: number, sequence: number, fillerBytes: number): Uint8Array {
  const value = new Uint8Array(headerBytes + fillerBytes + checksumBytes);
  const view = new DataView(value.buffer);
  view.setUint32(0, keyId, true);
  view.setUint32(4, sequence, true);
  view.setUint32(8, fillerBytes, true);
  for (let index = 0; index < fillerBytes; index++) value[headerBytes + index] = fillerByte(keyId, sequence, index);
  view.setUint32(headerBytes + fillerBytes, checksum(value, headerBytes + fillerBytes), true);
  return value;
}

/**
 * Checks that `value` is a whole value of key id `keyId`.
 * @returns its sequence.
 * @throws Error naming what is wrong.
 */
export function decodeValue(keyId: number, value: Uint8Array): number {
  if (value.length < headerBytes + checksumBytes) throw new Error(`key ${keyId}: value of ${value.length} bytes is torn`);
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  const fillerBytes = view.getUint32(8, true);
  const sequence = view.getUint32(4, true);
  if (view.getUint32(0, true) !== keyId) throw new Error(`key ${keyId}: value names key ${view.getUint32(0, true)}`);
  if (value.length !== headerBytes + fillerBytes + checksumBytes) throw new Error(`key ${keyId}: torn length`);
  for (let index = 0; index < fillerBytes; index++) {
    if (value[headerBytes + index] !== fillerByte(keyId, sequence, index)) {
      throw new Error(`key ${keyId}: filler byte ${index} of sequence ${sequence} is torn`);
    }
  }
  if (view.getUint32(headerBytes + fillerBytes, true) !== checksum(value, headerBytes + fillerBytes)) {
    throw new Error(`key ${keyId}: checksum of sequence ${sequence} does not match`);
  }
  return sequence;
}

/** Key id of a key made by `keyFor`. */
function keyIdOf(key: Uint8Array): number {
  const text = new TextDecoder().decode(key).replace(/~+$/, '');
  const keyId = Number(text.slice(4));
  if (!text.startsWith('key-') || !Number.isInteger(keyId)) throw new Error(`unknown key ${JSON.stringify(text)}`);
  return keyId;
}

/** Per reader: the latest sequence and version seen of each key, which must never go backwards. */
class MonotonicCheck {
  private readonly sequences = new Map<number, number>();
  private readonly versions = new Map<number, number>();

  sequence(keyId: number, sequence: number): void {
    const last = this.sequences.get(keyId) ?? -1;
    if (sequence < last) throw new Error(`key ${keyId}: sequence went back from ${last} to ${sequence}`);
    this.sequences.set(keyId, sequence);
  }

  version(keyId: number, version: number): void {
    if (version === 0) return;
    const last = this.versions.get(keyId) ?? 0;
    if (version < last) throw new Error(`key ${keyId}: version went back from ${last} to ${version}`);
    this.versions.set(keyId, version);
  }
}

function checkSnapshot(index: SharedIndex, monotonic: MonotonicCheck): number {
  const pair = new Map<number, number>();
  const seen = new Set<number>();
  index.forEachEntry((key, value) => {
    const keyId = keyIdOf(key);
    if (seen.has(keyId)) throw new Error(`key ${keyId} appears twice in one snapshot`);
    seen.add(keyId);
    const sequence = decodeValue(keyId, value);
    monotonic.sequence(keyId, sequence);
    if (keyId === PAIR_FIRST_ID || keyId === PAIR_LAST_ID) pair.set(keyId, sequence);
  });
  if (pair.get(PAIR_FIRST_ID) !== pair.get(PAIR_LAST_ID)) {
    throw new Error(`half a section in a snapshot: pair sequences ${pair.get(PAIR_FIRST_ID)} and ${pair.get(PAIR_LAST_ID)}`);
  }
  return seen.size;
}

function runReader(task: SharedIndexReaderTask): void {
  const index = SharedIndex.attach(task.buffers);
  const progress = new Int32Array(task.progressBuffer);
  const random = createRandom(task.seed ^ (task.readerId * 0x2545f491));
  const monotonic = new MonotonicCheck();
  let valuesChecked = 0;
  let snapshots = 0;
  parentPort?.postMessage({ kind: 'ready' } satisfies SharedIndexReaderMessage);
  let operations = 0;
  // Bounded by operationsMax; the writer normally stops it much earlier through the stop word.
  for (; operations < task.operationsMax && Atomics.load(progress, PROGRESS_WORD_STOP) === 0; operations++) {
    if (random() % 32 === 0) {
      valuesChecked += checkSnapshot(index, monotonic);
      snapshots += 1;
    } else {
      const keyId = random() % (task.keyCount + 2);
      const id = keyId < task.keyCount ? keyId : PAIR_FIRST_ID + keyId - task.keyCount;
      const key = keyFor(id);
      const value = index.get(key);
      if (value !== undefined) {
        monotonic.sequence(id, decodeValue(id, value));
        valuesChecked += 1;
      }
      monotonic.version(id, index.version(key));
    }
    // Count the finished operation, then wake the writer if it waits for this reader's progress.
    Atomics.add(progress, 1 + task.readerId, 1);
    Atomics.notify(progress, 1 + task.readerId);
  }
  parentPort?.postMessage({ kind: 'done', operations, valuesChecked, snapshots } satisfies SharedIndexReaderMessage);
}

if (!isMainThread) runReader(workerData as SharedIndexReaderTask);
