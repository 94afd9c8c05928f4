/**
 * kafkajs oracle cases for topic and config administration: CreateTopics, DeleteTopics,
 * CreatePartitions, DescribeConfigs, AlterConfigs.
 */
import { AlterConfigs } from '../../../../src/kafka/codec/apis/alter-configs.js';
import { CreatePartitions } from '../../../../src/kafka/codec/apis/create-partitions.js';
import { CreateTopics } from '../../../../src/kafka/codec/apis/create-topics.js';
import { DeleteTopics } from '../../../../src/kafka/codec/apis/delete-topics.js';
import { DescribeConfigs } from '../../../../src/kafka/codec/apis/describe-configs.js';
import { throttle, type OracleCase } from './kafkajs-oracle.js';

// kafkajs sorts topic results by name; the responses below are written unsorted to show it is kafkajs
// that sorts, not the order of our bytes that happens to match.

const createTopics: OracleCase = {
  codec: CreateTopics,
  kafkajs: 'createTopics',
  label: 'with assignments and configs',
  args: () => ({
    topics: [
      {
        topic: 'orders',
        numPartitions: 6,
        replicationFactor: 1,
        replicaAssignment: [{ partition: 0, replicas: [7, 8] }],
        configEntries: [
          { name: 'cleanup.policy', value: 'compact' },
          { name: 'retention.ms', value: null },
        ],
      },
      { topic: 'audit' },
    ],
    validateOnly: true,
    timeout: 15_000,
  }),
  request: (v) => ({
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
    validateOnly: v >= 1,
  }),
  response: () => ({
    topics: [
      { name: 'orders', errorCode: 0, errorMessage: null },
      { name: 'audit', errorCode: 36, errorMessage: "Topic 'audit' already exists." },
    ],
  }),
  decoded: (v) => ({
    ...(v >= 2 ? throttle(v, 3) : {}),
    topicErrors: [
      { topic: 'audit', errorCode: 36, ...(v >= 1 ? { errorMessage: "Topic 'audit' already exists." } : {}) },
      { topic: 'orders', errorCode: 0, ...(v >= 1 ? { errorMessage: null } : {}) },
    ],
  }),
};

const deleteTopics: OracleCase = {
  codec: DeleteTopics,
  kafkajs: 'deleteTopics',
  label: 'one unknown',
  args: () => ({ topics: ['orders', 'audit'], timeout: 15_000 }),
  request: () => ({ topicNames: ['orders', 'audit'], timeoutMs: 15_000 }),
  response: () => ({
    responses: [
      { name: 'orders', errorCode: 0 },
      { name: 'audit', errorCode: 3 },
    ],
  }),
  decoded: (v) => ({
    ...(v >= 1 ? throttle(v, 1) : {}),
    topicErrors: [
      { topic: 'audit', errorCode: 3 },
      { topic: 'orders', errorCode: 0 },
    ],
  }),
};

const createPartitions: OracleCase = {
  codec: CreatePartitions,
  kafkajs: 'createPartitions',
  label: 'with and without assignments',
  args: () => ({
    topicPartitions: [
      { topic: 'orders', count: 8, assignments: [[7], [8, 7]] },
      { topic: 'audit', count: 3 },
    ],
    validateOnly: true,
    timeout: 15_000,
  }),
  request: () => ({
    topics: [
      { name: 'orders', count: 8, assignments: [[7], [8, 7]] },
      { name: 'audit', count: 3, assignments: null },
    ],
    timeoutMs: 15_000,
    validateOnly: true,
  }),
  response: () => ({
    results: [
      { name: 'orders', errorCode: 0, errorMessage: null },
      { name: 'audit', errorCode: 37, errorMessage: 'Topic already has 3 partitions.' },
    ],
  }),
  decoded: (v) => ({
    ...throttle(v, 1),
    topicErrors: [
      { topic: 'audit', errorCode: 37, errorMessage: 'Topic already has 3 partitions.' },
      { topic: 'orders', errorCode: 0, errorMessage: null },
    ],
  }),
};

