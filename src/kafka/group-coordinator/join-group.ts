/**
 * JoinGroup against one group, as Kafka's classic coordinator decides it. Called by the coordinator
 * after its own checks (coordinator ready, group id, session timeout bounds, request shape) with the
 * group found or created. Owns no state; it changes the group it is handed, through the rebalancer for
 * anything that moves the group or sets a timer.
 *
 * | group state   | member id                         | condition                              | answer                                                      |
 * |---------------|-----------------------------------|----------------------------------------|-------------------------------------------------------------|
 * | Dead          | any                               |                                        | COORDINATOR_NOT_AVAILABLE                                   |
 * | any           | '' or pending                     | protocol type differs, or no protocol in common with the members (a known instance: the other members) | INCONSISTENT_GROUP_PROTOCOL |
 * | any           | ''                                | group full (members + pending), not a known instance | GROUP_MAX_SIZE_REACHED                        |
 * | Stable        | '' with a known instance id       | the vote would keep the protocol       | new member id replaces the old (fenced), stored, current assignment, no rebalance |
 * | Stable        | '' with a known instance id       | the vote or the protocol type would change | replaced, parks, rebalance                              |
 * | Completing... | '' with a known instance id       |                                        | replaced, parks, rebalance                                  |
 * | Preparing...  | '' with a known instance id       |                                        | replaced, parks                                             |
 * | any           | '', dynamic, v4+                  |                                        | MEMBER_ID_REQUIRED with a fresh id (kept as pending)        |
 * | any           | '' otherwise, or a pending id     |                                        | added, parks, rebalance (initial delay from Empty)          |
 * | any           | known id                          | its instance id is held by another id  | FENCED_INSTANCE_ID                                          |
 * | any           | unknown id, or unknown instance id |                                       | UNKNOWN_MEMBER_ID                                           |
 * | any           | known id                          | protocol type differs, or no protocol in common with the others | INCONSISTENT_GROUP_PROTOCOL                  |
 * | Preparing...  | known id                          |                                        | protocols updated, parks                                    |
 * | Completing... | known id                          | same protocols                         | the generation's join answer again (leader: with members)   |
 * | Completing... | known id                          | changed protocols                      | updated, parks, rebalance                                   |
 * | Stable        | known follower id                 | same protocols                         | the generation's join answer again, no rebalance            |
 * | Stable        | known id                          | the leader, or changed protocols       | updated, parks, rebalance                                   |
 */
import { ErrorCode } from '../error-codes.js';
import { joinError, syncError, type ClassicGroup, type MemberState } from './classic-group.js';
import type { GroupCoordinatorConfig } from './coordinator-config.js';
import { storeErrorCode, toGroupInput } from './group-store.js';
import type { JoinGroupProtocol, JoinGroupRequest, JoinGroupResponse } from './messages.js';
import { canJoinWith, voteProtocol } from './protocol-vote.js';
import type { Rebalancer } from './rebalancer.js';

/** What a join needs from the coordinator. */
export interface JoinContext {
  readonly rebalancer: Rebalancer;
  readonly config: Readonly<GroupCoordinatorConfig>;
  readonly newMemberId: (clientId: string, groupInstanceId: string | null) => string;
}

/** Decides `request` against `group` (see the table above). */
export function joinGroupIn(group: ClassicGroup, request: JoinGroupRequest, context: JoinContext): Promise<JoinGroupResponse> {
  if (group.is('Dead')) return Promise.resolve(joinError(request.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE));
  return request.memberId === '' ? joinWithoutId(group, request, context) : joinWithId(group, request, context);
}

