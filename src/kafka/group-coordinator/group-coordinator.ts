/**
 * Kafka's group coordinator for the classic consumer group protocol: JoinGroup, SyncGroup, Heartbeat,
 * LeaveGroup, DescribeGroups, ListGroups, DeleteGroups, and the group checks of OffsetCommit.
 *
 * Owns the groups in memory (at most GROUPS_MAX; each at most `groupMaxSize` members) and decides every
 * request against them; the rebalancer moves them between states and runs their timers. The store holds
 * each group on its moves to Stable and Empty and forgets it on DeleteGroups; after a restart `load()`
 * brings groups back Stable with fresh session timers. Called by the broker's request handlers with
 * decoded requests; answers are promises of decoded responses, never rejected: every failure is a Kafka
 * error code in the answer. Never writes offsets (the broker does, after `validateCommit`).
 */
import { randomUUID } from 'node:crypto';
import { ErrorCode } from '../error-codes.js';
import { ClassicGroup, joinError, syncError, type MemberState } from './classic-group.js';
import {
  GROUP_INSTANCE_ID_LENGTH_MAX,
  GROUP_MEMBERS_MAX,
  GROUP_STRING_LENGTH_MAX,
  GROUPS_MAX,
  JOIN_PROTOCOLS_MAX,
  MEMBER_ID_SUFFIX_LENGTH,
  resolveCoordinatorConfig,
  type GroupCoordinatorConfig,
} from './coordinator-config.js';
import { describeGroup, listedGroups } from './group-listing.js';
import { fromStoredGroup, storeErrorCode, type GroupStore } from './group-store.js';
import { joinGroupIn, type JoinContext } from './join-group.js';
import type {
  DeleteGroupsResponse,
  DescribedGroup,
  DescribeGroupsResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  JoinGroupRequest,
  JoinGroupResponse,
  LeaveGroupMemberResponse,
  LeaveGroupRequest,
  LeaveGroupResponse,
  ListGroupsRequest,
  ListGroupsResponse,
  SyncGroupRequest,
  SyncGroupResponse,
} from './messages.js';
import { Rebalancer, type StoreErrorListener } from './rebalancer.js';
import { SystemTimers, TimerSet, type Timers } from './timers.js';

/** How a coordinator is built. */
export interface GroupCoordinatorOptions {
  store: GroupStore;
  /** Clock and timers; the wall clock by default, a `ManualTimers` in tests. */
  timers?: Timers;
  config?: Partial<GroupCoordinatorConfig>;
  /** A store write that no request waits for failed (a group's move to Empty). Default: a process warning. */
  onStoreError?: StoreErrorListener;
}

const LEGAL_INSTANCE_ID = /^[a-zA-Z0-9._-]+$/;

/** The classic-protocol group coordinator of one broker. */
export class GroupCoordinator {
  private readonly groups = new Map<string, ClassicGroup>();
  private readonly store: GroupStore;
  private readonly timerSet: TimerSet;
  private readonly config: Readonly<GroupCoordinatorConfig>;
  private readonly rebalancer: Rebalancer;
  private readonly joinContext: JoinContext;
  private phase: 'new' | 'loaded' | 'closed' = 'new';

  constructor(options: GroupCoordinatorOptions) {
    this.store = options.store;
    this.config = resolveCoordinatorConfig(options.config);
    this.timerSet = new TimerSet(options.timers ?? new SystemTimers());
    const onStoreError = options.onStoreError ?? ((groupId, error) => process.emitWarning(`group ${groupId}: store write failed: ${String(error)}`, 'GroupStoreWarning'));
    this.rebalancer = new Rebalancer(this.timerSet, this.config, this.store, onStoreError);
    this.joinContext = { rebalancer: this.rebalancer, config: this.config, newMemberId };
  }

  /**
   * Brings back every stored group that has members, Stable, each member's session timer started afresh
   * (members that keep heartbeating stay; the others are removed when their session passes). Groups
   * without members stay in the store until named. Requests before `load()` get
   * COORDINATOR_LOAD_IN_PROGRESS. Returns the number of groups loaded (at most GROUPS_MAX).
   */
  load(): number {
    if (this.phase !== 'new') throw new Error(`load() runs once, before any request; the coordinator is ${this.phase}`);
    let loaded = 0;
    for (const stored of this.store.listGroups()) {
      if (stored.members.length === 0 || this.groups.has(stored.groupId)) continue;
      if (this.groups.size >= GROUPS_MAX) break; // the rest come back when named (see findGroup)
      this.adopt(fromStoredGroup(stored));
      loaded++;
    }
    this.phase = 'loaded';
    return loaded;
  }

