/**
 * DescribeGroups (key 15), v0–v2.
 *
 *   Request v0–v2: groups [STRING]
 *   Response v0: groups [error_code INT16, group_id STRING, group_state STRING, protocol_type STRING,
 *                protocol_data STRING, members [member_id STRING, client_id STRING, client_host STRING,
 *                member_metadata BYTES, member_assignment BYTES]]
 *   Response v1–v2: throttle_time_ms INT32 first
 */
import type { ApiCodec } from '../api.js';

export interface DescribeGroupsRequest {
  readonly groups: readonly string[];
}

export interface DescribedMember {
  readonly memberId: string;
  readonly clientId: string;
  readonly clientHost: string;
  readonly memberMetadata: Uint8Array;
  readonly memberAssignment: Uint8Array;
}

export interface DescribedGroup {
  readonly errorCode: number;
  readonly groupId: string;
  readonly groupState: string;
  readonly protocolType: string;
  readonly protocolData: string;
  readonly members: readonly DescribedMember[];
}

export interface DescribeGroupsResponse {
  readonly groups: readonly DescribedGroup[];
}

export const DescribeGroups: ApiCodec<DescribeGroupsRequest, DescribeGroupsResponse> = {
  apiKey: 15,
  name: 'DescribeGroups',
  minVersion: 0,
  maxVersion: 2,
  flexibleFromVersion: 5,
  decodeRequest(reader) {
    return { groups: reader.array((r) => r.string()) };
  },
  encodeResponse(writer, version, response) {
    if (version >= 1) writer.int32(0);
    writer.array(response.groups, (w, group) => {
      w.int16(group.errorCode).string(group.groupId).string(group.groupState).string(group.protocolType).string(group.protocolData);
      w.array(group.members, (mw, member) => {
        mw.string(member.memberId).string(member.clientId).string(member.clientHost).bytesField(member.memberMetadata).bytesField(member.memberAssignment);
      });
    });
  },
};
