/**
 * Producer ids and transactions, with the coordinator's rules from Kafka:
 * - producer ids are handed out in blocks and never reissued: the next block starts after every id
 *   ever allocated or used, and that bound is itself an event, so it survives restarts;
 * - initProducerId for a transactional id bumps its producer epoch, which fences the previous
 *   incarnation: a call with an older epoch is PRODUCER_FENCED (90), a newer one INVALID_PRODUCER_EPOCH
 *   (47), another producer id INVALID_PRODUCER_ID_MAPPING (49);
 * - states move Empty/Complete* → Ongoing (add partitions or offsets) → Prepare{Commit,Abort} (endTxn)
 *   → Complete{Commit,Abort} (completeTxn, once the broker wrote the markers); any other move is
 *   INVALID_TXN_STATE (48), and initProducerId during an unfinished transaction is
 *   CONCURRENT_TRANSACTIONS (51, retriable).
 */
import type { EventBody, TransactionChanged } from '../codec/event-schema.js';
import { MetaLogError } from '../errors.js';
import { GROUP_ID_LENGTH_MAX, PARTITIONS_MAX } from '../limits.js';
import type { Transaction } from '../state/entities.js';
import type { MetadataState } from '../state/metadata-state.js';
import { checkTopicName, requireInteger, requireString } from './input-rules.js';

/** Kafka's transaction.max.timeout.ms default (15 minutes). */
const TRANSACTION_TIMEOUT_MS_MAX = 900000;
/** Producer epochs are int16; at the top a new producer id is issued instead. */
const PRODUCER_EPOCH_MAX = 32766;
/** Ids in one allocated block at most. */
const PRODUCER_ID_BLOCK_MAX = 1_000_000;

/** Identifies the producer a transactional call comes from. */
export interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
}

/** Transaction commands as queued for the writer. */
export type TransactionCommand =
  | { type: 'AllocateProducerIds'; value: { count: number } }
  | { type: 'InitProducerId'; value: { transactionalId: string; timeoutMs: number } }
  | { type: 'AddToTxn'; value: { transactionalId: string; producer: ProducerIdentity; partitions: { topic: string; partition: number }[]; groupIds: string[] } }
  | { type: 'EndTxn'; value: { transactionalId: string; producer: ProducerIdentity; commit: boolean } }
  | { type: 'CompleteTxn'; value: { transactionalId: string } };

function requireTransactionalId(value: unknown): string {
  return requireString(value, 1, GROUP_ID_LENGTH_MAX, 'transactionalId');
}

function requireProducer(value: unknown): ProducerIdentity {
  const { producerId, producerEpoch } = (value ?? {}) as Partial<ProducerIdentity>;
  return {
    producerId: requireInteger(producerId, 0, Number.MAX_SAFE_INTEGER - 1, 'producerId', 'INVALID_PRODUCER_ID_MAPPING'),
    producerEpoch: requireInteger(producerEpoch, 0, PRODUCER_EPOCH_MAX, 'producerEpoch', 'INVALID_PRODUCER_EPOCH'),
  };
}

/** Checks allocateProducerIds arguments. */
export function checkAllocateProducerIdsInput(count: unknown): TransactionCommand {
  return { type: 'AllocateProducerIds', value: { count: requireInteger(count, 1, PRODUCER_ID_BLOCK_MAX, 'count') } };
}

/** Checks initProducerId arguments. */
export function checkInitProducerIdInput(transactionalId: unknown, timeoutMs: unknown): TransactionCommand {
  return {
    type: 'InitProducerId',
    value: {
      transactionalId: requireTransactionalId(transactionalId),
      timeoutMs: requireInteger(timeoutMs, 1, TRANSACTION_TIMEOUT_MS_MAX, 'timeoutMs', 'INVALID_TRANSACTION_TIMEOUT'),
    },
  };
}