  /** JoinGroup: parks until the rebalance completes, or answers at once (see join-group.ts for the table). */
  async joinGroup(request: JoinGroupRequest): Promise<JoinGroupResponse> {
    const refused = this.refusal(request.groupId) ?? this.checkJoin(request);
    if (refused !== null) return joinError(request.memberId, refused);
    try {
      let group = this.findGroup(request.groupId);
      let created = false;
      if (group === undefined) {
        if (request.memberId !== '') return joinError(request.memberId, ErrorCode.UNKNOWN_MEMBER_ID);
        group = this.createGroup(request.groupId);
        if (group === undefined) return joinError(request.memberId, ErrorCode.COORDINATOR_NOT_AVAILABLE);
        created = true;
      }
      const answer = joinGroupIn(group, request, this.joinContext);
      // A group this join created and refused (nobody joined or is asked to rejoin) is not kept.
      if (created && group.is('Empty') && group.size === 0) this.groups.delete(group.groupId);
      return await answer;
    } catch (error) {
      return joinError(request.memberId, storeErrorCode(error));
    }
  }

  /** The JoinGroup checks that need no group: session timeout bounds, protocol count, instance id shape. */
  private checkJoin(request: JoinGroupRequest): number | null {
    const { minSessionTimeoutMs, maxSessionTimeoutMs } = this.config;
    if (!Number.isInteger(request.sessionTimeoutMs) || request.sessionTimeoutMs < minSessionTimeoutMs || request.sessionTimeoutMs > maxSessionTimeoutMs) {
      return ErrorCode.INVALID_SESSION_TIMEOUT;
    }
    if (!Number.isInteger(request.rebalanceTimeoutMs) || request.rebalanceTimeoutMs <= 0) return ErrorCode.INVALID_REQUEST;
    if (request.protocols.length > JOIN_PROTOCOLS_MAX) return ErrorCode.INVALID_REQUEST;
    const instanceId = request.groupInstanceId;
    if (instanceId !== null && (instanceId.length > GROUP_INSTANCE_ID_LENGTH_MAX || !LEGAL_INSTANCE_ID.test(instanceId))) return ErrorCode.INVALID_REQUEST;
    if (request.memberId.length > GROUP_STRING_LENGTH_MAX) return ErrorCode.UNKNOWN_MEMBER_ID;
    return null;
  }

  /**
   * SyncGroup. Checks in Kafka's order:
   *
   * | condition                                        | answer                                   |
   * |--------------------------------------------------|------------------------------------------|
   * | group missing                                    | UNKNOWN_MEMBER_ID                        |
   * | group Dead                                       | COORDINATOR_NOT_AVAILABLE                |
   * | instance id now held by another member id        | FENCED_INSTANCE_ID                       |
   * | member unknown                                   | UNKNOWN_MEMBER_ID                        |
   * | generation differs                               | ILLEGAL_GENERATION                       |
   * | protocol type or name given and differ (v5+)     | INCONSISTENT_GROUP_PROTOCOL              |
   * | PreparingRebalance                               | REBALANCE_IN_PROGRESS                    |
   * | CompletingRebalance, follower                    | parks until the leader's assignment is stored |
   * | CompletingRebalance, leader                      | stores the assignment, parks; all parked get theirs; Stable |
   * | Stable                                           | the member's current assignment          |
   */
  async syncGroup(request: SyncGroupRequest): Promise<SyncGroupResponse> {
    const refused = this.refusal(request.groupId);
    if (refused !== null) return syncError(refused);
    try {
      const group = this.findGroup(request.groupId);
      const memberError = this.memberError(group, request.memberId, request.groupInstanceId, request.generationId);
      if (memberError !== null || group === undefined) return syncError(memberError ?? ErrorCode.UNKNOWN_MEMBER_ID);
      if ((request.protocolType !== null && request.protocolType !== group.protocolType) || (request.protocolName !== null && request.protocolName !== group.protocolName)) {
        return syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      }
      const member = group.members.get(request.memberId) as MemberState;
      if (group.is('PreparingRebalance')) return syncError(ErrorCode.REBALANCE_IN_PROGRESS);
      group.pendingSync.delete(member.memberId);
      if (group.is('Stable')) {
        this.rebalancer.touchSession(group, member);
        return { errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment };
      }
      // CompletingRebalance.
      const answer = new Promise<SyncGroupResponse>((resolve) => {
        member.syncWaiter?.(syncError(ErrorCode.REBALANCE_IN_PROGRESS)); // a retried sync replaces the older one
        member.syncWaiter = resolve;
      });
      this.rebalancer.stopSession(member);
      if (group.leaderId === member.memberId && !group.assignmentStoring) {
        const assignments = new Map<string, Uint8Array>();
        for (const { memberId, assignment } of request.assignments) if (group.members.has(memberId)) assignments.set(memberId, assignment);
        this.rebalancer.storeAssignment(group, assignments);
      }
      return await answer;
    } catch (error) {
      return syncError(storeErrorCode(error));
    }
  }

