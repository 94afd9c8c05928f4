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
import { SharedIndex, UNCHANGED, type SharedIndexBuffers } from '../../native-free/shared-index.js';
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

/**
 * A reader-side cache by slot and version, as the store's readers keep one: `lookup` and `scan` may
 * answer "unchanged" for a slot, and then the cached value must be the same key's (versions are unique
 * across keys) and still pass every check.
 */
class SlotCache {
  readonly versions: number[] = [];
  private readonly entries: { keyId: number; sequence: number }[] = [];

  remember(slot: number, version: number, keyId: number, sequence: number): void {
    while (this.versions.length < slot) {
      this.versions.push(0);
      this.entries.push({ keyId: -1, sequence: -1 });
    }
    this.versions[slot] = version;
    this.entries[slot] = { keyId, sequence };
  }

  cached(slot: number, keyId: number | null): { keyId: number; sequence: number } {
    const entry = this.entries[slot];
    if (entry === undefined || (keyId !== null && entry.keyId !== keyId)) {
      throw new Error(`slot ${slot}: "unchanged" for key ${keyId}, but the cache holds key ${entry?.keyId}`);
    }
    return entry;
  }
}

/** `lookup` of one key through the slot cache; returns the sequence seen, or -1 when absent. */
function lookupCached(index: SharedIndex, cache: SlotCache, keyId: number): number {
  const found = index.lookup(keyFor(keyId), cache.versions);
  if (found === undefined) return -1;
  if (found === UNCHANGED) return cache.cached(index.lookupSlot, keyId).sequence;
  const sequence = decodeValue(keyId, found);
  cache.remember(index.lookupSlot, index.lookupVersion, keyId, sequence);
  return sequence;
}

/** `readInto` of one key; returns the sequence seen, or -1 when absent. */
function readIntoChecked(index: SharedIndex, keyId: number, target: { bytes: Uint8Array }): number {
  const key = keyFor(keyId);
  let length = index.readInto(key, target.bytes);
  if (length > target.bytes.length) {
    target.bytes = new Uint8Array(length);
    length = index.readInto(key, target.bytes);
    // The value may have changed size again in between: then it is simply read next time.
    if (length > target.bytes.length) return -1;
  }
  return length < 0 ? -1 : decodeValue(keyId, target.bytes.subarray(0, length));
}

/** `scan` through the slot cache: one consistent state, the section pair equal. */
function checkScan(index: SharedIndex, cache: SlotCache, monotonic: MonotonicCheck): number {
  const { slots, versions, values } = index.scan(cache.versions);
  const pair = new Map<number, number>();
  for (let position = 0; position < slots.length; position++) {
    const bytes = values[position];
    let keyId: number;
    let sequence: number;
    if (bytes === undefined) {
      ({ keyId, sequence } = cache.cached(slots[position], null));
    } else {
      keyId = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
      sequence = decodeValue(keyId, bytes);
      cache.remember(slots[position], versions[position], keyId, sequence);
    }
    monotonic.sequence(keyId, sequence);
    if (keyId === PAIR_FIRST_ID || keyId === PAIR_LAST_ID) pair.set(keyId, sequence);
  }
  if (pair.get(PAIR_FIRST_ID) !== pair.get(PAIR_LAST_ID)) {
    throw new Error(`half a section in a scan: pair sequences ${pair.get(PAIR_FIRST_ID)} and ${pair.get(PAIR_LAST_ID)}`);
  }
  return slots.length;
}

function runReader(task: SharedIndexReaderTask): void {
  const index = SharedIndex.attach(task.buffers);
  const progress = new Int32Array(task.progressBuffer);
  const random = createRandom(task.seed ^ (task.readerId * 0x2545f491));
  const monotonic = new MonotonicCheck();
  const slotCache = new SlotCache();
  const target = { bytes: new Uint8Array(64) };
  let valuesChecked = 0;
  let snapshots = 0;
  parentPort?.postMessage({ kind: 'ready' } satisfies SharedIndexReaderMessage);
  let operations = 0;
  // Bounded by operationsMax; the writer normally stops it much earlier through the stop word.
  for (; operations < task.operationsMax && Atomics.load(progress, PROGRESS_WORD_STOP) === 0; operations++) {
    const choice = random() % 64;
    if (choice < 2) {
      valuesChecked += choice === 0 ? checkSnapshot(index, monotonic) : checkScan(index, slotCache, monotonic);
      snapshots += 1;
    } else {
      const keyId = random() % (task.keyCount + 2);
      const id = keyId < task.keyCount ? keyId : PAIR_FIRST_ID + keyId - task.keyCount;
      // The three point reads in turn: a copy, into a caller's buffer, through a slot cache.
      const way = choice % 3;
      let sequence = -1;
      if (way === 0) {
        const value = index.get(keyFor(id));
        if (value !== undefined) sequence = decodeValue(id, value);
      } else if (way === 1) {
        sequence = readIntoChecked(index, id, target);
      } else {
        sequence = lookupCached(index, slotCache, id);
      }
      if (sequence >= 0) {
        monotonic.sequence(id, sequence);
        valuesChecked += 1;
      }
      monotonic.version(id, index.version(keyFor(id)));
    }
    // Count the finished operation, then wake the writer if it waits for this reader's progress.
    Atomics.add(progress, 1 + task.readerId, 1);
    Atomics.notify(progress, 1 + task.readerId);
  }
  parentPort?.postMessage({ kind: 'done', operations, valuesChecked, snapshots } satisfies SharedIndexReaderMessage);
}

if (!isMainThread) runReader(workerData as SharedIndexReaderTask);
