/**
 * Reads Kafka's primitive types from one request's bytes, never past them.
 *
 * Kafka requests are big-endian: INT8/16/32/64, UNSIGNED_VARINT, VARINT (zig-zag), STRING (INT16
 * length, -1 for null), COMPACT_STRING (UNSIGNED_VARINT length + 1, 0 for null), BYTES (INT32 length),
 * COMPACT_BYTES, ARRAY (INT32 count, -1 for null), COMPACT_ARRAY (UNSIGNED_VARINT count + 1), UUID (16
 * bytes) and, in flexible versions, a tagged-field section after every struct.
 *
 * Every length and count is checked against the bytes that are left before anything is allocated, so a
 * hostile length (an array of 2^31 elements in a 40-byte request) fails as a {@link MalformedRequest}
 * at once instead of allocating. The server closes the connection on a MalformedRequest.
 */

/** A request whose bytes do not follow its API's layout: the connection that sent it is closed. */
export class MalformedRequest extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedRequest';
  }
}

/** Elements of one array beyond this are refused: no API of this broker needs more. */
export const ARRAY_COUNT_MAX = 1_000_000;

export class WireReader {
  private position: number;

  constructor(
    private readonly bytes: Buffer,
    start = 0,
    private readonly end = bytes.length,
  ) {
    this.position = start;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.end - this.position;
  }

  /** The byte position of the next read. */
  get offset(): number {
    return this.position;
  }

  private take(byteCount: number, what: string): number {
    if (byteCount > this.end - this.position) {
      throw new MalformedRequest(`${what} needs ${byteCount} bytes at position ${this.position}, ${this.end - this.position} left`);
    }
    const at = this.position;
    this.position += byteCount;
    return at;
  }

  int8(): number {
    return this.bytes.readInt8(this.take(1, 'INT8'));
  }

  int16(): number {
    return this.bytes.readInt16BE(this.take(2, 'INT16'));
  }

  int32(): number {
    return this.bytes.readInt32BE(this.take(4, 'INT32'));
  }

  uint32(): number {
    return this.bytes.readUInt32BE(this.take(4, 'UINT32'));
  }

  /** An INT64 as a number: exact within ±2^53, which holds every offset, timestamp and id a client sends. */
  int64(): number {
    return Number(this.bytes.readBigInt64BE(this.take(8, 'INT64')));
  }

  boolean(): boolean {
    return this.int8() !== 0;
  }

  /** UNSIGNED_VARINT of at most 5 bytes, 0 to 2^32 - 1. */
  uvarint(): number {
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      const byte = this.bytes[this.take(1, 'UNSIGNED_VARINT')]!;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
    // The fifth byte carries the top 4 bits. More than that (a continuation bit, or bits 33 to 35) is
    // not a 32-bit value: Java's reader fails on the first and silently drops the second.
    const last = this.bytes[this.take(1, 'UNSIGNED_VARINT')]!;
    if (last > 0x0f) throw new MalformedRequest(`UNSIGNED_VARINT beyond 32 bits (fifth byte 0x${last.toString(16)})`);
    return value + last * 2 ** 28;
  }

  /** VARINT (zig-zag) of at most 5 bytes. */
  varint(): number {
    const raw = this.uvarint();
    return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  }

  uuid(): string {
    const at = this.take(16, 'UUID');
    return this.bytes.toString('hex', at, at + 16);
  }

  private text(length: number): string {
    const at = this.take(length, 'STRING');
    return this.bytes.toString('utf8', at, at + length);
  }

  nullableString(): string | null {
    const length = this.int16();
    if (length === -1) return null;
    if (length < -1) throw new MalformedRequest(`STRING length ${length}`);
    return this.text(length);
  }

  string(): string {
    const value = this.nullableString();
    if (value === null) throw new MalformedRequest('null where a STRING is required');
    return value;
  }

  compactNullableString(): string | null {
    const lengthPlusOne = this.uvarint();
    return lengthPlusOne === 0 ? null : this.text(lengthPlusOne - 1);
  }

  compactString(): string {
    const value = this.compactNullableString();
    if (value === null) throw new MalformedRequest('null where a COMPACT_STRING is required');
    return value;
  }

  /** BYTES as a view of the request (no copy): valid while the request's buffer is. */
  nullableBytes(): Buffer | null {
    const length = this.int32();
    if (length === -1) return null;
    if (length < -1) throw new MalformedRequest(`BYTES length ${length}`);
    const at = this.take(length, 'BYTES');
    return this.bytes.subarray(at, at + length);
  }

  bytesField(): Buffer {
    return this.nullableBytes() ?? Buffer.alloc(0);
  }

  compactNullableBytes(): Buffer | null {
    const lengthPlusOne = this.uvarint();
    if (lengthPlusOne === 0) return null;
    const at = this.take(lengthPlusOne - 1, 'COMPACT_BYTES');
    return this.bytes.subarray(at, at + lengthPlusOne - 1);
  }

  private elements<T>(count: number, readElement: (reader: WireReader) => T): T[] {
    // An element takes at least one byte, so a count above the bytes left cannot be honest.
    if (count > this.remaining || count > ARRAY_COUNT_MAX) throw new MalformedRequest(`array of ${count} elements with ${this.remaining} bytes left`);
    const values: T[] = [];
    for (let i = 0; i < count; i++) values.push(readElement(this));
    return values;
  }

  nullableArray<T>(readElement: (reader: WireReader) => T): T[] | null {
    const count = this.int32();
    if (count === -1) return null;
    if (count < -1) throw new MalformedRequest(`ARRAY count ${count}`);
    return this.elements(count, readElement);
  }

  array<T>(readElement: (reader: WireReader) => T): T[] {
    return this.nullableArray(readElement) ?? [];
  }

  compactNullableArray<T>(readElement: (reader: WireReader) => T): T[] | null {
    const countPlusOne = this.uvarint();
    return countPlusOne === 0 ? null : this.elements(countPlusOne - 1, readElement);
  }

  compactArray<T>(readElement: (reader: WireReader) => T): T[] {
    return this.compactNullableArray(readElement) ?? [];
  }

  /** Skips a tagged-field section: this broker knows no tagged field, and unknown ones are ignored by rule. */
  skipTaggedFields(): void {
    const count = this.uvarint();
    if (count > this.remaining) throw new MalformedRequest(`${count} tagged fields with ${this.remaining} bytes left`);
    for (let i = 0; i < count; i++) {
      this.uvarint();
      this.take(this.uvarint(), 'tagged field');
    }
  }

  /** Asserts the request was read to its last byte: trailing bytes mean a layout we misread. */
  expectEnd(what: string): void {
    if (this.position !== this.end) throw new MalformedRequest(`${what}: ${this.end - this.position} bytes after the last field`);
  }
}
