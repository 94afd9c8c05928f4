/**
 * Which groups exist: a group stored by upsertGroup, or a group that only has committed offsets (Kafka's
 * simple consumers), which every read shows as an Empty group at generation 0 without members. The
 * test checks the synchronous reads, the reader pool, stateAt, and the same after a snapshot and a
 * reopen; and deleteGroup of a group that does not exist (GROUP_ID_NOT_FOUND, nothing written), also in
 * one batch with the commands that made the group go away.
 */
import test from 'ava';
import type { MetaLog } from '../../src/api/metalog.js';
import type { Group } from '../../src/index.js';
import { rejectsWith } from '../helpers/reject.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

const EMPTY = { state: 'Empty', protocolType: '', protocol: null, generation: 0, leader: null, members: [] };

function plain(group: Group | null | undefined): unknown {
  return group === undefined || group === null ? group : { ...group, members: [...group.members] };
}

async function seed(log: MetaLog): Promise<void> {
  await log.createTopic({ name: 'orders', partitions: 2 });
  await log.commitOffsets('simple', [{ topic: 'orders', partition: 0, offset: 4 }]);
  await log.upsertGroup({ groupId: 'stored', state: 'Empty', protocolType: 'consumer', generation: 3, members: [] });
}

function checkReads(t: import('ava').ExecutionContext, log: MetaLog): void {
  t.deepEqual(plain(log.getGroup('simple')), { groupId: 'simple', ...EMPTY });
  t.deepEqual(log.listGroups().map((group) => [group.groupId, group.state, group.protocolType, group.generation]), [
    ['simple', 'Empty', '', 0],
    ['stored', 'Empty', 'consumer', 3],
  ]);
  t.is(log.getGroup('nobody'), undefined);
}

test('a group that only commits offsets lists as Empty, generation 0, in every read', async (t) => {
  const dir = tmpDir(t);
  let log = await openStore(t, { dir });
  await seed(log);
  checkReads(t, log);
  t.deepEqual((await log.readers.listGroups()).map(plain), log.listGroups().map(plain));
  t.deepEqual((await log.readers.describeGroups(['simple', 'nobody', 'stored'])).map(plain), [plain(log.getGroup('simple')), null, plain(log.getGroup('stored'))]);
  t.deepEqual((await log.readers.scanGroups({ states: ['Empty'], protocolType: '' })).map((group) => group.groupId), ['simple']);
  const state = await log.stateAt({ offset: log.lastOffset });
  t.deepEqual(state.groups.map((group) => group.groupId), ['simple', 'stored']);
  await log.snapshot();
  await closeAndVerify(log);
  log = await openStore(t, { dir });
  checkReads(t, log);
  // Its offsets gone, it is gone.
  await log.deleteOffsets('simple', [{ topic: 'orders', partition: 0 }]);
  t.is(log.getGroup('simple'), undefined);
  t.deepEqual(log.listGroups().map((group) => group.groupId), ['stored']);
  t.deepEqual((await log.readers.listGroups()).map((group) => group.groupId), ['stored']);
});

test('an upsert takes over a group that only had offsets; its offsets stay', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await seed(log);
  await log.upsertGroup({ groupId: 'simple', state: 'Empty', protocolType: 'consumer', generation: 1, members: [] });
  t.is(log.getGroup('simple')?.protocolType, 'consumer');
  t.is(log.fetchOffset('simple', 'orders', 0)?.offset, 4);
});

test('deleteGroup of a group that does not exist is GROUP_ID_NOT_FOUND and writes nothing', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await seed(log);
  await rejectsWith(t, log, log.deleteGroup('nobody'), 'GROUP_ID_NOT_FOUND', 69);
  // A group with offsets only exists, and so does a stored one.
  await log.deleteGroup('simple');
  t.is(log.getGroup('simple'), undefined);
  t.deepEqual(log.fetchOffsets('simple'), []);
  await rejectsWith(t, log, log.deleteGroup('simple'), 'GROUP_ID_NOT_FOUND', 69);
  await log.deleteGroup('stored');
  await rejectsWith(t, log, log.deleteGroup('stored'), 'GROUP_ID_NOT_FOUND', 69);
});

test('deleteGroup in the batch of the commands that made or unmade the group sees them', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 'orders', partitions: 1 });
  await log.createTopic({ name: 'gone', partitions: 1 });
  await log.commitOffsets('expiring', [{ topic: 'gone', partition: 0, offset: 1 }]);
  // Not awaited one by one: these reach the writer together, most likely in one batch.
  const outcomes = await Promise.allSettled([
    log.commitOffsets('fresh', [{ topic: 'orders', partition: 0, offset: 1 }]),
    log.deleteGroup('fresh'),
    log.deleteTopic('gone'),
    log.deleteGroup('expiring'),
    log.deleteGroup('fresh'),
  ]);
  t.deepEqual(outcomes.map((outcome) => (outcome.status === 'fulfilled' ? 'ok' : (outcome.reason as { code: string }).code)), [
    'ok',
    'ok',
    'ok',
    'GROUP_ID_NOT_FOUND',
    'GROUP_ID_NOT_FOUND',
  ]);
  t.deepEqual(log.listGroups(), []);
});
