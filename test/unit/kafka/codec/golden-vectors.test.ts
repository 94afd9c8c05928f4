/**
 * Golden bytes for the versions kafkajs does not implement, written out by hand from Kafka's message
 * specs (clients/src/main/resources/common/message/*.json): ListOffsets v4–v5, OffsetCommit v6–v7,
 * OffsetFetch v5, CreateTopics v4, DeleteTopics v2–v3, IncrementalAlterConfigs v0, OffsetDelete v0,
 * ApiVersions v3.
 *
 * How: each request vector must decode, to its last byte, into the object beside it; each response
 * object must encode to exactly the bytes beside it. Lengths, counts and numbers are written by hand;
 * only the characters of strings are turned into hex by `ascii`. A coverage test checks that every
 * served version kafkajs lacks has a vector here.
 */
import test from 'ava';
import type { AnyApiCodec } from '../../../../src/kafka/codec/api.js';
import { SERVED_APIS } from '../../../../src/kafka/codec/api-table.js';
import { ApiVersions } from '../../../../src/kafka/codec/apis/api-versions.js';
import { CreateTopics } from '../../../../src/kafka/codec/apis/create-topics.js';
import { DeleteTopics } from '../../../../src/kafka/codec/apis/delete-topics.js';
import { IncrementalAlterConfigs } from '../../../../src/kafka/codec/apis/incremental-alter-configs.js';
import { ListOffsets } from '../../../../src/kafka/codec/apis/list-offsets.js';
import { OffsetCommit } from '../../../../src/kafka/codec/apis/offset-commit.js';
import { OffsetDelete } from '../../../../src/kafka/codec/apis/offset-delete.js';
import { OffsetFetch } from '../../../../src/kafka/codec/apis/offset-fetch.js';
import { readRequestHeader } from '../../../../src/kafka/codec/request-header.js';
import { WireReader } from '../../../../src/kafka/codec/wire-reader.js';
import { encodeResponseBody, kafkajsVersions } from './kafkajs-oracle.js';

/** Bytes from hex strings, spaces allowed. */
function hex(...parts: string[]): Buffer {
  return Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex');
}

