/**
 * The Kafka broker under load, over the wire: the broker runs in this process, and the load comes from
 * requests encoded once and written on plain sockets (kafka-wire.ts), so the client spends little of the
 * two cores the broker needs. Each figure is printed beside a baseline measured in the same run:
 * - OffsetCommit (64 connections × 60 partitions, fsync) beside direct `commitOffsets` of the same batches;
 * - Produce MB/s (1 KiB records, 100 per batch, acks -1; fsync and interval) beside raw write+fdatasync
 *   of the same batches to as many files at once;
 * - Fetch MB/s of what was produced beside a raw read of the same bytes;
 * - produce → long-poll consume latency beside one raw write+fdatasync;
 * - rebalances and restart: kafka-groups.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MetaLog } from '../src/api/metalog.js';
import { benchDir, check, latencyHistogram, percentilesMs, recordSince, type BenchRow } from './lib.js';
import { rawSingleLatency } from './raw-baseline.js';
import { drive } from './drive.js';
import { connectAll, encodeRequest, fetchV4Progress, positionOf, WireConnection } from './kafka-wire.js';
import { createTopics, startBroker } from './kafka-broker.js';
import { benchRebalances, benchRestart } from './kafka-groups.js';

export interface KafkaBenchSizes {
  /** OffsetCommit requests (60 partitions each) over all 64 connections. */
  commitRequests: number;
  /** Bytes of records produced in each durability mode. */
  produceBytes: number;
  /** Produce → consume round trips. */
  endToEndRecords: number;
  /** Group sizes of the rebalance workload. */
  groupSizes: number[];
}

const COMMIT_CONNECTIONS = 64;
const COMMIT_PARTITIONS = 60;
const RECORD_BYTES = 1024;
const RECORDS_PER_BATCH = 100;
const PRODUCE_CONNECTIONS = 8;
const FETCH_PARTITION_BYTES_MAX = 1024 * 1024;
const MIB = 1024 * 1024;

export async function benchKafka(sizes: KafkaBenchSizes, progress: (message: string) => void): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  progress('kafka: OffsetCommit over the wire and direct commitOffsets (fsync)…');
  rows.push(...(await benchOffsetCommit(sizes.commitRequests)));
  progress('kafka: Produce and Fetch (fsync, interval)…');
  rows.push(...(await benchProduceFetch(sizes.produceBytes)));
  progress('kafka: produce → long-poll consume…');
  rows.push(...(await benchEndToEnd(sizes.endToEndRecords)));
  progress('kafka: rebalances…');
  rows.push(...(await benchRebalances(sizes.groupSizes)));
  progress('kafka: restart to the first answered Metadata…');
  rows.push(...(await benchRestart()));
  return rows;
}

/** The 60 entries of commit number `index` (offsets grow, so each commit changes every partition). */
function commitEntries(index: number): { topic: string; partition: number; offset: number }[] {
  return Array.from({ length: COMMIT_PARTITIONS }, (_, partition) => ({ topic: 'commits', partition, offset: 1_000 + index }));
}

