/**
 * CreateTopics, DeleteTopics, CreatePartitions and the config APIs (DescribeConfigs, AlterConfigs,
 * IncrementalAlterConfigs). Each topic or resource of a request is answered on its own: one bad entry
 * never fails the others (Kafka answers these per topic).
 *
 * validate_only checks what can be checked without writing (the name is free, the counts are legal,
 * the topic exists); the store checks config values only when it writes them.
 */
import { describeTopicConfigs, type Topic } from '../../index.js';
import type { AlterConfigsRequest, AlterConfigsResponse, ConfigResourceResult } from '../codec/apis/alter-configs.js';
import type { CreatePartitionsRequest, CreatePartitionsResponse } from '../codec/apis/create-partitions.js';
import type { CreatableTopic, CreateTopicsRequest, CreateTopicsResponse, TopicResult } from '../codec/apis/create-topics.js';
import type { DeleteTopicsRequest, DeleteTopicsResponse } from '../codec/apis/delete-topics.js';
import {
  CONFIG_SOURCE_DEFAULT,
  CONFIG_SOURCE_STATIC_BROKER,
  CONFIG_SOURCE_TOPIC,
  RESOURCE_TYPE_BROKER,
  RESOURCE_TYPE_TOPIC,
  type DescribeConfigsRequest,
  type DescribeConfigsResponse,
  type DescribeConfigsResult,
  type DescribedConfig,
} from '../codec/apis/describe-configs.js';
import {
  CONFIG_OPERATION_APPEND,
  CONFIG_OPERATION_DELETE,
  CONFIG_OPERATION_SET,
  CONFIG_OPERATION_SUBTRACT,
  type IncrementalAlterConfigsRequest,
} from '../codec/apis/incremental-alter-configs.js';
import { ErrorCode, errorCodeOf, KafkaError } from '../error-codes.js';
import { BROKER_SETTINGS } from './broker-settings.js';
import { requireTopic, type BrokerCore } from './broker-state.js';

/** Called after a topic is deleted from the store, with its id, so its records go too. */
export type TopicDataDropper = (topicId: string) => Promise<void>;

function failure(name: string, error: unknown): TopicResult {
  return { name, errorCode: errorCodeOf(error), errorMessage: error instanceof Error ? error.message : String(error) };
}

function duplicatesOf(names: readonly string[]): Set<string> {
  const seen = new Set<string>();
  const duplicated = new Set<string>();
  for (const name of names) (seen.has(name) ? duplicated : seen).add(name);
  return duplicated;
}

async function createOne(core: BrokerCore, topic: CreatableTopic, validateOnly: boolean): Promise<TopicResult> {
  const configs: Record<string, string> = {};
  for (const config of topic.configs) if (config.value !== null) configs[config.name] = config.value;
  const assignments = topic.assignments.length > 0 ? [...topic.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex).map((a) => [...a.brokerIds]) : undefined;
  if (assignments !== undefined && topic.numPartitions !== -1) {
    return failure(topic.name, new KafkaError('INVALID_REQUEST', 'give either num_partitions or assignments, not both'));
  }
  const partitions = assignments === undefined ? (topic.numPartitions === -1 ? core.settings['num.partitions'] : topic.numPartitions) : undefined;
  const replicationFactor = topic.replicationFactor === -1 ? core.settings['default.replication.factor'] : topic.replicationFactor;
  try {
    if (validateOnly) {
      if (core.store.getTopic(topic.name) !== undefined) throw new KafkaError('TOPIC_ALREADY_EXISTS', `topic ${topic.name} already exists`);
      if (partitions !== undefined && partitions < 1) throw new KafkaError('INVALID_PARTITIONS', `num_partitions must be at least 1, got ${partitions}`);
      return { name: topic.name, errorCode: ErrorCode.NONE, errorMessage: null };
    }
    await core.store.createTopic({ name: topic.name, ...(partitions === undefined ? {} : { partitions }), replicationFactor, configs, ...(assignments === undefined ? {} : { assignments }) });
    return { name: topic.name, errorCode: ErrorCode.NONE, errorMessage: null };
  } catch (error) {
    return failure(topic.name, error);
  }
}

export async function handleCreateTopics(core: BrokerCore, request: CreateTopicsRequest): Promise<CreateTopicsResponse> {
  const duplicated = duplicatesOf(request.topics.map((topic) => topic.name));
  const topics = await Promise.all(
    request.topics.map((topic) =>
      duplicated.has(topic.name)
        ? Promise.resolve(failure(topic.name, new KafkaError('INVALID_REQUEST', `topic ${topic.name} is named more than once`)))
        : createOne(core, topic, request.validateOnly),
    ),
  );
  return { topics };
}

export async function handleDeleteTopics(core: BrokerCore, request: DeleteTopicsRequest, dropData: TopicDataDropper): Promise<DeleteTopicsResponse> {
  const responses = await Promise.all(
    request.topicNames.map(async (name) => {
      const topic = core.store.getTopic(name);
      try {
        await core.store.deleteTopic(name);
        if (topic !== undefined) await dropData(topic.topicId);
        return { name, errorCode: ErrorCode.NONE };
      } catch (error) {
        return { name, errorCode: errorCodeOf(error) };
      }
    }),
  );
  return { responses };
}

export async function handleCreatePartitions(core: BrokerCore, request: CreatePartitionsRequest): Promise<CreatePartitionsResponse> {
  const results = await Promise.all(
    request.topics.map(async (entry) => {
      try {
        const topic = requireTopic(core, entry.name);
        if (request.validateOnly) {
          if (entry.count <= topic.partitions.length) {
            throw new KafkaError('INVALID_PARTITIONS', `topic ${entry.name} has ${topic.partitions.length} partitions; the count can only grow`);
          }
        } else {
          await core.store.createPartitions(entry.name, entry.count, entry.assignments === null ? undefined : entry.assignments.map((ids) => [...ids]));
        }
        return { name: entry.name, errorCode: ErrorCode.NONE, errorMessage: null };
      } catch (error) {
        return failure(entry.name, error);
      }
    }),
  );
  return { results };
}

