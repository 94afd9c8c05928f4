/**
 * Values of the shared index: how each entity is encoded in the arena, and decoded into the frozen
 * objects the API returns.
 *
 * Owns: one codec per family. Whole entities (topics with their partitions, groups with their members,
 * brokers, transactions, a partition's segment list, a group's offset directory) are Avro records
 * (avsc), decoded only when their version changes (readers cache them). The two values read on every
 * fetch or produce are fixed layouts, decoded without avsc:
 *
 *   committed offset   f64 offset | i32 leader epoch | f64 commit timestamp ms | metadata (UTF-8, to the end)
 *   watermarks         f64 high watermark | f64 log start offset
 *
 * In memory only: the index is rebuilt from the WAL at every open, so this layout may change freely.
 */
import avro from 'avsc';
import type { BrokerStatus, PartitionState, SegmentInfo, Watermarks } from '../codec/event-schema.js';
import type { Broker, CommittedOffset, Group, Topic, Transaction } from '../state/metadata-state.js';

const partitionState = {
  type: 'record',
  name: 'PartitionState',
  fields: [
    { name: 'partition', type: 'int' },
    { name: 'leader', type: 'int' },
    { name: 'replicas', type: { type: 'array', items: 'int' } },
    { name: 'isr', type: { type: 'array', items: 'int' } },
    { name: 'leaderEpoch', type: 'int' },
    { name: 'partitionEpoch', type: 'int' },
  ],
};

const topicType = avro.Type.forSchema({
  type: 'record',
  name: 'IndexTopic',
  fields: [
    { name: 'topicId', type: 'string' },
    { name: 'name', type: 'string' },
    { name: 'replicationFactor', type: 'int' },
    { name: 'partitions', type: { type: 'array', items: partitionState } },
    { name: 'configs', type: { type: 'map', values: 'string' } },
  ],
} as avro.Schema, { wrapUnions: 'auto' });

const brokerType = avro.Type.forSchema({
  type: 'record',
  name: 'IndexBroker',
  fields: [
    { name: 'brokerId', type: 'int' },
    { name: 'host', type: 'string' },
    { name: 'port', type: 'int' },
    { name: 'rack', type: ['null', 'string'] },
    { name: 'brokerEpoch', type: 'long' },
    { name: 'status', type: { type: 'enum', name: 'BrokerStatus', symbols: ['ONLINE', 'FENCED', 'MAINTENANCE'] } },
  ],
} as avro.Schema, { wrapUnions: 'auto' });

const groupType = avro.Type.forSchema({
  type: 'record',
  name: 'IndexGroup',
  fields: [
    { name: 'groupId', type: 'string' },
    { name: 'state', type: 'string' },
    { name: 'protocolType', type: 'string' },
    { name: 'protocol', type: ['null', 'string'] },
    { name: 'generation', type: 'int' },
    { name: 'leader', type: ['null', 'string'] },
    {
      name: 'members',
      type: {
        type: 'array',
        items: {
          type: 'record',
          name: 'GroupMember',
          fields: [
            { name: 'memberId', type: 'string' },
            { name: 'groupInstanceId', type: ['null', 'string'] },
            { name: 'clientId', type: 'string' },
            { name: 'clientHost', type: 'string' },
            { name: 'sessionTimeoutMs', type: 'int' },
            { name: 'rebalanceTimeoutMs', type: 'int' },
            { name: 'topics', type: { type: 'array', items: 'string' } },
            { name: 'subscription', type: 'bytes' },
            { name: 'assignment', type: 'bytes' },
          ],
        },
      },
    },
  ],
} as avro.Schema, { wrapUnions: 'auto' });

const topicPartition = { type: 'record', name: 'TopicPartition', fields: [{ name: 'topic', type: 'string' }, { name: 'partition', type: 'int' }] };

const transactionType = avro.Type.forSchema({
  type: 'record',
  name: 'IndexTransaction',
  fields: [
    { name: 'transactionalId', type: 'string' },
    { name: 'producerId', type: 'long' },
    { name: 'producerEpoch', type: 'int' },
    { name: 'state', type: 'string' },
    { name: 'timeoutMs', type: 'int' },
    { name: 'partitions', type: { type: 'array', items: topicPartition } },
    { name: 'groupIds', type: { type: 'array', items: 'string' } },
  ],
} as avro.Schema, { wrapUnions: 'auto' });

const segmentsType = avro.Type.forSchema({
  type: 'array',
  items: {
    type: 'record',
    name: 'SegmentInfo',
    fields: [
      { name: 'segmentId', type: 'long' },
      { name: 'baseOffset', type: 'long' },
      { name: 'lastOffset', type: 'long' },
      { name: 'sizeBytes', type: 'long' },
      { name: 'recordCount', type: 'long' },
      { name: 'path', type: 'string' },
    ],
  },
} as avro.Schema);

/** A group's offset directory: the (topic, partitions) it has committed offsets for. */
export interface OffsetDirectoryEntry {
  readonly topic: string;
  readonly partitions: readonly number[];
}

