/**
 * The shared index across threads: handles attached in worker threads (`MetaLog.attach(log.handle)`)
 * read the same state synchronously, write through the same writer, and never see a torn or
 * half-applied value while the writer changes it.
 */
import test from 'ava';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { MetaLog } from '../../src/api/metalog.js';
import { openStore } from '../helpers/store.js';
import { rejectsWith } from '../helpers/reject.js';
import {
  CHECK_GROUP,
  CHECK_PARTITIONS,
  CHECK_TOPIC,
  generationBytes,
  type CheckCounts,
  type StoreThreadTask,
} from '../helpers/store-thread-worker.js';
import { tmpDir } from '../helpers/tmp.js';

const WORKER_URL = new URL('../helpers/store-thread-worker.js', import.meta.url);

function startWorker(log: MetaLog, task: StoreThreadTask['task'], stop = new SharedArrayBuffer(4)): Worker {
  const workerData: StoreThreadTask = { task, handle: log.handle, stop };
  return new Worker(WORKER_URL, { workerData });
}

/** Sends `message` to an echo worker and waits for its reply. */
async function ask<T>(worker: Worker, message: object): Promise<T> {
  const reply = once(worker, 'message');
  worker.postMessage(message);
  return (await reply)[0] as T;
}

function checkedGroup(generation: number) {
  const members = Array.from({ length: 1 + (generation % 4) }, (_, i) => ({
    memberId: `member-${i}`,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    sessionTimeoutMs: 45_000,
    rebalanceTimeoutMs: 60_000,
    topics: [CHECK_TOPIC],
    subscription: new Uint8Array([1]),
    assignment: generationBytes(generation),
  }));
  return { groupId: CHECK_GROUP, state: 'Stable' as const, protocolType: 'consumer', protocol: 'range', generation, leader: 'member-0', members };
}

test('reader threads never see a torn, stale-after-newer or half-applied value while the writer changes them', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t), durability: 'none' });
  await log.createTopic({ name: CHECK_TOPIC, partitions: CHECK_PARTITIONS });
  const stop = new SharedArrayBuffer(4);
  const workers = [startWorker(log, 'check', stop), startWorker(log, 'check', stop)];
  const results = workers.map((worker) => new Promise<CheckCounts>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  }));
  const rounds = 1500;
  // Several rounds in flight at once, so batches hold many changes and the readers meet open sections.
  const inFlight = 8;
  for (let start = 1; start <= rounds; start += inFlight) {
    const writes: Promise<unknown>[] = [];
    for (let n = start; n < start + inFlight && n <= rounds; n++) {
      // The group first: the commit names its generation (commands apply in the order they are queued).
      writes.push(
        log.upsertGroup(checkedGroup(n)),
        log.commitOffsets(
          CHECK_GROUP,
          Array.from({ length: CHECK_PARTITIONS }, (_, partition) => ({ topic: CHECK_TOPIC, partition, offset: n, metadata: `m${n}` })),
          { generation: n, memberId: 'member-0' },
        ),
        log.alterTopicConfigs(CHECK_TOPIC, { set: { 'retention.ms': String(n), 'retention.bytes': String(n) } }),
      );
      // Filler topics make the topics table grow (rehash) while the readers read it.
      if (n % 3 === 0) writes.push(log.createTopic({ name: `filler-${n}`, partitions: 1 }));
    }
    await Promise.all(writes);
  }
  Atomics.store(new Int32Array(stop), 0, 1);
  const counts = await Promise.all(results);
  for (const count of counts) {
    t.true(count.offsetReads > 0 && count.offsetListReads > 0 && count.topicReads > 0 && count.groupReads > 0, JSON.stringify(count));
    t.log(JSON.stringify(count));
  }
  t.is(log.fetchOffsets(CHECK_GROUP).length, CHECK_PARTITIONS);
  t.is(log.getGroup(CHECK_GROUP)?.generation, rounds);
});

test('read-your-writes across threads: a write resolved on one thread is visible to a read on the other', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t), durability: 'none' });
  const worker = startWorker(log, 'echo');
  t.teardown(() => worker.terminate());
  t.deepEqual((await once(worker, 'message'))[0], { ready: true });
  for (let i = 0; i < 20; i++) {
    // The worker writes; as soon as its promise resolved it tells this thread, which reads at once.
    const wrote = await ask<{ wrote: string; error?: string }>(worker, { write: `from-worker-${i}` });
    t.is(wrote.error, undefined);
    t.truthy(log.getTopic(`from-worker-${i}`), `from-worker-${i} visible here`);
    // And the other way round.
    await log.createTopic({ name: `from-main-${i}`, partitions: 1 });
    t.deepEqual(await ask(worker, { read: `from-main-${i}` }), { read: `from-main-${i}`, found: true });
  }
  t.deepEqual(await ask(worker, { close: true }), { closed: true });
  // Detaching did not close the store.
  await log.createTopic({ name: 'after-detach', partitions: 1 });
  t.is(log.listTopics().length, 41);
});

