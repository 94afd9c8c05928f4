/**
 * Small shared rules for checking command input on the caller's thread: integers in a range, Kafka's
 * topic names, broker id lists. Each throws the Kafka error the condition calls for, naming the field.
 */
import { MetaLogError, type ErrorCode } from '../errors.js';
import { TOPIC_NAME_LENGTH_MAX } from '../limits.js';

const LEGAL_TOPIC_NAME = /^[a-zA-Z0-9._-]+$/;

/** True when `value` is an integer in [min, max]. */
export function isInteger(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** Throws `code` naming `field` unless `value` is an integer in [min, max]. */
export function requireInteger(value: unknown, min: number, max: number, field: string, code: ErrorCode = 'INVALID_REQUEST'): number {
  if (!isInteger(value, min, max)) throw new MetaLogError(code, `${field} must be an integer from ${min} to ${max}`, { field });
  return value;
}

/** Throws INVALID_REQUEST unless `value` is a string of `min`..`max` characters. */
export function requireString(value: unknown, min: number, max: number, field: string): string {
  if (typeof value !== 'string' || value.length < min || value.length > max) {
    throw new MetaLogError('INVALID_REQUEST', `${field} must be a string of ${min} to ${max} characters`, { field });
  }
  return value;
}

/** Kafka's topic name rule: 1–249 of [a-zA-Z0-9._-], not "." or "..". Throws INVALID_TOPIC_EXCEPTION. */
export function checkTopicName(name: unknown, field = 'name'): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > TOPIC_NAME_LENGTH_MAX) {
    throw new MetaLogError('INVALID_TOPIC_EXCEPTION', `${field} must be 1 to ${TOPIC_NAME_LENGTH_MAX} characters`, { field });
  }
  if (name === '.' || name === '..') {
    throw new MetaLogError('INVALID_TOPIC_EXCEPTION', `${field} cannot be "." or ".."`, { field });
  }
  if (!LEGAL_TOPIC_NAME.test(name)) {
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
