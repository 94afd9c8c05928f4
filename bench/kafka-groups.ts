/**
 * The broker's group and start-up figures:
 * - a rebalance of 3, 10, 50 and 100 members joining at once (JoinGroup v5 with no member id, answered
 *   MEMBER_ID_REQUIRED, rejoined; SyncGroup v3 with the leader's assignments), timed from the first
 *   JoinGroup to the last SyncGroup answer, and the bytes and events the store appended to its WAL;
 * - the restart of a broker holding 100 topics × 6 partitions with records, timed from KafkaBroker.start
 *   to the first answered Metadata request, beside MetaLog.open of the same store.
 */
import path from 'node:path';
import type { KafkaBroker } from '../src/kafka/broker/broker.js';
import { createRequire } from 'node:module';
import { MetaLog } from '../src/api/metalog.js';
import { benchDir, check, type BenchRow } from './lib.js';
import { connectAll, encodeRequest, MEMBER_ID_MARKER, MemberFrameTemplate, WireConnection } from './kafka-wire.js';
import { createTopics, startBroker, walAppended } from './kafka-broker.js';

const require = createRequire(import.meta.url);
const { AssignerProtocol } = require('kafkajs') as {
  AssignerProtocol: {
    MemberMetadata: { encode(metadata: { version: number; topics: string[]; userData: Buffer }): Buffer };
    MemberAssignment: { encode(assignment: { version: number; assignment: Record<string, number[]>; userData: Buffer }): Buffer };
  };
};

/** Error code of a response whose body starts with throttle_time_ms then error_code (JoinGroup v5, SyncGroup v3, Heartbeat v3). */
function errorCodeOf(frame: Buffer): number {
  return errorCodeAt(frame, 12);
}

function errorCodeAt(frame: Buffer, position: number): number {
  return frame.readInt16BE(position);
}

const MEMBER_ID_REQUIRED = 79;
const REBALANCE_IN_PROGRESS = 27;
const SESSION_TIMEOUT_MS = 30_000;
/** Heartbeat pace of a member that has its assignment, until every member has one in the same generation. */
const HEARTBEAT_PAUSE_MS = 5;
/** Join rounds one member may go through before the workload is called broken. */
const JOIN_ROUNDS_MAX = 20;

interface RebalanceResult {
  milliseconds: number;
  walBytes: number;
  walEvents: number;
  generation: number;
}

/** The fields of a JoinGroup v5 response a member needs. */
interface JoinAnswer {
  errorCode: number;
  generationId: number;
  leaderId: string;
  memberId: string;
  memberIds: string[];
}

/** Reads a JoinGroup v5 response: throttle, error, generation, protocol, leader, member id, [member id, instance id, metadata]. */
function readJoinAnswer(frame: Buffer): JoinAnswer {
  let at = 12;
  const string = (): string => {
    const length = frame.readInt16BE(at);
    at += 2;
    if (length < 0) return '';
    at += length;
    return frame.toString('utf8', at - length, at);
  };
  const errorCode = frame.readInt16BE(at);
  const generationId = frame.readInt32BE(at + 2);
  at += 6;
  string(); // protocol name
  const leaderId = string();
  const memberId = string();
  const count = frame.readInt32BE(at);
  at += 4;
  const memberIds: string[] = [];
  for (let member = 0; member < count; member++) {
    memberIds.push(string());
    string(); // group instance id
    at += 4 + frame.readInt32BE(at); // metadata
  }
  return { errorCode, generationId, leaderId, memberId, memberIds };
}

