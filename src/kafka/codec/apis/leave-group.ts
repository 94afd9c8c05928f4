/**
 * LeaveGroup (key 13), v0–v3.
 *
 *   Request v0–v2: group_id STRING, member_id STRING
 *   Request v3: group_id STRING, members [member_id STRING, group_instance_id NULLABLE_STRING]
 *   Response v0: error_code INT16
 *   Response v1–v2: throttle_time_ms INT32, error_code INT16
 *   Response v3: v1 + members [member_id STRING, group_instance_id NULLABLE_STRING, error_code INT16]
 */
import type { ApiCodec } from '../api.js';

export interface LeavingMember {
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export interface LeaveGroupRequest {
  readonly groupId: string;
  readonly members: readonly LeavingMember[];
}

export interface LeaveGroupResponse {
  readonly errorCode: number;
  readonly members: readonly (LeavingMember & { readonly errorCode: number })[];
}

export const LeaveGroup: ApiCodec<LeaveGroupRequest, LeaveGroupResponse> = {
  apiKey: 13,
  name: 'LeaveGroup',
  minVersion: 0,
  maxVersion: 3,
  flexibleFromVersion: 4,
  decodeRequest(reader, version) {
    const groupId = reader.string();
    if (version < 3) return { groupId, members: [{ memberId: reader.string(), groupInstanceId: null }] };
    return { groupId, members: reader.array((r) => ({ memberId: r.string(), groupInstanceId: r.nullableString() })) };
  },
  encodeResponse(writer, version, response) {
    if (version >= 1) writer.int32(0);
    writer.int16(response.errorCode);
    if (version >= 3) {
      writer.array(response.members, (w, member) => w.string(member.memberId).nullableString(member.groupInstanceId).int16(member.errorCode));
    }
  },
};
