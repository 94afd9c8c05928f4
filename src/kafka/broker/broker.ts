/**
 * The Kafka broker on chronik-metalog: one node that speaks the Kafka protocol, keeps every piece of
 * metadata (cluster id, its own registration, topics, partitions, configs, groups, committed offsets,
 * high watermarks, segments, producer ids) in the store, and the records themselves in its partition
 * logs.
 *
 * Start, in order (each step needs the one before):
 * 1. open the store in `<log.dir>/metadata` with the broker's durability;
 * 2. open the partition logs in `<log.dir>/logs` (torn tails cut) and drop the logs of topics the store
 *    no longer has (deleted while the broker was down);
 * 3. listen (port 0 picks one), so the address to register is known; requests wait for step 5;
 * 4. settle the identity: cluster id, registration with a new broker epoch, leadership of every
 *    partition (broker-identity.ts); bring the store's high watermarks in line with the logs;
 * 5. load the groups, then serve.
 * Close reverses it: stop serving, close the coordinator (parked requests answered), flush and close
 * the logs, close the store.
 */
import fs from 'node:fs';
import path from 'node:path';
import { MetaLog } from '../../index.js';
import { KafkaServer } from '../server/kafka-server.js';
import type { LogLine } from '../server/connection.js';
import type { BrokerSettings } from './broker-settings.js';
import type { BrokerCore, BrokerIdentity } from './broker-state.js';
import { settleIdentity } from './broker-identity.js';
import { buildHandlerTable } from './handler-table.js';
import { GroupCoordinator } from '../group-coordinator/group-coordinator.js';
import { BrokerLogs } from './broker-logs.js';

export interface KafkaBrokerOptions {
  readonly settings: BrokerSettings;
  /** Where log lines go (closed connections, failures); stderr by default. */
  readonly log?: LogLine;
}

export class KafkaBroker {
  private readonly retentionTimer: NodeJS.Timeout;
  private retentionRun: Promise<void> = Promise.resolve();

  private constructor(
    private readonly core: BrokerCore,
    private readonly server: KafkaServer,
    private readonly logs: BrokerLogs,
    private readonly coordinator: GroupCoordinator,
  ) {
    this.retentionTimer = setInterval(() => void this.enforceRetention(), core.settings['log.retention.check.interval.ms']);
    this.retentionTimer.unref();
  }

  static async start(options: KafkaBrokerOptions): Promise<KafkaBroker> {
    const { settings } = options;
    const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
    fs.mkdirSync(settings['log.dir'], { recursive: true });
    const store = await MetaLog.open({
      dir: path.join(settings['log.dir'], 'metadata'),
      durability: settings.durability as 'fsync' | 'interval' | 'none',
      flushIntervalMs: settings['flush.interval.ms'],
      offsetsRetentionMs: settings['offsets.retention.minutes'] * 60_000,
      groupMinSessionTimeoutMs: settings['group.min.session.timeout.ms'],
      groupMaxSessionTimeoutMs: settings['group.max.session.timeout.ms'],
    });
    let server: KafkaServer | null = null;
    let logs: BrokerLogs | null = null;
    let coordinator: GroupCoordinator | null = null;
    try {
      logs = await BrokerLogs.open(store, settings, log);
      const groups = new GroupCoordinator({
        store,
        config: {
          initialRebalanceDelayMs: settings['group.initial.rebalance.delay.ms'],
          minSessionTimeoutMs: settings['group.min.session.timeout.ms'],
          maxSessionTimeoutMs: settings['group.max.session.timeout.ms'],
        },
        onStoreError: (groupId, error) => log(`group ${groupId}: store write failed: ${String(error)}`),
      });
      coordinator = groups;
      let ready: () => void = () => undefined;
      const whenReady = new Promise<void>((resolve) => (ready = resolve));
      const identity: BrokerIdentity = { nodeId: settings['node.id'], host: settings.host, port: settings.port, clusterId: '' };
      const core: BrokerCore = { store, settings, identity, log };
      server = await KafkaServer.listen({
        host: settings.host,
        port: settings.port,
        maxFrameBytes: settings['socket.request.max.bytes'],
        idleTimeoutMs: settings['connections.max.idle.ms'],
        handlers: buildHandlerTable(core, logs, groups, whenReady),
        log,
      });
      const settled = await settleIdentity(store, settings['node.id'], settings.host, server.port);
      Object.assign(identity, settled);
      groups.load();
      ready();
      return new KafkaBroker(core, server, logs, groups);
    } catch (error) {
      await server?.close();
      await coordinator?.close();
      await logs?.close();
      await store.close();
      throw error;
    }
  }

  /** The port the broker listens on. */
  get port(): number {
    return this.server.port;
  }

  get clusterId(): string {
    return this.core.identity.clusterId;
  }

  /** Fetch requests parked now, waiting for data (long polls). */
  get parkedFetchCount(): number {
    return this.logs.parkedFetchCount;
  }

  /** The store the broker keeps its metadata in (for inspection; the broker owns it). */
  get store(): MetaLog {
    return this.core.store;
  }

  /**
   * Applies retention (each topic's retention.ms and retention.bytes) now; also run every
   * log.retention.check.interval.ms. Runs one at a time.
   */
  enforceRetention(): Promise<void> {
    this.retentionRun = this.retentionRun.then(() =>
      this.logs.enforceRetention(Date.now()).catch((error: unknown) => this.core.log(`retention failed: ${String(error)}`)),
    );
    return this.retentionRun;
  }

  /** Stops serving, answers parked requests, flushes and closes the logs, closes the store. */
  async close(): Promise<void> {
    clearInterval(this.retentionTimer);
    await this.server.close();
    await this.coordinator.close();
    await this.retentionRun;
    await this.logs.close();
    await this.core.store.close();
  }
}
