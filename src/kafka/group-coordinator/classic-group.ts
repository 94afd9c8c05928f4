/**
 * One consumer group of the classic protocol, in memory: its state, generation, chosen protocol, leader,
 * members (with their protocols, assignment, parked JoinGroup/SyncGroup answer and session timer), its
 * static members, the members asked to rejoin with an assigned id, and its rebalance bookkeeping.
 *
 * Owns the data and the questions asked of it; it schedules nothing and writes nothing (the rebalancer
 * and the coordinator do). Invariants:
 * - Empty and Dead groups have no members; the leader, when set, is a member;
 * - `staticMembers` maps each static member's instance id to its member id, and nothing else;
 * - a member id is never both a member and a pending member;
 * - members + pending members ≤ the group's size limit (checked by the coordinator on join);
 * - a member has a parked JoinGroup only while the group is PreparingRebalance, a parked SyncGroup only
 *   while it is CompletingRebalance; a parked member's session timer is stopped.
 */
import type { TimerHandle } from './timers.js';
import type { JoinGroupProtocol, JoinGroupResponse, JoinGroupResponseMember, SyncGroupResponse } from './messages.js';

/** Kafka's group states. */
export type GroupStateName = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

/** One member of a group. */
export interface MemberState {
  memberId: string;
  readonly groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  /** Most preferred first; after a restart only the chosen protocol (the store keeps its metadata only). */
  protocols: JoinGroupProtocol[];
  assignment: Uint8Array;
  /** Answers the member's parked JoinGroup; null when none is parked. */
  joinWaiter: ((response: JoinGroupResponse) => void) | null;
  /** Answers the member's parked SyncGroup; null when none is parked. */
  syncWaiter: ((response: SyncGroupResponse) => void) | null;
  sessionTimer: TimerHandle | null;
}

/** The initial rebalance delay of an Empty group, while it runs. */
export interface InitialDelay {
  /** What is left of the rebalance timeout for further extensions. */
  remainingMs: number;
  /** A member joined since the delay (or its last extension) started. */
  newMemberAdded: boolean;
}

const EMPTY_BYTES = new Uint8Array(0);

/** A consumer group of the classic protocol. */
export class ClassicGroup {
  state: GroupStateName = 'Empty';
  protocolType: string | null = null;
  protocolName: string | null = null;
  generationId = 0;
  leaderId: string | null = null;
  /** Members in join order (the vote's tie-break and the leader election read this order). */
  readonly members = new Map<string, MemberState>();
  /** Instance id → member id of each static member. */
  readonly staticMembers = new Map<string, string>();
  /** Member ids handed out with MEMBER_ID_REQUIRED, not yet rejoined → their expiry timer. */
  readonly pendingMembers = new Map<string, TimerHandle>();
  /** Members of the current generation that have not sent SyncGroup yet. */
  readonly pendingSync = new Set<string>();
  /** The deadline of the running rebalance (the initial delay's step, or the rebalance timeout). */
  rebalanceTimer: TimerHandle | null = null;
  initialDelay: InitialDelay | null = null;
  /** The deadline for every member of a new generation to send SyncGroup. */
  syncTimer: TimerHandle | null = null;
  /** The leader's assignment is being written to the store. */
  assignmentStoring = false;
  /** Store writes of this group, in order: each starts after the one before settles. */
  storeChain: Promise<void> = Promise.resolve();

  constructor(readonly groupId: string) {}

  /** Members plus members asked to rejoin with their id: what group.max.size bounds. */
  get size(): number {
    return this.members.size + this.pendingMembers.size;
  }

  is(state: GroupStateName): boolean {
    return this.state === state;
  }

  /** Kafka's completion rule for a rebalance: every member rejoined and nobody is yet to rejoin with an assigned id. */
  hasAllMembersJoined(): boolean {
    if (this.pendingMembers.size > 0) return false;
    for (const member of this.members.values()) if (member.joinWaiter === null) return false;
    return true;
  }

  /** The members that have not rejoined (during PreparingRebalance). */
  notYetRejoined(): MemberState[] {
    return [...this.members.values()].filter((member) => member.joinWaiter === null);
  }

  /** The rebalance timeout: the longest of the members' (0 without members). */
  rebalanceTimeoutMs(): number {
    let longest = 0;
    for (const member of this.members.values()) longest = Math.max(longest, member.rebalanceTimeoutMs);
    return longest;
  }

  /** A static member's id sent with a member id that is no longer the instance's: a replaced instance. */
  isStaticMemberFenced(memberId: string, groupInstanceId: string | null): boolean {
    if (groupInstanceId === null) return false;
    const current = this.staticMembers.get(groupInstanceId);
    return current !== undefined && current !== memberId;
  }

  /** The member's metadata for `protocolName` (empty if it does not name it). */
  static metadataOf(member: MemberState, protocolName: string | null): Uint8Array {
    return member.protocols.find((protocol) => protocol.name === protocolName)?.metadata ?? EMPTY_BYTES;
  }

  /** Every member with its metadata for the chosen protocol: the leader's JoinGroup answer. */
  memberList(): JoinGroupResponseMember[] {
    return [...this.members.values()].map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      metadata: ClassicGroup.metadataOf(member, this.protocolName),
    }));
  }

  /** A successful JoinGroup answer for `member` in the current generation. */
  joinResult(member: MemberState, skipAssignment = false): JoinGroupResponse {
    const isLeader = this.leaderId === member.memberId;
    return {
      errorCode: 0,
      generationId: this.generationId,
      protocolType: this.protocolType,
      protocolName: this.protocolName,
      leader: this.leaderId ?? '',
      skipAssignment: isLeader && skipAssignment,
      memberId: member.memberId,
      members: isLeader ? this.memberList() : [],
    };
  }

  /** Makes the first member that rejoined the leader if the leader did not rejoin; false if nobody rejoined. */
  electJoinedLeader(): boolean {
    const leader = this.leaderId === null ? undefined : this.members.get(this.leaderId);
    if (leader !== undefined && leader.joinWaiter !== null) return true;
    for (const member of this.members.values()) {
      if (member.joinWaiter !== null) {
        this.leaderId = member.memberId;
        return true;
      }
    }
    return false;
  }
}

/** A JoinGroup answer carrying only an error (and the member id the client should use next). */
export function joinError(memberId: string, errorCode: number): JoinGroupResponse {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leader: '', skipAssignment: false, memberId, members: [] };
}

/** A SyncGroup answer carrying only an error. */
export function syncError(errorCode: number): SyncGroupResponse {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY_BYTES };
}
