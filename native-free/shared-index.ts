/**
 * Shared index: a hash map from byte-string keys to byte-string values in SharedArrayBuffers, changed by
 * one writer thread and read synchronously, and consistently, by any thread.
 *
 * Owns: the control words and the two slot tables below, key hashing, linear probing with
 * backward-shift deletion, slot-table growth, and per-key versions. Keys and values live in a
 * `ByteArena` (byte-arena.ts: blocks, free lists, reclamation policy); consistency comes from a
 * `SequenceLock` (seqlock.ts: the section protocol, the memory-order argument, the retry bounds).
 *
 * Called by: the writer thread through the handle `create` (or `openWriter`) returns (`beginWrite`,
 * `set`, `delete`, `endWrite`; every change happens inside a write section); any thread through a
 * handle `attach` makes from `buffers` (`get`, `lookup`, `readInto`, `getMany`, `version`, `scan`,
 * `forEachEntry`, `stats`). An attached handle never writes. Growth needs no message: every handle
 * reads the slot count from the control words, and remakes its views when a buffer's length changed.
 *
 * Invariants (in every published state, i.e. whenever the sequence word is even):
 * - slotCount is a power of two in [slotCountInitial, slotCountMax]; entryCount <= 3/4 * slotCount, so a
 *   probe always meets an empty slot.
 * - A slot is empty (all four words 0) or live (version > 0). Each live key sits in the first slot from
 *   its home (hash & (slotCount - 1)) that holds it, with no empty slot between home and there: deletion
 *   shifts later entries back instead of leaving tombstones.
 * - Each live slot owns one arena block of blockBytes(2 + keyBytes + valueBytes): the key's length (u16),
 *   its bytes, then the value's bytes.
 * - A version is never reused by a key while the counter (int31, wrapping to 1) has not gone round, so a
 *   reader may cache a decoded value under (key, version).
 *
 * Growth: at 3/4 load the writer doubles the slot table in place, inside the write section: it copies
 * the live slots aside, grows the buffer to twice the slots, zeroes it, stores the new slotCount and
 * inserts the saved slots again. Readers retry while the section is open (as for any section), and an
 * attempt that overlapped it may have walked a half-rebuilt table, which is why every attempt is
 * bounded and checked (below) and its result discarded by the sequence re-check. One table, not two
 * alternating ones: slot memory is exactly 16 bytes per slot, and the slot table is 3/8 to 3/4 full.
 *
 * Reads during a write section may see any bytes. Every read attempt therefore checks what it uses
 * before it uses it (slotCount a power of two within the table's current length,
 * blocks inside the arena's current length, lengths non-negative), bounds every loop by slotCount, and
 * returns `torn` instead of throwing: the sequence lock retries it.
 *
 * Must never: hand a reader a value from a half-published section; throw on a garbage read; let an
 * attached handle write; leave the index changed when `set` throws `RangeError` (it checks capacity
 * before it changes anything, apart from a harmless slot-table growth).
 *
 * Memory layout:
 *
 *   buffers.control (512 bytes, fixed; w<n> is Int32 word n)
 *   +- line 0 ------------------------------------------------------------------------------------+
 *   | w0 magic 'SIDX' | w1 layoutVersion | w2 slotCountInitial | w3 slotCountMax                    |
 *   +- line 1 ------------------------------------------------------------------------------------+
 *   | w16 sequence (odd while writing) | w17 readersWaiting               (seqlock.ts)             |
 *   +- line 2 ------------------------------------------------------------------------------------+
 *   | w32 (unused)                             | w33 slotCount | w34 entryCount | w35 versionLast  |
 *   +- line 3 ------------------------------------------------------------------------------------+
 *   | w48 arena topBytes | w49 bytesLive | w50 bytesFree | w51..w77 free-list heads (byte-arena.ts) |
 *   +---------------------------------------------------------------------------------------------+
 *
 *   buffers.slots (growable, up to slotCountMax * 16 bytes, always slotCount * 16): slot i at word 4 * i
 *   +-------------+-------------+-------------------+---------------+
 *   | w0 version  | w1 hash     | w2 blockOffset    | w3 valueBytes |   0 0 0 0 = empty
 *   +-------------+-------------+-------------------+---------------+
 *
 *   buffers.arena (growable, up to arenaBytesMax): at blockOffset
 *   +------------------+--------------------+-------------------------------------+
 *   | keyBytes (u16 LE) | key | value (valueBytes) | unused to the block's size class |
 *   +------------------+--------------------+-------------------------------------+
 */
import { assert } from './assert.js';
import {
  ARENA_BYTES_MAX,
  ARENA_CONTROL_WORDS,
  ByteArena,
  asGrowable,
  blockBytesFor,
  createGrowableBuffer,
  readArenaUsage,
  type GrowableSharedArrayBuffer,
} from './byte-arena.js';
import { SequenceLock, torn, type Torn } from './seqlock.js';

const MAGIC = 0x53494458; // 'SIDX'
const LAYOUT_VERSION = 2;

const WORD_MAGIC = 0;
const WORD_LAYOUT_VERSION = 1;
const WORD_SLOT_COUNT_INITIAL = 2;
const WORD_SLOT_COUNT_MAX = 3;
const WORD_SEQUENCE = 16;
const WORD_READERS_WAITING = 17;
const WORD_SLOT_COUNT = 33;
const WORD_ENTRY_COUNT = 34;
const WORD_VERSION_LAST = 35;
const WORD_ARENA_BASE = 48;
const CONTROL_WORDS = 128;

const SLOT_WORDS = 4;
const SLOT_BYTES = SLOT_WORDS * 4;
const SLOT_VERSION = 0;
const SLOT_HASH = 1;
const SLOT_BLOCK_OFFSET = 2;
const SLOT_VALUE_BYTES = 3;
/** Bytes before a block's key: its length, u16 little-endian (so a slot needs no key-length word). */
const KEY_PREFIX_BYTES = 2;
/** Longest key. */
const KEY_BYTES_MAX = 0xffff;

