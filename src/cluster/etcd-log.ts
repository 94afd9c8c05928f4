/**
 * The metadata log kept in etcd: its keys, the fenced append, the election, and reading and tailing.
 * It moves opaque batches (the writer's framed records, each with its own offset and CRC32C); it never
 * decodes them. Consensus is etcd's; this module only asks it the right compare-and-swap questions.
 *
 * Keys under a prefix P (docs/cluster.md has the decision table of every outcome):
 * ```
 *  P/leader            the controller's claim: {"nodeId":...}, attached to the controller's lease. Its
 *                      create revision is the controller's epoch: it only grows, and a claim made again
 *                      after a lapse gets a new one.
 *  P/head              the offset the next batch starts at, 20 digits.
 *  P/nodes/<node id>   a node's progress, {"snapshotOffset":...}: the last offset of its newest snapshot
 *                      (-1: none), attached to its lease, so a node that is gone drops out of it.
 *  P/log/<20 digits>   one batch, keyed by its first offset: BATCH_MAGIC (u32), the schema fingerprint
 *                      (16 bytes), the record count (u32), then the records back to back.
 * ```
 * The append is one transaction: it succeeds only while P/leader is still held by the appender's lease
 * under the appender's epoch, P/head is the batch's first offset, and the batch's key is free. So a
 * writer that lost its lease, or was deposed and a new controller elected (even one that appends at the
 * very head the old one expected), can never add to the log. The failure branch reads back the leader,
 * the head and the batch's key, so one round trip tells why.
 *
 * An append whose answer was lost (etcd client kind `ambiguous`) is sent again, byte for byte: whichever
 * copy lands first is the batch, the other is refused by the head comparison, and the read-back of the
 * batch's key tells that it is ours. Nothing else is ever resent.
 */
import { EtcdError, type EtcdClient, type KeyValue, type Watch } from './etcd-client.js';

/** "CMLB" read as a little-endian u32: the first four bytes of every batch value. */
export const BATCH_MAGIC = 0x424c4d43;
/** Bytes before a batch's records: magic, schema fingerprint, record count. */
export const BATCH_HEADER_BYTES = 24;

/** Pause before sending an ambiguous append again after a member refused it (etcd electing a leader). */
const AMBIGUOUS_RETRY_PAUSE_MS = 50;
/** Campaign attempts when the claim keeps vanishing between the comparison and the read. */
const CAMPAIGN_ATTEMPTS_MAX = 8;

/** A controller's term: the lease it holds P/leader with, and its epoch (P/leader's create revision). */
export interface Term {
  nodeId: string;
  leaseId: string;
  epoch: number;
}

/** Who holds P/leader now. */
export interface LeaderClaim {
  nodeId: string;
  epoch: number;
  leaseId: string;
}

/** A lost campaign says who holds the claim, and the revision it was read at (watch from the next). */
export type CampaignOutcome = { won: true; term: Term; head: number } | { won: false; leader: LeaderClaim; revision: number };

export type AppendOutcome =
  | { kind: 'appended'; revision: number }
  /** P/leader is not (or no longer) this term's: the appender must step down. */
  | { kind: 'deposed'; leader: LeaderClaim | null }
  /** The head is elsewhere (the appender's view of the log is stale): step down and catch up. */
  | { kind: 'head-moved'; head: number };

/** A batch as read from the log. */
export interface LogBatch {
  firstOffset: number;
  /** From the value's header (0 when the value is not a batch: the reader reports it as corrupt). */
  recordCount: number;
  /** The whole value: header, then records. */
  value: Buffer;
  /** The etcd revision that wrote it. */
  revision: number;
}

export interface EtcdLogOptions {
  /** Key prefix of this log (one cluster's), without a trailing slash. */
  prefix: string;
  /**
   * How long an ambiguous append is sent again before giving up (the lease TTL is a natural bound: past
   * it, the term is over anyway).
   */
  appendRetryMs: number;
}

/** The 20-digit form of an offset: keys sort as offsets do. */
export function offsetDigits(offset: number): string {
  if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`offset ${offset} is not a non-negative safe integer`);
  return String(offset).padStart(20, '0');
}

