/**
 * The group coordinator's requests and responses as plain typed objects: what the wire codec decodes a
 * JoinGroup, SyncGroup, Heartbeat, LeaveGroup, DescribeGroups, ListGroups or DeleteGroups request into,
 * and what it encodes the answer from. Field names are Kafka's (camelCase of the message schemas).
 *
 * The codec fills what older versions lack: JoinGroup v0's rebalanceTimeoutMs is its sessionTimeoutMs;
 * `groupInstanceId` is null before JoinGroup/SyncGroup/Heartbeat v3 (v5 for JoinGroup); SyncGroup's
 * `protocolType` and `protocolName` are null before v5; LeaveGroup v0–v2's single member id becomes a
 * one-member `members` list (the coordinator folds the answer back into one error code for those).
 */

/** One protocol a joining member supports, with its opaque metadata (the consumer's subscription). */
export interface JoinGroupProtocol {
  name: string;
  metadata: Uint8Array;
}

/** A decoded JoinGroup request (v0–v9). */
export interface JoinGroupRequest {
  /** The request's API version: v4+ asks an unknown member to rejoin with an assigned id (MEMBER_ID_REQUIRED). */
  version: number;
  groupId: string;
  sessionTimeoutMs: number;
  /** v0: the codec passes sessionTimeoutMs. */
  rebalanceTimeoutMs: number;
  /** '' for a member without an id yet. */
  memberId: string;
  /** Static membership (v5+); null for a dynamic member. */
  groupInstanceId: string | null;
  protocolType: string;
  protocols: JoinGroupProtocol[];
  /** From the request header. */
  clientId: string;
  /** The client's address as the server saw it. */
  clientHost: string;
}

/** One member in the leader's JoinGroup answer. */
export interface JoinGroupResponseMember {
  memberId: string;
  groupInstanceId: string | null;
  /** The member's metadata for the chosen protocol. */
  metadata: Uint8Array;
}

/** A JoinGroup answer. On an error, generationId is -1, the protocol null, leader '' and members empty. */
export interface JoinGroupResponse {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leader: string;
  /** v9+: the leader of a Stable group that a static rejoin did not rebalance must not assign again. */
  skipAssignment: boolean;
  memberId: string;
  /** The leader's answer lists every member; followers get an empty list. */
  members: JoinGroupResponseMember[];
}

/** One member's assignment in the leader's SyncGroup request. */
export interface SyncGroupAssignment {
  memberId: string;
  assignment: Uint8Array;
}

/** A decoded SyncGroup request (v0–v5). */
export interface SyncGroupRequest {
  version: number;
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** v5+; null before. */
  protocolType: string | null;
  /** v5+; null before. */
  protocolName: string | null;
  /** The leader's assignments; followers send none. */
  assignments: SyncGroupAssignment[];
}

/** A SyncGroup answer. */
export interface SyncGroupResponse {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  /** This member's assignment; empty on an error. */
  assignment: Uint8Array;
}

/** A decoded Heartbeat request (v0–v4). */
export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

/** A Heartbeat answer. */
export interface HeartbeatResponse {
  errorCode: number;
}

/** One member leaving (LeaveGroup v3+ lists several; v0–v2 carry one member id). */
export interface LeaveGroupMember {
  memberId: string;
  groupInstanceId: string | null;
}

/** A decoded LeaveGroup request (v0–v5). */
export interface LeaveGroupRequest {
  version: number;
  groupId: string;
  members: LeaveGroupMember[];
}

/** One member's outcome in a LeaveGroup v3+ answer. */
export interface LeaveGroupMemberResponse {
  memberId: string;
  groupInstanceId: string | null;
  errorCode: number;
}

/**
 * A LeaveGroup answer. v3+: `errorCode` is the group's (NONE unless the group as a whole cannot answer)
 * and `members` holds each member's code. v0–v2: `errorCode` is the one member's code, `members` empty.
 */
export interface LeaveGroupResponse {
  errorCode: number;
  members: LeaveGroupMemberResponse[];
}

/** One member as DescribeGroups shows it. */
export interface DescribedGroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** The metadata for the chosen protocol while Stable; empty otherwise (as Kafka answers). */
  memberMetadata: Uint8Array;
  memberAssignment: Uint8Array;
}

/** One group as DescribeGroups shows it; a group that does not exist is 'Dead' with no members. */
export interface DescribedGroup {
  errorCode: number;
  groupId: string;
  groupState: string;
  protocolType: string;
  /** The chosen protocol while Stable; '' otherwise. */
  protocolData: string;
  members: DescribedGroupMember[];
}

/** A DescribeGroups answer: one entry per requested group id, in request order. */
export interface DescribeGroupsResponse {
  groups: DescribedGroup[];
}

/** A decoded ListGroups request; `statesFilter` (v4+) keeps groups in those states (empty: all). */
export interface ListGroupsRequest {
  statesFilter: string[];
}

/** One group in a ListGroups answer. */
export interface ListedGroup {
  groupId: string;
  protocolType: string;
  groupState: string;
}

/** A ListGroups answer, groups in id order. */
export interface ListGroupsResponse {
  errorCode: number;
  groups: ListedGroup[];
}

/** One group's outcome in a DeleteGroups answer. */
export interface DeleteGroupsResult {
  groupId: string;
  errorCode: number;
}

/** A DeleteGroups answer: one result per requested group id, in request order. */
export interface DeleteGroupsResponse {
  results: DeleteGroupsResult[];
}
