/**
 * Unit tests of the command ring on one thread: framing, wrap-around, back-pressure, the commit
 * protocol and the wake-ups. The concurrent properties are in `test/property/rings-threads.test.ts`.
 *
 * How: records come from a seeded generator and are checked byte for byte against a queue model of what
 * was written. Where a test needs a second party, the one thread plays it at an exact point: it reserves
 * through the control words as a stalled producer (`commandRingLayout`), places positions near 2^32, or
 * hooks Atomics.store to read the moment a commit word lands.
 *
 * Seen to fail against deliberate breaks of the compiled ring (each reverted):
 * - no fill(0) in `release`: most tests here fail (stale commit words read as records, "read zeroes what
 *   it consumed", "stops at a reserved but uncommitted record");
 * - commit word stored before the payload copy: "the commit word is stored last" fails;
 * - no whole-lap stop in `read`: "a ring filled to the last byte is read exactly once around" fails;
 * - `>>> 0` dropped from the used-bytes distance in `tryWrite`: "positions wrap modulo 2^32" fails;
 * - padding branch removed from `tryWrite`: the wrap-around and round-trip tests fail;
 * - release never notifying waiting producers: "waitForSpaceAsync resolves after the consumer frees
 *   space" never resolves (ava reports it).
 */
import test from 'ava';
import { RingAssertionError } from '../../../native-free/assert.js';
import { CommandRing, commandRingLayout } from '../../../native-free/command-ring.js';
import { allZero, bytesEqual, createRandom } from '../../helpers/ring-streams.js';

/** A record of `payloadBytes` bytes whose content depends on `tag`, so records differ. */
function patterned(payloadBytes: number, tag: number): Uint8Array {
  const record = new Uint8Array(payloadBytes);
  for (let index = 0; index < payloadBytes; index++) record[index] = (tag * 31 + index * 7 + 1) & 0xff;
  return record;
}

/** Reads everything committed, copying each record out of the shared buffer. */
function drain(ring: CommandRing, maxRecords = 1_000_000, maxBytes = Number.MAX_SAFE_INTEGER): Uint8Array[] {
  const records: Uint8Array[] = [];
  ring.read((record) => records.push(record.slice()), maxRecords, maxBytes);
  return records;
}

/** Writes records of `payloadBytes` until the ring refuses one; returns how many fit. */
function fill(ring: CommandRing, payloadBytes: number): number {
  // Bounded: a ring holds far fewer records than this; reaching it means the ring never reports full.
  for (let count = 0; count < 10_000; count++) {
    if (!ring.tryWrite(patterned(payloadBytes, count))) return count;
  }
  throw new Error('the ring never reported full');
}

function dataArea(ring: CommandRing): Uint8Array {
  return new Uint8Array(ring.buffer, commandRingLayout.controlBytes);
}

function controlWords(ring: CommandRing): Int32Array {
  return new Int32Array(ring.buffer, 0, commandRingLayout.controlBytes / 4);
}

/** Moves both positions of an empty ring to `position`, as if 2^32-scale traffic had passed. */
function placeEmptyRingAt(ring: CommandRing, position: number): void {
  const control = controlWords(ring);
  Atomics.store(control, commandRingLayout.wordReservedPosition, position | 0);
  Atomics.store(control, commandRingLayout.wordConsumedPosition, position | 0);
}

test('the commit word is stored last: a consumer that sees it sees the whole record', (t) => {
  const ring = CommandRing.create(1024);
  const seen: Uint8Array[] = [];
  const atomics = Atomics as unknown as { store: (array: Int32Array, index: number, value: number) => number };
  const storeOriginal = atomics.store;
  // Read the moment a commit word (a positive store into the data area) lands, before tryWrite returns.
  // Synchronous, so no other test runs while the global is replaced.
  atomics.store = (array, index, value) => {
    const stored = storeOriginal(array, index, value);
    if (array.buffer === ring.buffer && array.byteOffset === commandRingLayout.controlBytes && value > 0) {
      ring.read((record) => seen.push(record.slice()), 10, Number.MAX_SAFE_INTEGER);
    }
    return stored;
  };
  try {
    for (let tag = 0; tag < 40; tag++) t.true(ring.tryWrite(patterned(10 + tag * 11, tag)));
  } finally {
    atomics.store = storeOriginal;
  }
  t.is(seen.length, 40);
  t.true(seen.every((record, tag) => bytesEqual(record, patterned(10 + tag * 11, tag))));
  t.true(allZero(dataArea(ring)));
});

