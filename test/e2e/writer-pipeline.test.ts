/**
 * The writer's pipeline (an option, off by default) through the whole store: many writes in flight of
 * every kind, a group delete that must wait for the published index, a failed fdatasync, and close. The
 * state served must equal the log folded from disk (closeAndVerify), every call must settle, and
 * acknowledgements must follow the log's order.
 */
import test from 'ava';
import { FAULT_WORD_COUNT, FAULT_WORDS } from '../../src/wal/storage.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

test('pipelined writer: commits, topics, groups and a group delete in flight at once, all settled, the state equal to the log', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t), durability: 'fsync' }, { writerPipeline: true });
  await log.createTopic({ name: 'orders', partitions: 4 });
  const settledOffsets: number[] = [];
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < 2_000; i++) {
    calls.push(log.commitOffsets(`group-${i % 16}`, [{ topic: 'orders', partition: i % 4, offset: i }]).then(() => settledOffsets.push(i)));
    if (i % 100 === 0) calls.push(log.createTopic({ name: `topic-${i}`, partitions: 2 }));
    if (i % 250 === 0) {
      calls.push(log.upsertGroup({ groupId: `members-${i}`, state: 'Empty', protocolType: 'consumer', generation: 1, members: [] }));
      // Decided on the published index: it waits for every batch before it.
      calls.push(log.deleteGroup(`members-${i}`));
    }
  }
  await Promise.all(calls);
  t.is(settledOffsets.length, 2_000);
  for (let g = 0; g < 16; g++) {
    const last = 2_000 - 16 + g;
    t.is(log.fetchOffset(`group-${g}`, 'orders', last % 4)?.offset, last);
  }
  t.is(log.getGroup('members-0'), undefined);
  t.is(log.listTopics().length, 21);
  t.is(log.durableOffset, log.lastOffset, 'fsync: everything acknowledged is durable');
  await closeAndVerify(log);
});

test('pipelined writer: a failed fdatasync fails what waits, later writes are refused, nothing acknowledged is lost', async (t) => {
  const faults = new SharedArrayBuffer(FAULT_WORD_COUNT * 4);
  const dir = tmpDir(t);
  const log = await openStore(t, { dir, durability: 'fsync' }, { writerPipeline: true, faults });
  await log.createTopic({ name: 'orders', partitions: 1 });
  const acknowledged: number[] = [];
  const failed: string[] = [];
  const calls: Promise<void>[] = [];
  for (let i = 0; i < 500; i++) {
    if (i === 250) Atomics.store(new Int32Array(faults), FAULT_WORDS.FSYNC_FAILS, 1);
    calls.push(
      log.commitOffsets('g', [{ topic: 'orders', partition: 0, offset: i }]).then(
        () => void acknowledged.push(i),
        (error: { code?: string }) => void failed.push(String(error.code)),
      ),
    );
  }
  await Promise.all(calls);
  t.is(acknowledged.length + failed.length, 500, 'every call settled');
  t.true(failed.length > 0, 'the failed fdatasync failed calls');
  t.true(failed.every((code) => code === 'STORAGE_FAILED' || code === 'STORE_READ_ONLY'), failed.slice(0, 3).join());
  await t.throwsAsync(log.commitOffsets('g', [{ topic: 'orders', partition: 0, offset: 9_999 }]), { message: /read-only/ });
  await log.close();
  Atomics.store(new Int32Array(faults), FAULT_WORDS.FSYNC_FAILS, 0);
  // Reopened: every acknowledged commit is there (the last one acknowledged, at least).
  const reopened = await openStore(t, { dir, durability: 'fsync' });
  const highest = Math.max(...acknowledged);
  t.true((reopened.fetchOffset('g', 'orders', 0)?.offset ?? -1) >= highest, 'the last acknowledged commit survived');
});
