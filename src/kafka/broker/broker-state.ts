/**
 * What every handler of the broker shares: the store, the settings, this node's identity and address.
 * Built once by broker.ts.
 */
import type { MetaLog, Topic } from '../../index.js';
import { KafkaError } from '../error-codes.js';
import type { LogLine } from '../server/connection.js';
import type { BrokerSettings } from './broker-settings.js';

export interface BrokerIdentity {
  readonly nodeId: number;
  /** The address clients are told to connect to (the one the broker listens on). */
  readonly host: string;
  port: number;
  readonly clusterId: string;
}

export interface BrokerCore {
  readonly store: MetaLog;
  readonly settings: BrokerSettings;
  readonly identity: BrokerIdentity;
  readonly log: LogLine;
}

/** The topic named `name`; UNKNOWN_TOPIC_OR_PARTITION when the store has none. */
export function requireTopic(core: BrokerCore, name: string): Topic {
  const topic = core.store.getTopic(name);
  if (topic === undefined) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic ${name} does not exist`);
  return topic;
}
