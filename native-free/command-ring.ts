/**
 * Command ring: a multi-producer, single-consumer queue of variable-length byte records in one
 * SharedArrayBuffer, driven only by Atomics (no native addon, no locks).
 *
 * Owns: the layout of the buffer below, the reservation protocol among producers, the commit protocol
 * between producers and the consumer, and the sleep/wake handshakes in both directions. The record
 * framing (header size, padding word, 8-byte rounding), the capacity bounds and the async-wait helpers
 * are shared with the event ring and live in ring-shared.ts.
 *
 * Called by: any thread that submits commands (the broker's main thread through `tryWrite` and
 * `waitForSpaceAsync`, worker threads through `writeSync`) and by exactly one consumer, the writer thread
 * (`read`, `waitForData`). `attach` gives another thread its own handle on the same buffer.
 *
 * Invariants (positions are byte counters modulo 2^32; distances are `(a - b) >>> 0`):
 * - consumedPosition <= every committed record <= reservedPosition, and
 *   reservedPosition - consumedPosition <= capacityBytes.
 * - Positions are multiples of 8; so are record lengths (header + payload, rounded up).
 * - A record is contiguous in the data area: it is never split across the end. When it does not fit
 *   before the end, a padding marker fills the rest and the record starts at index 0, both in one
 *   reservation.
 * - Every byte of the free region [reservedPosition, consumedPosition + capacityBytes) is zero, so the
 *   commit word of a reserved-but-uncommitted record reads 0.
 * - A record's commit word is the last thing its producer stores; the consumer never reads past a 0.
 *
 * Must never: block the main thread (only `writeSync` and `waitForData` block, and neither belongs on
 * it); hand a visitor a record that is not committed; split, reorder within a producer, or drop a record;
 * let a record that fits the ring wait forever on an empty ring; run a loop without a bound.
 *
 * Memory layout (one SharedArrayBuffer; w<n> is Int32 word n; each hot word has its own 64-byte line so
 * producers and the consumer do not invalidate each other's cache lines):
 *
 *   byte 0
 *   +- line 0 ---------------------------------------------------------------------------+
 *   | w0 magic 'CMDR' | w1 layoutVersion | w2 capacityBytes | w3..w15 zero             |
 *   +- line 1 ---------------------------------------------------------------------------+
 *   | w16 reservedPosition   producers: compareExchange to reserve                     |
 *   +- line 2 ---------------------------------------------------------------------------+
 *   | w32 consumedPosition   consumer: store after zeroing what it consumed            |
 *   +- line 3 ---------------------------------------------------------------------------+
 *   | w48 commitCount        producers: add after each commit; consumer: wait on it    |
 *   +- line 4 ---------------------------------------------------------------------------+
 *   | w64 consumerSleeping   consumer: 1 around its wait | w65 wakePending  wake(): 1   |
 *   +- line 5 ---------------------------------------------------------------------------+
 *   | w80 spaceEpoch         consumer: add after each release; producers: wait on it   |
 *   | w81 producersWaiting   producers: add 1 / sub 1 around a wait for space          |
 *   +------------------------------------------------------------------------------------+
 *   byte 384: data area, capacityBytes (a power of two), index = position & (capacityBytes - 1)
 *   +----------+----------+------------------------------------+-----------+
 *   | record A | record B |            free (all zero)         | padding   |  record C starts at 0
 *   +----------+----------+------------------------------------+-----------+  when it would cross
 *   ^ consumedPosition    ^ reservedPosition                                  the end
 *
 *   record (8-byte aligned):
 *   +---------------------+---------------------+---------------------------------------------+
 *   | i32 commitWord      | i32 checkWord       | payload bytes, then zeros to an 8-byte bound |
 *   +---------------------+---------------------+---------------------------------------------+
 *   commitWord:  0 = free, or reserved and not yet committed
 *               -1 = padding: skip to index 0 (the rest of the padding is zero)
 *            n > 0 = committed record of n - 1 payload bytes
 *   checkWord:  ~payloadBytes, written before the commit word and asserted by the consumer.
 *
 * recordBytesMax = capacityBytes / 2 - 8, so a record spans at most half the data area: padding (shorter
 * than the record it precedes) plus the record always fit an empty ring, which is why back-pressure can
 * only delay a record, never refuse it forever.
 */