test('create rejects a capacity that is not a power of two, too small or too large', (t) => {
  t.throws(() => CommandRing.create(1000), { instanceOf: RingAssertionError });
  t.throws(() => CommandRing.create(32), { instanceOf: RingAssertionError });
  t.throws(() => CommandRing.create(2 ** 31), { instanceOf: RingAssertionError });
  t.throws(() => CommandRing.create(64.5), { instanceOf: RingAssertionError });
});

test('recordBytesMax is half the data area minus the 8-byte header', (t) => {
  const ring = CommandRing.create(4096);
  t.is(ring.capacityBytes, 4096);
  t.is(ring.recordBytesMax, 2040);
  t.is(ring.buffer.byteLength, commandRingLayout.controlBytes + 4096);
});

test('a record longer than recordBytesMax is a RangeError; one of exactly recordBytesMax fits', (t) => {
  const ring = CommandRing.create(256);
  t.throws(() => ring.tryWrite(new Uint8Array(ring.recordBytesMax + 1)), { instanceOf: RangeError });
  t.throws(() => ring.writeSync(new Uint8Array(ring.recordBytesMax + 1), 0), { instanceOf: RangeError });
  t.is(ring.usedBytes(), 0);
  const longest = patterned(ring.recordBytesMax, 1);
  t.true(ring.tryWrite(longest));
  const records = drain(ring);
  t.is(records.length, 1);
  t.true(bytesEqual(records[0], longest));
});

test('round trip: records of random sizes from 0 to recordBytesMax come out intact and in order', (t) => {
  const ring = CommandRing.create(1024);
  const random = createRandom(0x5eed);
  const pending: Uint8Array[] = [];
  const sizes = [0, 1, 2, 7, 8, 9, ring.recordBytesMax - 1, ring.recordBytesMax];
  let written = 0;
  let readCount = 0;
  for (let step = 0; step < 3000; step++) {
    const payloadBytes = step < sizes.length ? sizes[step] : random() % (ring.recordBytesMax + 1);
    const record = patterned(payloadBytes, written);
    if (ring.tryWrite(record)) {
      pending.push(record);
      written += 1;
      continue;
    }
    // Full: consume a random number of records and compare them with the model.
    const batch = 1 + (random() % 4);
    ring.read(
      (got) => {
        const want = pending.shift();
        t.truthy(want);
        if (want !== undefined && !bytesEqual(got, want)) t.fail(`record ${readCount} differs`);
        readCount += 1;
      },
      batch,
      Number.MAX_SAFE_INTEGER,
    );
  }
  const rest = drain(ring);
  t.is(rest.length, pending.length);
  t.true(rest.every((record, index) => bytesEqual(record, pending[index])));
  t.true(written > 1000, 'the ring wrapped many times');
  t.is(ring.usedBytes(), 0);
});

test('wrap-around at every 8-byte alignment near the end: padding then the record at index 0', (t) => {
  const capacityBytes = 256;
  for (let gapBytes = 8; gapBytes <= 136; gapBytes += 8) {
    for (const payloadBytes of [0, 1, gapBytes - 9, gapBytes - 8, gapBytes - 7, 120]) {
      if (payloadBytes < 0 || payloadBytes > 120) continue;
      const ring = CommandRing.create(capacityBytes);
      placeEmptyRingAt(ring, capacityBytes - gapBytes);
      const record = patterned(payloadBytes, gapBytes);
      t.true(ring.tryWrite(record));
      const spanBytes = (8 + payloadBytes + 7) & ~7;
      const crosses = spanBytes > gapBytes;
      t.is(ring.usedBytes(), crosses ? gapBytes + spanBytes : spanBytes, `gap ${gapBytes}, payload ${payloadBytes}`);
      const words = new Int32Array(ring.buffer, commandRingLayout.controlBytes);
      const recordIndex = crosses ? 0 : capacityBytes - gapBytes;
      if (crosses) t.is(words[(capacityBytes - gapBytes) / 4], commandRingLayout.commitWordPadding);
      t.is(words[recordIndex / 4], payloadBytes + 1);
      const records = drain(ring);
      t.is(records.length, 1);
      t.true(bytesEqual(records[0], record));
      t.is(ring.usedBytes(), 0);
      t.true(allZero(dataArea(ring)));
    }
  }
});

test('a full ring refuses tryWrite, and accepts the record again once read frees space', (t) => {
  const ring = CommandRing.create(256);
  const written = fill(ring, 40);
  t.is(written, 5, 'five 48-byte records, then padding plus a record would not fit');
  t.false(ring.tryWrite(patterned(40, 99)));
  t.false(ring.writeSync(patterned(40, 99), 0), 'writeSync with no time left reports the timeout');
  t.is(ring.read(() => undefined, 1, Number.MAX_SAFE_INTEGER), 1);
  t.true(ring.tryWrite(patterned(40, 99)));
  t.false(ring.tryWrite(patterned(40, 100)));
});

