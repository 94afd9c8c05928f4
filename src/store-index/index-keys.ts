/**
 * Keys of the shared index: the natural key of each entity, as bytes.
 *
 * Owns: the byte layout of every key (below) and a reusable encoder that writes keys into one scratch
 * buffer, so a point read allocates no key. Keys are never stored on disk: this layout may change with
 * any release (the index is rebuilt from the WAL at every open).
 *
 *   topic, group, transaction   the id's UTF-8 bytes
 *   broker                      broker id, u32 big-endian
 *   committed offset            u32 group number | u32 topic number | u16 partition  (big-endian)
 *   ids                         u8 kind (1 group, 2 topic) | the id's UTF-8 bytes
 *   watermarks, segments        u8 topic bytes | topic | u32 partition
 *
 * Committed offsets, by far the most numerous entries, are keyed by numbers the writer gives each group
 * and topic that has offsets (the `ids` table maps names to them): a key is 10 bytes, so key and value
 * fit a 32-byte block. Partitions are below 20,000 (two bytes). Topic names are at most 249 ASCII
 * characters (one length byte); group ids at most 1,024 characters. Each family has its own table, so
 * keys of different entities never meet.
 */
import { assert } from '../assert.js';

/** Largest key: an `ids` key of the longest group id. */
const KEY_BYTES_MAX = 1 + 3 * 1024;
/** Bytes of a committed offset's key. */
const OFFSET_KEY_BYTES = 10;

/** What an `ids` key names. */
export const ID_KIND = Object.freeze({ GROUP: 1, TOPIC: 2 });
export type IdKind = (typeof ID_KIND)[keyof typeof ID_KIND];

const utf8 = new TextEncoder();

/**
 * Writes keys into one scratch buffer. A returned key is a view of that buffer, valid until the next
 * call on the same encoder: use it at once, or copy it.
 */
export class KeyEncoder {
  private readonly bytes = new Uint8Array(KEY_BYTES_MAX + 8);
  private readonly view = new DataView(this.bytes.buffer);
  private length = 0;
  /** One view of the scratch buffer per key length, made once: a point read then allocates no key. */
  private readonly views: Uint8Array[] = [];

  private key(length: number): Uint8Array {
    return (this.views[length] ??= this.bytes.subarray(0, length));
  }

  topic(name: string): Uint8Array {
    this.length = 0;
    this.putString(name);
    return this.key(this.length);
  }

  group(groupId: string): Uint8Array {
    return this.topic(groupId);
  }

  transaction(transactionalId: string): Uint8Array {
    return this.topic(transactionalId);
  }

  broker(brokerId: number): Uint8Array {
    this.view.setUint32(0, brokerId >>> 0);
    return this.key(4);
  }

  /**
   * A committed offset's key: the group's and the topic's numbers (see the `ids` table) and the
   * partition, 10 bytes whatever the names' lengths.
   */
  offset(groupNumber: number, topicNumber: number, partition: number): Uint8Array {
    this.view.setUint32(0, groupNumber);
    this.view.setUint32(4, topicNumber);
    this.view.setUint16(8, partition);
    return this.key(OFFSET_KEY_BYTES);
  }

  /** The `ids` key of a group id (kind 1) or a topic name (kind 2). */
  id(kind: IdKind, name: string): Uint8Array {
    this.bytes[0] = kind;
    this.length = 1;
    this.putString(name);
    return this.key(this.length);
  }

  topicPartition(topic: string, partition: number): Uint8Array {
    this.length = 0;
    this.putTopicPartition(topic, partition);
    return this.key(this.length);
  }

  private putTopicPartition(topic: string, partition: number): void {
    const lengthAt = this.length;
    this.length += 1;
    this.putString(topic);
    this.bytes[lengthAt] = this.length - lengthAt - 1;
    this.view.setUint32(this.length, partition >>> 0);
    this.length += 4;
  }

  /** Appends `text` as UTF-8: a plain loop for ASCII (ids almost always are), TextEncoder otherwise. */
  private putString(text: string): void {
    const start = this.length;
    const bytes = this.bytes;
    assert(start + 3 * text.length <= KEY_BYTES_MAX, 'an index key fits the key scratch buffer');
    for (let index = 0; index < text.length; index++) {
      const code = text.charCodeAt(index);
      if (code > 0x7f) {
        this.length = start + utf8.encodeInto(text, bytes.subarray(start, KEY_BYTES_MAX)).written;
        return;
      }
      bytes[start + index] = code;
    }
    this.length = start + text.length;
  }
}

const utf8Decoder = new TextDecoder();

/** The topic and partition of a watermarks or segments key. */
export function decodeTopicPartitionKey(key: Uint8Array, start = 0): { topic: string; partition: number } {
  const topicBytes = key[start];
  const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
  return {
    topic: utf8Decoder.decode(key.subarray(start + 1, start + 1 + topicBytes)),
    partition: view.getUint32(start + 1 + topicBytes),
  };
}

/** The broker id of a broker key. */
export function decodeBrokerKey(key: Uint8Array): number {
  return new DataView(key.buffer, key.byteOffset, key.byteLength).getUint32(0);
}

/** The id of a topic, group or transaction key. */
export function decodeStringKey(key: Uint8Array): string {
  return utf8Decoder.decode(key);
}
