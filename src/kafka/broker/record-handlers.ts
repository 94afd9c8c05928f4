/**
 * The record APIs: Produce, Fetch, ListOffsets and InitProducerId (idempotent producers).
 *
 * Produce answers per partition; acks = 0 gets no response at all (the records are still appended);
 * acks = -1 is answered once the batch is durable (fsync mode). Transactions are not served, so a
 * transactional Produce or InitProducerId is refused (TRANSACTIONAL_ID_AUTHORIZATION_FAILED would make a
 * client believe it may ask again with rights; INVALID_REQUEST says it may not).
 *
 * Fetch reads below the high watermark (everything there is on disk) and long-polls: when less than
 * min_bytes is there it parks until one of its partitions gets new data or max_wait_ms passes, then
 * reads once more.
 */
import type { FetchPartitionResponse, FetchRequest, FetchResponse } from '../codec/apis/fetch.js';
import type { InitProducerIdRequest, InitProducerIdResponse } from '../codec/apis/init-producer-id.js';
import type { ListOffsetsPartitionResponse, ListOffsetsRequest, ListOffsetsResponse } from '../codec/apis/list-offsets.js';
import type { ProducePartitionResponse, ProduceRequest, ProduceResponse } from '../codec/apis/produce.js';
import { ErrorCode, errorCodeOf, KafkaError } from '../error-codes.js';
import type { BrokerLogs } from './broker-logs.js';
import { requireTopic, type BrokerCore } from './broker-state.js';

const LATEST_TIMESTAMP = -1;
const EARLIEST_TIMESTAMP = -2;

async function produceOne(core: BrokerCore, logs: BrokerLogs, name: string, index: number, records: Buffer | null, acks: number): Promise<ProducePartitionResponse> {
  try {
    const topic = requireTopic(core, name);
    if (records === null || records.length === 0) throw new KafkaError('CORRUPT_MESSAGE', 'a Produce partition without records');
    const appended = await logs.append(topic, index, records, acks, Date.now());
    return { index, errorCode: ErrorCode.NONE, baseOffset: appended.baseOffset, logAppendTimeMs: -1, logStartOffset: appended.logStartOffset };
  } catch (error) {
    return { index, errorCode: errorCodeOf(error), baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 };
  }
}

export async function handleProduce(core: BrokerCore, logs: BrokerLogs, request: ProduceRequest): Promise<ProduceResponse | null> {
  const refusal =
    request.transactionalId !== null ? ErrorCode.INVALID_REQUEST : request.acks !== 0 && request.acks !== 1 && request.acks !== -1 ? ErrorCode.INVALID_REQUIRED_ACKS : null;
  const topics = await Promise.all(
    request.topics.map(async (topic) => ({
      name: topic.name,
      partitions: await Promise.all(
        topic.partitions.map((partition) =>
          refusal !== null
            ? { index: partition.index, errorCode: refusal, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1 }
            : produceOne(core, logs, topic.name, partition.index, partition.records, request.acks),
        ),
      ),
    })),
  );
  return request.acks === 0 ? null : { topics };
}

async function fetchOne(core: BrokerCore, logs: BrokerLogs, name: string, partition: FetchRequest['topics'][number]['partitions'][number], maxBytes: number): Promise<FetchPartitionResponse> {
  const empty = { partitionIndex: partition.partition, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, records: [] };
  try {
    const topic = requireTopic(core, name);
    const partitionLog = await logs.logFor(topic, partition.partition);
    const highWatermark = partitionLog.durableEndOffset;
    const read = maxBytes > 0 ? await partitionLog.read(partition.fetchOffset, maxBytes, highWatermark) : null;
    return {
      partitionIndex: partition.partition,
      errorCode: ErrorCode.NONE,
      highWatermark,
      lastStableOffset: highWatermark,
      logStartOffset: partitionLog.logStartOffset,
      records: read === null || read.records.length === 0 ? [] : [read.records],
    };
  } catch (error) {
    return { ...empty, errorCode: errorCodeOf(error) };
  }
}

