/**
 * Event ring: a single-producer queue of variable-length byte records in one SharedArrayBuffer, read by
 * any number of independent cursors, each with its own position. Driven only by Atomics.
 *
 * Owns: the layout of the buffer below, the publication protocol (one store of publishedPosition), the
 * cursor slot table (claiming, opening, advancing, closing), and the sleep/wake handshakes in both
 * directions. The record framing (header size, padding word, 8-byte rounding), the capacity bounds and
 * the async-wait helpers are shared with the command ring and live in ring-shared.ts.
 *
 * Called by: exactly one producer, the writer thread (`tryPublish`, `publishSync`), and by readers on
 * any thread, each through its own `EventCursor` (`openCursor`, `poll`, `waitAsync`, `waitSync`, `close`).
 * `attach` gives another thread its own handle on the same buffer.
 *
 * Invariants (positions are byte counters modulo 2^32; distances are `(a - b) >>> 0`):
 * - Every open cursor's position <= publishedPosition, and publishedPosition - position <= capacityBytes
 *   once the cursor is open (see `openCursor` for the one transient exception and why it is harmless).
 * - The producer writes only into bytes no open cursor still has to read: a publish starting at
 *   position T ends at most at min(T, open cursor positions) + capacityBytes, so it overwrites only
 *   bytes of positions below that minimum.
 * - Positions and record lengths are multiples of 8. A record is never split across the end of the data
 *   area: padding fills the rest and the record starts at index 0, both in the same publish.
 * - publishedPosition never stops between a padding and the record after it.
 *
 * Must never: overwrite a record an open cursor has not passed; let a cursor see a record that is not
 * fully written; block the main thread (only `publishSync` and `waitSync` block); run an unbounded loop.
 * With no cursor open the whole data area is free and records are overwritten unread.
 *
 * Memory layout (one SharedArrayBuffer; w<n> is Int32 word n; hot words and each cursor slot have their
 * own 64-byte line):
 *
 *   byte 0
 *   +- line 0 ---------------------------------------------------------------------------------+
 *   | w0 magic 'EVTR' | w1 layoutVersion | w2 capacityBytes | w3 cursorSlotsMax | w4..15 zero   |
 *   +- line 1 ---------------------------------------------------------------------------------+
 *   | w16 publishedPosition   producer: store after writing a record; cursors: load, wait on it |
 *   +- line 2 ---------------------------------------------------------------------------------+
 *   | w32 cursorsWaiting      cursors: add 1 / sub 1 around a wait; producer: load             |
 *   +- line 3 ---------------------------------------------------------------------------------+
 *   | w48 releaseEpoch        cursors: add after advancing or closing; producer: wait on it    |
 *   | w49 producerWaiting     producer: 1 around a wait for space; cursors: load               |
 *   +- line 4 + s, for each cursor slot s < cursorSlotsMax ------------------------------------+
 *   | w(64+16s) slotState     0 free, 1 claimed, 2 open, 3 evicted (compareExchange to claim)  |
 *   | w(65+16s) slotPosition  the cursor's position; the producer reads it while state is open |
 *   +------------------------------------------------------------------------------------------+
 *   byte (4 + cursorSlotsMax) * 64: data area, capacityBytes (a power of two),
 *   index = position & (capacityBytes - 1)
 *   +----------+----------+----------+------------------------------+-----------+
 *   | record   | record   | record   |   free for the producer      | padding   |
 *   +----------+----------+----------+------------------------------+-----------+
 *   ^ slowest open cursor ^ faster cursor   ^ publishedPosition
 *
 *   record (8-byte aligned):
 *   +---------------------+---------------------+----------------------------------------------------+
 *   | i32 lengthWord      | i32 checkWord       | payload bytes, then stale bytes to an 8-byte bound |
 *   +---------------------+---------------------+----------------------------------------------------+
 *   lengthWord: -1 = padding: skip to index 0;  n > 0 = record of n - 1 payload bytes
 *   checkWord:  ~payloadBytes, asserted by every cursor.
 *
 * recordBytesMax = capacityBytes / 2 - 8: padding plus the longest record always fit an empty ring.
 */
