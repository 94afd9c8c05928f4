/**
 * One test per row of the recovery decision table in src/wal/recovery.ts, plus exhaustive damage:
 * truncation at every byte of the last records (always a clean torn tail) and a single-bit flip at every
 * bit of sealed data (always detected, never served). Logs live in MemoryStorage so the loops are fast.
 */
import test from 'ava';
import path from 'node:path';
import { EventCodec } from '../../../src/codec/event-codec.js';
import { crc32c } from '../../../src/crc32c.js';
import type { LogEvent } from '../../../src/codec/event-schema.js';
import { encodeSegmentHeader, segmentFileName } from '../../../src/wal/format.js';
import { scanWal, type WalScan } from '../../../src/wal/recovery.js';
import { checkOffsetsCommitted } from '../../../src/codec/hot-decoders.js';
import { foldWalInto } from '../../../src/snapshot/fold.js';
import { emptyFoldTarget } from '../../../src/snapshot/index-image.js';
import { appendEvents, commitEvent, topicEvent, WAL_DIR, type PlacedRecord } from '../../helpers/build-log.js';
import { MemoryStorage } from '../../helpers/memory-storage.js';

function scan(storage: MemoryStorage): { result: WalScan; events: LogEvent[] } {
  const events: LogEvent[] = [];
  const result = scanWal(storage, WAL_DIR, (event) => event !== null && events.push(event), { removeTempFiles: true });
  return { result, events };
}

/** Bytes of a segment header under the current schema (it embeds the schema, so it grows with it). */
const HEADER_BYTES = encodeSegmentHeader(0, 0, EventCodec.current().fingerprint, EventCodec.current().writerSchemaJson).length;

/**
 * A log of one topic and `commits` commits, over segments with room for `recordBytesPerSegment` bytes of
 * records after the header (a one-entry commit record is about 45 bytes).
 */
function makeLog(commits: number, recordBytesPerSegment = 64 * 1024 * 1024): { storage: MemoryStorage; placed: PlacedRecord[] } {
  const storage = new MemoryStorage();
  const events = [topicEvent('orders'), ...Array.from({ length: commits }, (_, i) => commitEvent('g', 'orders', i % 3, i))];
  return { storage, placed: appendEvents(storage, events, { segmentBytes: HEADER_BYTES + recordBytesPerSegment }) };
}

const filePath = (name: string): string => path.join(WAL_DIR, name);

test('row 1: a missing or empty wal directory is an empty log', (t) => {
  const { result, events } = scan(new MemoryStorage());
  t.is(result.nextOffset, 0);
  t.is(result.damage, null);
  t.is(events.length, 0);
});

test('row 2: unfinished *.tmp segment files are removed', (t) => {
  const { storage } = makeLog(2);
  storage.files.set(filePath(`${segmentFileName(3)}.tmp`), Buffer.from('half a header'));
  const { result } = scan(storage);
  t.deepEqual(result.removedTempFiles, [`${segmentFileName(3)}.tmp`]);
  t.false(storage.files.has(filePath(`${segmentFileName(3)}.tmp`)));
  t.is(result.nextOffset, 3);
});

test('row 2: a read-only scan leaves *.tmp files alone (a live writer may be creating one)', (t) => {
  const { storage } = makeLog(2);
  storage.files.set(filePath(`${segmentFileName(3)}.tmp`), Buffer.from('half a header'));
  const result = scanWal(storage, WAL_DIR, () => undefined);
  t.deepEqual(result.removedTempFiles, []);
  t.true(storage.files.has(filePath(`${segmentFileName(3)}.tmp`)));
});

test('row 3: a segment with a newer format version is unsupported', (t) => {
  const { storage, placed } = makeLog(2);
  const bytes = storage.files.get(filePath(placed[0].file)) as Buffer;
  // Rewrite the version and re-checksum, so only the version is wrong.
  const codec = EventCodec.current();
  const header = encodeSegmentHeader(0, 0, codec.fingerprint, codec.writerSchemaJson);
  header.writeUInt16LE(2, 8);
  header.writeUInt32LE(crc32c(header, 8, header.length), 4);
  header.copy(bytes, 0);
  const { result } = scan(storage);
  t.is(result.damage?.kind, 'unsupported');
  t.regex(result.damage?.reason ?? '', /version 2/);
});

test('row 4: a damaged segment header is corruption', (t) => {
  for (const position of [0, 5, 9, 20, 40, 60]) {
    const { storage, placed } = makeLog(2);
    const bytes = storage.files.get(filePath(placed[0].file)) as Buffer;
    bytes[position] ^= 0x01;
    const { result, events } = scan(storage);
    t.is(result.damage?.kind, 'corrupt', `header byte ${position}`);
    t.is(events.length, 0);
  }
});

