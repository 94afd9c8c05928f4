/**
 * Commands: what a caller asks for, checked in two steps.
 *
 * 1. `check*` (on the caller's thread, before anything is queued): shape, types and the rules that need
 *    no state: Kafka's legal topic names, partition and replication ranges, metadata sizes. A bad call
 *    fails at once and never reaches the writer.
 * 2. `decide` (on the writer thread, against the current state): the rules that need state (does the
 *    topic exist, is the partition epoch current, are the brokers registered) and the event that the
 *    command becomes. A rejected command leaves no trace; the other commands of its batch are unaffected.
 *
 * The rules of each entity live in its own module; this one holds the command union and the dispatch.
 */
import type { EventBody } from '../codec/event-schema.js';
import type { MetadataState } from '../state/metadata-state.js';
import { decideBrokerCommand, type BrokerCommand } from './broker-commands.js';
import { decideClusterCommand, type ClusterCommand } from './cluster-commands.js';
import { decideGroupCommand, type GroupCommand } from './group-commands.js';
import { decideCommitOffsets, type CommitOffsetsCommand } from './offset-commands.js';
import { decidePartitionLogCommand, type PartitionLogCommand } from './partition-log-commands.js';
import { decideTransactionCommand, type TransactionCommand } from './transaction-commands.js';
import { decideTopicCommand, type TopicCommand } from './topic-commands.js';

export {
  checkCommitOffsetsEachInput,
  checkCommitOffsetsInput,
  perEntryResults,
  type CheckedPerEntry,
  type CommitMembership,
  type CommitOffsetsCommand,
  type EntryRefusal,
  type OffsetCommitInput,
  type PartitionResult,
} from './offset-commands.js';
import type { EntryRefusal } from './offset-commands.js';
export {
  checkSessionTimeouts,
  checkDeleteGroupInput,
  checkDeleteOffsetsEachInput,
  checkDeleteOffsetsInput,
  checkExpireOffsetsInput,
  checkResetOffsetsInput,
  checkUpsertGroupInput,
  type GroupInput,
  type GroupMemberInput,
} from './group-commands.js';
export { checkTopicName } from './input-rules.js';
export {
  checkAlterTopicConfigsInput,
  checkChangePartitionInput,
  checkCreatePartitionsInput,
  checkCreateTopicInput,
  checkDeleteTopicInput,
  type ChangePartitionInput,
  type CreateTopicInput,
  type TopicConfigChanges,
} from './topic-commands.js';
export { checkAddSegmentInput, checkRemoveSegmentInput, checkWatermarksInput } from './partition-log-commands.js';
export {
  checkAddToTxnInput,
  checkAllocateProducerIdsInput,
  checkCompleteTxnInput,
  checkEndTxnInput,
  checkInitProducerIdInput,
  type ProducerIdentity,
} from './transaction-commands.js';
export { checkInitClusterInput } from './cluster-commands.js';
export { checkRegisterBrokerInput, checkSetBrokerStatusInput, checkUnregisterBrokerInput, type RegisterBrokerInput } from './broker-commands.js';

/** A command as queued for the writer. */
export type Command = CommitOffsetsCommand | TopicCommand | BrokerCommand | GroupCommand | PartitionLogCommand | TransactionCommand | ClusterCommand;

type Decider<T extends Command['type']> = (command: Extract<Command, { type: T }>, state: MetadataState, refused: EntryRefusal[]) => EventBody | null;

/** The decider of every command type (the mapped type makes a missing one a compile error). */
const DECIDERS: { [T in Command['type']]: Decider<T> } = {
  CommitOffsets: (command, state, refused) => decideCommitOffsets(command.value, state, refused),
  CreateTopic: decideTopicCommand,
  AlterTopicConfigs: decideTopicCommand,
  CreatePartitions: decideTopicCommand,
  DeleteTopic: decideTopicCommand,
  ChangePartition: decideTopicCommand,
  RegisterBroker: decideBrokerCommand,
  SetBrokerStatus: decideBrokerCommand,
  UnregisterBroker: decideBrokerCommand,
  UpsertGroup: decideGroupCommand,
  DeleteGroup: decideGroupCommand,
  DeleteOffsets: decideGroupCommand,
  ResetOffsets: decideGroupCommand,
  ExpireOffsets: decideGroupCommand,
  UpdateWatermarks: decidePartitionLogCommand,
  AddSegment: decidePartitionLogCommand,
  RemoveSegment: decidePartitionLogCommand,
  AllocateProducerIds: decideTransactionCommand,
  InitProducerId: decideTransactionCommand,
  AddToTxn: decideTransactionCommand,
  EndTxn: decideTransactionCommand,
  CompleteTxn: decideTransactionCommand,
  InitCluster: decideClusterCommand,
};

/**
 * True for the commands that may be decided to no event without an error: the per-entry ones (every
 * entry refused) and initCluster (the store already has a cluster id).
 */
export function mayWriteNothing(command: Command): boolean {
  return command.type === 'InitCluster' || ((command.type === 'CommitOffsets' || command.type === 'DeleteOffsets') && command.value.perEntry);
}

/**
 * Decides, against `state`, the event a command becomes; throws the Kafka error that rejects it. A
 * per-entry command (commitOffsetsEach, deleteOffsetsEach) instead adds each entry it refuses to
 * `refused` and becomes an event of the others, or none (null) when it refused them all; initCluster
 * becomes none when the store already has a cluster id.
 */
export function decide(command: Command, state: MetadataState, refused: EntryRefusal[]): EventBody | null {
  return (DECIDERS[command.type] as Decider<Command['type']>)(command as never, state, refused);
}