import { assert } from './assert.js';
import {
  RECORD_HEADER_BYTES,
  RECORD_WORD_PADDING as LENGTH_WORD_PADDING,
  assertCapacityBytes,
  atomicsWaitAsync,
  recordSpanBytes,
  settleOnceWithKeepAlive,
} from './ring-shared.js';

const MAGIC = 0x45565452; // 'EVTR'
const LAYOUT_VERSION = 1;

const WORD_MAGIC = 0;
const WORD_LAYOUT_VERSION = 1;
const WORD_CAPACITY_BYTES = 2;
const WORD_CURSOR_SLOTS_MAX = 3;
const WORD_PUBLISHED_POSITION = 16;
const WORD_CURSORS_WAITING = 32;
const WORD_RELEASE_EPOCH = 48;
const WORD_PRODUCER_WAITING = 49;
const WORDS_PER_LINE = 16;
const SLOT_LINE_FIRST = 4;

const SLOT_FREE = 0;
const SLOT_CLAIMED = 1;
const SLOT_OPEN = 2;
/** Set by the producer on a cursor that held it up too long: ignored from then on, freed by its close. */
const SLOT_EVICTED = 3;

/**
 * What `poll` throws on a cursor the producer evicted (see `EventRing.evictSlowest`): records it had not
 * read may have been overwritten, so it cannot go on. Close it; open a new cursor to follow again.
 */
export class CursorEvictedError extends Error {
  constructor(slot: number) {
    super(`cursor slot ${slot} was evicted by the producer: it held the ring full too long`);
    this.name = 'CursorEvictedError';
  }
}

/** Most cursor slots: the producer scans them all on every publish. */
const cursorSlotsLimit = 1024;

/**
 * Word indices and sizes of the event ring layout, for tests that place positions near the 2^32 wrap or
 * inspect padding.
 * @internal
 */
export const eventRingLayout = Object.freeze({
  wordPublishedPosition: WORD_PUBLISHED_POSITION,
  lengthWordPadding: LENGTH_WORD_PADDING,
  slotOpen: SLOT_OPEN,
  slotStateWord,
  controlBytes: controlBytesFor,
});

/**
 * The typed views one handle keeps on the buffer; shared by an `EventRing` and its cursors.
 * @internal
 */
export interface EventRingViews {
  readonly control: Int32Array;
  readonly words: Int32Array;
  readonly data: Uint8Array;
  readonly capacityBytes: number;
  readonly indexMask: number;
  readonly recordBytesMax: number;
}

/**
 * Single-producer ring of variable-length byte records with independent cursors, in a SharedArrayBuffer.
 *
 * One thread publishes (`tryPublish`, `publishSync`); any thread opens cursors (`openCursor`). Every
 * thread uses its own handle (`create` once, `attach` elsewhere).
 */
export class EventRing {
  /** The shared memory; post it to another thread and `attach` there. */
  readonly buffer: SharedArrayBuffer;
  /** Size of the data area in bytes, a power of two. */
  readonly capacityBytes: number;
  /** Longest payload `tryPublish` accepts: `capacityBytes / 2 - 8`. Longer is a `RangeError`. */
  readonly recordBytesMax: number;
  /** Number of cursors that can be open at once, over all threads. */
  readonly cursorSlotsMax: number;

  private readonly views: EventRingViews;
  /**
   * releaseEpoch as loaded by this handle's latest `tryPublish`, before it read the cursor positions. A
   * wait for space waits for the epoch to move past it, so a cursor that advances between a failed
   * `tryPublish` and the wait is not missed.
   */
  private releaseEpochSeen = 0;

