/**
 * The store's shared index: the whole current state, once, in SharedArrayBuffers that every thread of
 * the process reads synchronously.
 *
 * Owns: which tables exist (one `SharedIndex` per entity family, so a scan of one family never walks
 * another's entries and a write touches only the tables it changes), their sizes, the control words
 * (applied offset, next producer id, handle ids), and `StoreIndexReader`, the typed read side used by
 * `MetaLog` handles on any thread and by the reader pool. The writer side is index-writer.ts.
 *
 * Consistency: each read of one entity comes from one published state of its table (the table's
 * seqlock). A group's offsets are read together from one state of the offsets table, checked against
 * the group's offset directory. Reads of different entities are not one snapshot: a read that follows
 * another may see a later batch, never an earlier one (the writer only moves forward).
 *
 * Visibility: the writer applies a batch to every table it touches and stores the applied offset before
 * it acknowledges the batch, so a resolved write is visible to every thread that reads afterwards.
 *
 * Control words (BigInt64 words of `control`): w0 applied offset (-1: empty), w1 next producer id,
 * w2 handle ids handed out (attach takes the next), w3 closed (1 once the writer stopped: the index
 * stays readable but no longer changes); then Int32 word 16: the id epoch, which the writer bumps
 * whenever a group or topic number stops naming its group or topic (see `IdNumbers`); Int32 word 17:
 * the byte length of the cluster id (0: none yet), whose ASCII bytes follow from byte 72:
 *
 * ```
 *  0        8        16       24       32       64           68            72                 136
 *  +--------+--------+--------+--------+--------+------------+-------------+------------------+
 *  | applied| next   |handles | closed | (free) | id epoch   | cluster id  | cluster id bytes |
 *  | offset | pid    |        |        |        | i32        | length i32  | ASCII, <= 64     |
 *  +--------+--------+--------+--------+--------+------------+-------------+------------------+
 * ```
 *
 * The cluster id is written once: its bytes first, then its length with Atomics.store, so a reader
 * whose Atomics.load sees the length also sees the bytes (they never change afterwards).
 */
import { SharedIndex, UNCHANGED, type SharedIndexBuffers, type SharedIndexOptions, type SlotScan } from '../../native-free/shared-index.js';
import type { PartitionState, SegmentInfo, Watermarks } from '../codec/event-schema.js';
import { assert } from '../assert.js';
import { DECODED_CACHE_ENTRIES_DEFAULT } from '../config.js';
import { GROUP_ID_LENGTH_MAX, PARTITIONS_MAX, TOPIC_NAME_LENGTH_MAX } from '../limits.js';
import { isWellFormed } from '../well-formed.js';
import { offsetOnlyGroup, type Broker, type CommittedOffset, type Group, type Topic, type Transaction } from '../state/entities.js';
import { decodeBrokerKey, decodeStringKey, decodeTopicPartitionKey, ID_KIND, KeyEncoder, type IdKind } from './index-keys.js';
import {
  decodeBroker,
  decodeCommittedOffset,
  decodeGroup,
  encodeGroup,
  decodeOffsetDirectory,
  decodeSegments,
  decodeTopic,
  decodeTransaction,
  decodeWatermarks,
  OffsetValueDecoder,
} from './index-values.js';

/** The tables of the index, one per entity family. */
export const FAMILIES = ['topics', 'brokers', 'groups', 'offsets', 'ids', 'offsetDirectories', 'watermarks', 'segments', 'transactions'] as const;
export type Family = (typeof FAMILIES)[number];

const MiB = 1024 * 1024;

/**
 * Sizes of each table. Initial sizes are small (an empty store takes about 1 MiB); the maxima are
 * address space reserved by growable SharedArrayBuffers, not memory: pages are used as tables grow.
 */