async function benchOffsetCommit(requests: number): Promise<BenchRow[]> {
  const { dir, cleanup } = benchDir('kafka-commit');
  try {
    const broker = await startBroker(path.join(dir, 'broker'), 'fsync');
    const connections = await connectAll(broker.port, COMMIT_CONNECTIONS);
    await createTopics(connections[0], ['commits'], COMMIT_PARTITIONS);
    const request = await encodeRequest('offsetCommit', 5, {
      groupId: 'bench-group',
      groupGenerationId: -1,
      memberId: '',
      topics: [{ topic: 'commits', partitions: commitEntries(0).map(({ partition, offset }) => ({ partition, offset: String(offset) })) }],
    });
    // Each connection sends its own copy: the correlation id is patched in place while a write may be queued.
    const frames = connections.map(() => Buffer.from(request.frame));
    const first = (await request.decode(await connections[0].request(frames[0]))) as { responses: { partitions: { errorCode: number }[] }[] };
    check(first.responses[0].partitions.every((partition) => partition.errorCode === 0), 'a simple-consumer OffsetCommit is accepted');
    const histogram = latencyHistogram();
    let answered = 0;
    const started = performance.now();
    await Promise.all(
      connections.map(async (connection, lane) => {
        // Lane `lane` sends its share of the requests, one at a time.
        for (let i = lane; i < requests; i += COMMIT_CONNECTIONS) {
          const sent = process.hrtime.bigint();
          await connection.request(frames[lane]);
          recordSince(histogram, sent);
          answered++;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    check(answered === requests, 'every OffsetCommit is answered');
    check(broker.store.fetchOffset('bench-group', 'commits', COMMIT_PARTITIONS - 1)?.offset === 1_000, 'the committed offset reads back');
    for (const connection of connections) connection.close();
    await broker.close();

    // Direct: the same batches on a store of its own, 64 calls in flight.
    const store = await MetaLog.open({ dir: path.join(dir, 'direct'), durability: 'fsync', snapshotEveryEvents: 0 });
    await store.createTopic({ name: 'commits', partitions: COMMIT_PARTITIONS });
    const batches = Array.from({ length: 64 }, (_, i) => commitEntries(i));
    await drive(640, COMMIT_CONNECTIONS, (i) => store.commitOffsets('bench-group', batches[i % 64]));
    const directHistogram = latencyHistogram();
    const directSeconds = await drive(requests, COMMIT_CONNECTIONS, async (i) => {
      const sent = process.hrtime.bigint();
      await store.commitOffsets('bench-group', batches[i % 64]);
      recordSince(directHistogram, sent);
    });
    check(store.fetchOffset('bench-group', 'commits', 0)?.offset !== undefined, 'the direct commits read back');
    await store.close();

    const latency = percentilesMs(histogram);
    const directLatency = percentilesMs(directHistogram);
    const wireRate = (requests * COMMIT_PARTITIONS) / seconds;
    const directRate = (requests * COMMIT_PARTITIONS) / directSeconds;
    const workload = `kafka OffsetCommit, ${COMMIT_CONNECTIONS} conns × ${COMMIT_PARTITIONS} partitions (fsync)`;
    return [
      { workload, metric: 'throughput', value: wireRate, unit: 'partition-commits/s', baseline: { name: 'direct commitOffsets, 64 in flight', value: directRate }, higherIsBetter: true },
      { workload, metric: 'p50 per request', value: latency.p50, unit: 'ms', baseline: { name: 'direct, per call', value: directLatency.p50 }, higherIsBetter: false },
      { workload, metric: 'p99 per request', value: latency.p99, unit: 'ms', baseline: { name: 'direct, per call', value: directLatency.p99 }, higherIsBetter: false },
    ];
  } finally {
    cleanup();
  }
}

/** One Produce v3 request per partition: `RECORDS_PER_BATCH` records of `RECORD_BYTES`, acks -1. */
async function produceFrames(topic: string, partitions: number, recordsPerBatch: number): Promise<Buffer[]> {
  const value = Buffer.alloc(RECORD_BYTES, 'x');
  const frames: Buffer[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    const messages = Array.from({ length: recordsPerBatch }, () => ({ key: null, value }));
    const request = await encodeRequest('produce', 3, { acks: -1, timeout: 30_000, topicData: [{ topic, partitions: [{ partition, messages }] }] });
    frames.push(request.frame);
  }
  return frames;
}

/** Sends `batchesPerPartition` Produce requests on each connection (one per partition) and checks each answer. */
async function produceAll(connections: WireConnection[], frames: Buffer[], batchesPerPartition: number): Promise<number> {
  const started = performance.now();
  await Promise.all(
    connections.map(async (connection, partition) => {
      for (let batch = 0; batch < batchesPerPartition; batch++) {
        const response = await connection.request(frames[partition]);
        // Produce v3 response: header (8), topics (4), name (2 + n), partitions (4), index (4), error code (2).
        const nameBytes = response.readInt16BE(12);
        check(response.readInt16BE(14 + nameBytes + 4 + 4) === 0, `Produce to partition ${partition} succeeds`);
      }
    }),
  );
  return (performance.now() - started) / 1000;
}

/** Reads every partition from offset 0 to `endOffset` with Fetch v4 (1 MiB per partition); returns seconds and bytes. */
async function fetchAll(connections: WireConnection[], topic: string, endOffset: number): Promise<{ seconds: number; bytes: number }> {
  const marker = Buffer.from('0102030405060708', 'hex');
  let bytes = 0;
  const started = performance.now();
  await Promise.all(
    connections.map(async (connection, partition) => {
      const request = await encodeRequest('fetch', 4, {
        replicaId: -1,
        maxWaitTime: 0,
        minBytes: 0,
        maxBytes: FETCH_PARTITION_BYTES_MAX,
        isolationLevel: 0,
        topics: [{ topic, partitions: [{ partition, fetchOffset: marker.readBigInt64BE(0).toString(), maxBytes: FETCH_PARTITION_BYTES_MAX }] }],
      });
      const offsetAt = positionOf(request.frame, marker);
      let offset = 0;
      // Bounded: each round trip must move the offset forward.
      while (offset < endOffset) {
        request.frame.writeBigInt64BE(BigInt(offset), offsetAt);
        const [answer] = fetchV4Progress(await connection.request(request.frame));
        check(answer.errorCode === 0 && answer.nextOffset > offset, `Fetch of partition ${partition} at ${offset} moves forward`);
        offset = answer.nextOffset;
        bytes += answer.recordBytes;
      }
      check(offset === endOffset, `partition ${partition} reads back to ${endOffset}`);
    }),
  );
  return { seconds: (performance.now() - started) / 1000, bytes };
}

/**
 * MiB/s of `files` files each appended `batches` times with `batchBytes` and one fdatasync per append,
 * all files at once through node:fs/promises (as the partition logs do: their fdatasyncs run in parallel
 * on libuv's threads). The same shape as the Produce load: one partition file per connection.
 */
async function rawParallelAppendMiBPerSecond(files: number, batches: number, batchBytes: number): Promise<number> {
  const { dir, cleanup } = benchDir('kafka-raw-append');
  try {
    const batch = Buffer.alloc(batchBytes, 7);
    const handles = await Promise.all(Array.from({ length: files }, (_, i) => fs.promises.open(path.join(dir, `partition-${i}.log`), 'w')));
    const started = performance.now();
    await Promise.all(
      handles.map(async (handle) => {
        for (let i = 0; i < batches; i++) {
          await handle.write(batch, 0, batchBytes, i * batchBytes);
          await handle.datasync();
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    await Promise.all(handles.map((handle) => handle.close()));
    return (files * batches * batchBytes) / MIB / seconds;
  } finally {
    cleanup();
  }
}

/** MiB/s of reading a file of `bytes` in 1 MiB reads (just written, so in the page cache like the broker's segments). */
function rawReadMiBPerSecond(bytes: number): number {
  const { dir, cleanup } = benchDir('kafka-raw-read');
  try {
    const file = path.join(dir, 'raw.log');
    const chunk = Buffer.alloc(MIB, 7);
    const fd = fs.openSync(file, 'w+');
    for (let position = 0; position < bytes; position += MIB) fs.writeSync(fd, chunk, 0, MIB, position);
    fs.fdatasyncSync(fd);
    const started = performance.now();
    let read = 0;
    for (let position = 0; position < bytes; position += MIB) read += fs.readSync(fd, chunk, 0, MIB, position);
    const seconds = (performance.now() - started) / 1000;
    fs.closeSync(fd);
    check(read >= bytes, 'the raw read reads everything');
    return read / MIB / seconds;
  } finally {
    cleanup();
  }
}

async function benchProduceFetch(produceBytes: number): Promise<BenchRow[]> {
  const { dir, cleanup } = benchDir('kafka-produce');
  try {
    const batchesPerPartition = Math.max(1, Math.round(produceBytes / (PRODUCE_CONNECTIONS * RECORDS_PER_BATCH * RECORD_BYTES)));
    const rows: BenchRow[] = [];
    const rates: Record<string, number> = {};
    let frameBytes = 0;
    let fetched = { seconds: 0, bytes: 0 };
    for (const durability of ['fsync', 'interval'] as const) {
      const broker = await startBroker(path.join(dir, durability), durability);
      const connections = await connectAll(broker.port, PRODUCE_CONNECTIONS);
      await createTopics(connections[0], ['records'], PRODUCE_CONNECTIONS);
      const frames = await produceFrames('records', PRODUCE_CONNECTIONS, RECORDS_PER_BATCH);
      frameBytes = frames[0].length;
      const seconds = await produceAll(connections, frames, batchesPerPartition);
      rates[durability] = (PRODUCE_CONNECTIONS * batchesPerPartition * RECORDS_PER_BATCH * RECORD_BYTES) / MIB / seconds;
      if (durability === 'fsync') fetched = await fetchAll(connections, 'records', batchesPerPartition * RECORDS_PER_BATCH);
      for (const connection of connections) connection.close();
      await broker.close();
    }
    // Raw: the same batches (each Produce frame's bytes), one write + fdatasync each, one file per connection.
    const rawMiBPerSecond = await rawParallelAppendMiBPerSecond(PRODUCE_CONNECTIONS, batchesPerPartition, frameBytes);
    const rawRead = rawReadMiBPerSecond(fetched.bytes);
    const workload = `kafka Produce, ${PRODUCE_CONNECTIONS} conns × 1 partition, ${RECORDS_PER_BATCH} × 1 KiB, acks -1`;
    const rawName = `raw write+fdatasync per ${Math.round(frameBytes / 1024)} KiB, ${PRODUCE_CONNECTIONS} files at once`;
    rows.push(
      { workload: `${workload} (fsync)`, metric: 'throughput', value: rates.fsync, unit: 'MiB/s', baseline: { name: rawName, value: rawMiBPerSecond }, higherIsBetter: true },
      { workload: `${workload} (interval 10 ms)`, metric: 'throughput', value: rates.interval, unit: 'MiB/s', baseline: { name: rawName, value: rawMiBPerSecond }, higherIsBetter: true },
      {
        workload: `kafka Fetch v4 from 0 to the end, ${PRODUCE_CONNECTIONS} conns, 1 MiB per partition`,
        metric: 'throughput',
        value: fetched.bytes / MIB / fetched.seconds,
        unit: 'MiB/s',
        baseline: { name: 'raw 1 MiB reads (page cache)', value: rawRead },
        higherIsBetter: true,
      },
    );
    return rows;
  } finally {
    cleanup();
  }
}

/** Waits `ms` (the consumer's Fetch is given this long to reach the broker and park). */
function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function benchEndToEnd(records: number): Promise<BenchRow[]> {
  const { dir, cleanup } = benchDir('kafka-e2e');
  try {
    const broker = await startBroker(path.join(dir, 'broker'), 'fsync');
    const [producer, consumer] = await connectAll(broker.port, 2);
    await createTopics(producer, ['latency'], 1);
    const [produce] = await produceFrames('latency', 1, 1);
    const marker = Buffer.from('0102030405060708', 'hex');
    const fetch = await encodeRequest('fetch', 4, {
      replicaId: -1,
      maxWaitTime: 500,
      minBytes: 1,
      maxBytes: FETCH_PARTITION_BYTES_MAX,
      isolationLevel: 0,
      topics: [{ topic: 'latency', partitions: [{ partition: 0, fetchOffset: marker.readBigInt64BE(0).toString(), maxBytes: FETCH_PARTITION_BYTES_MAX }] }],
    });
    const offsetAt = positionOf(fetch.frame, marker);
    const histogram = latencyHistogram();
    let late = 0;
    for (let offset = 0; offset < records; offset++) {
      fetch.frame.writeBigInt64BE(BigInt(offset), offsetAt);
      const fetched = consumer.request(fetch.frame);
      await pause(1);
      const sent = process.hrtime.bigint();
      const [produced, answer] = await Promise.all([producer.request(produce), fetched]);
      recordSince(histogram, sent);
      check(produced.readInt16BE(14 + produced.readInt16BE(12) + 8) === 0, 'the Produce succeeds');
      const [progress] = fetchV4Progress(answer);
      // A Fetch answered empty (its 500 ms ran out first) does not contain the record: counted, and the run fails.
      if (progress.nextOffset !== offset + 1) late++;
      check(progress.errorCode === 0, 'the Fetch succeeds');
    }
    check(late === 0, `every long-poll Fetch is answered with its record (${late} were not)`);
    producer.close();
    consumer.close();
    await broker.close();
    const latency = percentilesMs(histogram);
    const raw = rawSingleLatency(produce.length, Math.min(records, 2_000));
    const workload = 'kafka Produce (acks -1, fsync) → long-poll Fetch, 1 at a time';
    return [
      { workload, metric: 'p50', value: latency.p50, unit: 'ms', baseline: { name: 'raw write+fdatasync', value: raw.p50 }, higherIsBetter: false },
      { workload, metric: 'p99', value: latency.p99, unit: 'ms', baseline: { name: 'raw write+fdatasync', value: raw.p99 }, higherIsBetter: false },
    ];
  } finally {
    cleanup();
  }
}
