/**
 * Values of the shared index: how each entity is encoded in the arena, and decoded into the frozen
 * objects the API returns.
 *
 * Owns: one codec per family. A group is its GroupUpserted event's Avro encoding (the writer copies the
 * event's payload as it is). The other whole entities (topics with their partitions, brokers,
 * transactions, a partition's segment list, a group's offset directory) are written field by field in a
 * fixed order (u8/i32/f64 little-endian, strings and byte strings as u32 length + bytes,
 * nullable strings with length 0xffffffff for null, lists as u32 count + items) and decoded into plain
 * frozen objects, only when their version changes (readers cache them). The two values read on every
 * fetch or produce are fixed layouts:
 *
 *   committed offset   f64 offset | f64 commit timestamp ms | i32 leader epoch | metadata (UTF-8, to the end)
 *   watermarks         f64 high watermark | f64 log start offset
 *
 * On disk too: a snapshot is the index's tables byte for byte, these values included (docs/format.md).
 * A change to any encoding must bump INDEX_VALUE_FORMAT below, so that open passes over snapshots of the
 * old format (and replays the WAL instead) rather than misreading them.
 */
import type { BrokerStatus, PartitionState, SegmentInfo, TransactionState, Watermarks } from '../codec/event-schema.js';
import { decodeFrozenGroup } from '../codec/hot-decoders.js';
import { groupEncoding } from '../codec/hot-encoders.js';
import type { Broker, CommittedOffset, Group, Topic, Transaction } from '../state/entities.js';

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();
const NULL_LENGTH = 0xffffffff;

/**
 * Version of the value encodings below. Snapshots record it and a snapshot of another version is not
 * restored (the values would be read wrongly): bump it with any change to an encoding.
 */
export const INDEX_VALUE_FORMAT = 2;

/** Appends fields to a growing buffer; `finish` returns a copy of what was written. */
class ValueWriter {
  private bytes = new Uint8Array(1024);
  private view = new DataView(this.bytes.buffer);
  private length = 0;

