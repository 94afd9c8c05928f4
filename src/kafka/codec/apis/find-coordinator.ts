/**
 * FindCoordinator (key 10), v0–v2.
 *
 *   Request v0: key STRING (a group id)
 *   Request v1–v2: key STRING, key_type INT8 (0 group, 1 transaction)
 *   Response v0: error_code INT16, node_id INT32, host STRING, port INT32
 *   Response v1–v2: throttle_time_ms INT32, error_code INT16, error_message NULLABLE_STRING,
 *                   node_id INT32, host STRING, port INT32
 */
import type { ApiCodec } from '../api.js';

export interface FindCoordinatorRequest {
  readonly key: string;
  readonly keyType: number;
}

export interface FindCoordinatorResponse {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly nodeId: number;
  readonly host: string;
  readonly port: number;
}

export const FindCoordinator: ApiCodec<FindCoordinatorRequest, FindCoordinatorResponse> = {
  apiKey: 10,
  name: 'FindCoordinator',
  minVersion: 0,
  maxVersion: 2,
  flexibleFromVersion: 3,
  decodeRequest(reader, version) {
    const key = reader.string();
    return { key, keyType: version >= 1 ? reader.int8() : 0 };
  },
  encodeResponse(writer, version, response) {
    if (version >= 1) writer.int32(0);
    writer.int16(response.errorCode);
    if (version >= 1) writer.nullableString(response.errorMessage);
    writer.int32(response.nodeId).string(response.host).int32(response.port);
  },
};
