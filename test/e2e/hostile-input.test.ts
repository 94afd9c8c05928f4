/**
 * Hostile input at the API edge, one test per defect the API fuzz pass found (test/fuzz/api-fuzz.test.ts
 * keeps looking for more):
 * - lone surrogates: every write refuses a string that is not well-formed UTF-16, with the entity's
 *   code; a read never lands on another key's entity; whatever is accepted reads back the same live
 *   and after a reopen;
 * - topic config keys that every object inherits (`constructor`, `__proto__`, `hasOwnProperty`...);
 * - calls that used to throw raw Node errors or TypeErrors: bad paths for backup, restore and repair,
 *   bad watch options, bad reader pool arguments, functions and Symbols sent to the pool.
 * Every refusal is a MetaLogError with a code, and leaves the state unchanged.
 */
import test, { type ExecutionContext } from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import { MetaLog } from '../../src/api/metalog.js';
import type { GroupInput } from '../../src/commands/commands.js';
import { MetaLogError, type ErrorCode } from '../../src/errors.js';
import { rejectsWith } from '../helpers/reject.js';
import { closeAndVerify, openStore } from '../helpers/store.js';
import { tmpDir } from '../helpers/tmp.js';

function group(groupId: string, memberIds: string[]): GroupInput {
  return {
    groupId,
    state: memberIds.length === 0 ? 'Empty' : 'Stable',
    protocolType: 'consumer',
    protocol: memberIds.length === 0 ? null : 'range',
    generation: 1,
    leader: memberIds[0] ?? null,
    members: memberIds.map((memberId) => ({
      memberId,
      clientId: 'app',
      clientHost: '/10.0.0.1',
      sessionTimeoutMs: 45000,
      rebalanceTimeoutMs: 300000,
      subscription: Uint8Array.from([1]),
      assignment: Uint8Array.from([2]),
    })),
  };
}

/** Runs `call` and expects a MetaLogError with `code` (and `field`, if given), thrown or rejected. */
async function refused(t: ExecutionContext, call: () => unknown, code: ErrorCode, field?: string): Promise<MetaLogError> {
  let error: unknown = null;
  try {
    await call();
  } catch (caught) {
    error = caught;
  }
  t.true(error instanceof MetaLogError, `a MetaLogError, not ${String(error)}`);
  const coded = error as MetaLogError;
  t.is(coded.code, code, coded.message);
  if (field !== undefined) t.is(coded.details.field, field);
  return coded;
}

test('a lone surrogate in a group id is INVALID_GROUP_ID: deleteGroup cannot reach the group it encodes like', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await rejectsWith(t, log, log.upsertGroup(group('g\uD800', ['m'])), 'INVALID_GROUP_ID', 24);
  // The group a lone surrogate would have turned into exists and has members.
  await log.upsertGroup(group('g\uFFFD', ['m']));
  await rejectsWith(t, log, log.deleteGroup('g\uDC00'), 'INVALID_GROUP_ID', 24);
  await rejectsWith(t, log, log.deleteGroup('g\uFFFD'), 'NON_EMPTY_GROUP', 68);
  t.is(log.getGroup('g\uDC00'), undefined);
  t.is(log.getGroup('g\uFFFD')?.members.length, 1);
});

