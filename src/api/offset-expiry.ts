/**
 * Offset retention on the opening thread, as Kafka's group coordinator does it: every
 * `offsetsRetentionCheckIntervalMs`, each group without members whose offsets include one last
 * committed more than `offsetsRetentionMs` ago gets an ExpireOffsets command; the writer checks again
 * that the group has no members, and the event it writes (OffsetsExpired: group and cutoff time)
 * removes exactly the offsets committed before the cutoff, in log order, so a commit that lands just
 * before it is kept.
 *
 * Difference from Kafka: Kafka counts an empty group's retention from when it became empty; here it is
 * counted from each offset's last commit (a group that stops committing while it still has members
 * keeps its offsets; once it is empty, offsets older than the retention go at the next check).
 */
import type { Clock } from '../clock.js';
import type { MetaLogConfig } from '../config.js';
import type { StoreIndexReader } from '../store-index/store-index.js';

/** What the expiry needs of the store. */
export interface ExpiryHost {
  reader: StoreIndexReader;
  expire(groupId: string, expireBeforeMs: number): Promise<unknown>;
}

export class OffsetExpiry {
  private readonly timer: NodeJS.Timeout | null = null;
  private running = false;
  /** When the next check falls due by the store's clock (for `clockMoved`). */
  private nextCheckMs: number;

  constructor(
    private readonly config: MetaLogConfig,
    private readonly host: ExpiryHost,
    private readonly clock: Clock,
  ) {
    this.nextCheckMs = clock.nowMs() + config.offsetsRetentionCheckIntervalMs;
    if (config.offsetsRetentionMs < 0) return;
    this.timer = setInterval(() => void this.check(), config.offsetsRetentionCheckIntervalMs);
    this.timer.unref();
  }

  /** Finds the groups with offsets to expire now and expires them; resolves with their ids. */
  async check(nowMs = this.clock.nowMs()): Promise<string[]> {
    if (this.running || this.config.offsetsRetentionMs < 0) return [];
    this.running = true;
    this.nextCheckMs = nowMs + this.config.offsetsRetentionCheckIntervalMs;
    const expireBeforeMs = nowMs - this.config.offsetsRetentionMs;
    const expired: string[] = [];
    try {
      for (const groupId of this.host.reader.listGroupIds()) {
        if ((this.host.reader.getGroup(groupId)?.members.length ?? 0) > 0) continue;
        if (!this.host.reader.fetchOffsets(groupId).some((offset) => offset.commitTimestamp < expireBeforeMs)) continue;
        // A group that gained members meanwhile is refused by the writer (NON_EMPTY_GROUP) and skipped.
        const ok = await this.host.expire(groupId, expireBeforeMs).then(() => true, () => false);
        if (ok) expired.push(groupId);
      }
    } finally {
      this.running = false;
    }
    return expired;
  }

  /**
   * A test moved the store's clock: run the check if it fell due by that clock (the timer keeps
   * real time, which a test's clock does not follow).
   */
  clockMoved(): void {
    if (this.clock.nowMs() >= this.nextCheckMs) void this.check();
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
  }
}