test('row 5: a gap between segments is corruption', (t) => {
  const { storage, placed } = makeLog(40, 600);
  const files = [...new Set(placed.map((p) => p.file))];
  t.true(files.length >= 3, 'the log spans several segments');
  storage.files.delete(filePath(files[1]));
  const { result } = scan(storage);
  t.is(result.damage?.kind, 'corrupt');
  t.is(result.damage?.file, files[2]);
  t.regex(result.damage?.reason ?? '', /expected/);
});

test('row 6: a record with a good checksum but the wrong offset is corruption', (t) => {
  const storage = new MemoryStorage();
  appendEvents(storage, [topicEvent('a'), commitEvent('g', 'a', 0, 1)]);
  // Append a record numbered 5 where 2 is expected, through a second log built at offset 5.
  const other = new MemoryStorage();
  const placed = appendEvents(other, [commitEvent('g', 'a', 0, 2)], { firstOffset: 5 });
  const record = (other.files.get(filePath(placed[0].file)) as Buffer).subarray(placed[0].position, placed[0].end);
  const name = filePath(segmentFileName(0));
  storage.files.set(name, Buffer.concat([storage.files.get(name) as Buffer, record]));
  const { result, events } = scan(storage);
  t.is(result.damage?.kind, 'corrupt');
  t.is(result.damage?.offset, 2);
  t.is(events.length, 2);
});

test('row 7: a record whose payload does not decode is corruption', (t) => {
  const { storage, placed } = makeLog(1);
  const last = placed[1];
  const bytes = storage.files.get(filePath(last.file)) as Buffer;
  // Event type index 1 (OffsetsCommitted) → 0 (TopicCreated): the checksum is redone, the payload misreads.
  bytes.writeUInt16LE(0, last.position + 24);
  bytes.writeUInt32LE(crc32c(bytes, last.position + 8, last.end), last.position + 4);
  const { result } = scan(storage);
  t.is(result.damage?.kind, 'corrupt');
  t.regex(result.damage?.reason ?? '', /decode/);
});

test('row 8: damage in a sealed segment is corruption, even at its very end', (t) => {
  const { storage, placed } = makeLog(40, 600);
  const first = placed[0].file;
  const lastInFirst = placed.filter((p) => p.file === first).at(-1) as PlacedRecord;
  const bytes = storage.files.get(filePath(first)) as Buffer;
  storage.files.set(filePath(first), bytes.subarray(0, lastInFirst.end - 1));
  const { result } = scan(storage);
  t.is(result.damage?.kind, 'corrupt');
  t.is(result.damage?.file, first);
  t.is(result.damage?.position, lastInFirst.position);
});

test('row 9: damage followed by a good record in the newest segment is corruption', (t) => {
  const { storage, placed } = makeLog(10);
  const victim = placed[5];
  (storage.files.get(filePath(victim.file)) as Buffer)[victim.position + 30] ^= 0x40;
  const { result, events } = scan(storage);
  t.is(result.damage?.kind, 'corrupt');
  t.is(result.damage?.position, victim.position);
  t.is(result.damage?.offset, victim.offset);
  t.is(events.length, 5);
});

test('row 10: a torn tail of the newest segment is cut at the last good record', (t) => {
  const { storage, placed } = makeLog(10);
  const last = placed.at(-1) as PlacedRecord;
  const bytes = storage.files.get(filePath(last.file)) as Buffer;
  storage.files.set(filePath(last.file), bytes.subarray(0, last.end - 3));
  const { result, events } = scan(storage);
  t.is(result.damage?.kind, 'torn');
  t.is(result.damage?.position, last.position);
  t.is(result.nextOffset, last.offset);
  t.is(events.length, placed.length - 1);
});

test('truncating the newest segment at every byte of its last three records leaves exactly the whole records', (t) => {
  const { storage, placed } = makeLog(40, 1000);
  const newest = placed.at(-1)?.file as string;
  const inNewest = placed.filter((p) => p.file === newest);
  t.true(inNewest.length >= 3);
  const from = inNewest[inNewest.length - 3].position;
  const to = (inNewest.at(-1) as PlacedRecord).end;
  for (let cut = from; cut <= to; cut++) {
    const damaged = storage.clone();
    damaged.files.set(filePath(newest), (storage.files.get(filePath(newest)) as Buffer).subarray(0, cut));
    const { result, events } = scan(damaged);
    const whole = placed.filter((p) => p.file !== newest || p.end <= cut);
    t.is(events.length, whole.length, `cut at ${cut}`);
    t.is(result.nextOffset, whole.length, `next offset after cut at ${cut}`);
    if (cut === whole.at(-1)?.end) t.is(result.damage, null);
    else t.is(result.damage?.kind, 'torn', `cut at ${cut} is a torn tail`);
  }
});