import { assert } from './assert.js';
import {
  RECORD_HEADER_BYTES,
  RECORD_WORD_PADDING as COMMIT_WORD_PADDING,
  assertCapacityBytes,
  atomicsWaitAsync,
  recordSpanBytes,
  settleOnceWithKeepAlive,
} from './ring-shared.js';

const MAGIC = 0x434d4452; // 'CMDR'
const LAYOUT_VERSION = 1;

const WORD_MAGIC = 0;
const WORD_LAYOUT_VERSION = 1;
const WORD_CAPACITY_BYTES = 2;
const WORD_RESERVED_POSITION = 16;
const WORD_CONSUMED_POSITION = 32;
const WORD_COMMIT_COUNT = 48;
const WORD_CONSUMER_SLEEPING = 64;
const WORD_WAKE_PENDING = 65;
const WORD_SPACE_EPOCH = 80;
const WORD_PRODUCERS_WAITING = 81;

const CONTROL_BYTES = 6 * 64;
const COMMIT_WORD_EMPTY = 0;

/**
 * Reservation attempts per `tryWrite`. Each failed compare-exchange means another producer reserved, so
 * the ring as a whole progressed; after this many the call reports "no space right now" rather than spin.
 */
const reserveAttemptsMax = 1024;

/**
 * Word indices and sizes of the command ring layout, for tests that act as a stalled producer or inspect
 * the data area.
 * @internal
 */
export const commandRingLayout = Object.freeze({
  controlBytes: CONTROL_BYTES,
  recordHeaderBytes: RECORD_HEADER_BYTES,
  wordReservedPosition: WORD_RESERVED_POSITION,
  wordConsumedPosition: WORD_CONSUMED_POSITION,
  commitWordPadding: COMMIT_WORD_PADDING,
});

/**
 * Multi-producer, single-consumer ring of variable-length byte records in a SharedArrayBuffer.
 *
 * Producers on any thread call `tryWrite`, `writeSync` or `waitForSpaceAsync`; exactly one consumer thread
 * calls `read` and `waitForData`. Every thread uses its own handle (`create` once, `attach` elsewhere).
 */
export class CommandRing {
  /** The shared memory; post it to another thread and `attach` there. */
  readonly buffer: SharedArrayBuffer;
  /** Size of the data area in bytes, a power of two. */
  readonly capacityBytes: number;
  /** Longest payload `tryWrite` accepts: `capacityBytes / 2 - 8`. Longer is a `RangeError`. */
  readonly recordBytesMax: number;

  private readonly control: Int32Array;
  private readonly words: Int32Array;
  private readonly data: Uint8Array;
  private readonly indexMask: number;
  /**
   * spaceEpoch as loaded by this handle's latest `tryWrite`, before it looked at consumedPosition. A wait
   * for space waits for the epoch to move past it, so a release that lands between a failed `tryWrite`
   * and the wait is not lost.
   */
  private spaceEpochSeen = 0;

  private constructor(buffer: SharedArrayBuffer) {
    const control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    assert(Atomics.load(control, WORD_MAGIC) === MAGIC, 'the buffer holds a command ring');
    assert(Atomics.load(control, WORD_LAYOUT_VERSION) === LAYOUT_VERSION, 'the layout version is known');
    const capacityBytes = Atomics.load(control, WORD_CAPACITY_BYTES);
    assertCapacityBytes(capacityBytes);
    assert(buffer.byteLength === CONTROL_BYTES + capacityBytes, 'the buffer is control words plus data area');
    this.buffer = buffer;
    this.capacityBytes = capacityBytes;
    this.recordBytesMax = capacityBytes / 2 - RECORD_HEADER_BYTES;
    this.control = control;
    this.words = new Int32Array(buffer, CONTROL_BYTES, capacityBytes / 4);
    this.data = new Uint8Array(buffer, CONTROL_BYTES, capacityBytes);
    this.indexMask = capacityBytes - 1;
  }

