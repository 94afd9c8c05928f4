/**
 * OffsetFetch (key 9), v1–v5.
 *
 *   Request v1: group_id STRING, topics [name STRING, partition_indexes [INT32]]
 *   Request v2–v5: topics is NULLABLE (null: every committed offset of the group)
 *   Response v1: topics [name STRING, partitions [partition_index INT32, committed_offset INT64,
 *                metadata NULLABLE_STRING, error_code INT16]]
 *   Response v2: error_code INT16 at the end
 *   Response v3–v4: throttle_time_ms INT32 first
 *   Response v5: partitions gain committed_leader_epoch INT32 after committed_offset
 *
 * A partition with no committed offset answers offset -1 and metadata "" with no error.
 */
import type { ApiCodec } from '../api.js';

export interface OffsetFetchRequest {
  readonly groupId: string;
  readonly topics: readonly { readonly name: string; readonly partitionIndexes: readonly number[] }[] | null;
}

export interface OffsetFetchPartitionResponse {
  readonly partitionIndex: number;
  readonly committedOffset: number;
  readonly committedLeaderEpoch: number;
  readonly metadata: string | null;
  readonly errorCode: number;
}

export interface OffsetFetchResponse {
  readonly errorCode: number;
  readonly topics: readonly { readonly name: string; readonly partitions: readonly OffsetFetchPartitionResponse[] }[];
}

export const OffsetFetch: ApiCodec<OffsetFetchRequest, OffsetFetchResponse> = {
  apiKey: 9,
  name: 'OffsetFetch',
  minVersion: 1,
  maxVersion: 5,
  flexibleFromVersion: 6,
  decodeRequest(reader, version) {
    const groupId = reader.string();
    const readTopic = (r: typeof reader) => ({ name: r.string(), partitionIndexes: r.array((pr) => pr.int32()) });
    const topics = version >= 2 ? reader.nullableArray(readTopic) : reader.array(readTopic);
    return { groupId, topics };
  },
  encodeResponse(writer, version, response) {
    if (version >= 3) writer.int32(0);
    writer.array(response.topics, (w, topic) => {
      w.string(topic.name);
      w.array(topic.partitions, (pw, partition) => {
        pw.int32(partition.partitionIndex).int64(partition.committedOffset);
        if (version >= 5) pw.int32(partition.committedLeaderEpoch);
        pw.nullableString(partition.metadata).int16(partition.errorCode);
      });
    });
    if (version >= 2) writer.int16(response.errorCode);
  },
};
