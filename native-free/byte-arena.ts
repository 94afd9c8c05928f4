/**
 * Byte arena: the writer's allocator of blocks in one growable SharedArrayBuffer, for the shared hash
 * index's keys and values.
 *
 * Owns: block placement (a bump position plus one free list per size class), the arena's growth, and
 * its accounting words. It does not know what a block holds, and it does not publish
 * anything: the caller (`SharedIndex`) changes the arena only inside a write section of its sequence
 * lock, so readers never act on a half-made change.
 *
 * Reclamation policy: size classes are the multiples of 16 bytes up to 512 (16, 32, 48, ..., 512), then
 * the powers of two up to 1 GiB; a block's size is the smallest class that holds its payload. Small
 * values (the store's committed offsets, watermarks, most topics) thus waste under 16 bytes each, and a
 * large block wastes under half of itself (a 513-byte payload gets 1,024 bytes). A freed block goes on
 * its class's free list and is handed out again, first, for the next payload of the same class. Blocks
 * are never split, merged or moved, and the arena never shrinks.
 * Waste bound: a freed block waits only for its own class, so with K keys whose payloads never exceed
 * E bytes, at most K + 1 blocks of each class up to blockBytes(E) ever exist at once (K live, one being
 * replaced), and the bump position stays below (K + 1) * S(E), S(E) the sum of the class sizes up to
 * blockBytes(E) (for E > 512: 8,448 + 2 * blockBytes(E)). Replacing values of varying sizes therefore
 * cannot grow the arena without bound; it can leave up to that much space parked on free lists of
 * classes no longer used.
 *
 * Invariants:
 * - Every block starts at a multiple of 16 and is one class long (16 B to 1 GiB); blocks never overlap;
 *   [0, topBytes) is exactly live blocks plus free-listed blocks.
 * - bytesLive + bytesFree = topBytes <= buffer.byteLength <= buffer.maxByteLength, all multiples of 16.
 * - A free block's first word is the offset of the next free block of its class, or -1.
 *
 * Called by: `SharedIndex` on the writer thread only. Must never: hand out a block that is live; grow
 * past `maxByteLength` (that is a `RangeError` before anything changes); be used by a reader thread.
 *
 * Memory layout (the arena buffer; the accounting words sit in the index's control words at `wordBase`):
 *
 *   arena buffer, byte 0                                     topBytes              byteLength
 *   +--------+------------------+--------+----------------+---+--------------------+......+
 *   | live   | free (class 64)  | live   | live           |...|   never used       |      | grow()
 *   +--------+------------------+--------+----------------+---+--------------------+......+
 *             ^ word 0: next free block of class 64, or -1
 *
 *   control words from wordBase:
 *   +----------+-----------+-----------+----------------------------------------------------------+
 *   | topBytes | bytesLive | bytesFree | freeHead[0..52]: first free block of 16 B, 32 B .. 1 GiB  |
 *   +----------+-----------+-----------+----------------------------------------------------------+
 */
import { assert } from './assert.js';

const WORD_TOP_BYTES = 0;
const WORD_BYTES_LIVE = 1;
const WORD_BYTES_FREE = 2;
const WORD_FREE_HEAD_FIRST = 3;

/** The step of the small classes: 16 bytes keep every block aligned for its free-list word. */
const classStepBytes = 16;
/** The largest small class; above it, classes are powers of two. */
const smallClassBytesMax = 512;
const smallClassCount = smallClassBytesMax / classStepBytes;
/** log2 of the smallest power-of-two class, the one after the largest small class. */
const largeClassBitsMin = 10;
/** log2 of the largest block (and of the largest arena): offsets stay far below 2^31. */
const blockBitsMax = 30;
const classCount = smallClassCount + blockBitsMax - largeClassBitsMin + 1;
const FREE_NONE = -1;

/**
 * Number of control words the arena's accounting takes at `wordBase`.
 * @internal
 */
export const ARENA_CONTROL_WORDS = WORD_FREE_HEAD_FIRST + classCount;

/**
 * Largest arena, 1 GiB.
 * @internal
 */
export const ARENA_BYTES_MAX = 2 ** blockBitsMax;

