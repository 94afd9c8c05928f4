/**
 * watch(): committed events from now on, in offset order, each once, filtered by type; the iterator ends
 * when the store closes and unsubscribes on return. From an older offset it replays the history first,
 * then goes on live without a gap or a duplicate; across compacted history it hands over with a
 * snapshot marker.
 */
import test from 'ava';
import { MetaLogError } from '../../src/errors.js';
import type { LogEvent } from '../../src/codec/event-schema.js';
import type { WatchEvent } from '../../src/api/watcher.js';
import fs from 'node:fs';
import path from 'node:path';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

test('a watcher sees every committed event after it started, in order, and ends at close', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 'before', partitions: 1 });
  const watcher = log.watch();
  const seen: WatchEvent[] = [];
  const done = (async () => {
    for await (const event of watcher) seen.push(event);
  })();
  await log.createTopic({ name: 't', partitions: 2 });
  await Promise.all(Array.from({ length: 50 }, (_, i) => log.commitOffsets('g', [{ topic: 't', partition: i % 2, offset: i }])));
  await t.throwsAsync(log.createTopic({ name: 't', partitions: 1 }));
  await closeAndVerify(log);
  await done;
  t.is(seen.length, 51, 'the topic and 50 commits; nothing from before the watch, nothing for the rejected call');
  t.is(seen[0].type, 'TopicCreated');
  t.deepEqual(seen.map((e) => e.offset), Array.from({ length: 51 }, (_, i) => i + 1));
});

test('type filters, return() unsubscribes, and a bad from is refused', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 't', partitions: 1 });
  const topics = log.watch({ types: ['TopicCreated', 'TopicDeleted'] });
  const next = topics.next();
  await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 1 }]);
  await log.createTopic({ name: 'u', partitions: 1 });
  const first = await next;
  t.false(first.done);
  t.is(first.value.type, 'TopicCreated');
  t.is((first.value as Extract<LogEvent, { type: 'TopicCreated' }>).value.name, 'u');
  await topics.return?.();
  t.true((await topics.next()).done);
  const error = (await t.throwsAsync(log.watch({ from: -1 }).next())) as MetaLogError;
  t.is(error.code, 'OFFSET_OUT_OF_RANGE');
});

/** Collects a watcher's items until `count` arrived. */
async function take(watcher: AsyncIterableIterator<WatchEvent>, count: number): Promise<WatchEvent[]> {
  const items: WatchEvent[] = [];
  // Bounded by `count`; every next() resolves while writes keep coming.
  while (items.length < count) {
    const next = await watcher.next();
    if (next.done === true) break;
    items.push(next.value);
  }
  return items;
}

test('from an older offset: the history first, then live events, with no gap and no duplicate', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t), readerThreads: 1 });
  await log.createTopic({ name: 't', partitions: 2 });
  for (let i = 0; i < 30; i++) await log.commitOffsets('g', [{ topic: 't', partition: i % 2, offset: i }]);
  const watcher = log.watch({ from: 5 });
  // Writes while the watcher catches up land after the history, in order.
  const writes = Array.from({ length: 40 }, (_, i) => log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 100 + i }]));
  const items = await take(watcher, 66);
  await Promise.all(writes);
  t.deepEqual(items.map((item) => item.offset), Array.from({ length: 66 }, (_, i) => i + 5));
  const filtered = log.watch({ from: 0, types: ['TopicCreated'] });
  const first = await filtered.next();
  t.is(first.value?.type, 'TopicCreated');
  await filtered.return?.();
  await watcher.return?.();
});

test('from an offset whose history was compacted: a snapshot marker with the state then, then the tail', async (t) => {
  const dir = tmpDir(t);
  const config = { dir, snapshotEveryEvents: 0, snapshotIntervalMs: 0, segmentBytes: 64 * 1024, historyRetentionMs: 0, snapshotsRetained: 1, readerThreads: 1 };
  const log = await openStore(t, config);
  await log.createTopic({ name: 't', partitions: 4 });
  for (let round = 0; round < 30; round++) {
    await Promise.all(Array.from({ length: 100 }, (_, i) => log.commitOffsets(`g${i % 10}`, [{ topic: 't', partition: i % 4, offset: round * 100 + i, metadata: 'x'.repeat(40) }])));
  }
  const snapshot = await log.snapshot();
  const walFirst = Math.min(...fs.readdirSync(path.join(dir, 'wal')).filter((name) => name.endsWith('.log')).map((name) => Number(name.slice(0, 20))));
  t.true(walFirst > 0, 'the oldest history was compacted');
  await log.commitOffsets('late', [{ topic: 't', partition: 3, offset: 7 }]);

  const watcher = log.watch({ from: 0 });
  const [marker, ...rest] = await take(watcher, log.lastOffset - snapshot.lastOffset + 1);
  t.is(marker.type, 'Snapshot');
  if (marker.type !== 'Snapshot') return;
  t.is(marker.offset, snapshot.lastOffset);
  t.deepEqual(marker.state, await log.stateAt({ offset: snapshot.lastOffset }));
  t.is(marker.state.topics[0].name, 't');
  t.deepEqual(rest.map((item) => item.offset), Array.from({ length: log.lastOffset - snapshot.lastOffset }, (_, i) => snapshot.lastOffset + 1 + i));
  t.is(rest.at(-1)?.type, 'OffsetsCommitted');
  await watcher.return?.();
});
