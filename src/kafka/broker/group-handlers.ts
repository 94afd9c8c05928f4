/**
 * The group APIs: the classic protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) and the group
 * listings go to the coordinator; committed offsets (OffsetCommit, OffsetFetch, OffsetDelete) go to the
 * store, after the coordinator has checked a commit's member and generation.
 *
 * OffsetCommit is answered per partition: the store applies the valid entries in one event and refuses
 * the others each with its own code (an unknown partition, metadata too large); a refusal of the whole
 * commit (member, generation, a store that cannot write) is every partition's code.
 */
import type { GroupCoordinator } from '../group-coordinator/group-coordinator.js';
import type { DeleteGroupsRequest, DeleteGroupsResponse } from '../codec/apis/delete-groups.js';
import type { DescribeGroupsRequest, DescribeGroupsResponse } from '../codec/apis/describe-groups.js';
import type { HeartbeatRequest, HeartbeatResponse } from '../codec/apis/heartbeat.js';
import type { JoinGroupRequest, JoinGroupResponse } from '../codec/apis/join-group.js';
import type { LeaveGroupRequest, LeaveGroupResponse } from '../codec/apis/leave-group.js';
import type { ListGroupsResponse } from '../codec/apis/list-groups.js';
import type { OffsetCommitRequest, OffsetCommitResponse } from '../codec/apis/offset-commit.js';
import type { OffsetDeleteRequest, OffsetDeleteResponse } from '../codec/apis/offset-delete.js';
import type { OffsetFetchRequest, OffsetFetchResponse } from '../codec/apis/offset-fetch.js';
import type { SyncGroupRequest, SyncGroupResponse } from '../codec/apis/sync-group.js';
import { MetaLogError, type ErrorCode as StoreErrorCode, type PartitionResult } from '../../index.js';
import { ErrorCode, errorCodeOf } from '../error-codes.js';
import type { RequestContext } from '../server/connection.js';
import type { BrokerCore } from './broker-state.js';

export async function handleJoinGroup(coordinator: GroupCoordinator, request: JoinGroupRequest, context: RequestContext): Promise<JoinGroupResponse> {
  const response = await coordinator.joinGroup({
    version: context.header.apiVersion,
    groupId: request.groupId,
    sessionTimeoutMs: request.sessionTimeoutMs,
    rebalanceTimeoutMs: request.rebalanceTimeoutMs,
    memberId: request.memberId,
    groupInstanceId: request.groupInstanceId,
    protocolType: request.protocolType,
    protocols: request.protocols.map((protocol) => ({ name: protocol.name, metadata: protocol.metadata })),
    clientId: context.header.clientId ?? '',
    clientHost: context.clientHost,
  });
  return {
    errorCode: response.errorCode,
    generationId: response.generationId,
    protocolName: response.protocolName ?? '',
    leader: response.leader,
    memberId: response.memberId,
    members: response.members,
  };
}

export async function handleSyncGroup(coordinator: GroupCoordinator, request: SyncGroupRequest, context: RequestContext): Promise<SyncGroupResponse> {
  const response = await coordinator.syncGroup({
    version: context.header.apiVersion,
    groupId: request.groupId,
    generationId: request.generationId,
    memberId: request.memberId,
    groupInstanceId: request.groupInstanceId,
    protocolType: null,
    protocolName: null,
    assignments: request.assignments.map((entry) => ({ memberId: entry.memberId, assignment: entry.assignment })),
  });
  return { errorCode: response.errorCode, assignment: response.assignment };
}

export function handleHeartbeat(coordinator: GroupCoordinator, request: HeartbeatRequest): Promise<HeartbeatResponse> {
  return coordinator.heartbeat({ ...request });
}

export async function handleLeaveGroup(coordinator: GroupCoordinator, request: LeaveGroupRequest, context: RequestContext): Promise<LeaveGroupResponse> {
  return coordinator.leaveGroup({ version: context.header.apiVersion, groupId: request.groupId, members: request.members.map((member) => ({ ...member })) });
}

export async function handleDescribeGroups(coordinator: GroupCoordinator, request: DescribeGroupsRequest): Promise<DescribeGroupsResponse> {
  return coordinator.describeGroups([...request.groups]);
}

export async function handleListGroups(coordinator: GroupCoordinator): Promise<ListGroupsResponse> {
  const listed = await coordinator.listGroups();
  return { errorCode: listed.errorCode, groups: listed.groups.map((group) => ({ groupId: group.groupId, protocolType: group.protocolType })) };
}

export function handleDeleteGroups(coordinator: GroupCoordinator, request: DeleteGroupsRequest): Promise<DeleteGroupsResponse> {
  return coordinator.deleteGroups([...request.groupIds]);
}

/** Store codes that concern one entry of a commit: the per-entry call then answers each partition. */
const ENTRY_CODES: ReadonlySet<StoreErrorCode> = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'OFFSET_METADATA_TOO_LARGE', 'INVALID_REQUEST']);