test('a ring filled to the last byte is read exactly once around', (t) => {
  const ring = CommandRing.create(256);
  for (let tag = 0; tag < 4; tag++) t.true(ring.tryWrite(patterned(56, tag)));
  t.is(ring.usedBytes(), 256);
  const records = drain(ring);
  t.is(records.length, 4);
  t.true(records.every((record, tag) => bytesEqual(record, patterned(56, tag))));
  t.is(ring.usedBytes(), 0);
  t.false(ring.waitForData(0));
});

test('a record that fits the ring but not the free space waits; it is never split', (t) => {
  const ring = CommandRing.create(256);
  t.true(ring.tryWrite(patterned(100, 1))); // 112 bytes at [0, 112)
  t.true(ring.tryWrite(patterned(100, 2))); // 112 bytes at [112, 224)
  t.is(ring.read(() => undefined, 1, Number.MAX_SAFE_INTEGER), 1); // frees [0, 112)
  // 32 bytes before the end, 112 free after the wrap: 120 payload (128 span) needs 32 + 128 > 144 free.
  t.false(ring.tryWrite(patterned(120, 3)));
  t.is(ring.usedBytes(), 112);
  t.is(drain(ring).length, 1);
  t.true(ring.tryWrite(patterned(120, 3)));
  const records = drain(ring);
  t.is(records.length, 1);
  t.true(bytesEqual(records[0], patterned(120, 3)));
});

test('attach on the same buffer shares capacity, records and positions', (t) => {
  const ring = CommandRing.create(512);
  const attached = CommandRing.attach(ring.buffer);
  t.is(attached.capacityBytes, 512);
  t.is(attached.recordBytesMax, ring.recordBytesMax);
  t.true(ring.tryWrite(patterned(10, 1)));
  t.true(attached.tryWrite(patterned(20, 2)));
  t.is(attached.usedBytes(), ring.usedBytes());
  const records = drain(attached);
  t.deepEqual(records.map((record) => record.byteLength), [10, 20]);
  t.true(bytesEqual(records[0], patterned(10, 1)));
  t.true(bytesEqual(records[1], patterned(20, 2)));
  t.is(ring.usedBytes(), 0);
});

test('attach rejects a buffer that does not hold a command ring', (t) => {
  t.throws(() => CommandRing.attach(new SharedArrayBuffer(commandRingLayout.controlBytes + 256)), {
    instanceOf: RingAssertionError,
  });
  t.throws(() => CommandRing.attach(new SharedArrayBuffer(16)), { instanceOf: RingAssertionError });
});

test('read stops at a reserved but uncommitted record, and continues once it is committed', (t) => {
  const ring = CommandRing.create(256);
  t.true(ring.tryWrite(patterned(16, 1)));
  // Act as a producer that reserved 16 bytes (8 payload) and has not committed yet.
  const control = controlWords(ring);
  const stalledPosition = Atomics.load(control, commandRingLayout.wordReservedPosition);
  Atomics.add(control, commandRingLayout.wordReservedPosition, 16);
  t.true(ring.tryWrite(patterned(24, 3)));
  const first = drain(ring);
  t.is(first.length, 1, 'the record after the reservation waits for it');
  t.true(bytesEqual(first[0], patterned(16, 1)));
  t.false(ring.waitForData(0), 'an uncommitted head is no data');
  // Commit it the way a producer does: payload, check word, then the commit word.
  const stalled = patterned(8, 2);
  const words = new Int32Array(ring.buffer, commandRingLayout.controlBytes);
  dataArea(ring).set(stalled, stalledPosition + commandRingLayout.recordHeaderBytes);
  words[stalledPosition / 4 + 1] = ~8;
  Atomics.store(words, stalledPosition / 4, 9);
  t.true(ring.waitForData(0));
  const rest = drain(ring);
  t.deepEqual(rest.map((record) => record.byteLength), [8, 24]);
  t.true(bytesEqual(rest[0], stalled));
  t.true(bytesEqual(rest[1], patterned(24, 3)));
});

test('read zeroes what it consumed, so the free region reads zero after any traffic', (t) => {
  const ring = CommandRing.create(512);
  const random = createRandom(7);
  for (let round = 0; round < 200; round++) {
    // Write up to a few records, fewer when the ring is full.
    const burst = 1 + (random() % 4);
    for (let count = 0; count < burst; count++) {
      if (!ring.tryWrite(patterned(random() % (ring.recordBytesMax + 1), round))) break;
    }
    drain(ring, 1 + (random() % 3));
  }
  drain(ring);
  t.is(ring.usedBytes(), 0);
  t.true(allZero(dataArea(ring)));
});

