/**
 * The hand-written OffsetsCommitted and GroupUpserted decoders must read exactly what avsc writes, and
 * the GroupUpserted encoder write exactly what avsc writes: random values (unicode and long strings
 * included, so both the interned and the plain string paths run) go through both. Malformed payloads
 * must throw, never return a value. SEED= replays a failure.
 */
import test from 'ava';
import avro from 'avsc';
import fc from 'fast-check';
import { EVENT_UNION_SCHEMA } from '../../src/codec/event-schema.js';
import { decodeCommitOffsetsCommand, decodeGroupUpserted, decodeOffsetsCommitted, readGroupFacts } from '../../src/codec/hot-decoders.js';
import { EncodedGroup } from '../../src/state/encoded-group.js';
import { encodeGroupUpserted } from '../../src/codec/hot-encoders.js';

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

const groupType = avro.Type.forSchema({ ...(EVENT_UNION_SCHEMA.find((record) => record.name === 'GroupUpserted') as object), namespace: 'chronik.metalog' } as avro.Schema);
const text = fc.oneof(fc.stringMatching(/^[a-z0-9._/-]{0,16}$/), fc.string({ maxLength: 90 }), fc.string({ unit: 'grapheme', maxLength: 12 }));
const member = fc.record({
  memberId: text,
  groupInstanceId: fc.option(text, { nil: null }),
  clientId: text,
  clientHost: text,
  sessionTimeoutMs: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  rebalanceTimeoutMs: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  topics: fc.array(text, { maxLength: 4 }),
  subscription: fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
  assignment: fc.uint8Array({ maxLength: 90 }).map((bytes) => Buffer.from(bytes)),
});
const group = fc.record({
  groupId: text,
  state: fc.constantFrom('Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'),
  protocolType: text,
  protocol: fc.option(text, { nil: null }),
  generation: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  leader: fc.option(text, { nil: null }),
  members: fc.array(member, { maxLength: 5 }),
});

/** A plain copy for comparison: avsc builds class instances, the hand decoder plain objects. */
function plain(value: unknown): string {
  return JSON.stringify(value, (_key, field: unknown) => (Buffer.isBuffer(field) ? [...field] : field));
}

test('GroupUpserted: decodes exactly what avsc encodes, and refuses a truncated or padded payload', (t) => {
  fc.assert(
    fc.property(fc.array(group, { minLength: 1, maxLength: 3 }), fc.nat(), (values, cut) => {
      const parts = values.map((v) => groupType.toBuffer(v));
      const buffer = Buffer.concat(parts);
      let start = 0;
      for (let i = 0; i < values.length; i++) {
        const decoded = decodeGroupUpserted(buffer, start, start + parts[i].length);
        if (plain(decoded) !== plain(groupType.fromBuffer(parts[i]))) return false;
        start += parts[i].length;
      }
      const bytes = parts[0];
      const throws = (payload: Buffer, end: number): boolean => {
        try {
          decodeGroupUpserted(payload, 0, end);
        } catch {
          return true;
        }
        return false;
      };
      return throws(bytes, cut % bytes.length) && throws(Buffer.concat([bytes, Buffer.from([0])]), bytes.length + 1);
    }),
    { seed, numRuns: 400 },
  );
  t.pass(`seed ${seed}`);
});

