/**
 * Reads the topics out of a consumer's subscription bytes (the "consumer" protocol type's member
 * metadata), for the store's record of which topics a group subscribes to (what OffsetDelete checks).
 *
 * Layout (ConsumerProtocolSubscription v0–v3; every version starts the same way, big-endian):
 *
 *   version  int16
 *   topics   int32 count, then count × (int16 length, UTF-8 bytes)
 *   userData int32 length (-1: null), bytes          ─┐
 *   ownedPartitions (v1+), generationId (v2+),        ├ ignored
 *   rackId (v3+)                                     ─┘
 *
 * Owns nothing; pure. The bytes stay opaque to the coordinator otherwise: a subscription that does not
 * parse records no topics and is not an error (the group's assignor, not the coordinator, reads it).
 * Names that are not legal topic names are left out: no such topic can exist, and the store refuses them.
 */
import { SUBSCRIBED_TOPICS_MAX } from './coordinator-config.js';

const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** The distinct legal topic names of a consumer subscription, in order; [] if the bytes do not parse. */
export function subscribedTopics(subscription: Uint8Array): string[] {
  const view = new DataView(subscription.buffer, subscription.byteOffset, subscription.byteLength);
  let position = 0;
  const need = (byteCount: number): boolean => position + byteCount <= view.byteLength;
  if (!need(6)) return [];
  const version = view.getInt16(position);
  position += 2;
  if (version < 0) return [];
  const count = view.getInt32(position);
  position += 4;
  if (count < 0 || count > SUBSCRIBED_TOPICS_MAX) return [];
  const topics = new Set<string>();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < count; i++) {
    if (!need(2)) return [];
    const length = view.getInt16(position);
    position += 2;
    if (length < 0 || !need(length)) return [];
    let name: string;
    try {
      name = decoder.decode(subscription.subarray(position, position + length));
    } catch (error) {
      if (error instanceof TypeError) return []; // not UTF-8: the bytes are not a consumer subscription
      throw error;
    }
    position += length;
    if (LEGAL_TOPIC_NAME.test(name) && name !== '.' && name !== '..') topics.add(name);
  }
  return [...topics];
}

/** Encodes a v0 subscription (topics, no user data): for tests and tools that play a consumer. */
export function encodeSubscription(topics: readonly string[], userData: Uint8Array | null = null): Uint8Array {
  const names = topics.map((topic) => new TextEncoder().encode(topic));
  const size = 2 + 4 + names.reduce((sum, name) => sum + 2 + name.length, 0) + 4 + (userData?.length ?? 0);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  let position = 0;
  view.setInt16(position, 0);
  position += 2;
  view.setInt32(position, names.length);
  position += 4;
  for (const name of names) {
    view.setInt16(position, name.length);
    position += 2;
    bytes.set(name, position);
    position += name.length;
  }
  view.setInt32(position, userData === null ? -1 : userData.length);
  position += 4;
  if (userData !== null) bytes.set(userData, position);
  return bytes;
}
