/**
 * The broker's partition logs tied to the store: which log serves a topic partition (by topic id), what
 * its high watermark is, and what the store is told about it.
 *
 * Invariants:
 * - The high watermark served to clients is the log's durable end offset: every record a consumer can
 *   read is on disk (fsync mode: before the Produce is answered; interval mode: within flush.interval.ms).
 * - The store hears of a high watermark only after the data below it is on disk, by coalesced
 *   updateWatermarks: at most one in flight per partition, the latest value sent when it returns.
 * - A sealed segment is recorded with addSegment once its bytes are durable; segments removed by
 *   retention are forgotten with removeSegment after the log start offset moved (in the log and the store).
 * - A topic's log folder is its topic id's, so a re-created topic starts empty; folders of topics the
 *   store no longer has are removed at start.
 */
import path from 'node:path';
import { TOPIC_CONFIG_DEFAULTS, type MetaLog, type Topic } from '../../index.js';
import { KafkaError } from '../error-codes.js';
import { LogFlusher, LogManager, type FlushMode, type PartitionLog, type PartitionLogConfig, type SegmentInfo } from '../partition-log/index.js';
import type { LogLine } from '../server/connection.js';
import type { BrokerSettings } from './broker-settings.js';

/** Partition logs opened at once at start. */
const RECONCILE_CONCURRENCY = 16;

/** Fetch waiters parked at once beyond this answer at once (their clients fetch again). */
const FETCH_WAITERS_MAX = 10_000;

interface WatermarkReport {
  inFlight: boolean;
  /** Latest high watermark and log start not sent yet, or null. */
  pending: { highWatermark: number; logStartOffset: number } | null;
  /** Reports asked for so far; an update covers every report asked for before it was sent. */
  requested: number;
  /** Callers waiting for their report to be answered: the report's number and how to wake them. */
  waiting: { request: number; resolve: () => void }[];
}

interface FetchWaiter {
  readonly keys: ReadonlySet<string>;
  readonly wake: () => void;
}

/** A topic config as a number, or `fallback` when unset or not a safe integer. */
function numericConfig(topic: Topic, name: string, fallback: number): number {
  const text = topic.configs[name];
  const value = text === undefined ? NaN : Number(text);
  return Number.isSafeInteger(value) ? value : fallback;
}

export class BrokerLogs {
  private readonly reports = new Map<string, WatermarkReport>();
  private readonly sealedWaiting = new Map<PartitionLog, { topic: string; partition: number; topicId: string; segments: SegmentInfo[] }>();
  private readonly fetchWaiters = new Set<FetchWaiter>();
  private readonly owners = new Map<PartitionLog, { topic: string; partition: number; topicId: string }>();
  /** Store writes started by the logs (watermarks, segments) not settled yet; close waits for them. */
  private readonly storeWrites = new Set<Promise<unknown>>();

  private constructor(
    private readonly store: MetaLog,
    private readonly settings: BrokerSettings,
    private readonly manager: LogManager,
    private readonly flusher: LogFlusher,
    private readonly log: LogLine,
  ) {}

  static async open(store: MetaLog, settings: BrokerSettings, log: LogLine): Promise<BrokerLogs> {
    let logs: BrokerLogs | null = null;
    const flusher = new LogFlusher({
      mode: settings.durability as FlushMode,
      flushIntervalMs: settings['flush.interval.ms'],
      onDurable: (partitionLog) => logs?.durable(partitionLog),
    });
    const manager = await LogManager.open(path.join(settings['log.dir'], 'logs'), { flusher });
    logs = new BrokerLogs(store, settings, manager, flusher, log);
    flusher.start();
    await logs.reconcile();
    return logs;
  }