/** A batch value: header (magic, fingerprint, record count) and the records. */
export function encodeBatchValue(fingerprint: Buffer, recordCount: number, records: Buffer): Buffer {
  if (fingerprint.length !== 16) throw new RangeError('a schema fingerprint is 16 bytes');
  if (!Number.isInteger(recordCount) || recordCount <= 0 || recordCount > 0xffffffff) throw new RangeError('a batch holds at least one record');
  const value = Buffer.allocUnsafe(BATCH_HEADER_BYTES + records.length);
  value.writeUInt32LE(BATCH_MAGIC, 0);
  fingerprint.copy(value, 4);
  value.writeUInt32LE(recordCount, 20);
  records.copy(value, BATCH_HEADER_BYTES);
  return value;
}

/** The parts of a batch value, or null when it is not one. */
export function decodeBatchValue(value: Buffer): { fingerprint: Buffer; recordCount: number; records: Buffer } | null {
  if (value.length < BATCH_HEADER_BYTES || value.readUInt32LE(0) !== BATCH_MAGIC) return null;
  const recordCount = value.readUInt32LE(20);
  if (recordCount === 0) return null;
  return { fingerprint: value.subarray(4, 20), recordCount, records: value.subarray(BATCH_HEADER_BYTES) };
}

function claimOf(kv: KeyValue | undefined): LeaderClaim | null {
  if (kv === undefined) return null;
  let nodeId = '';
  try {
    nodeId = String((JSON.parse(kv.value.toString('utf8')) as { nodeId?: unknown }).nodeId ?? '');
  } catch {
    // A claim this module did not write: its holder is unknown, its epoch and lease still fence.
  }
  return { nodeId, epoch: kv.createRevision, leaseId: kv.lease };
}

function headOf(kv: KeyValue | undefined): number {
  return kv === undefined ? 0 : Number(kv.value.toString('ascii'));
}

export class EtcdLog {
  private readonly leaderKey: Buffer;
  private readonly headKey: Buffer;
  private readonly logStart: Buffer;
  private readonly logEnd: Buffer;

  constructor(
    private readonly client: EtcdClient,
    private readonly options: EtcdLogOptions,
  ) {
    this.leaderKey = Buffer.from(`${options.prefix}/leader`);
    this.headKey = Buffer.from(`${options.prefix}/head`);
    this.logStart = Buffer.from(`${options.prefix}/log/`);
    // '/' + 1 is '0': the end of every key under P/log/.
    this.logEnd = Buffer.from(`${options.prefix}/log0`);
  }

  /** The key prefix of this log. */
  get prefix(): string {
    return this.options.prefix;
  }

  batchKey(firstOffset: number): Buffer {
    return Buffer.from(`${this.options.prefix}/log/${offsetDigits(firstOffset)}`);
  }

  /**
   * Claims P/leader for `nodeId` under `leaseId` if nobody holds it. The winner's epoch is the claim's
   * create revision; the loser learns who holds it.
   */
  async campaign(nodeId: string, leaseId: string): Promise<CampaignOutcome> {
    for (let attempt = 1; ; attempt++) {
      const response = await this.client.txn({
        compare: [{ key: this.leaderKey, target: 'CREATE', createRevision: 0 }],
        success: [{ put: { key: this.leaderKey, value: Buffer.from(JSON.stringify({ nodeId })), lease: leaseId } }, { range: { key: this.headKey } }],
        failure: [{ range: { key: this.leaderKey } }],
      });
      if (response.succeeded) return { won: true, term: { nodeId, leaseId, epoch: response.revision }, head: headOf(response.ranges[1][0]) };
      const leader = claimOf(response.ranges[0][0]);
      if (leader !== null) return { won: false, leader, revision: response.revision };
      // The claim was deleted between the comparison and the read (its lease ended): campaign again.
      if (attempt >= CAMPAIGN_ATTEMPTS_MAX) throw new EtcdError('unavailable', `campaign: the leader claim kept changing (${attempt} attempts)`);
    }
  }

  /**
   * Watches P/leader from `revision` on and calls `onDeleted` once when the claim is deleted (its lease
   * ended or was revoked); `onEnd` as for `tail`. A watch from just after the revision the claim was
   * read at sees a delete that came before the watch started.
   */
  watchLeader(revision: number, onDeleted: () => void, onEnd: (error: EtcdError) => void): Watch {
    let deleted = false;
    const watch = this.client.watch({
      key: this.leaderKey,
      startRevision: revision,
      onEvents: (events) => {
        if (deleted || !events.some((event) => event.type === 'DELETE')) return;
        deleted = true;
        watch.cancel();
        onDeleted();
      },
      onEnd,
    });
    return watch;
  }

