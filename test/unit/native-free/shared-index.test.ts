/**
 * Unit and model tests of the shared index on one thread: round trips, versions, growth, arena reuse,
 * probing collisions, iteration, attach, limits, and a seeded property against a `Map` model. The
 * concurrent properties (no torn or half-section reads) are in `test/property/shared-index-threads.test.ts`.
 *
 * How: keys and values are generated from seeds and compared byte for byte with what was written; after
 * each write section the writer's `assertInvariants()` walks the whole structure. Collisions are forced
 * by choosing keys whose hash lands on the same home slot of a small fixed-size table. The model
 * property prints its seed; `SEED=<n>` replays it.
 *
 * Seen to fail against deliberate breaks of the compiled index and arena (each reverted):
 * - backward shift moving every later entry whatever its home (the distance test replaced by `true`):
 *   "collisions: delete and reinsert inside one cluster" and "forEachEntry ..." fail with "a live key is
 *   found from its home" (the home-7 key shifted before its home), and the model property fails;
 * - the arena never taking a block from a free list (always fresh space at the top): "replacing values
 *   of varying sizes reuses the arena" fails ("round 11: arena used 53936 B, buffer 65536 B");
 * - `free` not called when a replaced value changes size class: five tests fail, through
 *   assertInvariants ("bytesLive counts the live blocks") and the model property;
 * - growth without zeroing the old half of the table before inserting the saved slots again: six tests
 *   fail (stale slots left where the rebuilt table expects empty ones);
 * - `nextVersion` handing out the previous version again: "versions change on every set" fails
 *   ("round 1: a set gives a new version").
 */
import test from 'ava';
import fc from 'fast-check';
import { RingAssertionError } from '../../../native-free/assert.js';
import { SharedIndex, hashKey, type SharedIndexOptions } from '../../../native-free/shared-index.js';
import { bytesEqual, createRandom } from '../../helpers/ring-streams.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

function text(value: Uint8Array | undefined): string | undefined {
  return value === undefined ? undefined : decoder.decode(value);
}

/** Bytes of `length` whose content depends on `tag`. */
function patterned(length: number, tag: number): Uint8Array {
  const result = new Uint8Array(length);
  for (let index = 0; index < length; index++) result[index] = (tag * 131 + index * 7 + 3) & 0xff;
  return result;
}

const roomy: SharedIndexOptions = {
  slotCountInitial: 16,
  slotCountMax: 1 << 16,
  arenaBytesInitial: 1024,
  arenaBytesMax: 1 << 24,
};

/** Runs `body` inside one write section, then checks the whole structure. */
function section(index: SharedIndex, body: () => void): void {
  index.beginWrite();
  try {
    body();
  } finally {
    index.endWrite();
  }
  index.assertInvariants();
}

/** Keys (as text "c<n>") whose hash has home slot `home` in a table of `slotCount`. */
function keysWithHome(home: number, slotCount: number, count: number): string[] {
  const keys: string[] = [];
  // Bounded: about one candidate in slotCount matches.
  for (let candidate = 0; keys.length < count; candidate++) {
    if (candidate > 1_000_000) throw new Error('no keys found for the home slot');
    const key = `c${candidate}`;
    if ((hashKey(bytes(key)) & (slotCount - 1)) === home) keys.push(key);
  }
  return keys;
}

test('set, get, replace and delete round trip, with empty values, empty keys and long keys', (t) => {
  const index = SharedIndex.create(roomy);
  const longKey = patterned(10_000, 1);
  section(index, () => {
    index.set(bytes('group\0topic\x000'), bytes('record-1'));
    index.set(bytes('empty'), new Uint8Array(0));
    index.set(new Uint8Array(0), bytes('under the empty key'));
    index.set(longKey, patterned(3000, 2));
  });
  t.is(text(index.get(bytes('group\0topic\x000'))), 'record-1');
  t.is(index.get(bytes('empty'))?.length, 0);
  t.is(text(index.get(new Uint8Array(0))), 'under the empty key');
  t.true(bytesEqual(index.get(longKey) ?? new Uint8Array(1), patterned(3000, 2)));
  t.is(index.get(bytes('missing')), undefined);
  t.is(index.get(patterned(10_000, 3)), undefined, 'a long key that differs only in content is absent');

  section(index, () => {
    index.set(bytes('group\0topic\x000'), bytes('record-2, longer than before'));
    index.set(bytes('empty'), bytes('no longer empty'));
    t.true(index.delete(longKey));
    t.false(index.delete(longKey));
  });
  t.is(text(index.get(bytes('group\0topic\x000'))), 'record-2, longer than before');
  t.is(text(index.get(bytes('empty'))), 'no longer empty');
  t.is(index.get(longKey), undefined);
  t.is(index.stats().entries, 3);
});

