/**
 * Old logs stay readable: a segment written under an older writer schema (here a version whose offset
 * entries had no leaderEpoch and no metadata) decodes through Avro schema resolution, the new fields
 * take their defaults, and new writes go to a new segment under the current schema. A segment with a
 * newer, unknown format version is refused.
 */
import test from 'ava';
import avro from 'avsc';
import fs from 'node:fs';
import path from 'node:path';
import { MetaLog } from '../../src/api/metalog.js';
import { EVENT_UNION_SCHEMA } from '../../src/codec/event-schema.js';
import { crc32c } from '../../src/crc32c.js';
import { MetaLogError } from '../../src/errors.js';
import { encodeSegmentHeader, RECORD_HEADER_BYTES, sealRecord, segmentFileName } from '../../src/wal/format.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

/** The older schema: OffsetCommitEntry without leaderEpoch and metadata. */
function olderSchema(): unknown[] {
  const schema = JSON.parse(JSON.stringify(EVENT_UNION_SCHEMA));
  const entry = schema[1].fields[1].type.items;
  entry.fields = entry.fields.filter((field: { name: string }) => field.name !== 'leaderEpoch' && field.name !== 'metadata');
  return schema;
}

function writeOldSegment(dir: string, schema: unknown[] = olderSchema(), zeroTailBytes = 0): void {
  const union = avro.Type.forSchema(schema as avro.Schema, { wrapUnions: 'auto' }) as unknown as { types: avro.Type[]; fingerprint(a: string): Buffer };
  const header = encodeSegmentHeader(0, Date.now(), union.fingerprint('md5'), JSON.stringify(schema));
  const records: Buffer[] = [];
  const values = [
    { type: 0, value: { topicId: '11111111-1111-4111-8111-111111111111', name: 'legacy', replicationFactor: 1, partitions: [{ partition: 0, leader: -1, replicas: [], isr: [], leaderEpoch: 0, partitionEpoch: 0 }], configs: {} } },
    { type: 1, value: { groupId: 'g', entries: [{ topic: 'legacy', partition: 0, offset: 77 }] } },
  ];
  values.forEach(({ type, value }, offset) => {
    const buffer = Buffer.alloc(4096);
    const end = union.types[type].encode(value, buffer, RECORD_HEADER_BYTES);
    records.push(Buffer.from(buffer.subarray(0, sealRecord(buffer, 0, end, offset, 1_700_000_000_000, type, 0))));
  });
  fs.mkdirSync(path.join(dir, 'wal'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'wal', segmentFileName(0)), Buffer.concat([header, ...records, Buffer.alloc(zeroTailBytes)]));
}

test('an older-schema newest segment with the zero-filled space the writer leaves ahead of appends is sealed at its last record', async (t) => {
  // The writer zero-fills its open segment ahead of appends; when a new schema starts a new segment,
  // the old one becomes sealed and must end exactly at its last record, or the next open sees zeros in
  // a sealed segment and refuses the log.
  const dir = tmpDir(t);
  writeOldSegment(dir, olderSchema(), 64 * 1024);
  let log = await openStore(t, { dir });
  await log.commitOffsets('g', [{ topic: 'legacy', partition: 0, offset: 78 }]);
  await closeAndVerify(log);
  log = await openStore(t, { dir });
  t.is(log.fetchOffset('g', 'legacy', 0)?.offset, 78);
  t.is(log.recovery.replayedEvents, 3);
});

test('a segment written under an older writer schema decodes with defaults; new writes start a new segment', async (t) => {
  const dir = tmpDir(t);
  writeOldSegment(dir);
  let log = await openStore(t, { dir });
  t.is(log.getTopic('legacy')?.topicId, '11111111-1111-4111-8111-111111111111');
  t.deepEqual({ ...log.fetchOffset('g', 'legacy', 0) }, { offset: 77, leaderEpoch: -1, metadata: '', commitTimestamp: 1_700_000_000_000 });
  await log.commitOffsets('g', [{ topic: 'legacy', partition: 0, offset: 78, leaderEpoch: 2, metadata: 'new' }]);
  await closeAndVerify(log);
  t.deepEqual(fs.readdirSync(path.join(dir, 'wal')).sort(), [segmentFileName(0), segmentFileName(2)]);
  log = await openStore(t, { dir });
  t.is(log.recovery.replayedEvents, 3);
  t.is(log.fetchOffset('g', 'legacy', 0)?.metadata, 'new');
});

test('a log written under writer schema version 1 (kept as a fixture) opens under the current version', async (t) => {
  const dir = tmpDir(t);
  const v1 = JSON.parse(fs.readFileSync(new URL('../../../test/fixtures/event-schema-v1.json', import.meta.url), 'utf8')) as unknown[];
  writeOldSegment(dir, v1);
  const log = await openStore(t, { dir });
  t.is(log.getTopic('legacy')?.partitions.length, 1);
  t.is(log.fetchOffset('g', 'legacy', 0)?.offset, 77);
  t.is(log.fetchOffset('g', 'legacy', 0)?.metadata, '', 'the field v1 had is read, the value it wrote is kept');
  await log.registerBroker({ brokerId: 1, host: 'h', port: 9092, brokerEpoch: 0 });
  t.is(log.getBroker(1)?.status, 'ONLINE');
});

test('a segment with a newer format version is refused with UNSUPPORTED_FORMAT, and left untouched', async (t) => {
  const dir = tmpDir(t);
  let log = await openStore(t, { dir });
  await log.createTopic({ name: 't', partitions: 1 });
  await closeAndVerify(log);
  const file = path.join(dir, 'wal', segmentFileName(0));
  const bytes = fs.readFileSync(file);
  bytes.writeUInt16LE(9, 8);
  bytes.writeUInt32LE(crc32c(bytes, 8, bytes.readUInt32LE(12)), 4);
  fs.writeFileSync(file, bytes);
  const error = (await t.throwsAsync(MetaLog.open({ dir }), { instanceOf: MetaLogError })) as MetaLogError;
  t.is(error.code, 'UNSUPPORTED_FORMAT');
  t.is(error.details.file, file);
  t.true(fs.readFileSync(file).equals(bytes));
  t.false(fs.existsSync(path.join(dir, 'LOCK')), 'a failed open releases the lock');
  t.is((t.throws(() => MetaLog.repair(dir)) as MetaLogError).code, 'UNSUPPORTED_FORMAT');
});
