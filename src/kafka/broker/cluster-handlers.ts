/**
 * ApiVersions, Metadata and FindCoordinator: what a client asks before anything else.
 *
 * Metadata with auto.create.topics.enable creates an unknown, legally named topic with num.partitions
 * and default.replication.factor (as Kafka does, so `kcat -P -t new-topic` just works) and answers it
 * at once: this node leads every partition it creates.
 */
import { MetaLogError, type Topic } from '../../index.js';
import type { ApiVersionsResponse } from '../codec/apis/api-versions.js';
import type { FindCoordinatorRequest, FindCoordinatorResponse } from '../codec/apis/find-coordinator.js';
import type { MetadataRequest, MetadataResponse, MetadataTopic } from '../codec/apis/metadata.js';
import { ErrorCode, errorCodeOf } from '../error-codes.js';
import { apiVersionsTable } from '../server/api-versions-table.js';
import type { BrokerCore } from './broker-state.js';

export function handleApiVersions(): Promise<ApiVersionsResponse> {
  return Promise.resolve({ errorCode: ErrorCode.NONE, apiKeys: apiVersionsTable() });
}

function describeTopic(topic: Topic): MetadataTopic {
  return {
    errorCode: ErrorCode.NONE,
    name: topic.name,
    isInternal: false,
    partitions: topic.partitions.map((partition) => ({
      errorCode: partition.leader === -1 ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
      partitionIndex: partition.partition,
      leaderId: partition.leader,
      replicaNodes: partition.replicas,
      isrNodes: partition.isr,
    })),
  };
}

async function topicOrCreated(core: BrokerCore, name: string, allowAutoTopicCreation: boolean): Promise<MetadataTopic> {
  const existing = core.store.getTopic(name);
  if (existing !== undefined) return describeTopic(existing);
  const unknown = { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, isInternal: false, partitions: [] };
  if (!allowAutoTopicCreation || !core.settings['auto.create.topics.enable']) return unknown;
  try {
    return describeTopic(
      await core.store.createTopic({ name, partitions: core.settings['num.partitions'], replicationFactor: core.settings['default.replication.factor'] }),
    );
  } catch (error) {
    // Two clients asking for the same new topic at once: the second finds it made.
    if (error instanceof MetaLogError && error.code === 'TOPIC_ALREADY_EXISTS') {
      const made = core.store.getTopic(name);
      if (made !== undefined) return describeTopic(made);
    }
    return { ...unknown, errorCode: errorCodeOf(error) };
  }
}

export async function handleMetadata(core: BrokerCore, request: MetadataRequest): Promise<MetadataResponse> {
  const topics =
    request.topics === null
      ? core.store.listTopics().map(describeTopic)
      : await Promise.all(request.topics.map((name) => topicOrCreated(core, name, request.allowAutoTopicCreation)));
  const { nodeId, host, port, clusterId } = core.identity;
  return { brokers: [{ nodeId, host, port, rack: null }], clusterId, controllerId: nodeId, topics };
}

/** Key types of FindCoordinator: 0 a consumer group; 1 a transactional id (transactions are not served). */
const KEY_TYPE_GROUP = 0;

export function handleFindCoordinator(core: BrokerCore, request: FindCoordinatorRequest): Promise<FindCoordinatorResponse> {
  const { nodeId, host, port } = core.identity;
  if (request.keyType !== KEY_TYPE_GROUP) {
    return Promise.resolve({ errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, errorMessage: 'transactions are not served', nodeId: -1, host: '', port: -1 });
  }
  if (request.key.length === 0) {
    return Promise.resolve({ errorCode: ErrorCode.INVALID_GROUP_ID, errorMessage: 'empty group id', nodeId: -1, host: '', port: -1 });
  }
  return Promise.resolve({ errorCode: ErrorCode.NONE, errorMessage: null, nodeId, host, port });
}