/** One group of `members` members joining at once; returns when all have synced the same generation. */
async function rebalance(broker: KafkaBroker, groupId: string, members: number): Promise<RebalanceResult> {
  const connections = await connectAll(broker.port, members);
  const metadata = AssignerProtocol.MemberMetadata.encode({ version: 0, topics: ['rebalance'], userData: Buffer.alloc(0) });
  const joinArgs = { groupId, sessionTimeout: SESSION_TIMEOUT_MS, rebalanceTimeout: SESSION_TIMEOUT_MS, protocolType: 'consumer', groupProtocols: [{ name: 'RangeAssigner', metadata }] };
  // Every frame but the leader's SyncGroup is made before the clock starts.
  const firstJoins = await Promise.all(connections.map(async () => (await encodeRequest('joinGroup', 5, { ...joinArgs, memberId: '' })).frame));
  const rejoin = await MemberFrameTemplate.of('joinGroup', 5, { ...joinArgs, memberId: MEMBER_ID_MARKER });
  const followerSync = await MemberFrameTemplate.of('syncGroup', 3, { groupId, generationId: 0, memberId: MEMBER_ID_MARKER, groupAssignment: [] });
  const heartbeat = await MemberFrameTemplate.of('heartbeat', 3, { groupId, groupGenerationId: 0, memberId: MEMBER_ID_MARKER });
  const synced = new Map<number, number>(); // member index → generation it synced
  let newestGeneration = 0;
  let lastSyncMs = 0;
  const done = (): boolean => synced.size === members && [...synced.values()].every((generation) => generation === newestGeneration);
  const walBefore = await walAppended(broker);
  const started = performance.now();
  await Promise.all(
    connections.map(async (connection, index) => {
      let memberId = '';
      let frame = firstJoins[index];
      for (let round = 0; !done(); round++) {
        check(round < JOIN_ROUNDS_MAX, `member ${index} of ${groupId} settles within ${JOIN_ROUNDS_MAX} joins`);
        const joined = readJoinAnswer(await connection.request(frame));
        if (joined.errorCode === MEMBER_ID_REQUIRED) {
          memberId = joined.memberId;
          frame = rejoin.frameFor(memberId);
          continue;
        }
        check(joined.errorCode === 0, `JoinGroup of member ${index} answers ${joined.errorCode}`);
        newestGeneration = Math.max(newestGeneration, joined.generationId);
        synced.delete(index);
        const generation = { position: followerSync.memberIdPosition - 4, value: joined.generationId };
        const sync =
          joined.leaderId === memberId
            ? (await encodeRequest('syncGroup', 3, { groupId, generationId: joined.generationId, memberId, groupAssignment: assignments(joined.memberIds) })).frame
            : followerSync.frameFor(memberId, generation);
        const syncCode = errorCodeOf(await connection.request(sync));
        if (syncCode === REBALANCE_IN_PROGRESS) continue;
        check(syncCode === 0, `SyncGroup of member ${index} answers ${syncCode}`);
        lastSyncMs = performance.now();
        synced.set(index, joined.generationId);
        // Heartbeats until every member has synced this generation, or a newer generation calls for a rejoin.
        const beat = heartbeat.frameFor(memberId, { position: heartbeat.memberIdPosition - 4, value: joined.generationId });
        while (!done()) {
          await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_PAUSE_MS));
          if (done()) break;
          const code = errorCodeOf(await connection.request(beat));
          if (code === REBALANCE_IN_PROGRESS) break;
          check(code === 0, `Heartbeat of member ${index} answers ${code}`);
        }
        frame = rejoin.frameFor(memberId);
      }
    }),
  );
  const walAfter = await walAppended(broker);
  const result = { milliseconds: lastSyncMs - started, walBytes: walAfter.bytes - walBefore.bytes, walEvents: walAfter.events - walBefore.events, generation: newestGeneration };
  for (const connection of connections) connection.close();
  return result;
}

/** The leader's assignment: partition `slot` of the topic to the member in that slot. */
function assignments(memberIds: string[]): { memberId: string; memberAssignment: Buffer }[] {
  return memberIds.map((memberId, slot) => ({
    memberId,
    memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 0, assignment: { rebalance: [slot] }, userData: Buffer.alloc(0) }),
  }));
}

/**
 * The wire's share of a rebalance: `members` connections each making three round trips one after the
 * other (as many as a member's JoinGroup, rejoin and SyncGroup), all at once, with ApiVersions v0 (no
 * group logic, no store write).
 */
