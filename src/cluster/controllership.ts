/**
 * One node's part in the election of the log's controller: it holds a lease, keeps it alive, claims
 * P/leader when nobody holds it, and follows the claim otherwise. It reports every change of role to its
 * owner (the writer thread, which serves writes only as controller).
 *
 * Safety does not rest on this module's timing: a controller whose lease lapsed cannot append anyway (the
 * append transaction checks the lease and the epoch). What this module decides is liveness: how soon a
 * node notices that it lost the claim (a keep-alive answered "lease not found", or no keep-alive got
 * through for a whole TTL) and how soon a follower campaigns once the claim is gone (it watches P/leader
 * and campaigns when it is deleted, which etcd does when the holder's lease ends).
 *
 * Owns: its lease (revoked by `stop()`, never left to a keep-alive nobody stops), its timers and its
 * watch. Never appends.
 */
import { EtcdError, type EtcdClient, type Watch } from './etcd-client.js';
import type { EtcdLog, LeaderClaim, Term } from './etcd-log.js';

export type Role =
  | { kind: 'campaigning' }
  | { kind: 'controller'; term: Term; head: number }
  | { kind: 'follower'; leader: LeaderClaim }
  | { kind: 'stopped' };

export interface ControllershipOptions {
  nodeId: string;
  /** Lease TTL: how long the claim outlives its holder. etcd counts whole seconds (at least 2 here). */
  leaseTtlMs: number;
  client: EtcdClient;
  log: EtcdLog;
  /** Told every change of role, in order. */
  onRole: (role: Role) => void;
  /** Told of a failure it works around (a keep-alive or a watch that broke), for the owner's log. */
  onTrouble?: (error: EtcdError) => void;
}

/** Keep-alives per TTL: the lease survives two lost in a row. */
const KEEPALIVES_PER_TTL = 3;
/** Pause before trying again after etcd could not be reached (an election inside etcd takes ~1 s). */
const RETRY_PAUSE_MS = 200;

export class Controllership {
  private role: Role = { kind: 'campaigning' };
  private leaseId: string | null = null;
  /** When (performance.now) the lease was last known alive: granted or kept alive. */
  private leaseAliveAtMs = 0;
  private keepAliveTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private leaderWatch: Watch | null = null;
  private stopped = false;
  /** True while a campaign (grant, claim, read) runs: one at a time. */
  private campaigning = false;

  constructor(private readonly options: ControllershipOptions) {
    if (!(options.leaseTtlMs >= 2000)) throw new RangeError('leaseTtlMs is at least 2000 (etcd leases count whole seconds)');
  }

  get current(): Role {
    return this.role;
  }

  /** The lease this node holds now (null between leases): what its progress key is attached to. */
  get currentLeaseId(): string | null {
    return this.leaseId;
  }

  /** Starts campaigning; roles arrive through `onRole`. */
  start(): void {
    this.campaign();
  }

  /**
   * Called by the owner when an append was refused as deposed, or its head moved: the claim is not this
   * node's (any more). It becomes a follower of whoever holds it, or campaigns if nobody does.
   */
  stepDown(): void {
    if (this.stopped || this.role.kind !== 'controller') return;
    this.setRole({ kind: 'campaigning' });
    this.campaign();
  }

  /** Stops: revokes the lease (a controller's claim ends now, not a TTL later), ends timers and watch. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimers();
    this.leaderWatch?.cancel();
    this.leaderWatch = null;
    const leaseId = this.leaseId;
    this.leaseId = null;
    this.setRole({ kind: 'stopped' });
    if (leaseId !== null) {
      try {
        await this.options.client.leaseRevoke(leaseId);
      } catch (error) {
        // The lease then ends by its TTL; the claim with it.
        if (error instanceof EtcdError) this.options.onTrouble?.(error);
        else throw error;
      }
    }
  }

  private setRole(role: Role): void {
    this.role = role;
    this.options.onRole(role);
  }

  private clearTimers(): void {
    if (this.keepAliveTimer !== null) clearInterval(this.keepAliveTimer);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.keepAliveTimer = null;
    this.retryTimer = null;
  }

  private retryLater(): void {
    if (this.stopped || this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.campaign();
    }, RETRY_PAUSE_MS);
  }

  /** Makes sure a live lease is held, then claims P/leader or follows its holder. */
  private campaign(): void {
    if (this.stopped || this.campaigning) return;
    this.campaigning = true;
    void this.campaignOnce()
      .catch((error: unknown) => {
        if (!(error instanceof EtcdError)) throw error;
        this.options.onTrouble?.(error);
        if (this.role.kind === 'controller') this.setRole({ kind: 'campaigning' });
        this.retryLater();
      })
      .finally(() => {
        this.campaigning = false;
      });
  }