  /**
   * Allocates a ring whose data area holds `capacityBytes` (a power of two, 64 B to 1 GiB).
   * @throws RingAssertionError when `capacityBytes` is out of range or not a power of two.
   */
  static create(capacityBytes: number): CommandRing {
    assertCapacityBytes(capacityBytes);
    const buffer = new SharedArrayBuffer(CONTROL_BYTES + capacityBytes);
    const control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    // Atomic stores, so a thread that attaches later reads the layout through Atomics.load whatever way
    // the buffer travelled to it.
    Atomics.store(control, WORD_CAPACITY_BYTES, capacityBytes);
    Atomics.store(control, WORD_LAYOUT_VERSION, LAYOUT_VERSION);
    Atomics.store(control, WORD_MAGIC, MAGIC);
    return new CommandRing(buffer);
  }

  /**
   * Opens a handle on a ring created elsewhere (typically another thread); the control words describe
   * the whole layout, capacity included.
   * @throws RingAssertionError when `buffer` does not hold a command ring.
   */
  static attach(buffer: SharedArrayBuffer): CommandRing {
    assert(buffer instanceof SharedArrayBuffer, 'attach takes a SharedArrayBuffer');
    assert(buffer.byteLength >= CONTROL_BYTES, 'the buffer is long enough for the control words');
    return new CommandRing(buffer);
  }

  /**
   * Producer, any thread, never blocks: copies `record` into the ring and commits it. With
   * `wakeConsumer` false, a sleeping consumer is not woken: the caller must call
   * `wakeConsumerIfSleeping()` after its burst.
   * @returns true once the record is committed and visible to the consumer; false when the free space
   *   is too small right now (or producers contended for more than `reserveAttemptsMax` attempts).
   * @throws RangeError when `record` is longer than `recordBytesMax`.
   */
  tryWrite(record: Uint8Array, wakeConsumer = true): boolean {
    const payloadBytes = record.byteLength;
    if (payloadBytes > this.recordBytesMax) {
      throw new RangeError(`record of ${payloadBytes} bytes exceeds recordBytesMax ${this.recordBytesMax}`);
    }
    const spanBytes = recordSpanBytes(payloadBytes);
    // Load spaceEpoch before consumedPosition. The consumer stores consumedPosition and then adds to
    // spaceEpoch, so if this load misses a release, the epoch a later wait compares against is stale and
    // that wait returns at once instead of sleeping through the release.
    this.spaceEpochSeen = Atomics.load(this.control, WORD_SPACE_EPOCH);
    for (let attempt = 0; attempt < reserveAttemptsMax; attempt++) {
      // Load reservedPosition before consumedPosition: consumedPosition only grows and never passes a
      // reservation, so a consumedPosition loaded later is current enough. If another producer and the
      // consumer both moved between the two loads, consumedPosition can be past the stale reserved one;
      // the distance then wraps above capacityBytes, and the snapshot is retried.
      const reservedPosition = Atomics.load(this.control, WORD_RESERVED_POSITION);
      const consumedPosition = Atomics.load(this.control, WORD_CONSUMED_POSITION);
      const usedBytes = (reservedPosition - consumedPosition) >>> 0;
      if (usedBytes > this.capacityBytes) continue;
      const index = reservedPosition & this.indexMask;
      const bytesToEnd = this.capacityBytes - index;
      const paddingBytes = bytesToEnd < spanBytes ? bytesToEnd : 0;
      if (this.capacityBytes - usedBytes < paddingBytes + spanBytes) return false;
      const reservedPositionNext = (reservedPosition + paddingBytes + spanBytes) | 0;
      // Reserve by compare-exchange: success makes [reservedPosition, reservedPositionNext) this
      // producer's alone. Space computed from the snapshot stays free, because consumedPosition only
      // grows. (ABA would need 2^32 bytes of reservations between the load and the exchange.)
      if (Atomics.compareExchange(this.control, WORD_RESERVED_POSITION, reservedPosition, reservedPositionNext)
        !== reservedPosition) {
        continue;
      }
      this.commit(index, paddingBytes, record, wakeConsumer);
      return true;
    }
    return false;
  }