export const TABLE_SIZES: Readonly<Record<Family, SharedIndexOptions>> = {
  topics: { slotCountInitial: 256, slotCountMax: 2 ** 21, arenaBytesInitial: 64 * 1024, arenaBytesMax: 1024 * MiB },
  brokers: { slotCountInitial: 16, slotCountMax: 2 ** 16, arenaBytesInitial: 4 * 1024, arenaBytesMax: 64 * MiB },
  groups: { slotCountInitial: 256, slotCountMax: 2 ** 21, arenaBytesInitial: 64 * 1024, arenaBytesMax: 1024 * MiB },
  offsets: { slotCountInitial: 1024, slotCountMax: 2 ** 24, arenaBytesInitial: 64 * 1024, arenaBytesMax: 1024 * MiB },
  ids: { slotCountInitial: 256, slotCountMax: 2 ** 22, arenaBytesInitial: 16 * 1024, arenaBytesMax: 512 * MiB },
  offsetDirectories: { slotCountInitial: 256, slotCountMax: 2 ** 21, arenaBytesInitial: 64 * 1024, arenaBytesMax: 1024 * MiB },
  watermarks: { slotCountInitial: 1024, slotCountMax: 2 ** 23, arenaBytesInitial: 64 * 1024, arenaBytesMax: 512 * MiB },
  segments: { slotCountInitial: 256, slotCountMax: 2 ** 23, arenaBytesInitial: 64 * 1024, arenaBytesMax: 1024 * MiB },
  transactions: { slotCountInitial: 64, slotCountMax: 2 ** 21, arenaBytesInitial: 16 * 1024, arenaBytesMax: 512 * MiB },
};

/** The shared memory of a store's index: post it to another thread and attach there. */
export interface StoreIndexBuffers {
  readonly tables: Readonly<Record<Family, SharedIndexBuffers>>;
  readonly control: SharedArrayBuffer;
}

const WORD_APPLIED_OFFSET = 0;
const WORD_NEXT_PRODUCER_ID = 1;
const WORD_HANDLES = 2;
const WORD_CLOSED = 3;
const CONTROL_WORDS = 8;
/** Int32 word of the id epoch, after the BigInt64 words. */
const WORD_ID_EPOCH = 16;
/** Int32 word of the cluster id's byte length (0: none), and where its bytes start. */
const WORD_CLUSTER_ID_BYTES = 17;
const CLUSTER_ID_POSITION = 72;
/** The longest cluster id, in ASCII bytes (Kafka's are 22). */
export const CLUSTER_ID_BYTES_MAX = 64;
const CONTROL_BYTES = CLUSTER_ID_POSITION + CLUSTER_ID_BYTES_MAX;

/** Allocates an empty index (before the writer thread starts, which opens it as the writer). */
export function allocateStoreIndex(): StoreIndexBuffers {
  const tables = {} as Record<Family, SharedIndexBuffers>;
  for (const family of FAMILIES) tables[family] = SharedIndex.allocate(TABLE_SIZES[family]);
  const control = new SharedArrayBuffer(CONTROL_BYTES);
  Atomics.store(new BigInt64Array(control), WORD_APPLIED_OFFSET, -1n);
  return { tables, control };
}

/**
 * Checks the whole structure of every table (each live key found from its home, counts and arena
 * accounting agree), for tests and verify mode. Only once the writer thread has exited: it opens the
 * tables as their writer, which nothing else may be at the same time.
 * @internal
 */
export function assertStoreIndexInvariants(buffers: StoreIndexBuffers): void {
  for (const family of FAMILIES) SharedIndex.openWriter(buffers.tables[family]).assertInvariants();
}

/** Empties an index whose restore from a snapshot failed halfway (before any thread opens it). */
export function resetStoreIndex(buffers: StoreIndexBuffers): void {
  for (const family of FAMILIES) SharedIndex.resetImage(buffers.tables[family]);
  const control = new IndexControl(buffers.control);
  control.restoreIdEpoch(0);
  control.clearClusterId();
}

/** The control words of an index. @internal */
export class IndexControl {
  private readonly words: BigInt64Array;
  private readonly ints: Int32Array;

  private readonly bytes: Uint8Array;

  constructor(control: SharedArrayBuffer) {
    this.words = new BigInt64Array(control, 0, CONTROL_WORDS);
    this.ints = new Int32Array(control);
    this.bytes = new Uint8Array(control);
  }

  /** The cluster id, or null before ClusterCreated. */
  get clusterId(): string | null {
    const length = Atomics.load(this.ints, WORD_CLUSTER_ID_BYTES);
    if (length === 0) return null;
    return Buffer.from(this.bytes.buffer, CLUSTER_ID_POSITION, length).toString('latin1');
  }

  /** Writer: publishes the cluster id (once; the same id again changes nothing). */
  set clusterId(clusterId: string | null) {
    if (clusterId === null) {
      assert(this.clusterId === null, 'a published cluster id is never taken back');
      return;
    }
    const current = this.clusterId;
    if (current !== null) {
      assert(current === clusterId, 'the cluster id never changes');
      return;
    }
    assert(clusterId.length > 0 && clusterId.length <= CLUSTER_ID_BYTES_MAX && /^[\x21-\x7e]+$/.test(clusterId), 'a cluster id is 1 to 64 printable ASCII characters');
    this.bytes.set(Buffer.from(clusterId, 'latin1'), CLUSTER_ID_POSITION);
    // The bytes are in place before the length that makes them visible.
    Atomics.store(this.ints, WORD_CLUSTER_ID_BYTES, clusterId.length);
  }