  private async campaignOnce(): Promise<void> {
    if (this.leaseId === null || !this.leaseMayBeAlive()) await this.grantLease();
    if (this.stopped || this.leaseId === null) return;
    const outcome = await this.options.log.campaign(this.options.nodeId, this.leaseId);
    if (this.stopped) return;
    if (outcome.won) {
      this.leaderWatch?.cancel();
      this.leaderWatch = null;
      this.setRole({ kind: 'controller', term: outcome.term, head: outcome.head });
      return;
    }
    if (outcome.leader.leaseId === this.leaseId) {
      // Still our own claim (a step-down after a refused append, with the lease alive): controller again,
      // under the same epoch, from the head as it is now.
      const { head } = await this.options.log.head();
      if (this.stopped) return;
      this.setRole({ kind: 'controller', term: { nodeId: this.options.nodeId, leaseId: outcome.leader.leaseId, epoch: outcome.leader.epoch }, head });
      return;
    }
    this.setRole({ kind: 'follower', leader: outcome.leader });
    this.watchLeader(outcome.revision);
  }

  private async grantLease(): Promise<void> {
    const stale = this.leaseId;
    this.leaseId = null;
    if (stale !== null) await this.options.client.leaseRevoke(stale).catch(() => undefined);
    const lease = await this.options.client.leaseGrant(Math.ceil(this.options.leaseTtlMs / 1000));
    if (this.stopped) {
      await this.options.client.leaseRevoke(lease.id).catch(() => undefined);
      return;
    }
    this.leaseId = lease.id;
    this.leaseAliveAtMs = performance.now();
    if (this.keepAliveTimer !== null) clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = setInterval(() => void this.keepAlive(lease.id), this.options.leaseTtlMs / KEEPALIVES_PER_TTL);
  }

  private leaseMayBeAlive(): boolean {
    return performance.now() - this.leaseAliveAtMs < this.options.leaseTtlMs;
  }

  private async keepAlive(leaseId: string): Promise<void> {
    if (this.stopped || leaseId !== this.leaseId) return;
    try {
      await this.options.client.leaseKeepAlive(leaseId);
      if (leaseId === this.leaseId) this.leaseAliveAtMs = performance.now();
      return;
    } catch (error) {
      if (!(error instanceof EtcdError)) throw error;
      this.options.onTrouble?.(error);
      if (error.kind !== 'lease-not-found' && this.leaseMayBeAlive()) return;
    }
    // The lease is gone, or was not renewed for a whole TTL: whatever it held is lost.
    if (this.stopped || leaseId !== this.leaseId) return;
    if (this.keepAliveTimer !== null) clearInterval(this.keepAliveTimer);
    this.keepAliveTimer = null;
    this.leaseId = null;
    if (this.role.kind === 'controller') this.setRole({ kind: 'campaigning' });
    this.campaign();
  }

  /** Follows the claim read at `revision` until it is deleted (its lease ended): then campaigns. */
  private watchLeader(revision: number): void {
    this.leaderWatch?.cancel();
    // From just after the read (a revision this recent also survives the controller's compaction of
    // etcd's history).
    const watch = this.options.log.watchLeader(
      revision + 1,
      () => {
        if (this.leaderWatch === watch) this.leaderWatch = null;
        this.setRole({ kind: 'campaigning' });
        this.campaign();
      },
      (error) => {
        if (this.leaderWatch === watch) this.leaderWatch = null;
        this.options.onTrouble?.(error);
        // Read the claim again (it may be gone, or another's) and watch from there.
        this.retryLater();
      },
    );
    this.leaderWatch = watch;
  }
}
