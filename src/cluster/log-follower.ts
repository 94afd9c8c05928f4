/**
 * A follower's copy of the log: reads the batches in etcd from the node's next local offset, then tails
 * new ones, and hands over only records it has verified: each record's checksum, offsets dense from
 * the node's own next offset, and each batch exactly its declared record count. A record already held
 * (a batch that starts below the next offset) is skipped, so a batch seen twice (the read and the tail
 * overlap) is applied once.
 *
 * It stops, and says why, at the first thing it cannot apply: a gap (the batches holding the next offset
 * were deleted by compaction: the node bootstraps from a snapshot) or a corrupt batch (nothing at or past
 * it is handed over). A broken or compacted tail is not a stop: it reads again from its next offset.
 *
 * Owns: its watch and its retry timer (`stop()` ends both). Never writes to etcd.
 */
import { EtcdError, type Watch } from './etcd-client.js';
import { decodeBatchValue, type EtcdLog, type LogBatch } from './etcd-log.js';
import { readRecord } from '../wal/format.js';

/** Records verified and new to this node, in offset order. */
export interface VerifiedRecords {
  firstOffset: number;
  recordCount: number;
  /** The schema fingerprint the batch was written under. */
  fingerprint: Buffer;
  /** The records, back to back (a view of the batch value). */
  records: Buffer;
}

export type FollowerStop =
  | { kind: 'gap'; expectedOffset: number; firstAvailableOffset: number }
  | { kind: 'corrupt'; offset: number; reason: string }
  /** `onRecords` threw: the node could not apply records that verified. */
  | { kind: 'apply-failed'; offset: number; error: unknown };

export interface LogFollowerOptions {
  log: EtcdLog;
  /** The offset this node applies next (its local log's end). */
  fromOffset: number;
  /** Batches per read while catching up. */
  pageBatches: number;
  /** Receives each run of new records; a throw stops the follower (`apply-failed`). */
  onRecords: (records: VerifiedRecords) => void;
  onStop: (reason: FollowerStop) => void;
  /** Told of a failure it works around (a read or a tail that broke). */
  onTrouble?: (error: EtcdError) => void;
}

/** Pause before reading again after etcd could not be reached. */
const RETRY_PAUSE_MS = 200;

/**
 * Checks a batch against the offset expected next; returns the records new to the node, null when it
 * holds nothing new, or the reason it cannot be applied.
 */
export function verifyBatch(batch: LogBatch, nextOffset: number): VerifiedRecords | null | FollowerStop {
  const parts = decodeBatchValue(batch.value);
  if (parts === null) return { kind: 'corrupt', offset: batch.firstOffset, reason: 'not a batch value (magic or record count)' };
  if (batch.firstOffset + parts.recordCount <= nextOffset) return null;
  if (batch.firstOffset > nextOffset) return { kind: 'gap', expectedOffset: nextOffset, firstAvailableOffset: batch.firstOffset };
  const { records } = parts;
  let position = 0;
  let newFrom = -1;
  for (let index = 0; index < parts.recordCount; index++) {
    const offset = batch.firstOffset + index;
    const found = readRecord(records, position, records.length);
    if (typeof found === 'string') return { kind: 'corrupt', offset, reason: `record ${index} of the batch at ${batch.firstOffset}: ${found}` };
    if (found.offset !== offset) return { kind: 'corrupt', offset, reason: `record ${index} of the batch at ${batch.firstOffset} holds offset ${found.offset}` };
    if (offset === nextOffset) newFrom = position;
    position = found.end;
  }
  if (position !== records.length) return { kind: 'corrupt', offset: batch.firstOffset + parts.recordCount, reason: `${records.length - position} bytes after the batch's last record` };
  return {
    firstOffset: nextOffset,
    recordCount: batch.firstOffset + parts.recordCount - nextOffset,
    fingerprint: parts.fingerprint,
    records: records.subarray(newFrom),
  };
}

export class LogFollower {
  private next: number;
  private watch: Watch | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  /** Bumped by every (re)start of reading: answers of an older read are dropped. */
  private generation = 0;

  constructor(private readonly options: LogFollowerOptions) {
    this.next = options.fromOffset;
  }

  /** The offset the follower hands over next. */
  get nextOffset(): number {
    return this.next;
  }

  start(): void {
    this.readFromNext();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.watch?.cancel();
    this.watch = null;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private halt(reason: FollowerStop): void {
    this.stop();
    this.options.onStop(reason);
  }

  /** Hands over what is new in `batch`; false once the follower stopped. */
  private take(batch: LogBatch): boolean {
    if (this.stopped) return false;
    const verified = verifyBatch(batch, this.next);
    if (verified === null) return true;
    if ('kind' in verified) {
      this.halt(verified);
      return false;
    }
    try {
      this.options.onRecords(verified);
    } catch (error) {
      this.halt({ kind: 'apply-failed', offset: verified.firstOffset, error });
      return false;
    }
    this.next = verified.firstOffset + verified.recordCount;
    return true;
  }

  private readFromNext(): void {
    if (this.stopped) return;
    const generation = ++this.generation;
    this.watch?.cancel();
    this.watch = null;
    void this.catchUp(generation).catch((error: unknown) => {
      if (error instanceof EtcdError) this.retry(error);
      else this.halt({ kind: 'apply-failed', offset: this.next, error });
    });
  }

  private retry(error: EtcdError): void {
    if (this.stopped) return;
    this.options.onTrouble?.(error);
    if (this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.readFromNext();
    }, RETRY_PAUSE_MS);
  }

  /** Reads pages from the next offset until one comes back short, then tails from that page's revision. */
  private async catchUp(generation: number): Promise<void> {
    for (;;) {
      const page = await this.options.log.readFrom(this.next, this.options.pageBatches);
      if (generation !== this.generation) return;
      for (const batch of page.batches) if (!this.take(batch)) return;
      if (page.batches.length < this.options.pageBatches) {
        this.watch = this.options.log.tail(
          page.revision,
          (batch) => {
            if (generation === this.generation) this.take(batch);
          },
          (error) => {
            if (generation === this.generation) this.retry(error);
          },
        );
        return;
      }
    }
  }
}
