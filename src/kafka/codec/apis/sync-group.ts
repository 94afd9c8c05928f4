/**
 * SyncGroup (key 14), v0–v3.
 *
 *   Request v0–v2: group_id STRING, generation_id INT32, member_id STRING,
 *                  assignments [member_id STRING, assignment BYTES]
 *   Request v3: group_instance_id NULLABLE_STRING after member_id
 *   Response v0: error_code INT16, assignment BYTES
 *   Response v1–v3: throttle_time_ms INT32 first
 */
import type { ApiCodec } from '../api.js';

export interface SyncGroupRequest {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  readonly assignments: readonly { readonly memberId: string; readonly assignment: Buffer }[];
}

export interface SyncGroupResponse {
  readonly errorCode: number;
  readonly assignment: Uint8Array;
}

export const SyncGroup: ApiCodec<SyncGroupRequest, SyncGroupResponse> = {
  apiKey: 14,
  name: 'SyncGroup',
  minVersion: 0,
  maxVersion: 3,
  flexibleFromVersion: 4,
  decodeRequest(reader, version) {
    const groupId = reader.string();
    const generationId = reader.int32();
    const memberId = reader.string();
    const groupInstanceId = version >= 3 ? reader.nullableString() : null;
    const assignments = reader.array((r) => ({ memberId: r.string(), assignment: r.bytesField() }));
    return { groupId, generationId, memberId, groupInstanceId, assignments };
  },
  encodeResponse(writer, version, response) {
    if (version >= 1) writer.int32(0);
    writer.int16(response.errorCode).bytesField(response.assignment);
  },
};