  /**
   * Producer on a worker thread: `tryWrite`, and while the ring is too full, sleep (Atomics.wait) until
   * the consumer frees space, up to `timeoutMs` in total. Blocks the calling thread: not for the main
   * thread. `timeoutMs` must be finite; it bounds the loop.
   * @returns true once committed; false on timeout, with nothing written.
   * @throws RangeError when `record` is longer than `recordBytesMax`.
   */
  writeSync(record: Uint8Array, timeoutMs: number): boolean {
    assert(Number.isFinite(timeoutMs), 'writeSync takes a finite timeoutMs');
    assert(timeoutMs >= 0, 'writeSync takes a timeoutMs >= 0');
    if (this.tryWrite(record)) return true;
    const deadlineMs = performance.now() + timeoutMs;
    // Bounded by the deadline: every round either writes, or sleeps until the consumer releases space or
    // the deadline passes, and the round after the deadline is the last.
    for (;;) {
      // Announce the waiter before trying. The consumer stores consumedPosition, adds to spaceEpoch, then
      // loads producersWaiting; this side adds to producersWaiting, then loads spaceEpoch and
      // consumedPosition (in tryWrite). With sequentially consistent Atomics one of the two sees the
      // other: either tryWrite sees the freed space, or the consumer sees the waiter and notifies, or the
      // epoch has already moved and Atomics.wait returns 'not-equal'.
      Atomics.add(this.control, WORD_PRODUCERS_WAITING, 1);
      const written = this.tryWrite(record);
      const remainingMs = deadlineMs - performance.now();
      if (!written && remainingMs > 0) {
        Atomics.wait(this.control, WORD_SPACE_EPOCH, this.spaceEpochSeen, remainingMs);
      }
      Atomics.sub(this.control, WORD_PRODUCERS_WAITING, 1);
      if (written) return true;
      if (remainingMs <= 0) return false;
    }
  }

  /**
   * Producer on the main thread, never blocks: resolves once the consumer has freed space since this
   * handle's latest failed `tryWrite`, or after `timeoutMs`. Then call `tryWrite` again; space can be
   * taken by another producer first. Without a finite timeout the pending wait alone does not keep Node's
   * event loop alive (Node does not count Atomics.waitAsync); with one, a timer does until it settles.
   */
  waitForSpaceAsync(timeoutMs: number = Infinity): Promise<void> {
    assert(timeoutMs >= 0, 'waitForSpaceAsync takes a timeoutMs >= 0');
    // Same handshake as writeSync: producersWaiting goes up before the epoch is compared, and the epoch
    // compared is the one tryWrite loaded before it looked at consumedPosition.
    Atomics.add(this.control, WORD_PRODUCERS_WAITING, 1);
    const waited = atomicsWaitAsync(this.control, WORD_SPACE_EPOCH, this.spaceEpochSeen, timeoutMs);
    if (!waited.async) {
      Atomics.sub(this.control, WORD_PRODUCERS_WAITING, 1);
      return Promise.resolve();
    }
    return settleOnceWithKeepAlive(waited.value, timeoutMs).then(() => {
      Atomics.sub(this.control, WORD_PRODUCERS_WAITING, 1);
    });
  }

