/**
 * Topic and partition rules, with Kafka's semantics:
 * - replicas are assigned over ONLINE brokers (round robin from a random start, so leaders spread); a
 *   replication factor above their number is INVALID_REPLICATION_FACTOR, except while no broker is
 *   registered at all (a store opened before its broker registers), when replicas stay unassigned
 *   (leader -1);
 * - explicit assignments name registered brokers, once each, the same count for every partition;
 * - partitions only grow; configs are validated keys and values (topic-configs.ts);
 * - a leader, ISR or replica change names the partition epoch it was computed from: a stale one is
 *   INVALID_UPDATE_VERSION (Kafka's AlterPartition answer), so two controllers cannot both win.
 */
import { randomUUID } from 'node:crypto';
import type { EventBody, PartitionState } from '../codec/event-schema.js';
import { MetaLogError } from '../errors.js';
import { PARTITIONS_MAX, REPLICATION_FACTOR_MAX } from '../limits.js';
import type { Topic } from '../state/entities.js';
import type { MetadataState } from '../state/metadata-state.js';
import { checkTopicName, isInteger, requireBrokerList, requireInteger } from './input-rules.js';
import { ruleOf, validateTopicConfigs } from './topic-configs.js';

/** Arguments of createTopic. */
export interface CreateTopicInput {
  name: string;
  /** Partition count; may be left out when `assignments` gives one replica list per partition. */
  partitions?: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
  /** Replica broker ids per partition; the first of each list is the preferred leader. */
  assignments?: number[][];
}

/** Arguments of alterTopicConfigs: keys to set and keys to remove (back to the broker default). */
export interface TopicConfigChanges {
  set?: Record<string, string>;
  delete?: string[];
}

/** Arguments of changePartition. */
export interface ChangePartitionInput {
  /** The partition epoch the change was computed from; a different current epoch rejects it. */
  expectedPartitionEpoch: number;
  leader: number;
  isr: number[];
  /** A new replica set (reassignment); the current one when left out. */
  replicas?: number[];
}

/** Topic commands as queued for the writer. */
export type TopicCommand =
  | { type: 'CreateTopic'; value: { name: string; partitions: number; replicationFactor: number; configs: Record<string, string>; assignments: number[][] | null } }
  | { type: 'AlterTopicConfigs'; value: { name: string; set: Record<string, string>; delete: string[] } }
  | { type: 'CreatePartitions'; value: { name: string; totalCount: number; assignments: number[][] | null } }
  | { type: 'DeleteTopic'; value: { name: string } }
  | { type: 'ChangePartition'; value: { name: string; partition: number; expectedPartitionEpoch: number; leader: number; isr: number[]; replicas: number[] | null } };

function checkAssignments(assignments: unknown, field: string): number[][] {
  if (!Array.isArray(assignments) || assignments.length === 0 || assignments.length > PARTITIONS_MAX) {
    throw new MetaLogError('INVALID_REPLICA_ASSIGNMENT', `${field} must be an array of 1 to ${PARTITIONS_MAX} replica lists`, { field });
  }
  const lists = assignments.map((list, i) => requireBrokerList(list, `${field}[${i}]`, 'INVALID_REPLICA_ASSIGNMENT', 1));
  if (lists.some((list) => list.length !== lists[0].length)) {
    throw new MetaLogError('INVALID_REPLICA_ASSIGNMENT', `${field}: every partition needs the same number of replicas`, { field });
  }
  return lists;
}

/** Checks createTopic arguments (no state needed). */
export function checkCreateTopicInput(input: unknown): TopicCommand {
  if (typeof input !== 'object' || input === null) {
    throw new MetaLogError('INVALID_REQUEST', 'createTopic takes { name, partitions, replicationFactor?, configs?, assignments? }', {});
  }
  const { name, partitions, replicationFactor, configs, assignments } = input as Partial<CreateTopicInput>;
  checkTopicName(name);
  const lists = assignments === undefined ? null : checkAssignments(assignments, 'assignments');
  const count = partitions ?? lists?.length;
  if (!isInteger(count, 1, PARTITIONS_MAX) || (lists !== null && lists.length !== count)) {
    throw new MetaLogError('INVALID_PARTITIONS', `partitions must be an integer from 1 to ${PARTITIONS_MAX} (and match assignments)`, { field: 'partitions', entity: name });
  }
  const factor = replicationFactor ?? lists?.[0].length ?? 1;
  if (!isInteger(factor, 1, REPLICATION_FACTOR_MAX) || (lists !== null && lists[0].length !== factor)) {
    throw new MetaLogError('INVALID_REPLICATION_FACTOR', `replicationFactor must be an integer from 1 to ${REPLICATION_FACTOR_MAX} (and match assignments)`, {
      field: 'replicationFactor',
      entity: name,
    });
  }
  return { type: 'CreateTopic', value: { name, partitions: count, replicationFactor: factor, configs: validateTopicConfigs(configs), assignments: lists } };
}

