/**
 * WireReader: each primitive against bytes written out by hand, and every hostile length refused as a
 * MalformedRequest before anything is read or allocated for it.
 *
 * How "before anything is allocated" is shown: array readers take an element callback, and a refused
 * count must fail before the callback runs once; lengths are checked against the bytes left, so a
 * refusal is immediate whatever the length claims.
 */
import test from 'ava';
import { ARRAY_COUNT_MAX, MalformedRequest, WireReader } from '../../../../src/kafka/codec/wire-reader.js';

/** Bytes from hex strings, spaces allowed. */
function hex(...parts: string[]): Buffer {
  return Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex');
}

function reader(...parts: string[]): WireReader {
  return new WireReader(hex(...parts));
}

const UVARINTS: [number, string][] = [
  [0, '00'],
  [1, '01'],
  [127, '7f'],
  [128, '80 01'],
  [300, 'ac 02'],
  [16_383, 'ff 7f'],
  [16_384, '80 80 01'],
  [2 ** 21 - 1, 'ff ff 7f'],
  [2 ** 21, '80 80 80 01'],
  [2 ** 28 - 1, 'ff ff ff 7f'],
  [2 ** 28, '80 80 80 80 01'],
  [2 ** 31, '80 80 80 80 08'],
  [2 ** 32 - 1, 'ff ff ff ff 0f'],
];

for (const [value, bytes] of UVARINTS) {
  test(`UNSIGNED_VARINT ${value} is ${bytes}`, (t) => {
    const r = reader(bytes);
    t.is(r.uvarint(), value);
    r.expectEnd('uvarint');
  });
}

const VARINTS: [number, string][] = [
  [0, '00'],
  [-1, '01'],
  [1, '02'],
  [-2, '03'],
  [63, '7e'],
  [-64, '7f'],
  [64, '80 01'],
  [2 ** 31 - 1, 'fe ff ff ff 0f'],
  [-(2 ** 31), 'ff ff ff ff 0f'],
];

for (const [value, bytes] of VARINTS) {
  test(`VARINT (zig-zag) ${value} is ${bytes}`, (t) => {
    const r = reader(bytes);
    t.is(r.varint(), value);
    r.expectEnd('varint');
  });
}

test('UNSIGNED_VARINT: a sixth byte, bits beyond 32, and a cut-off varint are malformed', (t) => {
  t.throws(() => reader('ff ff ff ff ff 01').uvarint(), { instanceOf: MalformedRequest });
  t.throws(() => reader('ff ff ff ff 10').uvarint(), { instanceOf: MalformedRequest });
  t.throws(() => reader('80 80 80 80 7f').uvarint(), { instanceOf: MalformedRequest });
  t.throws(() => reader('80').uvarint(), { instanceOf: MalformedRequest });
  t.throws(() => reader('ff ff').uvarint(), { instanceOf: MalformedRequest });
  t.throws(() => reader('').uvarint(), { instanceOf: MalformedRequest });
});

test('fixed-width integers are big-endian and signed', (t) => {
  const r = reader('ff', '8000', '7fffffff', 'fffffffffffffffe', '000000012a05f200', 'ffffffff', '01', '00', '02');
  t.is(r.int8(), -1);
  t.is(r.int16(), -32_768);
  t.is(r.int32(), 2_147_483_647);
  t.is(r.int64(), -2);
  t.is(r.int64(), 5_000_000_000);
  t.is(r.uint32(), 4_294_967_295);
  t.true(r.boolean());
  t.false(r.boolean());
  t.true(r.boolean(), 'any non-zero byte is true');
  r.expectEnd('integers');
});

test('each fixed-width read past the end is malformed, not a RangeError', (t) => {
  t.throws(() => reader('').int8(), { instanceOf: MalformedRequest });
  t.throws(() => reader('00').int16(), { instanceOf: MalformedRequest });
  t.throws(() => reader('000000').int32(), { instanceOf: MalformedRequest });
  t.throws(() => reader('000000').uint32(), { instanceOf: MalformedRequest });
  t.throws(() => reader('00000000000000').int64(), { instanceOf: MalformedRequest });
  t.throws(() => reader('00'.repeat(15)).uuid(), { instanceOf: MalformedRequest });
});

