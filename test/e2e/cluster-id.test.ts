/**
 * The cluster's identity: minted once (Kafka's form) or given, kept as one ClusterCreated event, the
 * same on every handle, never written twice (also when handles ask at once), and kept across a restart,
 * an open from a snapshot after compaction, backup and restore, stateAt, diff, the snapshot digest that
 * `metalog verify` checks, and the CLI's state and dump. A log written under schema version 3 opens and
 * takes one, and so does a store whose snapshot was made before the cluster id existed.
 */
import test from 'ava';
import avro from 'avsc';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { MetaLog } from '../../src/api/metalog.js';
import { ManualClock } from '../../src/clock.js';
import { readSnapshotFile, writeSnapshotFile } from '../../src/snapshot/snapshot-file.js';
import { RECORD_HEADER_BYTES, encodeSegmentHeader, sealRecord, segmentFileName } from '../../src/wal/format.js';
import { storageFor } from '../../src/wal/storage.js';
import { rejectsWith } from '../helpers/reject.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname;
const KAFKA_FORM = /^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/;

function metalog(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('initCluster mints one id in Kafka\'s form, once; later calls return it and write nothing', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  t.is(log.clusterId, null);
  const id = await log.initCluster();
  t.regex(id, KAFKA_FORM);
  const bytes = Buffer.from(id, 'base64url');
  t.is(bytes.length, 16);
  t.is(bytes[6] >> 4, 4, 'a version 4 UUID');
  t.is(log.clusterId, id);
  const offset = log.lastOffset;
  t.is(await log.initCluster(), id);
  t.is(await log.initCluster('AAAAAAAAAAAAAAAAAAAAAA'), id, 'a given id does not replace the one the store has');
  t.is(log.lastOffset, offset, 'nothing written');
  t.deepEqual((await log.history({ types: ['ClusterCreated'] })).map((event) => event.value), [{ clusterId: id }]);
});

test('a given id is kept; a malformed one is INVALID_REQUEST', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  for (const bad of ['', 'has space', 'x'.repeat(65), 'é', 42, null]) {
    const error = await rejectsWith(t, log, log.initCluster(bad as never), 'INVALID_REQUEST', 42);
    t.is(error.details.field, 'clusterId');
  }
  t.is(log.clusterId, null);
  t.is(await log.initCluster('MkU3OEVBNTcwNTJENDM2Qk'), 'MkU3OEVBNTcwNTJENDM2Qk');
  await log.close();
  t.throws(() => log.clusterId, { message: /closed/ });
  await t.throwsAsync(log.initCluster(), { message: /closed/ });
});

test('handles asking at once all get the one id written; attached handles read it', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  const attached = MetaLog.attach(log.handle);
  try {
    const ids = await Promise.all([log.initCluster(), attached.initCluster(), log.initCluster('given'), attached.initCluster()]);
    t.is(new Set(ids).size, 1);
    t.is(attached.clusterId, ids[0]);
    t.is((await log.history({ types: ['ClusterCreated'] })).length, 1, 'one ClusterCreated');
  } finally {
    await attached.close();
  }
});

test('the id survives restart, an open from a snapshot after compaction, stateAt, diff and verify', async (t) => {
  const dir = tmpDir(t);
  const clock = new ManualClock();
  const config = { dir, snapshotEveryEvents: 0, snapshotIntervalMs: 0, historyRetentionMs: 0, segmentBytes: 64 * 1024 };
  let log = await openStore(t, config, { clock });
  await log.createTopic({ name: 't', partitions: 1 });
  const before = log.lastOffset;
  const id = await log.initCluster();
  for (let i = 0; i < 600; i++) await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: i, metadata: 'm'.repeat(100) }]);
  t.is((await log.stateAt({ offset: before })).clusterId, null);
  t.is((await log.stateAt({ offset: before + 1 })).clusterId, id);
  t.deepEqual((await log.diff(before, before + 1)).clusterId, { before: null, after: id });
  t.is((await log.diff(before + 1, log.lastOffset)).clusterId, null);
  await closeAndVerify(log);
  log = await openStore(t, config, { clock });
  t.is(log.clusterId, id);
  clock.advance(3_600_000);
  await log.snapshot();
  await closeAndVerify(log);
  t.false(fs.readdirSync(path.join(dir, 'wal')).includes(segmentFileName(0)), 'the WAL before the snapshot was compacted');
  log = await openStore(t, config, { clock });
  t.not(log.recovery.snapshot, null);
  t.is(log.clusterId, id);
  t.is(await log.initCluster(), id);
  const verify = metalog('verify', dir, '--json');
  t.is(verify.status, 0, verify.stdout);
  t.is(JSON.parse(verify.stdout).replayed.clusterId, id);
});