  /**
   * At start: removes the folders of topics the store no longer has, opens every partition's log (its
   * torn tail cut) and brings the store's watermarks in line with what is on disk.
   */
  private async reconcile(): Promise<void> {
    const topics = this.store.listTopics();
    const known = new Set(topics.map((topic) => topic.topicId));
    for (const topicId of await this.manager.topicIdsOnDisk()) {
      if (!known.has(topicId)) await this.manager.drop(topicId);
    }
    // Partitions open side by side (each open is mostly waiting on the disk), a bounded number at once.
    const partitions = topics.flatMap((topic) => topic.partitions.map((partition) => ({ topic, partition: partition.partition })));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < partitions.length) {
        const { topic, partition } = partitions[next++]!;
        await this.reconcilePartition(topic, partition);
      }
    };
    await Promise.all(Array.from({ length: Math.min(RECONCILE_CONCURRENCY, partitions.length) }, worker));
  }

  private async reconcilePartition(topic: Topic, partition: number): Promise<void> {
    const partitionLog = await this.logFor(topic, partition);
    const stored = this.store.getWatermarks(topic.name, partition);
    const onDisk = { highWatermark: partitionLog.durableEndOffset, logStartOffset: partitionLog.logStartOffset };
    if (stored !== undefined && (stored.highWatermark > onDisk.highWatermark || stored.logStartOffset > onDisk.logStartOffset)) {
      // Only a store that was told more than the disk kept (durability none, a lost tail): say so.
      this.log(`${topic.name}-${partition}: the store's high watermark ${stored.highWatermark} is past the log's end ${onDisk.highWatermark}; reset to the log`);
      await this.store.resetWatermarks(topic.name, partition, onDisk);
    } else if (stored === undefined || stored.highWatermark < onDisk.highWatermark || stored.logStartOffset < onDisk.logStartOffset) {
      await this.store.updateWatermarks(topic.name, partition, onDisk);
    }
  }

  /** The log of a topic partition, opened (recovered) on first use with the topic's configs. */
  logFor(topic: Topic, partition: number): Promise<PartitionLog> {
    if (partition < 0 || partition >= topic.partitions.length) {
      return Promise.reject(new KafkaError('UNKNOWN_TOPIC_OR_PARTITION', `${topic.name} has no partition ${partition}`));
    }
    const open = this.manager.get(topic.topicId, partition);
    if (open !== undefined) return open;
    const config: Partial<PartitionLogConfig> = {
      segmentBytes: numericConfig(topic, 'segment.bytes', this.settings['log.segment.bytes']),
      maxMessageBytes: numericConfig(topic, 'max.message.bytes', this.settings['message.max.bytes']),
    };
    const logStartOffset = this.store.getWatermarks(topic.name, partition)?.logStartOffset ?? 0;
    const opening = this.manager.getOrCreate(topic.topicId, partition, { config, logStartOffset });
    void opening.then((partitionLog) => this.owners.set(partitionLog, { topic: topic.name, partition, topicId: topic.topicId }), () => undefined);
    return opening;
  }

  /**
   * Appends one Produce's records to a partition; resolves when it may be answered (acks = -1 in fsync
   * mode: once on disk).
   */
  async append(topic: Topic, partition: number, records: Buffer, acks: number, nowMs: number): Promise<{ baseOffset: number; logStartOffset: number }> {
    const partitionLog = await this.logFor(topic, partition);
    const leaderEpoch = topic.partitions[partition]!.leaderEpoch;
    const result = await partitionLog.append(records, leaderEpoch, nowMs);
    if (result.rolledSegments.length > 0) this.awaitDurable(partitionLog, topic, partition, result.rolledSegments);
    const durable = this.flusher.afterAppend(partitionLog, result.lastOffset + 1);
    if (acks === -1) await durable;
    else durable.catch(() => undefined); // the partition is shut on a failed sync; its next call says so
    return { baseOffset: result.baseOffset, logStartOffset: result.logStartOffset };
  }

  private awaitDurable(partitionLog: PartitionLog, topic: Topic, partition: number, segments: SegmentInfo[]): void {
    const waiting = this.sealedWaiting.get(partitionLog) ?? { topic: topic.name, partition, topicId: topic.topicId, segments: [] };
    waiting.segments.push(...segments);
    this.sealedWaiting.set(partitionLog, waiting);
  }

  /** A log's durable end moved: tell the store, record sealed segments now durable, wake fetches. */
  private durable(partitionLog: PartitionLog): void {
    const owner = this.owners.get(partitionLog);
    if (owner === undefined) return;
    void this.reportWatermarks(owner.topic, owner.partition, owner.topicId, partitionLog);
    const sealed = this.sealedWaiting.get(partitionLog);
    if (sealed !== undefined) {
      const ready = sealed.segments.filter((segment) => segment.lastOffset < partitionLog.durableEndOffset);
      sealed.segments = sealed.segments.filter((segment) => segment.lastOffset >= partitionLog.durableEndOffset);
      if (sealed.segments.length === 0) this.sealedWaiting.delete(partitionLog);
      for (const segment of ready) {
        this.track(
          this.store
            .addSegment(owner.topic, owner.partition, { segmentId: segment.baseOffset, ...segment })
            .catch((error: unknown) => this.log(`${owner.topic}-${owner.partition}: recording segment ${segment.baseOffset} failed: ${String(error)}`)),
        );
      }
    }
    const key = `${owner.topicId}/${owner.partition}`;
    for (const waiter of [...this.fetchWaiters]) if (waiter.keys.has(key)) waiter.wake();
  }

  /** Sends the partition's watermarks to the store, one update in flight at a time. */
  /**
   * Sends the partition's watermarks to the store, one update in flight at a time. Resolves once the store
   * holds these watermarks or later ones (or the update failed, which is logged).
   */
  private reportWatermarks(topic: string, partition: number, topicId: string, partitionLog: PartitionLog): Promise<void> {
    const key = `${topicId}/${partition}`;
    const report = this.reports.get(key) ?? { inFlight: false, pending: null, requested: 0, waiting: [] };
    this.reports.set(key, report);
    report.pending = { highWatermark: partitionLog.durableEndOffset, logStartOffset: partitionLog.logStartOffset };
    const request = ++report.requested;
    const settled = new Promise<void>((resolve) => report.waiting.push({ request, resolve }));
    if (report.inFlight) return settled;
    const answered = (upTo: number): void => {
      const stillWaiting: WatermarkReport['waiting'] = [];
      for (const waiter of report.waiting) {
        if (waiter.request <= upTo) waiter.resolve();
        else stillWaiting.push(waiter);
      }
      report.waiting = stillWaiting;
    };
    const send = (): void => {
      const watermarks = report.pending;
      if (watermarks === null || this.store.getTopic(topic)?.topicId !== topicId) {
        report.inFlight = false;
        report.pending = null;
        answered(report.requested);
        return;
      }
      const covers = report.requested;
      report.pending = null;
      report.inFlight = true;
      this.track(
        this.store.updateWatermarks(topic, partition, watermarks).then(
          () => {
            answered(covers);
            send();
          },
          (error: unknown) => {
            this.log(`${topic}-${partition}: updating watermarks to ${JSON.stringify(watermarks)} failed: ${String(error)}`);
            answered(covers);
            send();
          },
        ),
      );
    };
    send();
    return settled;
  }

  /** Fetches parked now, waiting for data. */
  get parkedFetchCount(): number {
    return this.fetchWaiters.size;
  }

  /** Resolves when any of the partitions (`topicId/partition` keys) gets new durable data, or after `waitMs`. */
  waitForData(keys: ReadonlySet<string>, waitMs: number): Promise<void> {
    if (this.fetchWaiters.size >= FETCH_WAITERS_MAX || waitMs <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const waiter: FetchWaiter = {
        keys,
        wake: () => {
          clearTimeout(timer);
          this.fetchWaiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, waitMs);
      this.fetchWaiters.add(waiter);
    });
  }

  /** Retention of every open log by its topic's retention.ms and retention.bytes; the store hears first. */
  async enforceRetention(nowMs: number): Promise<void> {
    for (const topic of this.store.listTopics()) {
      const retentionMs = numericConfig(topic, 'retention.ms', Number(TOPIC_CONFIG_DEFAULTS['retention.ms']));
      const retentionBytes = numericConfig(topic, 'retention.bytes', Number(TOPIC_CONFIG_DEFAULTS['retention.bytes']));
      for (let partition = 0; partition < topic.partitions.length; partition++) {
        const partitionLog = await this.logFor(topic, partition);
        const result = await partitionLog.retention(nowMs, retentionMs, retentionBytes);
        // Through the same one-at-a-time reporter as the high watermark, so two updates never race; the
        // store holds the new log start before the segments below it are forgotten.
        if (result.logStartOffsetMoved) await this.reportWatermarks(topic.name, partition, topic.topicId, partitionLog);
        for (const segment of result.removedSegments) {
          if (this.store.listSegments(topic.name, partition).some((recorded) => recorded.segmentId === segment.baseOffset)) {
            await this.store.removeSegment(topic.name, partition, segment.baseOffset);
          }
        }
      }
    }
  }

  /** Removes a deleted topic's logs. */
  drop(topicId: string): Promise<void> {
    for (const [partitionLog, owner] of this.owners) if (owner.topicId === topicId) this.owners.delete(partitionLog);
    return this.manager.drop(topicId);
  }

  private track(write: Promise<unknown>): void {
    this.storeWrites.add(write);
    void write.finally(() => this.storeWrites.delete(write));
  }

  /**
   * Wakes every parked fetch, flushes and closes every log, then waits for the store writes that the
   * last flushes started (so the store closes with the logs' final watermarks and segments).
   */
  async close(): Promise<void> {
    for (const waiter of [...this.fetchWaiters]) waiter.wake();
    await this.manager.close();
    // Bounded: each round settles the writes started before it; a settled report starts at most one more.
    for (let round = 0; round < 1000 && this.storeWrites.size > 0; round++) await Promise.allSettled([...this.storeWrites]);
  }
}
