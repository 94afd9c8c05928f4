/**
 * The Avro schemas of WAL events: the writer schema of this version of the store.
 *
 * The writer schema is an Avro union of one record per event type. A WAL record carries the index of its
 * branch in the union of the segment that holds it, and every segment header embeds that union's JSON and
 * fingerprint, so a segment stays readable after the schema evolves: its records are decoded with the
 * writer schema from its own header and resolved to the reader schema below by record name (Avro schema
 * resolution: added fields need defaults, removed fields are skipped).
 *
 * Rules for changing this file: never rename a record, never remove a field's default, give every added
 * field a default, bump EVENT_SCHEMA_VERSION. Old branches may be removed only with a migration.
 */

/**
 * Version of this writer schema; written into every record.
 * 1: TopicCreated, OffsetsCommitted.
 * 2: adds brokers (BrokerRegistered, BrokerStatusChanged, BrokerUnregistered), topic changes
 *    (TopicConfigsAltered, PartitionsCreated, PartitionChanged, TopicDeleted) and consumer groups
 *    (GroupUpserted, GroupDeleted, OffsetsDeleted), partition logs (WatermarksUpdated, SegmentAdded,
 *    SegmentRemoved), producer ids and transactions (ProducerIdsAllocated, TransactionChanged).
 * 3: adds OffsetsExpired (offset retention).
 * 4: adds ClusterCreated (the cluster id, written once).
 * 5: adds WriterElected (a replicated log's controller change; no state of its own).
 */
export const EVENT_SCHEMA_VERSION = 5;

/** Avro namespace of all event records. */
export const EVENT_NAMESPACE = 'chronik.metalog';

const partitionState = {
  type: 'record',
  name: 'PartitionState',
  fields: [
    { name: 'partition', type: 'int' },
    { name: 'leader', type: 'int', doc: 'broker id of the leader, -1 while unassigned' },
    { name: 'replicas', type: { type: 'array', items: 'int' } },
    { name: 'isr', type: { type: 'array', items: 'int' } },
    { name: 'leaderEpoch', type: 'int' },
    { name: 'partitionEpoch', type: 'int' },
  ],
};

const topicCreated = {
  type: 'record',
  name: 'TopicCreated',
  fields: [
    { name: 'topicId', type: 'string', doc: 'UUID minted once by the writer; replay keeps it' },
    { name: 'name', type: 'string' },
    { name: 'replicationFactor', type: 'int' },
    { name: 'partitions', type: { type: 'array', items: partitionState } },
    { name: 'configs', type: { type: 'map', values: 'string' } },
  ],
};

const offsetCommitEntry = {
  type: 'record',
  name: 'OffsetCommitEntry',
  fields: [
    { name: 'topic', type: 'string' },
    { name: 'partition', type: 'int' },
    { name: 'offset', type: 'long' },
    { name: 'leaderEpoch', type: 'int', default: -1 },
    { name: 'metadata', type: 'string', default: '' },
  ],
};

const offsetsCommitted = {
  type: 'record',
  name: 'OffsetsCommitted',
  fields: [
    { name: 'groupId', type: 'string' },
    { name: 'entries', type: { type: 'array', items: offsetCommitEntry } },
  ],
};

const brokerRegistered = {
  type: 'record',
  name: 'BrokerRegistered',
  fields: [
    { name: 'brokerId', type: 'int' },
    { name: 'host', type: 'string' },
    { name: 'port', type: 'int' },
    { name: 'rack', type: ['null', 'string'], default: null },
    { name: 'brokerEpoch', type: 'long' },
  ],
};

const brokerStatusChanged = {
  type: 'record',
  name: 'BrokerStatusChanged',
  fields: [
    { name: 'brokerId', type: 'int' },
    { name: 'status', type: { type: 'enum', name: 'BrokerStatus', symbols: ['ONLINE', 'FENCED', 'MAINTENANCE'] } },
  ],
};

const brokerUnregistered = {
  type: 'record',
  name: 'BrokerUnregistered',
  fields: [{ name: 'brokerId', type: 'int' }],
};

const topicConfigsAltered = {
  type: 'record',
  name: 'TopicConfigsAltered',
  doc: 'the whole config map after the change, so the fold is a plain replace',
  fields: [
    { name: 'name', type: 'string' },
    { name: 'configs', type: { type: 'map', values: 'string' } },
  ],
};

const partitionsCreated = {
  type: 'record',
  name: 'PartitionsCreated',
  fields: [
    { name: 'name', type: 'string' },
    { name: 'partitions', type: { type: 'array', items: 'PartitionState' } },
  ],
};

const partitionChanged = {
  type: 'record',
  name: 'PartitionChanged',
  doc: 'the whole partition state after a leader, ISR or replica change',
  fields: [
    { name: 'name', type: 'string' },
    { name: 'state', type: 'PartitionState' },
  ],
};

const topicDeleted = {
  type: 'record',
  name: 'TopicDeleted',
  doc: 'the topic, its partitions and every committed offset for it go together',
  fields: [
    { name: 'name', type: 'string' },
    { name: 'topicId', type: 'string' },
  ],
};