test('a lone surrogate anywhere in a write is refused, naming the field', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 't', partitions: 1 });
  const member = group('g', ['m']).members[0];
  const cases: [Promise<unknown>, ErrorCode, string][] = [
    [log.registerBroker({ brokerId: 1, host: 'h\uD800', port: 9092, brokerEpoch: 1 }), 'INVALID_REQUEST', 'host'],
    [log.registerBroker({ brokerId: 1, host: 'h', port: 9092, rack: '\uDFFFr', brokerEpoch: 1 }), 'INVALID_REQUEST', 'rack'],
    [log.upsertGroup({ ...group('g', []), protocolType: 'c\uD83D' }), 'INVALID_REQUEST', 'protocolType'],
    [log.upsertGroup({ ...group('g', ['m']), members: [{ ...member, clientHost: '\uD800' }] }), 'INVALID_REQUEST', 'members[0].clientHost'],
    [log.upsertGroup({ ...group('g', ['m']), members: [{ ...member, groupInstanceId: 'i\uDC00' }] }), 'INVALID_REQUEST', 'members[0].groupInstanceId'],
    [log.commitOffsets('g\uD800', [{ topic: 't', partition: 0, offset: 1 }]), 'INVALID_GROUP_ID', 'groupId'],
    [log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 1, metadata: 'm\uD800' }]), 'INVALID_REQUEST', 'entries[0].metadata'],
    [log.resetOffsets('g', [{ topic: 't', partition: 0, offset: 1, metadata: '\uDBFF' }]), 'INVALID_REQUEST', 'entries[0].metadata'],
    [log.initProducerId('x\uDBFF', 1000), 'INVALID_REQUEST', 'transactionalId'],
    [log.createTopic({ name: 'u', partitions: 1, configs: { 'compression.type': 'zstd\uD800' } }), 'INVALID_CONFIG', 'configs.compression.type'],
    [log.addSegment('t', 0, { segmentId: 1, baseOffset: 0, lastOffset: 0, sizeBytes: 1, recordCount: 1, path: '/s\uD800' }), 'INVALID_REQUEST', 'path'],
    [log.deleteOffsets('g\uDC00', [{ topic: 't', partition: 0 }]), 'INVALID_GROUP_ID', 'groupId'],
  ];
  for (const [call, code, field] of cases) {
    const error = await rejectsWith(t, log, call, code);
    t.is(error.details.field, field, error.message);
  }
  t.is(log.lastOffset, 0, 'only the topic was written');
});

test('a read given a lone surrogate finds nothing, not the entity whose key it would encode to', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 't', partitions: 1 });
  const producer = await log.initProducerId('x\uFFFD', 1000);
  await log.addOffsetsToTxn('x\uFFFD', producer, 'g\uFFFD');
  await log.commitOffsets('g\uFFFD', [{ topic: 't', partition: 0, offset: 7 }]);
  t.is(log.getTransaction('x\uFFFD')?.state, 'Ongoing');
  t.is(log.getTransaction('x\uDBFF'), undefined);
  t.is(log.fetchOffset('g\uFFFD', 't', 0)?.offset, 7);
  t.is(log.fetchOffset('g\uD800', 't', 0), undefined);
  t.deepEqual(log.fetchOffsets('g\uDC00'), []);
  t.is(log.getGroup('g\uD800'), undefined);
  t.deepEqual(await log.readers.describeGroups(['g\uD800']), [null]);
  t.deepEqual((await log.readers.fetchOffsetBatch([{ groupId: 'g\uD800', topic: 't', partition: 0 }, { groupId: 'g\uFFFD', topic: 't', partition: 0 }])).map((each) => each?.offset ?? null), [null, 7]);
  t.deepEqual(await log.readers.fetchOffsets('g\uDBFF'), []);
  await refused(t, () => log.readers.scanGroups({ idPrefix: 'g\uD800' }), 'INVALID_REQUEST', 'filter.idPrefix');
  await refused(t, () => log.history({ entity: { group: 'g\uD800' } }), 'INVALID_REQUEST', 'entity');
});