/** Checks alterTopicConfigs arguments. */
export function checkAlterTopicConfigsInput(name: unknown, changes: unknown): TopicCommand {
  checkTopicName(name);
  if (typeof changes !== 'object' || changes === null) {
    throw new MetaLogError('INVALID_REQUEST', 'alterTopicConfigs takes { set?, delete? }', { field: 'changes' });
  }
  const { set, delete: remove = [] } = changes as TopicConfigChanges;
  if (!Array.isArray(remove) || remove.some((key) => typeof key !== 'string' || ruleOf(key) === undefined)) {
    throw new MetaLogError('INVALID_CONFIG', 'delete must list known topic config keys', { field: 'delete' });
  }
  return { type: 'AlterTopicConfigs', value: { name, set: validateTopicConfigs(set), delete: [...remove] } };
}

/** Checks createPartitions arguments. */
export function checkCreatePartitionsInput(name: unknown, totalCount: unknown, assignments?: unknown): TopicCommand {
  checkTopicName(name);
  const count = requireInteger(totalCount, 1, PARTITIONS_MAX, 'totalCount', 'INVALID_PARTITIONS');
  const lists = assignments === undefined ? null : checkAssignments(assignments, 'assignments');
  return { type: 'CreatePartitions', value: { name, totalCount: count, assignments: lists } };
}

/** Checks deleteTopic arguments. */
export function checkDeleteTopicInput(name: unknown): TopicCommand {
  checkTopicName(name);
  return { type: 'DeleteTopic', value: { name } };
}

/** Checks changePartition arguments. */
export function checkChangePartitionInput(name: unknown, partition: unknown, change: unknown): TopicCommand {
  checkTopicName(name);
  const index = requireInteger(partition, 0, PARTITIONS_MAX - 1, 'partition', 'UNKNOWN_TOPIC_OR_PARTITION');
  if (typeof change !== 'object' || change === null) {
    throw new MetaLogError('INVALID_REQUEST', 'changePartition takes { expectedPartitionEpoch, leader, isr, replicas? }', { field: 'change' });
  }
  const { expectedPartitionEpoch, leader, isr, replicas } = change as Partial<ChangePartitionInput>;
  return {
    type: 'ChangePartition',
    value: {
      name,
      partition: index,
      expectedPartitionEpoch: requireInteger(expectedPartitionEpoch, 0, 2 ** 31 - 1, 'expectedPartitionEpoch'),
      leader: requireInteger(leader, -1, 2 ** 31 - 1, 'leader'),
      isr: requireBrokerList(isr, 'isr', 'INVALID_REQUEST', 0),
      replicas: replicas === undefined ? null : requireBrokerList(replicas, 'replicas', 'INVALID_REPLICA_ASSIGNMENT', 1),
    },
  };
}

function unknownTopic(name: string, partition?: number): MetaLogError {
  const entity = partition === undefined ? name : `${name}-${partition}`;
  return new MetaLogError('UNKNOWN_TOPIC_OR_PARTITION', `${entity} does not exist`, { entity });
}

function existingTopic(state: MetadataState, name: string): Topic {
  const topic = state.topics.get(name);
  if (topic === undefined) throw unknownTopic(name);
  return topic;
}

/** Broker ids eligible for new replicas: ONLINE, in id order. */
function onlineBrokers(state: MetadataState): number[] {
  return [...state.brokers.values()].filter((broker) => broker.status === 'ONLINE').map((broker) => broker.brokerId).sort((a, b) => a - b);
}

function partitionState(partition: number, replicas: number[]): PartitionState {
  return { partition, leader: replicas.length > 0 ? replicas[0] : -1, replicas, isr: replicas.slice(), leaderEpoch: 0, partitionEpoch: 0 };
}

/**
 * Replica lists for partitions [first, first + count): explicit ones are checked against registered
 * brokers; otherwise round robin over ONLINE brokers from a random start, or unassigned when no broker
 * is registered at all.
 */