const groupMember = {
  type: 'record',
  name: 'GroupMember',
  fields: [
    { name: 'memberId', type: 'string' },
    { name: 'groupInstanceId', type: ['null', 'string'], default: null },
    { name: 'clientId', type: 'string' },
    { name: 'clientHost', type: 'string' },
    { name: 'sessionTimeoutMs', type: 'int' },
    { name: 'rebalanceTimeoutMs', type: 'int' },
    { name: 'topics', type: { type: 'array', items: 'string' }, default: [], doc: 'subscribed topics, for OffsetDelete' },
    { name: 'subscription', type: 'bytes' },
    { name: 'assignment', type: 'bytes' },
  ],
};

const groupUpserted = {
  type: 'record',
  name: 'GroupUpserted',
  doc: 'the whole group after a join, sync, leave or expiry, so the fold is a plain replace',
  fields: [
    { name: 'groupId', type: 'string' },
    { name: 'state', type: { type: 'enum', name: 'GroupState', symbols: ['Empty', 'PreparingRebalance', 'CompletingRebalance', 'Stable', 'Dead'] } },
    { name: 'protocolType', type: 'string' },
    { name: 'protocol', type: ['null', 'string'], default: null },
    { name: 'generation', type: 'int' },
    { name: 'leader', type: ['null', 'string'], default: null },
    { name: 'members', type: { type: 'array', items: groupMember } },
  ],
};

const groupDeleted = {
  type: 'record',
  name: 'GroupDeleted',
  doc: 'the group and all its committed offsets go together',
  fields: [{ name: 'groupId', type: 'string' }],
};

const offsetsDeleted = {
  type: 'record',
  name: 'OffsetsDeleted',
  fields: [
    { name: 'groupId', type: 'string' },
    {
      name: 'partitions',
      type: { type: 'array', items: { type: 'record', name: 'TopicPartition', fields: [{ name: 'topic', type: 'string' }, { name: 'partition', type: 'int' }] } },
    },
  ],
};

const offsetsExpired = {
  type: 'record',
  name: 'OffsetsExpired',
  doc: 'offset retention: every offset of the group (which had no members) committed before expireBeforeMs goes',
  fields: [
    { name: 'groupId', type: 'string' },
    { name: 'expireBeforeMs', type: 'long' },
  ],
};

const watermarksUpdated = {
  type: 'record',
  name: 'WatermarksUpdated',
  fields: [
    { name: 'topic', type: 'string' },
    { name: 'partition', type: 'int' },
    { name: 'highWatermark', type: 'long' },
    { name: 'logStartOffset', type: 'long' },
    { name: 'reset', type: 'boolean', doc: 'an explicit reset, the only change allowed to move backwards' },
  ],
};

const segmentAdded = {
  type: 'record',
  name: 'SegmentAdded',
  fields: [
    { name: 'topic', type: 'string' },
    { name: 'partition', type: 'int' },
    { name: 'segmentId', type: 'long' },
    { name: 'baseOffset', type: 'long' },
    { name: 'lastOffset', type: 'long' },
    { name: 'sizeBytes', type: 'long' },
    { name: 'recordCount', type: 'long' },
    { name: 'path', type: 'string' },
  ],
};

const segmentRemoved = {
  type: 'record',
  name: 'SegmentRemoved',
  fields: [
    { name: 'topic', type: 'string' },
    { name: 'partition', type: 'int' },
    { name: 'segmentId', type: 'long' },
  ],
};

const producerIdsAllocated = {
  type: 'record',
  name: 'ProducerIdsAllocated',
  doc: 'a block of producer ids handed out; the next block starts after it, also after a restart',
  fields: [
    { name: 'firstProducerId', type: 'long' },
    { name: 'count', type: 'int' },
  ],
};

const transactionChanged = {
  type: 'record',
  name: 'TransactionChanged',
  doc: 'the whole transaction after a state change',
  fields: [
    { name: 'transactionalId', type: 'string' },
    { name: 'producerId', type: 'long' },
    { name: 'producerEpoch', type: 'int' },
    {
      name: 'state',
      type: { type: 'enum', name: 'TransactionState', symbols: ['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort'] },
    },
    { name: 'timeoutMs', type: 'int' },
    { name: 'partitions', type: { type: 'array', items: 'TopicPartition' } },
    { name: 'groupIds', type: { type: 'array', items: 'string' } },
  ],
};

const clusterCreated = {
  type: 'record',
  name: 'ClusterCreated',
  doc: "the cluster's id, minted once (Kafka's form: a random UUID as 22 characters of unpadded base64url); never written twice",
  fields: [{ name: 'clusterId', type: 'string' }],
};

const writerElected = {
  type: 'record',
  name: 'WriterElected',
  doc: "the first event of a controller's term in a log replicated through etcd (like KRaft's leader change record): the term's epoch (its claim's etcd revision) and the node's id. Changes no state; marks where each term's writes begin",
  fields: [
    { name: 'epoch', type: 'long' },
    { name: 'nodeId', type: 'string' },
  ],
};

