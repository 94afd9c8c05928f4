/**
 * Metadata (key 3), v0–v6. Served up to v6: v7 adds leader epochs that clients then validate, which this
 * broker does not serve yet.
 *
 *   Request v0: topics [name STRING] (empty: every topic)
 *   Request v1–v3: topics NULLABLE ARRAY [name STRING] (null: every topic; empty: none)
 *   Request v4–v6: v1 + allow_auto_topic_creation BOOLEAN
 *   Response v0: brokers [node_id INT32, host STRING, port INT32],
 *                topics [error_code INT16, name STRING,
 *                        partitions [error_code INT16, partition_index INT32, leader_id INT32,
 *                                    replica_nodes [INT32], isr_nodes [INT32]]]
 *   Response v1: brokers gain rack NULLABLE_STRING; controller_id INT32 after brokers;
 *                topics gain is_internal BOOLEAN after name
 *   Response v2: cluster_id NULLABLE_STRING between brokers and controller_id
 *   Response v3–v4: throttle_time_ms INT32 first
 *   Response v5–v6: partitions gain offline_replicas [INT32] at the end
 */
import type { ApiCodec } from '../api.js';

export interface MetadataRequest {
  /** Names asked for; null means every topic. */
  readonly topics: readonly string[] | null;
  readonly allowAutoTopicCreation: boolean;
}

export interface MetadataBroker {
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
}

export interface MetadataPartition {
  readonly errorCode: number;
  readonly partitionIndex: number;
  readonly leaderId: number;
  readonly replicaNodes: readonly number[];
  readonly isrNodes: readonly number[];
}

export interface MetadataTopic {
  readonly errorCode: number;
  readonly name: string;
  readonly isInternal: boolean;
  readonly partitions: readonly MetadataPartition[];
}

export interface MetadataResponse {
  readonly brokers: readonly MetadataBroker[];
  readonly clusterId: string | null;
  readonly controllerId: number;
  readonly topics: readonly MetadataTopic[];
}

export const Metadata: ApiCodec<MetadataRequest, MetadataResponse> = {
  apiKey: 3,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 6,
  flexibleFromVersion: 9,
  decodeRequest(reader, version) {
    const names = version === 0 ? reader.array((r) => r.string()) : reader.nullableArray((r) => r.string());
    const topics = version === 0 && names !== null && names.length === 0 ? null : names;
    const allowAutoTopicCreation = version >= 4 ? reader.boolean() : true;
    return { topics, allowAutoTopicCreation };
  },
  encodeResponse(writer, version, response) {
    if (version >= 3) writer.int32(0);
    writer.array(response.brokers, (w, broker) => {
      w.int32(broker.nodeId).string(broker.host).int32(broker.port);
      if (version >= 1) w.nullableString(broker.rack);
    });
    if (version >= 2) writer.nullableString(response.clusterId);
    if (version >= 1) writer.int32(response.controllerId);
    writer.array(response.topics, (w, topic) => {
      w.int16(topic.errorCode).string(topic.name);
      if (version >= 1) w.boolean(topic.isInternal);
      w.array(topic.partitions, (pw, partition) => {
        pw.int16(partition.errorCode).int32(partition.partitionIndex).int32(partition.leaderId);
        pw.array(partition.replicaNodes, (nw, node) => nw.int32(node));
        pw.array(partition.isrNodes, (nw, node) => nw.int32(node));
        if (version >= 5) pw.array([], (nw, node: number) => nw.int32(node));
      });
    });
  },
};
