/**
 * kafkajs oracle cases for the data path and discovery: ApiVersions, Metadata, Produce, Fetch,
 * ListOffsets, InitProducerId. Sample values differ from every default (ids, offsets beyond 2^32, null
 * and non-null strings, error codes other than 0) so a field read from the wrong place shows.
 */
import { ApiVersions } from '../../../../src/kafka/codec/apis/api-versions.js';
import { Fetch } from '../../../../src/kafka/codec/apis/fetch.js';
import { InitProducerId } from '../../../../src/kafka/codec/apis/init-producer-id.js';
import { ListOffsets } from '../../../../src/kafka/codec/apis/list-offsets.js';
import { Metadata } from '../../../../src/kafka/codec/apis/metadata.js';
import { Produce } from '../../../../src/kafka/codec/apis/produce.js';
import { kafkajsReadRecordBatch, kafkajsRecordBatch, Long, throttle, type OracleCase } from './kafkajs-oracle.js';

/** Two batches of a partition, as the log would hand them to a Fetch response. */
export const FETCH_BATCHES = await Promise.all([kafkajsRecordBatch(5_000_000_000, 1_700_000_000_000, ['a', 'bb']), kafkajsRecordBatch(5_000_000_002, 1_700_000_000_500, ['ccc'])]);

const API_VERSIONS_TABLE = [
  { apiKey: 0, minVersion: 3, maxVersion: 7 },
  { apiKey: 18, minVersion: 0, maxVersion: 3 },
  { apiKey: 47, minVersion: 0, maxVersion: 0 },
];

const apiVersions: OracleCase = {
  codec: ApiVersions,
  kafkajs: 'apiVersions',
  label: 'table',
  args: () => undefined,
  request: () => ({ clientSoftwareName: null, clientSoftwareVersion: null }),
  response: () => ({ errorCode: 0, apiKeys: API_VERSIONS_TABLE }),
  decoded: (v) => ({ errorCode: 0, apiVersions: API_VERSIONS_TABLE, ...(v >= 1 ? throttle(v, 2) : {}) }),
};

const METADATA_RESPONSE = {
  brokers: [
    { nodeId: 7, host: 'broker-7.local', port: 19092, rack: 'rack-a' },
    { nodeId: 8, host: 'broker-8.local', port: 19093, rack: null },
  ],
  clusterId: 'cluster-3f9a',
  controllerId: 8,
  topics: [
    {
      errorCode: 0,
      name: 'orders',
      isInternal: false,
      partitions: [
        { errorCode: 0, partitionIndex: 0, leaderId: 7, replicaNodes: [7, 8], isrNodes: [8, 7] },
        { errorCode: 5, partitionIndex: 1, leaderId: -1, replicaNodes: [8], isrNodes: [] },
      ],
    },
    { errorCode: 3, name: '__consumer_offsets', isInternal: true, partitions: [] },
  ],
};

function metadataDecoded(v: number): unknown {
  const broker = (b: (typeof METADATA_RESPONSE.brokers)[number]) => ({ nodeId: b.nodeId, host: b.host, port: b.port, ...(v >= 1 ? { rack: b.rack } : {}) });
  const partition = (p: (typeof METADATA_RESPONSE.topics)[number]['partitions'][number]) => ({
    partitionErrorCode: p.errorCode,
    partitionId: p.partitionIndex,
    leader: p.leaderId,
    replicas: p.replicaNodes,
    isr: p.isrNodes,
    ...(v >= 5 ? { offlineReplicas: [] } : {}),
  });
  return {
    ...(v >= 3 ? throttle(v, 6) : {}),
    brokers: METADATA_RESPONSE.brokers.map(broker),
    ...(v >= 2 ? { clusterId: METADATA_RESPONSE.clusterId } : {}),
    ...(v >= 1 ? { controllerId: METADATA_RESPONSE.controllerId } : {}),
    topicMetadata: METADATA_RESPONSE.topics.map((t) => ({
      topicErrorCode: t.errorCode,
      topic: t.name,
      ...(v >= 1 ? { isInternal: t.isInternal } : {}),
      partitionMetadata: t.partitions.map(partition),
    })),
  };
}

const metadata: OracleCase = {
  codec: Metadata,
  kafkajs: 'metadata',
  label: 'named topics',
  args: () => ({ topics: ['orders', 'audit'], allowAutoTopicCreation: false }),
  request: (v) => ({ topics: ['orders', 'audit'], allowAutoTopicCreation: v < 4 }),
  response: () => METADATA_RESPONSE,
  decoded: metadataDecoded,
};

// kafkajs asks for every topic with an empty array at v0 and a null one from v1 on.
const metadataAllTopics: OracleCase = {
  codec: Metadata,
  kafkajs: 'metadata',
  label: 'every topic',
  args: () => ({ topics: [], allowAutoTopicCreation: true }),
  request: () => ({ topics: null, allowAutoTopicCreation: true }),
};