  /** Who holds P/leader now, if anyone. */
  async leader(): Promise<LeaderClaim | null> {
    return claimOf((await this.client.range(this.leaderKey)).kvs[0]);
  }

  /** Records `nodeId`'s newest snapshot offset under its lease (the controller compacts below the oldest). */
  async publishProgress(nodeId: string, leaseId: string, snapshotOffset: number): Promise<void> {
    await this.client.txn({ compare: [], success: [{ put: { key: Buffer.from(`${this.options.prefix}/nodes/${nodeId}`), value: Buffer.from(JSON.stringify({ snapshotOffset })), lease: leaseId } }], failure: [] });
  }

  /** The progress of every node whose lease is alive. */
  async liveProgress(): Promise<{ nodeId: string; snapshotOffset: number }[]> {
    const start = Buffer.from(`${this.options.prefix}/nodes/`);
    const read = await this.client.range(start, { rangeEnd: Buffer.from(`${this.options.prefix}/nodes0`) });
    return read.kvs.map((kv) => {
      let snapshotOffset = -1;
      try {
        const parsed = (JSON.parse(kv.value.toString('utf8')) as { snapshotOffset?: unknown }).snapshotOffset;
        if (typeof parsed === 'number' && Number.isSafeInteger(parsed)) snapshotOffset = parsed;
      } catch {
        // Not written by this module: counts as a node without a snapshot, which holds compaction back.
      }
      return { nodeId: kv.key.subarray(start.length).toString('utf8'), snapshotOffset };
    });
  }

  /** The first offset the log still holds (its oldest batch's), or null when it holds no batch. */
  async firstOffset(): Promise<number | null> {
    const read = await this.client.range(this.logStart, { rangeEnd: this.logEnd, limit: 1, keysOnly: true });
    const key = read.kvs[0]?.key;
    return key === undefined ? null : Number(key.subarray(this.logStart.length).toString('ascii'));
  }

  /** The offset the next batch starts at, and the revision it was read at. */
  async head(): Promise<{ head: number; revision: number }> {
    const read = await this.client.range(this.headKey);
    return { head: headOf(read.kvs[0]), revision: read.revision };
  }

  /**
   * Appends one batch (`value` from encodeBatchValue, its records from `firstOffset` on) if
   * `term` still holds P/leader and the head is `firstOffset`. An ambiguous answer is resolved by sending
   * the same transaction again (see the module header) for up to `appendRetryMs`; past that, the
   * EtcdError (kind `ambiguous`) is thrown and the batch's fate is unknown until the log is read.
   */
  async append(term: Term, firstOffset: number, value: Buffer): Promise<AppendOutcome> {
    const parts = decodeBatchValue(value);
    if (parts === null) throw new RangeError('append takes a value made by encodeBatchValue');
    const recordCount = parts.recordCount;
    const batchKey = this.batchKey(firstOffset);
    const request = {
      compare: [
        { key: this.leaderKey, target: 'LEASE' as const, lease: term.leaseId },
        { key: this.leaderKey, target: 'CREATE' as const, createRevision: term.epoch },
        firstOffset === 0
          ? { key: this.headKey, target: 'CREATE' as const, createRevision: 0 }
          : { key: this.headKey, target: 'VALUE' as const, value: Buffer.from(offsetDigits(firstOffset)) },
        { key: batchKey, target: 'CREATE' as const, createRevision: 0 },
      ],
      success: [{ put: { key: batchKey, value } }, { put: { key: this.headKey, value: Buffer.from(offsetDigits(firstOffset + recordCount)) } }],
      failure: [{ range: { key: this.leaderKey } }, { range: { key: this.headKey } }, { range: { key: batchKey } }],
    };
    const giveUpAt = Date.now() + this.options.appendRetryMs;
    // Once one attempt may have landed, every later failure leaves the batch's fate unknown too.
    let maybeLanded = false;
    for (;;) {
      let response;
      try {
        response = await this.client.txn(request);
      } catch (error) {
        if (!(error instanceof EtcdError)) throw error;
        if (error.kind === 'ambiguous') maybeLanded = true;
        if (!maybeLanded) throw error;
        if (Date.now() >= giveUpAt) throw new EtcdError('ambiguous', `append at ${firstOffset}: no definite answer within ${this.options.appendRetryMs} ms (last: ${error.message})`, error.grpcCode);
        // No member took the last copy: give etcd a moment (a leader election) before the next.
        if (error.kind !== 'ambiguous') await new Promise((resolve) => setTimeout(resolve, AMBIGUOUS_RETRY_PAUSE_MS));
        continue;
      }
      if (response.succeeded) return { kind: 'appended', revision: response.revision };
      const [leaderRange, headRange, batchRange] = response.ranges;
      const landed = batchRange[0];
      // An earlier copy of this very append landed (its answer was lost): it is the batch.
      if (landed !== undefined && landed.value.equals(value)) return { kind: 'appended', revision: landed.modRevision };
      const leader = claimOf(leaderRange[0]);
      if (leader === null || leader.leaseId !== term.leaseId || leader.epoch !== term.epoch) return { kind: 'deposed', leader };
      return { kind: 'head-moved', head: headOf(headRange[0]) };
    }
  }

