/**
 * Fetch (key 1), v4–v11 (v4 is the first with isolation level and the last stable offset).
 *
 *   Request v4: replica_id INT32, max_wait_ms INT32, min_bytes INT32, max_bytes INT32,
 *               isolation_level INT8,
 *               topics [topic STRING, partitions [partition INT32, fetch_offset INT64, partition_max_bytes INT32]]
 *   Request v5–v6: partitions gain log_start_offset INT64 after fetch_offset
 *   Request v7–v8: session_id INT32, session_epoch INT32 after isolation_level;
 *                  forgotten_topics_data [topic STRING, partitions [INT32]] after topics
 *   Request v9–v10: partitions gain current_leader_epoch INT32 after partition
 *   Request v11: rack_id STRING at the end
 *   Response v4: throttle_time_ms INT32,
 *                responses [topic STRING, partitions [partition_index INT32, error_code INT16,
 *                           high_watermark INT64, last_stable_offset INT64,
 *                           aborted_transactions NULLABLE ARRAY [producer_id INT64, first_offset INT64],
 *                           records NULLABLE_BYTES]]
 *   Response v5–v6: partitions gain log_start_offset INT64 after last_stable_offset
 *   Response v7–v10: error_code INT16, session_id INT32 after throttle_time_ms
 *   Response v11: partitions gain preferred_read_replica INT32 before records
 *
 * This broker keeps no fetch sessions (KIP-227): every fetch is a full one and is answered with session
 * id 0, which tells the client to keep sending full fetches.
 */
import type { ApiCodec } from '../api.js';

export interface FetchPartition {
  readonly partition: number;
  readonly currentLeaderEpoch: number;
  readonly fetchOffset: number;
  readonly logStartOffset: number;
  readonly partitionMaxBytes: number;
}

export interface FetchRequest {
  readonly replicaId: number;
  readonly maxWaitMs: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  readonly isolationLevel: number;
  readonly sessionId: number;
  readonly sessionEpoch: number;
  readonly topics: readonly { readonly topic: string; readonly partitions: readonly FetchPartition[] }[];
}

export interface FetchPartitionResponse {
  readonly partitionIndex: number;
  readonly errorCode: number;
  readonly highWatermark: number;
  readonly lastStableOffset: number;
  readonly logStartOffset: number;
  /** The record bytes, as ranges read from the log (written back to back as one BYTES field). */
  readonly records: readonly Uint8Array[];
}

export interface FetchResponse {
  readonly errorCode: number;
  readonly topics: readonly { readonly topic: string; readonly partitions: readonly FetchPartitionResponse[] }[];
}

export const Fetch: ApiCodec<FetchRequest, FetchResponse> = {
  apiKey: 1,
  name: 'Fetch',
  minVersion: 4,
  maxVersion: 11,
  flexibleFromVersion: 12,
  decodeRequest(reader, version) {
    const replicaId = reader.int32();
    const maxWaitMs = reader.int32();
    const minBytes = reader.int32();
    const maxBytes = reader.int32();
    const isolationLevel = reader.int8();
    const sessionId = version >= 7 ? reader.int32() : 0;
    const sessionEpoch = version >= 7 ? reader.int32() : -1;
    const topics = reader.array((r) => ({
      topic: r.string(),
      partitions: r.array((pr) => {
        const partition = pr.int32();
        const currentLeaderEpoch = version >= 9 ? pr.int32() : -1;
        const fetchOffset = pr.int64();
        const logStartOffset = version >= 5 ? pr.int64() : -1;
        const partitionMaxBytes = pr.int32();
        return { partition, currentLeaderEpoch, fetchOffset, logStartOffset, partitionMaxBytes };
      }),
    }));
    if (version >= 7) reader.array((r) => ({ topic: r.string(), partitions: r.array((pr) => pr.int32()) }));
    if (version >= 11) reader.string();
    return { replicaId, maxWaitMs, minBytes, maxBytes, isolationLevel, sessionId, sessionEpoch, topics };
  },
  encodeResponse(writer, version, response) {
    writer.int32(0);
    if (version >= 7) writer.int16(response.errorCode).int32(0);
    writer.array(response.topics, (w, topic) => {
      w.string(topic.topic);
      w.array(topic.partitions, (pw, partition) => {
        pw.int32(partition.partitionIndex).int16(partition.errorCode).int64(partition.highWatermark).int64(partition.lastStableOffset);
        if (version >= 5) pw.int64(partition.logStartOffset);
        pw.nullableArray(null, () => undefined);
        if (version >= 11) pw.int32(-1);
        pw.bytesOfParts(partition.records);
      });
    });
  },
};