  start(): this {
    this.length = 0;
    return this;
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + extra));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  u8(value: number): this {
    this.reserve(1);
    this.bytes[this.length++] = value;
    return this;
  }

  u32(value: number): this {
    this.reserve(4);
    this.view.setUint32(this.length, value, true);
    this.length += 4;
    return this;
  }

  i32(value: number): this {
    this.reserve(4);
    this.view.setInt32(this.length, value, true);
    this.length += 4;
    return this;
  }

  f64(value: number): this {
    this.reserve(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
    return this;
  }

  string(value: string): this {
    const length = value.length;
    this.reserve(4 + 3 * length);
    const bytes = this.bytes;
    const at = this.length + 4;
    // Ids, hosts and topic names are nearly always ASCII: copied by hand, several times faster than
    // encodeInto on a fresh view for a short string; the first other character hands the whole string over.
    let written = 0;
    while (written < length) {
      const code = value.charCodeAt(written);
      if (code >= 0x80) break;
      bytes[at + written] = code;
      written++;
    }
    if (written < length) written = utf8.encodeInto(value, bytes.subarray(at)).written;
    this.view.setUint32(this.length, written, true);
    this.length = at + written;
    return this;
  }

  nullableString(value: string | null): this {
    return value === null ? this.u32(NULL_LENGTH) : this.string(value);
  }

  byteString(value: Uint8Array): this {
    this.u32(value.length);
    this.reserve(value.length);
    this.bytes.set(value, this.length);
    this.length += value.length;
    return this;
  }

  i32List(values: readonly number[]): this {
    this.u32(values.length);
    for (const value of values) this.i32(value);
    return this;
  }

  stringList(values: readonly string[]): this {
    this.u32(values.length);
    for (const value of values) this.string(value);
    return this;
  }

  finish(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

const latin1Slice = Buffer.prototype.latin1Slice as (this: Uint8Array, start: number, end: number) => string;

/**
 * UTF-8 bytes[start, end) as a string. Ids and config values are almost always ASCII, which Node's
 * latin1 slice turns into a string several times faster than TextDecoder does for short strings.
 */
function decodeUtf8(bytes: Uint8Array, start: number, end: number): string {
  for (let index = start; index < end; index++) {
    if (bytes[index] > 0x7f) return utf8Decoder.decode(bytes.subarray(start, end));
  }
  return latin1Slice.call(bytes, start, end);
}

/** Reads fields in the order `ValueWriter` wrote them. */
class ValueReader {
  private readonly view: DataView;
  private position = 0;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  u8(): number {
    return this.bytes[this.position++];
  }

  u32(): number {
    const value = this.view.getUint32(this.position, true);
    this.position += 4;
    return value;
  }

  i32(): number {
    const value = this.view.getInt32(this.position, true);
    this.position += 4;
    return value;
  }

  f64(): number {
    const value = this.view.getFloat64(this.position, true);
    this.position += 8;
    return value;
  }

  string(): string {
    const length = this.u32();
    const value = decodeUtf8(this.bytes, this.position, this.position + length);
    this.position += length;
    return value;
  }

  nullableString(): string | null {
    if (this.view.getUint32(this.position, true) === NULL_LENGTH) {
      this.position += 4;
      return null;
    }
    return this.string();
  }

  /** A Buffer over a copy of the bytes (the API's byte fields are Buffers). */
  byteString(): Buffer {
    const length = this.u32();
    const value = Buffer.allocUnsafe(length);
    value.set(this.bytes.subarray(this.position, this.position + length));
    this.position += length;
    return value;
  }

  /**
   * A list of broker ids (a partition's replicas or ISR), frozen, and shared with every other decoded
   * list of the same ids (see SHARED_BROKER_LISTS_MAX).
   */
  brokerList(): readonly number[] {
    const start = this.position;
    const count = this.u32();
    if (count <= SHARED_LIST_LENGTH_MAX) {
      // A number that names the list: its length, then each id in 10 bits (ids below 1024 only).
      let key = count;
      let scale = 8;
      let shareable = true;
      for (let index = 0; index < count; index++) {
        const id = this.i32();
        if (id < 0 || id >= 1024) shareable = false;
        key += id * scale;
        scale *= 1024;
      }
      if (shareable) {
        const known = sharedBrokerLists.get(key);
        if (known !== undefined) return known;
        this.position = start;
        const list = Object.freeze(this.i32List());
        if (sharedBrokerLists.size < SHARED_BROKER_LISTS_MAX) sharedBrokerLists.set(key, list);
        return list;
      }
    }
    this.position = start;
    return Object.freeze(this.i32List());
  }

  i32List(): number[] {
    const count = this.u32();
    const values = new Array<number>(count);
    for (let index = 0; index < count; index++) values[index] = this.i32();
    return values;
  }

  stringList(): string[] {
    const count = this.u32();
    const values = new Array<string>(count);
    for (let index = 0; index < count; index++) values[index] = this.string();
    return values;
  }
}

/**
 * Replica and ISR lists are a few broker ids drawn from a small set, the same lists over and over: each
 * distinct one is decoded into one frozen array that every decoded partition holding it shares (two
 * arrays a partition, about half of a decoded 6-partition topic's heap). Lists of up to 4 ids below
 * 1024 are shared, at most this many distinct ones; the others are decoded afresh.
 */
const SHARED_BROKER_LISTS_MAX = 4096;
const SHARED_LIST_LENGTH_MAX = 4;
const sharedBrokerLists = new Map<number, readonly number[]>();

const writer = new ValueWriter();

const BROKER_STATUSES: readonly BrokerStatus[] = ['ONLINE', 'FENCED', 'MAINTENANCE'];
const TRANSACTION_STATES: readonly TransactionState[] = ['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort'];

export function encodeTopic(topic: Topic): Uint8Array {
  const out = writer.start().string(topic.topicId).string(topic.name).i32(topic.replicationFactor).u32(topic.partitions.length);
  for (const partition of topic.partitions) {
    out.i32(partition.partition).i32(partition.leader).i32List(partition.replicas).i32List(partition.isr).i32(partition.leaderEpoch).i32(partition.partitionEpoch);
  }
  const configs = Object.entries(topic.configs);
  out.u32(configs.length);
  for (const [key, value] of configs) out.string(key).string(value);
  return out.finish();
}

export function decodeTopic(bytes: Uint8Array): Topic {
  const input = new ValueReader(bytes);
  const topicId = input.string();
  const name = input.string();
  const replicationFactor = input.i32();
  const partitions = new Array<Readonly<PartitionState>>(input.u32());
  for (let index = 0; index < partitions.length; index++) {
    partitions[index] = Object.freeze({
      partition: input.i32(),
      leader: input.i32(),
      replicas: input.brokerList() as number[],
      isr: input.brokerList() as number[],
      leaderEpoch: input.i32(),
      partitionEpoch: input.i32(),
    });
  }
  const configs: Record<string, string> = {};
  for (let count = input.u32(); count > 0; count--) {
    const key = input.string();
    configs[key] = input.string();
  }
  return Object.freeze({ topicId, name, replicationFactor, partitions: Object.freeze(partitions), configs: Object.freeze(configs) });
}

export function encodeBroker(broker: Broker): Uint8Array {
  return writer.start().i32(broker.brokerId).string(broker.host).i32(broker.port).nullableString(broker.rack).f64(broker.brokerEpoch)
    .u8(BROKER_STATUSES.indexOf(broker.status)).finish();
}

export function decodeBroker(bytes: Uint8Array): Broker {
  const input = new ValueReader(bytes);
  return Object.freeze({
    brokerId: input.i32(),
    host: input.string(),
    port: input.i32(),
    rack: input.nullableString(),
    brokerEpoch: input.f64(),
    status: BROKER_STATUSES[input.u8()],
  });
}

/**
 * A group's value is its GroupUpserted event's Avro encoding: the writer copies the event's payload into
 * the index as it is (see EncodedGroup), and only an offsets-only group is encoded here.
 */
export function encodeGroup(group: Group): Uint8Array {
  return groupEncoding(group);
}

/** A group read from the index: frozen, its members' bytes copied out of the arena. */
export function decodeGroup(bytes: Uint8Array): Group {
  return decodeFrozenGroup(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length), 0, bytes.length);
}

export function encodeTransaction(transaction: Transaction): Uint8Array {
  const out = writer.start().string(transaction.transactionalId).f64(transaction.producerId).i32(transaction.producerEpoch)
    .u8(TRANSACTION_STATES.indexOf(transaction.state)).i32(transaction.timeoutMs).u32(transaction.partitions.length);
  for (const { topic, partition } of transaction.partitions) out.string(topic).i32(partition);
  return out.stringList(transaction.groupIds).finish();
}

export function decodeTransaction(bytes: Uint8Array): Transaction {
  const input = new ValueReader(bytes);
  const transactionalId = input.string();
  const producerId = input.f64();
  const producerEpoch = input.i32();
  const state = TRANSACTION_STATES[input.u8()];
  const timeoutMs = input.i32();
  const partitions = new Array<{ topic: string; partition: number }>(input.u32());
  for (let index = 0; index < partitions.length; index++) partitions[index] = Object.freeze({ topic: input.string(), partition: input.i32() });
  const groupIds = Object.freeze(input.stringList()) as string[];
  return Object.freeze({ transactionalId, producerId, producerEpoch, state, timeoutMs, partitions: Object.freeze(partitions) as { topic: string; partition: number }[], groupIds });
}

/** Bytes a padded value leaves in its power-of-two block for the key (group ids and topic names are short). */
const BLOCK_ROOM_FOR_KEY = 64;

/**
 * Values that grow a little at a time (a partition's segments, a group's offset directory) are padded to
 * a power of two: the arena keeps a free list per size class and never merges blocks, so a value that
 * crossed every 16-byte class on its way up would leave a block parked in each; padded, it changes
 * class only when it doubles. Their decoders read a count first and ignore the padding.
 */
function paddedToPowerOfTwo(bytes: Uint8Array): Uint8Array {
  // The arena block also holds the key and its length: leaving them room keeps the block itself at the
  // power of two (a value padded to exactly 2^k would need a block of 2^(k+1)).
  const length = Math.max(32, 2 ** Math.ceil(Math.log2(bytes.length + BLOCK_ROOM_FOR_KEY)) - BLOCK_ROOM_FOR_KEY);
  if (length === bytes.length) return bytes;
  const padded = new Uint8Array(length);
  padded.set(bytes);
  return padded;
}

export function encodeSegments(segments: readonly SegmentInfo[]): Uint8Array {
  const out = writer.start().u32(segments.length);
  for (const segment of segments) {
    out.f64(segment.segmentId).f64(segment.baseOffset).f64(segment.lastOffset).f64(segment.sizeBytes).f64(segment.recordCount).string(segment.path);
  }
  return paddedToPowerOfTwo(out.finish());
}

export function decodeSegments(bytes: Uint8Array): Readonly<SegmentInfo>[] {
  const input = new ValueReader(bytes);
  const segments = new Array<Readonly<SegmentInfo>>(input.u32());
  for (let index = 0; index < segments.length; index++) {
    segments[index] = Object.freeze({
      segmentId: input.f64(),
      baseOffset: input.f64(),
      lastOffset: input.f64(),
      sizeBytes: input.f64(),
      recordCount: input.f64(),
      path: input.string(),
    });
  }
  return segments;
}

/** A group's offset directory: the (topic, partitions) it has committed offsets for. */
export interface OffsetDirectoryEntry {
  readonly topic: string;
  readonly partitions: readonly number[];
}

/** A directory's partitions of one topic are a bitset (bit p set: partition p has an offset). */
export function encodeOffsetDirectory(entries: readonly OffsetDirectoryEntry[]): Uint8Array {
  const out = writer.start().u32(entries.length);
  for (const { topic, partitions } of entries) {
    let partitionMax = 0;
    for (const partition of partitions) partitionMax = Math.max(partitionMax, partition);
    const bitset = new Uint8Array((partitionMax >> 3) + 1);
    for (const partition of partitions) bitset[partition >> 3] |= 1 << (partition & 7);
    out.string(topic).byteString(bitset);
  }
  return paddedToPowerOfTwo(out.finish());
}

/**
 * True when the encoded directory `bytes` has an entry for the topic whose UTF-8 name is `topic`,
 * compared byte for byte without decoding the directory (what a topic delete asks of every group).
 */
export function offsetDirectoryNames(bytes: Uint8Array, topic: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view.getUint32(0, true);
  let position = 4;
  for (let index = 0; index < count; index++) {
    const nameBytes = view.getUint32(position, true);
    position += 4;
    if (nameBytes === topic.length) {
      let same = true;
      for (let at = 0; at < nameBytes && same; at++) same = bytes[position + at] === topic[at];
      if (same) return true;
    }
    position += nameBytes;
    position += 4 + view.getUint32(position, true);
  }
  return false;
}

export function decodeOffsetDirectory(bytes: Uint8Array): OffsetDirectoryEntry[] {
  const input = new ValueReader(bytes);
  const entries = new Array<OffsetDirectoryEntry>(input.u32());
  for (let index = 0; index < entries.length; index++) {
    const topic = input.string();
    const bitset = input.byteString();
    const partitions: number[] = [];
    for (let byte = 0; byte < bitset.length; byte++) {
      for (let bit = 0; bit < 8; bit++) if ((bitset[byte] & (1 << bit)) !== 0) partitions.push(byte * 8 + bit);
    }
    entries[index] = { topic, partitions };
  }
  return entries;
}

const OFFSET_FIXED_BYTES = 20;
/** Largest committed-offset value: the fixed part and 4,096 characters of metadata as UTF-8. */
export const OFFSET_VALUE_BYTES_MAX = OFFSET_FIXED_BYTES + 3 * 4096;

/**
 * Encodes committed offsets into one reusable buffer (the writer encodes one per committed partition;
 * the index copies the bytes in). A returned value is valid until the next call.
 */
export class OffsetValueEncoder {
  private readonly bytes = new Uint8Array(OFFSET_VALUE_BYTES_MAX);
  private readonly view = new DataView(this.bytes.buffer);
  /** The value's view by its length, made once (most values are the fixed part alone). */
  private readonly views: Uint8Array[] = [];

  private value(length: number): Uint8Array {
    return (this.views[length] ??= this.bytes.subarray(0, length));
  }

  encode(offset: number, leaderEpoch: number, commitTimestamp: number, metadata: string): Uint8Array {
    this.view.setFloat64(0, offset, true);
    this.view.setFloat64(8, commitTimestamp, true);
    this.view.setInt32(16, leaderEpoch, true);
    const metadataBytes = metadata.length === 0 ? 0 : utf8.encodeInto(metadata, this.bytes.subarray(OFFSET_FIXED_BYTES)).written;
    return this.bytes.subarray(0, OFFSET_FIXED_BYTES + metadataBytes);
  }

  /** `encode` with the metadata given as its UTF-8 bytes in `source` (a WAL record being replayed). */
  encodeFromBytes(offset: number, leaderEpoch: number, commitTimestamp: number, source: Uint8Array, metadataStart: number, metadataBytes: number): Uint8Array {
    this.view.setFloat64(0, offset, true);
    this.view.setFloat64(8, commitTimestamp, true);
    this.view.setInt32(16, leaderEpoch, true);
    if (metadataBytes > 0) this.bytes.set(source.subarray(metadataStart, metadataStart + metadataBytes), OFFSET_FIXED_BYTES);
    return this.value(OFFSET_FIXED_BYTES + metadataBytes);
  }
}

/**
 * Decodes committed offsets from a reusable buffer that `SharedIndex.readInto` fills: typed views at
 * fixed, aligned positions, no DataView and no copy. Returns fresh, unfrozen objects (nothing shares
 * them, so a caller's change cannot reach the store).
 */
export class OffsetValueDecoder {
  /** Where `readInto` copies a value. */
  readonly bytes = new Uint8Array(OFFSET_VALUE_BYTES_MAX + 4);
  private readonly floats = new Float64Array(this.bytes.buffer, 0, 2);
  private readonly ints = new Int32Array(this.bytes.buffer, 16, 1);

  /** The offset whose `length` bytes `readInto` just copied into `bytes`. */
  decode(length: number): CommittedOffset {
    return {
      offset: this.floats[0],
      leaderEpoch: this.ints[0],
      metadata: length === OFFSET_FIXED_BYTES ? '' : decodeUtf8(this.bytes, OFFSET_FIXED_BYTES, length),
      commitTimestamp: this.floats[1],
    };
  }
}

/** Decodes one committed offset value (for reads of many at once; point reads use `OffsetValueDecoder`). */
export function decodeCommittedOffset(bytes: Uint8Array): CommittedOffset {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    offset: view.getFloat64(0, true),
    leaderEpoch: view.getInt32(16, true),
    metadata: bytes.length === OFFSET_FIXED_BYTES ? '' : decodeUtf8(bytes, OFFSET_FIXED_BYTES, bytes.length),
    commitTimestamp: view.getFloat64(8, true),
  };
}