const PRODUCER_ID = 2 ** 40 + 5;

const produce: OracleCase = {
  codec: Produce,
  kafkajs: 'produce',
  label: 'idempotent batch',
  args: () => ({
    acks: -1,
    timeout: 30_000,
    transactionalId: 'txn-7',
    producerId: Long.fromValue(PRODUCER_ID),
    producerEpoch: 3,
    topicData: [
      {
        topic: 'orders',
        partitions: [
          {
            partition: 2,
            firstSequence: 17,
            messages: [
              { key: 'k0', value: 'first', timestamp: 1_700_000_000_000 },
              { key: null, value: 'second', timestamp: 1_700_000_000_001 },
            ],
          },
        ],
      },
    ],
  }),
  request: () => ({
    transactionalId: 'txn-7',
    acks: -1,
    timeoutMs: 30_000,
    topics: [
      {
        name: 'orders',
        partitions: [
          {
            index: 2,
            records: {
              producerId: String(PRODUCER_ID),
              producerEpoch: 3,
              firstSequence: 17,
              records: [
                { key: 'k0', value: 'first', timestamp: '1700000000000' },
                { key: null, value: 'second', timestamp: '1700000000001' },
              ],
            },
          },
        ],
      },
    ],
  }),
  // The records are checked by reading them back with kafkajs's record batch decoder: our view of the
  // request must be exactly the batch kafkajs wrote.
  async projectRequest(decoded) {
    const partition = decoded.topics[0].partitions[0];
    const batch = await kafkajsReadRecordBatch(partition.records);
    const records = batch.records.map((r) => ({ key: r.key === null ? null : r.key.toString(), value: r.value?.toString() ?? null, timestamp: r.timestamp }));
    const summary = { producerId: batch.producerId, producerEpoch: batch.producerEpoch, firstSequence: batch.firstSequence, records };
    return { ...decoded, topics: [{ name: decoded.topics[0].name, partitions: [{ index: partition.index, records: summary }] }] };
  },
  response: () => ({
    topics: [
      {
        name: 'orders',
        partitions: [
          { index: 2, errorCode: 0, baseOffset: 5_000_000_000, logAppendTimeMs: -1, logStartOffset: 4_000_000_000 },
          { index: 3, errorCode: 6, baseOffset: -1, logAppendTimeMs: 1_700_000_000_123, logStartOffset: -1 },
        ],
      },
    ],
  }),
  decoded: (v) => ({
    topics: [
      {
        topicName: 'orders',
        partitions: [
          { partition: 2, errorCode: 0, baseOffset: '5000000000', logAppendTime: '-1', ...(v >= 5 ? { logStartOffset: '4000000000' } : {}) },
          { partition: 3, errorCode: 6, baseOffset: '-1', logAppendTime: '1700000000123', ...(v >= 5 ? { logStartOffset: '-1' } : {}) },
        ],
      },
    ],
    ...throttle(v, 6),
  }),
};

