/**
 * The writer thread's loop when the log is replicated through etcd (config `log.kind` 'etcd';
 * docs/cluster.md). The WriterCore validates, encodes and frames exactly as with a local log; what
 * changes is when a batch counts as written, and who may write:
 *
 * - **controller**: a batch is sent to etcd with the fenced append first; only once etcd has it is it
 *   written to the local WAL, shown in the index and acknowledged. A refused append means this node is
 *   deposed (or its view stale): the batch is rolled back, its calls fail with NOT_CONTROLLER, and the
 *   node steps down. An append without a definite answer fails its calls with REQUEST_TIMED_OUT (the
 *   outcome is unknown) and also steps down: what etcd holds comes back through the follower.
 * - **opening a term**: a node that won the claim first applies every batch up to the head it read with
 *   the claim, then appends WriterElected { epoch, nodeId }; it serves writes only once that is in.
 * - **follower**: every write is answered NOT_CONTROLLER, naming the controller; the controller's
 *   batches arrive verified from the LogFollower and are applied as they are (local WAL, state, index,
 *   event ring), so reads, watch(), history() and snapshots work as on the controller.
 *
 * The local WAL only ever holds what etcd holds, in order (it is written after etcd acknowledged, or
 * from etcd): a node that restarts recovers it and tails etcd from its end.
 *
 * Compaction of etcd: every node publishes the last offset of its newest local snapshot under its lease
 * (P/nodes/<id>); the controller deletes the batches that end before the oldest of them, so a node that
 * is alive can always catch up from etcd, and one that was gone meanwhile bootstraps from a snapshot.
 *
 * Owns: the node's etcd client, its Controllership and its LogFollower; all three end in `run`'s
 * closing. Never blocks its event loop (etcd's answers and the lease's keep-alives need it).
 */
import type { CommandRing } from '../../native-free/command-ring.js';
import { EventCodec } from '../codec/event-codec.js';
import { Controllership, type Role } from '../cluster/controllership.js';
import { EtcdClient, EtcdError } from '../cluster/etcd-client.js';
import { EtcdLog, encodeBatchValue, type Term } from '../cluster/etcd-log.js';
import { LogFollower, type FollowerStop, type VerifiedRecords } from '../cluster/log-follower.js';
import { decodeCommand } from '../commands/command-codec.js';
import type { EtcdLogConfig } from '../config.js';
import { MetaLogError } from '../errors.js';
import { readRecord } from '../wal/format.js';
import { listSnapshots } from '../snapshot/snapshot-file.js';
import type { Storage } from '../wal/storage.js';
import type { WriterCore } from './writer-core.js';

/** Commands read per ring pass (as in the local loop): small, so the batch-full check runs often. */
const READ_CHUNK_RECORDS = 256;
/** Batches per etcd read while a follower catches up. */
const FOLLOWER_PAGE_BATCHES = 64;

/** Thrown by the ring visitor to stop a read when the batch is full; the record stays for the next batch. */
const BATCH_FULL = Symbol('batch full');

export interface ReplicatedWriterOptions {
  core: WriterCore;
  config: EtcdLogConfig;
  /** The store's directory and storage: where this node's snapshots are. */
  dir: string;
  storage: Storage;
  maxBatchBytes: number;
  commandRing: CommandRing;
  publish: (record: Buffer) => void;
  /** Told of etcd trouble the node works around (a keep-alive, a watch or a read that failed). */
  onTrouble?: (message: string) => void;
}

function notController(message: string, controller: string | null): MetaLogError {
  return new MetaLogError('NOT_CONTROLLER', message, { controller });
}