function describeTopicResource(topic: Topic, keys: readonly string[] | null): DescribedConfig[] {
  return describeTopicConfigs(topic.configs)
    .filter((entry) => keys === null || keys.includes(entry.name))
    .map((entry) => ({
      name: entry.name,
      value: entry.value,
      readOnly: entry.readOnly,
      configSource: entry.isDefault ? CONFIG_SOURCE_DEFAULT : CONFIG_SOURCE_TOPIC,
      isSensitive: entry.sensitive,
    }));
}

function describeBrokerResource(core: BrokerCore, keys: readonly string[] | null): DescribedConfig[] {
  return Object.keys(BROKER_SETTINGS)
    .filter((name) => keys === null || keys.includes(name))
    .sort()
    .map((name) => ({
      name,
      value: String(core.settings[name as keyof typeof BROKER_SETTINGS]),
      readOnly: true,
      configSource: CONFIG_SOURCE_STATIC_BROKER,
      isSensitive: false,
    }));
}

export function handleDescribeConfigs(core: BrokerCore, request: DescribeConfigsRequest): Promise<DescribeConfigsResponse> {
  const results = request.resources.map((resource): DescribeConfigsResult => {
    const answer = { resourceType: resource.resourceType, resourceName: resource.resourceName };
    if (resource.resourceType === RESOURCE_TYPE_TOPIC) {
      const topic = core.store.getTopic(resource.resourceName);
      if (topic === undefined) return { ...answer, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `topic ${resource.resourceName} does not exist`, configs: [] };
      return { ...answer, errorCode: ErrorCode.NONE, errorMessage: null, configs: describeTopicResource(topic, resource.configurationKeys) };
    }
    if (resource.resourceType === RESOURCE_TYPE_BROKER && (resource.resourceName === '' || resource.resourceName === String(core.identity.nodeId))) {
      return { ...answer, errorCode: ErrorCode.NONE, errorMessage: null, configs: describeBrokerResource(core, resource.configurationKeys) };
    }
    return { ...answer, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `resource type ${resource.resourceType} ${resource.resourceName} is not served`, configs: [] };
  });
  return Promise.resolve({ results });
}

type ConfigChanges = { set: Record<string, string>; delete: string[] };

async function alterTopicResource(
  core: BrokerCore,
  resource: { resourceType: number; resourceName: string },
  validateOnly: boolean,
  changesFor: (topic: Topic) => ConfigChanges,
): Promise<ConfigResourceResult> {
  const answer = { resourceType: resource.resourceType, resourceName: resource.resourceName };
  try {
    if (resource.resourceType !== RESOURCE_TYPE_TOPIC) throw new KafkaError('INVALID_REQUEST', 'only topic configs can be altered; broker settings are static');
    const topic = requireTopic(core, resource.resourceName);
    const changes = changesFor(topic);
    if (!validateOnly) await core.store.alterTopicConfigs(topic.name, changes);
    return { ...answer, errorCode: ErrorCode.NONE, errorMessage: null };
  } catch (error) {
    return { ...answer, errorCode: errorCodeOf(error), errorMessage: error instanceof Error ? error.message : String(error) };
  }
}

/** AlterConfigs replaces the whole config: keys left out go back to their defaults. */
export async function handleAlterConfigs(core: BrokerCore, request: AlterConfigsRequest): Promise<AlterConfigsResponse> {
  const responses = await Promise.all(
    request.resources.map((resource) =>
      alterTopicResource(core, resource, request.validateOnly, (topic) => {
        const set: Record<string, string> = {};
        for (const config of resource.configs) if (config.value !== null) set[config.name] = config.value;
        return { set, delete: Object.keys(topic.configs).filter((name) => !Object.hasOwn(set, name)) };
      }),
    ),
  );
  return { responses };
}

function listValue(value: string | undefined): string[] {
  return value === undefined || value.length === 0 ? [] : value.split(',').map((item) => item.trim());
}

export async function handleIncrementalAlterConfigs(core: BrokerCore, request: IncrementalAlterConfigsRequest): Promise<AlterConfigsResponse> {
  const responses = await Promise.all(
    request.resources.map((resource) =>
      alterTopicResource(core, resource, request.validateOnly, (topic) => {
        const changes: ConfigChanges = { set: {}, delete: [] };
        const described = new Map(describeTopicConfigs(topic.configs).map((entry) => [entry.name, entry.value ?? undefined]));
        for (const config of resource.configs) {
          const current = changes.set[config.name] ?? topic.configs[config.name] ?? described.get(config.name);
          if (config.operation === CONFIG_OPERATION_DELETE) changes.delete.push(config.name);
          else if (config.value === null) throw new KafkaError('INVALID_CONFIG', `${config.name}: a value is required`);
          else if (config.operation === CONFIG_OPERATION_SET) changes.set[config.name] = config.value;
          else if (config.operation === CONFIG_OPERATION_APPEND) changes.set[config.name] = [...new Set([...listValue(current), ...listValue(config.value)])].join(',');
          else if (config.operation === CONFIG_OPERATION_SUBTRACT) {
            const removed = new Set(listValue(config.value));
            changes.set[config.name] = listValue(current).filter((item) => !removed.has(item)).join(',');
          } else throw new KafkaError('INVALID_REQUEST', `${config.name}: unknown config operation ${config.operation}`);
        }
        return changes;
      }),
    ),
  );
  return { responses };
}

