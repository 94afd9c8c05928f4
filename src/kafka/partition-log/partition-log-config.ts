/**
 * The topic configs the partition log obeys, as Kafka names them (max.message.bytes, segment.bytes,
 * segment.ms, index.interval.bytes), each with its default and its allowed range. A bad value is
 * refused with INVALID_CONFIG naming the config and the range, as a CreateTopics or AlterConfigs answer.
 */
import { KafkaError } from '../error-codes.js';
import {
  BATCH_BYTES_MAX,
  BATCH_HEADER_BYTES,
  INDEX_INTERVAL_BYTES_DEFAULT,
  MAX_MESSAGE_BYTES_DEFAULT,
  SEGMENT_BYTES_DEFAULT,
  SEGMENT_BYTES_MAX,
  SEGMENT_BYTES_MIN,
  SEGMENT_MS_DEFAULT,
} from './limits.js';

/** The configs of one partition's log. */
export interface PartitionLogConfig {
  /** `max.message.bytes`: the largest batch a Produce may carry. */
  maxMessageBytes: number;
  /** `segment.bytes`: a segment is rolled before it would grow past this. */
  segmentBytes: number;
  /** `segment.ms`: a segment is rolled once its first batch's timestamp is this old. */
  segmentMs: number;
  /** `index.interval.bytes`: bytes of batches between two offset-index entries. */
  indexIntervalBytes: number;
}

interface Range {
  kafkaName: string;
  min: number;
  max: number;
  defaultValue: number;
}

const RANGES: Readonly<Record<keyof PartitionLogConfig, Range>> = Object.freeze({
  maxMessageBytes: { kafkaName: 'max.message.bytes', min: BATCH_HEADER_BYTES, max: BATCH_BYTES_MAX, defaultValue: MAX_MESSAGE_BYTES_DEFAULT },
  segmentBytes: { kafkaName: 'segment.bytes', min: SEGMENT_BYTES_MIN, max: SEGMENT_BYTES_MAX, defaultValue: SEGMENT_BYTES_DEFAULT },
  segmentMs: { kafkaName: 'segment.ms', min: 1, max: Number.MAX_SAFE_INTEGER, defaultValue: SEGMENT_MS_DEFAULT },
  indexIntervalBytes: { kafkaName: 'index.interval.bytes', min: 0, max: SEGMENT_BYTES_MAX, defaultValue: INDEX_INTERVAL_BYTES_DEFAULT },
});

/** A frozen config with every field filled in and checked; throws INVALID_CONFIG naming the bad field. */
export function resolvePartitionLogConfig(input: Partial<PartitionLogConfig> = {}): Readonly<PartitionLogConfig> {
  for (const key of Object.keys(input)) {
    if (!(key in RANGES)) throw new KafkaError('INVALID_CONFIG', `${key} is not a partition log config`);
  }
  const resolved = {} as PartitionLogConfig;
  for (const key of Object.keys(RANGES) as (keyof PartitionLogConfig)[]) {
    const range = RANGES[key];
    const value = input[key] ?? range.defaultValue;
    if (!Number.isSafeInteger(value) || value < range.min || value > range.max) {
      throw new KafkaError('INVALID_CONFIG', `${range.kafkaName} is ${value}; it must be an integer in [${range.min}, ${range.max}]`);
    }
    resolved[key] = value;
  }
  return Object.freeze(resolved);
}
