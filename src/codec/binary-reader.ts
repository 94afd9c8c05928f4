/**
 * A minimal reader of Avro binary primitives (zigzag varints and length-prefixed strings) over a Buffer,
 * for hand-written decoders of the hottest event types. Short ASCII strings are interned: a broker's
 * group ids and topic names repeat millions of times in a log, and handing back the same string object
 * saves both the allocation and the rehash when the string becomes a Map key.
 *
 * Throws `MalformedPayload` on malformed input (past the end, overlong varint); callers turn it into
 * CORRUPT_WAL with the record's position.
 */

/**
 * A payload that does not decode as its type (bytes that passed their checksum yet were not written by
 * this codec): what the hand-written decoders throw, and what a WAL scan reports as corruption.
 */
export class MalformedPayload extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedPayload';
  }
}

/** Slots of the intern table (a power of two): direct-mapped, a new string evicts the slot's old one. */
export const INTERN_SLOTS = 16384;
/** Strings longer than this are decoded afresh (long values rarely repeat). */
const INTERNED_BYTES_MAX = 64;

/** Interned strings by a hash of their bytes; a hit is confirmed byte by byte. Bounded by INTERN_SLOTS. */
const interned: (string | undefined)[] = new Array<string | undefined>(INTERN_SLOTS).fill(undefined);

/** Reads Avro primitives from `bytes` starting at `position`. */
export class BinaryReader {
  position = 0;
  end = 0;
  bytes: Buffer = Buffer.alloc(0);
  /**
   * The intern slot of the string `readString` returned last, or -1 when it was not interned: a caller
   * may key its own small caches of facts about a name by it (checking the name, since slots are shared).
   */
  internSlot = -1;

  /** Points the reader at `bytes[start, end)`. */
  reset(bytes: Buffer, start: number, end: number): void {
    this.bytes = bytes;
    this.position = start;
    this.end = end;
  }

  /** An Avro int or long (zigzag varint); exact below 2^53. */
  readLong(): number {
    const bytes = this.bytes;
    let byte = 0;
    let value = 0;
    let scale = 1;
    // Ten bytes hold any 64-bit varint; a longer run is malformed.
    for (let count = 0; count < 10; count++) {
      if (this.position >= this.end) throw new MalformedPayload('varint runs past the end of the payload');
      byte = bytes[this.position++];
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value % 2 === 0 ? value / 2 : -(value + 1) / 2;
      scale *= 128;
    }
    throw new MalformedPayload('varint longer than 10 bytes');
  }

  /** Steps over an Avro string without decoding it. */
  skipString(): void {
    const length = this.readLong();
    if (length < 0 || this.position + length > this.end) throw new MalformedPayload('string runs past the end of the payload');
    this.position += length;
  }

  /** An Avro string. */
  readString(): string {
    const length = this.readLong();
    const start = this.position;
    const end = start + length;
    if (length < 0 || end > this.end) throw new MalformedPayload('string runs past the end of the payload');
    this.position = end;
    this.internSlot = -1;
    if (length > INTERNED_BYTES_MAX) return this.bytes.toString('utf8', start, end);
    const bytes = this.bytes;
    let hash = length;
    let ascii = 0;
    for (let i = start; i < end; i++) {
      hash = Math.imul(hash ^ bytes[i], 0x01000193);
      ascii |= bytes[i];
    }
    if (ascii >= 0x80) return bytes.toString('utf8', start, end);
    const slot = hash & (INTERN_SLOTS - 1);
    this.internSlot = slot;
    const known = interned[slot];
    if (known !== undefined && known.length === length && sameAscii(known, bytes, start)) return known;
    const fresh = bytes.toString('latin1', start, end);
    interned[slot] = fresh;
    return fresh;
  }
}

function sameAscii(text: string, bytes: Buffer, start: number): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) !== bytes[start + i]) return false;
  return true;
}
