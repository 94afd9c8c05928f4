/**
 * Produce (key 0), v3–v7 (v3 is the first that carries RecordBatch v2, the only format this broker
 * stores).
 *
 *   Request v3–v7: transactional_id NULLABLE_STRING, acks INT16, timeout_ms INT32,
 *                  topic_data [name STRING, partition_data [index INT32, records NULLABLE_BYTES]]
 *   Response v3–v4: responses [name STRING, partition_responses [index INT32, error_code INT16,
 *                   base_offset INT64, log_append_time_ms INT64]], throttle_time_ms INT32
 *   Response v5–v7: partition responses gain log_start_offset INT64 at the end
 *
 * With acks = 0 the client expects no response at all (the handler answers null).
 */
import type { ApiCodec } from '../api.js';

export interface ProducePartitionData {
  readonly index: number;
  /** The RecordBatches as sent (a view of the request's bytes). */
  readonly records: Buffer | null;
}

export interface ProduceRequest {
  readonly transactionalId: string | null;
  readonly acks: number;
  readonly timeoutMs: number;
  readonly topics: readonly { readonly name: string; readonly partitions: readonly ProducePartitionData[] }[];
}

export interface ProducePartitionResponse {
  readonly index: number;
  readonly errorCode: number;
  readonly baseOffset: number;
  readonly logAppendTimeMs: number;
  readonly logStartOffset: number;
}

export interface ProduceResponse {
  readonly topics: readonly { readonly name: string; readonly partitions: readonly ProducePartitionResponse[] }[];
}

export const Produce: ApiCodec<ProduceRequest, ProduceResponse> = {
  apiKey: 0,
  name: 'Produce',
  minVersion: 3,
  maxVersion: 7,
  flexibleFromVersion: 9,
  decodeRequest(reader) {
    const transactionalId = reader.nullableString();
    const acks = reader.int16();
    const timeoutMs = reader.int32();
    const topics = reader.array((r) => ({
      name: r.string(),
      partitions: r.array((pr) => ({ index: pr.int32(), records: pr.nullableBytes() })),
    }));
    return { transactionalId, acks, timeoutMs, topics };
  },
  encodeResponse(writer, version, response) {
    writer.array(response.topics, (w, topic) => {
      w.string(topic.name);
      w.array(topic.partitions, (pw, partition) => {
        pw.int32(partition.index).int16(partition.errorCode).int64(partition.baseOffset).int64(partition.logAppendTimeMs);
        if (version >= 5) pw.int64(partition.logStartOffset);
      });
    });
    writer.int32(0);
  },
};
