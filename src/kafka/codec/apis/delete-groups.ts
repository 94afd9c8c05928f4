/**
 * DeleteGroups (key 42), v0–v1.
 *
 *   Request v0–v1: groups_names [STRING]
 *   Response v0–v1: throttle_time_ms INT32, results [group_id STRING, error_code INT16]
 */
import type { ApiCodec } from '../api.js';

export interface DeleteGroupsRequest {
  readonly groupIds: readonly string[];
}

export interface DeleteGroupsResponse {
  readonly results: readonly { readonly groupId: string; readonly errorCode: number }[];
}

export const DeleteGroups: ApiCodec<DeleteGroupsRequest, DeleteGroupsResponse> = {
  apiKey: 42,
  name: 'DeleteGroups',
  minVersion: 0,
  maxVersion: 1,
  flexibleFromVersion: 2,
  decodeRequest(reader) {
    return { groupIds: reader.array((r) => r.string()) };
  },
  encodeResponse(writer, _version, response) {
    writer.int32(0);
    writer.array(response.results, (w, result) => w.string(result.groupId).int16(result.errorCode));
  },
};