/** A string's characters as hex (its length prefix is written beside it by hand). */
function ascii(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

const ORDERS = `0006 ${ascii('orders')}`;
const AUDIT = `0005 ${ascii('audit')}`;
const GROUP = `0002 ${ascii('g1')}`;
const OFFSET_5E9 = '000000012a05f200';
const LATEST = 'ffffffffffffffff';

interface RequestVector {
  readonly codec: AnyApiCodec;
  readonly versions: readonly number[];
  readonly label: string;
  readonly bytes: Buffer;
  readonly decoded: unknown;
}

interface ResponseVector {
  readonly codec: AnyApiCodec;
  readonly versions: readonly number[];
  readonly label: string;
  readonly response: unknown;
  readonly bytes: Buffer;
}

const REQUESTS: readonly RequestVector[] = [
  {
    codec: ListOffsets,
    versions: [4, 5],
    label: 'latest with a leader epoch, earliest without',
    bytes: hex(
      'ffffffff', // replica_id -1
      '01', // isolation_level READ_COMMITTED
      '00000001', // topics: 1
      ORDERS,
      '00000002', // partitions: 2
      '00000002 00000009', LATEST, // partition 2, current_leader_epoch 9, timestamp -1
      '00000003 ffffffff fffffffffffffffe', // partition 3, current_leader_epoch -1, timestamp -2
    ),
    decoded: {
      replicaId: -1,
      isolationLevel: 1,
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 2, currentLeaderEpoch: 9, timestamp: -1 },
            { partitionIndex: 3, currentLeaderEpoch: -1, timestamp: -2 },
          ],
        },
      ],
    },
  },
  {
    codec: OffsetCommit,
    versions: [6],
    label: 'with leader epochs',
    bytes: hex(
      GROUP,
      '0000000c', // generation_id 12
      `0002 ${ascii('m1')}`, // member_id
      '00000001', // topics: 1
      ORDERS,
      '00000002', // partitions: 2
      `00000002 ${OFFSET_5E9} 00000009 0004 ${ascii('meta')}`, // index, committed_offset, committed_leader_epoch, metadata
      '00000003 0000000000000000 ffffffff ffff', // index 3, offset 0, epoch -1, metadata null
    ),
    decoded: {
      groupId: 'g1',
      generationId: 12,
      memberId: 'm1',
      groupInstanceId: null,
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 2, committedOffset: 5_000_000_000, committedLeaderEpoch: 9, committedMetadata: 'meta' },
            { partitionIndex: 3, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: null },
          ],
        },
      ],
    },
  },
  {
    codec: OffsetCommit,
    versions: [7],
    label: 'a static member',
    bytes: hex(
      GROUP,
      '0000000c', // generation_id 12
      `0002 ${ascii('m1')}`, // member_id
      `0002 ${ascii('s1')}`, // group_instance_id
      '00000001', // topics: 1
      ORDERS,
      '00000001', // partitions: 1
      `00000002 ${OFFSET_5E9} 00000009 ffff`, // index 2, offset, epoch 9, metadata null
    ),
    decoded: {
      groupId: 'g1',
      generationId: 12,
      memberId: 'm1',
      groupInstanceId: 's1',
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 2, committedOffset: 5_000_000_000, committedLeaderEpoch: 9, committedMetadata: null }] }],
    },
  },
  {
    codec: OffsetFetch,
    versions: [5],
    label: 'named partitions',
    bytes: hex(GROUP, '00000001', ORDERS, '00000002 00000002 00000003'),
    decoded: { groupId: 'g1', topics: [{ name: 'orders', partitionIndexes: [2, 3] }] },
  },
  {
    codec: OffsetFetch,
    versions: [5],
    label: 'every committed offset (null topics)',
    bytes: hex(GROUP, 'ffffffff'),
    decoded: { groupId: 'g1', topics: null },
  },
  {
    codec: CreateTopics,
    versions: [4],
    label: 'explicit and default sizes',
    bytes: hex(
      '00000002', // topics: 2
      ORDERS,
      '00000006 0001', // num_partitions 6, replication_factor 1
      '00000001 00000000 00000002 00000007 00000008', // assignments: partition 0 on brokers [7, 8]
      '00000002', // configs: 2
      `000e ${ascii('cleanup.policy')} 0007 ${ascii('compact')}`,
      `000c ${ascii('retention.ms')} ffff`, // value null
      AUDIT,
      'ffffffff ffff 00000000 00000000', // defaults (-1, -1), no assignments, no configs
      '00003a98', // timeout_ms 15000
      '01', // validate_only
    ),
    decoded: {
      topics: [
        {
          name: 'orders',
          numPartitions: 6,
          replicationFactor: 1,
          assignments: [{ partitionIndex: 0, brokerIds: [7, 8] }],
          configs: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'retention.ms', value: null },
          ],
        },
        { name: 'audit', numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] },
      ],
      timeoutMs: 15_000,
      validateOnly: true,
    },
  },
  {
    codec: DeleteTopics,
    versions: [2, 3],
    label: 'two topics',
    bytes: hex('00000002', ORDERS, AUDIT, '00003a98'),
    decoded: { topicNames: ['orders', 'audit'], timeoutMs: 15_000 },
  },
  {
    codec: IncrementalAlterConfigs,
    versions: [0],
    label: 'set and delete on a topic, nothing on a broker',
    bytes: hex(
      '00000002', // resources: 2
      '02', ORDERS, // resource_type TOPIC, resource_name
      '00000002', // configs: 2
      `000c ${ascii('retention.ms')} 00 0004 ${ascii('1000')}`, // SET retention.ms=1000
      `000e ${ascii('cleanup.policy')} 01 ffff`, // DELETE cleanup.policy
      `04 0001 ${ascii('7')} 00000000`, // resource_type BROKER, "7", no configs
      '01', // validate_only
    ),
    decoded: {
      resources: [
        {
          resourceType: 2,
          resourceName: 'orders',
          configs: [
            { name: 'retention.ms', operation: 0, value: '1000' },
            { name: 'cleanup.policy', operation: 1, value: null },
          ],
        },
        { resourceType: 4, resourceName: '7', configs: [] },
      ],
      validateOnly: true,
    },
  },
  {
    codec: OffsetDelete,
    versions: [0],
    label: 'two partitions',
    bytes: hex(GROUP, '00000001', ORDERS, '00000002 00000002 00000003'),
    decoded: { groupId: 'g1', topics: [{ name: 'orders', partitionIndexes: [2, 3] }] },
  },
  {
    codec: ApiVersions,
    versions: [3],
    label: 'librdkafka 2.0.2',
    bytes: hex(`0b ${ascii('librdkafka')}`, `06 ${ascii('2.0.2')}`, '00'),
    decoded: { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' },
  },
  {
    codec: ApiVersions,
    versions: [3],
    label: 'with a tagged field this broker does not know',
    bytes: hex(`0b ${ascii('librdkafka')}`, `06 ${ascii('2.0.2')}`, '01 05 02 abcd'),
    decoded: { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' },
  },
];

const RESPONSES: readonly ResponseVector[] = [
  {
    codec: ListOffsets,
    versions: [4, 5],
    label: 'an offset and a fenced epoch',
    response: {
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 2, errorCode: 0, timestamp: -1, offset: 5_000_000_000, leaderEpoch: 9 },
            { partitionIndex: 3, errorCode: 74, timestamp: -1, offset: -1, leaderEpoch: -1 },
          ],
        },
      ],
    },
    bytes: hex(
      '00000000', // throttle_time_ms
      '00000001', // topics: 1
      ORDERS,
      '00000002', // partitions: 2
      `00000002 0000 ${LATEST} ${OFFSET_5E9} 00000009`, // index, error, timestamp, offset, leader_epoch
      `00000003 004a ${LATEST} ${LATEST} ffffffff`, // FENCED_LEADER_EPOCH
    ),
  },
  {
    codec: OffsetCommit,
    versions: [6, 7],
    label: 'one committed, one refused',
    response: {
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 2, errorCode: 0 },
            { partitionIndex: 3, errorCode: 22 },
          ],
        },
      ],
    },
    bytes: hex('00000000', '00000001', ORDERS, '00000002', '00000002 0000', '00000003 0016'),
  },
  {
    codec: OffsetFetch,
    versions: [5],
    label: 'with leader epochs and a group error',
    response: {
      errorCode: 16,
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 2, committedOffset: 5_000_000_000, committedLeaderEpoch: 9, metadata: 'meta', errorCode: 0 },
            { partitionIndex: 3, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
          ],
        },
      ],
    },
    bytes: hex(
      '00000000', // throttle_time_ms
      '00000001', // topics: 1
      ORDERS,
      '00000002', // partitions: 2
      `00000002 ${OFFSET_5E9} 00000009 0004 ${ascii('meta')} 0000`, // index, offset, epoch, metadata, error
      `00000003 ${LATEST} ffffffff 0000 0000`, // nothing committed
      '0010', // error_code NOT_COORDINATOR
    ),
  },
  {
    codec: CreateTopics,
    versions: [4],
    label: 'one created, one existing',
    response: {
      topics: [
        { name: 'orders', errorCode: 0, errorMessage: null },
        { name: 'audit', errorCode: 36, errorMessage: 'exists' },
      ],
    },
    bytes: hex('00000000', '00000002', ORDERS, '0000 ffff', AUDIT, `0024 0006 ${ascii('exists')}`),
  },
  {
    codec: DeleteTopics,
    versions: [2, 3],
    label: 'one deleted, one unknown',
    response: {
      responses: [
        { name: 'orders', errorCode: 0 },
        { name: 'audit', errorCode: 3 },
      ],
    },
    bytes: hex('00000000', '00000002', ORDERS, '0000', AUDIT, '0003'),
  },
  {
    codec: IncrementalAlterConfigs,
    versions: [0],
    label: 'one applied, one refused',
    response: {
      responses: [
        { errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 'orders' },
        { errorCode: 40, errorMessage: 'read-only', resourceType: 4, resourceName: '7' },
      ],
    },
    bytes: hex('00000000', '00000002', '0000 ffff 02', ORDERS, `0028 0009 ${ascii('read-only')} 04 0001 ${ascii('7')}`),
  },
  {
    codec: OffsetDelete,
    versions: [0],
    label: 'one deleted, one subscribed',
    response: {
      errorCode: 0,
      topics: [
        {
          name: 'orders',
          partitions: [
            { partitionIndex: 2, errorCode: 0 },
            { partitionIndex: 3, errorCode: 86 },
          ],
        },
      ],
    },
    bytes: hex('0000', '00000000', '00000001', ORDERS, '00000002', '00000002 0000', '00000003 0056'),
  },
  {
    codec: ApiVersions,
    versions: [3],
    label: 'three APIs',
    response: {
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, minVersion: 3, maxVersion: 7 },
        { apiKey: 18, minVersion: 0, maxVersion: 3 },
        { apiKey: 47, minVersion: 0, maxVersion: 0 },
      ],
    },
    bytes: hex(
      '0000', // error_code
      '04', // api_keys: COMPACT_ARRAY of 3
      '0000 0003 0007 00', // Produce 3-7, no tagged fields
      '0012 0000 0003 00', // ApiVersions 0-3
      '002f 0000 0000 00', // OffsetDelete 0-0
      '00000000', // throttle_time_ms
      '00', // no tagged fields
    ),
  },
];