test('accepted strings read back the same live and after a reopen (one encoding everywhere)', async (t) => {
  const dir = tmpDir(t);
  const host = 'h\uFFFD\u{1F600}\u0000é';
  const groupId = 'g\u{1F600}\uFFFD\u0000';
  const metadata = '\u{10FFFF}\uFFFDm\u0000';
  const first = await MetaLog.open({ dir });
  await first.registerBroker({ brokerId: 1, host, port: 9092, rack: '\u{1F680}', brokerEpoch: 1 });
  await first.createTopic({ name: 't', partitions: 1 });
  await first.upsertGroup({ ...group(groupId, []), protocolType: '\u{1F600}' });
  await first.commitOffsets(groupId, [{ topic: 't', partition: 0, offset: 3, metadata }]);
  await first.initProducerId('\u{1F600}x', 1000);
  const live = first.canonicalState();
  t.is(first.getBroker(1)?.host, host);
  t.is(first.fetchOffset(groupId, 't', 0)?.metadata, metadata);
  await closeAndVerify(first);
  const reopened = await openStore(t, { dir });
  t.is(reopened.canonicalState(), live);
  t.is(reopened.getBroker(1)?.host, host);
  t.is(reopened.getGroup(groupId)?.protocolType, '\u{1F600}');
  t.is(reopened.fetchOffset(groupId, 't', 0)?.metadata, metadata);
  t.is(reopened.getTransaction('\u{1F600}x')?.producerEpoch, 0);
});

test('config keys that every object inherits are unknown keys, in createTopic and alterTopicConfigs', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 't', partitions: 1 });
  for (const key of ['hasOwnProperty', '__proto__', 'valueOf', 'constructor', 'toString', 'isPrototypeOf']) {
    // A computed key, as JSON.parse makes it: an own property even for "__proto__".
    const configs = JSON.parse(`{${JSON.stringify(key)}: "1"}`) as Record<string, string>;
    t.true(Object.hasOwn(configs, key));
    const created = await rejectsWith(t, log, log.createTopic({ name: 'u', partitions: 1, configs }), 'INVALID_CONFIG', 40);
    t.is(created.details.field, `configs.${key}`);
    await rejectsWith(t, log, log.alterTopicConfigs('t', { set: configs }), 'INVALID_CONFIG', 40);
    await rejectsWith(t, log, log.alterTopicConfigs('t', { delete: [key] }), 'INVALID_CONFIG', 40);
  }
  t.is(log.lastOffset, 0, 'no refused change wrote an event');
  const topic = await log.alterTopicConfigs('t', { set: { 'retention.ms': '1000' } });
  t.deepEqual(topic.configs, { 'retention.ms': '1000' });
});

test('backup, restore and repair refuse paths the file system cannot take with coded errors', async (t) => {
  const root = tmpDir(t);
  const log = await openStore(t, { dir: path.join(root, 'store') });
  await log.createTopic({ name: 't', partitions: 1 });
  const file = path.join(root, 'a-file');
  fs.writeFileSync(file, 'x');
  await refused(t, () => log.backup('a\0b'), 'INVALID_REQUEST', 'dest');
  await refused(t, () => log.backup(`${root}/${'x'.repeat(1 << 20)}`), 'INVALID_REQUEST', 'dest');
  await refused(t, () => log.backup(`${root}/${'x'.repeat(300)}`), 'INVALID_REQUEST');
  await refused(t, () => log.backup(path.join(root, 'b\uD800')), 'INVALID_REQUEST', 'dest');
  await refused(t, () => log.backup(5 as unknown as string), 'INVALID_REQUEST', 'dest');
  await refused(t, () => log.backup(file), 'INVALID_REQUEST');
  await refused(t, () => log.backup(path.join(file, 'sub')), 'INVALID_REQUEST');
  t.is(fs.readFileSync(file, 'utf8'), 'x', 'the file named as a destination is untouched');
  const backup = path.join(root, 'backup');
  await log.backup(backup);
  await refused(t, () => MetaLog.restore(backup, path.join(root, 'r1'), null as never), 'INVALID_REQUEST', 'point');
  await refused(t, () => MetaLog.restore(backup, path.join(root, 'r1'), { toOffset: 0, later: 1 } as never), 'INVALID_REQUEST', 'point.later');
  await refused(t, () => MetaLog.restore(5 as unknown as string, path.join(root, 'r1')), 'INVALID_REQUEST', 'src');
  await refused(t, () => MetaLog.restore(backup, 'r\0'), 'INVALID_REQUEST', 'dir');
  await refused(t, () => MetaLog.restore(path.join(root, 'missing'), path.join(root, 'r1')), 'INVALID_REQUEST');
  await refused(t, () => MetaLog.restore(backup, file), 'INVALID_REQUEST');
  t.false(fs.existsSync(path.join(root, 'r1')));
  t.is((await MetaLog.restore(backup, path.join(root, 'r2'), { toOffset: 0 })).lastOffset, 0);
  await refused(t, () => MetaLog.repair(5 as unknown as string), 'INVALID_REQUEST', 'dir');
  await refused(t, () => MetaLog.repair(path.join(root, 'missing')), 'INVALID_REQUEST', 'dir');
  await refused(t, () => MetaLog.repair(file), 'INVALID_REQUEST', 'dir');
  await refused(t, () => MetaLog.repair('\0'), 'INVALID_REQUEST', 'dir');
  t.is(MetaLog.repair(path.join(root, 'r2')).damage, null);
  await refused(t, () => MetaLog.open({ dir: 'd\0' }), 'INVALID_CONFIG', 'dir');
  await refused(t, () => MetaLog.open({ dir: 'd\uD800' }), 'INVALID_CONFIG', 'dir');
  await refused(t, () => MetaLog.open({ dir: path.join(file, 'store') }), 'INVALID_CONFIG', 'dir');
});