export class ReplicatedWriter {
  private readonly core: WriterCore;
  private readonly client: EtcdClient;
  private readonly log: EtcdLog;
  private readonly controllership: Controllership;
  /** This build's event codec: what the batches this node writes are encoded under, and what it reads. */
  private readonly codec = EventCodec.current();
  private role: Role = { kind: 'campaigning' };
  private roleChanged = true;
  private follower: LogFollower | null = null;
  /** Verified runs of records the follower delivered, waiting for the loop to apply them. */
  private readonly arrived: VerifiedRecords[] = [];
  private followerStop: FollowerStop | null = null;
  /** The term whose WriterElected is not yet in the log (this node won the claim and is catching up). */
  private opening: { term: Term; head: number } | null = null;
  /** The term this node serves writes in. */
  private serving: Term | null = null;
  private closing = false;
  /** Published progress: the snapshot offset and the lease it was published under. */
  private publishedProgress: { snapshotOffset: number; leaseId: string } | null = null;
  /** The offset below which this node, as controller, has deleted the log's batches. */
  private compactedBelow = 0;
  private progressTimer: NodeJS.Timeout | null = null;
  private progressRunning = false;

  constructor(private readonly options: ReplicatedWriterOptions) {
    this.core = options.core;
    const { config } = options;
    this.client = new EtcdClient({ endpoints: config.endpoints, deadlineMs: config.requestTimeoutMs });
    this.log = new EtcdLog(this.client, { prefix: config.prefix, appendRetryMs: config.leaseTtlMs });
    this.controllership = new Controllership({
      nodeId: config.nodeId,
      leaseTtlMs: config.leaseTtlMs,
      client: this.client,
      log: this.log,
      onRole: (role) => {
        // Every new lease shows as a role change (a campaign follows it): publish progress under it now.
        if (role.kind !== 'stopped') void this.progressTick();
        this.role = role;
        this.roleChanged = true;
        options.commandRing.wake();
      },
      onTrouble: (error) => options.onTrouble?.(`etcd: ${error.kind}: ${error.message}`),
    });
    this.core.refuseWrites(notController('this node has not joined the cluster yet', null).toJSON());
  }

  /** Runs until a Close command has been handled; the caller then closes the core. */
  async run(): Promise<void> {
    this.controllership.start();
    // Progress and compaction run beside the loop, a few times per lease TTL.
    this.progressTimer = setInterval(() => void this.progressTick(), this.options.config.leaseTtlMs / 3);
    try {
      for (;;) {
        let worked = this.followRole();
        worked = this.applyArrived() || worked;
        if (this.opening !== null && this.core.nextOffset >= this.opening.head) {
          await this.openTerm(this.opening);
          worked = true;
        }
        worked = (await this.handleCommands()) || worked;
        if (this.closing) return;
        if (this.core.intervalSyncDue()) this.options.publish(this.core.syncInterval());
        if (!worked) await this.options.commandRing.waitForDataAsync(this.core.idleWaitMs());
      }
    } finally {
      if (this.progressTimer !== null) clearInterval(this.progressTimer);
      this.follower?.stop();
      await this.controllership.stop();
      this.client.close();
    }
  }

  /**
   * Publishes this node's newest snapshot offset when it (or the lease) changed; as controller, deletes
   * the batches every live node has in a snapshot. etcd trouble is only reported: the next tick retries.
   */
  private async progressTick(): Promise<void> {
    if (this.progressRunning || this.closing) return;
    this.progressRunning = true;
    try {
      const leaseId = this.controllership.currentLeaseId;
      if (leaseId === null) return;
      const snapshotOffset = listSnapshots(this.options.dir, this.options.storage)[0]?.lastOffset ?? -1;
      const published = this.publishedProgress;
      if (published === null || published.snapshotOffset !== snapshotOffset || published.leaseId !== leaseId) {
        await this.log.publishProgress(this.options.config.nodeId, leaseId, snapshotOffset);
        this.publishedProgress = { snapshotOffset, leaseId };
      }
      if (this.serving === null) return;
      const progress = await this.log.liveProgress();
      // Every live node (this one included, once it published) must have a snapshot past a batch before it goes.
      if (!progress.some((each) => each.nodeId === this.options.config.nodeId)) return;
      const below = Math.min(...progress.map((each) => each.snapshotOffset)) + 1;
      if (below > this.compactedBelow) {
        await this.log.deleteBelow(below);
        this.compactedBelow = below;
      }
    } catch (error) {
      if (!(error instanceof EtcdError)) throw error;
      this.options.onTrouble?.(`etcd: ${error.kind}: ${error.message}`);
    } finally {
      this.progressRunning = false;
    }
  }

