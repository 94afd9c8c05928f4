/**
 * The calls of the API fuzz test (api-fuzz.test.ts): for every public entry point, a maker of valid
 * arguments (over small pools of names, so calls collide: existing topics, groups with members, open
 * transactions) and how to run it with whatever arguments the fuzzer chose. `weight` sets how often a
 * call is drawn; the calls that start threads or copy the store weigh least.
 */
import path from 'node:path';
import { MetaLog } from '../../src/api/metalog.js';
import type { GroupInput } from '../../src/commands/commands.js';
import type { Fuzz } from '../helpers/hostile-values.js';
import { closeAndVerify } from '../helpers/store.js';

/** What the calls share during one fuzz run. */
export interface FuzzContext {
  log: MetaLog;
  fuzz: Fuzz;
  /** The fuzz run's folder (also the working directory). */
  root: string;
  /** Backups and restores made by valid calls, for restore, repair and verifyBackup to use. */
  made: { backups: string[]; restores: string[] };
  /** Grows with every call that needs a fresh name or a higher epoch. */
  counter: number;
}

/** One entry point of the API. */
export interface FuzzCall {
  name: string;
  weight: number;
  /** Valid arguments for the current state. */
  args: (context: FuzzContext) => unknown[];
  /** Runs the call with `args` (valid or not); resolves or throws what the call does. */
  run: (context: FuzzContext, args: unknown[]) => unknown;
}

type Method = (...args: unknown[]) => unknown;

const TOPICS = ['t0', 't1', 't2', 't3'];
const GROUPS = ['g0', 'g1', 'g2'];
const TRANSACTIONAL_IDS = ['x0', 'x1'];

/** A call of `log[name]` (or `log.readers[name]`) with the fuzzer's arguments. */
function method(name: string, weight: number, args: FuzzCall['args'], on: 'log' | 'readers' = 'log'): FuzzCall {
  return {
    name: on === 'log' ? name : `readers.${name}`,
    weight,
    args,
    run: ({ log }, list) => {
      const target = (on === 'log' ? log : log.readers) as unknown as Record<string, Method>;
      return target[name].apply(target, list);
    },
  };
}

function groupInput({ fuzz, log }: FuzzContext): GroupInput {
  const groupId = fuzz.pick(GROUPS);
  const memberCount = fuzz.int(3);
  const generation = (log.getGroup(groupId)?.generation ?? 0) + fuzz.int(2);
  const members = Array.from({ length: memberCount }, (_, i) => ({
    memberId: `m${i}`,
    groupInstanceId: i === 0 ? null : `i${i}`,
    clientId: 'app',
    clientHost: '/10.0.0.1',
    sessionTimeoutMs: 30000,
    rebalanceTimeoutMs: 60000,
    topics: [fuzz.pick(TOPICS)],
    subscription: Uint8Array.from([i]),
    assignment: Uint8Array.from([i, 1]),
  }));
  return { groupId, state: memberCount === 0 ? 'Empty' : 'Stable', protocolType: 'consumer', protocol: memberCount === 0 ? null : 'range', generation, leader: members[0]?.memberId ?? null, members };
}

function producerOf({ log }: FuzzContext, transactionalId: string): { producerId: number; producerEpoch: number } {
  const transaction = log.getTransaction(transactionalId);
  return { producerId: transaction?.producerId ?? 0, producerEpoch: transaction?.producerEpoch ?? 0 };
}

function commitArgs(context: FuzzContext): unknown[] {
  const { fuzz, log } = context;
  const groupId = fuzz.pick(GROUPS);
  const entries = [{ topic: fuzz.pick(TOPICS), partition: fuzz.int(2), offset: context.counter++, metadata: fuzz.chance(0.5) ? '' : 'meta' }];
  const group = log.getGroup(groupId);
  const membership = group !== undefined && group.members.length > 0 ? { generation: group.generation, memberId: group.members[0].memberId } : undefined;
  return membership === undefined ? [groupId, entries] : [groupId, entries, membership];
}

function changePartitionArgs({ fuzz, log }: FuzzContext): unknown[] {
  const name = fuzz.pick(TOPICS);
  const current = log.getPartition(name, 0);
  const replicas = current?.replicas ?? [0];
  return [name, 0, { expectedPartitionEpoch: current?.partitionEpoch ?? 0, leader: replicas[0] ?? -1, isr: [...replicas] }];
}