  private constructor(buffer: SharedArrayBuffer) {
    const header = new Int32Array(buffer, 0, WORDS_PER_LINE);
    assert(Atomics.load(header, WORD_MAGIC) === MAGIC, 'the buffer holds an event ring');
    assert(Atomics.load(header, WORD_LAYOUT_VERSION) === LAYOUT_VERSION, 'the layout version is known');
    const capacityBytes = Atomics.load(header, WORD_CAPACITY_BYTES);
    const cursorSlotsMax = Atomics.load(header, WORD_CURSOR_SLOTS_MAX);
    assertCapacityBytes(capacityBytes);
    assertCursorSlotsMax(cursorSlotsMax);
    const controlBytes = controlBytesFor(cursorSlotsMax);
    assert(buffer.byteLength === controlBytes + capacityBytes, 'the buffer is control words plus data area');
    this.buffer = buffer;
    this.capacityBytes = capacityBytes;
    this.recordBytesMax = capacityBytes / 2 - RECORD_HEADER_BYTES;
    this.cursorSlotsMax = cursorSlotsMax;
    this.views = {
      control: new Int32Array(buffer, 0, controlBytes / 4),
      words: new Int32Array(buffer, controlBytes, capacityBytes / 4),
      data: new Uint8Array(buffer, controlBytes, capacityBytes),
      capacityBytes,
      indexMask: capacityBytes - 1,
      recordBytesMax: this.recordBytesMax,
    };
  }

  /**
   * Allocates a ring whose data area holds `capacityBytes` (a power of two, 64 B to 1 GiB), with room for
   * `cursorSlotsMax` (1 to 1024) cursors open at once.
   * @throws RingAssertionError when an argument is out of range.
   */
  static create(capacityBytes: number, cursorSlotsMax: number): EventRing {
    assertCapacityBytes(capacityBytes);
    assertCursorSlotsMax(cursorSlotsMax);
    const buffer = new SharedArrayBuffer(controlBytesFor(cursorSlotsMax) + capacityBytes);
    const header = new Int32Array(buffer, 0, WORDS_PER_LINE);
    // Atomic stores, so a thread that attaches later reads the layout through Atomics.load whatever way
    // the buffer travelled to it.
    Atomics.store(header, WORD_CAPACITY_BYTES, capacityBytes);
    Atomics.store(header, WORD_CURSOR_SLOTS_MAX, cursorSlotsMax);
    Atomics.store(header, WORD_LAYOUT_VERSION, LAYOUT_VERSION);
    Atomics.store(header, WORD_MAGIC, MAGIC);
    return new EventRing(buffer);
  }

  /**
   * Opens a handle on a ring created elsewhere (typically another thread); the control words describe
   * the whole layout, capacity and slot count included.
   * @throws RingAssertionError when `buffer` does not hold an event ring.
   */
  static attach(buffer: SharedArrayBuffer): EventRing {
    assert(buffer instanceof SharedArrayBuffer, 'attach takes a SharedArrayBuffer');
    assert(buffer.byteLength >= WORDS_PER_LINE * 4, 'the buffer is long enough for the header line');
    return new EventRing(buffer);
  }

