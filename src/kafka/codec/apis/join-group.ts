/**
 * JoinGroup (key 11), v0–v5.
 *
 *   Request v0: group_id STRING, session_timeout_ms INT32, member_id STRING, protocol_type STRING,
 *               protocols [name STRING, metadata BYTES]
 *   Request v1–v4: rebalance_timeout_ms INT32 after session_timeout_ms
 *   Request v5: group_instance_id NULLABLE_STRING after member_id
 *   Response v0–v1: error_code INT16, generation_id INT32, protocol_name STRING, leader STRING,
 *                   member_id STRING, members [member_id STRING, metadata BYTES]
 *   Response v2–v4: throttle_time_ms INT32 first
 *   Response v5: members gain group_instance_id NULLABLE_STRING after member_id
 *
 * v4+ with an empty member id: the broker answers MEMBER_ID_REQUIRED with a member id to join with.
 */
import type { ApiCodec } from '../api.js';

export interface JoinGroupProtocol {
  readonly name: string;
  readonly metadata: Buffer;
}

export interface JoinGroupRequest {
  readonly groupId: string;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly protocolType: string;
  readonly protocols: readonly JoinGroupProtocol[];
}

export interface JoinGroupMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly metadata: Uint8Array;
}

export interface JoinGroupResponse {
  readonly errorCode: number;
  readonly generationId: number;
  readonly protocolName: string;
  readonly leader: string;
  readonly memberId: string;
  readonly members: readonly JoinGroupMember[];
}

export const JoinGroup: ApiCodec<JoinGroupRequest, JoinGroupResponse> = {
  apiKey: 11,
  name: 'JoinGroup',
  minVersion: 0,
  maxVersion: 5,
  flexibleFromVersion: 6,
  decodeRequest(reader, version) {
    const groupId = reader.string();
    const sessionTimeoutMs = reader.int32();
    const rebalanceTimeoutMs = version >= 1 ? reader.int32() : sessionTimeoutMs;
    const memberId = reader.string();
    const groupInstanceId = version >= 5 ? reader.nullableString() : null;
    const protocolType = reader.string();
    const protocols = reader.array((r) => ({ name: r.string(), metadata: r.bytesField() }));
    return { groupId, sessionTimeoutMs, rebalanceTimeoutMs, memberId, groupInstanceId, protocolType, protocols };
  },
  encodeResponse(writer, version, response) {
    if (version >= 2) writer.int32(0);
    writer.int16(response.errorCode).int32(response.generationId).string(response.protocolName).string(response.leader).string(response.memberId);
    writer.array(response.members, (w, member) => {
      w.string(member.memberId);
      if (version >= 5) w.nullableString(member.groupInstanceId);
      w.bytesField(member.metadata);
    });
  },
};