/** Every partition of an OffsetCommit answered with one code. */
function commitAnsweredWith(request: OffsetCommitRequest, errorCode: number): OffsetCommitResponse {
  return {
    topics: request.topics.map((topic) => ({ name: topic.name, partitions: topic.partitions.map((partition) => ({ partitionIndex: partition.partitionIndex, errorCode })) })),
  };
}

export async function handleOffsetCommit(core: BrokerCore, coordinator: GroupCoordinator, request: OffsetCommitRequest): Promise<OffsetCommitResponse> {
  if (request.groupId.length === 0) return commitAnsweredWith(request, ErrorCode.INVALID_GROUP_ID);
  const groupCode = coordinator.validateCommit(request.groupId, request.memberId, request.generationId, request.groupInstanceId);
  if (groupCode !== ErrorCode.NONE) return commitAnsweredWith(request, groupCode);
  const entries = request.topics.flatMap((topic) =>
    topic.partitions.map((partition) => ({
      topic: topic.name,
      partition: partition.partitionIndex,
      offset: partition.committedOffset,
      leaderEpoch: partition.committedLeaderEpoch,
      metadata: partition.committedMetadata ?? '',
    })),
  );
  if (entries.length === 0) return { topics: [] };
  // The store checks the member and generation against the group it holds (written on every move to
  // Stable, before SyncGroup is answered); a simple consumer's commit (generation -1) carries none.
  const membership = request.generationId >= 0 ? { generation: request.generationId, memberId: request.memberId } : undefined;
  // Nearly every commit is wholly valid: the all-or-nothing call costs less (no per-entry bookkeeping).
  // When it refuses the commit for one entry's sake, the per-entry call answers each partition on its own.
  try {
    await core.store.commitOffsets(request.groupId, entries, membership);
    return commitAnsweredWith(request, ErrorCode.NONE);
  } catch (error) {
    if (!(error instanceof MetaLogError) || !ENTRY_CODES.has(error.code)) return commitAnsweredWith(request, errorCodeOf(error));
  }
  let results: PartitionResult[];
  try {
    results = await core.store.commitOffsetsEach(request.groupId, entries, membership);
  } catch (error) {
    return commitAnsweredWith(request, errorCodeOf(error));
  }
  let next = 0;
  return {
    topics: request.topics.map((topic) => ({
      name: topic.name,
      partitions: topic.partitions.map((partition) => {
        const result = results[next++]!;
        return { partitionIndex: partition.partitionIndex, errorCode: result.error === null ? ErrorCode.NONE : errorCodeOf(result.error) };
      }),
    })),
  };
}

/** A partition with no committed offset: offset -1, no metadata, no error (what Kafka answers). */
const NO_OFFSET = { committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE };

export function handleOffsetFetch(core: BrokerCore, request: OffsetFetchRequest): Promise<OffsetFetchResponse> {
  if (request.groupId.length === 0) return Promise.resolve({ errorCode: ErrorCode.INVALID_GROUP_ID, topics: [] });
  if (request.topics === null) {
    const byTopic = new Map<string, OffsetFetchResponse['topics'][number]['partitions'][number][]>();
    for (const committed of core.store.fetchOffsets(request.groupId)) {
      const partitions = byTopic.get(committed.topic) ?? [];
      partitions.push({ partitionIndex: committed.partition, committedOffset: committed.offset, committedLeaderEpoch: committed.leaderEpoch, metadata: committed.metadata, errorCode: ErrorCode.NONE });
      byTopic.set(committed.topic, partitions);
    }
    return Promise.resolve({ errorCode: ErrorCode.NONE, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions })) });
  }
  const topics = request.topics.map((topic) => ({
    name: topic.name,
    partitions: topic.partitionIndexes.map((partitionIndex) => {
      const committed = core.store.fetchOffset(request.groupId, topic.name, partitionIndex);
      if (committed === undefined) return { partitionIndex, ...NO_OFFSET };
      return { partitionIndex, committedOffset: committed.offset, committedLeaderEpoch: committed.leaderEpoch, metadata: committed.metadata, errorCode: ErrorCode.NONE };
    }),
  }));
  return Promise.resolve({ errorCode: ErrorCode.NONE, topics });
}

export async function handleOffsetDelete(core: BrokerCore, request: OffsetDeleteRequest): Promise<OffsetDeleteResponse> {
  const partitions = request.topics.flatMap((topic) => topic.partitionIndexes.map((partition) => ({ topic: topic.name, partition })));
  try {
    const results = await core.store.deleteOffsetsEach(request.groupId, partitions);
    let next = 0;
    return {
      errorCode: ErrorCode.NONE,
      topics: request.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitionIndexes.map((partitionIndex) => {
          const result = results[next++]!;
          return { partitionIndex, errorCode: result.error === null ? ErrorCode.NONE : errorCodeOf(result.error) };
        }),
      })),
    };
  } catch (error) {
    return { errorCode: errorCodeOf(error), topics: [] };
  }
}
