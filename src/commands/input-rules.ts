/**
 * Small shared rules for checking command input on the caller's thread: integers in a range, strings,
 * Kafka's topic names, broker id lists. Each throws the Kafka error the condition calls for, naming the
 * field.
 *
 * Strings at the API edge: every string a caller passes must be well-formed UTF-16, that is, hold no
 * lone surrogate. The store's encoders disagree about a lone surrogate (avsc writes bytes that decode as
 * three U+FFFD, TextEncoder writes one U+FFFD, JSON keeps it), so accepting one would let the served
 * state, the log and a reopened store each hold a different string. With the rule, all of them encode
 * the same text to the same UTF-8 bytes, and the state after a reopen equals the state served live.
 * - Writes refuse a string that is not well-formed, before it joins a batch: INVALID_REQUEST naming the
 *   field, or the entity's own code (INVALID_GROUP_ID for a group id, INVALID_TOPIC_EXCEPTION for a
 *   topic name, INVALID_CONFIG for a topic config).
 * - Filters (reader pool scans, history, watch) are checked the same way, with INVALID_REQUEST.
 * - Point reads and batched point reads never refuse a key: a key that no accepted write could have
 *   stored (a string that is not well-formed, too long, or not a string at all) reads as absent
 *   (undefined, null in a batch, an empty list). So `getGroup('x\uDBFF')` is undefined even when a group
 *   `'x\uFFFD'` exists: a lookup never lands on another key's entity.
 */
import { MetaLogError, type ErrorCode } from '../errors.js';
import { GROUP_ID_LENGTH_MAX, TOPIC_NAME_LENGTH_MAX } from '../limits.js';
import { isWellFormed } from '../well-formed.js';

export { isWellFormed };

/** True when `value` is an integer in [min, max]. */
export function isInteger(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** Throws `code` naming `field` unless `value` is an integer in [min, max]. */
export function requireInteger(value: unknown, min: number, max: number, field: string, code: ErrorCode = 'INVALID_REQUEST'): number {
  if (!isInteger(value, min, max)) throw new MetaLogError(code, `${field} must be an integer from ${min} to ${max}`, { field });
  return value;
}

/** Throws `code` naming `field` unless the string `value` is well-formed UTF-16 (see the header). */
export function requireWellFormed(value: string, field: string, code: ErrorCode = 'INVALID_REQUEST'): string {
  if (!isWellFormed(value)) throw new MetaLogError(code, `${field} is not well-formed UTF-16 (it holds a lone surrogate)`, { field });
  return value;
}

/** Throws `code` unless `value` is a well-formed string of `min`..`max` characters. */
export function requireString(value: unknown, min: number, max: number, field: string, code: ErrorCode = 'INVALID_REQUEST'): string {
  if (typeof value !== 'string' || value.length < min || value.length > max) {
    throw new MetaLogError(code, `${field} must be a string of ${min} to ${max} characters`, { field });
  }
  return requireWellFormed(value, field, code);
}

/** A group id: a well-formed string of 1 to GROUP_ID_LENGTH_MAX characters, or INVALID_GROUP_ID. */
export function requireGroupId(groupId: unknown, field = 'groupId'): string {
  return requireString(groupId, 1, GROUP_ID_LENGTH_MAX, field, 'INVALID_GROUP_ID');
}

/**
 * True when every character of `name` is one of [a-zA-Z0-9._-]: a loop, because names are checked on
 * every group member's subscription and a regular expression's call costs more than the short scan.
 */
function hasTopicCharacters(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    const legal = (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || (code >= 0x30 && code <= 0x39) || code === 0x2e || code === 0x5f || code === 0x2d;
    if (!legal) return false;
  }
  return true;
}

/** True when `name` passes Kafka's topic name rule (`checkTopicName` says why one does not). */
export function isLegalTopicName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= TOPIC_NAME_LENGTH_MAX && name !== '.' && name !== '..' && hasTopicCharacters(name);
}

/** Kafka's topic name rule: 1–249 of [a-zA-Z0-9._-], not "." or "..". Throws INVALID_TOPIC_EXCEPTION. */
export function checkTopicName(name: unknown, field = 'name'): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > TOPIC_NAME_LENGTH_MAX) {
    throw new MetaLogError('INVALID_TOPIC_EXCEPTION', `${field} must be 1 to ${TOPIC_NAME_LENGTH_MAX} characters`, { field });
  }
  if (name === '.' || name === '..') {
    throw new MetaLogError('INVALID_TOPIC_EXCEPTION', `${field} cannot be "." or ".."`, { field });
  }
  if (!hasTopicCharacters(name)) {
    throw new MetaLogError('INVALID_TOPIC_EXCEPTION', `${field} ${JSON.stringify(name)} has characters outside [a-zA-Z0-9._-]`, { field });
  }
}

/** Broker ids: non-negative int32. */
export const BROKER_ID_MAX = 2 ** 31 - 1;

/** A list of distinct broker ids, or throws `code` naming `field`. */
export function requireBrokerList(value: unknown, field: string, code: ErrorCode, minLength: number): number[] {
  if (!Array.isArray(value) || value.length < minLength) {
    throw new MetaLogError(code, `${field} must be an array of at least ${minLength} broker ids`, { field });
  }
  const seen = new Set<number>();
  for (const [i, id] of value.entries()) {
    if (!isInteger(id, 0, BROKER_ID_MAX)) throw new MetaLogError(code, `${field}[${i}] must be a broker id (0 to 2^31-1)`, { field });
    if (seen.has(id)) throw new MetaLogError(code, `${field} names broker ${id} twice`, { field });
    seen.add(id);
  }
  return [...value] as number[];
}