test('a single-bit flip at every bit of sealed data is detected and nothing after it is served', (t) => {
  const { storage, placed } = makeLog(14, 300);
  const sealed = placed[0].file;
  t.not(sealed, placed.at(-1)?.file, 'the first segment is sealed');
  const pristine = storage.files.get(filePath(sealed)) as Buffer;
  let flips = 0;
  for (let position = 0; position < pristine.length; position++) {
    for (let bit = 0; bit < 8; bit++) {
      const damaged = storage.clone();
      (damaged.files.get(filePath(sealed)) as Buffer)[position] ^= 1 << bit;
      const { result, events } = scan(damaged);
      flips++;
      if (result.damage === null || result.damage.kind === 'torn') {
        t.fail(`flip of bit ${bit} at byte ${position} went unnoticed (${result.damage?.kind ?? 'no damage'})`);
        return;
      }
      const good = placed.filter((p) => p.file === sealed && p.end <= position).length;
      t.true(events.length <= good, `no event from the damaged record on is served (byte ${position})`);
    }
  }
  t.true(flips > 4000);
});

test('bit flips in records before the last one of the newest segment are detected', (t) => {
  const { storage, placed } = makeLog(6);
  const newest = placed.at(-1) as PlacedRecord;
  const pristine = storage.files.get(filePath(newest.file)) as Buffer;
  for (let position = placed[0].position; position < newest.position; position++) {
    for (let bit = 0; bit < 8; bit++) {
      const damaged = storage.clone();
      (damaged.files.get(filePath(newest.file)) as Buffer)[position] ^= 1 << bit;
      const { result } = scan(damaged);
      if (result.damage?.kind !== 'corrupt') {
        t.fail(`flip of bit ${bit} at byte ${position} of ${pristine.length} gave ${result.damage?.kind ?? 'no damage'}`);
        return;
      }
    }
  }
  t.pass();
});

test('row 11: zero-filled space after the last record of the newest segment is a clean end', (t) => {
  const { storage, placed } = makeLog(5);
  const last = placed.at(-1) as PlacedRecord;
  const name = filePath(last.file);
  const bytes = storage.files.get(name) as Buffer;
  storage.files.set(name, Buffer.concat([bytes.subarray(0, last.end), Buffer.alloc(100_000)]));
  const { result, events } = scan(storage);
  t.is(result.damage, null);
  t.is(events.length, placed.length);
  t.is(result.segments[0].validEnd, last.end);
  t.is(result.segments[0].fileBytes, last.end + 100_000);
});

test('row 8 again: zero-filled space at the end of a sealed segment is corruption', (t) => {
  const { storage, placed } = makeLog(40, 600);
  const first = placed[0].file;
  t.not(first, placed.at(-1)?.file, 'the first segment is sealed');
  const name = filePath(first);
  storage.files.set(name, Buffer.concat([storage.files.get(name) as Buffer, Buffer.alloc(64)]));
  const { result } = scan(storage);
  t.is(result.damage?.kind, 'corrupt');
  t.is(result.damage?.file, first);
});

/**
 * A log of three records whose last one's payload does not decode, under a valid checksum: its group
 * id's length varint claims more bytes than the payload has.
 */
function logWithUndecodablePayload(): { storage: MemoryStorage; victim: PlacedRecord } {
  const { storage, placed } = makeLog(3);
  const victim = placed[2];
  const bytes = storage.files.get(filePath(victim.file)) as Buffer;
  bytes[victim.position + 28] = 0x7e;
  bytes.writeUInt32LE(crc32c(bytes, victim.position + 8, victim.end), victim.position + 4);
  return { storage, victim };
}

test('row 7 holds when the scan only checks payloads (decodes: none)', (t) => {
  const { storage, victim } = logWithUndecodablePayload();
  const checked = scanWal(storage, WAL_DIR, () => undefined, { decodes: () => false });
  t.is(checked.damage?.kind, 'corrupt');
  t.is(checked.damage?.offset, victim.offset);
  t.regex(checked.damage?.reason ?? '', /decode/);
});

test('row 7 holds when the visitor checks the payloads (checkedByVisitor), and a fold applies nothing of the bad record', (t) => {
  const { storage, victim } = logWithUndecodablePayload();
  const visited: number[] = [];
  const checked = scanWal(storage, WAL_DIR, (event, payload, view) => {
    if (event === null) checkOffsetsCommitted(payload, view.payloadStart, view.end);
    visited.push(view.offset);
  }, { decodes: (type) => type !== 'OffsetsCommitted', checkedByVisitor: (type) => type === 'OffsetsCommitted' });
  t.is(checked.damage?.kind, 'corrupt');
  t.is(checked.damage?.offset, victim.offset);
  t.regex(checked.damage?.reason ?? '', /decode/);
  t.deepEqual(visited, [0, 1]);
  // The fold's own visitor (the index reads the payload as it applies it) stops at the same record.
  const target = emptyFoldTarget();
  const folded = foldWalInto(target, storage, WAL_DIR);
  t.is(folded.damage?.kind, 'corrupt');
  t.is(folded.damage?.offset, victim.offset);
  t.is(target.state.lastOffset, victim.offset - 1);
});