const describeConfigs: OracleCase = {
  codec: DescribeConfigs,
  kafkajs: 'describeConfigs',
  label: 'topic and broker',
  args: () => ({
    resources: [
      { type: 2, name: 'orders', configNames: ['cleanup.policy', 'retention.ms'] },
      { type: 4, name: '7' },
    ],
    includeSynonyms: true,
  }),
  request: (v) => ({
    resources: [
      { resourceType: 2, resourceName: 'orders', configurationKeys: ['cleanup.policy', 'retention.ms'] },
      { resourceType: 4, resourceName: '7', configurationKeys: null },
    ],
    includeSynonyms: v >= 1,
  }),
  response: () => ({
    results: [
      {
        errorCode: 0,
        errorMessage: null,
        resourceType: 2,
        resourceName: 'orders',
        configs: [
          { name: 'cleanup.policy', value: 'compact', readOnly: false, configSource: 1, isSensitive: false },
          { name: 'retention.ms', value: '604800000', readOnly: false, configSource: 5, isSensitive: false },
        ],
      },
      {
        errorCode: 0,
        errorMessage: null,
        resourceType: 4,
        resourceName: '7',
        configs: [{ name: 'sasl.jaas.config', value: null, readOnly: true, configSource: 4, isSensitive: true }],
      },
      { errorCode: 3, errorMessage: 'no such topic', resourceType: 2, resourceName: 'gone', configs: [] },
    ],
  }),
  // At v0 kafkajs derives the source from is_default and the resource type; from v1 it reads it.
  decoded: (v) => {
    const entry = (configName: string, configValue: string | null, readOnly: boolean, configSource: number, isSensitive: boolean) => ({
      configName,
      configValue,
      readOnly,
      isDefault: configSource === 5,
      configSource,
      isSensitive,
      ...(v >= 1 ? { configSynonyms: [] } : {}),
    });
    return {
      ...throttle(v, 2),
      resources: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: 'orders',
          configEntries: [entry('cleanup.policy', 'compact', false, 1, false), entry('retention.ms', '604800000', false, 5, false)],
        },
        { errorCode: 0, errorMessage: null, resourceType: 4, resourceName: '7', configEntries: [entry('sasl.jaas.config', null, true, 4, true)] },
        { errorCode: 3, errorMessage: 'no such topic', resourceType: 2, resourceName: 'gone', configEntries: [] },
      ],
    };
  },
};

const alterConfigs: OracleCase = {
  codec: AlterConfigs,
  kafkajs: 'alterConfigs',
  label: 'topic set, broker refused',
  args: () => ({
    resources: [
      {
        type: 2,
        name: 'orders',
        configEntries: [
          { name: 'retention.ms', value: '1000' },
          { name: 'cleanup.policy', value: null },
        ],
      },
      { type: 4, name: '7', configEntries: [] },
    ],
    validateOnly: true,
  }),
  request: () => ({
    resources: [
      {
        resourceType: 2,
        resourceName: 'orders',
        configs: [
          { name: 'retention.ms', value: '1000' },
          { name: 'cleanup.policy', value: null },
        ],
      },
      { resourceType: 4, resourceName: '7', configs: [] },
    ],
    validateOnly: true,
  }),
  response: () => ({
    responses: [
      { errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 'orders' },
      { errorCode: 40, errorMessage: 'read-only', resourceType: 4, resourceName: '7' },
    ],
  }),
  decoded: (v) => ({
    ...throttle(v, 1),
    resources: [
      { errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 'orders' },
      { errorCode: 40, errorMessage: 'read-only', resourceType: 4, resourceName: '7' },
    ],
  }),
};

export const ADMIN_CASES: readonly OracleCase[] = [createTopics, deleteTopics, createPartitions, describeConfigs, alterConfigs];