  /**
   * Heartbeat: restarts the member's session timer.
   *
   * | condition                                   | answer                                         |
   * |---------------------------------------------|------------------------------------------------|
   * | group missing / member unknown              | UNKNOWN_MEMBER_ID                              |
   * | group Dead                                  | COORDINATOR_NOT_AVAILABLE                      |
   * | instance id now held by another member id   | FENCED_INSTANCE_ID                             |
   * | generation differs                          | ILLEGAL_GENERATION                             |
   * | Stable / CompletingRebalance                | NONE                                           |
   * | PreparingRebalance                          | REBALANCE_IN_PROGRESS (the client rejoins)     |
   */
  async heartbeat(request: HeartbeatRequest): Promise<HeartbeatResponse> {
    const refused = this.refusal(request.groupId);
    if (refused !== null) return { errorCode: refused };
    try {
      const group = this.findGroup(request.groupId);
      const memberError = this.memberError(group, request.memberId, request.groupInstanceId, request.generationId);
      if (memberError !== null || group === undefined) return { errorCode: memberError ?? ErrorCode.UNKNOWN_MEMBER_ID };
      this.rebalancer.touchSession(group, group.members.get(request.memberId) as MemberState);
      return { errorCode: group.is('PreparingRebalance') ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE };
    } catch (error) {
      return { errorCode: storeErrorCode(error) };
    }
  }

  /**
   * LeaveGroup (v0–v2: one member id; v3+: members with instance ids, each with its own answer). Each
   * member is removed and the group rebalances (or completes its rebalance, or goes Empty).
   *
   * | member                                              | answer                   |
   * |-----------------------------------------------------|--------------------------|
   * | group missing                                       | UNKNOWN_MEMBER_ID        |
   * | group Dead                                          | COORDINATOR_NOT_AVAILABLE (the group's code) |
   * | member id '' with an instance id of a member        | NONE, that member leaves |
   * | member id '' otherwise                              | UNKNOWN_MEMBER_ID        |
   * | instance id held by another member id               | FENCED_INSTANCE_ID       |
   * | a pending member id (asked to rejoin)               | NONE, forgotten          |
   * | member unknown                                      | UNKNOWN_MEMBER_ID        |
   * | member known                                        | NONE, the member leaves  |
   */
  async leaveGroup(request: LeaveGroupRequest): Promise<LeaveGroupResponse> {
    const refused = this.refusal(request.groupId) ?? (request.members.length === 0 || request.members.length > GROUP_MEMBERS_MAX ? ErrorCode.INVALID_REQUEST : null);
    if (refused !== null) return { errorCode: refused, members: [] };
    let results: LeaveGroupMemberResponse[];
    try {
      const group = this.findGroup(request.groupId);
      if (group?.is('Dead')) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
      results = request.members.map(({ memberId, groupInstanceId }) => ({ memberId, groupInstanceId, errorCode: group === undefined ? ErrorCode.UNKNOWN_MEMBER_ID : this.leaveOne(group, memberId, groupInstanceId) }));
    } catch (error) {
      return { errorCode: storeErrorCode(error), members: [] };
    }
    return request.version >= 3 ? { errorCode: ErrorCode.NONE, members: results } : { errorCode: results[0].errorCode, members: [] };
  }

