/**
 * The seed report's metadata workloads, durable (fsync), each checked against what it wrote:
 * - topic creation (6 partitions, replication factor 3 over 3 brokers): one at a time (latency) and 64 in
 *   flight (throughput), against a raw append + fdatasync of records of the same size;
 * - topic lookups: random `getTopic` over every created topic, throughput and the latency of a timed
 *   sample of single reads, against a plain Map;
 * - offset commits over 200 groups x 10 topics x 6 partitions: one partition per commit, 64 in flight;
 *   and whole-group commits (all 60 partitions in one atomic commit, as a broker's OffsetCommit carries),
 *   reported in partitions/s;
 * - consumer-group upserts with 10 to 100 members (a join/sync round: the whole group, its generation
 *   bumped), 64 groups in flight.
 */
import { MetaLog } from '../src/api/metalog.js';
import type { GroupInput } from '../src/commands/commands.js';
import { cpuNote, cpuPerOp, readThreadCpu } from './thread-cpu.js';
import { fdatasyncCounts, fdatasyncNote, fdatasyncP99Since } from './writer-fsyncs.js';
import { drive } from './drive.js';
import { benchDir, check, latencyHistogram, lookupsPerSecond, percentilesMs, recordSince, type BenchRow } from './lib.js';
import { startProgress, stopProgress, updateProgress } from './progress.js';
import { rawGroupCommit, rawSingleLatency } from './raw-baseline.js';

/** WAL bytes of one TopicCreated record with 6 partitions of 3 replicas and one config (measured). */
const TOPIC_RECORD_BYTES = 188;
const GROUPS = 200;
const TOPICS = 10;
const PARTITIONS = 6;

export interface MetadataSizes {
  topicCreates: number;
  lookups: number;
  commits: number;
  groupUpserts: number;
}

/** A consumer group as a broker stores it after a rebalance (also the write-steps bench's group). */
export function groupWith(groupId: string, generation: number, memberCount: number): GroupInput {
  const members = Array.from({ length: memberCount }, (_, i) => ({
    memberId: `consumer-${i}-${generation}`,
    clientId: `client-${i}`,
    clientHost: `/10.0.${i >> 8}.${i & 255}`,
    sessionTimeoutMs: 45_000,
    rebalanceTimeoutMs: 300_000,
    topics: ['topic-0', 'topic-1'],
    subscription: new Uint8Array(24).fill(i),
    assignment: new Uint8Array(48).fill(generation & 255),
  }));
  return { groupId, state: 'Stable', protocolType: 'consumer', protocol: 'cooperative-sticky', generation, leader: members[0].memberId, members };
}