  /**
   * Producer (one thread), never blocks: writes `record` and publishes it to every open cursor.
   * @returns true once published; false when the slowest open cursor has not freed enough space.
   * @throws RangeError when `record` is longer than `recordBytesMax`.
   */
  tryPublish(record: Uint8Array): boolean {
    const { control, words, data, capacityBytes, indexMask } = this.views;
    const payloadBytes = record.byteLength;
    if (payloadBytes > this.recordBytesMax) {
      throw new RangeError(`record of ${payloadBytes} bytes exceeds recordBytesMax ${this.recordBytesMax}`);
    }
    const spanBytes = recordSpanBytes(payloadBytes);
    // This thread is the only writer of publishedPosition, so the load returns its own latest store.
    const publishedPosition = Atomics.load(control, WORD_PUBLISHED_POSITION);
    // Load releaseEpoch before the cursor positions. A cursor stores its position and then adds to
    // releaseEpoch, so if this load misses an advance, a later wait compares against a stale epoch and
    // returns at once.
    this.releaseEpochSeen = Atomics.load(control, WORD_RELEASE_EPOCH);
    const usedBytes = this.lagBytesMax(publishedPosition);
    const index = publishedPosition & indexMask;
    const bytesToEnd = capacityBytes - index;
    const paddingBytes = bytesToEnd < spanBytes ? bytesToEnd : 0;
    if (usedBytes > capacityBytes) return false; // a cursor is still opening; see openCursor
    if (capacityBytes - usedBytes < paddingBytes + spanBytes) return false;
    const recordIndex = paddingBytes === 0 ? index : 0;
    // Plain writes: no cursor reads these bytes until publishedPosition covers them, and the Atomics.store
    // below orders them before it for any cursor whose Atomics.load sees the new position.
    if (paddingBytes > 0) words[index >> 2] = LENGTH_WORD_PADDING;
    words[recordIndex >> 2] = payloadBytes + 1;
    words[(recordIndex >> 2) + 1] = ~payloadBytes;
    data.set(record, recordIndex + RECORD_HEADER_BYTES);
    Atomics.store(control, WORD_PUBLISHED_POSITION, (publishedPosition + paddingBytes + spanBytes) | 0);
    // Store publishedPosition, then load cursorsWaiting; a waiting cursor adds to cursorsWaiting, then
    // loads publishedPosition. One side sees the other: the cursor finds the new position and does not
    // sleep, or the producer finds the waiter and notifies (or the wait finds the value changed).
    if (Atomics.load(control, WORD_CURSORS_WAITING) > 0) {
      Atomics.notify(control, WORD_PUBLISHED_POSITION);
    }
    return true;
  }

  /**
   * Producer on a worker thread: `tryPublish`, and while the slowest open cursor holds the space, sleep
   * (Atomics.wait) until a cursor advances or closes, up to `timeoutMs` in total. Blocks the calling
   * thread. `timeoutMs` must be finite; it bounds the loop.
   * @returns true once published; false on timeout, with nothing published.
   * @throws RangeError when `record` is longer than `recordBytesMax`.
   */
  publishSync(record: Uint8Array, timeoutMs: number): boolean {
    const { control } = this.views;
    assert(Number.isFinite(timeoutMs), 'publishSync takes a finite timeoutMs');
    assert(timeoutMs >= 0, 'publishSync takes a timeoutMs >= 0');
    if (this.tryPublish(record)) return true;
    const deadlineMs = performance.now() + timeoutMs;
    // Bounded by the deadline: every round either publishes, or sleeps until a cursor releases space or
    // the deadline passes, and the round after the deadline is the last.
    for (;;) {
      // Store producerWaiting = 1 before loading releaseEpoch and the cursor positions (in tryPublish). A
      // cursor stores its position, adds to releaseEpoch, then loads producerWaiting. One side sees the
      // other: tryPublish sees the new position, or the cursor sees the waiter and notifies, or the epoch
      // has already moved and Atomics.wait returns 'not-equal'.
      Atomics.store(control, WORD_PRODUCER_WAITING, 1);
      const published = this.tryPublish(record);
      const remainingMs = deadlineMs - performance.now();
      if (!published && remainingMs > 0) {
        Atomics.wait(control, WORD_RELEASE_EPOCH, this.releaseEpochSeen, remainingMs);
      }
      Atomics.store(control, WORD_PRODUCER_WAITING, 0);
      if (published) return true;
      if (remainingMs <= 0) return false;
    }
  }

  /**
   * Producer: evicts the open cursor that lags furthest (the one holding the space), except
   * `protectedSlot`: the producer stops waiting for it, and its next `poll` throws CursorEvictedError.
   * For a producer that must not wait forever on a reader that stopped reading (its thread ended
   * without closing it, or hangs).
   * @returns the evicted slot, or -1 when no other cursor is open.
   */
  evictSlowest(protectedSlot: number): number {
    const { control } = this.views;
    const publishedPosition = Atomics.load(control, WORD_PUBLISHED_POSITION);
    let slowest = -1;
    let lagBytesMax = -1;
    for (let slot = 0; slot < this.cursorSlotsMax; slot++) {
      const stateWord = slotStateWord(slot);
      if (slot === protectedSlot || Atomics.load(control, stateWord) !== SLOT_OPEN) continue;
      const lagBytes = (publishedPosition - Atomics.load(control, stateWord + 1)) >>> 0;
      if (lagBytes > lagBytesMax) {
        lagBytesMax = lagBytes;
        slowest = slot;
      }
    }
    if (slowest < 0) return -1;
    // compareExchange: a cursor closing at this moment keeps its slot free.
    if (Atomics.compareExchange(control, slotStateWord(slowest), SLOT_OPEN, SLOT_EVICTED) !== SLOT_OPEN) return -1;
    // Wake the evicted cursor if it sleeps, so it learns at once.
    Atomics.notify(control, WORD_PUBLISHED_POSITION);
    return slowest;
  }