/** Writes: every command of the API. */
function writeCalls(): FuzzCall[] {
  return [
    method('createTopic', 6, ({ fuzz }) => [{ name: fuzz.pick(TOPICS), partitions: 1 + fuzz.int(3), replicationFactor: 1, configs: fuzz.chance(0.5) ? { 'cleanup.policy': 'compact' } : {} }]),
    method('alterTopicConfigs', 3, ({ fuzz }) => [fuzz.pick(TOPICS), { set: { 'retention.ms': String(fuzz.int(1e6)) }, delete: fuzz.chance(0.5) ? ['cleanup.policy'] : [] }]),
    method('createPartitions', 2, ({ fuzz }) => [fuzz.pick(TOPICS), 2 + fuzz.int(4)]),
    method('deleteTopic', 1, ({ fuzz }) => [fuzz.pick(TOPICS)]),
    method('changePartition', 2, changePartitionArgs),
    method('registerBroker', 3, (context) => [{ brokerId: context.fuzz.int(3), host: 'broker.local', port: 9092, rack: context.fuzz.chance(0.5) ? null : 'r1', brokerEpoch: context.counter++ }]),
    method('setBrokerStatus', 2, ({ fuzz }) => [fuzz.int(3), fuzz.pick(['ONLINE', 'FENCED', 'MAINTENANCE'])]),
    method('unregisterBroker', 1, ({ fuzz }) => [fuzz.int(3)]),
    method('updateWatermarks', 2, (context) => [context.fuzz.pick(TOPICS), context.fuzz.int(2), { highWatermark: context.counter++ }]),
    method('resetWatermarks', 1, ({ fuzz }) => [fuzz.pick(TOPICS), fuzz.int(2), { highWatermark: 5, logStartOffset: 0 }]),
    method('addSegment', 2, ({ fuzz }) => [fuzz.pick(TOPICS), fuzz.int(2), { segmentId: fuzz.int(4), baseOffset: 0, lastOffset: 9, sizeBytes: 100, recordCount: 10, path: '/segments/0' }]),
    method('removeSegment', 1, ({ fuzz }) => [fuzz.pick(TOPICS), fuzz.int(2), fuzz.int(4)]),
    method('allocateProducerIds', 1, ({ fuzz }) => [1 + fuzz.int(10)]),
    method('initProducerId', 3, ({ fuzz }) => [fuzz.pick(TRANSACTIONAL_IDS), 60000]),
    method('addPartitionsToTxn', 3, (context) => {
      const id = context.fuzz.pick(TRANSACTIONAL_IDS);
      return [id, producerOf(context, id), [{ topic: context.fuzz.pick(TOPICS), partition: 0 }]];
    }),
    method('addOffsetsToTxn', 2, (context) => {
      const id = context.fuzz.pick(TRANSACTIONAL_IDS);
      return [id, producerOf(context, id), context.fuzz.pick(GROUPS)];
    }),
    method('endTxn', 2, (context) => {
      const id = context.fuzz.pick(TRANSACTIONAL_IDS);
      return [id, producerOf(context, id), context.fuzz.chance(0.5)];
    }),
    method('completeTxn', 2, ({ fuzz }) => [fuzz.pick(TRANSACTIONAL_IDS)]),
    method('commitOffsets', 6, commitArgs),
    method('deleteOffsets', 1, ({ fuzz }) => [fuzz.pick(GROUPS), [{ topic: fuzz.pick(TOPICS), partition: 0 }]]),
    method('commitOffsetsEach', 3, (context) => {
      const [groupId, entries, membership] = commitArgs(context) as [string, { topic: string; partition: number; offset: number }[], unknown];
      return [groupId, [...entries, { topic: context.fuzz.pick(TOPICS), partition: context.fuzz.int(3) - 1, offset: -1 }], membership];
    }),
    method('deleteOffsetsEach', 1, ({ fuzz }) => [fuzz.pick(GROUPS), [{ topic: fuzz.pick(TOPICS), partition: 0 }, { topic: fuzz.pick(TOPICS), partition: 1 + fuzz.int(3) }]]),
    method('initCluster', 1, ({ fuzz }) => (fuzz.chance(0.5) ? [] : ['cluster-a'])),
    method('resetOffsets', 1, (context) => [context.fuzz.pick(GROUPS), [{ topic: context.fuzz.pick(TOPICS), partition: 0, offset: context.counter++ }]]),
    method('upsertGroup', 5, (context) => [groupInput(context)]),
    method('deleteGroup', 1, ({ fuzz }) => [fuzz.pick(GROUPS)]),
    method('expireOffsets', 1, ({ fuzz }) => [fuzz.pick(GROUPS), fuzz.int(1000)]),
  ];
}

/** Reads on the caller's thread, and the history queries of the handle. */
function readCalls(): FuzzCall[] {
  const point = ({ fuzz, log }: FuzzContext): number => fuzz.int(Math.max(1, log.lastOffset + 1));
  return [
    method('getTopic', 2, ({ fuzz }) => [fuzz.pick(TOPICS)]),
    method('getPartition', 1, ({ fuzz }) => [fuzz.pick(TOPICS), fuzz.int(2)]),
    method('listTopics', 1, () => []),
    method('getBroker', 1, ({ fuzz }) => [fuzz.int(3)]),
    method('listBrokers', 1, () => []),
    method('getGroup', 2, ({ fuzz }) => [fuzz.pick(GROUPS)]),
    method('listGroups', 1, () => []),
    method('getTransaction', 2, ({ fuzz }) => [fuzz.pick(TRANSACTIONAL_IDS)]),
    method('fetchOffset', 2, ({ fuzz }) => [fuzz.pick(GROUPS), fuzz.pick(TOPICS), fuzz.int(2)]),
    method('fetchOffsets', 2, ({ fuzz }) => [fuzz.pick(GROUPS)]),
    method('getWatermarks', 1, ({ fuzz }) => [fuzz.pick(TOPICS), fuzz.int(2)]),
    method('listSegments', 1, ({ fuzz }) => [fuzz.pick(TOPICS), fuzz.int(2)]),
    method('indexStats', 1, () => []),
    method('history', 2, (context) => [{ fromOffset: point(context), limit: 1 + context.fuzz.int(50), entity: { group: context.fuzz.pick(GROUPS) } }]),
    method('stateAt', 1, (context) => [{ offset: point(context) }]),
    method('diff', 1, (context) => [point(context), point(context)]),
    method('sync', 1, () => []),
    method('metrics', 1, () => []),
  ];
}