  /** Before any thread opens the index: forgets a cluster id (a restore that failed halfway). */
  clearClusterId(): void {
    Atomics.store(this.ints, WORD_CLUSTER_ID_BYTES, 0);
  }

  /** Changes whenever a group or topic number is retired (never reused, so a cached one may be stale). */
  get idEpoch(): number {
    return Atomics.load(this.ints, WORD_ID_EPOCH);
  }

  /** Writer, before any reader: the epoch of an index restored from a snapshot. */
  restoreIdEpoch(epoch: number): void {
    Atomics.store(this.ints, WORD_ID_EPOCH, epoch);
  }

  /** Writer: before a retired number's offsets disappear from the offsets table. */
  bumpIdEpoch(): void {
    Atomics.add(this.ints, WORD_ID_EPOCH, 1);
  }

  get appliedOffset(): number {
    return Number(Atomics.load(this.words, WORD_APPLIED_OFFSET));
  }

  set appliedOffset(offset: number) {
    Atomics.store(this.words, WORD_APPLIED_OFFSET, BigInt(offset));
  }

  get nextProducerId(): number {
    return Number(Atomics.load(this.words, WORD_NEXT_PRODUCER_ID));
  }

  set nextProducerId(id: number) {
    Atomics.store(this.words, WORD_NEXT_PRODUCER_ID, BigInt(id));
  }

  /** True once the writer has stopped (closed or died). */
  get storeClosed(): boolean {
    return Atomics.load(this.words, WORD_CLOSED) !== 0n;
  }

  markStoreClosed(): void {
    Atomics.store(this.words, WORD_CLOSED, 1n);
  }

  /** A handle id no other handle of this store got (the opener has 0). */
  takeHandleId(): number {
    return Number(Atomics.add(this.words, WORD_HANDLES, 1n)) + 1;
  }
}

/**
 * Caches decoded values by index slot and version: a value is handed out again only while its slot
 * still holds the same version, so it is never stale, and a hit costs one array read instead of a map
 * lookup. It saves the decoding, not the read. At most one value per slot of the table is kept, and at
 * most `entriesMax` values in all (the `decodedCacheEntries` option): a decoded topic of 6 partitions
 * takes about 1 KB of heap, so an unbounded cache of a large store would hold the whole state a second
 * time, as objects, in every thread that reads.
 *
 * Once full, a point read that misses takes a place only one time in ADMIT_ONE_IN (pseudo-random), and
 * then evicts at random with a second chance: a hit marks its slot referenced; the eviction looks at the
 * cached slots from a pseudo-random one on, unmarking referenced ones, and evicts the first unmarked one
 * (or the last it looked at, after EVICTION_LOOKS_MAX). Values read often get in and tend to stay, and
 * no access order makes it thrash: reads cycling over twice as many values as fit still hit about half
 * the time, and the values decoded for the misses die young, which V8's young-generation GC collects
 * cheaply. (A clock hand that admitted every miss missed every such read, and promoting every decoded
 * value before evicting it made a read slower than decoding without a cache.) Scans (`all`, `fromScan`) never evict: they hand out cached
 * values of slots the scan skipped, which must stay until the scan is done; what they decode is kept
 * only while there is room.
 */
class DecodedCache<T> {
  /** Version of the value cached for each slot (0: none); grown by doubling, in one allocation. */
  private versions = new Int32Array(64);
  /** 1 where the slot's value was read since the clock hand last passed it. */
  private referenced = new Uint8Array(64);
  private readonly values: (T | undefined)[] = [];
  /** Slots holding a value (versions not 0); at most `entriesMax`. */
  private count = 0;
  /** State of the xorshift32 generator that picks where an eviction starts looking (never 0). */
  private random = 0x9e3779b9;

  constructor(
    private readonly decode: (bytes: Uint8Array) => T,
    private readonly entriesMax: number,
  ) {}