test('attached handles on the same thread: shared state, own calls, detach, and STORE_CLOSED when the store closes', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  const reader = MetaLog.attach(log.handle);
  const writer = MetaLog.attach(log.handle);
  await writer.createTopic({ name: 'shared', partitions: 2 });
  t.is(reader.getTopic('shared'), reader.getTopic('shared'), 'an unchanged value is decoded once and shared');
  t.deepEqual(reader.getTopic('shared'), log.getTopic('shared'));
  // Errors reach the handle that made the call, with their codes.
  await rejectsWith(t, log, writer.createTopic({ name: 'shared', partitions: 1 }), 'TOPIC_ALREADY_EXISTS', 36);
  const watched: string[] = [];
  const watcher = writer.watch();
  const collecting = (async () => {
    for await (const event of watcher) {
      watched.push(event.type);
      if (watched.length === 2) break;
    }
  })();
  await log.createTopic({ name: 'seen-by-watch', partitions: 1 });
  await log.deleteTopic('seen-by-watch');
  await collecting;
  t.deepEqual(watched, ['TopicCreated', 'TopicDeleted']);
  await writer.close();
  await rejectsWith(t, log, writer.createTopic({ name: 'later', partitions: 1 }), 'STORE_CLOSED');
  await log.createTopic({ name: 'still-open', partitions: 1 });
  t.truthy(reader.getTopic('still-open'));
  await log.close();
  t.throws(() => reader.getTopic('shared'), { message: /closed/ });
  await rejectsWith(t, log, reader.createTopic({ name: 'x', partitions: 1 }), 'STORE_CLOSED');
  t.throws(() => MetaLog.attach(log.handle), { message: /closed/ });
});

test('a thread that dies without closing its handle does not leave the writer waiting for its cursor', async (t) => {
  // A small event ring (1 MiB batches): the commits below wrap it several times, which would block the
  // writer for good if the ended thread's cursor were still counted.
  const log = await openStore(t, { dir: tmpDir(t), durability: 'none', maxBatchBytes: 1024 * 1024 });
  await log.createTopic({ name: 't', partitions: 1 });
  const worker = startWorker(log, 'write-and-crash');
  // Plain listeners: events.once would reject on the 'error', which may come before the message.
  const died = new Promise<Error>((resolve) => worker.once('error', resolve));
  const wrote = new Promise<unknown>((resolve) => worker.once('message', resolve));
  const exited = new Promise<unknown>((resolve) => worker.once('exit', resolve));
  t.regex((await died).message, /dies with its handle open/);
  t.is(await wrote, 'wrote');
  await exited;
  const metadata = 'm'.repeat(4000);
  const commits: Promise<void>[] = [];
  for (let i = 0; i < 6000; i++) commits.push(log.commitOffsets('g', [{ topic: 't', partition: 0, offset: i, metadata }]));
  await Promise.all(commits);
  t.is(log.fetchOffset('g', 't', 0)?.offset, 5999);
  t.truthy(log.getTopic('left-behind'));
});

test('an attached handle whose thread hangs is evicted after the stall bound, and follows again afterwards', async (t) => {
  // A small event ring and a short stall bound: the commits below fill the ring while the worker's
  // handle consumes nothing; the writer evicts that handle's cursor instead of waiting for ever.
  const log = await openStore(t, { dir: tmpDir(t), durability: 'none', maxBatchBytes: 1024 * 1024 }, { handleStallMs: 300 });
  await log.createTopic({ name: 't', partitions: 1 });
  const stop = new SharedArrayBuffer(4);
  const worker = startWorker(log, 'write-hang-write', stop);
  const messages: unknown[] = [];
  let firstMessage: (message: unknown) => void = () => undefined;
  const wrote = new Promise<unknown>((resolve) => (firstMessage = resolve));
  const wroteAgain = new Promise<unknown>((resolve, reject) => {
    worker.on('message', (message) => {
      messages.push(message);
      if (messages.length === 1) firstMessage(message);
      if (messages.length === 2) resolve(message);
    });
    worker.once('error', reject);
  });
  t.is(await wrote, 'wrote');
  const metadata = 'm'.repeat(4000);
  const commits: Promise<void>[] = [];
  for (let i = 0; i < 6000; i++) commits.push(log.commitOffsets('g', [{ topic: 't', partition: 0, offset: i, metadata }]));
  await Promise.all(commits);
  t.is(log.fetchOffset('g', 't', 0)?.offset, 5999, 'the writer went on without the hung handle');
  Atomics.store(new Int32Array(stop), 0, 1);
  Atomics.notify(new Int32Array(stop), 0);
  t.is(await wroteAgain, 'wrote again', 'the evicted handle follows the store again with a new cursor');
  t.truthy(log.getTopic('after-hang'));
  await once(worker, 'exit');
});