  /** Position just past the latest published record (unsigned, modulo 2^32). */
  publishedPosition(): number {
    return Atomics.load(this.views.control, WORD_PUBLISHED_POSITION) >>> 0;
  }

  /** Bytes published and not yet passed by the slowest open cursor: occupancy for metrics. */
  usedBytes(): number {
    const publishedPosition = Atomics.load(this.views.control, WORD_PUBLISHED_POSITION);
    return Math.min(this.lagBytesMax(publishedPosition), this.capacityBytes);
  }

  /**
   * Any thread: claims a free cursor slot and returns a cursor that starts at the current published
   * position (it sees only records published after it opened).
   * @throws RangeError when all `cursorSlotsMax` slots are open.
   */
  openCursor(): EventCursor {
    const { control } = this.views;
    for (let slot = 0; slot < this.cursorSlotsMax; slot++) {
      const stateWord = slotStateWord(slot);
      const positionWord = stateWord + 1;
      // Claim first: a claimed slot is this thread's alone, and the producer ignores it.
      if (Atomics.compareExchange(control, stateWord, SLOT_FREE, SLOT_CLAIMED) !== SLOT_FREE) continue;
      // Why two loads of publishedPosition. The producer loads slotState for this slot once per publish.
      // A publish that loaded it before the store of SLOT_OPEN below ignores this cursor; a publish that
      // loaded it after respects whatever slotPosition it then reads.
      // - Any publish overwrites only positions below its own start (see the invariants), and every
      //   publish that missed SLOT_OPEN started from a publishedPosition stored before that load of
      //   slotState, hence before the second load here. So positionStart, from the second load, is at or
      //   past every byte such a publish overwrote.
      // - A publish that saw SLOT_OPEN may read positionFirst (from the first load, possibly stale) or
      //   positionStart; both are <= positionStart, so it overwrites nothing this cursor will read. If
      //   positionFirst is so stale that it lags by more than capacityBytes, the producer only reports
      //   "no space" until positionStart is stored and the release below wakes it.
      const positionFirst = Atomics.load(control, WORD_PUBLISHED_POSITION);
      Atomics.store(control, positionWord, positionFirst);
      Atomics.store(control, stateWord, SLOT_OPEN);
      const positionStart = Atomics.load(control, WORD_PUBLISHED_POSITION);
      Atomics.store(control, positionWord, positionStart);
      if (positionStart !== positionFirst) signalRelease(control);
      return new EventCursor(this.views, slot, positionStart);
    }
    throw new RangeError(`all ${this.cursorSlotsMax} cursor slots are open`);
  }

  /** Largest distance from an open cursor to `publishedPosition`; 0 with no cursor open. */
  private lagBytesMax(publishedPosition: number): number {
    const { control } = this.views;
    let lagBytesMax = 0;
    for (let slot = 0; slot < this.cursorSlotsMax; slot++) {
      const stateWord = slotStateWord(slot);
      // Load the state, then the position: a cursor stores its position before SLOT_OPEN, so an open
      // state read here comes with a position that cursor has stored.
      if (Atomics.load(control, stateWord) !== SLOT_OPEN) continue;
      const lagBytes = (publishedPosition - Atomics.load(control, stateWord + 1)) >>> 0;
      if (lagBytes > lagBytesMax) lagBytesMax = lagBytes;
    }
    return lagBytesMax;
  }
}