  /** The value under `encodedKey` in `table`, decoded at most once per version while it stays cached. */
  read(table: SharedIndex, encodedKey: Uint8Array): T | undefined {
    const found = table.lookup(encodedKey, this.versions);
    if (found === UNCHANGED) {
      const slot = table.lookupSlot;
      this.referenced[slot] = 1;
      return this.values[slot] as T;
    }
    if (found === undefined) return undefined;
    const value = this.decode(found);
    const slot = table.lookupSlot;
    if (!this.holds(slot) && this.count >= this.entriesMax) {
      // Full: one miss in ADMIT_ONE_IN takes a place (see the class comment); the others stay uncached.
      if (this.nextRandom() % ADMIT_ONE_IN !== 0) return value;
      this.evictOne();
    }
    this.rememberIfRoom(slot, table.lookupVersion, value);
    return value;
  }

  /** The next value of a xorshift32 generator (never 0), as an unsigned integer. */
  private nextRandom(): number {
    this.random ^= this.random << 13;
    this.random ^= this.random >>> 17;
    this.random ^= this.random << 5;
    return this.random >>> 0;
  }

  /** Every value in `table`, from one published state, in slot order; decodes only what changed. */
  all(table: SharedIndex): T[] {
    const all = this.fromScan(table.scan(this.versions), null);
    return all as T[];
  }

  /** The versions this cache holds, by slot: what a scan elsewhere (the reader pool) is told. */
  knownVersions(): Int32Array {
    return this.versions.slice();
  }

  /**
   * The values of a scan made against `known` (a `knownVersions()` copy; null: against this cache
   * itself), decoding what the scan copied. Null if this cache no longer holds a version the scan relied
   * on (it moved on since `known` was taken): the caller reads again.
   */
  fromScan(scan: SlotScan, known: Int32Array | null): T[] | null {
    const { slots, versions, values } = scan;
    const all = new Array<T>(slots.length);
    for (let index = 0; index < slots.length; index++) {
      const bytes = values[index];
      const slot = slots[index];
      if (bytes === undefined) {
        if (known !== null && this.versions[slot] !== known[slot]) return null;
        all[index] = this.values[slot] as T;
        continue;
      }
      const value = this.decode(bytes);
      this.rememberIfRoom(slot, versions[index], value);
      all[index] = value;
    }
    return all;
  }

  private holds(slot: number): boolean {
    return slot < this.versions.length && this.versions[slot] !== 0;
  }

  /** Keeps `value` for `slot`: in place of the slot's older version, or in a free place if the cache has one. */
  private rememberIfRoom(slot: number, version: number, value: T): void {
    const held = this.holds(slot);
    if (!held && this.count >= this.entriesMax) return;
    if (slot >= this.versions.length) {
      // One allocation and copy, not a fill loop: a first read of a large table meets a high slot at once.
      const length = Math.max(slot + 1, this.versions.length * 2);
      const grown = new Int32Array(length);
      grown.set(this.versions);
      this.versions = grown;
      const grownReferenced = new Uint8Array(length);
      grownReferenced.set(this.referenced);
      this.referenced = grownReferenced;
      // Lengthened in place: the elements stay in fast (holey, not dictionary) mode.
      this.values.length = length;
    }
    if (!held) this.count++;
    this.versions[slot] = version;
    this.referenced[slot] = 1;
    // A value is read only where its version matched, so slots without one are never read.
    this.values[slot] = value;
  }

  /** Evicts one value (see the class comment); nothing when the cache is empty. */
  private evictOne(): void {
    if (this.count === 0) return;
    const length = this.versions.length;
    let slot = this.nextRandom() % length;
    let victim = -1;
    let looked = 0;
    // Bounded by the slots: count > 0, so one turn finds a cached slot.
    for (let step = 0; step < length; step++, slot = slot + 1 === length ? 0 : slot + 1) {
      if (this.versions[slot] === 0) continue;
      victim = slot;
      if (this.referenced[slot] === 0 || ++looked >= EVICTION_LOOKS_MAX) break;
      this.referenced[slot] = 0;
    }
    assert(victim >= 0, 'a cache with values has a slot to evict');
    this.versions[victim] = 0;
    this.values[victim] = undefined;
    this.count--;
  }
}

/** Cached values an eviction looks at, at most, for one not read since it was last looked at. */
const EVICTION_LOOKS_MAX = 8;
/** A full cache takes in one miss of this many (see DecodedCache). */
const ADMIT_ONE_IN = 16;