  private leaveOne(group: ClassicGroup, memberId: string, groupInstanceId: string | null): number {
    if (memberId === '') {
      const staticId = groupInstanceId === null ? undefined : group.staticMembers.get(groupInstanceId);
      const member = staticId === undefined ? undefined : group.members.get(staticId);
      if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      this.rebalancer.removeMember(group, member);
      return ErrorCode.NONE;
    }
    if (group.isStaticMemberFenced(memberId, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    if (group.pendingMembers.has(memberId)) {
      this.rebalancer.removePendingMember(group, memberId);
      if (group.is('PreparingRebalance')) this.rebalancer.tryCompleteJoin(group);
      return ErrorCode.NONE;
    }
    const member = group.members.get(memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.rebalancer.removeMember(group, member);
    return ErrorCode.NONE;
  }

  /**
   * The group's verdict on an OffsetCommit (the broker writes the offsets itself when it is NONE):
   *
   * | condition                                            | code                                    |
   * |------------------------------------------------------|-----------------------------------------|
   * | group Dead                                           | COORDINATOR_NOT_AVAILABLE               |
   * | instance id now held by another member id            | FENCED_INSTANCE_ID                      |
   * | group missing or Empty, generation < 0              | NONE (offsets only; a missing group is kept Empty) |
   * | member unknown                                       | UNKNOWN_MEMBER_ID                       |
   * | generation differs                                   | ILLEGAL_GENERATION                      |
   * | Stable or PreparingRebalance                         | NONE (the member's session restarts)    |
   * | CompletingRebalance                                  | REBALANCE_IN_PROGRESS                   |
   *
   * Commits while PreparingRebalance are accepted, as Kafka accepts them: the member still owns its
   * partitions until it rejoins, and refusing its last commit would make the next owner read again.
   */
  validateCommit(groupId: string, memberId: string, generationId: number, groupInstanceId: string | null): number {
    const refused = this.refusal(groupId);
    if (refused !== null) return refused;
    try {
      let group = this.findGroup(groupId);
      if (group?.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
      if (group?.isStaticMemberFenced(memberId, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
      if (generationId < 0 && (group === undefined || group.is('Empty'))) {
        group ??= this.createGroup(groupId);
        return group === undefined ? ErrorCode.COORDINATOR_NOT_AVAILABLE : ErrorCode.NONE;
      }
      const member = group?.members.get(memberId);
      if (group === undefined || member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
      if (group.is('CompletingRebalance')) return ErrorCode.REBALANCE_IN_PROGRESS;
      this.rebalancer.touchSession(group, member);
      return ErrorCode.NONE;
    } catch (error) {
      return storeErrorCode(error);
    }
  }

  /** DescribeGroups: each group as Kafka summarizes it; a missing group is Dead with no members. */
  async describeGroups(groupIds: string[]): Promise<DescribeGroupsResponse> {
    const groups: DescribedGroup[] = groupIds.map((groupId) => {
      const refused = this.openRefusal() ?? (groupId.length > GROUP_STRING_LENGTH_MAX ? ErrorCode.INVALID_GROUP_ID : null);
      if (refused !== null) return { errorCode: refused, groupId, groupState: '', protocolType: '', protocolData: '', members: [] };
      try {
        const group = groupId === '' ? undefined : (this.findGroup(groupId) ?? this.offsetOnlyGroup(groupId));
        return describeGroup(groupId, group);
      } catch (error) {
        return { errorCode: storeErrorCode(error), groupId, groupState: '', protocolType: '', protocolData: '', members: [] };
      }
    });
    return { groups };
  }

  /** ListGroups: the coordinator's groups, the store's, and groups that only have committed offsets. */
  async listGroups(request: ListGroupsRequest = { statesFilter: [] }): Promise<ListGroupsResponse> {
    const refused = this.openRefusal();
    if (refused !== null) return { errorCode: refused, groups: [] };
    try {
      return { errorCode: ErrorCode.NONE, groups: listedGroups(this.groups, this.store, request.statesFilter) };
    } catch (error) {
      return { errorCode: storeErrorCode(error), groups: [] };
    }
  }

  /**
   * DeleteGroups, each group on its own:
   *
   * | group                                                   | answer                               |
   * |---------------------------------------------------------|--------------------------------------|
   * | id '' or too long                                       | INVALID_GROUP_ID                     |
   * | missing (no record, no offsets, not in memory) or Dead  | GROUP_ID_NOT_FOUND                   |
   * | has members (any state but Empty)                       | NON_EMPTY_GROUP                      |
   * | Empty, or only offsets                                  | deleted with its offsets: NONE       |
   * | the store's delete fails                                | the write's code; the group stays Empty |
   */
  async deleteGroups(groupIds: string[]): Promise<DeleteGroupsResponse> {
    const results = await Promise.all(groupIds.map(async (groupId) => ({ groupId, errorCode: await this.deleteOne(groupId) })));
    return { results };
  }

  private async deleteOne(groupId: string): Promise<number> {
    const refused = this.refusal(groupId);
    if (refused !== null) return refused;
    let group: ClassicGroup | undefined;
    try {
      group = this.findGroup(groupId) ?? this.offsetOnlyGroup(groupId);
    } catch (error) {
      return storeErrorCode(error);
    }
    if (group === undefined || group.is('Dead')) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is('Empty')) return ErrorCode.NON_EMPTY_GROUP;
    // Kept in memory while the delete runs, so that a JoinGroup meanwhile sees it Dead (when there is room).
    if (!this.groups.has(groupId) && this.makeRoom()) this.groups.set(groupId, group);
    group.state = 'Dead';
    try {
      await this.rebalancer.deleteStored(group);
    } catch (error) {
      // A store that never had the group (offsets-only groups it keeps no record of) has nothing to delete.
      if (storeErrorCode(error) !== ErrorCode.GROUP_ID_NOT_FOUND) {
        group.state = 'Empty';
        return storeErrorCode(error);
      }
    }
    if (this.groups.get(groupId) === group) this.groups.delete(groupId);
    return ErrorCode.NONE;
  }

  /**
   * Stops the coordinator: every timer is cancelled, every parked JoinGroup and SyncGroup is answered
   * with NOT_COORDINATOR (the client looks for the coordinator again), later requests get
   * COORDINATOR_NOT_AVAILABLE. Resolves when the store writes already started have settled.
   */
  async close(): Promise<void> {
    if (this.phase === 'closed') return this.rebalancer.drainWrites();
    this.phase = 'closed';
    this.timerSet.cancelAll();
    for (const group of this.groups.values()) this.rebalancer.abandon(group, ErrorCode.NOT_COORDINATOR);
    await this.rebalancer.drainWrites();
  }

  /** Timers set and not yet fired or cancelled (0 after close). */
  get timerCount(): number {
    return this.timerSet.size;
  }

  // Lookups.

  /** The group from memory, else from the store (then kept in memory, sessions started); undefined if neither has it. */
  private findGroup(groupId: string): ClassicGroup | undefined {
    const known = this.groups.get(groupId);
    if (known !== undefined) return known;
    const stored = this.store.getGroup(groupId);
    if (stored === undefined || !this.makeRoom()) return undefined;
    return this.adopt(fromStoredGroup(stored));
  }

  private adopt(group: ClassicGroup): ClassicGroup {
    this.groups.set(group.groupId, group);
    for (const member of group.members.values()) this.rebalancer.touchSession(group, member);
    return group;
  }

  /** A new Empty group in memory, or undefined when GROUPS_MAX groups are busy. */
  private createGroup(groupId: string): ClassicGroup | undefined {
    if (!this.makeRoom()) return undefined;
    const group = new ClassicGroup(groupId);
    this.groups.set(groupId, group);
    return group;
  }

  /** A group the store knows only by its committed offsets, as an Empty group (not kept in memory). */
  private offsetOnlyGroup(groupId: string): ClassicGroup | undefined {
    return this.store.fetchOffsets(groupId).length > 0 ? new ClassicGroup(groupId) : undefined;
  }

  /** True if another group fits in memory, dropping an idle Empty group (the store keeps it) if needed. */
  private makeRoom(): boolean {
    if (this.groups.size < GROUPS_MAX) return true;
    for (const [groupId, group] of this.groups) {
      if (group.is('Empty') && group.pendingMembers.size === 0) {
        this.groups.delete(groupId);
        return true;
      }
    }
    return false;
  }

  // Checks shared by the requests.

  private openRefusal(): number | null {
    if (this.phase === 'new') return ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
    if (this.phase === 'closed') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    return null;
  }

  /** Coordinator not ready, or a group id that names no group (empty, or longer than the store takes). */
  private refusal(groupId: string): number | null {
    return this.openRefusal() ?? (groupId === '' || groupId.length > GROUP_STRING_LENGTH_MAX ? ErrorCode.INVALID_GROUP_ID : null);
  }

  /** Kafka's member checks, in its order: Dead, fenced instance, unknown member, generation. */
  private memberError(group: ClassicGroup | undefined, memberId: string, groupInstanceId: string | null, generationId: number): number | null {
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is('Dead')) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(memberId, groupInstanceId)) return ErrorCode.FENCED_INSTANCE_ID;
    if (!group.members.has(memberId)) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    return null;
  }
}

/** A fresh member id: the instance id (static) or client id, a dash, a UUID; within the store's length. */
export function newMemberId(clientId: string, groupInstanceId: string | null): string {
  const prefix = (groupInstanceId ?? clientId).slice(0, GROUP_STRING_LENGTH_MAX - MEMBER_ID_SUFFIX_LENGTH);
  return `${prefix}-${randomUUID()}`;
}