test('watch never throws: bad options give an iterator that rejects with a code', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  const cases: [unknown, ErrorCode, string][] = [
    [null, 'INVALID_REQUEST', 'options'],
    [5, 'INVALID_REQUEST', 'options'],
    [{ types: 5 }, 'INVALID_REQUEST', 'types'],
    [{ types: [Symbol('x')] }, 'INVALID_REQUEST', 'types[0]'],
    [{ types: ['TopicCreated\uD800'] }, 'INVALID_REQUEST', 'types[0]'],
    [{ from: Number.NaN }, 'OFFSET_OUT_OF_RANGE', 'from'],
    [{ from: -0.5 }, 'OFFSET_OUT_OF_RANGE', 'from'],
    [{ form: 3 }, 'INVALID_REQUEST', 'options.form'],
  ];
  for (const [options, code, field] of cases) {
    const watcher = log.watch(options as never);
    await refused(t, () => watcher.next(), code, field);
  }
  const watcher = log.watch({ types: ['TopicCreated'] });
  const next = watcher.next();
  await log.createTopic({ name: 't', partitions: 1 });
  t.is((await next).value?.type, 'TopicCreated');
  await watcher.return?.();
  await closeAndVerify(log);
  await refused(t, () => log.watch().next(), 'STORE_CLOSED');
});

