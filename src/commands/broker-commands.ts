/**
 * Broker rules. A broker registers with an epoch (its incarnation); re-registering needs a higher epoch,
 * so a zombie process with an old epoch cannot take the id back (STALE_BROKER_EPOCH, as Kafka).
 * A registered broker is ONLINE; FENCED and MAINTENANCE brokers get no new replicas.
 */
import type { BrokerStatus, EventBody } from '../codec/event-schema.js';
import { MetaLogError } from '../errors.js';
import { COMMITTED_OFFSET_MAX } from '../limits.js';
import type { MetadataState } from '../state/metadata-state.js';
import { BROKER_ID_MAX, requireInteger, requireString } from './input-rules.js';

/** Arguments of registerBroker. */
export interface RegisterBrokerInput {
  brokerId: number;
  host: string;
  port: number;
  rack?: string | null;
  brokerEpoch: number;
}

/** Broker commands as queued for the writer. */
export type BrokerCommand =
  | { type: 'RegisterBroker'; value: { brokerId: number; host: string; port: number; rack: string | null; brokerEpoch: number } }
  | { type: 'SetBrokerStatus'; value: { brokerId: number; status: BrokerStatus } }
  | { type: 'UnregisterBroker'; value: { brokerId: number } };

const STATUSES: readonly BrokerStatus[] = ['ONLINE', 'FENCED', 'MAINTENANCE'];

function requireBrokerId(value: unknown): number {
  return requireInteger(value, 0, BROKER_ID_MAX, 'brokerId');
}

/** Checks registerBroker arguments. */
export function checkRegisterBrokerInput(input: unknown): BrokerCommand {
  if (typeof input !== 'object' || input === null) {
    throw new MetaLogError('INVALID_REQUEST', 'registerBroker takes { brokerId, host, port, rack?, brokerEpoch }', {});
  }
  const { brokerId, host, port, rack = null, brokerEpoch } = input as Partial<RegisterBrokerInput>;
  return {
    type: 'RegisterBroker',
    value: {
      brokerId: requireBrokerId(brokerId),
      host: requireString(host, 1, 255, 'host'),
      port: requireInteger(port, 1, 65535, 'port'),
      rack: rack === null ? null : requireString(rack, 1, 255, 'rack'),
      brokerEpoch: requireInteger(brokerEpoch, 0, COMMITTED_OFFSET_MAX, 'brokerEpoch'),
    },
  };
}

/** Checks setBrokerStatus arguments. */
export function checkSetBrokerStatusInput(brokerId: unknown, status: unknown): BrokerCommand {
  if (typeof status !== 'string' || !STATUSES.includes(status as BrokerStatus)) {
    throw new MetaLogError('INVALID_REQUEST', `status must be one of ${STATUSES.join(', ')}`, { field: 'status' });
  }
  return { type: 'SetBrokerStatus', value: { brokerId: requireBrokerId(brokerId), status: status as BrokerStatus } };
}

/** Checks unregisterBroker arguments. */
export function checkUnregisterBrokerInput(brokerId: unknown): BrokerCommand {
  return { type: 'UnregisterBroker', value: { brokerId: requireBrokerId(brokerId) } };
}

function notRegistered(brokerId: number): MetaLogError {
  return new MetaLogError('BROKER_ID_NOT_REGISTERED', `broker ${brokerId} is not registered`, { entity: `broker-${brokerId}` });
}

/** Decides a broker command against the state. */
export function decideBrokerCommand(command: BrokerCommand, state: MetadataState): EventBody {
  switch (command.type) {
    case 'RegisterBroker': {
      const existing = state.brokers.get(command.value.brokerId);
      if (existing !== undefined && existing.brokerEpoch >= command.value.brokerEpoch) {
        throw new MetaLogError(
          'STALE_BROKER_EPOCH',
          `broker ${command.value.brokerId} is registered with epoch ${existing.brokerEpoch}; a new registration needs a higher epoch than ${command.value.brokerEpoch}`,
          { entity: `broker-${command.value.brokerId}`, field: 'brokerEpoch' },
        );
      }
      return { type: 'BrokerRegistered', value: command.value };
    }
    case 'SetBrokerStatus':
      if (!state.brokers.has(command.value.brokerId)) throw notRegistered(command.value.brokerId);
      return { type: 'BrokerStatusChanged', value: command.value };
    case 'UnregisterBroker':
      if (!state.brokers.has(command.value.brokerId)) throw notRegistered(command.value.brokerId);
      return { type: 'BrokerUnregistered', value: command.value };
  }
}