async function roundTripsMs(port: number, members: number): Promise<number> {
  const connections = await connectAll(port, members);
  const request = await encodeRequest('apiVersions', 0, {});
  const frames = connections.map(() => Buffer.from(request.frame));
  const started = performance.now();
  await Promise.all(
    connections.map(async (connection, index) => {
      for (let trip = 0; trip < 3; trip++) check(errorCodeAt(await connection.request(frames[index]), 8) === 0, 'ApiVersions succeeds');
    }),
  );
  const milliseconds = performance.now() - started;
  for (const connection of connections) connection.close();
  return milliseconds;
}

export async function benchRebalances(groupSizes: number[]): Promise<BenchRow[]> {
  const { dir, cleanup } = benchDir('kafka-groups');
  try {
    const logDir = path.join(dir, 'broker');
    const broker = await startBroker(logDir, 'fsync');
    const admin = await WireConnection.connect(broker.port);
    await createTopics(admin, ['rebalance'], Math.max(...groupSizes));
    admin.close();
    const rows: BenchRow[] = [];
    for (const members of groupSizes) {
      const floorMs = await roundTripsMs(broker.port, members);
      const result = await rebalance(broker, `group-${members}`, members);
      const workload = `kafka rebalance, ${members} members join at once (fsync)`;
      rows.push(
        {
          workload,
          metric: `first JoinGroup → last SyncGroup (generation ${result.generation})`,
          value: result.milliseconds,
          unit: 'ms',
          baseline: { name: '3 ApiVersions round trips per member', value: floorMs },
          higherIsBetter: false,
        },
        { workload, metric: `store WAL appended (${result.walEvents} events)`, value: result.walBytes, unit: 'bytes', higherIsBetter: false },
      );
    }
    await broker.close();
    return rows;
  } finally {
    cleanup();
  }
}

const RESTART_TOPICS = 100;
const RESTART_PARTITIONS = 6;

export async function benchRestart(): Promise<BenchRow[]> {
  const { dir, cleanup } = benchDir('kafka-restart');
  try {
    const logDir = path.join(dir, 'broker');
    const names = Array.from({ length: RESTART_TOPICS }, (_, i) => `topic-${i}`);
    const first = await startBroker(logDir, 'fsync');
    const admin = await WireConnection.connect(first.port);
    await createTopics(admin, names, RESTART_PARTITIONS);
    // Some data: ten 1 KiB records in every partition.
    const value = Buffer.alloc(1024, 'r');
    for (const topic of names) {
      const partitions = Array.from({ length: RESTART_PARTITIONS }, (_, partition) => ({ partition, messages: Array.from({ length: 10 }, () => ({ key: null, value })) }));
      const produce = await encodeRequest('produce', 3, { acks: -1, timeout: 30_000, topicData: [{ topic, partitions }] });
      await admin.request(produce.frame);
    }
    admin.close();
    await first.close();

    // Baseline: opening the broker's store by itself.
    const openStarted = performance.now();
    const store = await MetaLog.open({ dir: path.join(logDir, 'metadata'), durability: 'fsync' });
    const storeOpenMs = performance.now() - openStarted;
    check(store.getTopic('topic-99') !== undefined, 'the store holds the topics');
    await store.close();

    const metadata = await encodeRequest('metadata', 1, { topics: ['topic-99'] });
    const started = performance.now();
    const broker = await startBroker(logDir, 'fsync');
    const connection = await WireConnection.connect(broker.port);
    const answer = (await metadata.decode(await connection.request(metadata.frame))) as { topicMetadata: { topicErrorCode: number; partitionMetadata: unknown[] }[] };
    const restartMs = performance.now() - started;
    check(answer.topicMetadata[0].topicErrorCode === 0 && answer.topicMetadata[0].partitionMetadata.length === RESTART_PARTITIONS, 'Metadata after the restart knows the topic');
    connection.close();
    await broker.close();
    return [
      {
        workload: `kafka restart, ${RESTART_TOPICS} topics × ${RESTART_PARTITIONS} partitions`,
        metric: 'start → first Metadata answer',
        value: restartMs,
        unit: 'ms',
        baseline: { name: 'MetaLog.open of its store', value: storeOpenMs },
        higherIsBetter: false,
      },
    ];
  } finally {
    cleanup();
  }
}