export function encodeWatermarks(watermarks: Watermarks): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setFloat64(0, watermarks.highWatermark, true);
  view.setFloat64(8, watermarks.logStartOffset, true);
  return bytes;
}

export function decodeWatermarks(bytes: Uint8Array): Readonly<Watermarks> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { highWatermark: view.getFloat64(0, true), logStartOffset: view.getFloat64(8, true) };
}

const ABSENT_LENGTH = 0xffffffff;

/**
 * Packs values (undefined where absent) into one buffer, [u32 length | bytes] each, length 0xffffffff
 * for absent: how the reader pool sends entities back, in the index's own encoding, so a transfer
 * replaces the structured clone of an object graph and the caller decodes with the decoders above.
 */
export function packValues(values: readonly (Uint8Array | undefined)[]): Uint8Array {
  let total = 0;
  for (const value of values) total += 4 + (value?.length ?? 0);
  const packed = new Uint8Array(total);
  const view = new DataView(packed.buffer);
  let position = 0;
  for (const value of values) {
    view.setUint32(position, value === undefined ? ABSENT_LENGTH : value.length, true);
    position += 4;
    if (value !== undefined) {
      packed.set(value, position);
      position += value.length;
    }
  }
  return packed;
}

/** Decodes every value of `packValues` output with `decode` (null where absent). */
export function unpackValues<T>(packed: Uint8Array, decode: (bytes: Uint8Array) => T): (T | null)[] {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const values: (T | null)[] = [];
  for (let position = 0; position < packed.length;) {
    const length = view.getUint32(position, true);
    position += 4;
    if (length === ABSENT_LENGTH) {
      values.push(null);
      continue;
    }
    values.push(decode(packed.subarray(position, position + length)));
    position += length;
  }
  return values;
}