/** Fewest slots: a table of 4 holds 3 entries. */
const slotCountMin = 4;
/** Most slots: 16 Mi slots are 256 MiB, and 12 Mi entries is far beyond metadata sizes. */
const slotCountLimit = 2 ** 24;
const versionMax = 0x7fffffff;
/** What a probe returns for a key that is not there. */
const ABSENT = -1;
const NO_KEY = new Uint8Array(0);
const NO_VERSIONS: ArrayLike<number> = [];

/** What `lookup` returns when the key's version is the one the caller already knows. */
export const UNCHANGED: unique symbol = Symbol('unchanged');

assert(WORD_ARENA_BASE + ARENA_CONTROL_WORDS <= CONTROL_WORDS, 'the arena words fit the control words');

/**
 * The shared memory of one index: post it to another thread and `SharedIndex.attach` it there.
 */
export interface SharedIndexBuffers {
  /** Control words: layout, sequence lock, slot count, counts, arena accounting. */
  readonly control: SharedArrayBuffer;
  /** The slot table (growable). */
  readonly slots: SharedArrayBuffer;
  /** Keys and values (growable). */
  readonly arena: SharedArrayBuffer;
}

/** Sizes of a new index. Slot counts are powers of two; byte sizes are multiples of 16. */
export interface SharedIndexOptions {
  /** Slots at creation, from 4. The table doubles whenever it would pass 3/4 full. */
  readonly slotCountInitial: number;
  /** Most slots, up to 2^24: the index holds at most 3/4 of this many entries. */
  readonly slotCountMax: number;
  /** Arena bytes at creation (may be 0). The arena doubles, or grows to fit, when a block does not fit. */
  readonly arenaBytesInitial: number;
  /** Most arena bytes, up to 1 GiB. */
  readonly arenaBytesMax: number;
}

/** What `scan` returns: parallel arrays, one element per live entry, in slot order. */
export interface SlotScan {
  slots: number[];
  versions: number[];
  /** A copy of the value, or undefined where the caller said it holds that version. */
  values: (Uint8Array | undefined)[];
}

/** Occupancy of an index, read consistently. */
export interface SharedIndexStats {
  /** Live keys. */
  readonly entries: number;
  /** Slots in the table. */
  readonly slotCount: number;
  /** Current length of the arena buffer. */
  readonly arenaBytes: number;
  /** Bytes in blocks that hold live entries (payloads rounded up to powers of two). */
  readonly arenaBytesLive: number;
  /** Bytes in freed blocks waiting on free lists for reuse. */
  readonly arenaBytesFree: number;
}

/**
 * Hash of a key's bytes: MurmurHash3 (x86, 32-bit, seed 0) over little-endian 32-bit words, the last
 * 0-3 bytes as a tail, and its final mix. Words, not bytes: a 10-byte offset key takes three rounds.
 * (A word-wise FNV-1a was tried first and is not enough: its multiply moves a word's high byte only
 * into the high byte, so keys that differ in high bytes, such as big-endian small numbers, collide.)
 * Returned as an int32, as the slot stores it.
 * @internal
 */
export function hashKey(key: Uint8Array): number {
  let hash = 0;
  const wordsEnd = key.length & ~3;
  let index = 0;
  for (; index < wordsEnd; index += 4) {
    let word = key[index] | (key[index + 1] << 8) | (key[index + 2] << 16) | (key[index + 3] << 24);
    word = Math.imul(word, 0xcc9e2d51);
    word = (word << 15) | (word >>> 17);
    hash ^= Math.imul(word, 0x1b873593);
    hash = (hash << 13) | (hash >>> 19);
    hash = (Math.imul(hash, 5) + 0xe6546b64) | 0;
  }
  const rest = key.length & 3;
  if (rest > 0) {
    let tail = key[index];
    if (rest > 1) tail |= key[index + 1] << 8;
    if (rest > 2) tail |= key[index + 2] << 16;
    tail = Math.imul(tail, 0xcc9e2d51);
    tail = (tail << 15) | (tail >>> 17);
    hash ^= Math.imul(tail, 0x1b873593);
  }
  hash ^= key.length;
  hash = Math.imul(hash ^ (hash >>> 16), 0x85ebca6b);
  hash = Math.imul(hash ^ (hash >>> 13), 0xc2b2ae35);
  return (hash ^ (hash >>> 16)) | 0;
}

/** The key length stored at the start of the block at `offset` (u16 little-endian). */
function keyBytesAt(arenaBytes: Uint8Array, offset: number): number {
  return arenaBytes[offset] | (arenaBytes[offset + 1] << 8);
}

/** A fixed-length Int32 view of a growable buffer's current length. */
function fixedWords(buffer: GrowableSharedArrayBuffer): Int32Array {
  return new Int32Array(buffer, 0, buffer.byteLength >> 2);
}

/** A fixed-length byte view of a growable buffer's current length. */
function fixedBytes(buffer: GrowableSharedArrayBuffer): Uint8Array {
  return new Uint8Array(buffer, 0, buffer.byteLength);
}

/** `isPowerOfTwo` for a value read from an Int32 word (always an integer): the reader's hot check. */
function isSlotCount(count: number): boolean {
  return count > 0 && (count & (count - 1)) === 0;
}

function isPowerOfTwo(count: number): boolean {
  return Number.isInteger(count) && count > 0 && (count & (count - 1)) === 0;
}

function assertOptions(options: SharedIndexOptions): void {
  const { slotCountInitial, slotCountMax, arenaBytesInitial, arenaBytesMax } = options;
  assert(isPowerOfTwo(slotCountInitial), 'slotCountInitial is a power of two');
  assert(slotCountInitial >= slotCountMin, `slotCountInitial is at least ${slotCountMin}`);
  assert(isPowerOfTwo(slotCountMax), 'slotCountMax is a power of two');
  assert(slotCountMax >= slotCountInitial, 'slotCountMax is at least slotCountInitial');
  assert(slotCountMax <= slotCountLimit, `slotCountMax is at most ${slotCountLimit}`);
  assert(Number.isInteger(arenaBytesInitial) && arenaBytesInitial >= 0, 'arenaBytesInitial is an integer >= 0');
  assert(arenaBytesInitial % 16 === 0, 'arenaBytesInitial is a multiple of 16');
  assert(Number.isInteger(arenaBytesMax) && arenaBytesMax % 16 === 0, 'arenaBytesMax is a multiple of 16');
  assert(arenaBytesMax >= arenaBytesInitial, 'arenaBytesMax is at least arenaBytesInitial');
  assert(arenaBytesMax <= ARENA_BYTES_MAX, `arenaBytesMax is at most ${ARENA_BYTES_MAX}`);
}