/** kafkajs's directory for each served API; null for the two it does not implement at all. */
const KAFKAJS_DIRECTORY: Record<string, string | null> = {
  Produce: 'produce',
  Fetch: 'fetch',
  ListOffsets: 'listOffsets',
  Metadata: 'metadata',
  OffsetCommit: 'offsetCommit',
  OffsetFetch: 'offsetFetch',
  FindCoordinator: 'findCoordinator',
  JoinGroup: 'joinGroup',
  Heartbeat: 'heartbeat',
  LeaveGroup: 'leaveGroup',
  SyncGroup: 'syncGroup',
  DescribeGroups: 'describeGroups',
  ListGroups: 'listGroups',
  ApiVersions: 'apiVersions',
  CreateTopics: 'createTopics',
  DeleteTopics: 'deleteTopics',
  InitProducerId: 'initProducerId',
  DescribeConfigs: 'describeConfigs',
  AlterConfigs: 'alterConfigs',
  CreatePartitions: 'createPartitions',
  DeleteGroups: 'deleteGroups',
  IncrementalAlterConfigs: null,
  OffsetDelete: null,
};

test('every served version kafkajs lacks has a request and a response vector', (t) => {
  const missing: string[] = [];
  for (const api of SERVED_APIS) {
    t.true(api.name in KAFKAJS_DIRECTORY, `${api.name} is in the directory table`);
    const directory = KAFKAJS_DIRECTORY[api.name];
    const kafkajsHas = directory === null || directory === undefined ? [] : kafkajsVersions(directory);
    for (let version = api.minVersion; version <= api.maxVersion; version++) {
      if (kafkajsHas.includes(version)) continue;
      if (!REQUESTS.some((v) => v.codec === api && v.versions.includes(version))) missing.push(`${api.name} v${version} request`);
      if (!RESPONSES.some((v) => v.codec === api && v.versions.includes(version))) missing.push(`${api.name} v${version} response`);
    }
  }
  t.deepEqual(missing, []);
});