/** A slot scan (see `SharedIndex.scan`) as parallel arrays, like `SlotScan`. */
interface ScanArrays {
  slots: number[];
  versions: number[];
  values: (Uint8Array | undefined)[];
}

/** Packs a slot scan into one buffer: u32 count, then (u32 slot, i32 version) each, then `packValues`. */
export function packScan(scan: ScanArrays): Uint8Array {
  const values = packValues(scan.values);
  const packed = new Uint8Array(4 + 8 * scan.slots.length + values.length);
  const view = new DataView(packed.buffer);
  view.setUint32(0, scan.slots.length, true);
  for (let index = 0; index < scan.slots.length; index++) {
    view.setUint32(4 + 8 * index, scan.slots[index], true);
    view.setInt32(8 + 8 * index, scan.versions[index], true);
  }
  packed.set(values, 4 + 8 * scan.slots.length);
  return packed;
}

/** The slot scan `packScan` packed (values absent where the scan did not copy them). */
export function unpackScan(packed: Uint8Array): ScanArrays {
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const count = view.getUint32(0, true);
  const slots = new Array<number>(count);
  const versions = new Array<number>(count);
  for (let index = 0; index < count; index++) {
    slots[index] = view.getUint32(4 + 8 * index, true);
    versions[index] = view.getInt32(8 + 8 * index, true);
  }
  const values = unpackValues(packed.subarray(4 + 8 * count), (bytes) => bytes).map((value) => value ?? undefined);
  return { slots, versions, values };
}
