/**
 * Binds every served API to its handler, typed by the API's codec (a handler answers the response type
 * its codec encodes, or null for no response). A key served by the codec but bound to nothing here is a
 * startup error, so ApiVersions never advertises an API nobody answers. Every handler waits until the
 * broker is ready (its identity settled, its groups loaded) before it runs.
 */
import type { AnyApiCodec, ApiCodec } from '../codec/api.js';
import { SERVED_APIS } from '../codec/api-table.js';
import { AlterConfigs } from '../codec/apis/alter-configs.js';
import { ApiVersions } from '../codec/apis/api-versions.js';
import { CreatePartitions } from '../codec/apis/create-partitions.js';
import { CreateTopics } from '../codec/apis/create-topics.js';
import { DeleteGroups } from '../codec/apis/delete-groups.js';
import { DeleteTopics } from '../codec/apis/delete-topics.js';
import { DescribeConfigs } from '../codec/apis/describe-configs.js';
import { DescribeGroups } from '../codec/apis/describe-groups.js';
import { Fetch } from '../codec/apis/fetch.js';
import { FindCoordinator } from '../codec/apis/find-coordinator.js';
import { Heartbeat } from '../codec/apis/heartbeat.js';
import { IncrementalAlterConfigs } from '../codec/apis/incremental-alter-configs.js';
import { InitProducerId } from '../codec/apis/init-producer-id.js';
import { JoinGroup } from '../codec/apis/join-group.js';
import { LeaveGroup } from '../codec/apis/leave-group.js';
import { ListGroups } from '../codec/apis/list-groups.js';
import { ListOffsets } from '../codec/apis/list-offsets.js';
import { Metadata } from '../codec/apis/metadata.js';
import { OffsetCommit } from '../codec/apis/offset-commit.js';
import { OffsetDelete } from '../codec/apis/offset-delete.js';
import { OffsetFetch } from '../codec/apis/offset-fetch.js';
import { Produce } from '../codec/apis/produce.js';
import { SyncGroup } from '../codec/apis/sync-group.js';
import type { GroupCoordinator } from '../group-coordinator/group-coordinator.js';
import type { HandlerTable, RequestContext, RequestHandler } from '../server/connection.js';
import type { BrokerLogs } from './broker-logs.js';
import type { BrokerCore } from './broker-state.js';
import { handleApiVersions, handleFindCoordinator, handleMetadata } from './cluster-handlers.js';
import {
  handleDeleteGroups,
  handleDescribeGroups,
  handleHeartbeat,
  handleJoinGroup,
  handleLeaveGroup,
  handleListGroups,
  handleOffsetCommit,
  handleOffsetDelete,
  handleOffsetFetch,
  handleSyncGroup,
} from './group-handlers.js';
import { handleFetch, handleInitProducerId, handleListOffsets, handleProduce } from './record-handlers.js';
import {
  handleAlterConfigs,
  handleCreatePartitions,
  handleCreateTopics,
  handleDeleteTopics,
  handleDescribeConfigs,
  handleIncrementalAlterConfigs,
} from './topic-handlers.js';

export function buildHandlerTable(core: BrokerCore, logs: BrokerLogs, groups: GroupCoordinator, whenReady: Promise<void>): HandlerTable {
  const handlers = new Map<number, RequestHandler>();
  const serve = <Request, Response>(api: ApiCodec<Request, Response>, handler: (request: Request, context: RequestContext) => Promise<Response | null>): void => {
    handlers.set(api.apiKey, async (request, context) => {
      await whenReady;
      return handler(request as Request, context);
    });
  };
  serve(ApiVersions, () => handleApiVersions());
  serve(Metadata, (request) => handleMetadata(core, request));
  serve(FindCoordinator, (request) => handleFindCoordinator(core, request));
  serve(CreateTopics, (request) => handleCreateTopics(core, request));
  serve(DeleteTopics, (request) => handleDeleteTopics(core, request, (topicId) => logs.drop(topicId)));
  serve(CreatePartitions, (request) => handleCreatePartitions(core, request));
  serve(DescribeConfigs, (request) => handleDescribeConfigs(core, request));
  serve(AlterConfigs, (request) => handleAlterConfigs(core, request));
  serve(IncrementalAlterConfigs, (request) => handleIncrementalAlterConfigs(core, request));
  serve(Produce, (request) => handleProduce(core, logs, request));
  serve(Fetch, (request) => handleFetch(core, logs, request));
  serve(ListOffsets, (request) => handleListOffsets(core, logs, request));
  serve(InitProducerId, (request) => handleInitProducerId(core, request));
  serve(JoinGroup, (request, context) => handleJoinGroup(groups, request, context));
  serve(SyncGroup, (request, context) => handleSyncGroup(groups, request, context));
  serve(Heartbeat, (request) => handleHeartbeat(groups, request));
  serve(LeaveGroup, (request, context) => handleLeaveGroup(groups, request, context));
  serve(DescribeGroups, (request) => handleDescribeGroups(groups, request));
  serve(ListGroups, () => handleListGroups(groups));
  serve(DeleteGroups, (request) => handleDeleteGroups(groups, request));
  serve(OffsetCommit, (request) => handleOffsetCommit(core, groups, request));
  serve(OffsetFetch, (request) => handleOffsetFetch(core, request));
  serve(OffsetDelete, (request) => handleOffsetDelete(core, request));
  const missing = SERVED_APIS.filter((api: AnyApiCodec) => !handlers.has(api.apiKey)).map((api) => api.name);
  if (missing.length > 0) throw new Error(`no handler for ${missing.join(', ')}`);
  return handlers;
}
