/**
 * WireWriter: each primitive against bytes written out by hand, at every position relative to the
 * point where the buffer grows, and the reader reading back what the writer wrote.
 *
 * How growth is covered: a writer starts with 8 bytes (4 kept for the size), so a write placed after
 * 0, 1, 2, … filler bytes starts before, at, and after each doubling. A write that lands in the buffer
 * the writer just dropped shows as missing bytes in the frame.
 */
import test from 'ava';
import { WireReader } from '../../../../src/kafka/codec/wire-reader.js';
import { WireWriter } from '../../../../src/kafka/codec/wire-writer.js';

function hex(...parts: string[]): Buffer {
  return Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex');
}

/** The body of a finished frame (its size prefix checked and cut off). */
function body(writer: WireWriter): Buffer {
  const frame = writer.finish();
  const size = frame.readInt32BE(0);
  if (size !== frame.length - 4) throw new Error(`size prefix ${size} for a body of ${frame.length - 4} bytes`);
  return frame.subarray(4);
}

const WRITES: [string, (w: WireWriter) => void, string][] = [
  ['INT8 -2', (w) => w.int8(-2), 'fe'],
  ['INT16 -32768', (w) => w.int16(-32_768), '8000'],
  ['INT32 305419896', (w) => w.int32(0x12345678), '12345678'],
  ['INT64 5000000000', (w) => w.int64(5_000_000_000), '000000012a05f200'],
  ['INT64 -1 (bigint)', (w) => w.int64(-1n), 'ffffffffffffffff'],
  ['BOOLEAN true', (w) => w.boolean(true), '01'],
  ['UNSIGNED_VARINT 2^32 - 1', (w) => w.uvarint(2 ** 32 - 1), 'ffffffff0f'],
  ['UNSIGNED_VARINT 300', (w) => w.uvarint(300), 'ac02'],
  ['UUID', (w) => w.uuid('00112233445566778899aabbccddeeff'), '00112233445566778899aabbccddeeff'],
  ['STRING "orders"', (w) => w.string('orders'), '0006 6f7264657273'],
  ['NULLABLE_STRING null', (w) => w.nullableString(null), 'ffff'],
  ['STRING "é€" (UTF-8 length)', (w) => w.string('é€'), '0005 c3a9 e282ac'],
  ['COMPACT_STRING "librdkafka"', (w) => w.compactString('librdkafka'), '0b 6c696272646b61666b61'],
  ['COMPACT_NULLABLE_STRING null', (w) => w.compactNullableString(null), '00'],
  ['BYTES of 5', (w) => w.bytesField(hex('0102030405')), '00000005 0102030405'],
  ['NULLABLE_BYTES null', (w) => w.nullableBytes(null), 'ffffffff'],
  ['BYTES of parts', (w) => w.bytesOfParts([hex('0102'), hex(''), hex('030405')]), '00000005 0102030405'],
  ['ARRAY of INT16', (w) => w.array([1, 2], (x, v) => x.int16(v)), '00000002 0001 0002'],
  ['NULLABLE ARRAY null', (w) => w.nullableArray(null, (x, v: number) => x.int16(v)), 'ffffffff'],
  ['COMPACT_ARRAY of INT16', (w) => w.compactArray([1, 2], (x, v) => x.int16(v)), '03 0001 0002'],
  ['COMPACT_ARRAY empty', (w) => w.compactArray([], (x, v: number) => x.int16(v)), '01'],
  ['no tagged fields', (w) => w.noTaggedFields(), '00'],
];

for (const [name, write, expected] of WRITES) {
  test(`${name}: the right bytes after 0 to 40 filler bytes, across each growth of the buffer`, (t) => {
    for (let filler = 0; filler <= 40; filler++) {
      const writer = new WireWriter(8);
      for (let i = 0; i < filler; i++) writer.int8(i);
      write(writer);
      writer.int8(0x5a);
      const fillerBytes = Buffer.from(Array.from({ length: filler }, (_, i) => i));
      t.deepEqual(body(writer), Buffer.concat([fillerBytes, hex(expected), hex('5a')]), `after ${filler} filler bytes`);
    }
  });
}