/** Checks addPartitionsToTxn / addOffsetsToTxn arguments. */
export function checkAddToTxnInput(transactionalId: unknown, producer: unknown, partitions: unknown, groupIds: unknown): TransactionCommand {
  const list = Array.isArray(partitions) ? partitions : [];
  const checked = list.map((entry: unknown, i) => {
    const { topic, partition } = (entry ?? {}) as { topic?: unknown; partition?: unknown };
    checkTopicName(topic, `partitions[${i}].topic`);
    return { topic, partition: requireInteger(partition, 0, PARTITIONS_MAX - 1, `partitions[${i}].partition`, 'UNKNOWN_TOPIC_OR_PARTITION') };
  });
  const groups = (Array.isArray(groupIds) ? groupIds : []).map((groupId: unknown, i) => requireString(groupId, 1, GROUP_ID_LENGTH_MAX, `groupIds[${i}]`));
  if (checked.length + groups.length === 0) throw new MetaLogError('INVALID_REQUEST', 'add at least one partition or group', { field: 'partitions' });
  return { type: 'AddToTxn', value: { transactionalId: requireTransactionalId(transactionalId), producer: requireProducer(producer), partitions: checked, groupIds: groups } };
}

/** Checks endTxn arguments. */
export function checkEndTxnInput(transactionalId: unknown, producer: unknown, commit: unknown): TransactionCommand {
  if (typeof commit !== 'boolean') throw new MetaLogError('INVALID_REQUEST', 'commit must be true (commit) or false (abort)', { field: 'commit' });
  return { type: 'EndTxn', value: { transactionalId: requireTransactionalId(transactionalId), producer: requireProducer(producer), commit } };
}

/** Checks completeTxn arguments. */
export function checkCompleteTxnInput(transactionalId: unknown): TransactionCommand {
  return { type: 'CompleteTxn', value: { transactionalId: requireTransactionalId(transactionalId) } };
}

/**
 * A transaction whose markers are being written (PrepareCommit, PrepareAbort): Kafka's coordinator
 * answers CONCURRENT_TRANSACTIONS, which a client retries until the transaction completes.
 */
function beingCompleted(transaction: Transaction, action: string): MetaLogError {
  return new MetaLogError('CONCURRENT_TRANSACTIONS', `transaction ${JSON.stringify(transaction.transactionalId)} is ${transaction.state}; retry ${action} once it completes`, {
    entity: transaction.transactionalId,
  });
}

function invalidState(transaction: Transaction, action: string): MetaLogError {
  return new MetaLogError('INVALID_TXN_STATE', `transaction ${JSON.stringify(transaction.transactionalId)} is ${transaction.state}; cannot ${action}`, {
    entity: transaction.transactionalId,
  });
}

/** The transaction a producer call names, after the fencing checks. */
function fencedTransaction(state: MetadataState, transactionalId: string, producer: ProducerIdentity): Transaction {
  const transaction = state.transactions.get(transactionalId);
  const entity = transactionalId;
  if (transaction === undefined || transaction.producerId !== producer.producerId) {
    throw new MetaLogError('INVALID_PRODUCER_ID_MAPPING', `producer ${producer.producerId} does not own transactional id ${JSON.stringify(transactionalId)}`, { entity });
  }
  if (producer.producerEpoch < transaction.producerEpoch) {
    throw new MetaLogError('PRODUCER_FENCED', `producer epoch ${producer.producerEpoch} was fenced by epoch ${transaction.producerEpoch}`, { entity });
  }
  if (producer.producerEpoch > transaction.producerEpoch) {
    throw new MetaLogError('INVALID_PRODUCER_EPOCH', `producer epoch ${producer.producerEpoch} is newer than the current ${transaction.producerEpoch}`, { entity });
  }
  return transaction;
}

function changed(transaction: Transaction, change: Partial<TransactionChanged>): EventBody {
  return {
    type: 'TransactionChanged',
    value: {
      transactionalId: transaction.transactionalId,
      producerId: transaction.producerId,
      producerEpoch: transaction.producerEpoch,
      state: transaction.state,
      timeoutMs: transaction.timeoutMs,
      partitions: [...transaction.partitions],
      groupIds: [...transaction.groupIds],
      ...change,
    },
  };
}