/** Largest entry count a table of `slotCount` slots may hold: 3/4 of it. */
function entryCountMaxFor(slotCount: number): number {
  return slotCount - (slotCount >> 2);
}

/**
 * A hash index in shared memory with one writer and lock-free, consistent readers on any thread.
 *
 * Write sections: the writer brackets changes with `beginWrite` / `endWrite`; readers see all of a
 * section or none of it. A reader that meets an open section retries, briefly sleeping after a few
 * spins, so keep sections short (the store applies one batch per section). The writer's thread reads
 * through the writer's handle: an attached handle there would wait for the writer's own open section.
 */
export class SharedIndex {
  /** The shared memory; post it to another thread and `attach` there. */
  readonly buffers: SharedIndexBuffers;

  private readonly control: Int32Array;
  private readonly slotBuffer: GrowableSharedArrayBuffer;
  private readonly arenaBuffer: GrowableSharedArrayBuffer;
  /**
   * Fixed-length views of the slot table and of the arena, remade when their buffer has grown
   * (`tableView`, `arenaView`). Not length-tracking views: on Node 20 an element access through a
   * length-tracking view of a growable buffer is about 8 times slower than through a fixed-length one.
   */
  private slotWords: Int32Array;
  private arenaBytes: Uint8Array;
  private readonly lock: SequenceLock;
  /** The allocator: only on the writer's handle. */
  private readonly arena: ByteArena | undefined;
  private writeSectionOpen = false;

  /** The version `lookup` found last (0: absent). */
  lookupVersion = 0;
  /** The slot where `lookup` found its key last (-1: absent). */
  lookupSlot = -1;
  /** Arguments of the lookup in progress: fields, so a lookup allocates no closure. */
  private lookupKey: Uint8Array = NO_KEY;
  private lookupHash = 0;
  private lookupKnown: ArrayLike<number> = NO_VERSIONS;

  private readonly lookupAttempt = (): Uint8Array | undefined | typeof UNCHANGED | Torn => {
    const table = this.slotTable();
    if (table === torn) return torn;
    const found = this.probe(table, this.lookupKey, this.lookupHash);
    if (found === torn) return torn;
    if (found === ABSENT) {
      this.lookupVersion = 0;
      this.lookupSlot = -1;
      return undefined;
    }
    const version = table[found + SLOT_VERSION];
    const slot = found / SLOT_WORDS;
    this.lookupVersion = version;
    this.lookupSlot = slot;
    if (version === this.lookupKnown[slot]) return UNCHANGED;
    return this.copyValueAt(table, found, this.lookupKey.length);
  };

  private readTarget: Uint8Array = NO_KEY;

  private readonly readIntoAttempt = (): number | Torn => {
    const table = this.slotTable();
    if (table === torn) return torn;
    const key = this.lookupKey;
    const found = this.probe(table, key, this.lookupHash);
    if (found === torn) return torn;
    if (found === ABSENT) return -1;
    const start = table[found + SLOT_BLOCK_OFFSET] + KEY_PREFIX_BYTES + key.length;
    const length = table[found + SLOT_VALUE_BYTES];
    const arenaBytes = this.arenaBytesTo(start + length);
    if (!(start >= 0 && length >= 0 && start + length <= arenaBytes.length)) return torn;
    const target = this.readTarget;
    if (length > target.length) return length;
    // A short loop beats set(subarray) for the few bytes of a hot value (no view allocated).
    if (length <= 64) for (let index = 0; index < length; index++) target[index] = arenaBytes[start + index];
    else target.set(arenaBytes.subarray(start, start + length));
    return length;
  };

  private constructor(buffers: SharedIndexBuffers, writer: boolean) {
    const control = new Int32Array(buffers.control);
    assert(control.length === CONTROL_WORDS, 'the control buffer has the index control words');
    assert(Atomics.load(control, WORD_MAGIC) === MAGIC, 'the buffers hold a shared index');
    assert(Atomics.load(control, WORD_LAYOUT_VERSION) === LAYOUT_VERSION, 'the layout version is known');
    const slotCountMax = Atomics.load(control, WORD_SLOT_COUNT_MAX);
    const slotBuffer = asGrowable(buffers.slots);
    assert(slotBuffer.maxByteLength === slotCountMax * SLOT_BYTES, 'the slot table can grow to slotCountMax slots');
    this.buffers = buffers;
    this.slotBuffer = slotBuffer;
    this.control = control;
    this.slotWords = fixedWords(slotBuffer);
    this.arenaBuffer = asGrowable(buffers.arena);
    this.arenaBytes = fixedBytes(this.arenaBuffer);
    this.lock = new SequenceLock(control, WORD_SEQUENCE, WORD_READERS_WAITING);
    this.arena = writer ? new ByteArena(asGrowable(buffers.arena), control, WORD_ARENA_BASE) : undefined;
  }

  /**
   * Allocates an empty index; the returned handle is the writer's.
   * @throws RingAssertionError when an option is out of range (see `SharedIndexOptions`).
   */
  static create(options: SharedIndexOptions): SharedIndex {
    return SharedIndex.openWriter(SharedIndex.allocate(options));
  }

  /**
   * Allocates and initialises the shared memory of an empty index, for a writer thread to open with
   * `openWriter` (so the buffers can be made before that thread starts).
   * @throws RingAssertionError when an option is out of range (see `SharedIndexOptions`).
   */
  static allocate(options: SharedIndexOptions): SharedIndexBuffers {
    assertOptions(options);
    const slotTableBytesMax = options.slotCountMax * SLOT_BYTES;
    const buffers: SharedIndexBuffers = {
      control: new SharedArrayBuffer(CONTROL_WORDS * 4),
      slots: createGrowableBuffer(options.slotCountInitial * SLOT_BYTES, slotTableBytesMax),
      arena: createGrowableBuffer(options.arenaBytesInitial, options.arenaBytesMax),
    };
    const control = new Int32Array(buffers.control);
    control[WORD_SLOT_COUNT_INITIAL] = options.slotCountInitial;
    control[WORD_SLOT_COUNT] = options.slotCountInitial;
    ByteArena.initialize(control, WORD_ARENA_BASE);
    // Atomic stores, magic last, so a thread that attaches later reads a complete layout whichever way
    // the buffers travelled to it.
    Atomics.store(control, WORD_SLOT_COUNT_MAX, options.slotCountMax);
    Atomics.store(control, WORD_LAYOUT_VERSION, LAYOUT_VERSION);
    Atomics.store(control, WORD_MAGIC, MAGIC);
    return buffers;
  }