  /** Acts on a change of role: who answers writes, and whether the follower runs. True if it did anything. */
  private followRole(): boolean {
    if (this.followerStop !== null) {
      this.becomeReadOnly(this.followerStop);
      this.followerStop = null;
    }
    if (!this.roleChanged) return false;
    this.roleChanged = false;
    const role = this.role;
    this.serving = null;
    this.opening = null;
    if (role.kind === 'controller') {
      this.opening = { term: role.term, head: role.head };
      this.core.refuseWrites(notController('this node is opening its term as controller', role.term.nodeId).toJSON());
      // Catch up to the head read with the claim (the follower stops once the term opens).
      this.ensureFollower();
    } else {
      const controller = role.kind === 'follower' ? role.leader.nodeId : null;
      this.core.refuseWrites(notController(controller === null ? 'no controller is elected' : `node ${controller} is the controller`, controller).toJSON());
      if (role.kind !== 'stopped') this.ensureFollower();
    }
    return true;
  }

  private ensureFollower(): void {
    if (this.follower !== null || this.core.readOnlyError !== null) return;
    let next = this.core.nextOffset;
    for (const run of this.arrived) next = run.firstOffset + run.recordCount;
    const follower = new LogFollower({
      log: this.log,
      fromOffset: next,
      pageBatches: FOLLOWER_PAGE_BATCHES,
      onRecords: (records) => {
        if (!records.fingerprint.equals(this.codec.fingerprint)) throw new MetaLogError('UNSUPPORTED_FORMAT', 'a batch was written under another event schema than this build\'s', { offset: records.firstOffset });
        this.arrived.push(records);
        this.options.commandRing.wake();
      },
      onStop: (reason) => {
        if (this.follower === follower) this.follower = null;
        this.followerStop = reason;
        this.options.commandRing.wake();
      },
      onTrouble: (error) => this.options.onTrouble?.(`etcd: ${error.kind}: ${error.message}`),
    });
    this.follower = follower;
    follower.start();
  }

  private stopFollower(): void {
    this.follower?.stop();
    this.follower = null;
  }

  /** The follower stopped at something it cannot apply: this node stops writing (read-only). */
  private becomeReadOnly(reason: FollowerStop): void {
    const error =
      reason.kind === 'gap'
        ? new MetaLogError('CORRUPT_WAL', `the cluster log no longer holds offset ${reason.expectedOffset} (compacted; it starts at ${reason.firstAvailableOffset}) and bootstrapping from a snapshot is not built`, { offset: reason.expectedOffset })
        : reason.kind === 'corrupt'
          ? new MetaLogError('CORRUPT_WAL', `the cluster log holds a corrupt batch: ${reason.reason}`, { offset: reason.offset })
          : MetaLogError.wrap(reason.error, 'INTERNAL_ERROR', `applying the cluster log at offset ${reason.offset} failed`, { offset: reason.offset });
    this.core.becomeReadOnly(error);
    this.stopFollower();
    this.arrived.length = 0;
  }

  /** Applies the records the follower delivered, in batches of the local WAL; true if there were any. */
  private applyArrived(): boolean {
    if (this.arrived.length === 0) return false;
    for (const run of this.arrived.splice(0)) {
      if (this.core.readOnlyError !== null) return true;
      this.core.startBatch();
      let position = 0;
      for (let index = 0; index < run.recordCount; index++) {
        const view = readRecord(run.records, position, run.records.length);
        // The follower verified every record; a problem here is a bug.
        if (typeof view === 'string') throw new MetaLogError('INTERNAL_ERROR', `a verified record does not read: ${view}`);
        if (this.core.batchFull()) {
          this.publishRecord(this.core.finishBatch(true));
          this.core.startBatch();
        }
        try {
          this.core.addReplicatedRecord(run.records, view, this.codec);
        } catch (error) {
          this.publishRecord(this.core.failOpenBatch(MetaLogError.wrap(error)));
          this.becomeReadOnly({ kind: 'apply-failed', offset: view.offset, error });
          return true;
        }
        position = view.end;
      }
      this.publishRecord(this.core.finishBatch(true));
    }
    return true;
  }

