/**
 * kafkajs oracle cases for consumer groups and their offsets: FindCoordinator, JoinGroup, SyncGroup,
 * Heartbeat, LeaveGroup, DescribeGroups, ListGroups, DeleteGroups, OffsetCommit, OffsetFetch.
 */
import { DeleteGroups } from '../../../../src/kafka/codec/apis/delete-groups.js';
import { DescribeGroups } from '../../../../src/kafka/codec/apis/describe-groups.js';
import { FindCoordinator } from '../../../../src/kafka/codec/apis/find-coordinator.js';
import { Heartbeat } from '../../../../src/kafka/codec/apis/heartbeat.js';
import { JoinGroup } from '../../../../src/kafka/codec/apis/join-group.js';
import { LeaveGroup } from '../../../../src/kafka/codec/apis/leave-group.js';
import { ListGroups } from '../../../../src/kafka/codec/apis/list-groups.js';
import { OffsetCommit } from '../../../../src/kafka/codec/apis/offset-commit.js';
import { OffsetFetch } from '../../../../src/kafka/codec/apis/offset-fetch.js';
import { SyncGroup } from '../../../../src/kafka/codec/apis/sync-group.js';
import { throttle, type OracleCase } from './kafkajs-oracle.js';

const GROUP = 'billing-consumers';

const findCoordinator: OracleCase = {
  codec: FindCoordinator,
  kafkajs: 'findCoordinator',
  label: 'transaction coordinator, loading',
  args: () => ({ groupId: GROUP, coordinatorType: 1 }),
  request: (v) => ({ key: GROUP, keyType: v >= 1 ? 1 : 0 }),
  response: () => ({ errorCode: 14, errorMessage: 'loading', nodeId: 7, host: 'broker-7.local', port: 19092 }),
  decoded: (v) => ({
    ...(v >= 1 ? { ...throttle(v, 2), errorMessage: 'loading' } : {}),
    errorCode: 14,
    coordinator: { nodeId: 7, host: 'broker-7.local', port: 19092 },
  }),
};

const joinGroup: OracleCase = {
  codec: JoinGroup,
  kafkajs: 'joinGroup',
  label: 'static member, rebalancing',
  args: () => ({
    groupId: GROUP,
    sessionTimeout: 30_000,
    rebalanceTimeout: 60_000,
    memberId: 'member-1',
    groupInstanceId: 'static-1',
    protocolType: 'consumer',
    groupProtocols: [
      { name: 'range', metadata: Buffer.from([0, 1, 2]) },
      { name: 'roundrobin', metadata: Buffer.alloc(0) },
    ],
  }),
  request: (v) => ({
    groupId: GROUP,
    sessionTimeoutMs: 30_000,
    rebalanceTimeoutMs: v >= 1 ? 60_000 : 30_000,
    memberId: 'member-1',
    groupInstanceId: v >= 5 ? 'static-1' : null,
    protocolType: 'consumer',
    protocols: [
      { name: 'range', metadata: Buffer.from([0, 1, 2]) },
      { name: 'roundrobin', metadata: Buffer.alloc(0) },
    ],
  }),
  response: () => ({
    errorCode: 27,
    generationId: 4,
    protocolName: 'range',
    leader: 'member-1',
    memberId: 'member-2',
    members: [
      { memberId: 'member-1', groupInstanceId: 'static-1', metadata: Buffer.from([3, 4]) },
      { memberId: 'member-2', groupInstanceId: null, metadata: Buffer.alloc(0) },
    ],
  }),
  decoded: (v) => ({
    ...(v >= 2 ? throttle(v, 3) : {}),
    errorCode: 27,
    generationId: 4,
    groupProtocol: 'range',
    leaderId: 'member-1',
    memberId: 'member-2',
    members: [
      { memberId: 'member-1', ...(v >= 5 ? { groupInstanceId: 'static-1' } : {}), memberMetadata: Buffer.from([3, 4]) },
      { memberId: 'member-2', ...(v >= 5 ? { groupInstanceId: null } : {}), memberMetadata: Buffer.alloc(0) },
    ],
  }),
};

