/**
 * The entities as the API returns them: what a read gives back, whichever thread or structure serves
 * it (the writer's state, the shared index, the reader pool, a state as of an offset). Types only.
 */
import type { BrokerStatus, GroupMember, GroupState, PartitionState, TransactionChanged } from '../codec/event-schema.js';

/** A topic as the API returns it. */
export interface Topic {
  readonly topicId: string;
  readonly name: string;
  readonly replicationFactor: number;
  readonly partitions: readonly Readonly<PartitionState>[];
  readonly configs: Readonly<Record<string, string>>;
}

/** A committed offset as the API returns it (`commitTimestamp` is the commit event's time in ms since the epoch). */
export interface CommittedOffset {
  readonly offset: number;
  readonly leaderEpoch: number;
  readonly metadata: string;
  readonly commitTimestamp: number;
}

/** A registered broker as the API returns it. */
export interface Broker {
  readonly brokerId: number;
  readonly host: string;
  readonly port: number;
  readonly rack: string | null;
  readonly brokerEpoch: number;
  readonly status: BrokerStatus;
}

/** A consumer group as the API returns it. */
export interface Group {
  readonly groupId: string;
  readonly state: GroupState;
  readonly protocolType: string;
  readonly protocol: string | null;
  readonly generation: number;
  readonly leader: string | null;
  readonly members: readonly Readonly<GroupMember>[];
}

/**
 * A group that only has committed offsets (its members, if any, commit without Kafka's group
 * membership; no upsert ever stored it) as every read shows it: Empty, protocol type '', generation 0,
 * no members. It exists while it has offsets.
 */
export function offsetOnlyGroup(groupId: string): Group {
  return Object.freeze({ groupId, state: 'Empty', protocolType: '', protocol: null, generation: 0, leader: null, members: Object.freeze([]) });
}

/** A transaction as the API returns it. */
export type Transaction = Readonly<TransactionChanged>;