/**
 * The writer schema: a union of every event record. New records go at the end, so a record's branch
 * index stays what it was (not required, as each segment stores its own union, but it keeps dumps
 * comparable across versions).
 */
export const EVENT_UNION_SCHEMA = [
  topicCreated,
  offsetsCommitted,
  brokerRegistered,
  brokerStatusChanged,
  brokerUnregistered,
  topicConfigsAltered,
  partitionsCreated,
  partitionChanged,
  topicDeleted,
  groupUpserted,
  groupDeleted,
  offsetsDeleted,
  watermarksUpdated,
  segmentAdded,
  segmentRemoved,
  producerIdsAllocated,
  transactionChanged,
  offsetsExpired,
  clusterCreated,
  writerElected,
].map((record) => ({
  ...record,
  namespace: EVENT_NAMESPACE,
}));

/** One partition of a topic, as stored. */
export interface PartitionState {
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
  leaderEpoch: number;
  partitionEpoch: number;
}

/** A topic came into being with all its partitions (one atomic event). */
export interface TopicCreated {
  topicId: string;
  name: string;
  replicationFactor: number;
  partitions: PartitionState[];
  configs: Record<string, string>;
}

/** One (topic, partition) of an offset commit. */
export interface OffsetCommitEntry {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string;
}

/** Offsets committed by a group; all entries of one commit are one event, so they land together or not at all. */
export interface OffsetsCommitted {
  groupId: string;
  entries: OffsetCommitEntry[];
}

/** A broker's availability for new leaders and replicas. */
export type BrokerStatus = 'ONLINE' | 'FENCED' | 'MAINTENANCE';

/** A broker joined (or re-joined with a higher epoch); it starts ONLINE. */
export interface BrokerRegistered {
  brokerId: number;
  host: string;
  port: number;
  rack: string | null;
  brokerEpoch: number;
}

/** Kafka's consumer group states. */
export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

/** One member of a consumer group; `subscription` and `assignment` are the protocol's opaque bytes. */
export interface GroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  topics: string[];
  subscription: Buffer;
  assignment: Buffer;
}

/** A consumer group's whole state. */
export interface GroupUpserted {
  groupId: string;
  state: GroupState;
  protocolType: string;
  protocol: string | null;
  generation: number;
  leader: string | null;
  members: GroupMember[];
}

/** A partition's log bounds. */
export interface Watermarks {
  highWatermark: number;
  logStartOffset: number;
}

/** Metadata of one log segment of a partition. */
export interface SegmentInfo {
  segmentId: number;
  baseOffset: number;
  lastOffset: number;
  sizeBytes: number;
  recordCount: number;
  path: string;
}

/** Kafka's transaction states. */
export type TransactionState = 'Empty' | 'Ongoing' | 'PrepareCommit' | 'PrepareAbort' | 'CompleteCommit' | 'CompleteAbort';

/** A transaction's whole state. */
export interface TransactionChanged {
  transactionalId: string;
  producerId: number;
  producerEpoch: number;
  state: TransactionState;
  timeoutMs: number;
  partitions: { topic: string; partition: number }[];
  groupIds: string[];
}

/** Event type names and their payloads. */
export interface EventPayloads {
  TopicCreated: TopicCreated;
  OffsetsCommitted: OffsetsCommitted;
  BrokerRegistered: BrokerRegistered;
  BrokerStatusChanged: { brokerId: number; status: BrokerStatus };
  BrokerUnregistered: { brokerId: number };
  TopicConfigsAltered: { name: string; configs: Record<string, string> };
  PartitionsCreated: { name: string; partitions: PartitionState[] };
  PartitionChanged: { name: string; state: PartitionState };
  TopicDeleted: { name: string; topicId: string };
  GroupUpserted: GroupUpserted;
  GroupDeleted: { groupId: string };
  OffsetsDeleted: { groupId: string; partitions: { topic: string; partition: number }[] };
  WatermarksUpdated: { topic: string; partition: number; highWatermark: number; logStartOffset: number; reset: boolean };
  SegmentAdded: SegmentInfo & { topic: string; partition: number };
  SegmentRemoved: { topic: string; partition: number; segmentId: number };
  ProducerIdsAllocated: { firstProducerId: number; count: number };
  TransactionChanged: TransactionChanged;
  OffsetsExpired: { groupId: string; expireBeforeMs: number };
  ClusterCreated: { clusterId: string };
  WriterElected: { epoch: number; nodeId: string };
}

/** An event type name. */
export type EventType = keyof EventPayloads;

/** An event's type and payload, before it has an offset. */
export type EventBody = { [T in EventType]: { type: T; value: EventPayloads[T] } }[EventType];

/** A committed event: its offset in the log, the writer's timestamp, type and payload. */
export type LogEvent = EventBody & { offset: number; timestampMs: number };