test('reader pool calls check their arguments: wrong shapes are INVALID_REQUEST, functions and Symbols never reach a thread', async (t) => {
  const log = await openStore(t, { dir: tmpDir(t) });
  await log.createTopic({ name: 't', partitions: 1 });
  await log.upsertGroup(group('g', ['m']));
  const readers = log.readers;
  const f = (): void => undefined;
  const s = Symbol('s');
  await refused(t, () => readers.getTopics(undefined as never), 'INVALID_REQUEST', 'names');
  await refused(t, () => readers.describeGroups(null as never), 'INVALID_REQUEST', 'groupIds');
  await refused(t, () => readers.fetchOffsetBatch([null] as never), 'INVALID_REQUEST', 'keys[0]');
  await refused(t, () => readers.fetchOffsetBatch(f as never), 'INVALID_REQUEST', 'keys');
  await refused(t, () => readers.scanGroups({ states: 1 } as never), 'INVALID_REQUEST', 'filter.states');
  await refused(t, () => readers.scanGroups({ states: ['Lost'] } as never), 'INVALID_REQUEST', 'filter.states[0]');
  await refused(t, () => readers.scanGroups({ idPrefix: s } as never), 'INVALID_REQUEST', 'filter.idPrefix');
  await refused(t, () => readers.scanGroups(undefined as never), 'INVALID_REQUEST', 'filter');
  await refused(t, () => readers.scanTopics({ limit: f } as never), 'INVALID_REQUEST', 'filter.limit');
  await refused(t, () => readers.scanTopics({ namePrefix: 't', extra: f } as never), 'INVALID_REQUEST', 'filter.extra');
  await refused(t, () => readers.history(f as never, {}), 'INVALID_REQUEST', 'dir');
  await refused(t, () => readers.history(log.config.dir, s as never), 'INVALID_REQUEST', 'filter');
  await refused(t, () => readers.stateAt(log.config.dir, { offset: f } as never), 'INVALID_REQUEST', 'point');
  await refused(t, () => readers.diff(log.config.dir, s as never, 0), 'INVALID_REQUEST', 'from');
  await refused(t, () => readers.verifyBackup(s as never), 'INVALID_REQUEST', 'dest');
  // Found by the fuzz test: a folder that holds no store, or a name too long for the file system, failed
  // in the pool thread, whose errors arrive without their errno (INTERNAL_ERROR).
  await refused(t, () => readers.verifyBackup('x'.repeat(300)), 'INVALID_REQUEST', 'dest');
  await refused(t, () => readers.diff('x'.repeat(300), 0, 1), 'INVALID_REQUEST', 'dir');
  await refused(t, () => readers.history(path.dirname(log.config.dir), {}), 'INVALID_REQUEST', 'dir');
  await refused(t, () => readers.stateAt(path.join(log.config.dir, 'missing'), { offset: 0 }), 'INVALID_REQUEST', 'dir');
  t.is((await readers.history(log.config.dir, { limit: 1 })).length, 1);
  // Keys no write could store read as absent.
  t.deepEqual(await readers.getTopics([f, s, 't', 5, { name: 't' }] as never), [null, null, log.getTopic('t'), null, null]);
  t.deepEqual(await readers.describeGroups([s, 'g'] as never), [null, log.getGroup('g')]);
  t.deepEqual(await readers.fetchOffsetBatch([{ groupId: f, topic: s, partition: f }] as never), [null]);
  t.deepEqual(await readers.fetchOffsets(s as never), []);
  t.deepEqual(await readers.listSegments(f as never, s as never), []);
  t.deepEqual((await readers.scanGroups({ states: ['Stable'] })).map((each) => each.groupId), ['g']);
});

test('waitForOffset takes only an offset: anything else is INVALID_REQUEST; a wait the close cuts short is STORE_CLOSED', async (t) => {
  const dir = tmpDir(t);
  const log = await openStore(t, { dir });
  await log.createTopic({ name: 't', partitions: 1 });
  for (const offset of [-2, 1.5, Number.NaN, Infinity, 2 ** 53, '0', null, undefined, {}, 10n]) {
    const error = await rejectsWith(t, log, log.waitForOffset(offset as number), 'INVALID_REQUEST');
    t.is(error.details.field, 'offset');
  }
  // Offsets already applied resolve at once; -1 is "nothing yet".
  await log.waitForOffset(-1);
  await log.waitForOffset(log.lastOffset);
  // One ahead resolves when the next write is applied.
  const next = log.waitForOffset(log.lastOffset + 1);
  await log.commitOffsets('g', [{ topic: 't', partition: 0, offset: 1 }]);
  await next;
  // One far ahead waits until the close.
  const never = log.waitForOffset(log.lastOffset + 1000);
  await closeAndVerify(log);
  const error = await t.throwsAsync(never, { instanceOf: MetaLogError });
  t.is(error?.code, 'STORE_CLOSED');
});