test('a reader over part of a buffer stops at its end, not the buffer\'s', (t) => {
  const bytes = hex('0001 0002 0003');
  const r = new WireReader(bytes, 2, 4);
  t.is(r.remaining, 2);
  t.is(r.int16(), 2);
  t.throws(() => r.int16(), { instanceOf: MalformedRequest });
});

test('STRING and NULLABLE_STRING: -1 is null, UTF-8 is decoded, a null where a STRING is required is malformed', (t) => {
  const r = reader('ffff', '0000', '0002 c3a9', '0005 6f72646572');
  t.is(r.nullableString(), null);
  t.is(r.string(), '');
  t.is(r.string(), 'é');
  t.is(r.string(), 'order');
  r.expectEnd('strings');
  t.throws(() => reader('ffff').string(), { instanceOf: MalformedRequest });
});

test('COMPACT_STRING: 0 is null, 1 is empty, length + 1 otherwise', (t) => {
  const r = reader('00', '01', '03 c3a9', '0b 6c69627264 6b61666b61');
  t.is(r.compactNullableString(), null);
  t.is(r.compactString(), '');
  t.is(r.compactString(), 'é');
  t.is(r.compactString(), 'librdkafka');
  r.expectEnd('compact strings');
  t.throws(() => reader('00').compactString(), { instanceOf: MalformedRequest });
});

test('BYTES and COMPACT_BYTES: null markers, and views of the request', (t) => {
  const bytes = hex('ffffffff', '00000000', '00000002 abcd', '00', '01', '03 0102');
  const r = new WireReader(bytes);
  t.is(r.nullableBytes(), null);
  t.deepEqual(r.bytesField(), Buffer.alloc(0));
  const view = r.bytesField();
  t.deepEqual(view, hex('abcd'));
  t.is(view.buffer, bytes.buffer, 'BYTES is a view, not a copy');
  t.is(r.compactNullableBytes(), null);
  t.deepEqual(r.compactNullableBytes(), Buffer.alloc(0));
  t.deepEqual(r.compactNullableBytes(), hex('0102'));
  r.expectEnd('bytes');
  t.deepEqual(reader('ffffffff').bytesField(), Buffer.alloc(0), 'a null BYTES where bytes are required reads as empty');
});

test('ARRAY and COMPACT_ARRAY: null markers and counts', (t) => {
  const r = reader('ffffffff', 'ffffffff', '00000000', '00000002 0001 0002', '00', '00', '01', '03 0003 0004');
  const int16 = (x: WireReader) => x.int16();
  t.is(r.nullableArray(int16), null);
  t.deepEqual(r.array(int16), [], 'a null ARRAY where one is required reads as empty');
  t.deepEqual(r.array(int16), []);
  t.deepEqual(r.array(int16), [1, 2]);
  t.is(r.compactNullableArray(int16), null);
  t.deepEqual(r.compactArray(int16), []);
  t.deepEqual(r.compactArray(int16), []);
  t.deepEqual(r.compactArray(int16), [3, 4]);
  r.expectEnd('arrays');
});

/** An element reader that counts its calls: a refused count must fail before the first. */
function countingElement(): { read: (r: WireReader) => number; calls: () => number } {
  let calls = 0;
  return {
    read: (r) => {
      calls++;
      return r.int8();
    },
    calls: () => calls,
  };
}

test('hostile counts: 2^31 - 1 elements in a 20-byte request fail before the first element', (t) => {
  const bytes = Buffer.concat([hex('7fffffff'), Buffer.alloc(16)]);
  t.is(bytes.length, 20);
  const element = countingElement();
  t.throws(() => new WireReader(bytes).array(element.read), { instanceOf: MalformedRequest });
  t.throws(() => new WireReader(bytes).nullableArray(element.read), { instanceOf: MalformedRequest });
  const compact = Buffer.concat([hex('ff ff ff ff 0f'), Buffer.alloc(15)]);
  t.throws(() => new WireReader(compact).compactArray(element.read), { instanceOf: MalformedRequest });
  t.is(element.calls(), 0);
});

test('hostile counts: one more element than bytes left fails before the first element', (t) => {
  const element = countingElement();
  t.throws(() => reader('00000004', '010203').array(element.read), { instanceOf: MalformedRequest });
  t.throws(() => reader('05', '010203').compactArray(element.read), { instanceOf: MalformedRequest });
  t.is(element.calls(), 0);
  t.deepEqual(reader('00000003', '010203').array(element.read), [1, 2, 3], 'as many as bytes left is fine');
});

