/**
 * CreateTopics (key 19), v0–v4.
 *
 *   Request v0: topics [name STRING, num_partitions INT32, replication_factor INT16,
 *                       assignments [partition_index INT32, broker_ids [INT32]],
 *                       configs [name STRING, value NULLABLE_STRING]], timeout_ms INT32
 *   Request v1–v4: validate_only BOOLEAN at the end
 *   Response v0: topics [name STRING, error_code INT16]
 *   Response v1: topics gain error_message NULLABLE_STRING
 *   Response v2–v4: throttle_time_ms INT32 first
 *
 * num_partitions and replication_factor of -1 mean the broker's defaults (v4+ in Kafka; accepted at
 * every version here).
 */
import type { ApiCodec } from '../api.js';

export interface CreatableTopic {
  readonly name: string;
  readonly numPartitions: number;
  readonly replicationFactor: number;
  readonly assignments: readonly { readonly partitionIndex: number; readonly brokerIds: readonly number[] }[];
  readonly configs: readonly { readonly name: string; readonly value: string | null }[];
}

export interface CreateTopicsRequest {
  readonly topics: readonly CreatableTopic[];
  readonly timeoutMs: number;
  readonly validateOnly: boolean;
}

export interface TopicResult {
  readonly name: string;
  readonly errorCode: number;
  readonly errorMessage: string | null;
}

export interface CreateTopicsResponse {
  readonly topics: readonly TopicResult[];
}

export const CreateTopics: ApiCodec<CreateTopicsRequest, CreateTopicsResponse> = {
  apiKey: 19,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 4,
  flexibleFromVersion: 5,
  decodeRequest(reader, version) {
    const topics = reader.array((r) => ({
      name: r.string(),
      numPartitions: r.int32(),
      replicationFactor: r.int16(),
      assignments: r.array((ar) => ({ partitionIndex: ar.int32(), brokerIds: ar.array((br) => br.int32()) })),
      configs: r.array((cr) => ({ name: cr.string(), value: cr.nullableString() })),
    }));
    const timeoutMs = reader.int32();
    return { topics, timeoutMs, validateOnly: version >= 1 ? reader.boolean() : false };
  },
  encodeResponse(writer, version, response) {
    if (version >= 2) writer.int32(0);
    writer.array(response.topics, (w, topic) => {
      w.string(topic.name).int16(topic.errorCode);
      if (version >= 1) w.nullableString(topic.errorMessage);
    });
  },
};