/**
 * A reader's cache of group and topic numbers (the names committed offsets are keyed by). The writer
 * never reuses a number; when one is retired (its group or topic lost its last offset, or the topic was
 * deleted) it bumps the id epoch first, so a cache that still has the epoch it was filled under is
 * valid, and a read that saw the epoch unchanged from before to after it used no stale number. Names
 * without a number are not cached (a new number does not bump the epoch).
 */
class IdNumbers {
  private readonly groups = new Map<string, number>();
  private readonly topics = new Map<string, number>();
  private epoch = -1;
  private readonly scratch = new Uint8Array(8);
  private readonly scratchWords = new Uint32Array(this.scratch.buffer, 0, 1);

  constructor(
    private readonly ids: SharedIndex,
    private readonly control: IndexControl,
    private readonly keys: KeyEncoder,
  ) {}

  /** The current id epoch, after dropping every cached number if it moved. */
  begin(): number {
    const epoch = this.control.idEpoch;
    if (epoch !== this.epoch) {
      this.groups.clear();
      this.topics.clear();
      this.epoch = epoch;
    }
    return epoch;
  }

  /** True when the epoch is still `epoch` (the numbers used since `begin` were valid throughout). */
  stillValid(epoch: number): boolean {
    return this.control.idEpoch === epoch;
  }

  group(groupId: string): number {
    return this.numberOf(this.groups, ID_KIND.GROUP, groupId);
  }

  topic(name: string): number {
    return this.numberOf(this.topics, ID_KIND.TOPIC, name);
  }

  /** The number of `name`, or -1 when it has none (no offsets). */
  private numberOf(cache: Map<string, number>, kind: IdKind, name: string): number {
    const cached = cache.get(name);
    if (cached !== undefined) return cached;
    const length = this.ids.readInto(this.keys.id(kind, name), this.scratch);
    if (length !== 4) return -1;
    const number = this.scratchWords[0];
    cache.set(name, number);
    return number;
  }
}

/** Attempts of a read whose group or topic numbers were retired while it ran, before it gives up. */
const ID_EPOCH_ATTEMPTS_MAX = 1000;

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A committed offset with its topic and partition, as `fetchOffsets` lists them. */
export type ListedOffset = CommittedOffset & { topic: string; partition: number };

/** Attempts of `fetchOffsets` before it gives up on a group whose directory keeps changing. */
const DIRECTORY_READ_ATTEMPTS_MAX = 1000;

/**
 * Typed, synchronous reads of a store's index from any thread. Never writes. Entities (topics, groups,
 * brokers, transactions, segments) come frozen and may be shared between calls (decoded once per
 * version); committed offsets and watermarks come as fresh objects for each call.
 */
export class StoreIndexReader {
  readonly buffers: StoreIndexBuffers;
  readonly control: IndexControl;
  private readonly tables: Record<Family, SharedIndex>;
  private readonly keys = new KeyEncoder();
  private readonly offsetDecoder = new OffsetValueDecoder();
  private readonly numbers: IdNumbers;
  private readonly topicCache: DecodedCache<Topic>;
  private readonly groupCache: DecodedCache<Group>;
  private readonly brokerCache: DecodedCache<Broker>;
  private readonly transactionCache: DecodedCache<Transaction>;
  private knownClusterId: string | null = null;

  /**
   * @param decodedCacheEntries decoded topics, groups, brokers and transactions kept, at most, of each
   *   kind (the `decodedCacheEntries` option; see DecodedCache).
   */
  constructor(buffers: StoreIndexBuffers, decodedCacheEntries: number = DECODED_CACHE_ENTRIES_DEFAULT) {
    assert(Number.isInteger(decodedCacheEntries) && decodedCacheEntries >= 0, 'decodedCacheEntries is a count');
    this.topicCache = new DecodedCache(decodeTopic, decodedCacheEntries);
    this.groupCache = new DecodedCache(decodeGroup, decodedCacheEntries);
    this.brokerCache = new DecodedCache(decodeBroker, decodedCacheEntries);
    this.transactionCache = new DecodedCache(decodeTransaction, decodedCacheEntries);
    this.buffers = buffers;
    this.control = new IndexControl(buffers.control);
    const tables = {} as Record<Family, SharedIndex>;
    for (const family of FAMILIES) tables[family] = SharedIndex.attach(buffers.tables[family]);
    this.tables = tables;
    this.numbers = new IdNumbers(tables.ids, this.control, this.keys);
  }

  /** Offset of the last event the index shows (-1: none). */
  get appliedOffset(): number {
    return this.control.appliedOffset;
  }