/**
 * One reader's position in an `EventRing`, in one slot of the shared slot table. Use it from the thread
 * that opened it, and `close` it when done, or the producer keeps waiting for it.
 */
export class EventCursor {
  /** Index of the shared slot this cursor holds. */
  readonly slot: number;

  private readonly views: EventRingViews;
  private readonly stateWord: number;
  private readonly positionWord: number;
  private positionNow: number;
  private closed = false;

  /** @internal Cursors come from `EventRing.openCursor`. */
  constructor(views: EventRingViews, slot: number, position: number) {
    this.views = views;
    this.slot = slot;
    this.stateWord = slotStateWord(slot);
    this.positionWord = this.stateWord + 1;
    this.positionNow = position;
  }

  /** Position just past the latest record this cursor consumed (unsigned, modulo 2^32). */
  position(): number {
    return this.positionNow >>> 0;
  }

  /**
   * Visits up to `maxRecords` records published after this cursor's position, in order, then advances
   * the position and frees their space for the producer (waking it if it waits). The array passed to
   * `visit` is a view into the shared buffer, valid only during that call. If `visit` throws, the records
   * before it are consumed, that one is not, and the error propagates.
   * @returns the number of records visited.
   * @throws CursorEvictedError once the producer evicted this cursor (`EventRing.evictSlowest`).
   */
  poll(visit: (record: Uint8Array) => void, maxRecords: number): number {
    const { control, words, data, capacityBytes, indexMask, recordBytesMax } = this.views;
    assert(!this.closed, 'poll is not called on a closed cursor');
    if (this.evicted()) throw new CursorEvictedError(this.slot);
    assert(Number.isInteger(maxRecords), 'poll takes an integer maxRecords');
    assert(maxRecords > 0, 'poll takes maxRecords > 0');
    // Atomics.load of publishedPosition pairs with the producer's Atomics.store: every record before it
    // is fully written and visible to the plain reads below.
    const publishedPosition = Atomics.load(control, WORD_PUBLISHED_POSITION);
    // Evicted between the check above and here: the producer may have run a whole ring past it.
    if (((publishedPosition - this.positionNow) >>> 0) > capacityBytes && this.evicted()) throw new CursorEvictedError(this.slot);
    assert(((publishedPosition - this.positionNow) >>> 0) <= capacityBytes, 'an open cursor lags by <= capacity');
    const positionStart = this.positionNow;
    let position = positionStart;
    let recordCount = 0;
    try {
      // Bounded by maxRecords: every iteration visits a record or leaves the loop.
      while (recordCount < maxRecords && position !== publishedPosition) {
        let index = position & indexMask;
        let lengthWord = words[index >> 2];
        if (lengthWord === LENGTH_WORD_PADDING) {
          position = (position + capacityBytes - index) | 0;
          assert(position !== publishedPosition, 'padding is published together with the record after it');
          index = 0;
          lengthWord = words[0];
          assert(lengthWord !== LENGTH_WORD_PADDING, 'padding never starts at index 0');
        }
        const payloadBytes = lengthWord - 1;
        assert(payloadBytes >= 0, 'a published length word is a payload length plus one');
        assert(payloadBytes <= recordBytesMax, 'a published payload is within recordBytesMax');
        assert(words[(index >> 2) + 1] === ~payloadBytes, 'the check word matches the length word');
        const payloadIndex = index + RECORD_HEADER_BYTES;
        visit(data.subarray(payloadIndex, payloadIndex + payloadBytes));
        position = (position + recordSpanBytes(payloadBytes)) | 0;
        recordCount += 1;
      }
    } finally {
      if (position !== positionStart) this.advance(position);
    }
    return recordCount;
  }

