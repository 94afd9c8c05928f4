/**
 * Drives a cluster of store processes the way brokers would: several lanes of offset commits, each sent
 * to the node the lane believes is the controller (a NOT_CONTROLLER answer names the next one to try),
 * and reads of every node, all recorded for the history checker. Each commit writes a value no other
 * call writes. Times are a logical clock bumped at every invoke and every answer.
 *
 * A call that gets no answer within `callTimeoutMs` (its node is paused, or the cluster has no quorum) is
 * left in flight and the lane moves on: its outcome stays `unknown` until an answer comes, if one does.
 */
import { ClusterNode, NodeRequestError } from './cluster-node.js';
import type { ReadCall, WriteCall } from './history-checker.js';

export const GROUP = 'g';
export const TOPIC = 't';
export const PARTITIONS = 4;

/** Pause between two rounds of reads of every node. */
const READ_PAUSE_MS = 50;

/** Pause of a lane after a call that was not acknowledged (pacing, not ordering: nothing waits on it). */
const REFUSED_PAUSE_MS = 20;

export const keyOf = (partition: number): string => `${GROUP}/${TOPIC}/${partition}`;

export class ClusterDriver {
  readonly writes: WriteCall[] = [];
  readonly reads: ReadCall[] = [];
  /** Acknowledged writes, and the node that acknowledged each. */
  acknowledged = 0;
  readonly acknowledgedBy = new Map<string, number>();
  /** Errors that no correct cluster gives (anything but NOT_CONTROLLER, REQUEST_TIMED_OUT, a dead node). */
  readonly unexpected: string[] = [];
  private clock = 0;
  private nextValue = 0;
  private stopping = false;
  private preferred = 0;
  private lanes: Promise<void> | null = null;
  private waiters: { done: () => boolean; resolve: () => void }[] = [];

  constructor(
    readonly nodes: ClusterNode[],
    private readonly callTimeoutMs: number,
  ) {}

  private tick(): number {
    const now = ++this.clock;
    if (this.waiters.length > 0) {
      const ready = this.waiters.filter((waiter) => waiter.done());
      this.waiters = this.waiters.filter((waiter) => !ready.includes(waiter));
      for (const waiter of ready) waiter.resolve();
    }
    return now;
  }

  /** Writes acknowledged by nodes other than `not`. */
  acknowledgedByOthers(not: ClusterNode | null): number {
    let sum = 0;
    for (const [nodeId, count] of this.acknowledgedBy) if (nodeId !== not?.nodeId) sum += count;
    return sum;
  }

  /** Resolves once `done()` holds, checked at every answer (the lanes must be running). */
  until(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ done, resolve }));
  }

  /** Starts `lanes` commit loops (and a loop of reads of every node) in the background, until `stop()`. */
  start(lanes: number): void {
    this.stopping = false;
    const reading = (async () => {
      while (!this.stopping) {
        await this.readAll();
        await new Promise((resolve) => setTimeout(resolve, READ_PAUSE_MS));
      }
    })();
    this.lanes = Promise.all([this.run(lanes, () => false), reading]).then(() => undefined);
  }

  /** Stops the lanes; resolves when every lane has ended its current call (answered or abandoned). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.lanes;
    this.lanes = null;
  }

  /** The node to try after `node` refused: the controller it named, if running, else the next one. */
  private retarget(from: number, controller: unknown): void {
    const named = this.nodes.findIndex((node) => node.nodeId === controller && node.running);
    this.preferred = named >= 0 ? named : (from + 1) % this.nodes.length;
  }

  /** One commit on the preferred node, recorded; resolves when it is answered or abandoned. */
  async commitOnce(partition: number): Promise<void> {
    const index = this.preferred;
    const node = this.nodes[index];
    const call: WriteCall = { key: keyOf(partition), value: this.nextValue++, invokedAt: this.tick(), completedAt: null, outcome: 'unknown' };
    this.writes.push(call);
    const answered = node.request('commit', { group: GROUP, topic: TOPIC, partition, offset: call.value }).then(
      () => {
        call.completedAt = this.tick();
        call.outcome = 'ok';
        this.acknowledged++;
        this.acknowledgedBy.set(node.nodeId, (this.acknowledgedBy.get(node.nodeId) ?? 0) + 1);
      },
      (error: NodeRequestError) => {
        call.completedAt = this.tick();
        if (error.code === 'NOT_CONTROLLER' || error.code === 'NODE_DOWN') {
          call.outcome = 'fail';
          this.retarget(index, error.details.controller);
        } else if (error.code === 'REQUEST_TIMED_OUT') {
          call.outcome = error.details.outcome === 'not written' ? 'fail' : 'unknown';
          this.retarget(index, null);
        } else if (error.code === 'unknown') {
          call.outcome = 'unknown';
          this.retarget(index, null);
        } else {
          call.outcome = 'fail';
          this.unexpected.push(`${node.nodeId}: ${error.code}: ${error.message}`);
        }
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const abandoned = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        // Left in flight: this lane tries another node; the answer, if it comes, still updates the call.
        if (call.completedAt === null) this.retarget(index, null);
        resolve();
      }, this.callTimeoutMs);
    });
    await Promise.race([answered, abandoned]);
    clearTimeout(timer);
  }

  /** Runs `lanes` commit loops until `until()` says stop (or `stop()`). */
  private async run(lanes: number, until: () => boolean): Promise<void> {
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        for (let round = 0; !this.stopping && !until(); round++) {
          const before = this.acknowledged;
          await this.commitOnce((lane + round) % PARTITIONS);
          // A refused lane goes where NOT_CONTROLLER pointed; while no node takes writes (an election in
          // progress) that would be a busy loop stealing the CPU etcd needs, so it paces itself.
          if (this.acknowledged === before) await new Promise((resolve) => setTimeout(resolve, REFUSED_PAUSE_MS));
        }
      }),
    );
  }

  /** Reads every partition's offset on every running node, recorded for the checker. */
  async readAll(): Promise<void> {
    await Promise.all(
      this.nodes.filter((node) => node.running).map(async (node) => {
        for (let partition = 0; partition < PARTITIONS; partition++) {
          try {
            const value = await node.request<number | null>('read', { group: GROUP, topic: TOPIC, partition });
            this.reads.push({ node: node.nodeId, key: keyOf(partition), value, at: this.tick() });
          } catch {
            // A node killed or paused meanwhile: no read recorded.
          }
        }
      }),
    );
  }
}