function assignReplicas(state: MetadataState, first: number, count: number, factor: number, explicit: number[][] | null, entity: string): PartitionState[] {
  if (explicit !== null) {
    for (const list of explicit) {
      for (const id of list) {
        if (!state.brokers.has(id)) {
          throw new MetaLogError('INVALID_REPLICA_ASSIGNMENT', `broker ${id} in the assignment is not registered`, { entity, field: 'assignments' });
        }
      }
    }
    return explicit.map((list, i) => partitionState(first + i, list));
  }
  if (state.brokers.size === 0) return Array.from({ length: count }, (_, i) => partitionState(first + i, []));
  const brokers = onlineBrokers(state);
  if (factor > brokers.length) {
    throw new MetaLogError('INVALID_REPLICATION_FACTOR', `replication factor ${factor} is larger than the ${brokers.length} online brokers`, {
      entity,
      field: 'replicationFactor',
    });
  }
  // Where the round robin starts needs no cryptographic randomness; plain loops, not Array.from with a
  // callback, which costs several times more for a topic's handful of partitions.
  const start = Math.floor(Math.random() * brokers.length);
  const states: PartitionState[] = [];
  for (let i = 0; i < count; i++) {
    const replicas: number[] = [];
    for (let j = 0; j < factor; j++) replicas.push(brokers[(start + first + i + j) % brokers.length]);
    states.push(partitionState(first + i, replicas));
  }
  return states;
}

function decideChangePartition(value: Extract<TopicCommand, { type: 'ChangePartition' }>['value'], state: MetadataState): EventBody {
  const topic = existingTopic(state, value.name);
  const current = topic.partitions[value.partition];
  if (current === undefined) throw unknownTopic(value.name, value.partition);
  const entity = `${value.name}-${value.partition}`;
  if (value.expectedPartitionEpoch !== current.partitionEpoch) {
    throw new MetaLogError('INVALID_UPDATE_VERSION', `${entity} is at partition epoch ${current.partitionEpoch}, not ${value.expectedPartitionEpoch}`, {
      entity,
      field: 'expectedPartitionEpoch',
    });
  }
  const replicas = value.replicas ?? [...current.replicas];
  for (const id of replicas) {
    if (!state.brokers.has(id)) throw new MetaLogError('INVALID_REPLICA_ASSIGNMENT', `replica ${id} of ${entity} is not a registered broker`, { entity, field: 'replicas' });
  }
  if (value.isr.some((id) => !replicas.includes(id))) {
    throw new MetaLogError('INVALID_REQUEST', `the ISR of ${entity} must be a subset of its replicas`, { entity, field: 'isr' });
  }
  if (value.leader !== -1 && !value.isr.includes(value.leader)) {
    throw new MetaLogError('INVALID_REQUEST', `the leader of ${entity} must be in its ISR (or -1 for none)`, { entity, field: 'leader' });
  }
  const leaderEpoch = value.leader === current.leader ? current.leaderEpoch : current.leaderEpoch + 1;
  return {
    type: 'PartitionChanged',
    value: {
      name: value.name,
      state: { partition: value.partition, leader: value.leader, replicas, isr: [...value.isr], leaderEpoch, partitionEpoch: current.partitionEpoch + 1 },
    },
  };
}

/** Decides a topic command against the state. */
export function decideTopicCommand(command: TopicCommand, state: MetadataState): EventBody {
  switch (command.type) {
    case 'CreateTopic': {
      const { name, partitions, replicationFactor, configs, assignments } = command.value;
      if (state.partitionCount(name) !== undefined) throw new MetaLogError('TOPIC_ALREADY_EXISTS', `topic ${JSON.stringify(name)} already exists`, { entity: name });
      const states = assignReplicas(state, 0, partitions, replicationFactor, assignments, name);
      return { type: 'TopicCreated', value: { topicId: randomUUID(), name, replicationFactor, partitions: states, configs } };
    }
    case 'AlterTopicConfigs': {
      const topic = existingTopic(state, command.value.name);
      const configs: Record<string, string> = { ...topic.configs, ...command.value.set };
      for (const key of command.value.delete) delete configs[key];
      return { type: 'TopicConfigsAltered', value: { name: command.value.name, configs } };
    }
    case 'CreatePartitions': {
      const { name, totalCount, assignments } = command.value;
      const topic = existingTopic(state, name);
      const current = topic.partitions.length;
      if (totalCount <= current) {
        throw new MetaLogError('INVALID_PARTITIONS', `${name} has ${current} partitions; the new count must be larger, not ${totalCount}`, { entity: name, field: 'totalCount' });
      }
      if (assignments !== null && (assignments.length !== totalCount - current || assignments[0].length !== topic.replicationFactor)) {
        throw new MetaLogError('INVALID_REPLICA_ASSIGNMENT', `assignments must give ${totalCount - current} lists of ${topic.replicationFactor} replicas`, { entity: name, field: 'assignments' });
      }
      const partitions = assignReplicas(state, current, totalCount - current, topic.replicationFactor, assignments, name);
      return { type: 'PartitionsCreated', value: { name, partitions } };
    }
    case 'DeleteTopic': {
      const topic = existingTopic(state, command.value.name);
      return { type: 'TopicDeleted', value: { name: topic.name, topicId: topic.topicId } };
    }
    case 'ChangePartition':
      return decideChangePartition(command.value, state);
  }
}
