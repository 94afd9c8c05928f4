/**
 * WAL byte layout: golden bytes of a record (any change to framing, CRC or Avro encoding breaks old logs
 * and must fail here), header round trip and refusals, and property-based round trips of framing and
 * event encoding (fast-check; SEED= replays a failure).
 */
import test from 'ava';
import fs from 'node:fs';
import fc from 'fast-check';
import { EventCodec } from '../../../src/codec/event-codec.js';
import type { EventBody } from '../../../src/codec/event-schema.js';
import {
  decodeSegmentHeader,
  encodeSegmentHeader,
  parseSegmentFileName,
  readRecord,
  RECORD_HEADER_BYTES,
  sealRecord,
  segmentFileName,
} from '../../../src/wal/format.js';

const codec = EventCodec.current();
const V1_SCHEMA = new URL('../../../../test/fixtures/event-schema-v1.json', import.meta.url);
const V3_SCHEMA = new URL('../../../../test/fixtures/event-schema-v3.json', import.meta.url);
const V4_SCHEMA = new URL('../../../../test/fixtures/event-schema-v4.json', import.meta.url);

/** JSON with object keys sorted, so field order does not matter. */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : 1)))
      : inner,
  );
}
const seed = process.env.SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.SEED);

test('golden record: OffsetsCommitted at offset 7', (t) => {
  const buffer = Buffer.alloc(200);
  const body: EventBody = {
    type: 'OffsetsCommitted',
    value: { groupId: 'g', entries: [{ topic: 't', partition: 1, offset: 5, leaderEpoch: 3, metadata: 'm' }] },
  };
  const payloadEnd = codec.encode(body, buffer, RECORD_HEADER_BYTES);
  const end = sealRecord(buffer, 0, payloadEnd, 7, 1_700_000_000_000, codec.typeIndex('OffsetsCommitted'), 1);
  t.is(
    buffer.subarray(0, end).toString('hex'),
    '2700000056dd7bae070000000000000000008056febc7842010001000267020274020a06026d00',
  );
  t.is(codec.fingerprint.toString('hex'), '4b2f8d7cde56a25574409a548cc04d28', 'writer schema fingerprint of version 5 (WriterElected added)');
  const v4 = EventCodec.forWriterSchema(JSON.stringify(JSON.parse(fs.readFileSync(V4_SCHEMA, 'utf8'))));
  t.is(v4.fingerprint.toString('hex'), 'f41d7029d8d6bc2cd5d410e01b1665ed', 'the kept version 4 schema is the one version 4 wrote');
  const v3 = EventCodec.forWriterSchema(JSON.stringify(JSON.parse(fs.readFileSync(V3_SCHEMA, 'utf8'))));
  t.is(v3.fingerprint.toString('hex'), '6acd73c107148ca52d410654e9c26b88', 'the kept version 3 schema is the one version 3 wrote');
  const v1 = EventCodec.forWriterSchema(JSON.stringify(JSON.parse(fs.readFileSync(V1_SCHEMA, 'utf8'))));
  t.is(v1.fingerprint.toString('hex'), '4727cff39252b8153e024cb9ff76e3a8', 'the kept version 1 schema is the one version 1 wrote');
});

test('segment file names are 20 digits and sort by offset', (t) => {
  t.is(segmentFileName(0), '00000000000000000000.log');
  t.is(segmentFileName(1234), '00000000000000001234.log');
  t.is(parseSegmentFileName('00000000000000001234.log'), 1234);
  t.is(parseSegmentFileName('1234.log'), null);
  t.is(parseSegmentFileName('00000000000000001234.log.tmp'), null);
});

test('segment header round trip, and each damaged field refused', (t) => {
  const header = encodeSegmentHeader(42, 1_700_000_000_000, codec.fingerprint, codec.writerSchemaJson);
  const decoded = decodeSegmentHeader(header);
  if ('problem' in decoded) return t.fail(decoded.problem);
  t.is(decoded.baseOffset, 42);
  t.is(decoded.createdMs, 1_700_000_000_000);
  t.true(decoded.fingerprint.equals(codec.fingerprint));
  t.is(decoded.schemaJson, codec.writerSchemaJson);
  t.deepEqual(decodeSegmentHeader(header.subarray(0, 20)), { problem: 'short' });
  const badMagic = Buffer.from(header);
  badMagic[0] ^= 1;
  t.deepEqual(decodeSegmentHeader(badMagic), { problem: 'magic' });
  const badCrc = Buffer.from(header);
  badCrc[60] ^= 1;
  t.deepEqual(decodeSegmentHeader(badCrc), { problem: 'crc' });
  t.deepEqual(decodeSegmentHeader(header.subarray(0, header.length - 1)), { problem: 'length' });
});

const entryArbitrary = fc.record({
  topic: fc.stringMatching(/^[a-zA-Z0-9._-]{1,40}$/),
  partition: fc.integer({ min: 0, max: 19999 }),
  offset: fc.integer({ min: 0, max: 2 ** 53 - 2 }),
  leaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
  metadata: fc.string({ maxLength: 100 }),
});

const bodyArbitrary: fc.Arbitrary<EventBody> = fc.oneof(
  fc.record({ groupId: fc.string({ minLength: 1, maxLength: 50 }), entries: fc.array(entryArbitrary, { minLength: 1, maxLength: 8 }) }).map(
    (value) => ({ type: 'OffsetsCommitted', value }) as EventBody,
  ),
  fc
    .record({
      topicId: fc.uuid(),
      name: fc.stringMatching(/^[a-zA-Z0-9._-]{1,249}$/),
      replicationFactor: fc.integer({ min: 1, max: 5 }),
      partitions: fc.integer({ min: 1, max: 20 }),
      // Config keys as the store accepts them (dotted lower-case names): never "__proto__" and the like,
      // which the store's key validation rejects before anything is encoded.
      configs: fc.dictionary(fc.stringMatching(/^[a-z][a-z.]{0,19}$/), fc.string({ maxLength: 20 }), { maxKeys: 4 }),
    })
    .map(({ partitions, ...value }) => ({
      type: 'TopicCreated',
      value: {
        ...value,
        partitions: Array.from({ length: partitions }, (_, partition) => ({
          partition, leader: partition % 3, replicas: [1, 2, 3], isr: [1, 2], leaderEpoch: partition, partitionEpoch: partition * 2,
        })),
      },
    }) as EventBody),
);

test('property: framing + encoding round trip, and any single corrupted byte is caught', (t) => {
  fc.assert(
    fc.property(bodyArbitrary, fc.maxSafeNat(), fc.nat({ max: 2 ** 40 }), fc.nat(), (body, offset, timestampMs, flipAt) => {
      const buffer = Buffer.alloc(64 * 1024);
      const payloadEnd = codec.encode(body, buffer, 3 + RECORD_HEADER_BYTES);
      const end = sealRecord(buffer, 3, payloadEnd, offset, timestampMs, codec.typeIndex(body.type), 1);
      const view = readRecord(buffer, 3, end);
      if (typeof view === 'string') return false;
      const decoded = codec.decode(view.eventType, buffer, view.payloadStart, view.end);
      const same =
        view.offset === offset &&
        view.timestampMs === timestampMs &&
        sortedJson(decoded.value) === sortedJson(body.value);
      // Damage one byte after the length word: the checksum must refuse it.
      const position = 3 + 4 + (flipAt % (end - 3 - 4));
      buffer[position] ^= 0xff;
      return same && typeof readRecord(buffer, 3, end) === 'string';
    }),
    { seed, numRuns: 300, verbose: true },
  );
  t.pass(`seed ${seed}`);
});
