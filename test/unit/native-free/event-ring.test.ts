/**
 * Unit tests of the event ring on one thread: framing, wrap-around, cursors (independence, slots, close,
 * late open), back-pressure from the slowest cursor, and the wake-ups. The concurrent properties are in
 * `test/property/rings-threads.test.ts`.
 *
 * How: records come from a seeded generator and every cursor is checked byte for byte against the list
 * of what was published. Positions near 2^32 are set through `eventRingLayout` before any cursor opens.
 * Races are played on one thread by hooking Atomics.store: the producer laps the ring at the exact
 * moment a cursor is about to mark its slot open, and a cursor polls the moment publishedPosition lands.
 *
 * Seen to fail against deliberate breaks of the compiled ring (each reverted):
 * - `openCursor` keeping its first load of publishedPosition: "a cursor that opens while the producer
 *   publishes" fails (the thread tests rarely hit that window);
 * - free space computed without the open cursors: "a slow cursor holds back the producer", "close
 *   frees the space", the round-trip and wrap tests fail;
 * - publishedPosition stored before the record is written: "publishedPosition is stored last" fails;
 * - padding branch removed: the wrap-around and round-trip tests fail;
 * - a publish never notifying waiting cursors: the waitAsync test never resolves (ava reports it).
 */
import test from 'ava';
import { RingAssertionError } from '../../../native-free/assert.js';
import { CursorEvictedError, EventRing, eventRingLayout, type EventCursor } from '../../../native-free/event-ring.js';
import { bytesEqual, createRandom } from '../../helpers/ring-streams.js';

function patterned(payloadBytes: number, tag: number): Uint8Array {
  const record = new Uint8Array(payloadBytes);
  for (let index = 0; index < payloadBytes; index++) record[index] = (tag * 29 + index * 11 + 3) & 0xff;
  return record;
}

/** Polls everything the cursor can see, copying each record out of the shared buffer. */
function drain(cursor: EventCursor, maxRecords = 1_000_000): Uint8Array[] {
  const records: Uint8Array[] = [];
  cursor.poll((record) => records.push(record.slice()), maxRecords);
  return records;
}

/** Sets the published position of a ring with no cursor open, as if 2^32-scale traffic had passed. */
function placeRingAt(ring: EventRing, position: number): void {
  const control = new Int32Array(ring.buffer, 0, eventRingLayout.controlBytes(ring.cursorSlotsMax) / 4);
  Atomics.store(control, eventRingLayout.wordPublishedPosition, position | 0);
}

type AtomicsStore = (array: Int32Array, index: number, value: number) => number;
type StoreHook = (array: Int32Array, index: number, value: number) => void;

/**
 * Runs `body` with `hook` called around every Atomics.store on `buffer`: `before` runs before the store
 * lands, `after` once it has. This lets one thread play the other party at an exact point of a
 * handshake. Synchronous, so no other test runs while the global is replaced.
 */
function withStoreHook<T>(
  buffer: SharedArrayBuffer,
  hook: { before?: StoreHook; after?: StoreHook },
  body: () => T,
): T {
  const atomics = Atomics as unknown as { store: AtomicsStore };
  const storeOriginal = atomics.store;
  atomics.store = (array, index, value) => {
    if (array.buffer !== buffer) return storeOriginal(array, index, value);
    hook.before?.(array, index, value);
    const stored = storeOriginal(array, index, value);
    hook.after?.(array, index, value);
    return stored;
  };
  try {
    return body();
  } finally {
    atomics.store = storeOriginal;
  }
}

test('create rejects bad capacities and cursor slot counts', (t) => {
  t.throws(() => EventRing.create(1000, 4), { instanceOf: RingAssertionError });
  t.throws(() => EventRing.create(32, 4), { instanceOf: RingAssertionError });
  t.throws(() => EventRing.create(1024, 0), { instanceOf: RingAssertionError });
  t.throws(() => EventRing.create(1024, 1025), { instanceOf: RingAssertionError });
  const ring = EventRing.create(1024, 4);
  t.is(ring.recordBytesMax, 504);
  t.is(ring.cursorSlotsMax, 4);
  t.is(ring.buffer.byteLength, eventRingLayout.controlBytes(4) + 1024);
});

test('a record longer than recordBytesMax is a RangeError; one of exactly recordBytesMax fits', (t) => {
  const ring = EventRing.create(256, 2);
  const cursor = ring.openCursor();
  t.throws(() => ring.tryPublish(new Uint8Array(ring.recordBytesMax + 1)), { instanceOf: RangeError });
  t.throws(() => ring.publishSync(new Uint8Array(ring.recordBytesMax + 1), 0), { instanceOf: RangeError });
  t.is(ring.publishedPosition(), 0);
  t.true(ring.tryPublish(patterned(ring.recordBytesMax, 1)));
  const records = drain(cursor);
  t.is(records.length, 1);
  t.true(bytesEqual(records[0], patterned(ring.recordBytesMax, 1)));
});

