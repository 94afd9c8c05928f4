/**
 * Partition log metadata: watermarks and segments.
 * - The high watermark and the log start offset never move backwards (WATERMARK_REGRESSION), and the
 *   log start offset never passes the high watermark; only an explicit reset may move them back.
 * - Segments are keyed by id per partition; an id is added once and removed once.
 * Both belong to an existing partition and go away with their topic.
 */
import type { EventBody, SegmentInfo, Watermarks } from '../codec/event-schema.js';
import { MetaLogError } from '../errors.js';
import { COMMITTED_OFFSET_MAX, PARTITIONS_MAX } from '../limits.js';
import type { MetadataState } from '../state/metadata-state.js';
import { checkTopicName, requireInteger, requireString } from './input-rules.js';

/** Partition log commands as queued for the writer. */
export type PartitionLogCommand =
  | { type: 'UpdateWatermarks'; value: { topic: string; partition: number; highWatermark: number | null; logStartOffset: number | null; reset: boolean } }
  | { type: 'AddSegment'; value: SegmentInfo & { topic: string; partition: number } }
  | { type: 'RemoveSegment'; value: { topic: string; partition: number; segmentId: number } };

function offsetField(value: unknown, field: string): number {
  return requireInteger(value, 0, COMMITTED_OFFSET_MAX, field);
}

function topicPartition(topic: unknown, partition: unknown): { topic: string; partition: number } {
  checkTopicName(topic, 'topic');
  return { topic, partition: requireInteger(partition, 0, PARTITIONS_MAX - 1, 'partition', 'UNKNOWN_TOPIC_OR_PARTITION') };
}

/** Checks updateWatermarks / resetWatermarks arguments. */
export function checkWatermarksInput(topic: unknown, partition: unknown, change: unknown, reset: boolean): PartitionLogCommand {
  const { highWatermark, logStartOffset } = (change ?? {}) as Partial<Watermarks>;
  if (highWatermark === undefined && logStartOffset === undefined) {
    throw new MetaLogError('INVALID_REQUEST', 'give highWatermark, logStartOffset or both', { field: 'change' });
  }
  if (reset && (highWatermark === undefined || logStartOffset === undefined)) {
    throw new MetaLogError('INVALID_REQUEST', 'a reset gives both highWatermark and logStartOffset', { field: 'change' });
  }
  return {
    type: 'UpdateWatermarks',
    value: {
      ...topicPartition(topic, partition),
      highWatermark: highWatermark === undefined ? null : offsetField(highWatermark, 'highWatermark'),
      logStartOffset: logStartOffset === undefined ? null : offsetField(logStartOffset, 'logStartOffset'),
      reset,
    },
  };
}

/** Checks addSegment arguments. */
export function checkAddSegmentInput(topic: unknown, partition: unknown, segment: unknown): PartitionLogCommand {
  const info = (segment ?? {}) as Partial<SegmentInfo>;
  const baseOffset = offsetField(info.baseOffset, 'baseOffset');
  const lastOffset = offsetField(info.lastOffset, 'lastOffset');
  if (lastOffset < baseOffset - 1) throw new MetaLogError('INVALID_REQUEST', 'lastOffset is below baseOffset - 1', { field: 'lastOffset' });
  return {
    type: 'AddSegment',
    value: {
      ...topicPartition(topic, partition),
      segmentId: offsetField(info.segmentId, 'segmentId'),
      baseOffset,
      lastOffset,
      sizeBytes: offsetField(info.sizeBytes, 'sizeBytes'),
      recordCount: offsetField(info.recordCount, 'recordCount'),
      path: requireString(info.path, 1, 4096, 'path'),
    },
  };
}

/** Checks removeSegment arguments. */
export function checkRemoveSegmentInput(topic: unknown, partition: unknown, segmentId: unknown): PartitionLogCommand {
  return { type: 'RemoveSegment', value: { ...topicPartition(topic, partition), segmentId: offsetField(segmentId, 'segmentId') } };
}

function requirePartition(state: MetadataState, topic: string, partition: number): void {
  const count = state.partitionCount(topic);
  if (count === undefined || partition >= count) {
    throw new MetaLogError('UNKNOWN_TOPIC_OR_PARTITION', `${topic}-${partition} does not exist`, { entity: `${topic}-${partition}` });
  }
}

function decideWatermarks(value: Extract<PartitionLogCommand, { type: 'UpdateWatermarks' }>['value'], state: MetadataState): EventBody {
  const entity = `${value.topic}-${value.partition}`;
  const current = state.watermarks.get(value.topic)?.get(value.partition) ?? { highWatermark: 0, logStartOffset: 0 };
  const highWatermark = value.highWatermark ?? current.highWatermark;
  const logStartOffset = value.logStartOffset ?? current.logStartOffset;
  if (!value.reset && (highWatermark < current.highWatermark || logStartOffset < current.logStartOffset)) {
    throw new MetaLogError(
      'WATERMARK_REGRESSION',
      `${entity} is at high watermark ${current.highWatermark}, log start ${current.logStartOffset}; watermarks move back only by an explicit reset`,
      { entity },
    );
  }
  if (logStartOffset > highWatermark) {
    throw new MetaLogError('WATERMARK_REGRESSION', `${entity}: the log start offset ${logStartOffset} would pass the high watermark ${highWatermark}`, { entity });
  }
  return { type: 'WatermarksUpdated', value: { topic: value.topic, partition: value.partition, highWatermark, logStartOffset, reset: value.reset } };
}

/** Decides a partition log command against the state. */
export function decidePartitionLogCommand(command: PartitionLogCommand, state: MetadataState): EventBody {
  const { topic, partition } = command.value;
  requirePartition(state, topic, partition);
  switch (command.type) {
    case 'UpdateWatermarks':
      return decideWatermarks(command.value, state);
    case 'AddSegment':
      if (state.segments.get(topic)?.get(partition)?.has(command.value.segmentId) === true) {
        throw new MetaLogError('INVALID_REQUEST', `segment ${command.value.segmentId} of ${topic}-${partition} already exists`, { entity: `${topic}-${partition}`, field: 'segmentId' });
      }
      return { type: 'SegmentAdded', value: command.value };
    case 'RemoveSegment':
      if (state.segments.get(topic)?.get(partition)?.has(command.value.segmentId) !== true) {
        throw new MetaLogError('INVALID_REQUEST', `segment ${command.value.segmentId} of ${topic}-${partition} does not exist`, { entity: `${topic}-${partition}`, field: 'segmentId' });
      }
      return { type: 'SegmentRemoved', value: command.value };
  }
}