const syncGroup: OracleCase = {
  codec: SyncGroup,
  kafkajs: 'syncGroup',
  label: 'leader assigns',
  args: () => ({
    groupId: GROUP,
    generationId: 4,
    memberId: 'member-1',
    groupInstanceId: 'static-1',
    groupAssignment: [
      { memberId: 'member-1', memberAssignment: Buffer.from([9, 8, 7]) },
      { memberId: 'member-2', memberAssignment: Buffer.alloc(0) },
    ],
  }),
  request: (v) => ({
    groupId: GROUP,
    generationId: 4,
    memberId: 'member-1',
    groupInstanceId: v >= 3 ? 'static-1' : null,
    assignments: [
      { memberId: 'member-1', assignment: Buffer.from([9, 8, 7]) },
      { memberId: 'member-2', assignment: Buffer.alloc(0) },
    ],
  }),
  response: () => ({ errorCode: 22, assignment: Buffer.from([0, 1, 2, 3]) }),
  decoded: (v) => ({ ...(v >= 1 ? throttle(v, 2) : {}), errorCode: 22, memberAssignment: Buffer.from([0, 1, 2, 3]) }),
};

const heartbeat: OracleCase = {
  codec: Heartbeat,
  kafkajs: 'heartbeat',
  label: 'during a rebalance',
  args: () => ({ groupId: GROUP, groupGenerationId: 4, memberId: 'member-1', groupInstanceId: 'static-1' }),
  request: (v) => ({ groupId: GROUP, generationId: 4, memberId: 'member-1', groupInstanceId: v >= 3 ? 'static-1' : null }),
  response: () => ({ errorCode: 27 }),
  decoded: (v) => ({ ...(v >= 1 ? throttle(v, 2) : {}), errorCode: 27 }),
};

const leaveGroup: OracleCase = {
  codec: LeaveGroup,
  kafkajs: 'leaveGroup',
  label: 'one member',
  args: () => ({ groupId: GROUP, memberId: 'member-1', groupInstanceId: 'static-1' }),
  request: (v) => ({ groupId: GROUP, members: [{ memberId: 'member-1', groupInstanceId: v >= 3 ? 'static-1' : null }] }),
  response: () => ({ errorCode: 0, members: [{ memberId: 'member-1', groupInstanceId: 'static-1', errorCode: 25 }] }),
  decoded: (v) => {
    if (v === 0) return { errorCode: 0 };
    if (v < 3) return { ...throttle(v, 2), errorCode: 0 };
    return { throttleTime: 0, clientSideThrottleTime: 0, errorCode: 0, members: [{ memberId: 'member-1', groupInstanceId: 'static-1', errorCode: 25 }] };
  },
};

const describeGroups: OracleCase = {
  codec: DescribeGroups,
  kafkajs: 'describeGroups',
  label: 'stable and unknown',
  args: () => ({ groupIds: [GROUP, 'other'] }),
  request: () => ({ groups: [GROUP, 'other'] }),
  response: () => ({
    groups: [
      {
        errorCode: 0,
        groupId: GROUP,
        groupState: 'Stable',
        protocolType: 'consumer',
        protocolData: 'range',
        members: [{ memberId: 'member-1', clientId: 'billing', clientHost: '/10.0.0.7', memberMetadata: Buffer.from([1]), memberAssignment: Buffer.from([2, 3]) }],
      },
      { errorCode: 16, groupId: 'other', groupState: 'Dead', protocolType: '', protocolData: '', members: [] },
    ],
  }),
  decoded: (v) => ({
    ...(v >= 1 ? throttle(v, 2) : {}),
    groups: [
      {
        errorCode: 0,
        groupId: GROUP,
        state: 'Stable',
        protocolType: 'consumer',
        protocol: 'range',
        members: [{ memberId: 'member-1', clientId: 'billing', clientHost: '/10.0.0.7', memberMetadata: Buffer.from([1]), memberAssignment: Buffer.from([2, 3]) }],
      },
      { errorCode: 16, groupId: 'other', state: 'Dead', protocolType: '', protocol: '', members: [] },
    ],
  }),
};

const listGroups: OracleCase = {
  codec: ListGroups,
  kafkajs: 'listGroups',
  label: 'two groups',
  args: () => undefined,
  request: () => ({}),
  response: () => ({
    errorCode: 0,
    groups: [
      { groupId: GROUP, protocolType: 'consumer' },
      { groupId: 'connect-sink', protocolType: 'connect' },
    ],
  }),
  decoded: (v) => ({
    ...(v >= 1 ? throttle(v, 2) : {}),
    errorCode: 0,
    groups: [
      { groupId: GROUP, protocolType: 'consumer' },
      { groupId: 'connect-sink', protocolType: 'connect' },
    ],
  }),
};