test('round trip: records of random sizes from 0 to recordBytesMax reach a cursor intact and in order', (t) => {
  const ring = EventRing.create(1024, 2);
  const cursor = ring.openCursor();
  const random = createRandom(0xe7e);
  const sizes = [0, 1, 2, 7, 8, 9, ring.recordBytesMax - 1, ring.recordBytesMax];
  const pending: Uint8Array[] = [];
  let published = 0;
  for (let step = 0; step < 3000; step++) {
    const payloadBytes = step < sizes.length ? sizes[step] : random() % (ring.recordBytesMax + 1);
    const record = patterned(payloadBytes, published);
    if (ring.tryPublish(record)) {
      pending.push(record);
      published += 1;
      continue;
    }
    cursor.poll((got) => {
      const want = pending.shift();
      if (want === undefined || !bytesEqual(got, want)) t.fail(`record differs at step ${step}`);
    }, 1 + (random() % 4));
  }
  const rest = drain(cursor);
  t.is(rest.length, pending.length);
  t.true(rest.every((record, index) => bytesEqual(record, pending[index])));
  t.true(published > 1000, 'the ring wrapped many times');
  t.is(ring.usedBytes(), 0);
  t.is(cursor.position(), ring.publishedPosition());
});

test('wrap-around at every 8-byte alignment near the end: padding then the record at index 0', (t) => {
  const capacityBytes = 256;
  for (let gapBytes = 8; gapBytes <= 136; gapBytes += 8) {
    for (const payloadBytes of [0, 1, gapBytes - 9, gapBytes - 8, gapBytes - 7, 120]) {
      if (payloadBytes < 0 || payloadBytes > 120) continue;
      const ring = EventRing.create(capacityBytes, 1);
      placeRingAt(ring, capacityBytes - gapBytes);
      const cursor = ring.openCursor();
      const record = patterned(payloadBytes, gapBytes);
      t.true(ring.tryPublish(record));
      const spanBytes = (8 + payloadBytes + 7) & ~7;
      const crosses = spanBytes > gapBytes;
      t.is(ring.usedBytes(), crosses ? gapBytes + spanBytes : spanBytes, `gap ${gapBytes}, payload ${payloadBytes}`);
      const words = new Int32Array(ring.buffer, eventRingLayout.controlBytes(1));
      if (crosses) t.is(words[(capacityBytes - gapBytes) / 4], eventRingLayout.lengthWordPadding);
      t.is(words[(crosses ? 0 : capacityBytes - gapBytes) / 4], payloadBytes + 1);
      const records = drain(cursor);
      t.is(records.length, 1);
      t.true(bytesEqual(records[0], record));
      t.is(ring.usedBytes(), 0);
    }
  }
});

test('two cursors read the same records independently, at their own pace', (t) => {
  const ring = EventRing.create(1024, 2);
  const fast = ring.openCursor();
  const slow = ring.openCursor();
  t.not(fast.slot, slow.slot);
  const published: Uint8Array[] = [];
  for (let tag = 0; tag < 8; tag++) {
    published.push(patterned(10 * tag, tag));
    t.true(ring.tryPublish(published[tag]));
  }
  const fastRecords = drain(fast);
  const slowFirst = drain(slow, 3);
  const slowRest = drain(slow);
  t.is(fastRecords.length, 8);
  t.is(slowFirst.length, 3);
  t.is(slowRest.length, 5);
  const slowRecords = [...slowFirst, ...slowRest];
  t.true(published.every((record, index) => bytesEqual(record, fastRecords[index])));
  t.true(published.every((record, index) => bytesEqual(record, slowRecords[index])));
  t.is(drain(fast).length, 0);
});

test('a slow cursor holds back the producer until it advances', (t) => {
  const ring = EventRing.create(256, 2);
  const fast = ring.openCursor();
  const slow = ring.openCursor();
  let published = 0;
  // Bounded: the ring holds five such records; reaching the limit means the slow cursor is ignored.
  for (; published < 1000 && ring.tryPublish(patterned(40, published)); published++) drain(fast);
  t.is(published, 5, 'five 48-byte records, then padding plus a record would not fit');
  t.is(ring.usedBytes(), 240, 'the slow cursor has not passed anything');
  t.false(ring.publishSync(patterned(40, published), 0), 'publishSync with no time left reports the timeout');
  t.is(drain(slow, 1).length, 1);
  t.true(ring.tryPublish(patterned(40, published)));
  t.is(drain(fast).length, 1);
  t.is(drain(slow).length, 5);
  t.is(ring.usedBytes(), 0);
});