  /**
   * The writer's handle on buffers from `allocate`. Exactly one handle per index may be opened this way,
   * on the one thread that changes it; nothing here can check that across threads, so the store opens it
   * only in its writer thread.
   */
  static openWriter(buffers: SharedIndexBuffers): SharedIndex {
    return new SharedIndex(buffers, true);
  }

  /**
   * Opens a reader's handle on an index created elsewhere (typically on another thread). It sees every
   * later section, growth included, without further messages.
   * @throws RingAssertionError when `buffers` do not hold a shared index.
   */
  static attach(buffers: SharedIndexBuffers): SharedIndex {
    assert(buffers.control instanceof SharedArrayBuffer, 'attach takes the control SharedArrayBuffer');
    return new SharedIndex(buffers, false);
  }

  /**
   * Writer, outside a write section (or a thread that owns a private index): the three pieces that are
   * the index's whole image, as views of its memory (copy or write them before the next change):
   * the control words, the slot table, and the arena up to its top (bytes above it were never used).
   * `restoreImage` rebuilds an equal index from them; see the snapshot format in docs/format.md.
   */
  imageParts(): { control: Uint8Array; slots: Uint8Array; arena: Uint8Array } {
    assert(this.arena !== undefined && !this.writeSectionOpen, 'imageParts is called on the writer handle between sections');
    const slotCount = this.control[WORD_SLOT_COUNT];
    const top = readArenaUsage(this.control, WORD_ARENA_BASE).topBytes;
    return {
      control: new Uint8Array(this.buffers.control),
      slots: new Uint8Array(this.slotBuffer, 0, slotCount * SLOT_BYTES),
      arena: new Uint8Array(this.arenaBuffer, 0, top),
    };
  }

  /**
   * Before any handle opens `buffers` (fresh from `allocate`): takes the control words of an image made
   * by `imageParts` and sizes the buffers for it; returns the views its slot table and arena bytes must
   * be copied into. The image's control words are checked against these buffers first (same layout
   * version and slot maximum, sizes within bounds): an image of another layout returns an error message
   * and leaves `buffers` unchanged. Bytes are not checked here; the caller checksums them.
   */
  static restoreImage(buffers: SharedIndexBuffers, imageControl: Uint8Array): { slots: Uint8Array; arena: Uint8Array } | string {
    if (imageControl.byteLength !== CONTROL_WORDS * 4) return `control words are ${imageControl.byteLength} bytes, expected ${CONTROL_WORDS * 4}`;
    const words = new Int32Array(imageControl.slice().buffer);
    const control = new Int32Array(buffers.control);
    if (words[WORD_MAGIC] !== MAGIC) return 'control words lack the index magic';
    if (words[WORD_LAYOUT_VERSION] !== LAYOUT_VERSION) return `index layout version ${words[WORD_LAYOUT_VERSION]}, this build has ${LAYOUT_VERSION}`;
    if (words[WORD_SLOT_COUNT_MAX] !== control[WORD_SLOT_COUNT_MAX]) return `slot maximum ${words[WORD_SLOT_COUNT_MAX]}, this build has ${control[WORD_SLOT_COUNT_MAX]}`;
    if (words[WORD_SEQUENCE] % 2 !== 0) return 'the image was taken inside a write section';
    const slotCount = words[WORD_SLOT_COUNT];
    if (!isSlotCount(slotCount) || slotCount > words[WORD_SLOT_COUNT_MAX]) return `slot count ${slotCount} is not a table size`;
    const top = readArenaUsage(words, WORD_ARENA_BASE).topBytes;
    const slotBuffer = asGrowable(buffers.slots);
    const arenaBuffer = asGrowable(buffers.arena);
    if (!(top >= 0 && top % 16 === 0 && top <= arenaBuffer.maxByteLength)) return `arena top ${top} is out of range`;
    if (slotBuffer.byteLength < slotCount * SLOT_BYTES) slotBuffer.grow(slotCount * SLOT_BYTES);
    if (arenaBuffer.byteLength < top) arenaBuffer.grow(top);
    // The sequence and waiting words stay this index's own; every other word comes from the image.
    const sequence = control[WORD_SEQUENCE];
    const waiting = control[WORD_READERS_WAITING];
    control.set(words);
    control[WORD_SEQUENCE] = sequence;
    control[WORD_READERS_WAITING] = waiting;
    return { slots: new Uint8Array(slotBuffer, 0, slotCount * SLOT_BYTES), arena: new Uint8Array(arenaBuffer, 0, top) };
  }

  /**
   * Before any handle opens `buffers`: empties an index whose restore failed halfway, keeping its memory
   * (buffers cannot shrink, so the slot table stays at its grown size, all of it empty).
   */
  static resetImage(buffers: SharedIndexBuffers): void {
    const control = new Int32Array(buffers.control);
    const slotBuffer = asGrowable(buffers.slots);
    new Uint8Array(slotBuffer).fill(0);
    control[WORD_SLOT_COUNT] = slotBuffer.byteLength / SLOT_BYTES;
    control[WORD_ENTRY_COUNT] = 0;
    control[WORD_VERSION_LAST] = 0;
    ByteArena.initialize(control, WORD_ARENA_BASE);
  }

  /** Writer: opens a write section. Readers retry until `endWrite` publishes it. */
  beginWrite(): void {
    assert(this.arena !== undefined, 'beginWrite is called on the writer handle');
    assert(!this.writeSectionOpen, 'beginWrite finds no write section open');
    this.lock.beginWrite();
    this.writeSectionOpen = true;
  }