  /**
   * Batches from the one holding `fromOffset` on, in offset order, at most `limit` of them, read at one
   * revision. The first batch may start before `fromOffset` (a batch is read whole); empty when the log
   * holds nothing from there. When the batches that held `fromOffset` were deleted (compaction), the
   * first batch starts after it: the caller sees the gap and bootstraps from a snapshot.
   */
  async readFrom(fromOffset: number, limit: number): Promise<{ batches: LogBatch[]; revision: number }> {
    // The batch holding fromOffset is the last one whose key is at or before it.
    const before = await this.client.range(this.logStart, { rangeEnd: this.batchKey(fromOffset + 1), descending: true, limit: 1, keysOnly: true });
    const start = before.kvs[0]?.key ?? this.batchKey(fromOffset);
    // Read at the revision the first read saw, so the two are one view of the log. The answer's own
    // header names the store's newest revision, not the one read: a tail must start after this one.
    const read = await this.client.range(start, { rangeEnd: this.logEnd, limit, revision: before.revision });
    const batches = read.kvs.map((kv) => this.batchOf(kv));
    // The batch before fromOffset may end before it too (fromOffset is the head, or past it).
    if (batches.length > 0 && batches[0].firstOffset + batches[0].recordCount <= fromOffset) batches.shift();
    return { batches, revision: before.revision };
  }

  /**
   * Tails the log: every batch written after `revision`, in order, through `onBatch`, until `cancel()` or
   * until `onEnd` reports why it stopped (kind `compacted` when `revision` is no longer kept).
   */
  tail(revision: number, onBatch: (batch: LogBatch) => void, onEnd: (error: EtcdError) => void): Watch {
    return this.client.watch({
      key: this.logStart,
      rangeEnd: this.logEnd,
      startRevision: revision + 1,
      onEvents: (events) => {
        // Batches are only ever put; deletes are compaction below every node's snapshot.
        for (const event of events) if (event.type === 'PUT') onBatch(this.batchOf(event.kv));
      },
      onEnd,
    });
  }

  /**
   * Deletes every batch that ends before `offset` (a batch holding `offset` or later stays) and compacts
   * etcd's history up to that revision: the controller's retention, once every node has a snapshot
   * past `offset`. Returns the batches deleted.
   */
  async deleteBelow(offset: number): Promise<number> {
    const holding = await this.client.range(this.logStart, { rangeEnd: this.batchKey(offset + 1), descending: true, limit: 1, keysOnly: true });
    const keep = holding.kvs[0]?.key;
    if (keep === undefined) return 0;
    const response = await this.client.txn({ compare: [], success: [{ deleteRange: { key: this.logStart, rangeEnd: keep } }], failure: [] });
    await this.client.compact(response.revision);
    // Every key before the one kept (appends only ever add at the head, far above).
    return holding.count - 1;
  }

  private batchOf(kv: KeyValue): LogBatch {
    const digits = kv.key.subarray(this.logStart.length).toString('ascii');
    return { firstOffset: Number(digits), recordCount: decodeBatchValue(kv.value)?.recordCount ?? 0, value: kv.value, revision: kv.modRevision };
  }
}
