/**
 * Topic configs the store accepts, with Kafka's value rules. Unknown keys are rejected (INVALID_CONFIG,
 * Kafka code 40) rather than stored, so a typo does not silently leave a topic on defaults. The rule
 * table is read with `ruleOf` only: an own key, so `constructor`, `__proto__` or `hasOwnProperty`, which
 * every object inherits, are unknown keys like any other.
 */
import { MetaLogError } from '../errors.js';
import { TOPIC_CONFIG_ENTRIES_MAX, TOPIC_CONFIG_VALUE_LENGTH_MAX } from '../limits.js';
import { isWellFormed } from './input-rules.js';

type ValueRule = (value: string) => string | null;

const LONG_MAX = Number.MAX_SAFE_INTEGER;

function integer(min: number, max = LONG_MAX): ValueRule {
  return (value) => {
    if (!/^-?\d+$/.test(value)) return `must be an integer`;
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) return `must be from ${min} to ${max}`;
    return null;
  };
}

function oneOf(...allowed: string[]): ValueRule {
  return (value) => (allowed.includes(value) ? null : `must be one of ${allowed.join(', ')}`);
}

function listOf(...allowed: string[]): ValueRule {
  return (value) => {
    const parts = value.split(',').map((part) => part.trim());
    return parts.length > 0 && parts.every((part) => allowed.includes(part)) ? null : `must be a comma list of ${allowed.join(', ')}`;
  };
}

function ratio(value: string): string | null {
  const parsed = Number(value);
  return value.trim() !== '' && Number.isFinite(parsed) && parsed >= 0 && parsed <= 1 ? null : 'must be a number from 0 to 1';
}

/** Known topic config keys and the rule for each value (Kafka's TopicConfig semantics). */
export const TOPIC_CONFIG_RULES: Readonly<Record<string, ValueRule>> = Object.freeze({
  'cleanup.policy': listOf('delete', 'compact'),
  'compression.type': oneOf('uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'),
  'delete.retention.ms': integer(0),
  'file.delete.delay.ms': integer(0),
  'flush.messages': integer(1),
  'flush.ms': integer(0),
  'index.interval.bytes': integer(0, 2147483647),
  'max.compaction.lag.ms': integer(1),
  'max.message.bytes': integer(0, 2147483647),
  'message.timestamp.type': oneOf('CreateTime', 'LogAppendTime'),
  'min.cleanable.dirty.ratio': ratio,
  'min.compaction.lag.ms': integer(0),
  'min.insync.replicas': integer(1, 2147483647),
  'preallocate': oneOf('true', 'false'),
  'retention.bytes': integer(-1),
  'retention.ms': integer(-1),
  'segment.bytes': integer(14, 2147483647),
  'segment.index.bytes': integer(4, 2147483647),
  'segment.jitter.ms': integer(0),
  'segment.ms': integer(1),
  'unclean.leader.election.enable': oneOf('true', 'false'),
});

/** The rule of a known topic config key; undefined for any other key, inherited ones included. */
export function ruleOf(key: string): ValueRule | undefined {
  return Object.hasOwn(TOPIC_CONFIG_RULES, key) ? TOPIC_CONFIG_RULES[key] : undefined;
}

/** Checks a topic config map; throws INVALID_CONFIG naming the key. Returns a plain copy. */
export function validateTopicConfigs(configs: unknown): Record<string, string> {
  if (configs === undefined) return {};
  if (typeof configs !== 'object' || configs === null || Array.isArray(configs)) {
    throw new MetaLogError('INVALID_CONFIG', 'configs must be an object of string values', { field: 'configs' });
  }
  const entries = Object.entries(configs as Record<string, unknown>);
  if (entries.length > TOPIC_CONFIG_ENTRIES_MAX) {
    throw new MetaLogError('INVALID_CONFIG', `configs has ${entries.length} entries, at most ${TOPIC_CONFIG_ENTRIES_MAX}`, { field: 'configs' });
  }
  const copy: Record<string, string> = {};
  for (const [key, value] of entries) {
    const rule = ruleOf(key);
    const field = `configs.${key}`;
    if (rule === undefined) throw new MetaLogError('INVALID_CONFIG', `unknown topic config ${JSON.stringify(key)}`, { field });
    if (typeof value !== 'string' || value.length > TOPIC_CONFIG_VALUE_LENGTH_MAX || !isWellFormed(value)) {
      throw new MetaLogError('INVALID_CONFIG', `${field} must be a string of at most ${TOPIC_CONFIG_VALUE_LENGTH_MAX} characters, well-formed UTF-16`, { field });
    }
    const problem = rule(value);
    if (problem !== null) throw new MetaLogError('INVALID_CONFIG', `${field}=${JSON.stringify(value)} ${problem}`, { field });
    copy[key] = value;
  }
  return copy;
}