  /** Writer: publishes every change since `beginWrite` to readers at once. */
  endWrite(): void {
    assert(this.writeSectionOpen, 'endWrite closes an open write section');
    this.writeSectionOpen = false;
    this.lock.endWrite();
  }

  /**
   * Writer, inside a write section: inserts `key` or replaces its value, giving it a new version. Both
   * arrays are copied in; the caller may reuse them.
   * @returns true when the key was new (inserted), false when its value was replaced.
   * @throws RangeError when the index already holds 3/4 of slotCountMax keys, or the entry does not fit
   *   the arena at arenaBytesMax; the index is unchanged then.
   */
  set(key: Uint8Array, value: Uint8Array): boolean {
    const arena = this.assertWriting();
    assert(key instanceof Uint8Array, 'set takes a Uint8Array key');
    assert(value instanceof Uint8Array, 'set takes a Uint8Array value');
    assert(key.length <= KEY_BYTES_MAX, 'a key is at most KEY_BYTES_MAX (65,535) bytes');
    const hash = hashKey(key);
    const payloadBytes = KEY_PREFIX_BYTES + key.length + value.length;
    const found = this.probeOwn(key, hash);
    if (found === ABSENT) {
      this.reserveSlot();
      const offset = arena.allocate(payloadBytes);
      this.writeKey(offset, key);
      this.writeValue(offset + KEY_PREFIX_BYTES + key.length, value);
      const table = this.slotTableOwn();
      const base = this.emptySlotBase(table, hash);
      table[base + SLOT_HASH] = hash;
      table[base + SLOT_BLOCK_OFFSET] = offset;
      table[base + SLOT_VALUE_BYTES] = value.length;
      table[base + SLOT_VERSION] = this.nextVersion();
      this.control[WORD_ENTRY_COUNT] += 1;
      return true;
    }
    const table = this.slotTableOwn();
    const offsetOld = table[found + SLOT_BLOCK_OFFSET];
    const payloadBytesOld = KEY_PREFIX_BYTES + key.length + table[found + SLOT_VALUE_BYTES];
    let offset = offsetOld;
    // The usual replacement (a committed offset's new value) keeps its block: same size class.
    if (payloadBytesOld !== payloadBytes && blockBytesFor(payloadBytesOld) !== blockBytesFor(payloadBytes)) {
      // Allocate before freeing: a RangeError here leaves the old value in place.
      offset = arena.allocate(payloadBytes);
      this.writeKey(offset, key);
      arena.free(offsetOld, payloadBytesOld);
    }
    this.writeValue(offset + KEY_PREFIX_BYTES + key.length, value);
    table[found + SLOT_BLOCK_OFFSET] = offset;
    table[found + SLOT_VALUE_BYTES] = value.length;
    table[found + SLOT_VERSION] = this.nextVersion();
    return false;
  }

  /**
   * Writer, inside a write section: removes `key` and frees its block.
   * @returns whether the key was there.
   */
  delete(key: Uint8Array): boolean {
    const arena = this.assertWriting();
    assert(key instanceof Uint8Array, 'delete takes a Uint8Array key');
    const found = this.probeOwn(key, hashKey(key));
    if (found === ABSENT) return false;
    const table = this.slotTableOwn();
    arena.free(table[found + SLOT_BLOCK_OFFSET], KEY_PREFIX_BYTES + key.length + table[found + SLOT_VALUE_BYTES]);
    this.shiftBackFrom(table, found);
    this.control[WORD_ENTRY_COUNT] -= 1;
    return true;
  }

  /**
   * Any thread: a copy of the value stored under `key` in the latest published state (on the writer's
   * handle: its own latest state, open section included), or undefined.
   * @throws ReadStarvedError (seqlock.ts) if write sections block the read for a very long time.
   */
  get(key: Uint8Array): Uint8Array | undefined {
    const hash = hashKey(key);
    return this.read(() => {
      const table = this.slotTable();
      if (table === torn) return torn;
      return this.valueAt(table, key, hash);
    });
  }

  /**
   * Any thread: the key's version, a positive number that changes with every `set` of the key (and,
   * barring 2^31 sets in between, never returns to an earlier value); 0 when the key is absent.
   */
  version(key: Uint8Array): number {
    const hash = hashKey(key);
    return this.read(() => {
      const table = this.slotTable();
      if (table === torn) return torn;
      const found = this.probe(table, key, hash);
      if (found === torn || found === ABSENT) return found === ABSENT ? 0 : torn;
      return table[found + SLOT_VERSION];
    });
  }

  /**
   * Any thread: the value under `key`, in one consistent read, unless the caller already holds it:
   * for callers that cache decoded values by slot. `knownVersionBySlot[i]` is the version the caller
   * holds for slot i (anything else where it holds none). Returns `UNCHANGED` when the key's slot holds
   * that version, undefined when the key is absent, otherwise a copy of the value. Afterwards
   * `lookupSlot` and `lookupVersion` say where the key was and its version (-1 and 0 when absent).
   * Versions are unique across the keys of one index (one counter), so a version met at a slot
   * always belongs to the value the caller decoded from it, even after keys moved between slots.
   */
  lookup(key: Uint8Array, knownVersionBySlot: ArrayLike<number>): Uint8Array | undefined | typeof UNCHANGED {
    this.lookupKey = key;
    this.lookupHash = hashKey(key);
    this.lookupKnown = knownVersionBySlot;
    const result = this.readHot(this.lookupAttempt);
    this.lookupKey = NO_KEY;
    this.lookupKnown = NO_VERSIONS;
    return result;
  }

  /**
   * Any thread: copies the value under `key` into `target`, in one consistent read, and returns its
   * length; -1 when the key is absent. A value longer than `target` is not copied (its length is
   * returned: call again with a target that large). Allocates nothing: for the hottest point reads.
   */
  readInto(key: Uint8Array, target: Uint8Array): number {
    this.lookupKey = key;
    this.lookupHash = hashKey(key);
    this.readTarget = target;
    const length = this.readHot(this.readIntoAttempt);
    this.lookupKey = NO_KEY;
    this.readTarget = NO_KEY;
    return length;
  }