test('close frees the space a cursor held', (t) => {
  const ring = EventRing.create(256, 2);
  const idle = ring.openCursor();
  let published = 0;
  for (; published < 1000 && ring.tryPublish(patterned(100, published)); published++);
  t.is(published, 2, 'the idle cursor holds the space');
  t.false(ring.tryPublish(patterned(100, 2)));
  idle.close();
  t.true(ring.tryPublish(patterned(100, 2)));
  t.is(ring.usedBytes(), 0, 'with no cursor open nothing is held');
  idle.close(); // idempotent
  t.throws(() => idle.poll(() => undefined, 1), { instanceOf: RingAssertionError });
  t.throws(() => idle.waitSync(0), { instanceOf: RingAssertionError });
});

test('with no cursor open the producer never waits', (t) => {
  const ring = EventRing.create(256, 1);
  for (let tag = 0; tag < 100; tag++) t.true(ring.tryPublish(patterned(ring.recordBytesMax, tag)));
  t.is(ring.usedBytes(), 0);
});

test('cursor slots exhausted is a RangeError; a closed slot can be opened again', (t) => {
  const ring = EventRing.create(256, 3);
  const attached = EventRing.attach(ring.buffer);
  const cursors = [ring.openCursor(), attached.openCursor(), ring.openCursor()];
  t.deepEqual(cursors.map((cursor) => cursor.slot).sort(), [0, 1, 2]);
  t.throws(() => ring.openCursor(), { instanceOf: RangeError });
  t.throws(() => attached.openCursor(), { instanceOf: RangeError }, 'slots are shared by every handle');
  cursors[1].close();
  const reopened = attached.openCursor();
  t.is(reopened.slot, cursors[1].slot);
});

test('a cursor opened later starts at the published position and sees only newer records', (t) => {
  const ring = EventRing.create(512, 2);
  const early = ring.openCursor();
  t.true(ring.tryPublish(patterned(5, 1)));
  t.true(ring.tryPublish(patterned(6, 2)));
  const late = ring.openCursor();
  t.is(late.position(), ring.publishedPosition());
  t.is(drain(late).length, 0);
  t.true(ring.tryPublish(patterned(7, 3)));
  t.deepEqual(drain(late).map((record) => record.byteLength), [7]);
  t.deepEqual(drain(early).map((record) => record.byteLength), [5, 6, 7]);
});

test('attach on the same buffer shares capacity, records and positions', (t) => {
  const ring = EventRing.create(512, 2);
  const attached = EventRing.attach(ring.buffer);
  t.is(attached.capacityBytes, 512);
  t.is(attached.cursorSlotsMax, 2);
  const cursor = attached.openCursor();
  t.true(ring.tryPublish(patterned(12, 1)));
  t.is(attached.publishedPosition(), ring.publishedPosition());
  t.is(attached.usedBytes(), 24);
  const records = drain(cursor);
  t.is(records.length, 1);
  t.true(bytesEqual(records[0], patterned(12, 1)));
  t.is(ring.usedBytes(), 0);
});

test('attach rejects a buffer that does not hold an event ring', (t) => {
  t.throws(() => EventRing.attach(new SharedArrayBuffer(4096)), { instanceOf: RingAssertionError });
  t.throws(() => EventRing.attach(new SharedArrayBuffer(8)), { instanceOf: RingAssertionError });
});

test('a visitor that throws consumes the records before it and leaves its own for the next poll', (t) => {
  const ring = EventRing.create(512, 1);
  const cursor = ring.openCursor();
  for (let tag = 0; tag < 3; tag++) t.true(ring.tryPublish(patterned(10 + tag, tag)));
  let visits = 0;
  const failure = new Error('visitor failed');
  t.throws(
    () =>
      cursor.poll(() => {
        visits += 1;
        if (visits === 2) throw failure;
      }, 10),
    { is: failure },
  );
  t.deepEqual(drain(cursor).map((record) => record.byteLength), [11, 12]);
});

test('positions wrap modulo 2^32 (through 2^31 and 2^32) without losing or splitting records', (t) => {
  for (const start of [2 ** 31 - 512, 2 ** 32 - 512]) {
    const ring = EventRing.create(256, 1);
    placeRingAt(ring, start);
    const cursor = ring.openCursor();
    t.is(cursor.position(), start);
    const random = createRandom(start);
    const pending: Uint8Array[] = [];
    for (let step = 0; step < 400; step++) {
      const record = patterned(random() % (ring.recordBytesMax + 1), step);
      if (ring.tryPublish(record)) pending.push(record);
      else cursor.poll((got) => t.true(bytesEqual(got, pending.shift() ?? new Uint8Array(1))), 2);
      t.true(ring.usedBytes() <= ring.capacityBytes);
    }
    const rest = drain(cursor);
    t.is(rest.length, pending.length);
    t.true(rest.every((record, index) => bytesEqual(record, pending[index])));
    t.true(((ring.publishedPosition() - start) >>> 0) > 4 * 1024, 'traffic crossed the wrap point');
  }
});

