/** CRC32C against the RFC 3720 (iSCSI) test vectors, on both implementations. */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { crc32c, crc32cJs, CRC32C_PATH } from '../../src/crc32c.js';

const VECTORS: [string, Buffer, number][] = [
  ['32 zero bytes', Buffer.alloc(32, 0), 0x8a9136aa],
  ['32 bytes of 0xff', Buffer.alloc(32, 0xff), 0x62a8ab43],
  ['bytes 0..31 ascending', Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e],
  ['bytes 31..0 descending', Buffer.from(Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c],
  ['"123456789"', Buffer.from('123456789'), 0xe3069283],
  ['empty', Buffer.alloc(0), 0],
];

for (const [name, bytes, expected] of VECTORS) {
  test(`table path: ${name}`, (t) => {
    t.is(crc32cJs(bytes), expected);
  });
  test(`selected path (${CRC32C_PATH}): ${name}`, (t) => {
    t.is(crc32c(bytes), expected);
  });
}

test('both paths agree on random buffers, lengths and sub-ranges', (t) => {
  for (let i = 0; i < 200; i++) {
    const bytes = randomBytes(1 + ((i * 7919) % 5000));
    const start = i % 13;
    const end = Math.max(start, bytes.length - (i % 17));
    t.is(crc32c(bytes, start, end), crc32cJs(bytes, start, end));
  }
});

test('the table path continues a checksum across pieces', (t) => {
  const bytes = randomBytes(1000);
  const whole = crc32cJs(bytes);
  t.is(crc32cJs(bytes, 333, 1000, crc32cJs(bytes, 0, 333)), whole);
});