const deleteGroups: OracleCase = {
  codec: DeleteGroups,
  kafkajs: 'deleteGroups',
  label: 'one deleted, one not empty',
  args: () => [GROUP, 'busy'],
  request: () => ({ groupIds: [GROUP, 'busy'] }),
  response: () => ({
    results: [
      { groupId: GROUP, errorCode: 0 },
      { groupId: 'busy', errorCode: 68 },
    ],
  }),
  // kafkajs's v1 decoder looks for the throttle time under the name v0's uses for it, and finds nothing.
  decoded: (v) => ({
    throttleTimeMs: 0,
    ...(v >= 1 ? { throttleTime: 0, clientSideThrottleTime: undefined } : {}),
    results: [
      { groupId: GROUP, errorCode: 0 },
      { groupId: 'busy', errorCode: 68, error: 'NON_EMPTY_GROUP' },
    ],
  }),
  // kafkajs attaches an error object to each failed result; its type names the code it read.
  projectDecoded: (decoded) => ({
    ...decoded,
    results: decoded.results.map((r: { error?: { type: string } }) => (r.error === undefined ? r : { ...r, error: r.error.type })),
  }),
};

const offsetCommit: OracleCase = {
  codec: OffsetCommit,
  kafkajs: 'offsetCommit',
  label: 'two partitions',
  args: () => ({
    groupId: GROUP,
    groupGenerationId: 12,
    memberId: 'member-1',
    retentionTime: 86_400_000,
    topics: [
      {
        topic: 'orders',
        partitions: [
          { partition: 2, offset: '5000000000', timestamp: 1_700_000_000_000, metadata: 'checkpoint' },
          { partition: 3, offset: '0', timestamp: 1_700_000_000_000, metadata: null },
        ],
      },
    ],
  }),
  request: () => ({
    groupId: GROUP,
    generationId: 12,
    memberId: 'member-1',
    groupInstanceId: null,
    topics: [
      {
        name: 'orders',
        partitions: [
          { partitionIndex: 2, committedOffset: 5_000_000_000, committedLeaderEpoch: -1, committedMetadata: 'checkpoint' },
          { partitionIndex: 3, committedOffset: 0, committedLeaderEpoch: -1, committedMetadata: null },
        ],
      },
    ],
  }),
  response: () => ({
    topics: [
      {
        name: 'orders',
        partitions: [
          { partitionIndex: 2, errorCode: 0 },
          { partitionIndex: 3, errorCode: 22 },
        ],
      },
    ],
  }),
  decoded: (v) => ({
    ...(v >= 3 ? throttle(v, 4) : {}),
    responses: [
      {
        topic: 'orders',
        partitions: [
          { partition: 2, errorCode: 0 },
          { partition: 3, errorCode: 22 },
        ],
      },
    ],
  }),
};

const offsetFetch: OracleCase = {
  codec: OffsetFetch,
  kafkajs: 'offsetFetch',
  label: 'named partitions',
  args: () => ({ groupId: GROUP, topics: [{ topic: 'orders', partitions: [{ partition: 2 }, { partition: 3 }] }] }),
  request: () => ({ groupId: GROUP, topics: [{ name: 'orders', partitionIndexes: [2, 3] }] }),
  response: () => ({
    errorCode: 16,
    topics: [
      {
        name: 'orders',
        partitions: [
          { partitionIndex: 2, committedOffset: 5_000_000_000, committedLeaderEpoch: 9, metadata: 'checkpoint', errorCode: 0 },
          { partitionIndex: 3, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 3 },
        ],
      },
    ],
  }),
  decoded: (v) => ({
    ...(v >= 3 ? throttle(v, 4) : {}),
    responses: [
      {
        topic: 'orders',
        partitions: [
          { partition: 2, offset: '5000000000', metadata: 'checkpoint', errorCode: 0 },
          { partition: 3, offset: '-1', metadata: '', errorCode: 3 },
        ],
      },
    ],
    ...(v >= 2 ? { errorCode: 16 } : {}),
  }),
};

// From v3 on, kafkajs sends an empty topic list as null: every committed offset of the group.
const offsetFetchEverything: OracleCase = {
  codec: OffsetFetch,
  kafkajs: 'offsetFetch',
  label: 'no topics named',
  args: () => ({ groupId: GROUP, topics: [] }),
  request: (v) => ({ groupId: GROUP, topics: v >= 3 ? null : [] }),
};

export const GROUP_CASES: readonly OracleCase[] = [
  findCoordinator,
  joinGroup,
  syncGroup,
  heartbeat,
  leaveGroup,
  describeGroups,
  listGroups,
  deleteGroups,
  offsetCommit,
  offsetFetch,
  offsetFetchEverything,
];
