/**
 * OffsetDelete (key 47), v0.
 *
 *   Request v0: group_id STRING, topics [name STRING, partitions [partition_index INT32]]
 *   Response v0: error_code INT16, throttle_time_ms INT32,
 *                topics [name STRING, partitions [partition_index INT32, error_code INT16]]
 */
import type { ApiCodec } from '../api.js';

export interface OffsetDeleteRequest {
  readonly groupId: string;
  readonly topics: readonly { readonly name: string; readonly partitionIndexes: readonly number[] }[];
}

export interface OffsetDeleteResponse {
  readonly errorCode: number;
  readonly topics: readonly { readonly name: string; readonly partitions: readonly { readonly partitionIndex: number; readonly errorCode: number }[] }[];
}

export const OffsetDelete: ApiCodec<OffsetDeleteRequest, OffsetDeleteResponse> = {
  apiKey: 47,
  name: 'OffsetDelete',
  minVersion: 0,
  maxVersion: 0,
  flexibleFromVersion: 1,
  decodeRequest(reader) {
    const groupId = reader.string();
    return { groupId, topics: reader.array((r) => ({ name: r.string(), partitionIndexes: r.array((pr) => pr.int32()) })) };
  },
  encodeResponse(writer, _version, response) {
    writer.int16(response.errorCode).int32(0);
    writer.array(response.topics, (w, topic) => {
      w.string(topic.name);
      w.array(topic.partitions, (pw, partition) => pw.int32(partition.partitionIndex).int16(partition.errorCode));
    });
  },
};