test('backup and restore keep the id; a restore to before it has none; the CLI shows it', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir });
  await log.createTopic({ name: 't', partitions: 1 });
  const before = log.lastOffset;
  const id = await log.initCluster();
  const backup = path.join(tmpDir(t), 'copy');
  await log.backup(backup);
  const whole = path.join(tmpDir(t), 'whole');
  await MetaLog.restore(backup, whole);
  const early = path.join(tmpDir(t), 'early');
  await MetaLog.restore(dir, early, { toOffset: before });
  await closeAndVerify(log);
  const restored = await openStore(t, { dir: whole });
  t.is(restored.clusterId, id);
  await closeAndVerify(restored);
  const older = await openStore(t, { dir: early });
  t.is(older.clusterId, null);
  await closeAndVerify(older);
  const state = metalog('state', dir);
  t.is(state.status, 0, state.stderr);
  t.true(state.stdout.includes(`cluster id ${id}`), state.stdout);
  const json = metalog('state', dir, '--json');
  t.is(JSON.parse(json.stdout).clusterId, id);
  const dump = metalog('dump', dir, '--type', 'ClusterCreated');
  t.is(dump.status, 0, dump.stderr);
  t.deepEqual(dump.stdout.trim().split('\n').map((line) => JSON.parse(line).value), [{ clusterId: id }]);
});

test('a log written under event schema version 3 opens, and its first cluster id starts a new segment', async (t) => {
  const dir = tmpDir(t);
  const v3 = JSON.parse(fs.readFileSync(new URL('../../../test/fixtures/event-schema-v3.json', import.meta.url), 'utf8')) as unknown[];
  t.false(v3.some((record) => (record as { name: string }).name === 'ClusterCreated'));
  const union = avro.Type.forSchema(v3 as avro.Schema, { wrapUnions: 'auto' }) as unknown as { types: avro.Type[]; fingerprint(a: string): Buffer };
  const header = encodeSegmentHeader(0, 1_700_000_000_000, union.fingerprint('md5'), JSON.stringify(v3));
  const buffer = Buffer.alloc(4096);
  const value = { topicId: '11111111-1111-4111-8111-111111111111', name: 'legacy', replicationFactor: 1, partitions: [{ partition: 0, leader: -1, replicas: [], isr: [], leaderEpoch: 0, partitionEpoch: 0 }], configs: {} };
  const end = union.types[0].encode(value, buffer, RECORD_HEADER_BYTES);
  const record = buffer.subarray(0, sealRecord(buffer, 0, end, 0, 1_700_000_000_000, 0, 3));
  fs.mkdirSync(path.join(dir, 'wal'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'wal', segmentFileName(0)), Buffer.concat([header, record]));
  let log = await openStore(t, { dir });
  t.is(log.clusterId, null);
  const id = await log.initCluster();
  await closeAndVerify(log);
  t.deepEqual(fs.readdirSync(path.join(dir, 'wal')).sort(), [segmentFileName(0), segmentFileName(1)]);
  log = await openStore(t, { dir });
  t.is(log.clusterId, id);
  t.is(log.getTopic('legacy')?.partitions.length, 1);
});

test('a snapshot made before the cluster id existed (no clusterId in its meta) opens, and the store takes one', async (t) => {
  const dir = tmpDir(t);
  const config = { dir, snapshotEveryEvents: 0, snapshotIntervalMs: 0 };
  let log = await openStore(t, config);
  await log.createTopic({ name: 't', partitions: 1 });
  const taken = await log.snapshot();
  await closeAndVerify(log);
  // The same sections under the meta an older version wrote: its state scalars without clusterId.
  const file = path.join(dir, 'snapshots', taken.file);
  const sections: { name: string; bytes: Uint8Array }[] = [];
  const meta = readSnapshotFile(file, () => null, (section, bytes) => sections.push({ name: section.name, bytes: bytes.slice() }));
  const { sections: _list, formatVersion: _version, ...rest } = meta;
  const { clusterId, ...olderState } = rest.state;
  t.is(clusterId, null);
  writeSnapshotFile(dir, { ...rest, state: olderState }, sections, storageFor());
  log = await openStore(t, config);
  t.is(log.recovery.snapshot?.lastOffset, taken.lastOffset, 'opened from the older snapshot');
  t.is(log.clusterId, null);
  const id = await log.initCluster();
  await closeAndVerify(log);
  const verify = metalog('verify', dir, '--json');
  t.is(verify.status, 0, verify.stdout);
  log = await openStore(t, config);
  t.is(log.clusterId, id);
});