test('a write far larger than the buffer grows it in one step', (t) => {
  const big = Buffer.alloc(100_000, 7);
  const writer = new WireWriter(8);
  writer.int16(1).bytesField(big).int16(2);
  const written = body(writer);
  t.is(written.length, 2 + 4 + big.length + 2);
  t.is(written.readInt32BE(2), big.length);
  t.deepEqual(written.subarray(6, 6 + big.length), big);
  t.is(written.readInt16BE(written.length - 2), 2);
});

test('an empty response is a frame of size 0', (t) => {
  t.deepEqual(new WireWriter().finish(), hex('00000000'));
});

test('UNSIGNED_VARINT refuses what it cannot encode', (t) => {
  t.throws(() => new WireWriter().uvarint(-1), { instanceOf: RangeError });
  t.throws(() => new WireWriter().uvarint(2 ** 32), { instanceOf: RangeError });
  t.throws(() => new WireWriter().uvarint(1.5), { instanceOf: RangeError });
});

test('the reader reads back a mixed struct the writer wrote', (t) => {
  const writer = new WireWriter(8);
  writer
    .int32(-7)
    .string('orders')
    .nullableString(null)
    .compactString('x')
    .uvarint(2 ** 28)
    .int64(-2)
    .array(['a', 'bb'], (w, s) => w.string(s))
    .compactArray([5, 6], (w, v) => w.int32(v).noTaggedFields())
    .bytesOfParts([hex('aa'), hex('bbcc')])
    .noTaggedFields();
  const r = new WireReader(body(writer));
  t.is(r.int32(), -7);
  t.is(r.string(), 'orders');
  t.is(r.nullableString(), null);
  t.is(r.compactString(), 'x');
  t.is(r.uvarint(), 2 ** 28);
  t.is(r.int64(), -2);
  t.deepEqual(r.array((x) => x.string()), ['a', 'bb']);
  t.deepEqual(
    r.compactArray((x) => {
      const value = x.int32();
      x.skipTaggedFields();
      return value;
    }),
    [5, 6],
  );
  t.deepEqual(r.bytesField(), hex('aabbcc'));
  r.skipTaggedFields();
  r.expectEnd('mixed struct');
});

test('large byte ranges become chunks of their own, not copies; the chunks frame the same bytes as finish()', (t) => {
  const big = Buffer.alloc(40 * 1024, 7);
  const small = Buffer.from([1, 2, 3]);
  const build = (): WireWriter => new WireWriter().int32(42).bytesOfParts([small, big, small]).int16(-1).bytesOfParts([big]);
  const chunks = build().finishChunks();
  t.true(chunks.includes(big), 'the large range is written as it is');
  const joined = Buffer.concat(chunks);
  t.deepEqual(joined, build().finish());
  t.is(joined.readInt32BE(0), joined.length - 4);
  t.is(joined.readInt32BE(4), 42);
  t.is(joined.readInt32BE(8), 3 + big.length + 3);
  t.deepEqual(joined.subarray(12, 15), small);
  t.deepEqual(joined.subarray(15, 15 + big.length), big);
  t.deepEqual(joined.subarray(15 + big.length, 18 + big.length), small);
  t.is(joined.readInt16BE(18 + big.length), -1);
  t.is(joined.readInt32BE(20 + big.length), big.length);
  t.deepEqual(joined.subarray(24 + big.length), big);
});

test('a writer that grows after a chunk was sealed keeps the sealed bytes and the size prefix', (t) => {
  const big = Buffer.alloc(20 * 1024, 9);
  const writer = new WireWriter(8).int32(5).bytesOfParts([big]);
  for (let i = 0; i < 1000; i++) writer.int32(i);
  const joined = Buffer.concat(writer.finishChunks());
  t.is(joined.readInt32BE(0), joined.length - 4);
  t.is(joined.readInt32BE(4), 5);
  t.is(joined.readInt32BE(8), big.length);
  for (let i = 0; i < 1000; i++) t.is(joined.readInt32BE(12 + big.length + 4 * i), i);
});
