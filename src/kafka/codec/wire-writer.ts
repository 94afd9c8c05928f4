/**
 * Writes Kafka's primitive types into a growing buffer (see wire-reader.ts for the types).
 *
 * A response starts with four bytes kept for its size; `finish()` fills them in and returns the frame,
 * so a response is built and framed without a second copy. Large byte ranges given to `bytesOfParts`
 * (the records of a Fetch, read from the log) are not copied: the writer seals what it has written so
 * far as one chunk, keeps each large range as a chunk of its own, and goes on in a fresh buffer;
 * `finishChunks()` hands the server the chunks to write back to back.
 */

/** The first buffer of a response; doubled as needed. */
const INITIAL_BYTES = 256;
/** Byte ranges from this size on are kept as chunks of their own instead of copied. */
const CHUNK_BYTES_MIN = 16 * 1024;

export class WireWriter {
  private buffer: Buffer;
  private position = 4;
  /** Where the bytes of the current buffer not sealed yet start. */
  private segmentStart = 0;
  /** Finished chunks, in order; the first holds the size prefix once the first buffer is sealed. */
  private readonly sealed: Buffer[] = [];
  private sealedBytes = 0;

  constructor(initialBytes = INITIAL_BYTES) {
    this.buffer = Buffer.allocUnsafe(Math.max(initialBytes, 8));
  }

  private room(byteCount: number): number {
    if (this.position + byteCount > this.buffer.length) {
      // Only the unsealed bytes move: sealed chunks keep pointing into the old buffer, which nobody writes.
      const live = this.position - this.segmentStart;
      let size = Math.max(this.buffer.length * 2, INITIAL_BYTES);
      while (size < live + byteCount) size *= 2;
      const grown = Buffer.allocUnsafe(size);
      this.buffer.copy(grown, 0, this.segmentStart, this.position);
      this.buffer = grown;
      this.position = live;
      this.segmentStart = 0;
    }
    const at = this.position;
    this.position += byteCount;
    return at;
  }

  /** Ends the current chunk at what is written so far; later writes go after it. */
  private seal(): void {
    if (this.position === this.segmentStart) return;
    const chunk = this.buffer.subarray(this.segmentStart, this.position);
    this.sealed.push(chunk);
    this.sealedBytes += chunk.length;
    this.segmentStart = this.position;
  }

  /** Keeps `bytes` as a chunk of its own, after everything written so far. */
  private chunk(bytes: Uint8Array): void {
    this.seal();
    const chunk = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    this.sealed.push(chunk);
    this.sealedBytes += chunk.length;
  }

  // Every write reserves its room first and only then reads `this.buffer`: `room` may replace the
  // buffer, and a call such as `this.buffer.set(bytes, this.room(n))` reads the old buffer before `room`
  // runs, so the bytes would land in the buffer just dropped.

  /** `byteCount` bytes of `value`'s UTF-8 (its whole length, measured by the caller). */
  private utf8(value: string, byteCount: number): void {
    const at = this.room(byteCount);
    this.buffer.write(value, at, byteCount, 'utf8');
  }

  /** Bytes as they are. */
  private raw(bytes: Uint8Array): void {
    const at = this.room(bytes.length);
    this.buffer.set(bytes, at);
  }

  int8(value: number): this {
    const at = this.room(1);
    this.buffer.writeInt8(value, at);
    return this;
  }

  int16(value: number): this {
    const at = this.room(2);
    this.buffer.writeInt16BE(value, at);
    return this;
  }

  int32(value: number): this {
    const at = this.room(4);
    this.buffer.writeInt32BE(value, at);
    return this;
  }

  int64(value: number | bigint): this {
    const at = this.room(8);
    this.buffer.writeBigInt64BE(BigInt(value), at);
    return this;
  }

  boolean(value: boolean): this {
    return this.int8(value ? 1 : 0);
  }

  /** UNSIGNED_VARINT: 0 to 2^32 - 1, 7 bits a byte, low bits first. */
  uvarint(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) throw new RangeError(`UNSIGNED_VARINT out of range: ${value}`);
    let rest = value;
    while (rest >= 0x80) {
      const at = this.room(1);
      this.buffer[at] = (rest & 0x7f) | 0x80;
      rest = Math.floor(rest / 128);
    }
    const at = this.room(1);
    this.buffer[at] = rest;
    return this;
  }

  uuid(hex: string): this {
    const at = this.room(16);
    this.buffer.write(hex.padEnd(32, '0'), at, 16, 'hex');
    return this;
  }

  nullableString(value: string | null): this {
    if (value === null) return this.int16(-1);
    const length = Buffer.byteLength(value);
    this.int16(length);
    this.utf8(value, length);
    return this;
  }

  string(value: string): this {
    return this.nullableString(value);
  }

  compactNullableString(value: string | null): this {
    if (value === null) return this.uvarint(0);
    const length = Buffer.byteLength(value);
    this.uvarint(length + 1);
    this.utf8(value, length);
    return this;
  }

  compactString(value: string): this {
    return this.compactNullableString(value);
  }

  nullableBytes(value: Uint8Array | null): this {
    if (value === null) return this.int32(-1);
    this.int32(value.length);
    this.raw(value);
    return this;
  }

  bytesField(value: Uint8Array): this {
    return this.nullableBytes(value);
  }

  /** Several byte ranges written as one BYTES field (the records of a Fetch, read from several batches). */
  bytesOfParts(parts: readonly Uint8Array[]): this {
    let length = 0;
    for (const part of parts) length += part.length;
    this.int32(length);
    for (const part of parts) {
      if (part.length >= CHUNK_BYTES_MIN) this.chunk(part);
      else this.raw(part);
    }
    return this;
  }

  array<T>(values: readonly T[], writeElement: (writer: this, value: T) => void): this {
    this.int32(values.length);
    for (const value of values) writeElement(this, value);
    return this;
  }

  nullableArray<T>(values: readonly T[] | null, writeElement: (writer: this, value: T) => void): this {
    if (values === null) return this.int32(-1);
    return this.array(values, writeElement);
  }

  compactArray<T>(values: readonly T[], writeElement: (writer: this, value: T) => void): this {
    this.uvarint(values.length + 1);
    for (const value of values) writeElement(this, value);
    return this;
  }

  /** An empty tagged-field section. */
  noTaggedFields(): this {
    return this.uvarint(0);
  }

  /** The framed response: its size (INT32, not counting itself) then its bytes. */
  /** The framed response as chunks to write back to back: its size (INT32, not counting itself), then its bytes. */
  finishChunks(): Buffer[] {
    const current = this.buffer.subarray(this.segmentStart, this.position);
    const chunks = current.length > 0 || this.sealed.length === 0 ? [...this.sealed, current] : [...this.sealed];
    chunks[0]!.writeInt32BE(this.sealedBytes + current.length - 4, 0);
    return chunks;
  }

  /** The framed response as one buffer: its size (INT32, not counting itself), then its bytes. */
  finish(): Buffer {
    const chunks = this.finishChunks();
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }
}
