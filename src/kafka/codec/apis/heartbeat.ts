/**
 * Heartbeat (key 12), v0–v3.
 *
 *   Request v0–v2: group_id STRING, generation_id INT32, member_id STRING
 *   Request v3: group_instance_id NULLABLE_STRING at the end
 *   Response v0: error_code INT16
 *   Response v1–v3: throttle_time_ms INT32, error_code INT16
 */
import type { ApiCodec } from '../api.js';

export interface HeartbeatRequest {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
}

export interface HeartbeatResponse {
  readonly errorCode: number;
}

export const Heartbeat: ApiCodec<HeartbeatRequest, HeartbeatResponse> = {
  apiKey: 12,
  name: 'Heartbeat',
  minVersion: 0,
  maxVersion: 3,
  flexibleFromVersion: 4,
  decodeRequest(reader, version) {
    const groupId = reader.string();
    const generationId = reader.int32();
    const memberId = reader.string();
    return { groupId, generationId, memberId, groupInstanceId: version >= 3 ? reader.nullableString() : null };
  },
  encodeResponse(writer, version, response) {
    if (version >= 1) writer.int32(0);
    writer.int16(response.errorCode);
  },
};
