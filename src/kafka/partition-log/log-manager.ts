/**
 * Every partition log of a broker, under one root folder: `<root>/<topicId>/<partition>/`. The folder is
 * named by the topic's id, not its name, so a topic deleted and created again under the same name starts
 * from an empty folder and never sees the old topic's bytes.
 *
 * Invariants: at most one PartitionLog is open per (topicId, partition); `drop` closes a topic's logs
 * before it removes the topic's folder; after `close` no log is open. Opening is lazy: the broker opens
 * a partition when the store says it exists.
 */
import path from 'node:path';
import { KafkaError } from '../error-codes.js';
import { NodeLogStorage, type LogStorage } from './log-storage.js';
import { PartitionLog } from './partition-log.js';
import { resolvePartitionLogConfig, type PartitionLogConfig } from './partition-log-config.js';
import type { LogFlusher } from './log-flusher.js';

/** Topic ids as folder names: Kafka's are 22 characters of URL-safe base64; nothing that walks paths. */
const TOPIC_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Kafka's partition numbers are int32. */
const PARTITION_MAX = 2 ** 31 - 1;

/** How the manager opens logs. */
export interface LogManagerOptions {
  /** The disk; the real one unless a test injects faults. */
  storage?: LogStorage;
  /** Configs every partition gets unless `getOrCreate` passes its own. */
  config?: Partial<PartitionLogConfig>;
  /** Flushed on `close`, after every log was closed. */
  flusher?: LogFlusher;
}

/** All partition logs of a broker; see the module header. */
export class LogManager {
  private readonly logs = new Map<string, Promise<PartitionLog>>();
  private closed = false;

  private constructor(
    readonly root: string,
    private readonly storage: LogStorage,
    private readonly config: Partial<PartitionLogConfig>,
    private readonly flusher: LogFlusher | undefined,
  ) {}

  /** Opens the logs' root folder (creating it). Partitions open on `getOrCreate`. */
  static async open(root: string, options: LogManagerOptions = {}): Promise<LogManager> {
    const storage = options.storage ?? new NodeLogStorage();
    const config = options.config ?? {};
    resolvePartitionLogConfig(config);
    await storage.mkdirp(root);
    return new LogManager(root, storage, config, options.flusher);
  }

  /** Topic ids that have a folder (the broker removes those the store no longer knows). */
  async topicIdsOnDisk(): Promise<string[]> {
    return (await this.storage.readdir(this.root)).filter((name) => TOPIC_ID.test(name)).sort();
  }

  /** The folder of one partition. */
  partitionDir(topicId: string, partition: number): string {
    checkTopicId(topicId);
    if (!Number.isInteger(partition) || partition < 0 || partition > PARTITION_MAX) {
      throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `partition ${partition} is not an int32 >= 0`);
    }
    return path.join(this.root, topicId, String(partition));
  }

  /**
   * The open log of a partition, opening (recovering) or creating it on first use. `logStartOffset` is the
   * one the store recorded; `config` the topic's configs.
   */
  getOrCreate(topicId: string, partition: number, options: { config?: Partial<PartitionLogConfig>; logStartOffset?: number } = {}): Promise<PartitionLog> {
    if (this.closed) return Promise.reject(new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', 'the log manager is closed'));
    const key = `${topicId}/${partition}`;
    const open = this.logs.get(key);
    if (open !== undefined) return open;
    const opening = PartitionLog.open({
      storage: this.storage,
      dirPath: this.partitionDir(topicId, partition),
      config: options.config ?? this.config,
      logStartOffset: options.logStartOffset,
    });
    this.logs.set(key, opening);
    opening.catch(() => this.logs.delete(key)); // a failed open may be tried again
    return opening;
  }

  /** The open log of a partition, or undefined when it was not opened. */
  get(topicId: string, partition: number): Promise<PartitionLog> | undefined {
    return this.logs.get(`${topicId}/${partition}`);
  }

  /** Closes the logs of `topicId` and removes its folder: a deleted topic's data goes with it. */
  async drop(topicId: string): Promise<void> {
    checkTopicId(topicId);
    const prefix = `${topicId}/`;
    const closing: Promise<void>[] = [];
    for (const [key, opening] of this.logs) {
      if (!key.startsWith(prefix)) continue;
      this.logs.delete(key);
      closing.push(opening.then((log) => log.close(), () => undefined));
    }
    await Promise.allSettled(closing);
    await this.storage.removeTree(path.join(this.root, topicId));
    await this.storage.syncDir(this.root);
  }

  /** Closes every log (each one flushed) and then the flusher. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const logs = [...this.logs.values()];
    this.logs.clear();
    const outcomes = await Promise.allSettled(logs.map((opening) => opening.then((log) => log.close())));
    if (this.flusher !== undefined) await this.flusher.close();
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined && failed.status === 'rejected') throw failed.reason;
  }
}

function checkTopicId(topicId: string): void {
  if (!TOPIC_ID.test(topicId)) throw new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `topic id ${JSON.stringify(topicId)} is not a folder name`);
}
