/**
 * Offset directories: what a topic delete asks of every group's directory without decoding it
 * (`offsetDirectoryNames`) must agree with decoding it, for any names (multi-byte UTF-8, prefixes of
 * one another) and any partitions, padding included.
 */
import test from 'ava';
import fc from 'fast-check';
import { decodeOffsetDirectory, encodeOffsetDirectory, offsetDirectoryNames } from '../../../src/store-index/index-values.js';

const utf8 = new TextEncoder();
const names = fc.constantFrom('a', 'ab', 'abc', 'b', 'ordens-ñ', 'ordens-n', '主题', '主题2', 'x'.repeat(200));

test('offsetDirectoryNames agrees with the decoded directory', (t) => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.record({ topic: names, partitions: fc.uniqueArray(fc.integer({ min: 0, max: 300 }), { minLength: 1, maxLength: 5 }) }), { selector: (entry) => entry.topic, maxLength: 6 }),
      names,
      (entries, probe) => {
        const bytes = encodeOffsetDirectory(entries);
        const decoded = decodeOffsetDirectory(bytes);
        return offsetDirectoryNames(bytes, utf8.encode(probe)) === decoded.some((entry) => entry.topic === probe);
      },
    ),
  );
  t.pass();
});

test('an empty directory names no topic', (t) => {
  t.false(offsetDirectoryNames(encodeOffsetDirectory([]), utf8.encode('a')));
});
