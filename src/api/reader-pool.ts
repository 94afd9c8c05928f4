/**
 * The reader pool: piscina worker threads that answer list, describe and scan queries from the shared
 * index, so scanning and filtering never run on the broker's thread. Each thread attaches the index
 * once. Topics, groups and committed offsets come back in the index's own encoding, in one transferred
 * buffer, and are decoded here into the same frozen objects the synchronous reads return (decoding is
 * several times cheaper than the structured clone of the objects); the rest comes by structured clone.
 *
 * Point reads do not belong here: a thread hop costs tens of microseconds, a synchronous read of the
 * index well under one. Batch them (`getTopics`, `fetchOffsetBatch`) when they must run off-thread.
 *
 * Arguments are checked here, on the caller's thread (api-input.ts): a call of the wrong shape rejects
 * with INVALID_REQUEST, a key no write could store reads as absent, and only plain data crosses to a
 * pool thread. Every method returns a promise and never throws; what it rejects with is a MetaLogError.
 */
import type { StateDiff } from '../history/diff.js';
import type { verifyCopy } from '../backup/backup.js';
import type { Piscina } from 'piscina';
import type { LogEvent, SegmentInfo } from '../codec/event-schema.js';
import type { HistoryFilter } from '../history/history.js';
import type { StateAt, StatePoint } from '../history/state-at.js';
import { fromSerialized, MetaLogError, type SerializedError } from '../errors.js';
import type { GroupFilter, OffsetKey, QueryKind, ReaderQueries, ReaderQuery, TopicFilter } from '../reader/reader-queries.js';
import { decodeCommittedOffset, decodeGroup, decodeTopic, unpackScan, unpackValues } from '../store-index/index-values.js';
import type { ListedOffset, StoreIndexReader } from '../store-index/store-index.js';
import type { Broker, CommittedOffset, Group, Topic } from '../state/entities.js';
import { checkHistoryFilter } from '../history/history.js';
import { checkStatePoint } from '../history/state-at.js';
import { checkDiffOffsets } from '../history/diff.js';
import { checkGroupFilter, checkKeyBatch, checkOffsetKeys, checkStoreFolder, checkTopicFilter, keyOrNull, partitionOrNaN, storeCallError } from './api-input.js';
import type { ReaderWorkerData } from '../reader/reader-thread.js';

export type { GroupFilter, OffsetKey, TopicFilter } from '../reader/reader-queries.js';

const READER_URL = new URL('../../workers/reader.js', import.meta.url);

/** The young generation of each reader-pool thread, in MiB (the old generation is V8's default). */
const READER_YOUNG_GENERATION_MB = 8;

/** Queries answered with values packed by `packValues`. */
type PackedKind = 'getTopics' | 'scanTopics' | 'listGroups' | 'describeGroups' | 'scanGroups' | 'fetchOffsetBatch';


/** Queries answered in worker threads; every method resolves with a copy of one read of the index. */
export class ReaderPool {
  /**
   * The piscina pool, once its module has loaded: piscina is imported here, when the pool is made (the
   * first `log.readers`), not when the package loads, since a broker may never ask for the pool.
   */
  private readonly pool: Promise<Piscina>;
  private closed = false;

  /**
   * @param reader the handle's own reader: the pool reuses the topics it has decoded.
   */
  constructor(
    private readonly reader: StoreIndexReader,
    threads: number,
    /** The store's `decodedCacheEntries`, for the threads' own caches. */
    decodedCacheEntries: number,
    /** Fault switches for the pool threads' storage (tests; see FaultyStorage). */
    faults?: SharedArrayBuffer,
  ) {
    const workerData: ReaderWorkerData = { index: reader.buffers, decodedCacheEntries, faults };
    this.pool = import('piscina').then(({ Piscina }) => new Piscina({
      filename: READER_URL.href,
      workerData,
      // Threads start when queries need them (one query, one thread) and end after a minute without any:
      // each holds an isolate of its own (about 10 MiB before it has done anything).
      minThreads: 0,
      maxThreads: threads,
      idleTimeout: 60_000,
      // A young generation of 8 MiB instead of V8's up to 48: a query's garbage is short-lived, and what
      // the heap holds from the system after a query drops by about 4 MiB per thread (bench: memory).
      resourceLimits: { maxYoungGenerationSizeMb: READER_YOUNG_GENERATION_MB },
    }));
    // A pool that cannot start rejects each query (below); this keeps the rejection from going unhandled
    // when no query comes.
    this.pool.catch(() => undefined);
  }

  private async run<K extends QueryKind>(query: ReaderQuery & { kind: K }): Promise<ReaderQueries[K]['answer']> {
    if (this.closed) throw new MetaLogError('STORE_CLOSED', 'the store is closed', {});
    let answer: ReaderQueries[K]['answer'] | { metalogError: SerializedError };
    try {
      answer = (await (await this.pool).run(query)) as typeof answer;
    } catch (error) {
      throw storeCallError(error, `reader pool query ${query.kind}`);
    }
    // A MetaLogError of the pool thread comes as data (see workers/reader.ts).
    if (typeof answer === 'object' && answer !== null && 'metalogError' in answer) throw fromSerialized(answer.metalogError);
    return answer as ReaderQueries[K]['answer'];
  }