for (const vector of REQUESTS) {
  for (const version of vector.versions) {
    test(`${vector.codec.name} v${version} request (${vector.label}) decodes from its golden bytes`, (t) => {
      const reader = new WireReader(vector.bytes);
      t.deepEqual(vector.codec.decodeRequest(reader, version), vector.decoded);
      reader.expectEnd(`${vector.codec.name} v${version}`);
    });
  }
}

for (const vector of RESPONSES) {
  for (const version of vector.versions) {
    test(`${vector.codec.name} v${version} response (${vector.label}) encodes to its golden bytes`, (t) => {
      t.deepEqual(encodeResponseBody(vector.codec, version, vector.response).toString('hex'), vector.bytes.toString('hex'));
    });
  }
}

test('ApiVersions v3 as librdkafka frames it: header v2 with its tagged fields, then the body', (t) => {
  const frame = hex(
    '00000024', // size: 36
    '0012 0003', // api_key ApiVersions, api_version 3
    '00000001', // correlation_id
    `0007 ${ascii('rdkafka')}`, // client_id: still a STRING with an INT16 length in header v2
    '00', // header tagged fields
    `0b ${ascii('librdkafka')} 06 ${ascii('2.0.2')} 00`, // body
  );
  t.is(frame.readInt32BE(0), frame.length - 4);
  const reader = new WireReader(frame, 4);
  t.deepEqual(readRequestHeader(reader), { apiKey: 18, apiVersion: 3, correlationId: 1, clientId: 'rdkafka' });
  reader.skipTaggedFields();
  t.deepEqual(ApiVersions.decodeRequest(reader, 3), { clientSoftwareName: 'librdkafka', clientSoftwareVersion: '2.0.2' });
  reader.expectEnd('ApiVersions v3');
});