  /**
   * Never blocks the thread (Atomics.waitAsync): resolves true when something was published past this
   * cursor's position (at once if it already was), false after `timeoutMs`. Without a finite timeout the
   * pending wait alone does not keep Node's event loop alive; with one, a timer does until it settles.
   */
  waitAsync(timeoutMs: number = Infinity): Promise<boolean> {
    const { control } = this.views;
    assert(!this.closed, 'waitAsync is not called on a closed cursor');
    assert(timeoutMs >= 0, 'waitAsync takes a timeoutMs >= 0');
    // Add to cursorsWaiting before loading publishedPosition: the mirror of tryPublish's store of
    // publishedPosition before its load of cursorsWaiting.
    Atomics.add(control, WORD_CURSORS_WAITING, 1);
    const publishedPosition = Atomics.load(control, WORD_PUBLISHED_POSITION);
    if (publishedPosition !== this.positionNow) {
      Atomics.sub(control, WORD_CURSORS_WAITING, 1);
      return Promise.resolve(true);
    }
    const waited = atomicsWaitAsync(control, WORD_PUBLISHED_POSITION, publishedPosition, timeoutMs);
    if (!waited.async) {
      Atomics.sub(control, WORD_CURSORS_WAITING, 1);
      return Promise.resolve(waited.value === 'not-equal');
    }
    return settleOnceWithKeepAlive(waited.value, timeoutMs).then((woken) => {
      Atomics.sub(control, WORD_CURSORS_WAITING, 1);
      return woken;
    });
  }

  /**
   * Blocks the thread (Atomics.wait) until something was published past this cursor's position (returns
   * at once if it already was) or `timeoutMs` passes.
   * @returns true if something new may be there, false on timeout.
   */
  waitSync(timeoutMs: number): boolean {
    const { control } = this.views;
    assert(!this.closed, 'waitSync is not called on a closed cursor');
    assert(timeoutMs >= 0, 'waitSync takes a timeoutMs >= 0');
    // Same handshake as waitAsync.
    Atomics.add(control, WORD_CURSORS_WAITING, 1);
    const publishedPosition = Atomics.load(control, WORD_PUBLISHED_POSITION);
    let waited: 'ok' | 'not-equal' | 'timed-out' = 'not-equal';
    if (publishedPosition === this.positionNow) {
      waited = Atomics.wait(control, WORD_PUBLISHED_POSITION, publishedPosition, timeoutMs);
    }
    Atomics.sub(control, WORD_CURSORS_WAITING, 1);
    return waited !== 'timed-out';
  }

  /** True once the producer evicted this cursor (see `EventRing.evictSlowest`). */
  evicted(): boolean {
    return !this.closed && Atomics.load(this.views.control, this.stateWord) === SLOT_EVICTED;
  }

  /**
   * Releases the slot (also an evicted one): the producer stops counting this cursor, and a waiting
   * producer wakes. Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.views.control, this.stateWord, SLOT_FREE);
    signalRelease(this.views.control);
  }

  /** Publishes the new position, then tells a waiting producer that space may have been freed. */
  private advance(position: number): void {
    this.positionNow = position;
    Atomics.store(this.views.control, this.positionWord, position);
    signalRelease(this.views.control);
  }
}

/**
 * After a cursor stored a later position (or freed its slot): add to releaseEpoch, then load
 * producerWaiting, the mirror of publishSync's store of producerWaiting before its loads of releaseEpoch
 * and the positions.
 */
function signalRelease(control: Int32Array): void {
  Atomics.add(control, WORD_RELEASE_EPOCH, 1);
  if (Atomics.load(control, WORD_PRODUCER_WAITING) !== 0) {
    Atomics.notify(control, WORD_RELEASE_EPOCH);
  }
}

function slotStateWord(slot: number): number {
  return (SLOT_LINE_FIRST + slot) * WORDS_PER_LINE;
}

function controlBytesFor(cursorSlotsMax: number): number {
  return (SLOT_LINE_FIRST + cursorSlotsMax) * WORDS_PER_LINE * 4;
}

function assertCursorSlotsMax(cursorSlotsMax: number): void {
  assert(Number.isInteger(cursorSlotsMax), 'cursorSlotsMax is an integer');
  assert(cursorSlotsMax >= 1, 'cursorSlotsMax is at least 1');
  assert(cursorSlotsMax <= cursorSlotsLimit, `cursorSlotsMax is at most ${cursorSlotsLimit}`);
}