  /** The first producer id never handed out. */
  get nextProducerId(): number {
    return this.control.nextProducerId;
  }

  /** The cluster's id (ClusterCreated), or null before one was written. Never changes once set. */
  get clusterId(): string | null {
    this.knownClusterId ??= this.control.clusterId;
    return this.knownClusterId;
  }

  getTopic(name: string): Topic | undefined {
    if (!isTopicName(name)) return undefined;
    return this.topicCache.read(this.tables.topics, this.keys.topic(name));
  }

  getPartition(name: string, partition: number): Readonly<PartitionState> | undefined {
    if (!Number.isInteger(partition) || partition < 0) return undefined;
    return this.getTopic(name)?.partitions[partition];
  }

  getBroker(brokerId: number): Broker | undefined {
    if (!Number.isInteger(brokerId) || brokerId < 0 || brokerId > 0x7fffffff) return undefined;
    return this.brokerCache.read(this.tables.brokers, this.keys.broker(brokerId));
  }

  /** A stored group, or a group that only has committed offsets (see `offsetOnlyGroup`), or undefined. */
  getGroup(groupId: string): Group | undefined {
    if (!isGroupId(groupId)) return undefined;
    const key = this.keys.group(groupId);
    return this.groupCache.read(this.tables.groups, key) ?? (this.tables.offsetDirectories.version(key) === 0 ? undefined : offsetOnlyGroup(groupId));
  }

  getTransaction(transactionalId: string): Transaction | undefined {
    if (!isGroupId(transactionalId)) return undefined;
    return this.transactionCache.read(this.tables.transactions, this.keys.transaction(transactionalId));
  }

  fetchOffset(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    if (!isGroupId(groupId) || !isTopicPartition(topic, partition)) return undefined;
    const numbers = this.numbers;
    const decoder = this.offsetDecoder;
    // Bounded: each retry means a group or topic number was retired during the read.
    for (let attempt = 0; attempt < ID_EPOCH_ATTEMPTS_MAX; attempt++) {
      const epoch = numbers.begin();
      const groupNumber = numbers.group(groupId);
      const topicNumber = groupNumber < 0 ? -1 : numbers.topic(topic);
      const length = topicNumber < 0 ? -1 : this.tables.offsets.readInto(this.keys.offset(groupNumber, topicNumber, partition), decoder.bytes);
      if (!numbers.stillValid(epoch)) continue;
      return length < 0 ? undefined : decoder.decode(length);
    }
    throw new Error(`fetchOffset: ids kept being retired for ${ID_EPOCH_ATTEMPTS_MAX} attempts`);
  }

  getWatermarks(topic: string, partition: number): Readonly<Watermarks> | undefined {
    if (!isTopicPartition(topic, partition)) return undefined;
    const bytes = this.tables.watermarks.get(this.keys.topicPartition(topic, partition));
    return bytes === undefined ? undefined : decodeWatermarks(bytes);
  }

  /** The segments of a partition, in base offset order. */
  listSegments(topic: string, partition: number): Readonly<SegmentInfo>[] {
    if (!isTopicPartition(topic, partition)) return [];
    const bytes = this.tables.segments.get(this.keys.topicPartition(topic, partition));
    return bytes === undefined ? [] : decodeSegments(bytes);
  }

  /** Every committed offset of a group, in topic then partition order, from one state of the index. */
  fetchOffsets(groupId: string): ListedOffset[] {
    if (!isGroupId(groupId)) return [];
    const groupKey = this.keys.group(groupId).slice();
    const directories = this.tables.offsetDirectories;
    // Bounded: each retry means the writer changed this group's directory during the read.
    for (let attempt = 0; attempt < DIRECTORY_READ_ATTEMPTS_MAX; attempt++) {
      const version = directories.version(groupKey);
      if (version === 0) return [];
      const directoryBytes = directories.get(groupKey);
      if (directoryBytes === undefined) continue;
      const directory = decodeOffsetDirectory(directoryBytes).sort((a, b) => byString(a.topic, b.topic));
      const epoch = this.numbers.begin();
      const groupNumber = this.numbers.group(groupId);
      const keys: Uint8Array[] = [];
      const listed: { topic: string; partition: number }[] = [];
      for (const { topic, partitions } of directory) {
        const topicNumber = this.numbers.topic(topic);
        if (groupNumber < 0 || topicNumber < 0) continue;
        for (const partition of [...partitions].sort((a, b) => a - b)) {
          keys.push(this.keys.offset(groupNumber, topicNumber, partition).slice());
          listed.push({ topic, partition });
        }
      }
      const values = this.tables.offsets.getMany(keys);
      if (directories.version(groupKey) !== version || !this.numbers.stillValid(epoch)) continue;
      const offsets: ListedOffset[] = [];
      for (let index = 0; index < listed.length; index++) {
        const bytes = values[index];
        if (bytes !== undefined) offsets.push({ ...listed[index], ...decodeCommittedOffset(bytes) });
      }
      return offsets;
    }
    throw new Error(`fetchOffsets(${groupId}): the group's offsets kept changing for ${DIRECTORY_READ_ATTEMPTS_MAX} attempts`);
  }

