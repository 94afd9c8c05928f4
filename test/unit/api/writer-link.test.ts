/**
 * The lifecycle rows of the writer link (the table in src/api/writer-link.ts) that no end-to-end test
 * reaches: an opener link closed while its writer recovers, a writer thread that dies without CLOSED,
 * an attached link closing with calls in flight, and one that hears the store close while it follows it.
 *
 * The first two drive an OpenerLink directly, as MetaLog.open does, because MetaLog never closes a link
 * before READY and has no way to kill its writer thread; they write no events, so there is no state to
 * compare with the log. The third attaches a link directly to a store opened with openStore, because
 * MetaLog.close takes a few turns before it closes its link; the fourth goes through MetaLog. Every wait is on the link or the
 * thread (an acknowledgement, CLOSED, the thread's exit), never on time.
 */
import test from 'ava';
import { AttachedLink } from '../../../src/api/attached-link.js';
import { MetaLog } from '../../../src/api/metalog.js';
import { OpenerLink } from '../../../src/api/opener-link.js';
import type { BatchSink } from '../../../src/api/writer-link.js';
import { checkCommitOffsetsInput } from '../../../src/commands/commands.js';
import { resolveConfig } from '../../../src/config.js';
import { MetaLogError } from '../../../src/errors.js';
import { closeAndVerify, openStore } from '../../helpers/store.js';
import { tmpDir } from '../../helpers/tmp.js';

/** A sink that decodes nothing and counts how often the link said the writer is gone. */
function countingSink(): BatchSink & { closedCount: number } {
  return {
    closedCount: 0,
    decode: () => [],
    batch: () => undefined,
    closed() {
      this.closedCount++;
    },
  };
}

test('an opener link closed while the writer recovers: READY still arrives, the close completes, calls are refused', async (t) => {
  const sink = countingSink();
  const link = OpenerLink.start(resolveConfig({ dir: tmpDir(t) }), sink, {});
  // The writer cannot have published READY yet: it waits for the snapshot message start() just posted,
  // and this thread consumes the event ring only once it yields. So this close runs in `starting`.
  const closed = link.close();
  await link.ready;
  t.is(link.recovery.lastOffset, -1, 'READY is recorded while closing');
  const late = (await t.throwsAsync(link.submit('sync', () => undefined), { instanceOf: MetaLogError })) as MetaLogError;
  t.is(late.code, 'STORE_CLOSED', 'READY does not reopen a closing link');
  await closed;
  t.true(link.closed);
  t.is(sink.closedCount, 1);
  t.is(link.readOnlyError, null);
  const attach = t.throws(() => AttachedLink.attach(link.handle, countingSink()), { instanceOf: MetaLogError }) as MetaLogError;
  t.is(attach.code, 'STORE_CLOSED');
});

test('a writer thread that dies without CLOSED: calls in flight settle, the link is read-only and closed, attached links see it', async (t) => {
  const sink = countingSink();
  const link = OpenerLink.start(resolveConfig({ dir: tmpDir(t) }), sink, {});
  await link.ready;
  const attached = AttachedLink.attach(link.handle, countingSink());
  attached.ensureCursor();
  await attached.submit('sync', () => undefined);
  const inFlight = Array.from({ length: 100 }, () => link.submit('sync', () => undefined));
  // The private thread, reached here only: nothing in the package stops a writer without CLOSED.
  await link['worker'].terminate();
  // Acknowledged before the thread died, or failed with the store read-only: never left hanging.
  for (const outcome of await Promise.allSettled(inFlight)) {
    if (outcome.status === 'rejected') t.is((outcome.reason as MetaLogError).code, 'STORE_READ_ONLY');
  }
  await link.close();
  t.true(link.closed);
  t.is(link.readOnlyError?.code, 'INTERNAL_ERROR');
  t.is(sink.closedCount, 1);
  const late = (await t.throwsAsync(link.submit('sync', () => undefined), { instanceOf: MetaLogError })) as MetaLogError;
  t.is(late.code, 'STORE_CLOSED');
  // The writer could not mark the store closed; the opener's link did.
  t.true(attached.closed);
  const attachedLate = (await t.throwsAsync(attached.submit('sync', () => undefined), { instanceOf: MetaLogError })) as MetaLogError;
  t.is(attachedLate.code, 'STORE_CLOSED');
  await attached.close();
  const attach = t.throws(() => AttachedLink.attach(link.handle, countingSink()), { instanceOf: MetaLogError }) as MetaLogError;
  t.is(attach.code, 'STORE_CLOSED');
});

test('closing an attached link waits for its own calls in flight; a call made while it closes is refused and not applied', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 't', partitions: 1 });
  const link = AttachedLink.attach(log.handle, countingSink());
  const commit = (offset: number): Promise<void> => link.submit(checkCommitOffsetsInput('g', [{ topic: 't', partition: 0, offset }]), () => undefined);
  const commits = Array.from({ length: 200 }, (_, i) => commit(i));
  // The link is `closing` from here on (MetaLog.close reaches this after its own steps).
  const closing = link.close();
  const error = (await t.throwsAsync(commit(1000), { instanceOf: MetaLogError })) as MetaLogError;
  t.is(error.code, 'STORE_CLOSED');
  await closing;
  const outcomes = await Promise.allSettled(commits);
  t.true(outcomes.every((outcome) => outcome.status === 'fulfilled'), 'every call sent before close was acknowledged');
  t.is(log.fetchOffset('g', 't', 0)?.offset, 199);
  t.true(link.closed);
  // Detaching left the store open.
  await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 200 }]);
});

test('an attached handle that follows the store hears it close: its watcher ends, calls are refused, its close resolves', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  const attached = MetaLog.attach(log.handle);
  const watched: string[] = [];
  const watching = (async () => {
    for await (const event of attached.watch()) watched.push(event.type);
  })();
  await log.createTopic({ name: 't', partitions: 1 });
  await closeAndVerify(log);
  await watching;
  t.deepEqual(watched, ['TopicCreated'], 'the watcher saw the write, then ended at CLOSED');
  const late = (await t.throwsAsync(attached.createTopic({ name: 'u', partitions: 1 }), { instanceOf: MetaLogError })) as MetaLogError;
  t.is(late.code, 'STORE_CLOSED');
  t.is((t.throws(() => attached.getTopic('t'), { instanceOf: MetaLogError }) as MetaLogError).code, 'STORE_CLOSED');
  await attached.close();
});
