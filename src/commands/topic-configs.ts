/**
 * Topic configs the store accepts, with Kafka's value rules. Unknown keys are rejected (INVALID_CONFIG,
 * Kafka code 40) rather than stored, so a typo does not silently leave a topic on defaults. The rule
 * table is read with `ruleOf` only: an own key, so `constructor`, `__proto__` or `hasOwnProperty`, which
 * every object inherits, are unknown keys like any other.
 */
import { assert } from '../assert.js';
import { MetaLogError } from '../errors.js';
import { TOPIC_CONFIG_ENTRIES_MAX, TOPIC_CONFIG_VALUE_LENGTH_MAX } from '../limits.js';
import { isWellFormed } from './input-rules.js';

type ValueRule = (value: string) => string | null;

/** Kafka's long: a signed 64-bit integer. Its bounds are BigInts, as most longs are past 2^53. */
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
/** Kafka's int. */
const INT_MAX = 2147483647n;

/**
 * An integer config value: a decimal string (an optional minus, digits) within [min, max]. Compared as
 * a BigInt, so Kafka's defaults such as flush.ms 9223372036854775807 (Long.MAX_VALUE) round-trip exactly.
 */
function integer(min: bigint, max: bigint): ValueRule {
  return (value) => {
    if (!/^-?\d+$/.test(value)) return 'must be a decimal integer';
    const parsed = BigInt(value);
    if (parsed < min || parsed > max) return `must be from ${min} to ${max}`;
    return null;
  };
}

/** A Kafka long config at least `min`. */
function long(min: bigint): ValueRule {
  return integer(min < LONG_MIN ? LONG_MIN : min, LONG_MAX);
}

/** A Kafka int config from `min`. */
function int(min: bigint): ValueRule {
  return integer(min, INT_MAX);
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

/** Known topic config keys and the rule for each value (Kafka's TopicConfig semantics and types). */
export const TOPIC_CONFIG_RULES: Readonly<Record<string, ValueRule>> = Object.freeze({
  'cleanup.policy': listOf('delete', 'compact'),
  'compression.type': oneOf('uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'),
  'delete.retention.ms': long(0n),
  'file.delete.delay.ms': long(0n),
  'flush.messages': long(1n),
  'flush.ms': long(0n),
  'index.interval.bytes': int(0n),
  'max.compaction.lag.ms': long(1n),
  'max.message.bytes': int(0n),
  'message.timestamp.type': oneOf('CreateTime', 'LogAppendTime'),
  'min.cleanable.dirty.ratio': ratio,
  'min.compaction.lag.ms': long(0n),
  'min.insync.replicas': int(1n),
  'preallocate': oneOf('true', 'false'),
  'retention.bytes': long(-1n),
  'retention.ms': long(-1n),
  'segment.bytes': int(14n),
  'segment.index.bytes': int(4n),
  'segment.jitter.ms': long(0n),
  'segment.ms': long(1n),
  'unclean.leader.election.enable': oneOf('true', 'false'),
});

/**
 * Kafka's default of every topic config key the store knows (Kafka 3.x, the topic-level configs of its
 * documentation): what a topic that does not set a key behaves as. Long.MAX_VALUE is written out.
 */
export const TOPIC_CONFIG_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({
  'cleanup.policy': 'delete',
  'compression.type': 'producer',
  'delete.retention.ms': '86400000',
  'file.delete.delay.ms': '60000',
  'flush.messages': '9223372036854775807',
  'flush.ms': '9223372036854775807',
  'index.interval.bytes': '4096',
  'max.compaction.lag.ms': '9223372036854775807',
  'max.message.bytes': '1048588',
  'message.timestamp.type': 'CreateTime',
  'min.cleanable.dirty.ratio': '0.5',
  'min.compaction.lag.ms': '0',
  'min.insync.replicas': '1',
  'preallocate': 'false',
  'retention.bytes': '-1',
  'retention.ms': '604800000',
  'segment.bytes': '1073741824',
  'segment.index.bytes': '10485760',
  'segment.jitter.ms': '0',
  'segment.ms': '604800000',
  'unclean.leader.election.enable': 'false',
});

// Every known key has a default, and every default passes its own rule.
assert(Object.keys(TOPIC_CONFIG_DEFAULTS).sort().join() === Object.keys(TOPIC_CONFIG_RULES).sort().join(), 'every topic config key has a default');
for (const [key, value] of Object.entries(TOPIC_CONFIG_DEFAULTS)) assert(TOPIC_CONFIG_RULES[key](value) === null, `the default of ${key} is valid`);

/** One topic config as Kafka's DescribeConfigs lists it. */
export interface ConfigEntry {
  readonly name: string;
  /** The topic's own value, else Kafka's default. */
  readonly value: string | null;
  /** True when the topic does not set the key (the value is Kafka's default). */
  readonly isDefault: boolean;
  readonly readOnly: boolean;
  readonly sensitive: boolean;
}

/**
 * Every topic config key the store knows, sorted by name, with the topic's own value from `configs`
 * (a topic's `configs`) or Kafka's default: what a broker answers DescribeConfigs with. None of the
 * keys is read-only or sensitive. Keys of `configs` the store does not know are left out.
 */
export function describeTopicConfigs(configs: Readonly<Record<string, string>>): ConfigEntry[] {
  if (typeof configs !== 'object' || configs === null || Array.isArray(configs)) {
    throw new MetaLogError('INVALID_REQUEST', 'describeTopicConfigs takes a topic\'s configs object', { field: 'configs' });
  }
  return Object.keys(TOPIC_CONFIG_DEFAULTS).sort().map((name) => {
    const own = Object.hasOwn(configs, name) ? configs[name] : undefined;
    const isDefault = typeof own !== 'string';
    return Object.freeze({ name, value: isDefault ? TOPIC_CONFIG_DEFAULTS[name] : own, isDefault, readOnly: false, sensitive: false });
  });
}

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
