/** The watcher's bound: one that falls too far behind ends with WATCH_LAGGING naming where to resume. */
import test from 'ava';
import { WATCH_QUEUE_EVENTS_MAX, Watcher } from '../../../src/api/watcher.js';
import type { LogEvent } from '../../../src/codec/event-schema.js';
import { MetaLogError } from '../../../src/errors.js';

const event = (offset: number): LogEvent => ({ type: 'BrokerUnregistered', value: { brokerId: 1 }, offset, timestampMs: 0 });

test('a watcher that falls behind by the bound delivers what it holds, then fails with WATCH_LAGGING', async (t) => {
  let unsubscribed = false;
  const watcher = new Watcher(0, null, () => (unsubscribed = true));
  for (let offset = 0; offset <= WATCH_QUEUE_EVENTS_MAX; offset++) watcher.push(event(offset));
  t.true(unsubscribed);
  let delivered = 0;
  const error = (await t.throwsAsync(async () => {
    for await (const _ of watcher) delivered++;
  })) as MetaLogError;
  t.is(delivered, WATCH_QUEUE_EVENTS_MAX);
  t.is(error.code, 'WATCH_LAGGING');
  t.is(error.details.offset, WATCH_QUEUE_EVENTS_MAX, 'resume at the first event not delivered');
});

test('events before `from` and of other types are skipped', async (t) => {
  const watcher = new Watcher(5, new Set(['BrokerUnregistered']), () => undefined);
  watcher.push(event(4));
  watcher.push({ type: 'GroupDeleted', value: { groupId: 'g' }, offset: 5, timestampMs: 0 });
  watcher.push(event(6));
  watcher.finish();
  const offsets: number[] = [];
  for await (const e of watcher) offsets.push(e.offset);
  t.deepEqual(offsets, [6]);
});