  /**
   * Any thread: copies of the values under each of `keys` (undefined where absent), all from one
   * published state.
   */
  getMany(keys: readonly Uint8Array[]): (Uint8Array | undefined)[] {
    const hashes = keys.map(hashKey);
    return this.read(() => {
      const table = this.slotTable();
      if (table === torn) return torn;
      const values: (Uint8Array | undefined)[] = [];
      for (let index = 0; index < keys.length; index++) {
        const value = this.valueAt(table, keys[index], hashes[index]);
        if (value === torn) return torn;
        values.push(value);
      }
      return values;
    });
  }

  /**
   * Any thread: every live entry of one published state, by slot, for callers that cache decoded values
   * by slot (see `lookup`): its slot, its version, and a copy of its value unless
   * `knownVersionBySlot[slot]` is that version (then undefined: the caller holds it).
   */
  scan(knownVersionBySlot: ArrayLike<number>): SlotScan {
    return this.read((): SlotScan | Torn => {
      const table = this.slotTable();
      if (table === torn) return torn;
      const slotCount = this.control[WORD_SLOT_COUNT];
      const entryCount = this.control[WORD_ENTRY_COUNT];
      const arenaBytes = this.arenaView();
      const result: SlotScan = { slots: [], versions: [], values: [] };
      for (let slot = 0; slot < slotCount; slot++) {
        const base = slot * SLOT_WORDS;
        const version = table[base + SLOT_VERSION];
        if (version === 0) continue;
        result.slots.push(slot);
        result.versions.push(version);
        if (version === knownVersionBySlot[slot]) {
          result.values.push(undefined);
          continue;
        }
        const offset = table[base + SLOT_BLOCK_OFFSET];
        if (!(offset >= 0 && offset + KEY_PREFIX_BYTES <= arenaBytes.length)) return torn;
        const start = offset + KEY_PREFIX_BYTES + keyBytesAt(arenaBytes, offset);
        const end = start + table[base + SLOT_VALUE_BYTES];
        if (!(start <= end && end <= arenaBytes.length)) return torn;
        result.values.push(arenaBytes.slice(start, end));
      }
      return result.slots.length === entryCount ? result : torn;
    });
  }

  /**
   * Any thread: calls `visit` with copies of every entry of one published state, in slot order. The
   * whole state is copied first (retried as a whole if a write section intervenes), so `visit` runs
   * once per entry and may do anything, including calls on this index.
   */
  forEachEntry(visit: (key: Uint8Array, value: Uint8Array) => void): void {
    const entries = this.read(() => this.copyEntries());
    for (let index = 0; index < entries.length; index += 2) visit(entries[index], entries[index + 1]);
  }

  /**
   * Writer, between sections: visits each live entry as `bytes[start, end)`: its key length (u16), key
   * and value, in place in the arena (valid only during the call; nothing is copied). For digests.
   */
  forEachEntryBytes(visit: (bytes: Uint8Array, start: number, end: number) => void): void {
    assert(this.arena !== undefined && !this.writeSectionOpen, 'forEachEntryBytes is called on the writer handle between sections');
    const table = this.slotTableOwn();
    const slotCount = this.control[WORD_SLOT_COUNT];
    const arenaBytes = this.arenaView();
    for (let index = 0; index < slotCount; index++) {
      const base = index * SLOT_WORDS;
      if (table[base + SLOT_VERSION] === 0) continue;
      const offset = table[base + SLOT_BLOCK_OFFSET];
      const end = offset + KEY_PREFIX_BYTES + keyBytesAt(arenaBytes, offset) + table[base + SLOT_VALUE_BYTES];
      visit(arenaBytes, offset, end);
    }
  }

  /** Any thread: entry count, table size and arena occupancy of one published state. */
  stats(): SharedIndexStats {
    return this.read(() => {
      const usage = readArenaUsage(this.control, WORD_ARENA_BASE);
      return {
        entries: this.control[WORD_ENTRY_COUNT],
        slotCount: this.control[WORD_SLOT_COUNT],
        arenaBytes: this.arenaBuffer.byteLength,
        arenaBytesLive: usage.bytesLive,
        arenaBytesFree: usage.bytesFree,
      };
    });
  }

  /**
   * Writer: checks the whole structure (every live key reachable from its home, counts and arena
   * accounting agree). Expensive; for tests and verify mode.
   * @internal
   */
  assertInvariants(): void {
    const arena = this.arena;
    assert(arena !== undefined, 'assertInvariants is called on the writer handle');
    const table = this.slotTableOwn();
    const slotCount = this.control[WORD_SLOT_COUNT];
    let entryCount = 0;
    let bytesLive = 0;
    for (let index = 0; index < slotCount; index++) {
      const base = index * SLOT_WORDS;
      if (table[base + SLOT_VERSION] === 0) {
        assert(table.subarray(base, base + SLOT_WORDS).every((word) => word === 0), 'an empty slot is all zero');
        continue;
      }
      const offset = table[base + SLOT_BLOCK_OFFSET];
      const arenaBytes = this.arenaView();
      const keyBytes = keyBytesAt(arenaBytes, offset);
      const key = arenaBytes.subarray(offset + KEY_PREFIX_BYTES, offset + KEY_PREFIX_BYTES + keyBytes);
      assert(table[base + SLOT_HASH] === hashKey(key), 'a slot holds its key hash');
      assert(this.probe(table, key, table[base + SLOT_HASH]) === base, 'a live key is found from its home');
      entryCount += 1;
      bytesLive += blockBytesFor(KEY_PREFIX_BYTES + keyBytes + table[base + SLOT_VALUE_BYTES]);
    }
    const usage = readArenaUsage(this.control, WORD_ARENA_BASE);
    assert(entryCount === this.control[WORD_ENTRY_COUNT], 'entryCount counts the live slots');
    assert(entryCount <= entryCountMaxFor(slotCount), 'the table is at most 3/4 full');
    assert(bytesLive === usage.bytesLive, 'bytesLive counts the live blocks');
    assert(arena.countFreeBytes() === usage.bytesFree, 'bytesFree counts the free lists');
    assert(usage.bytesLive + usage.bytesFree === usage.topBytes, 'live and free blocks tile the used arena');
  }