test(`hostile counts: more than ARRAY_COUNT_MAX (${ARRAY_COUNT_MAX}) elements are refused even when the bytes are there`, (t) => {
  const bytes = Buffer.alloc(4 + ARRAY_COUNT_MAX + 1);
  bytes.writeInt32BE(ARRAY_COUNT_MAX + 1, 0);
  const element = countingElement();
  t.throws(() => new WireReader(bytes).array(element.read), { instanceOf: MalformedRequest });
  t.is(element.calls(), 0);
});

test('negative lengths and counts other than -1 are malformed', (t) => {
  const element = countingElement();
  for (const count of ['fffffffe', '80000000']) {
    t.throws(() => reader(count, '00000000').array(element.read), { instanceOf: MalformedRequest }, `ARRAY ${count}`);
    t.throws(() => reader(count, '00000000').nullableArray(element.read), { instanceOf: MalformedRequest }, `ARRAY ${count}`);
    t.throws(() => reader(count, '00000000').nullableBytes(), { instanceOf: MalformedRequest }, `BYTES ${count}`);
    t.throws(() => reader(count, '00000000').bytesField(), { instanceOf: MalformedRequest }, `BYTES ${count}`);
  }
  for (const length of ['fffe', '8000']) {
    t.throws(() => reader(length, '0000').nullableString(), { instanceOf: MalformedRequest }, `STRING ${length}`);
    t.throws(() => reader(length, '0000').string(), { instanceOf: MalformedRequest }, `STRING ${length}`);
  }
  t.is(element.calls(), 0);
});

test('lengths past the end are malformed: STRING, COMPACT_STRING, BYTES, COMPACT_BYTES', (t) => {
  t.throws(() => reader('7fff', '6162636465').string(), { instanceOf: MalformedRequest });
  t.throws(() => reader('0006', '6162636465').string(), { instanceOf: MalformedRequest });
  t.throws(() => reader('ff ff ff ff 0f', '616263').compactString(), { instanceOf: MalformedRequest });
  t.throws(() => reader('07', '6162636465').compactString(), { instanceOf: MalformedRequest });
  t.throws(() => reader('7fffffff', '0102').bytesField(), { instanceOf: MalformedRequest });
  t.throws(() => reader('00000003', '0102').bytesField(), { instanceOf: MalformedRequest });
  t.throws(() => reader('ff ff ff ff 0f', '0102').compactNullableBytes(), { instanceOf: MalformedRequest });
});

test('tagged fields: unknown tags are skipped by their sizes, and the next field reads right', (t) => {
  // Two tagged fields (tag 0 with 3 bytes, tag 300 with none), then an INT16.
  const r = reader('02', '00 03 aabbcc', 'ac02 00', '1234');
  r.skipTaggedFields();
  t.is(r.int16(), 0x1234);
  r.expectEnd('tags');
  const empty = reader('00', '0001');
  empty.skipTaggedFields();
  t.is(empty.int16(), 1);
});

test('tagged fields: a hostile count or a size past the end is malformed', (t) => {
  t.throws(() => reader('ff ff ff ff 0f', '0000').skipTaggedFields(), { instanceOf: MalformedRequest });
  t.throws(() => reader('03', '00 00 01 00').skipTaggedFields(), { instanceOf: MalformedRequest });
  t.throws(() => reader('01', '00 7f aabb').skipTaggedFields(), { instanceOf: MalformedRequest });
  t.throws(() => reader('01', '00 ff ff ff ff 0f').skipTaggedFields(), { instanceOf: MalformedRequest });
});

test('expectEnd names the bytes left over', (t) => {
  const r = reader('0001 02');
  r.int16();
  const error = t.throws(() => r.expectEnd('Heartbeat v0'), { instanceOf: MalformedRequest });
  t.regex(error!.message, /Heartbeat v0: 1 bytes after the last field/);
});

test('UUID reads 16 bytes as lowercase hex', (t) => {
  t.is(reader('00112233445566778899AABBCCDDEEFF').uuid(), '00112233445566778899aabbccddeeff');
});