  /**
   * Consumer (exactly one thread): visits committed records in order, at most `maxRecords` of them and,
   * after the first, no more than `maxBytes` payload bytes in total (the first is always visited, so one
   * long record cannot stall the ring). Stops at the first reserved-but-uncommitted record. The array
   * passed to `visit` is a view into the shared buffer, valid only during that call. The visited records'
   * space is zeroed and released, and producers waiting for space are woken. If `visit` throws, the
   * records before it are consumed, that one is not, and the error propagates.
   * @returns the number of records consumed.
   */
  read(visit: (record: Uint8Array) => void, maxRecords: number, maxBytes: number): number {
    assert(Number.isInteger(maxRecords), 'read takes an integer maxRecords');
    assert(maxRecords > 0, 'read takes maxRecords > 0');
    assert(maxBytes >= 0, 'read takes maxBytes >= 0');
    const consumedPosition = Atomics.load(this.control, WORD_CONSUMED_POSITION);
    let position = consumedPosition;
    let recordCount = 0;
    let payloadBytesTotal = 0;
    try {
      // Bounded by maxRecords: every iteration visits a record or leaves the loop.
      while (recordCount < maxRecords) {
        // A ring filled to the last byte wraps onto its own first record, whose commit word is zeroed
        // only by the release after this loop: stop after one whole data area.
        if (((position - consumedPosition) >>> 0) === this.capacityBytes) break;
        let index = position & this.indexMask;
        // Atomics.load of the commit word pairs with the producer's Atomics.store of it: once it reads
        // non-zero, the producer's plain writes of check word and payload (made before that store) are
        // visible here.
        let commitWord = Atomics.load(this.words, index >> 2);
        if (commitWord === COMMIT_WORD_PADDING) {
          position = (position + this.capacityBytes - index) | 0;
          // The padding's reservation also holds the record after it, so this cannot be a whole lap.
          assert(((position - consumedPosition) >>> 0) < this.capacityBytes, 'padding is followed by its record');
          index = 0;
          commitWord = Atomics.load(this.words, 0);
          assert(commitWord !== COMMIT_WORD_PADDING, 'padding never starts at index 0');
        }
        if (commitWord === COMMIT_WORD_EMPTY) break;
        const payloadBytes = commitWord - 1;
        assert(payloadBytes >= 0, 'a commit word is -1, 0 or a payload length plus one');
        assert(payloadBytes <= this.recordBytesMax, 'a committed payload is within recordBytesMax');
        assert(this.words[(index >> 2) + 1] === ~payloadBytes, 'the check word matches the commit word');
        if (recordCount > 0 && payloadBytesTotal + payloadBytes > maxBytes) break;
        const payloadIndex = index + RECORD_HEADER_BYTES;
        visit(this.data.subarray(payloadIndex, payloadIndex + payloadBytes));
        position = (position + recordSpanBytes(payloadBytes)) | 0;
        recordCount += 1;
        payloadBytesTotal += payloadBytes;
      }
    } finally {
      if (position !== consumedPosition) this.release(consumedPosition, position);
    }
    return recordCount;
  }