function decideInitProducerId(value: Extract<TransactionCommand, { type: 'InitProducerId' }>['value'], state: MetadataState): EventBody {
  const existing = state.transactions.get(value.transactionalId);
  if (existing === undefined) {
    return {
      type: 'TransactionChanged',
      value: { transactionalId: value.transactionalId, producerId: state.nextProducerId, producerEpoch: 0, state: 'Empty', timeoutMs: value.timeoutMs, partitions: [], groupIds: [] },
    };
  }
  if (existing.state === 'Ongoing' || existing.state === 'PrepareCommit' || existing.state === 'PrepareAbort') {
    throw new MetaLogError('CONCURRENT_TRANSACTIONS', `transaction ${JSON.stringify(value.transactionalId)} is ${existing.state}; finish it first`, {
      entity: value.transactionalId,
    });
  }
  const exhausted = existing.producerEpoch >= PRODUCER_EPOCH_MAX;
  return changed(existing, {
    producerId: exhausted ? state.nextProducerId : existing.producerId,
    producerEpoch: exhausted ? 0 : existing.producerEpoch + 1,
    state: 'Empty',
    timeoutMs: value.timeoutMs,
    partitions: [],
    groupIds: [],
  });
}

/** Decides a transaction command against the state. */
export function decideTransactionCommand(command: TransactionCommand, state: MetadataState): EventBody {
  switch (command.type) {
    case 'AllocateProducerIds':
      return { type: 'ProducerIdsAllocated', value: { firstProducerId: state.nextProducerId, count: command.value.count } };
    case 'InitProducerId':
      return decideInitProducerId(command.value, state);
    case 'AddToTxn': {
      const transaction = fencedTransaction(state, command.value.transactionalId, command.value.producer);
      if (transaction.state === 'PrepareCommit' || transaction.state === 'PrepareAbort') throw beingCompleted(transaction, 'adding to it');
      for (const { topic, partition } of command.value.partitions) {
        const count = state.partitionCount(topic);
        if (count === undefined || partition >= count) {
          throw new MetaLogError('UNKNOWN_TOPIC_OR_PARTITION', `${topic}-${partition} does not exist`, { entity: `${topic}-${partition}` });
        }
      }
      const fresh = transaction.state !== 'Ongoing';
      const partitions = fresh ? [] : [...transaction.partitions];
      for (const entry of command.value.partitions) {
        if (!partitions.some((p) => p.topic === entry.topic && p.partition === entry.partition)) partitions.push(entry);
      }
      const groupIds = fresh ? [] : [...transaction.groupIds];
      for (const groupId of command.value.groupIds) if (!groupIds.includes(groupId)) groupIds.push(groupId);
      return changed(transaction, { state: 'Ongoing', partitions, groupIds });
    }
    case 'EndTxn': {
      const transaction = fencedTransaction(state, command.value.transactionalId, command.value.producer);
      // Kafka's endTransaction: the same outcome again while its markers are written is retriable; the
      // other outcome, or ending a transaction that is not Ongoing, is an invalid state.
      const prepared = command.value.commit ? 'PrepareCommit' : 'PrepareAbort';
      if (transaction.state === prepared) throw beingCompleted(transaction, command.value.commit ? 'commit' : 'abort');
      if (transaction.state !== 'Ongoing') throw invalidState(transaction, command.value.commit ? 'commit' : 'abort');
      return changed(transaction, { state: command.value.commit ? 'PrepareCommit' : 'PrepareAbort' });
    }
    case 'CompleteTxn': {
      const transaction = state.transactions.get(command.value.transactionalId);
      if (transaction === undefined) {
        throw new MetaLogError('INVALID_PRODUCER_ID_MAPPING', `no transaction ${JSON.stringify(command.value.transactionalId)}`, { entity: command.value.transactionalId });
      }
      if (transaction.state !== 'PrepareCommit' && transaction.state !== 'PrepareAbort') throw invalidState(transaction, 'complete it');
      return changed(transaction, { state: transaction.state === 'PrepareCommit' ? 'CompleteCommit' : 'CompleteAbort', partitions: [], groupIds: [] });
    }
  }
}
