/**
 * What every handler of the broker shares: the store, the settings, this node's identity and address,
 * and the parts built on the store (partition logs, group coordinator). Built once by broker.ts.
 */
import type { MetaLog } from '../../index.js';
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
