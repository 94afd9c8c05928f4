/**
 * Commands: what a caller asks for, checked in two steps.
 *
 * 1. `check*Input` (on the caller's thread, before anything is queued): shape, types and the rules that
 *    need no state: Kafka's legal topic names, partition and replication ranges, metadata sizes. A bad
 *    call fails at once and never reaches the writer.
 * 2. `decide*` (on the writer thread, against the current state): the rules that need state (does the
 *    topic exist, is the partition there) and the event that the command becomes. A rejected command leaves
 *    no trace; the other commands of its batch are unaffected.
 */
import { randomUUID } from 'node:crypto';
import type { EventBody, OffsetCommitEntry, PartitionState } from '../codec/event-schema.js';
import { MetaLogError } from '../errors.js';
import {
  COMMIT_ENTRIES_MAX,
  COMMITTED_OFFSET_MAX,
  GROUP_ID_LENGTH_MAX,
  OFFSET_METADATA_BYTES_MAX,
  PARTITIONS_MAX,
  REPLICATION_FACTOR_MAX,
  TOPIC_NAME_LENGTH_MAX,
} from '../limits.js';
import type { MetadataState } from '../state/metadata-state.js';
import { validateTopicConfigs } from './topic-configs.js';

/** Arguments of createTopic. */
export interface CreateTopicInput {
  name: string;
  partitions: number;
  replicationFactor?: number;
  configs?: Record<string, string>;
}

/** One entry of commitOffsets. */
export interface OffsetCommitInput {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch?: number;
  metadata?: string;
}

/** A command as queued for the writer. */
export type Command =
  | { type: 'CreateTopic'; value: { name: string; partitions: number; replicationFactor: number; configs: Record<string, string> } }
  | { type: 'CommitOffsets'; value: { groupId: string; entries: OffsetCommitEntry[] } };

const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

function isInteger(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** Kafka's topic name rule: 1–249 of [a-zA-Z0-9._-], not "." or "..". Throws INVALID_TOPIC_EXCEPTION. */
export function checkTopicName(name: unknown, field = 'name'): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > TOPIC_NAME_LENGTH_MAX) {
    throw new MetaLogError('INVALID_TOPIC_EXCEPTION', `${field} must be 1 to ${TOPIC_NAME_LENGTH_MAX} characters`, { field });
  }
  if (name === '.' || name === '..') {
    throw new MetaLogError('INVALID_TOPIC_EXCEPTION', `${field} cannot be "." or ".."`, { field });
  }
  if (!LEGAL_TOPIC_NAME.test(name)) {
    throw new MetaLogError('INVALID_TOPIC_EXCEPTION', `${field} ${JSON.stringify(name)} has characters outside [a-zA-Z0-9._-]`, { field });
  }
}

/** Checks createTopic arguments (no state needed). */
export function checkCreateTopicInput(input: unknown): Command {
  if (typeof input !== 'object' || input === null) {
    throw new MetaLogError('INVALID_REQUEST', 'createTopic takes { name, partitions, replicationFactor?, configs? }', {});
  }
  const { name, partitions, replicationFactor = 1, configs } = input as Partial<CreateTopicInput>;
  checkTopicName(name);
  if (!isInteger(partitions, 1, PARTITIONS_MAX)) {
    throw new MetaLogError('INVALID_PARTITIONS', `partitions must be an integer from 1 to ${PARTITIONS_MAX}`, { field: 'partitions', entity: name });
  }
  if (!isInteger(replicationFactor, 1, REPLICATION_FACTOR_MAX)) {
    throw new MetaLogError('INVALID_REPLICATION_FACTOR', `replicationFactor must be an integer from 1 to ${REPLICATION_FACTOR_MAX}`, {
      field: 'replicationFactor',
      entity: name,
    });
  }
  return { type: 'CreateTopic', value: { name, partitions, replicationFactor, configs: validateTopicConfigs(configs) } };
}