test('get returns a copy that later writes do not change', (t) => {
  const index = SharedIndex.create(roomy);
  section(index, () => index.set(bytes('k'), bytes('first')));
  const seen = index.get(bytes('k'));
  section(index, () => index.set(bytes('k'), bytes('other')));
  t.is(text(seen), 'first');
  t.false(seen?.buffer instanceof SharedArrayBuffer);
});

test('versions change on every set, are 0 when absent and after delete, and are new after reinsert', (t) => {
  const index = SharedIndex.create(roomy);
  const key = bytes('versioned');
  t.is(index.version(key), 0);
  const seen = new Set<number>();
  for (let round = 0; round < 5; round++) {
    section(index, () => index.set(key, bytes('same value')));
    const version = index.version(key);
    t.true(version > 0);
    t.false(seen.has(version), `round ${round}: a set gives a new version`);
    seen.add(version);
  }
  section(index, () => {
    index.set(key, bytes('a'));
    index.set(key, bytes('b'));
  });
  t.false(seen.has(index.version(key)), 'two sets in one section still change the version');
  seen.add(index.version(key));
  section(index, () => index.delete(key));
  t.is(index.version(key), 0);
  section(index, () => index.set(key, bytes('again')));
  t.false(seen.has(index.version(key)), 'a reinserted key does not get an old version back');
});

test('growth of slots and arena with many keys', (t) => {
  const index = SharedIndex.create({ slotCountInitial: 4, slotCountMax: 1 << 14, arenaBytesInitial: 0, arenaBytesMax: 1 << 22 });
  const keyCount = 5000;
  // Sections of varying size, so growth happens in the middle of sections as well as at their start.
  for (let first = 0; first < keyCount; first += 1 + (first % 97)) {
    section(index, () => {
      for (let id = first; id < Math.min(keyCount, first + 1 + (first % 97)); id++) {
        index.set(bytes(`key-${id}`), patterned(id % 50, id));
      }
    });
  }
  const stats = index.stats();
  t.is(stats.entries, keyCount);
  t.true(stats.slotCount >= (keyCount * 4) / 3);
  t.true(stats.arenaBytes >= stats.arenaBytesLive);
  for (let id = 0; id < keyCount; id++) {
    if (!bytesEqual(index.get(bytes(`key-${id}`)) ?? new Uint8Array(1), patterned(id % 50, id))) {
      t.fail(`key-${id} lost its value after growth`);
      return;
    }
  }
  t.pass();
});

test('replacing values of varying sizes reuses the arena within the stated bound', (t) => {
  const index = SharedIndex.create(roomy);
  const random = createRandom(7);
  const keyCount = 50;
  const valueBytesMax = 300;
  // Bound from byte-arena.ts: top < (K + 1) * S(E), with E = 2 + key + value bytes <= 310, so
  // blockBytes(E) = 320 and S(E) = 16 + 32 + ... + 320 = 3,360; the buffer itself is at most twice its
  // top (it grows by doubling).
  const topBytesBound = (keyCount + 1) * 3360;
  for (let round = 0; round < 400; round++) {
    section(index, () => {
      for (let step = 0; step < 25; step++) {
        const id = random() % keyCount;
        index.set(bytes(`key-${id}`.padEnd(8, '.')), patterned(random() % (valueBytesMax + 1), round));
      }
    });
    const stats = index.stats();
    if (stats.arenaBytesLive + stats.arenaBytesFree >= topBytesBound || stats.arenaBytes >= 2 * topBytesBound) {
      t.fail(`round ${round}: arena used ${stats.arenaBytesLive + stats.arenaBytesFree} B, buffer ${stats.arenaBytes} B`);
      return;
    }
  }
  t.log(`after 10 000 replacements: ${JSON.stringify(index.stats())}`);
  t.pass();
});