  /** Appends the term's WriterElected; on success this node serves writes. */
  private async openTerm(opening: { term: Term; head: number }): Promise<void> {
    this.opening = null;
    this.stopFollower();
    if (this.core.readOnlyError !== null) return;
    if (this.arrived.length > 0 || this.core.nextOffset !== opening.head) {
      // The local log is past the cluster's head: it was written outside this cluster.
      if (this.core.nextOffset > opening.head) {
        this.core.becomeReadOnly(new MetaLogError('CORRUPT_WAL', `the local log ends at ${this.core.nextOffset}, past the cluster log's head ${opening.head}: it holds events the cluster does not`, { offset: opening.head }));
        return;
      }
      this.controllership.stepDown();
      return;
    }
    this.core.startBatch();
    this.core.addElection(opening.term.epoch, opening.term.nodeId);
    const failure = await this.replicate(opening.term);
    if (failure !== null) {
      this.publishRecord(this.core.failOpenBatch(failure));
      this.controllership.stepDown();
      return;
    }
    this.publishRecord(this.core.finishBatch(true));
    if (this.role.kind === 'controller' && this.role.term === opening.term && !this.roleChanged) {
      this.serving = opening.term;
      this.core.refuseWrites(null);
    }
  }

  /**
   * Reads commands into one batch and finishes it: as controller, through etcd first; otherwise every
   * write in it is refused. True if any command was read.
   */
  private async handleCommands(): Promise<boolean> {
    if (!this.options.commandRing.hasRecord()) return false;
    const core = this.core;
    core.startBatch();
    const visit = (bytes: Uint8Array): void => {
      if (core.batchFull()) throw BATCH_FULL;
      const message = decodeCommand(bytes);
      if (message.kind === 'command' && core.needsPublishedIndex(message.command)) throw BATCH_FULL;
      if (core.addMessage(message)) this.closing = true;
    };
    let read = 0;
    while (!this.closing && !core.batchFull()) {
      let count: number;
      try {
        count = this.options.commandRing.read(visit, READ_CHUNK_RECORDS, this.options.maxBatchBytes);
      } catch (error) {
        if (error !== BATCH_FULL) throw error;
        read++;
        break;
      }
      if (count === 0) break;
      read += count;
    }
    const term = this.serving;
    if (term !== null && core.openBatchRecords() !== null) {
      const failure = await this.replicate(term);
      if (failure !== null) {
        this.publishRecord(core.failOpenBatch(failure));
        this.serving = null;
        core.refuseWrites(notController('this node stepped down', null).toJSON());
        this.controllership.stepDown();
        return true;
      }
    }
    this.publishRecord(core.finishBatch());
    return read > 0;
  }

  /** Sends the open batch's records to etcd under `term`; null once etcd holds them, else why not. */
  private async replicate(term: Term): Promise<MetaLogError | null> {
    const batch = this.core.openBatchRecords();
    if (batch === null) return null;
    const value = encodeBatchValue(this.codec.fingerprint, batch.recordCount, batch.records);
    try {
      const outcome = await this.log.append(term, batch.firstOffset, value);
      if (outcome.kind === 'appended') return null;
      if (outcome.kind === 'deposed') return notController(`deposed: node ${outcome.leader?.nodeId ?? '(none)'} holds the claim`, outcome.leader?.nodeId ?? null);
      return notController(`the cluster log's head is ${outcome.head}, not ${batch.firstOffset}: this node's view was stale`, null);
    } catch (error) {
      if (!(error instanceof EtcdError)) throw error;
      const outcome = error.kind === 'unavailable' || error.kind === 'rejected' ? 'not written' : 'unknown';
      return new MetaLogError('REQUEST_TIMED_OUT', `the cluster log did not take the batch (${error.kind}: ${error.message}); its outcome is ${outcome}`, { outcome }, error);
    }
  }

  private publishRecord(record: Buffer | null): void {
    if (record !== null) this.options.publish(record);
  }
}
