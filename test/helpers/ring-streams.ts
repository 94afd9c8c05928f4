/**
 * Self-checking record streams for the ring tests, shared by the test files and `ring-worker.ts`.
 *
 * A stream is a seeded, deterministic sequence of records. Producer and checker each build the same
 * stream from (seed, streamId), so the checker knows every record's exact length and bytes without any
 * side channel: a record that is torn, stale, shifted, duplicated, lost or out of order within its
 * stream fails the byte comparison or the sequence check.
 *
 * Record layout (little-endian, 8..recordBytesMax bytes):
 *   +----------------+------------------+----------------+------------------------------+
 *   | u16 streamId   | u16 payloadBytes | u32 sequence   | PRNG bytes of the stream ... |
 *   +----------------+------------------+----------------+------------------------------+
 */

/** A seeded 32-bit generator: a Weyl sequence through the murmur3 finaliser. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let mixed = state;
    mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b) >>> 0;
    mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35) >>> 0;
    return (mixed ^ (mixed >>> 16)) >>> 0;
  };
}

/** Bytes of the fixed prefix every stream record starts with. */
export const streamRecordPrefixBytes = 8;

/**
 * The deterministic record sequence of one stream. Lengths are skewed: mostly short, some medium, a few
 * up to `recordBytesMax`, so a small ring wraps and fills constantly.
 */
export class RecordStream {
  readonly streamId: number;
  private readonly random: () => number;
  private readonly recordBytesMax: number;
  private sequence = 0;

  constructor(seed: number, streamId: number, recordBytesMax: number) {
    if (recordBytesMax < streamRecordPrefixBytes) throw new RangeError('recordBytesMax below the prefix');
    if (streamId > 0xffff) throw new RangeError('streamId is a u16');
    this.streamId = streamId;
    this.random = createRandom(Math.imul(seed ^ 0x51ed270b, 0x2c1b3c6d) ^ Math.imul(streamId + 1, 0x297a2d39));
    this.recordBytesMax = recordBytesMax;
  }

  /** Sequence number the next record will carry. */
  nextSequence(): number {
    return this.sequence;
  }

  /** Builds the next record of the stream. */
  next(): Uint8Array {
    const payloadBytes = this.pickPayloadBytes();
    const record = new Uint8Array(payloadBytes);
    const view = new DataView(record.buffer);
    view.setUint16(0, this.streamId, true);
    view.setUint16(2, payloadBytes, true);
    view.setUint32(4, this.sequence, true);
    for (let index = streamRecordPrefixBytes; index < payloadBytes; index += 4) {
      const word = this.random();
      for (let byte = 0; byte < 4 && index + byte < payloadBytes; byte++) {
        record[index + byte] = (word >>> (8 * byte)) & 0xff;
      }
    }
    this.sequence += 1;
    return record;
  }

  private pickPayloadBytes(): number {
    const roll = this.random() % 100;
    const limit = Math.min(roll < 70 ? 64 : roll < 95 ? 512 : this.recordBytesMax, this.recordBytesMax);
    return streamRecordPrefixBytes + (this.random() % (limit - streamRecordPrefixBytes + 1));
  }
}

/** Stream id and sequence number a record claims, or undefined if it is too short to say. */
export function recordIdentity(record: Uint8Array): { streamId: number; sequence: number } | undefined {
  if (record.byteLength < streamRecordPrefixBytes) return undefined;
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  return { streamId: view.getUint16(0, true), sequence: view.getUint32(4, true) };
}

/**
 * Checks records from several interleaved streams: each must be the next record of its stream, byte for
 * byte. Throws an Error naming the stream, the expected sequence and what arrived.
 */
export class StreamChecker {
  private readonly streams: RecordStream[];
  private readonly recordCounts: readonly number[];
  private checkedCount = 0;

  /** @param recordCounts records expected per stream id (index = streamId). */
  constructor(seed: number, recordCounts: readonly number[], recordBytesMax: number) {
    this.streams = recordCounts.map((_, streamId) => new RecordStream(seed, streamId, recordBytesMax));
    this.recordCounts = recordCounts;
  }

  /** Records checked so far, over all streams. */
  recordCount(): number {
    return this.checkedCount;
  }

  /** True once every stream delivered all its records. */
  complete(): boolean {
    return this.streams.every((stream, streamId) => stream.nextSequence() === this.recordCounts[streamId]);
  }

  /** Skips the first `sequence` records of a stream (for a cursor that opened late). */
  skipTo(streamId: number, sequence: number): void {
    const stream = this.streams[streamId];
    if (stream === undefined) throw new Error(`unknown stream ${streamId}`);
    while (stream.nextSequence() < sequence) stream.next();
  }

  /** Checks one record; the view may be into shared memory, so it is compared before returning. */
  check(record: Uint8Array): void {
    const identity = recordIdentity(record);
    if (identity === undefined) throw new Error(`record of ${record.byteLength} bytes is shorter than its prefix`);
    const stream = this.streams[identity.streamId];
    if (stream === undefined) throw new Error(`record names unknown stream ${identity.streamId}`);
    const sequenceExpected = stream.nextSequence();
    if (sequenceExpected >= this.recordCounts[identity.streamId]) {
      throw new Error(`stream ${identity.streamId}: extra record with sequence ${identity.sequence}`);
    }
    if (identity.sequence !== sequenceExpected) {
      throw new Error(`stream ${identity.streamId}: expected sequence ${sequenceExpected}, got ${identity.sequence}`);
    }
    const expected = stream.next();
    if (!bytesEqual(record, expected)) {
      throw new Error(
        `stream ${identity.streamId} sequence ${identity.sequence}: ${record.byteLength} bytes differ from the ` +
          `expected ${expected.byteLength}`,
      );
    }
    this.checkedCount += 1;
  }
}

/** Byte-wise equality of two arrays. */
export function bytesEqual(left: Uint8Array, right: Uint8Array): boolean {
  if (left.byteLength !== right.byteLength) return false;
  return Buffer.from(left.buffer, left.byteOffset, left.byteLength).equals(
    Buffer.from(right.buffer, right.byteOffset, right.byteLength),
  );
}

/** True when every byte of `bytes` is zero. */
export function allZero(bytes: Uint8Array): boolean {
  return bytes.every((byte) => byte === 0);
}

/** Work for one `ring-worker.js` thread. */
export type RingWorkerTask =
  | {
      role: 'command-producer';
      buffer: SharedArrayBuffer;
      seed: number;
      streamId: number;
      recordCount: number;
      timeoutMs: number;
    }
  | {
      role: 'command-consumer';
      buffer: SharedArrayBuffer;
      seed: number;
      recordCounts: number[];
      stallMs: number;
    }
  | {
      role: 'event-producer';
      buffer: SharedArrayBuffer;
      seed: number;
      recordCount: number;
      timeoutMs: number;
      /** Int32 word 0 is set to 1 after the last publish. */
      doneBuffer: SharedArrayBuffer;
    }
  | {
      role: 'event-cursor';
      buffer: SharedArrayBuffer;
      seed: number;
      recordCount: number;
      /**
       * full: read all; quitter: read `quitAfter` then close; late: opened mid-stream, read a suffix;
       * churn: open, read a few records, close, again, until the producer is done.
       */
      mode: 'full' | 'quitter' | 'late' | 'churn';
      quitAfter: number;
      stallMs: number;
      doneBuffer: SharedArrayBuffer;
    };

/** Messages a ring worker posts to its parent. */
export type RingWorkerMessage =
  | { kind: 'ready' }
  | { kind: 'done'; recordCount: number; firstSequence?: number; sessionCount?: number };
