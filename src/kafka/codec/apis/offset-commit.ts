/**
 * OffsetCommit (key 8), v1–v7.
 *
 *   Request v1: group_id STRING, generation_id INT32, member_id STRING,
 *               topics [name STRING, partitions [partition_index INT32, committed_offset INT64,
 *                                                commit_timestamp INT64, committed_metadata NULLABLE_STRING]]
 *   Request v2–v4: retention_time_ms INT64 after member_id; partitions lose commit_timestamp
 *   Request v5: retention_time_ms removed
 *   Request v6: partitions gain committed_leader_epoch INT32 after committed_offset
 *   Request v7: group_instance_id NULLABLE_STRING after member_id
 *   Response v1–v2: topics [name STRING, partitions [partition_index INT32, error_code INT16]]
 *   Response v3–v7: throttle_time_ms INT32 first
 */
import type { ApiCodec } from '../api.js';

export interface OffsetCommitPartition {
  readonly partitionIndex: number;
  readonly committedOffset: number;
  readonly committedLeaderEpoch: number;
  readonly committedMetadata: string | null;
}

export interface OffsetCommitRequest {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly topics: readonly { readonly name: string; readonly partitions: readonly OffsetCommitPartition[] }[];
}

export interface OffsetCommitResponse {
  readonly topics: readonly { readonly name: string; readonly partitions: readonly { readonly partitionIndex: number; readonly errorCode: number }[] }[];
}

export const OffsetCommit: ApiCodec<OffsetCommitRequest, OffsetCommitResponse> = {
  apiKey: 8,
  name: 'OffsetCommit',
  minVersion: 1,
  maxVersion: 7,
  flexibleFromVersion: 8,
  decodeRequest(reader, version) {
    const groupId = reader.string();
    const generationId = reader.int32();
    const memberId = reader.string();
    const groupInstanceId = version >= 7 ? reader.nullableString() : null;
    if (version >= 2 && version <= 4) reader.int64();
    const topics = reader.array((r) => ({
      name: r.string(),
      partitions: r.array((pr) => {
        const partitionIndex = pr.int32();
        const committedOffset = pr.int64();
        const committedLeaderEpoch = version >= 6 ? pr.int32() : -1;
        if (version === 1) pr.int64();
        return { partitionIndex, committedOffset, committedLeaderEpoch, committedMetadata: pr.nullableString() };
      }),
    }));
    return { groupId, generationId, memberId, groupInstanceId, topics };
  },
  encodeResponse(writer, version, response) {
    if (version >= 3) writer.int32(0);
    writer.array(response.topics, (w, topic) => {
      w.string(topic.name);
      w.array(topic.partitions, (pw, partition) => pw.int32(partition.partitionIndex).int16(partition.errorCode));
    });
  },
};
