/**
 * Every API this broker serves, by key. The ApiVersions answer is made from this table, and a request
 * whose key or version is not in it closes its connection (what Kafka does), except ApiVersions itself.
 *
 * The ranges start low enough for clients that never send ApiVersions and assume a Kafka 1.0 broker
 * (Produce v3, Fetch v4–v6, Metadata v0–v5) and for clients that pick the highest common version.
 */
import type { AnyApiCodec } from './api.js';
import { AlterConfigs } from './apis/alter-configs.js';
import { ApiVersions } from './apis/api-versions.js';
import { CreatePartitions } from './apis/create-partitions.js';
import { CreateTopics } from './apis/create-topics.js';
import { DeleteGroups } from './apis/delete-groups.js';
import { DeleteTopics } from './apis/delete-topics.js';
import { DescribeConfigs } from './apis/describe-configs.js';
import { DescribeGroups } from './apis/describe-groups.js';
import { Fetch } from './apis/fetch.js';
import { FindCoordinator } from './apis/find-coordinator.js';
import { Heartbeat } from './apis/heartbeat.js';
import { IncrementalAlterConfigs } from './apis/incremental-alter-configs.js';
import { InitProducerId } from './apis/init-producer-id.js';
import { JoinGroup } from './apis/join-group.js';
import { LeaveGroup } from './apis/leave-group.js';
import { ListGroups } from './apis/list-groups.js';
import { ListOffsets } from './apis/list-offsets.js';
import { Metadata } from './apis/metadata.js';
import { OffsetCommit } from './apis/offset-commit.js';
import { OffsetDelete } from './apis/offset-delete.js';
import { OffsetFetch } from './apis/offset-fetch.js';
import { Produce } from './apis/produce.js';
import { SyncGroup } from './apis/sync-group.js';

export const SERVED_APIS: readonly AnyApiCodec[] = [
  Produce,
  Fetch,
  ListOffsets,
  Metadata,
  OffsetCommit,
  OffsetFetch,
  FindCoordinator,
  JoinGroup,
  Heartbeat,
  LeaveGroup,
  SyncGroup,
  DescribeGroups,
  ListGroups,
  ApiVersions,
  CreateTopics,
  DeleteTopics,
  InitProducerId,
  DescribeConfigs,
  AlterConfigs,
  CreatePartitions,
  DeleteGroups,
  IncrementalAlterConfigs,
  OffsetDelete,
];

const BY_KEY = new Map(SERVED_APIS.map((api) => [api.apiKey, api]));

/** The codec of `apiKey`, or undefined when this broker does not serve it. */
export function apiCodecOf(apiKey: number): AnyApiCodec | undefined {
  return BY_KEY.get(apiKey);
}