  /** The arena, after asserting this is the writer's handle with a section open (for `set` and `delete`). */
  private assertWriting(): ByteArena {
    // Constant messages: this runs for every change, and a template would build its string every time.
    assert(this.arena !== undefined, 'changes are made on the writer handle');
    assert(this.writeSectionOpen, 'changes are made inside a write section');
    return this.arena;
  }

  /**
   * Runs a read attempt under the sequence lock; on the writer's handle directly, since nothing else
   * changes the index (and the writer must not wait for its own open section).
   */
  private read<T>(attempt: () => T | Torn): T {
    if (this.arena === undefined) return this.lock.read(attempt);
    const result = attempt();
    assert(result !== torn, "the writer's own reads are never torn");
    return result;
  }

  /**
   * `read` for the hottest reads: the first attempt runs here, between `begin` and `validate`, and only
   * an attempt that overlapped a write section goes to the lock's retry loop. The lock's loop calls
   * every read's attempt from one call site, which the JIT then cannot inline; this one sees two.
   */
  private readHot<T>(attempt: () => T | Torn): T {
    if (this.arena === undefined) {
      const sequence = this.lock.begin();
      if (sequence !== -1) {
        const result = attempt();
        if (this.lock.validate(sequence) && result !== torn) return result;
      }
    }
    return this.read(attempt);
  }

  /** The slot table as a reader checks it: `torn` unless its size is plausible and within the view. */
  private slotTable(): Int32Array | Torn {
    const slotCount = this.control[WORD_SLOT_COUNT];
    if (!isSlotCount(slotCount)) return torn;
    let table = this.slotWords;
    // Remake the view only when the table outgrew it (reading a growable buffer's length costs more
    // than this comparison, and growth is rare).
    if (slotCount * SLOT_WORDS > table.length) table = this.tableView();
    if (slotCount * SLOT_WORDS > table.length) return torn;
    return table;
  }

  /** The slot table on the writer's handle, where it is always consistent. */
  private slotTableOwn(): Int32Array {
    const table = this.slotTable();
    assert(table !== torn, 'the slot table is consistent for the writer');
    return table;
  }

  private probeOwn(key: Uint8Array, hash: number): number {
    const found = this.probe(this.slotTableOwn(), key, hash);
    assert(found !== torn, "the writer's probe is never torn");
    return found;
  }

  /**
   * Linear probe from the key's home: the live slot's first word index, `ABSENT` at the first empty
   * slot, or `torn` if a whole lap finds no empty slot (no published table is full).
   */
  private probe(table: Int32Array, key: Uint8Array, hash: number): number | Torn {
    const slotCount = this.control[WORD_SLOT_COUNT];
    if (!isSlotCount(slotCount) || slotCount * SLOT_WORDS > table.length) return torn;
    const mask = slotCount - 1;
    // Bounded by one lap of the table.
    for (let step = 0, index = hash & mask; step < slotCount; step++, index = (index + 1) & mask) {
      const base = index * SLOT_WORDS;
      if (table[base + SLOT_VERSION] === 0) return ABSENT;
      if (table[base + SLOT_HASH] === hash && this.arenaHolds(table[base + SLOT_BLOCK_OFFSET], key)) {
        return base;
      }
    }
    return torn;
  }

  /** A copy of the value under `key` in `table`, undefined when absent, or `torn`. */
  private valueAt(table: Int32Array, key: Uint8Array, hash: number): Uint8Array | undefined | Torn {
    const found = this.probe(table, key, hash);
    if (found === torn || found === ABSENT) return found === ABSENT ? undefined : torn;
    return this.copyValueAt(table, found, key.length);
  }

  /** A copy of the value of the live slot at `base`, or `torn` if its block lies outside the arena. */
  private copyValueAt(table: Int32Array, base: number, keyBytes: number): Uint8Array | Torn {
    const start = table[base + SLOT_BLOCK_OFFSET] + KEY_PREFIX_BYTES + keyBytes;
    const end = start + table[base + SLOT_VALUE_BYTES];
    const arenaBytes = this.arenaBytesTo(end);
    if (!(start >= 0 && start <= end && end <= arenaBytes.length)) return torn;
    return arenaBytes.slice(start, end);
  }

  /**
   * Whether the block at `offset` holds `key` (its length prefix and bytes); false (never a throw) for
   * a block out of bounds.
   */
  private arenaHolds(offset: number, key: Uint8Array): boolean {
    const end = offset + KEY_PREFIX_BYTES + key.length;
    const arenaBytes = this.arenaBytesTo(end);
    if (!(offset >= 0 && end <= arenaBytes.length)) return false;
    if (keyBytesAt(arenaBytes, offset) !== key.length) return false;
    const start = offset + KEY_PREFIX_BYTES;
    for (let index = 0; index < key.length; index++) {
      if (arenaBytes[start + index] !== key[index]) return false;
    }
    return true;
  }

  /** Writer: the key's length prefix and bytes at the start of the block at `offset`. */
  private writeKey(offset: number, key: Uint8Array): void {
    const arenaBytes = this.arenaView();
    arenaBytes[offset] = key.length & 0xff;
    arenaBytes[offset + 1] = key.length >>> 8;
    arenaBytes.set(key, offset + KEY_PREFIX_BYTES);
  }

  /** Writer: `value` at `position` in the arena (inside a block `allocate` gave). */
  private writeValue(position: number, value: Uint8Array): void {
    const length = value.length;
    const arenaBytes = this.arenaBytesTo(position + length);
    // A short loop beats set() for the few bytes of a typical value (a committed offset's are 20 and up).
    if (length <= 64) for (let index = 0; index < length; index++) arenaBytes[position + index] = value[index];
    else arenaBytes.set(value, position);
  }

  /** The arena view, remade first if it ends before `end` and the arena has grown since it was made. */
  private arenaBytesTo(end: number): Uint8Array {
    return end <= this.arenaBytes.length ? this.arenaBytes : this.arenaView();
  }

  /** The arena view, remade first if the arena grew since it was made. */
  private arenaView(): Uint8Array {
    if (this.arenaBytes.length !== this.arenaBuffer.byteLength) this.arenaBytes = fixedBytes(this.arenaBuffer);
    return this.arenaBytes;
  }