function checkCommitEntry(entry: unknown, index: number, seen: Set<string> | null): OffsetCommitEntry {
  const field = `entries[${index}]`;
  if (typeof entry !== 'object' || entry === null) {
    throw new MetaLogError('INVALID_REQUEST', `${field} must be { topic, partition, offset, leaderEpoch?, metadata? }`, { field });
  }
  const { topic, partition, offset, leaderEpoch = -1, metadata = '' } = entry as Partial<OffsetCommitInput>;
  checkTopicName(topic, `${field}.topic`);
  if (!isInteger(partition, 0, PARTITIONS_MAX - 1)) {
    throw new MetaLogError('UNKNOWN_TOPIC_OR_PARTITION', `${field}.partition must be an integer from 0 to ${PARTITIONS_MAX - 1}`, { field: `${field}.partition` });
  }
  if (!isInteger(offset, 0, COMMITTED_OFFSET_MAX)) {
    throw new MetaLogError('INVALID_REQUEST', `${field}.offset must be an integer from 0 to 2^53-2`, { field: `${field}.offset` });
  }
  if (!isInteger(leaderEpoch, -1, 2147483647)) {
    throw new MetaLogError('INVALID_REQUEST', `${field}.leaderEpoch must be an integer from -1 to 2^31-1`, { field: `${field}.leaderEpoch` });
  }
  if (typeof metadata !== 'string' || Buffer.byteLength(metadata, 'utf8') > OFFSET_METADATA_BYTES_MAX) {
    throw new MetaLogError('OFFSET_METADATA_TOO_LARGE', `${field}.metadata must be a string of at most ${OFFSET_METADATA_BYTES_MAX} bytes`, {
      field: `${field}.metadata`,
    });
  }
  if (seen !== null) {
    const key = `${topic}\u0000${partition}`;
    if (seen.has(key)) {
      throw new MetaLogError('INVALID_REQUEST', `${field} repeats ${topic}-${partition} within one commit`, { field });
    }
    seen.add(key);
  }
  return { topic, partition, offset, leaderEpoch, metadata };
}

/** Checks commitOffsets arguments (no state needed). */
export function checkCommitOffsetsInput(groupId: unknown, entries: unknown): Command {
  if (typeof groupId !== 'string' || groupId.length === 0 || groupId.length > GROUP_ID_LENGTH_MAX) {
    throw new MetaLogError('INVALID_GROUP_ID', `groupId must be a string of 1 to ${GROUP_ID_LENGTH_MAX} characters`, { field: 'groupId' });
  }
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > COMMIT_ENTRIES_MAX) {
    throw new MetaLogError('INVALID_REQUEST', `entries must be an array of 1 to ${COMMIT_ENTRIES_MAX} offsets`, { field: 'entries' });
  }
  // A single entry cannot repeat itself: skip the duplicate check for the common one-partition commit.
  const seen = entries.length > 1 ? new Set<string>() : null;
  return { type: 'CommitOffsets', value: { groupId, entries: entries.map((entry, index) => checkCommitEntry(entry, index, seen)) } };
}

function unassignedPartitions(count: number): PartitionState[] {
  // No broker is registered yet: replicas stay unassigned (leader -1) until the broker model assigns them.
  return Array.from({ length: count }, (_, partition) => ({
    partition, leader: -1, replicas: [], isr: [], leaderEpoch: 0, partitionEpoch: 0,
  }));
}

/** Decides, against `state`, the event a command becomes; throws the Kafka error that rejects it. */
export function decide(command: Command, state: MetadataState): EventBody {
  switch (command.type) {
    case 'CreateTopic': {
      const { name, partitions, replicationFactor, configs } = command.value;
      if (state.topics.has(name)) {
        throw new MetaLogError('TOPIC_ALREADY_EXISTS', `topic ${JSON.stringify(name)} already exists`, { entity: name });
      }
      return {
        type: 'TopicCreated',
        value: { topicId: randomUUID(), name, replicationFactor, partitions: unassignedPartitions(partitions), configs },
      };
    }
    case 'CommitOffsets': {
      const { groupId, entries } = command.value;
      for (let i = 0; i < entries.length; i++) {
        const { topic, partition } = entries[i];
        const found = state.topics.get(topic);
        if (found === undefined || partition >= found.partitions.length) {
          throw new MetaLogError('UNKNOWN_TOPIC_OR_PARTITION', `${topic}-${partition} does not exist`, {
            field: `entries[${i}]`,
            entity: `${topic}-${partition}`,
          });
        }
      }
      return { type: 'OffsetsCommitted', value: { groupId, entries } };
    }
  }
}