test('read honours maxRecords and maxBytes, and always visits a first record longer than maxBytes', (t) => {
  const ring = CommandRing.create(1024);
  for (let tag = 0; tag < 6; tag++) t.true(ring.tryWrite(patterned(50, tag)));
  t.is(ring.read(() => undefined, 2, Number.MAX_SAFE_INTEGER), 2);
  t.is(ring.read(() => undefined, 10, 100), 2, '50 + 50 <= 100, a third would exceed it');
  t.is(ring.read(() => undefined, 10, 10), 1, 'the first record is visited even when longer than maxBytes');
  t.is(ring.read(() => undefined, 10, Number.MAX_SAFE_INTEGER), 1);
  t.is(ring.read(() => undefined, 10, Number.MAX_SAFE_INTEGER), 0);
  t.throws(() => ring.read(() => undefined, 0, 10), { instanceOf: RingAssertionError });
});

test('a visitor that throws consumes the records before it and leaves its own in the ring', (t) => {
  const ring = CommandRing.create(512);
  for (let tag = 0; tag < 3; tag++) t.true(ring.tryWrite(patterned(10 + tag, tag)));
  let visits = 0;
  const failure = new Error('visitor failed');
  t.throws(
    () =>
      ring.read(
        () => {
          visits += 1;
          if (visits === 2) throw failure;
        },
        10,
        Number.MAX_SAFE_INTEGER,
      ),
    { is: failure },
  );
  t.deepEqual(drain(ring).map((record) => record.byteLength), [11, 12]);
});

test('positions wrap modulo 2^32 (through 2^31 and 2^32) without losing or splitting records', (t) => {
  for (const start of [2 ** 31 - 512, 2 ** 32 - 512]) {
    const ring = CommandRing.create(256);
    placeEmptyRingAt(ring, start);
    const random = createRandom(start);
    const pending: Uint8Array[] = [];
    let tag = 0;
    for (let step = 0; step < 400; step++) {
      const record = patterned(random() % (ring.recordBytesMax + 1), tag);
      if (ring.tryWrite(record)) {
        pending.push(record);
        tag += 1;
      } else {
        ring.read((got) => t.true(bytesEqual(got, pending.shift() ?? new Uint8Array(1))), 2, Infinity);
      }
      t.true(ring.usedBytes() <= ring.capacityBytes);
    }
    const rest = drain(ring);
    t.is(rest.length, pending.length);
    t.true(rest.every((record, index) => bytesEqual(record, pending[index])));
    const consumed = Atomics.load(controlWords(ring), commandRingLayout.wordConsumedPosition) >>> 0;
    t.true(((consumed - start) >>> 0) > 4 * 1024, 'traffic crossed the wrap point');
  }
});

test('waitForData: true when a record is committed, false on timeout when empty', (t) => {
  const ring = CommandRing.create(256);
  t.false(ring.waitForData(0));
  t.true(ring.tryWrite(patterned(3, 1)));
  t.true(ring.waitForData(0));
  drain(ring);
  t.false(ring.waitForData(0));
});

test('wake makes the next waitForData return true once, even when nobody was asleep', (t) => {
  const ring = CommandRing.create(256);
  ring.wake();
  t.true(ring.waitForData(0));
  t.false(ring.waitForData(0));
});

test('waitForSpaceAsync resolves after the consumer frees space', async (t) => {
  const ring = CommandRing.create(256);
  t.is(fill(ring, 100), 2);
  t.false(ring.tryWrite(patterned(100, 2)));
  let resolved = false;
  const waiting = ring.waitForSpaceAsync().then(() => {
    resolved = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  t.false(resolved, 'no space was freed yet');
  t.is(ring.read(() => undefined, 1, Number.MAX_SAFE_INTEGER), 1);
  await waiting;
  t.true(ring.tryWrite(patterned(100, 2)));
});

test('waitForSpaceAsync resolves at once when space was freed after the failed tryWrite', async (t) => {
  const ring = CommandRing.create(256);
  t.is(fill(ring, 100), 2);
  t.false(ring.tryWrite(patterned(100, 2)));
  drain(ring); // the release lands between the failed tryWrite and the wait
  let resolved = false;
  void ring.waitForSpaceAsync().then(() => {
    resolved = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  t.true(resolved, 'the release before the wait is not lost');
});

test('waitForSpaceAsync with a timeout resolves when nothing is freed', async (t) => {
  const ring = CommandRing.create(256);
  t.is(fill(ring, 100), 2);
  t.false(ring.tryWrite(patterned(100, 2)));
  await ring.waitForSpaceAsync(0);
  t.false(ring.tryWrite(patterned(100, 2)));
});
