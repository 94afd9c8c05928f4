/**
 * Record batches built by kafkajs (the client library's own encoder, plain or gzip), so the partition log
 * is tested against the bytes a real client sends, plus small helpers for building logs in tests.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (options: Record<string, unknown>) => Promise<{ buffer: Buffer }>;
};
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (options: Record<string, unknown>) => unknown;
const Long = require('kafkajs/src/utils/long.js') as { fromNumber(value: number): unknown };
const { Types } = require('kafkajs/src/protocol/message/compression/index.js') as { Types: { None: number; GZIP: number } };

/** What a test batch holds. */
export interface BatchSpec {
  values: string[];
  /** Timestamp of every record (the batch's base and max timestamp). */
  timestampMs?: number;
  compression?: 'none' | 'gzip';
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
}

/** One RecordBatch v2 as kafkajs encodes it for a Produce. */
export async function buildBatch(spec: BatchSpec): Promise<Buffer> {
  const timestampMs = spec.timestampMs ?? 1_700_000_000_000;
  const records = spec.values.map((value, i) => encodeRecord({ offsetDelta: i, timestampDelta: 0, key: Buffer.from(`k${i}`), value: Buffer.from(value) }));
  const encoded = await RecordBatch({
    compression: spec.compression === 'gzip' ? Types.GZIP : Types.None,
    firstTimestamp: timestampMs,
    maxTimestamp: timestampMs,
    lastOffsetDelta: spec.values.length - 1,
    producerId: Long.fromNumber(spec.producerId ?? -1),
    producerEpoch: spec.producerEpoch ?? 0,
    firstSequence: spec.baseSequence ?? 0,
    records,
  });
  return Buffer.from(encoded.buffer);
}

/** `count` values named after `prefix`. */
export function values(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

/** The batches of stored bytes as (baseOffset, lastOffset) pairs. */
export function batchOffsets(records: Buffer): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  let at = 0;
  for (let round = 0; at < records.length && round < 100_000; round++) {
    const baseOffset = Number(records.readBigInt64BE(at));
    found.push([baseOffset, baseOffset + records.readInt32BE(at + 23)]);
    at += 12 + records.readInt32BE(at + 8);
  }
  return found;
}

const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => unknown;
const decodeMessages = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js') as (
  decoder: unknown,
) => Promise<Array<{ offset: string; value: Buffer }>>;

/** The records of stored batches as a kafkajs consumer decodes them from a Fetch: [offset, value]. */
export async function consumeWithKafkajs(records: Buffer): Promise<Array<[number, string]>> {
  const sized = Buffer.alloc(4 + records.length);
  sized.writeInt32BE(records.length, 0);
  records.copy(sized, 4);
  const decoded = await decodeMessages(new Decoder(sized));
  return decoded.map((record) => [Number(record.offset), record.value.toString()]);
}
