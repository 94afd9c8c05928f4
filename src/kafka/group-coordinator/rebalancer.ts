/**
 * The moves of a group between its states, and the timers that drive them: member sessions, pending
 * member ids, the initial rebalance delay, the rebalance timeout and the sync deadline. Also the group's
 * store writes (on the moves to Stable and Empty, and its deletion), one at a time per group.
 *
 * Owns no groups (the coordinator does); acts on the `ClassicGroup` it is handed. Called by the
 * coordinator, and by its own timers. Invariants:
 * - a group in PreparingRebalance always has a rebalance timer (or finishes the rebalance at once);
 * - a parked member's session timer is stopped, and restarted when its answer goes out;
 * - every parked JoinGroup/SyncGroup is answered exactly once (an answer, an error, or on close);
 * - a store write never answers a request of a generation that a later move has overtaken.
 *
 * State moves (Kafka's classic protocol):
 *
 * | from                    | event                                               | to                          |
 * |-------------------------|-----------------------------------------------------|-----------------------------|
 * | Empty                   | a member joins                                      | PreparingRebalance (initial delay) |
 * | Stable / Completing...  | a member joins anew, changes protocols, leaves, expires, or the leader rejoins | PreparingRebalance |
 * | PreparingRebalance      | all members rejoined (not during the initial delay) | CompletingRebalance         |
 * | PreparingRebalance      | the initial delay ends with no new member, or the rebalance timeout passes | CompletingRebalance; dynamic members that did not rejoin are removed |
 * | PreparingRebalance      | the same, but no member is left                     | Empty (stored)              |
 * | CompletingRebalance     | the leader's assignment is stored                   | Stable (stored)             |
 * | CompletingRebalance     | the store write fails                               | PreparingRebalance (syncs get the error) |
 * | Completing... / Stable  | the sync deadline passes with members that never synced | PreparingRebalance, those members removed |
 * | Empty                   | DeleteGroups                                        | Dead (store record deleted) |
 */
import { ErrorCode } from '../error-codes.js';
import { ClassicGroup, joinError, syncError, type MemberState } from './classic-group.js';
import type { GroupCoordinatorConfig } from './coordinator-config.js';
import { toGroupInput, storeErrorCode, type GroupStore } from './group-store.js';
import type { GroupInput } from '../../index.js';
import { voteProtocol } from './protocol-vote.js';
import type { TimerSet } from './timers.js';

const EMPTY_BYTES = new Uint8Array(0);

/** Reports a store write that no request waits for (a group's move to Empty); it must not throw. */
export type StoreErrorListener = (groupId: string, error: unknown) => void;