  /** A view of slot table `which`, remade first if that table grew since it was made. */
  private tableView(): Int32Array {
    if (this.slotWords.byteLength !== this.slotBuffer.byteLength) this.slotWords = fixedWords(this.slotBuffer);
    return this.slotWords;
  }

  /** Copies of all entries as [key, value, key, value, ...], or `torn`. */
  private copyEntries(): Uint8Array[] | Torn {
    const table = this.slotTable();
    if (table === torn) return torn;
    const slotCount = this.control[WORD_SLOT_COUNT];
    const entryCount = this.control[WORD_ENTRY_COUNT];
    const arenaBytes = this.arenaView();
    const entries: Uint8Array[] = [];
    for (let index = 0; index < slotCount; index++) {
      const base = index * SLOT_WORDS;
      if (table[base + SLOT_VERSION] === 0) continue;
      const offset = table[base + SLOT_BLOCK_OFFSET];
      if (!(offset >= 0 && offset + KEY_PREFIX_BYTES <= arenaBytes.length)) return torn;
      const keyStart = offset + KEY_PREFIX_BYTES;
      const keyEnd = keyStart + keyBytesAt(arenaBytes, offset);
      const valueEnd = keyEnd + table[base + SLOT_VALUE_BYTES];
      if (!(keyEnd <= valueEnd && valueEnd <= arenaBytes.length)) return torn;
      entries.push(arenaBytes.slice(keyStart, keyEnd), arenaBytes.slice(keyEnd, valueEnd));
    }
    return entries.length === 2 * entryCount ? entries : torn;
  }

  /** First empty slot on the probe path of `hash` (the writer has made sure one exists). */
  private emptySlotBase(table: Int32Array, hash: number): number {
    const mask = this.control[WORD_SLOT_COUNT] - 1;
    // Bounded by one lap; the load limit leaves a quarter of the slots empty.
    for (let step = 0, index = hash & mask; step <= mask; step++, index = (index + 1) & mask) {
      if (table[index * SLOT_WORDS + SLOT_VERSION] === 0) return index * SLOT_WORDS;
    }
    assert(false, 'a table below 3/4 load has an empty slot');
  }

  /**
   * Makes room for one more entry: doubles the table if it would pass 3/4 load.
   * @throws RangeError at slotCountMax, before anything changes.
   */
  private reserveSlot(): void {
    const slotCount = this.control[WORD_SLOT_COUNT];
    const entryCount = this.control[WORD_ENTRY_COUNT];
    if (entryCount + 1 <= entryCountMaxFor(slotCount)) return;
    const slotCountMax = this.control[WORD_SLOT_COUNT_MAX];
    if (slotCount === slotCountMax) {
      throw new RangeError(
        `shared index full: ${entryCount} entries, at most ${entryCountMaxFor(slotCountMax)} ` +
        `(3/4 of slotCountMax ${slotCountMax})`,
      );
    }
    this.rehashInto(slotCount * 2);
  }

  /**
   * Doubles the slot table in place to `slotCountNext` slots: saves the live slots, grows and zeroes the
   * table, stores the new slotCount, and inserts the saved slots again (see "Growth" in the header).
   */
  private rehashInto(slotCountNext: number): void {
    const slotCount = this.control[WORD_SLOT_COUNT];
    const entryCount = this.control[WORD_ENTRY_COUNT];
    const old = this.slotTableOwn();
    const saved = new Int32Array(entryCount * SLOT_WORDS);
    let savedCount = 0;
    for (let index = 0; index < slotCount; index++) {
      const from = index * SLOT_WORDS;
      if (old[from + SLOT_VERSION] === 0) continue;
      saved.set(old.subarray(from, from + SLOT_WORDS), savedCount * SLOT_WORDS);
      savedCount++;
    }
    assert(savedCount === entryCount, 'the table holds entryCount live slots');
    this.slotBuffer.grow(slotCountNext * SLOT_BYTES);
    const table = this.tableView();
    table.fill(0, 0, slotCount * SLOT_WORDS);
    this.control[WORD_SLOT_COUNT] = slotCountNext;
    const mask = slotCountNext - 1;
    for (let index = 0; index < savedCount; index++) {
      const from = index * SLOT_WORDS;
      let slot = saved[from + SLOT_HASH] & mask;
      // Bounded by one lap of a table at most 3/8 full.
      for (let step = 0; table[slot * SLOT_WORDS + SLOT_VERSION] !== 0; step++) {
        assert(step < slotCountNext, 'the grown table has an empty slot');
        slot = (slot + 1) & mask;
      }
      table.set(saved.subarray(from, from + SLOT_WORDS), slot * SLOT_WORDS);
    }
  }

  /**
   * Empties the slot at `hole` and closes the gap (backward-shift deletion): each later entry of the
   * cluster whose home does not lie cyclically in (hole, entry] moves into the hole, which moves on.
   */
  private shiftBackFrom(table: Int32Array, hole: number): void {
    const mask = this.control[WORD_SLOT_COUNT] - 1;
    let holeIndex = hole / SLOT_WORDS;
    // Bounded by one lap: a cluster is shorter than the table.
    for (let step = 1, index = (holeIndex + 1) & mask; step <= mask; step++, index = (index + 1) & mask) {
      const base = index * SLOT_WORDS;
      if (table[base + SLOT_VERSION] === 0) break;
      const home = table[base + SLOT_HASH] & mask;
      // The entry may fill the hole if its distance from home reaches back to the hole.
      if (((index - home) & mask) >= ((index - holeIndex) & mask)) {
        table.copyWithin(holeIndex * SLOT_WORDS, base, base + SLOT_WORDS);
        holeIndex = index;
      }
    }
    table.fill(0, holeIndex * SLOT_WORDS, holeIndex * SLOT_WORDS + SLOT_WORDS);
  }

  /** Next version from the shared counter: 1, 2, ..., 2^31 - 1, then 1 again. */
  private nextVersion(): number {
    const versionLast = this.control[WORD_VERSION_LAST];
    const version = versionLast >= versionMax ? 1 : versionLast + 1;
    this.control[WORD_VERSION_LAST] = version;
    return version;
  }
}