/**
 * A SharedArrayBuffer made with `maxByteLength` (ES2024; the project's lib is ES2022, Node 20 has them).
 * Another thread holding the same buffer sees its new length after `grow`, and length-tracking views
 * (made without a length) follow it.
 * @internal
 */
export interface GrowableSharedArrayBuffer extends SharedArrayBuffer {
  readonly growable: boolean;
  readonly maxByteLength: number;
  grow(byteLength: number): void;
}

/**
 * Allocates a growable SharedArrayBuffer of `byteLength` that may grow to `maxByteLength`.
 * @internal
 */
export function createGrowableBuffer(byteLength: number, maxByteLength: number): GrowableSharedArrayBuffer {
  const Growable = SharedArrayBuffer as unknown as new (
    byteLength: number,
    options: { maxByteLength: number },
  ) => GrowableSharedArrayBuffer;
  return new Growable(byteLength, { maxByteLength });
}

/**
 * `buffer`, typed as growable after asserting that it is.
 * @internal
 */
export function asGrowable(buffer: SharedArrayBuffer): GrowableSharedArrayBuffer {
  assert(buffer instanceof SharedArrayBuffer, 'a growable buffer is a SharedArrayBuffer');
  assert((buffer as GrowableSharedArrayBuffer).growable === true, 'the SharedArrayBuffer is growable');
  return buffer as GrowableSharedArrayBuffer;
}

/**
 * Bytes of the block that holds `payloadBytes`: the next multiple of 16 up to 512 (at least 16), the
 * next power of two above.
 * @internal
 */
export function blockBytesFor(payloadBytes: number): number {
  if (payloadBytes <= classStepBytes) return classStepBytes;
  if (payloadBytes <= smallClassBytesMax) return Math.ceil(payloadBytes / classStepBytes) * classStepBytes;
  return 2 ** (32 - Math.clz32(payloadBytes - 1));
}

/** Size class of a block of `blockBytes` (a class size, see `blockBytesFor`). */
function classOf(blockBytes: number): number {
  if (blockBytes <= smallClassBytesMax) return blockBytes / classStepBytes - 1;
  return smallClassCount + (31 - Math.clz32(blockBytes)) - largeClassBitsMin;
}

/** Block size of class `classIndex`. */
function classBytes(classIndex: number): number {
  if (classIndex < smallClassCount) return (classIndex + 1) * classStepBytes;
  return 2 ** (classIndex - smallClassCount + largeClassBitsMin);
}

/**
 * Accounting the arena keeps in shared words (so readers can report it).
 * @internal
 */
export interface ArenaUsage {
  readonly topBytes: number;
  readonly bytesLive: number;
  readonly bytesFree: number;
}

/**
 * Reads the arena's accounting words. Plain loads: a reader calls it inside a sequence-lock attempt.
 * @internal
 */
export function readArenaUsage(control: Int32Array, wordBase: number): ArenaUsage {
  return {
    topBytes: control[wordBase + WORD_TOP_BYTES],
    bytesLive: control[wordBase + WORD_BYTES_LIVE],
    bytesFree: control[wordBase + WORD_BYTES_FREE],
  };
}

/**
 * Writer-side allocator of power-of-two blocks in a growable SharedArrayBuffer.
 * @internal
 */
export class ByteArena {
  /** The arena's bytes; length-tracking, so it follows `grow()`. */
  readonly bytes: Uint8Array;
  private readonly buffer: GrowableSharedArrayBuffer;
  private readonly words: Int32Array;
  private readonly control: Int32Array;
  private readonly wordBase: number;

  /**
   * @param buffer a growable SharedArrayBuffer whose length and maximum are multiples of 16.
   * @param control the control words holding the accounting at `wordBase`.
   */
  constructor(buffer: GrowableSharedArrayBuffer, control: Int32Array, wordBase: number) {
    assert(buffer.maxByteLength <= ARENA_BYTES_MAX, 'the arena is at most 1 GiB');
    assert(buffer.maxByteLength % 16 === 0, 'the arena maximum is a multiple of 16');
    assert(buffer.byteLength % 16 === 0, 'the arena length is a multiple of 16');
    assert(wordBase + ARENA_CONTROL_WORDS <= control.length, 'the accounting words fit the control words');
    this.buffer = buffer;
    this.bytes = new Uint8Array(buffer);
    this.words = new Int32Array(buffer);
    this.control = control;
    this.wordBase = wordBase;
  }