export async function benchMetadataOps(sizes: MetadataSizes): Promise<BenchRow[]> {
  const { dir, cleanup } = benchDir('metadata');
  const rows: BenchRow[] = [];
  try {
    const log = await MetaLog.open({ dir, durability: 'fsync', snapshotEveryEvents: 0 });
    for (let brokerId = 1; brokerId <= 3; brokerId++) await log.registerBroker({ brokerId, host: `broker-${brokerId}`, port: 9092, rack: null, brokerEpoch: 1 });

    // Topic creation, one at a time, then 64 in flight.
    const sequential = Math.max(100, Math.floor(sizes.topicCreates / 5));
    const createHistogram = latencyHistogram();
    startProgress('createTopic, 1 at a time (fsync)', sequential);
    const fsyncsBefore = fdatasyncCounts(log);
    const sequentialStarted = performance.now();
    for (let i = 0; i < sequential; i++) {
      const started = process.hrtime.bigint();
      await log.createTopic({ name: `seq-${i}`, partitions: PARTITIONS, replicationFactor: 3, configs: { 'retention.ms': '604800000' } });
      recordSince(createHistogram, started);
      if ((i & 63) === 0) updateProgress(i);
    }
    const sequentialRate = sequential / ((performance.now() - sequentialStarted) / 1000);
    const sequentialFsyncs = fdatasyncP99Since(log, fsyncsBefore);
    stopProgress();
    let cpuBefore = readThreadCpu();
    const createSeconds = await drive(
      sizes.topicCreates,
      64,
      (i) => log.createTopic({ name: `topic-${i}`, partitions: PARTITIONS, replicationFactor: 3, configs: { 'retention.ms': '604800000' } }),
      'createTopic, 64 in flight (fsync)',
    );
    const createCpu = cpuPerOp(cpuBefore, readThreadCpu(), sizes.topicCreates);
    // One at a time again, now that every step of a create has run thousands of times: the first
    // creates above pay for the JIT compiling their path (on two cores its threads take turns with the
    // caller's and the writer's), which is most of their tail.
    const warmHistogram = latencyHistogram();
    for (let i = 0; i < sequential; i++) {
      const started = process.hrtime.bigint();
      await log.createTopic({ name: `warm-${i}`, partitions: PARTITIONS, replicationFactor: 3, configs: { 'retention.ms': '604800000' } });
      recordSince(warmHistogram, started);
    }
    const warmLatency = percentilesMs(warmHistogram);
    const created = log.getTopic(`topic-${sizes.topicCreates - 1}`);
    check(created !== undefined && created.partitions.length === PARTITIONS && created.partitions.every((p) => p.replicas.length === 3), 'created topics read back whole');
    const createLatency = percentilesMs(createHistogram);
    const rawSingle = rawSingleLatency(TOPIC_RECORD_BYTES, Math.min(sequential, 2000));
    rows.push(
      { workload: 'createTopic, 1 at a time (fsync)', metric: 'p50', value: createLatency.p50, unit: 'ms', baseline: { name: 'raw write+fdatasync', value: rawSingle.p50 }, higherIsBetter: false },
      { workload: 'createTopic, 1 at a time (fsync)', metric: 'p99', value: createLatency.p99, unit: 'ms', baseline: { name: 'raw write+fdatasync', value: rawSingle.p99 }, higherIsBetter: false, note: fdatasyncNote(sequentialFsyncs) },
      { workload: 'createTopic, 1 at a time (fsync)', metric: 'max', value: createLatency.max, unit: 'ms', higherIsBetter: false, note: `${Math.round(sequentialRate)} creates/s` },
      { workload: 'createTopic, 1 at a time (fsync), code warm', metric: 'p50', value: warmLatency.p50, unit: 'ms', baseline: { name: 'raw write+fdatasync', value: rawSingle.p50 }, higherIsBetter: false },
      {
        workload: 'createTopic, 1 at a time (fsync), code warm',
        metric: 'p99',
        value: warmLatency.p99,
        unit: 'ms',
        baseline: { name: 'raw write+fdatasync', value: rawSingle.p99 },
        higherIsBetter: false,
        note: `after ${(sequential + sizes.topicCreates).toLocaleString('en-US')} creates`,
      },
      {
        workload: 'createTopic, 64 in flight (fsync)',
        metric: 'throughput',
        value: sizes.topicCreates / createSeconds,
        unit: 'creates/s',
        baseline: { name: 'raw write+fdatasync per 64', value: rawGroupCommit(64, TOPIC_RECORD_BYTES, Math.max(64_000, sizes.topicCreates)) },
        higherIsBetter: true,
        note: cpuNote(createCpu),
      },
    );

    // Topic lookups: throughput over every created topic, and single-read latency of a sample.
    const names = Array.from({ length: sizes.topicCreates }, (_, i) => `topic-${i}`);
    const map = new Map(log.listTopics().map((topic) => [topic.name, topic]));
    const mapRate = lookupsPerSecond(names, sizes.lookups, (name) => map.get(name));
    const storeRate = lookupsPerSecond(names, sizes.lookups, (name) => log.getTopic(name));
    const sampleHistogram = latencyHistogram();
    const sampleSize = 100_000;
    for (let i = 0; i < sampleSize; i++) {
      const name = names[(i * 104_729) % names.length];
      const started = process.hrtime.bigint();
      const topic = log.getTopic(name);
      // Tenths of a microsecond: single reads are well under one.
      sampleHistogram.recordValue(Math.max(1, Number(process.hrtime.bigint() - started) / 100));
      check(topic !== undefined, 'a sampled lookup finds its topic');
    }
    rows.push(
      { workload: `getTopic, random over ${names.length.toLocaleString('en-US')} topics`, metric: 'lookups/s', value: storeRate, unit: 'ops/s', baseline: { name: 'plain Map', value: mapRate }, higherIsBetter: true },
      { workload: 'getTopic, timed one by one (100,000)', metric: 'p50', value: sampleHistogram.getValueAtPercentile(50) / 10, unit: 'µs', higherIsBetter: false },
      { workload: 'getTopic, timed one by one (100,000)', metric: 'p99', value: sampleHistogram.getValueAtPercentile(99) / 10, unit: 'µs', higherIsBetter: false },
    );

    // Offset commits: one partition per commit, then whole-group commits of 60 partitions.
    const commitSeconds = await drive(
      sizes.commits,
      64,
      (i) => log.commitOffsets(`group-${i % GROUPS}`, [{ topic: `topic-${Math.floor(i / GROUPS) % TOPICS}`, partition: Math.floor(i / (GROUPS * TOPICS)) % PARTITIONS, offset: i }]),
      'commitOffsets over 200 groups, 64 in flight',
    );
    const wholeGroupCommits = Math.max(GROUPS, Math.floor(sizes.commits / 60));
    const allPartitions = Array.from({ length: TOPICS * PARTITIONS }, (_, i) => ({ topic: `topic-${Math.floor(i / PARTITIONS)}`, partition: i % PARTITIONS }));
    const wholeSeconds = await drive(
      wholeGroupCommits,
      64,
      (i) => log.commitOffsets(`group-${i % GROUPS}`, allPartitions.map(({ topic, partition }) => ({ topic, partition, offset: 1_000_000 + i }))),
      'commitOffsets of 60 partitions each, 64 in flight',
    );
    const lastWhole = wholeGroupCommits - 1;
    check(log.fetchOffsets(`group-${lastWhole % GROUPS}`).every((committed) => committed.offset === 1_000_000 + lastWhole), 'a whole-group commit reads back on every partition');
    rows.push(
      { workload: 'commitOffsets, 1 partition, 200 groups x 60 partitions', metric: '64 in flight', value: sizes.commits / commitSeconds, unit: 'commits/s', higherIsBetter: true },
      { workload: 'commitOffsets, 60 partitions per commit', metric: '64 in flight', value: (wholeGroupCommits * 60) / wholeSeconds, unit: 'partitions/s', higherIsBetter: true, note: `${Math.round(wholeGroupCommits / wholeSeconds)} commits/s` },
    );

    // Consumer-group rounds: the whole group stored with a bumped generation, 10 to 100 members.
    cpuBefore = readThreadCpu();
    const groupSeconds = await drive(
      sizes.groupUpserts,
      64,
      (i) => log.upsertGroup(groupWith(`cg-${i % 64}`, 1 + Math.floor(i / 64), 10 + ((i * 37) % 91))),
      'upsertGroup (10-100 members), 64 in flight',
    );
    const groupCpu = cpuPerOp(cpuBefore, readThreadCpu(), sizes.groupUpserts);
    const lastRound = Math.floor((sizes.groupUpserts - 1) / 64);
    check(log.getGroup('cg-0')?.generation === 1 + lastRound, 'the last generation reads back');
    rows.push({ workload: 'upsertGroup, 10-100 members, generation bumped', metric: '64 in flight', value: sizes.groupUpserts / groupSeconds, unit: 'upserts/s', higherIsBetter: true, note: cpuNote(groupCpu) });
    await log.close();
    return rows;
  } finally {
    cleanup();
  }
}