  /**
   * Consumer: returns at once if a committed record (or padding) is at the head or `wake` was called
   * since the last wait; otherwise sleeps (Atomics.wait, blocks the thread) until a producer commits,
   * `wake` is called, or `timeoutMs` passes.
   * @returns true if data may be there (or a wake arrived), false on timeout.
   */
  waitForData(timeoutMs: number, spinMicros = 0): boolean {
    assert(timeoutMs >= 0, 'waitForData takes a timeoutMs >= 0');
    // A bounded look before sleeping (the bench prices it): a record committed meanwhile is taken without
    // the sleep and the wake-up, each about 25 µs, at the price of the CPU spent looking.
    if (spinMicros > 0) {
      const until = performance.now() + spinMicros / 1000;
      while (performance.now() < until) {
        if (this.hasCommitWordAtHead() || Atomics.load(this.control, WORD_WAKE_PENDING) !== 0) return true;
      }
    }
    // The consumer stores consumerSleeping = 1 and then loads commitCount; a producer stores its commit
    // word, adds to commitCount and then loads consumerSleeping. Sequentially consistent Atomics order
    // the four accesses, so at least one side sees the other:
    // - the producer's add comes before this load: its commit word is visible to the check below;
    // - this load comes before the producer's add: the producer then sees consumerSleeping = 1 and
    //   notifies, or Atomics.wait finds commitCount changed and returns 'not-equal'.
    Atomics.store(this.control, WORD_CONSUMER_SLEEPING, 1);
    const commitCount = Atomics.load(this.control, WORD_COMMIT_COUNT);
    let waited: 'ok' | 'not-equal' | 'timed-out' = 'not-equal';
    const wakePending = Atomics.exchange(this.control, WORD_WAKE_PENDING, 0) !== 0;
    if (!wakePending && !this.hasCommitWordAtHead()) {
      waited = Atomics.wait(this.control, WORD_COMMIT_COUNT, commitCount, timeoutMs);
    }
    Atomics.store(this.control, WORD_CONSUMER_SLEEPING, 0);
    return waited !== 'timed-out';
  }

  /**
   * Consumer: `waitForData` without blocking the thread, for a consumer that also waits for something
   * its event loop delivers (the writer, while an fdatasync runs on the thread pool; it calls `wake`
   * when that ends). Same handshake; resolves true if data may be there or a wake arrived, false on
   * timeout. At most one wait of either kind at a time.
   */
  async waitForDataAsync(timeoutMs: number): Promise<boolean> {
    assert(timeoutMs >= 0, 'waitForDataAsync takes a timeoutMs >= 0');
    Atomics.store(this.control, WORD_CONSUMER_SLEEPING, 1);
    const commitCount = Atomics.load(this.control, WORD_COMMIT_COUNT);
    let dataMayBeThere = true;
    const wakePending = Atomics.exchange(this.control, WORD_WAKE_PENDING, 0) !== 0;
    if (!wakePending && !this.hasCommitWordAtHead()) {
      const waited = atomicsWaitAsync(this.control, WORD_COMMIT_COUNT, commitCount, timeoutMs);
      if (waited.async) dataMayBeThere = await settleOnceWithKeepAlive(waited.value, timeoutMs);
      else dataMayBeThere = waited.value === 'not-equal';
    }
    Atomics.store(this.control, WORD_CONSUMER_SLEEPING, 0);
    return dataMayBeThere;
  }

  /**
   * Wakes the consumer from `waitForData` (for shutdown). Sticky: if the consumer is not asleep, its next
   * `waitForData` returns true at once.
   */
  wake(): void {
    // wakePending is stored before commitCount moves, so a consumer whose commitCount load misses the add
    // still finds wakePending set (and one whose load sees it would find Atomics.wait 'not-equal').
    Atomics.store(this.control, WORD_WAKE_PENDING, 1);
    Atomics.add(this.control, WORD_COMMIT_COUNT, 1);
    Atomics.notify(this.control, WORD_COMMIT_COUNT);
  }

  /** Bytes reserved and not yet released (committed, in flight, and padding): occupancy for metrics. */
  usedBytes(): number {
    const consumedPosition = Atomics.load(this.control, WORD_CONSUMED_POSITION);
    const reservedPosition = Atomics.load(this.control, WORD_RESERVED_POSITION);
    // consumedPosition may be stale by the time reservedPosition is loaded; clamp the overestimate.
    return Math.min((reservedPosition - consumedPosition) >>> 0, this.capacityBytes);
  }

