/**
 * Idempotent producers of one partition: for each producerId, its epoch and its last five batches
 * (baseSequence, lastSequence, baseOffset, lastOffset), so a retried batch is answered with its original
 * offsets instead of being written twice, and a lost batch shows as a gap.
 *
 * Rules for a batch with producerId >= 0 (producerId -1 is not idempotent and is never checked):
 *
 * | state of the producer                         | batch                                  | outcome                        |
 * |-----------------------------------------------|----------------------------------------|--------------------------------|
 * | unknown                                       | any sequence                           | accepted (see below)           |
 * | known, epoch E                                | epoch < E                              | INVALID_PRODUCER_EPOCH (47)    |
 * | known, epoch E                                | epoch > E, baseSequence 0              | accepted; history starts over  |
 * | known, epoch E                                | epoch > E, baseSequence != 0           | OUT_OF_ORDER_SEQUENCE_NUMBER   |
 * | known, epoch E                                | epoch E, same base and last sequence   | duplicate: original offsets    |
 * |                                               | as one of the last five batches        |                                |
 * | known, epoch E, last sequence L               | epoch E, baseSequence == L + 1 (wraps) | accepted                       |
 * | known, epoch E                                | epoch E, anything else                 | OUT_OF_ORDER_SEQUENCE_NUMBER   |
 *
 * An unknown producer is accepted at any sequence, as Kafka does: its state may be gone because retention
 * removed its batches, or because it is older than the scan on open reaches.
 *
 * Rebuilt on open from the batch headers of the newest {@link PRODUCER_STATE_SCAN_SEGMENT_COUNT} segments
 * (the active one and the one before it), not the whole log. Only the last five batches of a producer
 * matter, and only while the producer may still retry them: a retry comes within the producer's delivery
 * timeout (2 minutes by default), long before a segment (1 GiB or 7 days by default) fills twice over.
 * A producer whose last batch lies further back is unknown after a restart and is accepted as above.
 * Sequences wrap from 2^31 - 1 to 0.
 */
import { KafkaError } from '../error-codes.js';
import { assert } from './assert.js';
import { PRODUCER_BATCH_MEMORY_COUNT, PRODUCER_COUNT_MAX, SEQUENCE_MAX } from './limits.js';
import { lastOffsetOf, type RecordBatchHeader } from './record-batch.js';

/** One remembered batch of a producer. */
export interface ProducerBatch {
  baseSequence: number;
  lastSequence: number;
  baseOffset: number;
  lastOffset: number;
}

/** What the log remembers of one producer. */
export interface ProducerEntry {
  producerEpoch: number;
  /** Oldest first; at most {@link PRODUCER_BATCH_MEMORY_COUNT}. */
  batches: ProducerBatch[];
}

/** The sequence `count - 1` places after `baseSequence`, wrapping past 2^31 - 1 to 0. */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  const last = baseSequence + lastOffsetDelta;
  return last > SEQUENCE_MAX ? last - SEQUENCE_MAX - 1 : last;
}

/** The sequence after `sequence`. */
export function nextSequence(sequence: number): number {
  return sequence === SEQUENCE_MAX ? 0 : sequence + 1;
}

/** The outcome of checking one batch: append it, or answer it with an earlier batch's offsets. */
export type SequenceCheck = { kind: 'append' } | { kind: 'duplicate'; batch: ProducerBatch };

/** Producer state of one partition; see the module header. */
export class ProducerStateTable {
  /** Insertion order is the order of last use, so the first key is the producer idle longest. */
  private readonly entries = new Map<number, ProducerEntry>();

  get producerCount(): number {
    return this.entries.size;
  }

  /** The entry of `producerId`, or undefined when the partition does not know it. */
  get(producerId: number): ProducerEntry | undefined {
    return this.entries.get(producerId);
  }

  /**
   * Checks `header` (whose offsets are not yet assigned) against the state plus `pending`, the entries
   * earlier batches of the same append have changed. Throws the Kafka error of a rejected batch.
   */
  check(header: RecordBatchHeader, pending: ReadonlyMap<number, ProducerEntry>): SequenceCheck {
    assert(header.producerId >= 0, 'only idempotent batches are checked');
    if (header.baseSequence < 0) throw new KafkaError('INVALID_RECORD', `producer ${header.producerId} sent a batch without a sequence`);
    const entry = pending.get(header.producerId) ?? this.entries.get(header.producerId);
    if (entry === undefined) return { kind: 'append' };
    if (header.producerEpoch < entry.producerEpoch) {
      throw new KafkaError('INVALID_PRODUCER_EPOCH', `producer ${header.producerId} epoch ${header.producerEpoch} is older than ${entry.producerEpoch}`);
    }
    if (header.producerEpoch > entry.producerEpoch) {
      if (header.baseSequence !== 0) {
        throw new KafkaError('OUT_OF_ORDER_SEQUENCE_NUMBER', `producer ${header.producerId} began epoch ${header.producerEpoch} at sequence ${header.baseSequence}, not 0`);
      }
      return { kind: 'append' };
    }
    const lastSequence = lastSequenceOf(header.baseSequence, header.lastOffsetDelta);
    const duplicate = entry.batches.find((batch) => batch.baseSequence === header.baseSequence && batch.lastSequence === lastSequence);
    if (duplicate !== undefined) return { kind: 'duplicate', batch: duplicate };
    const newest = entry.batches[entry.batches.length - 1];
    if (newest !== undefined && header.baseSequence !== nextSequence(newest.lastSequence)) {
      throw new KafkaError(
        'OUT_OF_ORDER_SEQUENCE_NUMBER',
        `producer ${header.producerId} sent sequence ${header.baseSequence}; ${nextSequence(newest.lastSequence)} was next`,
      );
    }
    return { kind: 'append' };
  }

  /**
   * The entry `header` (offsets assigned) leaves behind, built from `previous` without changing it, so an
   * append that fails to write leaves the table as it was.
   */
  static advance(previous: ProducerEntry | undefined, header: RecordBatchHeader): ProducerEntry {
    const sameEpoch = previous !== undefined && previous.producerEpoch === header.producerEpoch;
    const kept = sameEpoch ? previous.batches.slice(-(PRODUCER_BATCH_MEMORY_COUNT - 1)) : [];
    kept.push({
      baseSequence: header.baseSequence,
      lastSequence: lastSequenceOf(header.baseSequence, header.lastOffsetDelta),
      baseOffset: header.baseOffset,
      lastOffset: lastOffsetOf(header),
    });
    assert(kept.length <= PRODUCER_BATCH_MEMORY_COUNT, 'a producer remembers at most five batches');
    return { producerEpoch: header.producerEpoch, batches: kept };
  }

  /** Stores the entry of `producerId` after a successful write, as the most recently used. */
  set(producerId: number, entry: ProducerEntry): void {
    this.entries.delete(producerId);
    this.entries.set(producerId, entry);
    if (this.entries.size > PRODUCER_COUNT_MAX) {
      const idlest = this.entries.keys().next().value as number;
      this.entries.delete(idlest);
    }
  }

  /** Replays a batch found in the log on open (no checks: the log is what was accepted). */
  replay(header: RecordBatchHeader): void {
    if (header.producerId < 0) return;
    this.set(header.producerId, ProducerStateTable.advance(this.entries.get(header.producerId), header));
  }
}
