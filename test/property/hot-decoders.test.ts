/**
 * The hand-written OffsetsCommitted decoder must read exactly what avsc writes: random values (unicode
 * and long strings included, so both the interned and the plain string paths run) are encoded by avsc
 * and decoded by both. Malformed payloads must throw, never return a value. SEED= replays a failure.
 */
import test from 'ava';
import avro from 'avsc';
import fc from 'fast-check';
import { EVENT_UNION_SCHEMA } from '../../src/codec/event-schema.js';
import { decodeOffsetsCommitted } from '../../src/codec/hot-decoders.js';

const seed = process.env.SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.SEED);
const type = avro.Type.forSchema({ ...EVENT_UNION_SCHEMA[1], namespace: 'chronik.metalog' } as avro.Schema);

const entry = fc.record({
  topic: fc.oneof(fc.stringMatching(/^[a-z0-9._-]{1,12}$/), fc.string({ maxLength: 100 }), fc.constantFrom('orders', 'payments')),
  partition: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
  offset: fc.integer({ min: 0, max: 2 ** 53 - 2 }),
  leaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  metadata: fc.oneof(fc.constant(''), fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 20 })),
});
const value = fc.record({ groupId: fc.oneof(fc.constantFrom('g1', 'g2'), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 70 })), entries: fc.array(entry, { maxLength: 6 }) });

test('decodes exactly what avsc encodes', (t) => {
  fc.assert(
    fc.property(fc.array(value, { minLength: 1, maxLength: 5 }), (values) => {
      // Several values in one buffer, decoded at their offsets: the decoder must respect start and end.
      const parts = values.map((v) => type.toBuffer(v));
      const buffer = Buffer.concat(parts);
      let start = 0;
      for (let i = 0; i < values.length; i++) {
        const decoded = decodeOffsetsCommitted(buffer, start, start + parts[i].length);
        if (JSON.stringify(decoded) !== JSON.stringify(type.fromBuffer(parts[i]))) return false;
        start += parts[i].length;
      }
      return true;
    }),
    { seed, numRuns: 500 },
  );
  t.pass(`seed ${seed}`);
});

test('truncated or padded payloads throw instead of decoding', (t) => {
  fc.assert(
    fc.property(value, fc.nat(), (v, cut) => {
      const bytes = type.toBuffer(v);
      const shortEnd = cut % bytes.length;
      let threwShort = false;
      try {
        decodeOffsetsCommitted(bytes, 0, shortEnd);
      } catch {
        threwShort = true;
      }
      let threwLong = false;
      try {
        decodeOffsetsCommitted(Buffer.concat([bytes, Buffer.from([0])]), 0, bytes.length + 1);
      } catch {
        threwLong = true;
      }
      return threwShort && threwLong;
    }),
    { seed, numRuns: 300 },
  );
  t.pass(`seed ${seed}`);
});