  /** Every topic, in name order. */
  listTopics(): Topic[] {
    return this.topicCache.all(this.tables.topics).sort((a, b) => byString(a.name, b.name));
  }

  /**
   * Pool side of `listTopics`: one consistent scan of the topic table that copies only the values whose
   * version differs from `known` (the caller's `knownTopicVersions()`).
   */
  scanTopicTable(known: Int32Array): SlotScan {
    return this.tables.topics.scan(known);
  }

  /** The topic versions this reader has decoded, by slot, for a `scanTopicTable` elsewhere. */
  knownTopicVersions(): Int32Array {
    return this.topicCache.knownVersions();
  }

  /**
   * Caller side of the pool's `listTopics`: every topic of `scan` (made against `known`), in name
   * order, reusing the decoded topics it did not copy; a fresh synchronous list if this reader's cache
   * moved on in between.
   */
  topicsFromScan(scan: SlotScan, known: Int32Array): Topic[] {
    const topics = this.topicCache.fromScan(scan, known) ?? this.topicCache.all(this.tables.topics);
    return topics.sort((a, b) => byString(a.name, b.name));
  }

  /** Names of every topic, in order; without decoding the topics. */
  listTopicNames(): string[] {
    const names: string[] = [];
    this.tables.topics.forEachEntry((key) => names.push(decodeStringKey(key)));
    return names.sort(byString);
  }

  /** Every registered broker, in id order. */
  listBrokers(): Broker[] {
    return this.brokerCache.all(this.tables.brokers).sort((a, b) => a.brokerId - b.brokerId);
  }

  /** Ids of every registered broker, in order. */
  listBrokerIds(): number[] {
    const ids: number[] = [];
    this.tables.brokers.forEachEntry((key) => ids.push(decodeBrokerKey(key)));
    return ids.sort((a, b) => a - b);
  }

  /** Every stored group and every group that only has committed offsets, in id order. */
  listGroups(): Group[] {
    const stored = this.groupCache.all(this.tables.groups);
    return [...stored, ...this.offsetOnlyGroupIds(stored).map(offsetOnlyGroup)].sort((a, b) => byString(a.groupId, b.groupId));
  }

  /** Ids of the groups with committed offsets but no record among `stored`. */
  private offsetOnlyGroupIds(stored: readonly { groupId: string }[]): string[] {
    const known = new Set(stored.map((group) => group.groupId));
    const ids: string[] = [];
    this.tables.offsetDirectories.forEachEntry((key) => {
      const groupId = decodeStringKey(key);
      if (!known.has(groupId)) ids.push(groupId);
    });
    return ids;
  }

  /** Ids of every group that has a record or committed offsets, in order. */
  listGroupIds(): string[] {
    const ids = new Set<string>();
    this.tables.groups.forEachEntry((key) => ids.add(decodeStringKey(key)));
    this.tables.offsetDirectories.forEachEntry((key) => ids.add(decodeStringKey(key)));
    return [...ids].sort(byString);
  }

  /** Every transaction, in transactional id order. */
  listTransactions(): Transaction[] {
    return this.transactionCache.all(this.tables.transactions).sort((a, b) => byString(a.transactionalId, b.transactionalId));
  }

  /**
   * The stored encodings of topics (undefined where there is none), each read consistently: what the
   * reader pool sends back (see `packValues`).
   */
  rawTopics(names: readonly string[]): (Uint8Array | undefined)[] {
    return names.map((name) => (isTopicName(name) ? this.tables.topics.get(this.keys.topic(name)) : undefined));
  }

  /** The stored encodings of groups (undefined where there is none; an offset-only group's own encoding). */
  rawGroups(groupIds: readonly string[]): (Uint8Array | undefined)[] {
    return groupIds.map((groupId) => {
      if (!isGroupId(groupId)) return undefined;
      const key = this.keys.group(groupId);
      return this.tables.groups.get(key) ?? (this.tables.offsetDirectories.version(key) === 0 ? undefined : encodeGroup(offsetOnlyGroup(groupId)));
    });
  }