function joinWithoutId(group: ClassicGroup, request: JoinGroupRequest, context: JoinContext): Promise<JoinGroupResponse> {
  const instanceId = request.groupInstanceId;
  const staticMemberId = instanceId === null ? undefined : group.staticMembers.get(instanceId);
  // A restarted static member replaces its old self: it must agree with the others only.
  const others = [...group.members.values()].filter((member) => member.memberId !== staticMemberId);
  if (!canJoinWith(group.protocolType, others, request.protocolType, request.protocols)) {
    return Promise.resolve(joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
  }
  if (staticMemberId === undefined && group.size >= context.config.groupMaxSize) return Promise.resolve(joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
  const memberId = context.newMemberId(request.clientId, instanceId);
  if (staticMemberId !== undefined) return replaceStaticMember(group, group.members.get(staticMemberId) as MemberState, memberId, request, context);
  if (instanceId === null && request.version >= 4) {
    context.rebalancer.addPendingMember(group, memberId, request.sessionTimeoutMs);
    return Promise.resolve(joinError(memberId, ErrorCode.MEMBER_ID_REQUIRED));
  }
  return addMemberAndRebalance(group, memberId, request, context);
}

function joinWithId(group: ClassicGroup, request: JoinGroupRequest, context: JoinContext): Promise<JoinGroupResponse> {
  const { memberId, groupInstanceId } = request;
  const fail = (errorCode: number): Promise<JoinGroupResponse> => Promise.resolve(joinError(memberId, errorCode));
  if (group.isStaticMemberFenced(memberId, groupInstanceId)) return fail(ErrorCode.FENCED_INSTANCE_ID);
  if (group.pendingMembers.has(memberId)) {
    if (!canJoinWith(group.protocolType, [...group.members.values()], request.protocolType, request.protocols)) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    return addMemberAndRebalance(group, memberId, request, context);
  }
  const member = group.members.get(memberId);
  if (member === undefined || (groupInstanceId !== null && !group.staticMembers.has(groupInstanceId))) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
  const others = [...group.members.values()].filter((other) => other !== member);
  if (!canJoinWith(group.protocolType, others, request.protocolType, request.protocols)) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  const { rebalancer } = context;
  switch (group.state) {
    case 'PreparingRebalance': {
      updateMember(member, request);
      const answer = park(member, rebalancer);
      rebalancer.tryCompleteJoin(group);
      return answer;
    }
    case 'CompletingRebalance':
    case 'Stable': {
      const unchanged = sameProtocols(member.protocols, request.protocols);
      const isLeader = group.leaderId === memberId;
      // A leader's JoinGroup in Stable asks for a new assignment (its topics' metadata changed): rebalance.
      if (unchanged && !(group.is('Stable') && isLeader)) {
        rebalancer.touchSession(group, member);
        return Promise.resolve(group.joinResult(member));
      }
      updateMember(member, request);
      const answer = park(member, rebalancer);
      rebalancer.prepareRebalance(group);
      return answer;
    }
    default:
      return fail(ErrorCode.UNKNOWN_MEMBER_ID);
  }
}

/** A new member (or a pending one rejoining with its id) joins; the group rebalances. */
function addMemberAndRebalance(group: ClassicGroup, memberId: string, request: JoinGroupRequest, context: JoinContext): Promise<JoinGroupResponse> {
  const { rebalancer } = context;
  rebalancer.removePendingMember(group, memberId);
  const member: MemberState = {
    memberId,
    groupInstanceId: request.groupInstanceId,
    clientId: request.clientId,
    clientHost: request.clientHost,
    sessionTimeoutMs: request.sessionTimeoutMs,
    rebalanceTimeoutMs: request.rebalanceTimeoutMs,
    protocols: copyProtocols(request.protocols),
    assignment: new Uint8Array(0),
    joinWaiter: null,
    syncWaiter: null,
    sessionTimer: null,
  };
  if (group.members.size === 0) group.protocolType = request.protocolType;
  group.members.set(memberId, member);
  if (member.groupInstanceId !== null) group.staticMembers.set(member.groupInstanceId, memberId);
  group.leaderId ??= memberId;
  if (group.is('PreparingRebalance') && group.initialDelay !== null) group.initialDelay.newMemberAdded = true;
  const answer = park(member, rebalancer);
  rebalancer.maybePrepareRebalance(group);
  return answer;
}

/**
 * A static member restarted: its new member id takes the old one's place (the old id is fenced, its
 * parked requests answered FENCED_INSTANCE_ID). A Stable group whose vote would not change keeps its
 * generation and assignment: the group is stored with the new id and the member gets its assignment
 * back through SyncGroup; the leader's answer says skipAssignment.
 */
async function replaceStaticMember(group: ClassicGroup, old: MemberState, newMemberId: string, request: JoinGroupRequest, context: JoinContext): Promise<JoinGroupResponse> {
  const { rebalancer } = context;
  old.joinWaiter?.(joinError(old.memberId, ErrorCode.FENCED_INSTANCE_ID));
  old.joinWaiter = null;
  old.syncWaiter?.(syncError(ErrorCode.FENCED_INSTANCE_ID));
  old.syncWaiter = null;
  rebalancer.stopSession(old);
  const member = renameMember(group, old, newMemberId);
  updateMember(member, request);
  const sameType = group.protocolType === request.protocolType;
  group.protocolType = request.protocolType; // differs only when it is the group's one member
  if (group.is('Stable') && sameType && voteProtocol([...group.members.values()]) === group.protocolName) {
    rebalancer.touchSession(group, member);
    const generationId = group.generationId;
    try {
      await rebalancer.write(group, toGroupInput(group, 'Stable'));
    } catch (error) {
      if (group.is('Stable') && group.generationId === generationId && group.members.get(newMemberId) === member) {
        rebalancer.stopSession(member);
        const restored = renameMember(group, member, old.memberId);
        Object.assign(restored, { protocols: old.protocols, sessionTimeoutMs: old.sessionTimeoutMs, rebalanceTimeoutMs: old.rebalanceTimeoutMs });
        rebalancer.touchSession(group, restored);
      }
      return joinError('', storeErrorCode(error));
    }
    if (group.members.get(newMemberId) !== member) return joinError(newMemberId, ErrorCode.UNKNOWN_MEMBER_ID);
    return group.joinResult(member, true);
  }
  const answer = park(member, rebalancer);
  if (group.is('PreparingRebalance')) rebalancer.tryCompleteJoin(group);
  else rebalancer.prepareRebalance(group);
  return answer;
}

/** The member under a new id, in the same place of the join order; the group's maps follow. */
function renameMember(group: ClassicGroup, from: MemberState, toId: string): MemberState {
  const renamed: MemberState = { ...from, memberId: toId, joinWaiter: null, syncWaiter: null, sessionTimer: null };
  const order = [...group.members.values()];
  group.members.clear();
  for (const member of order) group.members.set(member === from ? toId : member.memberId, member === from ? renamed : member);
  if (from.groupInstanceId !== null) group.staticMembers.set(from.groupInstanceId, toId);
  if (group.leaderId === from.memberId) group.leaderId = toId;
  if (group.pendingSync.delete(from.memberId)) group.pendingSync.add(toId);
  return renamed;
}

/** Parks the member's JoinGroup until the rebalance completes (a retried join replaces the older one). */
function park(member: MemberState, rebalancer: Rebalancer): Promise<JoinGroupResponse> {
  const answer = new Promise<JoinGroupResponse>((resolve) => {
    member.joinWaiter?.(joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    member.joinWaiter = resolve;
  });
  rebalancer.stopSession(member);
  return answer;
}

function updateMember(member: MemberState, request: JoinGroupRequest): void {
  member.protocols = copyProtocols(request.protocols);
  member.sessionTimeoutMs = request.sessionTimeoutMs;
  member.rebalanceTimeoutMs = request.rebalanceTimeoutMs;
  member.clientId = request.clientId;
  member.clientHost = request.clientHost;
}

/** Copies, so that a caller's later reuse of its buffers cannot change what the group holds. */
function copyProtocols(protocols: readonly JoinGroupProtocol[]): JoinGroupProtocol[] {
  return protocols.map(({ name, metadata }) => ({ name, metadata: new Uint8Array(metadata) }));
}

function sameProtocols(a: readonly JoinGroupProtocol[], b: readonly JoinGroupProtocol[]): boolean {
  return a.length === b.length && a.every((protocol, i) => protocol.name === b[i].name && Buffer.compare(protocol.metadata, b[i].metadata) === 0);
}