test('GroupUpserted: the facts the writer reads agree with the whole decode, the copied bytes with the views, and a malformed payload throws alike', (t) => {
  fc.assert(
    fc.property(group, fc.nat(), (value, cut) => {
      const bytes = groupType.toBuffer(value);
      const whole = decodeGroupUpserted(bytes, 0, bytes.length);
      const facts = readGroupFacts(bytes, 0, bytes.length);
      const { members, ...header } = whole;
      if (plain({ ...header, memberIds: members.map((m) => m.memberId), topics: [...new Set(members.flatMap((m) => m.topics))] }) !== plain({ ...facts, topics: [...facts.topics] })) return false;
      const copied = decodeGroupUpserted(bytes, 0, bytes.length, true);
      if (plain(copied) !== plain(whole) || copied.members.some((m) => m.assignment.buffer === bytes.buffer && m.assignment.length > 0)) return false;
      // An EncodedGroup (the writer's state) answers the rules' questions and decodes its members alike.
      const encoded = EncodedGroup.fromEncoding(bytes);
      if (plain(encoded.toGroup()) !== plain(whole) || encoded.memberCount !== members.length) return false;
      if (!members.every((m) => encoded.hasMember(m.memberId) && m.topics.every((topic) => encoded.subscribesTo(topic)))) return false;
      if (plain(EncodedGroup.fromValue(whole).toGroup()) !== plain(whole)) return false;
      const throwsBoth = (payload: Buffer, end: number): boolean => {
        let facts = false;
        let decode = false;
        try {
          readGroupFacts(payload, 0, end);
        } catch {
          facts = true;
        }
        try {
          decodeGroupUpserted(payload, 0, end);
        } catch {
          decode = true;
        }
        return facts && decode;
      };
      return throwsBoth(bytes, cut % bytes.length) && throwsBoth(Buffer.concat([bytes, Buffer.from([0])]), bytes.length + 1);
    }),
    { seed, numRuns: 400 },
  );
  t.pass(`seed ${seed}`);
});

test('GroupUpserted: the hand encoder writes exactly the bytes avsc writes, and -1 when they do not fit', (t) => {
  fc.assert(
    fc.property(group, fc.nat(), (value, cut) => {
      const expected = groupType.toBuffer(value);
      const out = Buffer.alloc(expected.length + 16);
      const end = encodeGroupUpserted(value, out, 7);
      if (end !== 7 + expected.length || !out.subarray(7, end).equals(expected)) return false;
      // Member bytes as plain Uint8Arrays (what callers pass) encode the same.
      const plainBytes = { ...value, members: value.members.map((m) => ({ ...m, subscription: new Uint8Array(m.subscription), assignment: new Uint8Array(m.assignment) })) };
      if (encodeGroupUpserted(plainBytes, out, 7) !== end || !out.subarray(7, end).equals(expected)) return false;
      return encodeGroupUpserted(value, Buffer.alloc(cut % expected.length), 0) === -1;
    }),
    { seed, numRuns: 400 },
  );
  t.pass(`seed ${seed}`);
});

const commitCommandType = avro.Type.forSchema(
  {
    type: 'record',
    name: 'CommitOffsetsCommand',
    namespace: 'chronik.metalog',
    fields: [
      { name: 'groupId', type: 'string' },
      { name: 'entries', type: EVENT_UNION_SCHEMA[1].fields[1].type as avro.Schema },
      { name: 'generation', type: 'int' },
      { name: 'memberId', type: ['null', 'string'] },
      { name: 'perEntry', type: 'boolean' },
    ],
  } as avro.Schema,
  { wrapUnions: 'auto' },
);

test('commitOffsets command: decodes what avsc encodes, and its first part is the event\u2019s own encoding', (t) => {
  const command = fc.record({
    groupId: text,
    entries: fc.array(entry, { maxLength: 6 }),
    generation: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
    memberId: fc.option(text, { nil: null }),
    perEntry: fc.boolean(),
  });
  fc.assert(
    fc.property(command, fc.nat(), (value, cut) => {
      const bytes = Buffer.concat([Buffer.from([1, 2, 3]), commitCommandType.toBuffer(value)]);
      const { value: decoded, eventEnd } = decodeCommitOffsetsCommand(bytes, 3, bytes.length);
      if (JSON.stringify(decoded) !== JSON.stringify(commitCommandType.fromBuffer(bytes.subarray(3)))) return false;
      if (!bytes.subarray(3, eventEnd).equals(type.toBuffer({ groupId: value.groupId, entries: value.entries }))) return false;
      try {
        decodeCommitOffsetsCommand(bytes, 3, 3 + (cut % (bytes.length - 3)));
      } catch {
        return true;
      }
      return false;
    }),
    { seed, numRuns: 400 },
  );
  t.pass(`seed ${seed}`);
});