const offsetDirectoryType = avro.Type.forSchema({
  type: 'array',
  items: {
    type: 'record',
    name: 'OffsetDirectoryEntry',
    fields: [
      { name: 'topic', type: 'string' },
      { name: 'partitions', type: { type: 'array', items: 'int' } },
    ],
  },
} as avro.Schema);

function bytesOf(buffer: Buffer): Uint8Array {
  return buffer;
}

function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function freezePartition(partition: PartitionState): Readonly<PartitionState> {
  Object.freeze(partition.replicas);
  Object.freeze(partition.isr);
  return Object.freeze(partition);
}

export const encodeTopic = (topic: Topic): Uint8Array => bytesOf(topicType.toBuffer(topic));

export function decodeTopic(bytes: Uint8Array): Topic {
  const topic = topicType.fromBuffer(bufferOf(bytes)) as { -readonly [K in keyof Topic]: Topic[K] };
  topic.partitions.forEach(freezePartition);
  Object.freeze(topic.partitions);
  // avsc builds maps on plain objects; keys come from validated config names.
  Object.freeze(topic.configs);
  return Object.freeze(topic);
}

export const encodeBroker = (broker: Broker): Uint8Array => bytesOf(brokerType.toBuffer(broker));

export function decodeBroker(bytes: Uint8Array): Broker {
  const broker = brokerType.fromBuffer(bufferOf(bytes)) as Broker & { status: BrokerStatus };
  return Object.freeze(broker);
}

export const encodeGroup = (group: Group): Uint8Array => bytesOf(groupType.toBuffer(group));

export function decodeGroup(bytes: Uint8Array): Group {
  const group = groupType.fromBuffer(bufferOf(bytes)) as Group;
  for (const member of group.members) {
    Object.freeze(member.topics);
    Object.freeze(member);
  }
  Object.freeze(group.members);
  return Object.freeze(group);
}

export const encodeTransaction = (transaction: Transaction): Uint8Array => bytesOf(transactionType.toBuffer(transaction));

export function decodeTransaction(bytes: Uint8Array): Transaction {
  const transaction = transactionType.fromBuffer(bufferOf(bytes)) as Transaction;
  transaction.partitions.forEach((partition) => Object.freeze(partition));
  Object.freeze(transaction.partitions);
  Object.freeze(transaction.groupIds);
  return Object.freeze(transaction);
}

export const encodeSegments = (segments: readonly SegmentInfo[]): Uint8Array => bytesOf(segmentsType.toBuffer(segments));

export function decodeSegments(bytes: Uint8Array): Readonly<SegmentInfo>[] {
  return (segmentsType.fromBuffer(bufferOf(bytes)) as SegmentInfo[]).map((segment) => Object.freeze(segment));
}

export const encodeOffsetDirectory = (entries: readonly OffsetDirectoryEntry[]): Uint8Array => bytesOf(offsetDirectoryType.toBuffer(entries));

export function decodeOffsetDirectory(bytes: Uint8Array): OffsetDirectoryEntry[] {
  return offsetDirectoryType.fromBuffer(bufferOf(bytes)) as OffsetDirectoryEntry[];
}

const OFFSET_FIXED_BYTES = 20;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/**
 * Encodes committed offsets into one reusable buffer (the writer encodes one per committed partition;
 * the index copies the bytes in). A returned value is valid until the next call.
 */
export class OffsetValueEncoder {
  private bytes = new Uint8Array(OFFSET_FIXED_BYTES + 64);
  private view = new DataView(this.bytes.buffer);

  encode(offset: number, leaderEpoch: number, commitTimestamp: number, metadata: string): Uint8Array {
    if (this.bytes.length < OFFSET_FIXED_BYTES + 3 * metadata.length) {
      this.bytes = new Uint8Array(OFFSET_FIXED_BYTES + 3 * metadata.length);
      this.view = new DataView(this.bytes.buffer);
    }
    this.view.setFloat64(0, offset, true);
    this.view.setInt32(8, leaderEpoch, true);
    this.view.setFloat64(12, commitTimestamp, true);
    const metadataBytes = metadata.length === 0 ? 0 : utf8.encodeInto(metadata, this.bytes.subarray(OFFSET_FIXED_BYTES)).written;
    return this.bytes.subarray(0, OFFSET_FIXED_BYTES + metadataBytes);
  }
}

export function decodeCommittedOffset(bytes: Uint8Array): CommittedOffset {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Object.freeze({
    offset: view.getFloat64(0, true),
    leaderEpoch: view.getInt32(8, true),
    metadata: bytes.length === OFFSET_FIXED_BYTES ? '' : utf8Decoder.decode(bytes.subarray(OFFSET_FIXED_BYTES)),
    commitTimestamp: view.getFloat64(12, true),
  });
}

export function encodeWatermarks(watermarks: Watermarks): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setFloat64(0, watermarks.highWatermark, true);
  view.setFloat64(8, watermarks.logStartOffset, true);
  return bytes;
}

export function decodeWatermarks(bytes: Uint8Array): Readonly<Watermarks> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Object.freeze({ highWatermark: view.getFloat64(0, true), logStartOffset: view.getFloat64(8, true) });
}
