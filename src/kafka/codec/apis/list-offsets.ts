/**
 * ListOffsets (key 2), v1–v5.
 *
 *   Request v1: replica_id INT32, topics [name STRING, partitions [partition_index INT32, timestamp INT64]]
 *   Request v2–v3: isolation_level INT8 after replica_id
 *   Request v4–v5: partitions gain current_leader_epoch INT32 after partition_index
 *   Response v1: topics [name STRING, partitions [partition_index INT32, error_code INT16,
 *                timestamp INT64, offset INT64]]
 *   Response v2–v3: throttle_time_ms INT32 first
 *   Response v4–v5: partitions gain leader_epoch INT32 at the end
 *
 * Timestamp -1 asks for the latest offset (the high watermark), -2 for the earliest (the log start).
 */
import type { ApiCodec } from '../api.js';

export interface ListOffsetsRequest {
  readonly replicaId: number;
  readonly isolationLevel: number;
  readonly topics: readonly {
    readonly name: string;
    readonly partitions: readonly { readonly partitionIndex: number; readonly currentLeaderEpoch: number; readonly timestamp: number }[];
  }[];
}

export interface ListOffsetsPartitionResponse {
  readonly partitionIndex: number;
  readonly errorCode: number;
  readonly timestamp: number;
  readonly offset: number;
  readonly leaderEpoch: number;
}

export interface ListOffsetsResponse {
  readonly topics: readonly { readonly name: string; readonly partitions: readonly ListOffsetsPartitionResponse[] }[];
}

export const ListOffsets: ApiCodec<ListOffsetsRequest, ListOffsetsResponse> = {
  apiKey: 2,
  name: 'ListOffsets',
  minVersion: 1,
  maxVersion: 5,
  flexibleFromVersion: 6,
  decodeRequest(reader, version) {
    const replicaId = reader.int32();
    const isolationLevel = version >= 2 ? reader.int8() : 0;
    const topics = reader.array((r) => ({
      name: r.string(),
      partitions: r.array((pr) => {
        const partitionIndex = pr.int32();
        const currentLeaderEpoch = version >= 4 ? pr.int32() : -1;
        return { partitionIndex, currentLeaderEpoch, timestamp: pr.int64() };
      }),
    }));
    return { replicaId, isolationLevel, topics };
  },
  encodeResponse(writer, version, response) {
    if (version >= 2) writer.int32(0);
    writer.array(response.topics, (w, topic) => {
      w.string(topic.name);
      w.array(topic.partitions, (pw, partition) => {
        pw.int32(partition.partitionIndex).int16(partition.errorCode).int64(partition.timestamp).int64(partition.offset);
        if (version >= 4) pw.int32(partition.leaderEpoch);
      });
    });
  },
};
