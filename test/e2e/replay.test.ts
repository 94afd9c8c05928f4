/**
 * Replay on open takes offset commits straight from their records and writes each key's newest value
 * once, when it meets anything else that touches offsets or when it publishes (pending-offsets.ts).
 * These logs interleave repeated commits with every such event, and with more distinct keys than are
 * kept pending at once: the state served after a reopen must be the state served before it, byte for
 * byte, offsets' order included.
 */
import test from 'ava';
import { ManualClock } from '../../src/clock.js';
import { PENDING_OFFSETS_MAX } from '../../src/store-index/pending-offsets.js';
import { openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

test('repeated commits between offset deletes, expiry, group and topic deletes replay to the state served before', async (t) => {
  const dir = tmpDir(t);
  const clock = new ManualClock(1_000_000);
  const log = await openStore(t, { dir, durability: 'none' }, { clock });
  await log.createTopic({ name: 'a', partitions: 4 });
  await log.createTopic({ name: 'b', partitions: 2 });
  for (let round = 0; round < 20; round++) {
    await log.commitOffsets('g1', [{ topic: 'a', partition: round % 4, offset: round, metadata: round % 4 === 3 ? `meta-${round}-é` : '' }]);
    await log.commitOffsets('g2', [{ topic: 'b', partition: round % 2, offset: 100 + round }, { topic: 'a', partition: 0, offset: round }]);
    clock.advance(10);
  }
  await log.deleteOffsets('g1', [{ topic: 'a', partition: 1 }]);
  await log.commitOffsets('g1', [{ topic: 'a', partition: 1, offset: 7 }, { topic: 'a', partition: 2, offset: 8 }]);
  // Offsets of g2 committed before the last round are older than the cutoff.
  clock.advance(1000);
  await log.commitOffsets('g3', [{ topic: 'b', partition: 1, offset: 1 }]);
  await log.expireOffsets('g2', 500);
  await log.commitOffsets('g2', [{ topic: 'b', partition: 0, offset: 999 }]);
  await log.deleteGroup('g3');
  await log.commitOffsets('g3', [{ topic: 'a', partition: 3, offset: 3 }]);
  await log.deleteTopic('b');
  await log.createTopic({ name: 'b', partitions: 2 });
  await log.commitOffsets('g1', [{ topic: 'b', partition: 1, offset: 5 }]);
  await log.commitOffsets('g1', [{ topic: 'b', partition: 1, offset: 6 }]);
  const served = log.canonicalState();
  const order = log.fetchOffsets('g1').map(({ topic, partition }) => `${topic}-${partition}`);
  await log.close();

  const reopened = await openStore(t, { dir, durability: 'none', snapshotEveryEvents: 0 }, { clock });
  t.true(reopened.recovery.replayedEvents > 40);
  t.is(reopened.canonicalState(), served);
  t.deepEqual(reopened.fetchOffsets('g1').map(({ topic, partition }) => `${topic}-${partition}`), order);
  t.is(reopened.fetchOffset('g1', 'a', 3)?.metadata, 'meta-19-é');
  t.is(reopened.fetchOffset('g1', 'b', 1)?.offset, 6);
  t.is(reopened.fetchOffset('g2', 'b', 0), undefined, 'gone with its topic');
});

test('more distinct offsets than are kept pending replay whole', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir, durability: 'none' });
  const partitions = 20_000;
  await log.createTopic({ name: 'wide', partitions });
  const groups = Math.ceil((PENDING_OFFSETS_MAX + 1) / partitions) + 1;
  for (let group = 0; group < groups; group++) {
    for (let first = 0; first < partitions; first += 10_000) {
      const entries = Array.from({ length: Math.min(10_000, partitions - first) }, (_, i) => ({ topic: 'wide', partition: first + i, offset: group * 1_000_000 + first + i }));
      await log.commitOffsets(`g${group}`, entries);
    }
  }
  // A second pass over one group replaces offsets already written by an earlier flush.
  await log.commitOffsets('g0', [{ topic: 'wide', partition: 17, offset: 42 }]);
  const served = log.canonicalState();
  await log.close();
  const reopened = await openStore(t, { dir, durability: 'none', snapshotEveryEvents: 0 });
  t.is(reopened.canonicalState(), served);
  t.is(reopened.fetchOffset('g0', 'wide', 17)?.offset, 42);
  t.is(reopened.fetchOffset(`g${groups - 1}`, 'wide', partitions - 1)?.offset, (groups - 1) * 1_000_000 + partitions - 1);
  t.is(reopened.fetchOffsets(`g${groups - 1}`).length, partitions);
});
