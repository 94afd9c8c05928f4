/**
 * The sparse offset and time indexes: lookups, their files' bytes, and the sanity check that decides
 * whether a sealed segment's index files are trusted on open. Also the topic configs' ranges.
 */
import test from 'ava';
import { ErrorCode, KafkaError } from '../../../../src/kafka/error-codes.js';
import { resolvePartitionLogConfig } from '../../../../src/kafka/partition-log/partition-log-config.js';
import { OffsetIndex, TimeIndex } from '../../../../src/kafka/partition-log/segment-index.js';

function offsetIndexOf(entries: Array<[number, number]>): OffsetIndex {
  const index = new OffsetIndex();
  for (const [relativeOffset, position] of entries) index.append(relativeOffset, position);
  return index;
}

test('an offset lookup gives the last entry at or below the offset, or the segment start', (t) => {
  const index = offsetIndexOf([[10, 4096], [25, 8200], [40, 12300]]);
  t.deepEqual(index.lookup(5), { relativeOffset: 0, position: 0 });
  t.deepEqual(index.lookup(10), { relativeOffset: 10, position: 4096 });
  t.deepEqual(index.lookup(39), { relativeOffset: 25, position: 8200 });
  t.deepEqual(index.lookup(1_000_000), { relativeOffset: 40, position: 12300 });
});

test('the offset index file is u32 relative offset + u32 position per entry, and decodes back', (t) => {
  const index = offsetIndexOf([[1, 70], [2, 0x01020304]]);
  const bytes = index.encode();
  t.deepEqual([...bytes], [0, 0, 0, 1, 0, 0, 0, 70, 0, 0, 0, 2, 1, 2, 3, 4]);
  t.deepEqual(OffsetIndex.decode(bytes, 0x01020305)?.encode(), bytes);
});

test('an offset index file that is cut, out of order or points past the log is not sane', (t) => {
  const bytes = offsetIndexOf([[1, 70], [2, 140]]).encode();
  t.is(OffsetIndex.decode(bytes.subarray(0, 12), 1000), null, 'cut mid-entry');
  t.is(OffsetIndex.decode(bytes, 140), null, 'position past the log');
  t.is(OffsetIndex.decode(Buffer.concat([bytes.subarray(8), bytes.subarray(0, 8)]), 1000), null, 'out of order');
  t.not(OffsetIndex.decode(Buffer.alloc(0), 1000), null, 'an empty index is sane');
});

test('a time lookup starts at the last entry below the timestamp; entries only grow', (t) => {
  const index = new TimeIndex();
  index.maybeAppend(100, 0);
  index.maybeAppend(90, 3); // not above the last: already covered
  index.maybeAppend(200, 5);
  index.maybeAppend(300, 9);
  t.is(index.entryCount, 3);
  t.is(index.lookup(50), 0);
  t.is(index.lookup(100), 0);
  t.is(index.lookup(101), 0);
  t.is(index.lookup(201), 5);
  t.is(index.lookup(10_000), 9);
  t.is(index.lastTimestamp, 300);
});

test('the time index file is int64 timestamp + u32 relative offset per entry; insane files are refused', (t) => {
  const index = new TimeIndex();
  index.maybeAppend(0x0102030405, 7);
  const bytes = index.encode();
  t.deepEqual([...bytes], [0, 0, 0, 1, 2, 3, 4, 5, 0, 0, 0, 7]);
  t.deepEqual(TimeIndex.decode(bytes, 8)?.encode(), bytes);
  t.is(TimeIndex.decode(bytes, 7), null, 'offset beyond the segment');
  t.is(TimeIndex.decode(bytes.subarray(0, 11), 8), null, 'cut');
  t.is(TimeIndex.decode(Buffer.concat([bytes, bytes]), 8), null, 'timestamps not increasing');
});

test('topic configs: defaults filled, each out-of-range value and unknown key refused with INVALID_CONFIG', (t) => {
  t.deepEqual(resolvePartitionLogConfig(), {
    maxMessageBytes: 1024 * 1024 + 12,
    segmentBytes: 1024 * 1024 * 1024,
    segmentMs: 7 * 24 * 60 * 60 * 1000,
    indexIntervalBytes: 4096,
  });
  const bad: Array<[Record<string, number>, RegExp]> = [
    [{ maxMessageBytes: 10 }, /max\.message\.bytes/],
    [{ segmentBytes: 2 ** 31 }, /segment\.bytes/],
    [{ segmentMs: 0 }, /segment\.ms/],
    [{ indexIntervalBytes: -1 }, /index\.interval\.bytes/],
    [{ segmentBytes: 1.5 }, /segment\.bytes/],
    [{ retentionMs: 5 }, /retentionMs/],
  ];
  for (const [input, named] of bad) {
    const error = t.throws(() => resolvePartitionLogConfig(input), { instanceOf: KafkaError });
    t.is(error?.errorCode, ErrorCode.INVALID_CONFIG);
    t.regex(error?.message ?? '', named);
  }
});
