/**
 * ListGroups (key 16), v0–v2.
 *
 *   Request v0–v2: (empty)
 *   Response v0: error_code INT16, groups [group_id STRING, protocol_type STRING]
 *   Response v1–v2: throttle_time_ms INT32 first
 */
import type { ApiCodec } from '../api.js';

export interface ListGroupsResponse {
  readonly errorCode: number;
  readonly groups: readonly { readonly groupId: string; readonly protocolType: string }[];
}

export const ListGroups: ApiCodec<Record<string, never>, ListGroupsResponse> = {
  apiKey: 16,
  name: 'ListGroups',
  minVersion: 0,
  maxVersion: 2,
  flexibleFromVersion: 3,
  decodeRequest() {
    return {};
  },
  encodeResponse(writer, version, response) {
    if (version >= 1) writer.int32(0);
    writer.int16(response.errorCode);
    writer.array(response.groups, (w, group) => w.string(group.groupId).string(group.protocolType));
  },
};