  /** Sets the accounting words of an empty arena: nothing used, every free list empty. */
  static initialize(control: Int32Array, wordBase: number): void {
    control.fill(0, wordBase, wordBase + WORD_FREE_HEAD_FIRST);
    control.fill(FREE_NONE, wordBase + WORD_FREE_HEAD_FIRST, wordBase + ARENA_CONTROL_WORDS);
  }

  /**
   * Takes a block for `payloadBytes`: the head of its class's free list, else fresh space at the top,
   * growing the buffer (to double its length, at least to fit, at most to its maximum).
   * @returns the block's byte offset.
   * @throws RangeError when the block does not fit even a fully grown arena; nothing has changed then.
   */
  allocate(payloadBytes: number): number {
    assert(Number.isInteger(payloadBytes), 'allocate takes an integer payloadBytes');
    assert(payloadBytes >= 0, 'allocate takes payloadBytes >= 0');
    const blockBytes = blockBytesFor(payloadBytes);
    const top = this.control[this.wordBase + WORD_TOP_BYTES];
    if (blockBytes > this.buffer.maxByteLength) throw this.fullError(blockBytes, top);
    const wordFreeHead = this.wordBase + WORD_FREE_HEAD_FIRST + classOf(blockBytes);
    const head = this.control[wordFreeHead];
    if (head !== FREE_NONE) {
      assert(head % 16 === 0, 'a free block is aligned to 16');
      assert(head + blockBytes <= top, 'a free block lies below topBytes');
      this.control[wordFreeHead] = this.words[head >> 2];
      this.control[this.wordBase + WORD_BYTES_FREE] -= blockBytes;
      this.control[this.wordBase + WORD_BYTES_LIVE] += blockBytes;
      return head;
    }
    const end = top + blockBytes;
    if (end > this.buffer.maxByteLength) throw this.fullError(blockBytes, top);
    if (end > this.buffer.byteLength) {
      this.buffer.grow(Math.min(this.buffer.maxByteLength, Math.max(end, 2 * this.buffer.byteLength)));
    }
    this.control[this.wordBase + WORD_TOP_BYTES] = end;
    this.control[this.wordBase + WORD_BYTES_LIVE] += blockBytes;
    return top;
  }

  private fullError(blockBytes: number, topBytes: number): RangeError {
    return new RangeError(
      `arena full: a block of ${blockBytes} bytes does not fit above ${topBytes} of at most ` +
      `${this.buffer.maxByteLength} bytes (arenaBytesMax)`,
    );
  }

  /** Returns the block at `offset`, which holds `payloadBytes`, to its class's free list. */
  free(offset: number, payloadBytes: number): void {
    const blockBytes = blockBytesFor(payloadBytes);
    assert(offset % 16 === 0, 'a freed block is aligned to 16');
    assert(offset + blockBytes <= this.control[this.wordBase + WORD_TOP_BYTES], 'a freed block lies below topBytes');
    const wordFreeHead = this.wordBase + WORD_FREE_HEAD_FIRST + classOf(blockBytes);
    this.words[offset >> 2] = this.control[wordFreeHead];
    this.control[wordFreeHead] = offset;
    this.control[this.wordBase + WORD_BYTES_LIVE] -= blockBytes;
    this.control[this.wordBase + WORD_BYTES_FREE] += blockBytes;
  }

  /** Bytes on the free lists, counted by walking them (bounded by the arena size): for invariant checks. */
  countFreeBytes(): number {
    const top = this.control[this.wordBase + WORD_TOP_BYTES];
    let freeBytes = 0;
    for (let classIndex = 0; classIndex < classCount; classIndex++) {
      const blockBytes = classBytes(classIndex);
      let offset = this.control[this.wordBase + WORD_FREE_HEAD_FIRST + classIndex];
      // Bounded: a list without a cycle has at most top / blockBytes blocks.
      for (let steps = 0; offset !== FREE_NONE; steps++) {
        assert(steps < top / blockBytes, 'a free list has no cycle');
        assert(offset >= 0 && offset + blockBytes <= top, 'a free block lies below topBytes');
        freeBytes += blockBytes;
        offset = this.words[offset >> 2];
      }
    }
    return freeBytes;
  }
}