test('collisions: delete and reinsert inside one cluster, including a cluster that wraps', (t) => {
  const slotCount = 16;
  const index = SharedIndex.create({ slotCountInitial: slotCount, slotCountMax: slotCount, arenaBytesInitial: 0, arenaBytesMax: 4096 });
  // Five keys share home 14, two home 15, two home 0: the cluster runs 14, 15, 0, ..., 6 and wraps. The
  // last key has home 7 and sits there, at its own home, at the end of the cluster: a deletion must not
  // shift it back past its home.
  const keys = [
    ...keysWithHome(14, slotCount, 5),
    ...keysWithHome(15, slotCount, 2),
    ...keysWithHome(0, slotCount, 2),
    ...keysWithHome(7, slotCount, 1),
  ];
  const model = new Map<string, string>();
  const check = (step: string): void => {
    for (const key of keys) t.is(text(index.get(bytes(key))), model.get(key), `${step}: ${key}`);
    t.is(index.stats().entries, model.size, step);
  };
  section(index, () => keys.forEach((key) => index.set(bytes(key), bytes(`v-${key}`))));
  keys.forEach((key) => model.set(key, `v-${key}`));
  check('all inserted');
  // Delete from the front, the middle and the end of the cluster, one by one, then reinsert.
  for (const victim of [keys[0], keys[5], keys[8], keys[2], keys[6], keys[9]]) {
    section(index, () => t.true(index.delete(bytes(victim))));
    model.delete(victim);
    check(`deleted ${victim}`);
  }
  for (const returning of [keys[5], keys[0], keys[9], keys[6]]) {
    section(index, () => index.set(bytes(returning), bytes(`back-${returning}`)));
    model.set(returning, `back-${returning}`);
    check(`reinserted ${returning}`);
  }
});

test('forEachEntry visits exactly the live entries, once each', (t) => {
  const index = SharedIndex.create(roomy);
  section(index, () => {
    for (let id = 0; id < 100; id++) index.set(bytes(`k${id}`), bytes(`v${id}`));
    for (let id = 0; id < 100; id += 3) index.delete(bytes(`k${id}`));
    index.set(bytes('k1'), bytes('replaced'));
  });
  const seen = new Map<string, string>();
  index.forEachEntry((key, value) => {
    t.false(seen.has(text(key) ?? ''), 'no key twice');
    seen.set(text(key) ?? '', text(value) ?? '');
  });
  const expected = new Map<string, string>();
  for (let id = 0; id < 100; id++) if (id % 3 !== 0) expected.set(`k${id}`, `v${id}`);
  expected.set('k1', 'replaced');
  // Slot order is not insertion order; compare sorted.
  t.deepEqual([...seen].sort(), [...expected].sort());
});

test('attach sees the same data and later growth without any message', (t) => {
  const writer = SharedIndex.create({ slotCountInitial: 4, slotCountMax: 1 << 12, arenaBytesInitial: 16, arenaBytesMax: 1 << 20 });
  section(writer, () => writer.set(bytes('a'), bytes('1')));
  const reader = SharedIndex.attach(writer.buffers);
  t.is(text(reader.get(bytes('a'))), '1');
  section(writer, () => {
    for (let id = 0; id < 1000; id++) writer.set(bytes(`grow-${id}`), patterned(40, id));
  });
  t.is(reader.stats().entries, 1001);
  t.deepEqual(reader.stats(), writer.stats());
  t.true(bytesEqual(reader.get(bytes('grow-999')) ?? new Uint8Array(1), patterned(40, 999)));
  t.is(reader.version(bytes('a')), writer.version(bytes('a')));
  let count = 0;
  reader.forEachEntry(() => {
    count += 1;
  });
  t.is(count, 1001);
});

test('RangeError past slotCountMax and arenaBytesMax leaves the index unchanged', (t) => {
  const index = SharedIndex.create({ slotCountInitial: 4, slotCountMax: 8, arenaBytesInitial: 0, arenaBytesMax: 256 });
  index.beginWrite();
  for (let id = 0; id < 6; id++) index.set(bytes(`k${id}`), bytes('v'));
  t.throws(() => index.set(bytes('k6'), bytes('v')), { instanceOf: RangeError, message: /at most 6/ });
  index.set(bytes('k0'), bytes('replacing works when full'));
  t.throws(() => index.set(bytes('k1'), new Uint8Array(300)), { instanceOf: RangeError, message: /arena full/ });
  t.throws(() => index.set(bytes('k1'), new Uint8Array(2000)), { instanceOf: RangeError, message: /arena full/ });
  index.endWrite();
  index.assertInvariants();
  t.is(index.stats().entries, 6);
  t.is(text(index.get(bytes('k1'))), 'v');
  t.is(text(index.get(bytes('k0'))), 'replacing works when full');
  t.is(index.get(bytes('k6')), undefined);
});