  /** Copies payload and check word, then stores padding and commit words, then wakes a sleeping consumer. */
  private commit(index: number, paddingBytes: number, record: Uint8Array, wakeConsumer: boolean): void {
    const recordIndex = paddingBytes === 0 ? index : 0;
    const payloadBytes = record.byteLength;
    // The consumer zeroed this space before releasing it; a non-zero word here means the zeroing or the
    // reservation arithmetic is broken, and the consumer would take the stale word for a commit.
    assert(Atomics.load(this.words, recordIndex >> 2) === COMMIT_WORD_EMPTY, 'a reserved commit word reads 0');
    this.data.set(record, recordIndex + RECORD_HEADER_BYTES);
    this.words[(recordIndex >> 2) + 1] = ~payloadBytes;
    if (paddingBytes > 0) {
      assert(Atomics.load(this.words, index >> 2) === COMMIT_WORD_EMPTY, 'a reserved padding word reads 0');
      Atomics.store(this.words, index >> 2, COMMIT_WORD_PADDING);
    }
    // The commit word is stored last and atomically: a consumer that reads it non-zero also sees the
    // payload and check word written above.
    Atomics.store(this.words, recordIndex >> 2, payloadBytes + 1);
    // Add to commitCount, then load consumerSleeping: the order waitForData's comment relies on.
    Atomics.add(this.control, WORD_COMMIT_COUNT, 1);
    if (wakeConsumer) this.wakeConsumerIfSleeping();
  }

  /**
   * Producer: wakes the consumer if it sleeps. `tryWrite(record, false)` leaves this to the caller, so a
   * burst of records costs one wake-up (about 25 µs each) instead of one per record. Correct whenever it
   * is called after the burst's commits: the commit count was added before this load of
   * consumerSleeping, so either the consumer saw the new count and did not sleep, or it sleeps now and
   * this notify wakes it.
   */
  wakeConsumerIfSleeping(): void {
    if (Atomics.load(this.control, WORD_CONSUMER_SLEEPING) !== 0) {
      // Every waiter, not one: a `waitForDataAsync` that timed out can stay queued for a moment, and a
      // notify of one could land on it instead of the consumer's current wait.
      Atomics.notify(this.control, WORD_COMMIT_COUNT);
    }
  }

  /**
   * Zeroes [from, to) and then publishes `to` as consumedPosition.
   *
   * Why zero: a new record's commit word lands wherever an old record's payload was. If the old bytes
   * stayed, a record that a producer has reserved but not yet committed would show a stale non-zero word
   * and the consumer would read garbage as a committed record. Zeroing makes "reserved, not committed"
   * read 0. The fill happens before the Atomics.store of consumedPosition, so a producer that sees the
   * new position (Atomics.load) also sees the zeros, and its own writes come after them.
   */
  private release(from: number, to: number): void {
    const freedBytes = (to - from) >>> 0;
    assert(freedBytes <= this.capacityBytes, 'a release frees at most the whole data area');
    const start = from & this.indexMask;
    const firstBytes = Math.min(freedBytes, this.capacityBytes - start);
    this.data.fill(0, start, start + firstBytes);
    if (freedBytes > firstBytes) this.data.fill(0, 0, freedBytes - firstBytes);
    // Store consumedPosition, add to spaceEpoch, then load producersWaiting: the mirror of writeSync's
    // add(producersWaiting) before load(spaceEpoch) and load(consumedPosition). Notify all waiters: each
    // needs a different amount of space.
    Atomics.store(this.control, WORD_CONSUMED_POSITION, to);
    Atomics.add(this.control, WORD_SPACE_EPOCH, 1);
    if (Atomics.load(this.control, WORD_PRODUCERS_WAITING) > 0) {
      Atomics.notify(this.control, WORD_SPACE_EPOCH);
    }
  }

  /** Consumer: true when a committed record (or padding before one) waits at the head. */
  hasRecord(): boolean {
    return this.hasCommitWordAtHead();
  }

  private hasCommitWordAtHead(): boolean {
    const consumedPosition = Atomics.load(this.control, WORD_CONSUMED_POSITION);
    return Atomics.load(this.words, (consumedPosition & this.indexMask) >> 2) !== COMMIT_WORD_EMPTY;
  }
}