async function fetchAll(core: BrokerCore, logs: BrokerLogs, request: FetchRequest): Promise<{ response: FetchResponse; bytes: number; failed: boolean }> {
  let budget = request.maxBytes > 0 ? request.maxBytes : Number.MAX_SAFE_INTEGER;
  let bytes = 0;
  let failed = false;
  const topics: FetchResponse['topics'][number][] = [];
  // One partition after another, so the request's max_bytes is shared in order (as Kafka does).
  for (const topic of request.topics) {
    const partitions: FetchPartitionResponse[] = [];
    for (const partition of topic.partitions) {
      const answer = await fetchOne(core, logs, topic.topic, partition, Math.min(partition.partitionMaxBytes, budget));
      const size = answer.records.reduce((sum, part) => sum + part.length, 0);
      bytes += size;
      budget = Math.max(0, budget - size);
      failed ||= answer.errorCode !== ErrorCode.NONE;
      partitions.push(answer);
    }
    topics.push({ topic: topic.topic, partitions });
  }
  return { response: { errorCode: ErrorCode.NONE, topics }, bytes, failed };
}

export async function handleFetch(core: BrokerCore, logs: BrokerLogs, request: FetchRequest): Promise<FetchResponse> {
  const first = await fetchAll(core, logs, request);
  if (first.bytes >= Math.max(1, request.minBytes) || first.failed || request.maxWaitMs <= 0) return first.response;
  const keys = new Set<string>();
  for (const topic of request.topics) {
    const stored = core.store.getTopic(topic.topic);
    if (stored !== undefined) for (const partition of topic.partitions) keys.add(`${stored.topicId}/${partition.partition}`);
  }
  await logs.waitForData(keys, request.maxWaitMs);
  return (await fetchAll(core, logs, request)).response;
}

async function listOffsetOf(core: BrokerCore, logs: BrokerLogs, name: string, partitionIndex: number, timestamp: number): Promise<ListOffsetsPartitionResponse> {
  try {
    const topic = requireTopic(core, name);
    const partitionLog = await logs.logFor(topic, partitionIndex);
    const leaderEpoch = topic.partitions[partitionIndex]!.leaderEpoch;
    const answer = (offset: number, at: number) => ({ partitionIndex, errorCode: ErrorCode.NONE, timestamp: at, offset, leaderEpoch });
    if (timestamp === LATEST_TIMESTAMP) return answer(partitionLog.durableEndOffset, -1);
    if (timestamp === EARLIEST_TIMESTAMP) return answer(partitionLog.logStartOffset, -1);
    if (timestamp < 0) throw new KafkaError('INVALID_REQUEST', `timestamp ${timestamp} is neither -1, -2 nor a time`);
    const found = await partitionLog.offsetForTimestamp(timestamp);
    if (found === null || found.offset >= partitionLog.durableEndOffset) return answer(-1, -1);
    return answer(found.offset, found.timestamp);
  } catch (error) {
    return { partitionIndex, errorCode: errorCodeOf(error), timestamp: -1, offset: -1, leaderEpoch: -1 };
  }
}

export async function handleListOffsets(core: BrokerCore, logs: BrokerLogs, request: ListOffsetsRequest): Promise<ListOffsetsResponse> {
  const topics = await Promise.all(
    request.topics.map(async (topic) => ({
      name: topic.name,
      partitions: await Promise.all(topic.partitions.map((partition) => listOffsetOf(core, logs, topic.name, partition.partitionIndex, partition.timestamp))),
    })),
  );
  return { topics };
}

export async function handleInitProducerId(core: BrokerCore, request: InitProducerIdRequest): Promise<InitProducerIdResponse> {
  if (request.transactionalId !== null) return { errorCode: ErrorCode.INVALID_REQUEST, producerId: -1, producerEpoch: -1 };
  try {
    const { firstProducerId } = await core.store.allocateProducerIds(1);
    return { errorCode: ErrorCode.NONE, producerId: firstProducerId, producerEpoch: 0 };
  } catch (error) {
    return { errorCode: errorCodeOf(error), producerId: -1, producerEpoch: -1 };
  }
}
