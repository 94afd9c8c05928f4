/**
 * backup(dest) while the store writes, restore(src, dir, { toOffset | toTime }) to any retained point,
 * and diff(a, b). A restored store must open with exactly the state folded to its point: checked
 * against an independent fold of the source's WAL (a plain state, no index, no snapshot) at random
 * offsets, and across compacted history against the fold from the source's snapshots.
 */
import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { MetaLog } from '../../src/api/metalog.js';
import { ManualClock } from '../../src/clock.js';
import { backupStore, restoreStore } from '../../src/backup/backup.js';
import { COPY_MARKER } from '../../src/backup/copy-marker.js';
import { MetaLogError } from '../../src/errors.js';
import { foldTo } from '../../src/history/state-at.js';
import { canonicalIndexState } from '../../src/store-index/canonical-index-state.js';
import { StoreIndexReader } from '../../src/store-index/store-index.js';
import { canonicalState, MetadataState } from '../../src/state/metadata-state.js';
import { scanWal } from '../../src/wal/recovery.js';
import { NodeStorage } from '../../src/wal/storage.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

const seed = process.env.SEED === undefined ? Date.now() % 2 ** 31 : Number(process.env.SEED);

/** A small seeded generator (mulberry32), so a failing run can be replayed with SEED=. */
function random(seedValue: number): () => number {
  let state = seedValue >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** The canonical state at `offset` folded from the WAL of `dir` into a plain state (the WAL must start at 0). */
function plainFoldAt(dir: string, offset: number): string {
  const state = new MetadataState();
  scanWal(new NodeStorage(), path.join(dir, 'wal'), (event) => {
    if (event !== null && event.offset <= offset) state.apply(event);
  });
  return canonicalState(state);
}

async function busyStore(log: MetaLog, rounds: number, prefix = 't'): Promise<void> {
  if (log.getBroker(1) === undefined) await log.registerBroker({ brokerId: 1, host: 'b1', port: 9092, brokerEpoch: 1 });
  for (let round = 0; round < rounds; round++) {
    await log.createTopic({ name: `${prefix}${round}`, partitions: 3 });
    await Promise.all(Array.from({ length: 40 }, (_, i) => log.commitOffsets(`g${i % 5}`, [{ topic: `${prefix}${round}`, partition: i % 3, offset: round * 100 + i, metadata: 'm'.repeat(30) }])));
    await log.updateWatermarks(`${prefix}${round}`, 0, { highWatermark: round });
    if (round % 4 === 3) await log.deleteTopic(`${prefix}${round - 2}`);
  }
}

test('a backup taken while writes run opens as a store with the state at its last offset', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir, snapshotEveryEvents: 0, snapshotIntervalMs: 0, readerThreads: 1 });
  await busyStore(log, 8);
  const dest = path.join(tmpDir(t), 'backup');
  const during = Array.from({ length: 200 }, (_, i) => log.commitOffsets('during', [{ topic: 't7', partition: 0, offset: i }]));
  const report = await log.backup(dest);
  await Promise.all(during);
  t.true(report.lastOffset >= 0 && report.snapshots.length === 1 && report.bytes > 0);
  t.is(report.firstOffset, 0);
  const copy = await MetaLog.open({ dir: dest });
  t.is(copy.lastOffset, report.lastOffset);
  t.is(copy.canonicalState(), plainFoldAt(dir, report.lastOffset));
  await closeAndVerify(copy);

  await t.throwsAsync(log.backup(dest), { instanceOf: MetaLogError, message: /not empty/ });
});

test('restore to random offsets and to a time: each opens with exactly the state folded to that point', async (t) => {
  const dir = tmpDir(t);
  const clock = new ManualClock();
  const log = await openStore(t, { dir, snapshotEveryEvents: 0, snapshotIntervalMs: 0, readerThreads: 1 }, { clock });
  await busyStore(log, 6);
  await log.snapshot();
  await busyStore(log, 3, 'u');
  const timeMark = clock.advance(5);
  clock.advance(5);
  await log.createTopic({ name: 'after-time', partitions: 1 });
  const last = log.lastOffset;
  const next = random(seed);
  const offsets = [0, last, ...Array.from({ length: 6 }, () => Math.floor(next() * (last + 1)))];
  for (const [i, offset] of offsets.entries()) {
    const target = path.join(tmpDir(t), `restored-${i}`);
    const report = await MetaLog.restore(dir, target, { toOffset: offset });
    t.is(report.lastOffset, offset, `seed ${seed}`);
    const restored = await MetaLog.open({ dir: target, snapshotEveryEvents: 0 });
    t.is(restored.canonicalState(), plainFoldAt(dir, offset), `offset ${offset}, seed ${seed}`);
    // The restored store takes writes after its point.
    await restored.createTopic({ name: `new-${i}`, partitions: 1 });
    await closeAndVerify(restored);
  }
  const byTime = path.join(tmpDir(t), 'by-time');
  const report = await MetaLog.restore(dir, byTime, { toTime: timeMark });
  t.is(report.lastOffset, last - 1, 'every event up to the time, not the one after');
  const restored = await MetaLog.open({ dir: byTime });
  t.is(restored.getTopic('after-time'), undefined);
  await closeAndVerify(restored);

  await t.throwsAsync(MetaLog.restore(dir, path.join(tmpDir(t), 'past'), { toOffset: last + 1 }), { instanceOf: MetaLogError, message: /past/ });
});