/** Drives groups through their states. */
export class Rebalancer {
  /** Store writes not yet settled, so that close can wait for them; at most a few per group. */
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly timers: TimerSet,
    private readonly config: Readonly<GroupCoordinatorConfig>,
    private readonly store: GroupStore,
    private readonly onStoreError: StoreErrorListener,
  ) {}

  // Sessions.

  /** Restarts `member`'s session timer (not while its JoinGroup or SyncGroup is parked). */
  touchSession(group: ClassicGroup, member: MemberState): void {
    this.timers.cancel(member.sessionTimer);
    member.sessionTimer = null;
    if (member.joinWaiter !== null || member.syncWaiter !== null) return;
    member.sessionTimer = this.timers.schedule(member.sessionTimeoutMs, () => this.sessionExpired(group, member));
  }

  /** Stops `member`'s session timer (its request is parked, or it is gone). */
  stopSession(member: MemberState): void {
    this.timers.cancel(member.sessionTimer);
    member.sessionTimer = null;
  }

  private sessionExpired(group: ClassicGroup, member: MemberState): void {
    member.sessionTimer = null;
    if (group.members.get(member.memberId) !== member) return;
    this.removeMember(group, member);
  }

  /** Remembers a member id handed out with MEMBER_ID_REQUIRED until the member rejoins or its session passes. */
  addPendingMember(group: ClassicGroup, memberId: string, sessionTimeoutMs: number): void {
    const timer = this.timers.schedule(sessionTimeoutMs, () => {
      if (!group.pendingMembers.delete(memberId)) return;
      if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
    });
    group.pendingMembers.set(memberId, timer);
  }

  /** Forgets a pending member id (it rejoined or left). */
  removePendingMember(group: ClassicGroup, memberId: string): void {
    const timer = group.pendingMembers.get(memberId);
    if (timer === undefined) return;
    this.timers.cancel(timer);
    group.pendingMembers.delete(memberId);
  }

  // Membership changes.

  /** Takes `member` out of the group without moving the group (parked requests get UNKNOWN_MEMBER_ID). */
  dropMember(group: ClassicGroup, member: MemberState): void {
    member.joinWaiter?.(joinError('', ErrorCode.UNKNOWN_MEMBER_ID));
    member.joinWaiter = null;
    member.syncWaiter?.(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    member.syncWaiter = null;
    this.stopSession(member);
    group.members.delete(member.memberId);
    group.pendingSync.delete(member.memberId);
    if (member.groupInstanceId !== null && group.staticMembers.get(member.groupInstanceId) === member.memberId) group.staticMembers.delete(member.groupInstanceId);
    if (group.leaderId === member.memberId) group.leaderId = group.members.keys().next().value ?? null;
  }

  /** Takes `member` out of the group and moves the group as Kafka does (a rebalance, or its completion). */
  removeMember(group: ClassicGroup, member: MemberState): void {
    this.dropMember(group, member);
    if (group.is('Stable') || group.is('CompletingRebalance')) this.prepareRebalance(group);
    else if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
  }

  // Rebalances.

  /** Starts a rebalance unless one runs (then checks whether it is complete); a Dead group stays dead. */
  maybePrepareRebalance(group: ClassicGroup): void {
    if (group.is('PreparingRebalance')) this.tryCompleteJoin(group);
    else if (!group.is('Dead')) this.prepareRebalance(group);
  }

  /**
   * Moves the group to PreparingRebalance: members parked in SyncGroup get REBALANCE_IN_PROGRESS (so they
   * rejoin); an Empty group waits the initial delay, any other the rebalance timeout at most.
   */
  prepareRebalance(group: ClassicGroup): void {
    if (group.is('CompletingRebalance')) this.answerSyncs(group, ErrorCode.REBALANCE_IN_PROGRESS, () => EMPTY_BYTES);
    group.assignmentStoring = false;
    this.timers.cancel(group.syncTimer);
    group.syncTimer = null;
    group.pendingSync.clear();
    this.timers.cancel(group.rebalanceTimer);
    const delayMs = this.config.initialRebalanceDelayMs;
    if (group.is('Empty') && delayMs > 0) {
      group.initialDelay = { remainingMs: Math.max(group.rebalanceTimeoutMs() - delayMs, 0), newMemberAdded: false };
      group.rebalanceTimer = this.timers.schedule(delayMs, () => this.initialDelayEnded(group));
    } else {
      group.initialDelay = null;
      group.rebalanceTimer = this.timers.schedule(group.rebalanceTimeoutMs(), () => this.completeJoin(group));
    }
    group.state = 'PreparingRebalance';
    this.tryCompleteJoin(group);
  }

  /** Ends the rebalance if every member rejoined (never during the initial delay, as in Kafka). */
  tryCompleteJoin(group: ClassicGroup): void {
    if (group.is('PreparingRebalance') && group.initialDelay === null && group.hasAllMembersJoined()) this.completeJoin(group);
  }

  /** The initial delay's step ended: wait another step if members kept joining and time is left. */
  private initialDelayEnded(group: ClassicGroup): void {
    const delay = group.initialDelay;
    group.rebalanceTimer = null;
    if (delay === null || !group.is('PreparingRebalance')) return;
    if (delay.newMemberAdded && delay.remainingMs > 0) {
      const stepMs = Math.min(this.config.initialRebalanceDelayMs, delay.remainingMs);
      delay.remainingMs -= stepMs;
      delay.newMemberAdded = false;
      group.rebalanceTimer = this.timers.schedule(stepMs, () => this.initialDelayEnded(group));
      return;
    }
    this.completeJoin(group);
  }

  /**
   * Ends the rebalance: dynamic members that did not rejoin are removed (static ones stay: their session
   * decides); the next generation starts with the voted protocol, and every parked JoinGroup is answered
   * (the leader with the member list). With no member left the group is Empty (and stored).
   */
  completeJoin(group: ClassicGroup): void {
    if (!group.is('PreparingRebalance')) return;
    this.timers.cancel(group.rebalanceTimer);
    group.rebalanceTimer = null;
    group.initialDelay = null;
    for (const member of group.notYetRejoined()) if (member.groupInstanceId === null) this.dropMember(group, member);
    if (group.members.size > 0 && !group.electJoinedLeader()) {
      // Only static members that have not rejoined are left: wait for them, or for their sessions to pass.
      group.rebalanceTimer = this.timers.schedule(group.rebalanceTimeoutMs(), () => this.completeJoin(group));
      return;
    }
    group.generationId += 1;
    if (group.members.size === 0) {
      group.state = 'Empty';
      group.protocolName = null;
      group.leaderId = null;
      this.writeInBackground(group, toGroupInput(group, 'Empty'));
      return;
    }
    group.protocolName = voteProtocol([...group.members.values()]);
    group.state = 'CompletingRebalance';
    for (const member of group.members.values()) {
      const answer = member.joinWaiter;
      member.joinWaiter = null;
      answer?.(group.joinResult(member));
      this.touchSession(group, member);
      group.pendingSync.add(member.memberId);
    }
    const generationId = group.generationId;
    group.syncTimer = this.timers.schedule(group.rebalanceTimeoutMs(), () => this.syncDeadlinePassed(group, generationId));
  }

  /** Members of the generation that never sent SyncGroup are removed, and the group rebalances. */
  private syncDeadlinePassed(group: ClassicGroup, generationId: number): void {
    group.syncTimer = null;
    if (group.generationId !== generationId || !(group.is('CompletingRebalance') || group.is('Stable'))) return;
    if (group.pendingSync.size === 0) return;
    for (const memberId of [...group.pendingSync]) {
      const member = group.members.get(memberId);
      if (member !== undefined) this.dropMember(group, member);
    }
    this.prepareRebalance(group);
  }

  // Syncs.

  /**
   * Stores the leader's assignment; once stored (and no rebalance overtook it) the group is Stable and
   * every parked SyncGroup gets its member's assignment. A failed write answers them with the write's code
   * and starts a rebalance.
   */
  storeAssignment(group: ClassicGroup, assignments: ReadonlyMap<string, Uint8Array>): void {
    group.assignmentStoring = true;
    const generationId = group.generationId;
    const current = (): boolean => group.is('CompletingRebalance') && group.generationId === generationId && group.assignmentStoring;
    this.write(group, toGroupInput(group, 'Stable', assignments)).then(
      () => {
        if (!current()) return;
        group.assignmentStoring = false;
        for (const member of group.members.values()) member.assignment = assignments.get(member.memberId) ?? EMPTY_BYTES;
        group.state = 'Stable';
        this.answerSyncs(group, ErrorCode.NONE, (member) => member.assignment);
      },
      (error: unknown) => {
        if (!current()) return;
        group.assignmentStoring = false;
        this.answerSyncs(group, storeErrorCode(error), () => EMPTY_BYTES);
        this.prepareRebalance(group);
      },
    );
  }

  /** Answers every parked SyncGroup (and restarts those members' sessions). */
  private answerSyncs(group: ClassicGroup, errorCode: number, assignmentOf: (member: MemberState) => Uint8Array): void {
    for (const member of group.members.values()) {
      if (errorCode !== ErrorCode.NONE) member.assignment = EMPTY_BYTES;
      const answer = member.syncWaiter;
      if (answer === null) continue;
      member.syncWaiter = null;
      answer(errorCode === ErrorCode.NONE ? { errorCode, protocolType: group.protocolType, protocolName: group.protocolName, assignment: assignmentOf(member) } : syncError(errorCode));
      this.touchSession(group, member);
    }
  }

  // Store writes.

  /** Writes `input` after the group's earlier writes settle; rejects with the store's error. */
  write(group: ClassicGroup, input: GroupInput): Promise<void> {
    return this.chain(group, () => this.store.upsertGroup(input).then(() => undefined));
  }

  /** Deletes the group's record (and offsets) after the group's earlier writes settle. */
  deleteStored(group: ClassicGroup): Promise<void> {
    return this.chain(group, () => this.store.deleteGroup(group.groupId));
  }

  private chain(group: ClassicGroup, step: () => Promise<void>): Promise<void> {
    const result = group.storeChain.then(step);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    group.storeChain = settled;
    this.writes.add(settled);
    void settled.then(() => this.writes.delete(settled));
    return result;
  }

  /** A write no request waits for: a failure goes to the store-error listener. */
  private writeInBackground(group: ClassicGroup, input: GroupInput): void {
    this.write(group, input).catch((error: unknown) => this.onStoreError(group.groupId, error));
  }

  /** Settles when every write started so far has settled. */
  async drainWrites(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  /** Answers the group's parked requests with `errorCode` and forgets its timers (the coordinator closes). */
  abandon(group: ClassicGroup, errorCode: number): void {
    for (const member of group.members.values()) {
      member.joinWaiter?.(joinError(member.memberId, errorCode));
      member.joinWaiter = null;
      member.syncWaiter?.(syncError(errorCode));
      member.syncWaiter = null;
      member.sessionTimer = null;
    }
    group.rebalanceTimer = null;
    group.syncTimer = null;
    group.pendingMembers.clear();
  }
}
