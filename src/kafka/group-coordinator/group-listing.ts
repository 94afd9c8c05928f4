/**
 * DescribeGroups and ListGroups answers: what the coordinator and the store know of groups, in Kafka's
 * shapes. Pure reads; owns nothing.
 *
 * A group appears in ListGroups when the coordinator holds it (not Dead), when the store has its record,
 * or when the store has only its committed offsets (as Empty, protocol type ''); the coordinator's view
 * wins where both have it (the store holds only the last Stable or Empty move).
 */
import { ClassicGroup, type GroupStateName } from './classic-group.js';
import type { GroupStore } from './group-store.js';
import type { DescribedGroup, ListedGroup } from './messages.js';

const EMPTY_BYTES = new Uint8Array(0);

/** Kafka's summary of a group: metadata and assignments only while Stable; a missing group is Dead. */
export function describeGroup(groupId: string, group: ClassicGroup | undefined): DescribedGroup {
  if (group === undefined) return { errorCode: 0, groupId, groupState: 'Dead', protocolType: '', protocolData: '', members: [] };
  const stable = group.is('Stable');
  return {
    errorCode: 0,
    groupId,
    groupState: group.state,
    protocolType: group.protocolType ?? '',
    protocolData: stable ? (group.protocolName ?? '') : '',
    members: [...group.members.values()].map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      clientId: member.clientId,
      clientHost: member.clientHost,
      memberMetadata: stable ? ClassicGroup.metadataOf(member, group.protocolName) : EMPTY_BYTES,
      memberAssignment: stable ? member.assignment : EMPTY_BYTES,
    })),
  };
}

/** Every group known to the coordinator or the store, in id order, keeping the states in `statesFilter` (all if empty). */
export function listedGroups(groups: ReadonlyMap<string, ClassicGroup>, store: GroupStore, statesFilter: readonly string[]): ListedGroup[] {
  const listed = new Map<string, ListedGroup>();
  for (const group of groups.values()) {
    if (!group.is('Dead')) listed.set(group.groupId, { groupId: group.groupId, protocolType: group.protocolType ?? '', groupState: group.state });
  }
  for (const stored of store.listGroups()) {
    if (listed.has(stored.groupId) || groups.has(stored.groupId)) continue;
    const state: GroupStateName = stored.members.length > 0 ? 'Stable' : 'Empty';
    listed.set(stored.groupId, { groupId: stored.groupId, protocolType: stored.protocolType, groupState: state });
  }
  for (const groupId of store.listGroupIds?.() ?? []) {
    if (!listed.has(groupId) && !groups.has(groupId)) listed.set(groupId, { groupId, protocolType: '', groupState: 'Empty' });
  }
  const wanted = new Set(statesFilter.map((state) => state.toLowerCase()));
  return [...listed.values()].filter((group) => wanted.size === 0 || wanted.has(group.groupState.toLowerCase())).sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0));
}