/** Every reader pool query. */
function readerCalls(): FuzzCall[] {
  const on = 'readers';
  return [
    method('listTopics', 1, () => [], on),
    method('listTopicNames', 1, () => [], on),
    method('getTopics', 2, ({ fuzz }) => [[fuzz.pick(TOPICS), fuzz.pick(TOPICS)]], on),
    method('scanTopics', 2, ({ fuzz }) => [{ namePrefix: 't', configKey: 'cleanup.policy', limit: fuzz.int(4) }], on),
    method('listBrokers', 1, () => [], on),
    method('listGroups', 1, () => [], on),
    method('describeGroups', 2, ({ fuzz }) => [[fuzz.pick(GROUPS)]], on),
    method('scanGroups', 2, ({ fuzz }) => [{ idPrefix: 'g', states: ['Stable', 'Empty'], protocolType: 'consumer', limit: fuzz.int(4) }], on),
    method('fetchOffsets', 1, ({ fuzz }) => [fuzz.pick(GROUPS)], on),
    method('fetchOffsetBatch', 2, ({ fuzz }) => [[{ groupId: fuzz.pick(GROUPS), topic: fuzz.pick(TOPICS), partition: 0 }]], on),
    method('listSegments', 1, ({ fuzz }) => [fuzz.pick(TOPICS), 0], on),
    method('history', 1, ({ log }) => [log.config.dir, { limit: 5 }], on),
    method('stateAt', 1, ({ log }) => [log.config.dir, { offset: Math.max(0, log.lastOffset) }], on),
    method('diff', 1, ({ log }) => [log.config.dir, 0, Math.max(0, log.lastOffset)], on),
    // Only ever a copy: verifying cuts a torn tail, which must never happen to the live store's WAL.
    method('verifyBackup', 1, ({ fuzz, made, root }) => [made.backups.length > 0 ? fuzz.pick(made.backups) : path.join(root, 'no-backup-yet')], on),
  ];
}

/** Calls on whole stores: open, backup, restore, repair, snapshot, watch. */
function storeCalls(): FuzzCall[] {
  return [
    {
      name: 'MetaLog.open',
      weight: 1,
      args: (context) => [{ dir: path.join(context.root, 'opened', `o${context.counter++}`), durability: 'none', readerThreads: 1 }],
      run: async (_context, [config]) => closeAndVerify(await MetaLog.open(config as never)),
    },
    {
      name: 'backup',
      weight: 1,
      args: (context) => [path.join(context.root, 'backups', `b${context.counter++}`)],
      run: async ({ log, made }, [dest]) => made.backups.push((await log.backup(dest as string)).dest),
    },
    {
      name: 'MetaLog.restore',
      weight: 1,
      args: (context) => [
        context.fuzz.pick([context.log.config.dir, ...context.made.backups]),
        path.join(context.root, 'restores', `r${context.counter++}`),
        context.fuzz.chance(0.5) ? {} : { toOffset: context.fuzz.int(Math.max(1, context.log.lastOffset + 1)) },
      ],
      run: async ({ made }, [src, dir, point]) => made.restores.push((await MetaLog.restore(src as string, dir as string, point as never)).dir),
    },
    {
      name: 'MetaLog.repair',
      weight: 1,
      args: ({ fuzz, log, made }) => [fuzz.pick([log.config.dir, ...made.restores, ...made.backups])],
      run: (_context, [dir]) => MetaLog.repair(dir as string),
    },
    method('snapshot', 1, () => []),
    {
      name: 'watch',
      weight: 3,
      args: ({ fuzz, log }) => [fuzz.pick([{}, { from: fuzz.int(log.lastOffset + 2) }, { types: ['TopicCreated', 'OffsetsCommitted'] }])],
      // The first item or the end: return() settles a next() that waits for a live event.
      run: async ({ log }, args) => {
        const watcher = (log.watch as Method).apply(log, args) as AsyncIterableIterator<unknown>;
        const first = watcher.next();
        await watcher.return?.();
        return first;
      },
    },
  ];
}

/** Every call the fuzzer draws from. */
export function callTable(): FuzzCall[] {
  return [...writeCalls(), ...readCalls(), ...readerCalls(), ...storeCalls()];
}