test('restore across compacted history starts from a snapshot; points before the oldest one are refused', async (t) => {
  const dir = tmpDir(t);
  const config = { dir, snapshotEveryEvents: 0, snapshotIntervalMs: 0, segmentBytes: 64 * 1024, historyRetentionMs: 0, snapshotsRetained: 2, readerThreads: 1 };
  const log = await openStore(t, config);
  await busyStore(log, 20);
  const first = await log.snapshot();
  await busyStore(log, 20, 'u');
  await log.snapshot();
  const walFirst = Math.min(...fs.readdirSync(path.join(dir, 'wal')).filter((name) => name.endsWith('.log')).map((name) => Number(name.slice(0, 20))));
  t.true(walFirst > 0, 'history was compacted');
  for (const offset of [first.lastOffset, first.lastOffset + 7, log.lastOffset]) {
    const target = path.join(tmpDir(t), `r-${offset}`);
    const report = await MetaLog.restore(dir, target, { toOffset: offset });
    t.not(report.snapshot, null);
    const restored = await MetaLog.open({ dir: target });
    const got = restored.canonicalState();
    const want = canonicalIndexState(new StoreIndexReader(foldTo(dir, { offset }).buffers));
    let at = 0;
    while (at < got.length && got[at] === want[at]) at++;
    t.is(got.slice(Math.max(0, at - 80), at + 80), want.slice(Math.max(0, at - 80), at + 80), `offset ${offset}`);
    await closeAndVerify(restored);
  }
  const error = await t.throwsAsync(MetaLog.restore(dir, path.join(tmpDir(t), 'too-old'), { toOffset: 0 }), { instanceOf: MetaLogError });
  t.is(error?.code, 'OFFSET_OUT_OF_RANGE');
});

test('diff lists what was added, removed and changed between two offsets', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t), readerThreads: 1 });
  await log.createTopic({ name: 'keep', partitions: 1 });
  await log.createTopic({ name: 'gone', partitions: 1 });
  const before = log.lastOffset;
  await log.deleteTopic('gone');
  await log.createTopic({ name: 'new', partitions: 2 });
  await log.alterTopicConfigs('keep', { set: { 'retention.ms': '5' } });
  await log.commitOffsets('g', [{ topic: 'keep', partition: 0, offset: 3 }]);
  const diff = await log.diff(before, log.lastOffset);
  t.deepEqual(diff.topics.added.map((topic) => topic.name), ['new']);
  t.deepEqual(diff.topics.removed.map((topic) => topic.name), ['gone']);
  t.deepEqual(diff.topics.changed.map((change) => [change.before.configs['retention.ms'], change.after.configs['retention.ms']]), [[undefined, '5']]);
  t.deepEqual(diff.offsets.added.map((offset) => [offset.groupId, offset.offset]), [['g', 3]]);
  t.is(diff.brokers.added.length + diff.brokers.removed.length + diff.brokers.changed.length, 0);
  const none = await log.diff(log.lastOffset, log.lastOffset);
  t.is(none.topics.changed.length + none.topics.added.length + none.offsets.added.length, 0);
  await t.throwsAsync(log.diff(-1, 2), { instanceOf: MetaLogError });
});

test('a copy carries a marker from before its first file until it is durable; a folder a crash left with it is refused by open and restore', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir, snapshotEveryEvents: 0, snapshotIntervalMs: 0, readerThreads: 1 });
  await busyStore(log, 3);
  await log.snapshot();
  // Every call the copy makes to the disk, in order, with the file it names.
  const calls: string[] = [];
  const real = new NodeStorage();
  const recording = new Proxy(real, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(`${String(name)} ${typeof args[0] === 'string' ? path.basename(args[0]) : ''}`.trim());
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  for (const [kind, copy] of [
    ['backup', (dest: string) => backupStore(dir, dest, undefined, undefined, recording)],
    ['restore', (dest: string) => restoreStore(dir, dest, {}, undefined, recording)],
  ] as const) {
    calls.length = 0;
    const dest = path.join(tmpDir(t), 'copy');
    await copy(dest);
    const markerWritten = calls.indexOf(`rename ${COPY_MARKER}.tmp`);
    const firstCopy = calls.findIndex((call) => /^createForWrite \d{20}\.(log|snapshot)$/.test(call));
    const markerRemoved = calls.indexOf(`unlink ${COPY_MARKER}`);
    const lastSync = calls.map((call) => call.startsWith('fsyncDir') || call.startsWith('fdatasync')).lastIndexOf(true);
    t.true(markerWritten >= 0 && markerWritten < firstCopy, `${kind}: the marker is in place before the first file`);
    t.true(markerRemoved > firstCopy, `${kind}: and removed after the copy`);
    t.true(calls.slice(0, markerRemoved).some((call) => call === `fsyncDir ${path.basename(path.dirname(dest))}`), `${kind}: once the folder's entry is durable`);
    t.is(lastSync, markerRemoved + 1, `${kind}: its removal made durable last`);
    t.false(fs.existsSync(path.join(dest, COPY_MARKER)));

    // What a crash before the end leaves: the marker. Open and restore refuse the folder, naming it.
    fs.writeFileSync(path.join(dest, COPY_MARKER), 'interrupted\n');
    const refused = await t.throwsAsync(MetaLog.open({ dir: dest }), { instanceOf: MetaLogError });
    t.is(refused?.code, 'CORRUPT_WAL');
    t.is(refused?.details.file, path.join(dest, COPY_MARKER));
    const again = await t.throwsAsync(MetaLog.restore(dest, path.join(tmpDir(t), 'from-half')), { instanceOf: MetaLogError });
    t.is(again?.code, 'CORRUPT_WAL');
    fs.rmSync(path.join(dest, COPY_MARKER));
    const whole = await MetaLog.open({ dir: dest });
    t.is(whole.lastOffset, log.lastOffset);
    await closeAndVerify(whole);
  }
});