const fetch: OracleCase = {
  codec: Fetch,
  kafkajs: 'fetch',
  label: 'two partitions',
  args: () => ({
    replicaId: -1,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    forgottenTopics: [{ topic: 'gone', partitions: [4, 5] }],
    rackId: 'rack-b',
    maxWaitTime: 500,
    minBytes: 1,
    maxBytes: 52_428_800,
    topics: [
      {
        topic: 'orders',
        partitions: [
          { partition: 2, currentLeaderEpoch: 9, fetchOffset: 5_000_000_000, logStartOffset: 12, maxBytes: 1_048_576 },
          { partition: 3, currentLeaderEpoch: 9, fetchOffset: 0, logStartOffset: 0, maxBytes: 65_536 },
        ],
      },
    ],
  }),
  request: (v) => ({
    replicaId: -1,
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: 52_428_800,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: 'orders',
        partitions: [
          { partition: 2, currentLeaderEpoch: v >= 9 ? 9 : -1, fetchOffset: 5_000_000_000, logStartOffset: v >= 5 ? 12 : -1, partitionMaxBytes: 1_048_576 },
          { partition: 3, currentLeaderEpoch: v >= 9 ? 9 : -1, fetchOffset: 0, logStartOffset: v >= 5 ? 0 : -1, partitionMaxBytes: 65_536 },
        ],
      },
    ],
  }),
  response: () => ({
    errorCode: 0,
    topics: [
      {
        topic: 'orders',
        partitions: [
          { partitionIndex: 2, errorCode: 0, highWatermark: 5_000_000_003, lastStableOffset: 5_000_000_002, logStartOffset: 12, records: FETCH_BATCHES },
          { partitionIndex: 3, errorCode: 1, highWatermark: -1, lastStableOffset: -1, logStartOffset: -1, records: [] },
        ],
      },
    ],
  }),
  decoded: (v) => {
    const partition = (index: number, errorCode: number, highWatermark: string, lastStableOffset: string, logStartOffset: string, messages: unknown[]) => ({
      partition: index,
      errorCode,
      highWatermark,
      lastStableOffset,
      ...(v >= 5 ? { lastStartOffset: logStartOffset } : {}),
      abortedTransactions: [],
      ...(v >= 11 ? { preferredReadReplica: -1 } : {}),
      messages,
    });
    const messages = [
      { offset: '5000000000', key: 'k0', value: 'a' },
      { offset: '5000000001', key: 'k1', value: 'bb' },
      { offset: '5000000002', key: 'k0', value: 'ccc' },
    ];
    return {
      ...throttle(v, 8),
      ...(v >= 7 ? { errorCode: 0, sessionId: 0 } : {}),
      responses: [
        {
          topicName: 'orders',
          partitions: [partition(2, 0, '5000000003', '5000000002', '12', messages), partition(3, 1, '-1', '-1', '-1', [])],
        },
      ],
    };
  },
  // kafkajs's messages carry their batch's context; offset, key and value show the batches arrived whole.
  projectDecoded: (decoded) => ({
    ...decoded,
    responses: decoded.responses.map((topic: any) => ({ // eslint-disable-line @typescript-eslint/no-explicit-any
      ...topic,
      partitions: topic.partitions.map((p: any) => ({ // eslint-disable-line @typescript-eslint/no-explicit-any
        ...p,
        messages: p.messages.map((m: any) => ({ offset: m.offset, key: m.key.toString(), value: m.value.toString() })), // eslint-disable-line @typescript-eslint/no-explicit-any
      })),
    })),
  }),
};

const listOffsets: OracleCase = {
  codec: ListOffsets,
  kafkajs: 'listOffsets',
  label: 'earliest and by time',
  args: () => ({
    replicaId: -1,
    isolationLevel: 1,
    topics: [{ topic: 'orders', partitions: [{ partition: 2, timestamp: -2 }, { partition: 3, timestamp: 1_700_000_000_000 }] }],
  }),
  request: (v) => ({
    replicaId: -1,
    isolationLevel: v >= 2 ? 1 : 0,
    topics: [
      {
        name: 'orders',
        partitions: [
          { partitionIndex: 2, currentLeaderEpoch: -1, timestamp: -2 },
          { partitionIndex: 3, currentLeaderEpoch: -1, timestamp: 1_700_000_000_000 },
        ],
      },
    ],
  }),
  response: () => ({
    topics: [
      {
        name: 'orders',
        partitions: [
          { partitionIndex: 2, errorCode: 0, timestamp: -1, offset: 5_000_000_000, leaderEpoch: 9 },
          { partitionIndex: 3, errorCode: 3, timestamp: -1, offset: -1, leaderEpoch: -1 },
        ],
      },
    ],
  }),
  decoded: (v) => ({
    ...(v >= 2 ? throttle(v, 3) : {}),
    responses: [
      {
        topic: 'orders',
        partitions: [
          { partition: 2, errorCode: 0, timestamp: '-1', offset: '5000000000' },
          { partition: 3, errorCode: 3, timestamp: '-1', offset: '-1' },
        ],
      },
    ],
  }),
};

const initProducerId: OracleCase = {
  codec: InitProducerId,
  kafkajs: 'initProducerId',
  label: 'idempotent',
  args: () => ({ transactionalId: null, transactionTimeout: 60_000 }),
  request: () => ({ transactionalId: null, transactionTimeoutMs: 60_000 }),
  response: () => ({ errorCode: 0, producerId: PRODUCER_ID, producerEpoch: 3 }),
  decoded: (v) => ({ ...throttle(v, 1), errorCode: 0, producerId: String(PRODUCER_ID), producerEpoch: 3 }),
};

const initProducerIdTransactional: OracleCase = {
  codec: InitProducerId,
  kafkajs: 'initProducerId',
  label: 'transactional, refused',
  args: () => ({ transactionalId: 'txn-7', transactionTimeout: 15_000 }),
  request: () => ({ transactionalId: 'txn-7', transactionTimeoutMs: 15_000 }),
  response: () => ({ errorCode: 53, producerId: -1, producerEpoch: -1 }),
  decoded: (v) => ({ ...throttle(v, 1), errorCode: 53, producerId: '-1', producerEpoch: -1 }),
};

export const DATA_CASES: readonly OracleCase[] = [apiVersions, metadata, metadataAllTopics, produce, fetch, listOffsets, initProducerId, initProducerIdTransactional];
