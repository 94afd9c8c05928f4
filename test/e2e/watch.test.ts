/**
 * watch(): committed events from now on, in offset order, each once, filtered by type; the iterator ends
 * when the store closes and unsubscribes on return; older offsets are refused until history exists.
 */
import test from 'ava';
import { MetaLogError } from '../../src/errors.js';
import type { LogEvent } from '../../src/codec/event-schema.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

test('a watcher sees every committed event after it started, in order, and ends at close', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 'before', partitions: 1 });
  const watcher = log.watch();
  const seen: LogEvent[] = [];
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

test('type filters, return() unsubscribes, and old offsets are refused', async (t) => {
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
  const error = t.throws(() => log.watch({ from: 0 })) as MetaLogError;
  t.is(error.code, 'OFFSET_OUT_OF_RANGE');
  t.is(error.details.offset, log.lastOffset + 1);
});