  /** The stored encodings of committed offsets (undefined where there is none). */
  rawOffsets(keys: readonly { groupId: string; topic: string; partition: number }[]): (Uint8Array | undefined)[] {
    // Bounded: each retry means a group or topic number was retired during the reads.
    for (let attempt = 0; attempt < ID_EPOCH_ATTEMPTS_MAX; attempt++) {
      const epoch = this.numbers.begin();
      const values = keys.map(({ groupId, topic, partition }) => {
        if (!isGroupId(groupId) || !isTopicPartition(topic, partition)) return undefined;
        const groupNumber = this.numbers.group(groupId);
        const topicNumber = groupNumber < 0 ? -1 : this.numbers.topic(topic);
        return topicNumber < 0 ? undefined : this.tables.offsets.get(this.keys.offset(groupNumber, topicNumber, partition));
      });
      if (this.numbers.stillValid(epoch)) return values;
    }
    throw new Error(`fetchOffsetBatch: ids kept being retired for ${ID_EPOCH_ATTEMPTS_MAX} attempts`);
  }

  /** Every group's encoding (stored, or of an offset-only group), in id order. */
  rawGroupList(): Uint8Array[] {
    const entries: { key: string; value: Uint8Array }[] = [];
    this.tables.groups.forEachEntry((key, value) => entries.push({ key: decodeStringKey(key), value }));
    for (const groupId of this.offsetOnlyGroupIds(entries.map((entry) => ({ groupId: entry.key })))) entries.push({ key: groupId, value: encodeGroup(offsetOnlyGroup(groupId)) });
    return entries.sort((a, b) => byString(a.key, b.key)).map((entry) => entry.value);
  }

  /** Every partition's watermarks, in topic then partition order. */
  listWatermarks(): { topic: string; partition: number; watermarks: Readonly<Watermarks> }[] {
    const all: { topic: string; partition: number; watermarks: Readonly<Watermarks> }[] = [];
    this.tables.watermarks.forEachEntry((key, value) => all.push({ ...decodeTopicPartitionKey(key), watermarks: decodeWatermarks(value) }));
    return all.sort((a, b) => byString(a.topic, b.topic) || a.partition - b.partition);
  }

  /** Every partition's segments, in topic then partition order. */
  listAllSegments(): { topic: string; partition: number; segments: Readonly<SegmentInfo>[] }[] {
    const all: { topic: string; partition: number; segments: Readonly<SegmentInfo>[] }[] = [];
    this.tables.segments.forEachEntry((key, value) => all.push({ ...decodeTopicPartitionKey(key), segments: decodeSegments(value) }));
    return all.sort((a, b) => byString(a.topic, b.topic) || a.partition - b.partition);
  }

  /** Entry counts and bytes of every table. */
  stats(): Record<Family, ReturnType<SharedIndex['stats']> & { slotBytes: number }> {
    const all = {} as Record<Family, ReturnType<SharedIndex['stats']> & { slotBytes: number }>;
    for (const family of FAMILIES) {
      const buffers = this.buffers.tables[family];
      all[family] = { ...this.tables[family].stats(), slotBytes: buffers.slots.byteLength };
    }
    return all;
  }
}

/*
 * Keys a write could have stored. Any other key reads as absent without touching a table: its UTF-8
 * bytes would not fit a key, or (not well-formed) would be the bytes of another key, since the encoder
 * turns a lone surrogate into U+FFFD: `getGroup('x\uDBFF')` must not find group `'x\uFFFD'`.
 */

/** A group id or transactional id the store could hold. */
function isGroupId(groupId: unknown): groupId is string {
  return typeof groupId === 'string' && groupId.length <= GROUP_ID_LENGTH_MAX && isWellFormed(groupId);
}

/** A topic name the store could hold. */
function isTopicName(name: unknown): name is string {
  return typeof name === 'string' && name.length <= TOPIC_NAME_LENGTH_MAX && isWellFormed(name);
}

/** A topic name and partition the store could hold (keys have room for exactly those). */
function isTopicPartition(topic: unknown, partition: unknown): boolean {
  return isTopicName(topic) && Number.isInteger(partition) && (partition as number) >= 0 && (partition as number) < PARTITIONS_MAX;
}