test('waitSync: false on timeout when nothing is new, true once something is published', (t) => {
  const ring = EventRing.create(256, 1);
  const cursor = ring.openCursor();
  t.false(cursor.waitSync(0));
  t.true(ring.tryPublish(patterned(1, 1)));
  t.true(cursor.waitSync(0));
  drain(cursor);
  t.false(cursor.waitSync(0));
});

test('waitAsync resolves true after a publish, false on timeout, and never blocks', async (t) => {
  const ring = EventRing.create(256, 1);
  const cursor = ring.openCursor();
  t.false(await cursor.waitAsync(0));
  let settled = false;
  const waiting = cursor.waitAsync().then((woken) => {
    settled = true;
    return woken;
  });
  await new Promise((resolve) => setImmediate(resolve));
  t.false(settled, 'nothing was published yet');
  t.true(ring.tryPublish(patterned(2, 1)));
  t.true(await waiting);
  t.true(await cursor.waitAsync(), 'resolves at once while a record is unread');
  drain(cursor);
  t.false(await cursor.waitAsync(0));
});

test('a cursor that opens while the producer publishes starts past everything the producer overwrote', (t) => {
  // The race openCursor's second load of publishedPosition closes: the cursor loads publishedPosition,
  // then the producer scans the slots (missing the still-claimed slot) and laps the whole ring, and only
  // then does the cursor store SLOT_OPEN. Starting from its first load would leave it more than a lap
  // behind, on overwritten bytes.
  const ring = EventRing.create(256, 2);
  const producer = EventRing.attach(ring.buffer);
  let publishedInRace = 0;
  const cursor = withStoreHook(
    ring.buffer,
    {
      before: (array, index, value) => {
        if (publishedInRace > 0 || index !== eventRingLayout.slotStateWord(0)) return;
        if (value !== eventRingLayout.slotOpen) return;
        for (; publishedInRace < 6; publishedInRace++) t.true(producer.tryPublish(patterned(100, publishedInRace)));
      },
    },
    () => ring.openCursor(),
  );
  t.is(publishedInRace, 6);
  t.true(ring.publishedPosition() > ring.capacityBytes, 'the producer lapped the ring during the open');
  t.is(cursor.position(), ring.publishedPosition());
  t.is(drain(cursor).length, 0);
  t.true(ring.tryPublish(patterned(33, 7)));
  const records = drain(cursor);
  t.is(records.length, 1);
  t.true(bytesEqual(records[0], patterned(33, 7)));
});

test('publishedPosition is stored last: a cursor that sees it sees the whole record', (t) => {
  const ring = EventRing.create(1024, 1);
  const cursor = ring.openCursor();
  const seen: Uint8Array[] = [];
  withStoreHook(
    ring.buffer,
    {
      // Poll the moment publishedPosition lands, before tryPublish returns.
      after: (array, index) => {
        if (index === eventRingLayout.wordPublishedPosition) cursor.poll((record) => seen.push(record.slice()), 10);
      },
    },
    () => {
      for (let tag = 0; tag < 40; tag++) t.true(ring.tryPublish(patterned(10 + tag * 11, tag)));
    },
  );
  t.is(seen.length, 40);
  t.true(seen.every((record, tag) => bytesEqual(record, patterned(10 + tag * 11, tag))));
});

test('evictSlowest: the producer stops waiting for the slowest cursor (never the protected one); its poll throws; close frees the slot', (t) => {
  const ring = EventRing.create(1024, 3);
  const owner = ring.openCursor();
  const stalled = ring.openCursor();
  const record = new Uint8Array(100).fill(7);
  const consumeOwner = (): number => owner.poll(() => undefined, 1000);
  // Fill the ring: the owner keeps up, the stalled cursor never reads.
  let published = 0;
  while (ring.tryPublish(record)) {
    published++;
    consumeOwner();
  }
  t.true(published > 0);
  t.false(ring.tryPublish(record), 'the stalled cursor holds the space');
  t.is(ring.evictSlowest(owner.slot), stalled.slot);
  t.true(stalled.evicted());
  t.false(owner.evicted());
  t.true(ring.tryPublish(record), 'the producer no longer waits for the evicted cursor');
  t.throws(() => stalled.poll(() => undefined, 10), { instanceOf: CursorEvictedError });
  // Only the protected cursor is left: nothing to evict, and it still reads everything.
  t.is(ring.evictSlowest(owner.slot), -1);
  t.is(consumeOwner(), 1);
  stalled.close();
  const again = ring.openCursor();
  t.is(again.slot, stalled.slot, 'close frees an evicted slot for the next cursor');
  t.false(again.evicted());
});