test('writer entry conditions are asserted', (t) => {
  const index = SharedIndex.create(roomy);
  t.throws(() => index.set(bytes('k'), bytes('v')), { instanceOf: RingAssertionError, message: /inside a write section/ });
  t.throws(() => index.delete(bytes('k')), { instanceOf: RingAssertionError });
  t.throws(() => index.endWrite(), { instanceOf: RingAssertionError });
  index.beginWrite();
  t.throws(() => index.beginWrite(), { instanceOf: RingAssertionError });
  index.endWrite();
  const reader = SharedIndex.attach(index.buffers);
  t.throws(() => reader.beginWrite(), { instanceOf: RingAssertionError, message: /writer handle/ });
  t.throws(() => SharedIndex.create({ ...roomy, slotCountInitial: 6 }), { instanceOf: RingAssertionError });
  t.throws(() => SharedIndex.create({ ...roomy, arenaBytesMax: 2 ** 31 }), { instanceOf: RingAssertionError });
});

/** Seed for fast-check: `SEED` when set (to replay), else a fresh one. */
function propertySeed(): number {
  const replay = process.env['SEED'];
  return replay === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(replay);
}

type ModelOperation = { kind: 'set'; keyId: number; value: string } | { kind: 'delete'; keyId: number };

/** Key ids map to keys of varying length; the tiny initial table forces collisions and growth. */
function modelKey(keyId: number): string {
  return `g\0t\0${keyId}`.padEnd(4 + (keyId % 5) * 9, '#');
}

test('model: random write sections agree with a Map after every section', (t) => {
  const seed = propertySeed();
  t.log(`SEED=${seed}`);
  const keyIdCount = 48;
  const operation: fc.Arbitrary<ModelOperation> = fc.oneof(
    fc.record({ kind: fc.constant('set' as const), keyId: fc.nat(keyIdCount - 1), value: fc.string({ maxLength: 90 }) }),
    fc.record({ kind: fc.constant('delete' as const), keyId: fc.nat(keyIdCount - 1) }),
  );
  const sections = fc.array(fc.array(operation, { maxLength: 12 }), { minLength: 1, maxLength: 40 });
  try {
    fc.assert(
      fc.property(sections, (drawn) => {
        const index = SharedIndex.create({ slotCountInitial: 4, slotCountMax: 256, arenaBytesInitial: 0, arenaBytesMax: 1 << 20 });
        const reader = SharedIndex.attach(index.buffers);
        const model = new Map<string, string>();
        for (const operations of drawn) {
          section(index, () => {
            for (const step of operations) {
              const key = modelKey(step.keyId);
              if (step.kind === 'set') {
                index.set(bytes(key), bytes(step.value));
                model.set(key, step.value);
              } else if (index.delete(bytes(key)) !== model.delete(key)) {
                throw new Error(`delete of ${step.keyId} disagrees with the model`);
              }
            }
          });
          for (let keyId = 0; keyId < keyIdCount; keyId++) {
            const key = modelKey(keyId);
            if (text(reader.get(bytes(key))) !== model.get(key)) throw new Error(`key ${keyId} disagrees`);
            if ((reader.version(bytes(key)) === 0) !== !model.has(key)) throw new Error(`version of ${keyId}`);
          }
          if (reader.stats().entries !== model.size) throw new Error('entries disagree with the model size');
        }
      }),
      { seed, numRuns: 300 },
    );
  } catch (error) {
    throw new Error(`model property failed; replay with SEED=${seed}`, { cause: error });
  }
  t.pass();
});

test('the key hash spreads keys that differ only in a few bytes (big-endian small numbers, short suffixes)', (t) => {
  // The store's offset keys are u32 group number | u32 topic number | u16 partition, big-endian: most
  // bytes are zero and the rest small. A word-wise FNV-1a hash gave these keys 1,536 distinct hashes of
  // 12,000 (and probe runs of 89 slots); this is the shape of key that must spread.
  const keys: Uint8Array[] = [];
  for (let group = 1; group <= 200; group++) {
    for (let topic = 1; topic <= 10; topic++) {
      for (let partition = 0; partition < 6; partition++) {
        const key = new Uint8Array(10);
        const view = new DataView(key.buffer);
        view.setUint32(0, group);
        view.setUint32(4, topic);
        view.setUint16(8, partition);
        keys.push(key);
      }
    }
  }
  for (let i = 0; i < 5000; i++) keys.push(bytes(`topic-${i}`));
  const hashes = new Set(keys.map(hashKey));
  t.true(hashes.size >= keys.length - 2, `${hashes.size} distinct hashes of ${keys.length} keys`);
  // Home slots in a table of 2^15: no slot is the home of more than a handful of keys.
  const homes = new Map<number, number>();
  for (const hash of hashes) homes.set(hash & 0x7fff, (homes.get(hash & 0x7fff) ?? 0) + 1);
  t.true(Math.max(...homes.values()) <= 8, `most keys on one home slot: ${Math.max(...homes.values())}`);
});