  /** Runs a query whose answer comes packed (its buffer transferred), and decodes it here. */
  private async runPacked<T>(query: ReaderQuery & { kind: PackedKind }, decode: (bytes: Uint8Array) => T): Promise<(T | null)[]> {
    return unpackValues(await this.run(query), decode);
  }

  /**
   * Every topic, in name order. The pool thread scans the topic table and sends back only the topics
   * this handle has not decoded in their current version; the others are reused from its cache.
   */
  async listTopics(): Promise<Topic[]> {
    const known = this.reader.knownTopicVersions();
    const packed = await this.run({ kind: 'listTopics', known });
    return this.reader.topicsFromScan(unpackScan(packed), known);
  }

  /** Every topic name, in order (no topic is decoded). */
  listTopicNames(): Promise<string[]> {
    return this.run({ kind: 'listTopicNames' });
  }

  /** Topics by name, in the order asked (null where there is none): a batch of point reads. */
  async getTopics(names: string[]): Promise<(Topic | null)[]> {
    return this.runPacked({ kind: 'getTopics', names: checkKeyBatch(names, 'names') as string[] }, decodeTopic);
  }

  /** Topics matching `filter`, in name order. */
  async scanTopics(filter: TopicFilter): Promise<Topic[]> {
    return (await this.runPacked({ kind: 'scanTopics', filter: checkTopicFilter(filter) }, decodeTopic)) as Topic[];
  }

  /** Every registered broker, in id order. */
  listBrokers(): Promise<Broker[]> {
    return this.run({ kind: 'listBrokers' });
  }

  /** Every stored group and every group that only has committed offsets (Empty, generation 0), in id order. */
  async listGroups(): Promise<Group[]> {
    return (await this.runPacked({ kind: 'listGroups' }, decodeGroup)) as Group[];
  }

  /** Groups by id, in the order asked (null where there is none): Kafka's DescribeGroups. */
  async describeGroups(groupIds: string[]): Promise<(Group | null)[]> {
    return this.runPacked({ kind: 'describeGroups', groupIds: checkKeyBatch(groupIds, 'groupIds') as string[] }, decodeGroup);
  }

  /** Groups matching `filter`, in id order. */
  async scanGroups(filter: GroupFilter): Promise<Group[]> {
    return (await this.runPacked({ kind: 'scanGroups', filter: checkGroupFilter(filter) }, decodeGroup)) as Group[];
  }

  /** Every committed offset of a group, in topic then partition order (Kafka's OffsetFetch for all). */
  async fetchOffsets(groupId: string): Promise<ListedOffset[]> {
    return this.run({ kind: 'fetchOffsets', groupId: keyOrNull(groupId) as string });
  }

  /** Committed offsets by key, in the order asked (null where there is none): a batch of point reads. */
  async fetchOffsetBatch(keys: OffsetKey[]): Promise<(CommittedOffset | null)[]> {
    return this.runPacked({ kind: 'fetchOffsetBatch', keys: checkOffsetKeys(keys) }, decodeCommittedOffset);
  }

  /** The segments of a partition, in base offset order. */
  async listSegments(topic: string, partition: number): Promise<Readonly<SegmentInfo>[]> {
    return this.run({ kind: 'listSegments', topic: keyOrNull(topic) as string, partition: partitionOrNaN(partition) });
  }

  /**
   * Committed events read back from the WAL in `dir`, filtered (see `HistoryFilter`), in offset order;
   * at most `filter.limit` (default 10,000). Byte fields arrive as Uint8Arrays.
   */
  async history(dir: string, filter: HistoryFilter): Promise<LogEvent[]> {
    return this.run({ kind: 'history', dir: checkStoreFolder(dir, 'dir'), filter: checkHistoryFilter(filter) });
  }

  /** The state of the store in `dir` as of `point`: nearest snapshot, then the WAL (see state-at.ts). */
  async stateAt(dir: string, point: StatePoint): Promise<StateAt> {
    return this.run({ kind: 'stateAt', dir: checkStoreFolder(dir, 'dir'), point: checkStatePoint(point) });
  }

  /** What changed in the state of the store in `dir` between offsets `from` and `to` (see diff.ts). */
  async diff(dir: string, from: number, to: number): Promise<StateDiff> {
    checkDiffOffsets(from, to);
    return this.run({ kind: 'diff', dir: checkStoreFolder(dir, 'dir'), from, to });
  }

  /** Verifies a backup just copied to `dest` (see backup.ts). */
  async verifyBackup(dest: string): Promise<ReturnType<typeof verifyCopy>> {
    return this.run({ kind: 'verifyBackup', dest: checkStoreFolder(dest, 'dest') });
  }

  /** Stops the threads after the queries in flight. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    let pool: Piscina;
    try {
      pool = await this.pool;
    } catch {
      // It never started (its module did not load): there are no threads to stop; each query said why.
      return;
    }
    await pool.close();
  }
}
