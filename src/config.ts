/**
 * Every configuration option, declared once: type, default, range, unit and meaning.
 *
 * `resolveConfig` is the only way a config enters the store: it fills defaults, checks every field and
 * returns a frozen object, or throws INVALID_CONFIG naming the field and the allowed values. Unknown keys
 * are errors (a typo such as `flushIntervalMS` must not silently mean "default").
 */
import { MetaLogError } from './errors.js';
import { BATCH_BYTES_MAX, BATCH_BYTES_MIN, PATH_BYTES_MAX, SEGMENT_BYTES_MAX, SEGMENT_BYTES_MIN } from './limits.js';
import { isWellFormed } from './well-formed.js';

/** When a write is acknowledged. */
export type Durability = 'fsync' | 'interval' | 'none';

/** Where the log is kept: this node's WAL alone, or replicated through etcd (docs/cluster.md). */
export type LogConfig = { kind: 'local' } | EtcdLogConfig;

/** A log replicated through etcd: this node is one of the cluster's nodes. */
export interface EtcdLogConfig {
  kind: 'etcd';
  /** Client URLs of the etcd members (http://host:port). */
  endpoints: readonly string[];
  /** Key prefix of this cluster's log in etcd (one prefix per cluster). */
  prefix: string;
  /** This node's id, unique in the cluster: what a follower names as the controller. */
  nodeId: string;
  /** The controller lease's TTL: how long a dead controller's claim outlives it. */
  leaseTtlMs: number;
  /** Deadline of each etcd call. */
  requestTimeoutMs: number;
  /**
   * Other nodes' store directories (readable here: the same machine, or a shared mount): where a node
   * whose log ends before the oldest batch etcd still holds finds a snapshot to start from.
   */
  bootstrapFrom: readonly string[];
}

/** The options a caller may pass to `MetaLog.open`. */
export interface MetaLogConfigInput {
  dir: string;
  durability?: Durability;
  flushIntervalMs?: number;
  maxBatchBytes?: number;
  segmentBytes?: number;
  readerThreads?: number;
  decodedCacheEntries?: number;
  snapshotEveryEvents?: number;
  snapshotIntervalMs?: number;
  snapshotEveryBytes?: number;
  snapshotRecoveryBudgetMs?: number;
  snapshotsRetained?: number;
  historyRetentionMs?: number;
  historyRetentionBytes?: number;
  offsetsRetentionMs?: number;
  offsetsRetentionCheckIntervalMs?: number;
  slowFsyncWarnMs?: number;
  groupMinSessionTimeoutMs?: number;
  groupMaxSessionTimeoutMs?: number;
  log?: LogConfigInput;
}

/** What a caller may write for `log`: the etcd form's timing fields have defaults. */
export type LogConfigInput = { kind: 'local' } | (Omit<EtcdLogConfig, 'leaseTtlMs' | 'requestTimeoutMs' | 'bootstrapFrom'> & { leaseTtlMs?: number; requestTimeoutMs?: number; bootstrapFrom?: readonly string[] });

/** A resolved, validated, frozen configuration. */
export type MetaLogConfig = Readonly<Required<Omit<MetaLogConfigInput, 'log'>>> & { readonly log: Readonly<LogConfig> };

interface IntegerOption {
  kind: 'integer';
  defaultValue: number;
  min: number;
  max: number;
  unit: string;
  doc: string;
}
interface EnumOption {
  kind: 'enum';
  defaultValue: string;
  values: readonly string[];
  doc: string;
}
interface PathOption {
  kind: 'path';
  doc: string;
}
interface LogOption {
  kind: 'log';
  doc: string;
}
type OptionSpec = IntegerOption | EnumOption | PathOption | LogOption;

/** Defaults and bounds of the etcd log's fields. */
export const ETCD_LEASE_TTL_MS_DEFAULT = 3000;
export const ETCD_REQUEST_TIMEOUT_MS_DEFAULT = 5000;
/**
 * The largest `maxBatchBytes` in etcd mode, and its default there: a batch may exceed it by one record
 * (up to 1 MiB), and etcd refuses a request over 1.5 MiB (its default --max-request-bytes).
 */
export const ETCD_MAX_BATCH_BYTES = 256 * 1024;

/**
 * Default of `decodedCacheEntries`: a decoded topic of 6 partitions holds about 1.5 KB of heap, so at
 * most about 150 MB of topics per reading thread. Smaller saves heap but makes reads that cycle over
 * more values than fit decode again (bench: memory prices 2,000).
 */
export const DECODED_CACHE_ENTRIES_DEFAULT = 100_000;

/** The declaration of every option; README's table and `metalog --help` are checked against it. */
export const CONFIG_OPTIONS: Readonly<Record<keyof MetaLogConfigInput, OptionSpec>> = Object.freeze({
  dir: { kind: 'path', doc: 'Directory of the store (created if missing); holds LOCK and wal/.' },
  durability: {
    kind: 'enum',
    defaultValue: 'fsync',
    values: ['fsync', 'interval', 'none'],
    doc: 'fsync: a write resolves after its batch is fdatasync-ed. interval: resolves after write(); fdatasync at least every flushIntervalMs. none: never fdatasync except at close.',
  },
  flushIntervalMs: {
    kind: 'integer',
    defaultValue: 100,
    min: 1,
    max: 60000,
    unit: 'ms',
    doc: 'With durability "interval": the longest time a written batch waits for fdatasync.',
  },
  maxBatchBytes: {
    kind: 'integer',
    // 2 MiB: the event ring holds two full batches, so this sizes it (8 MiB at 2, 16 at 4), and a ring
    // is resident once a long-running store has cycled through it; batches near this size are rare
    // (256 offset commits in flight make ~12 KB).
    defaultValue: 2 * 1024 * 1024,
    min: BATCH_BYTES_MIN,
    max: BATCH_BYTES_MAX,
    unit: 'bytes',
    doc: 'A group-commit batch closes once its records reach this size (one write() and one fdatasync per batch).',
  },
  segmentBytes: {
    kind: 'integer',
    defaultValue: 64 * 1024 * 1024,
    min: SEGMENT_BYTES_MIN,
    max: SEGMENT_BYTES_MAX,
    unit: 'bytes',
    doc: 'A WAL segment is sealed and a new one started once the next batch would take it past this size.',
  },
  readerThreads: {
    kind: 'integer',
    defaultValue: 2,
    min: 1,
    max: 64,
    unit: 'threads',
    doc: 'Worker threads of the reader pool that serves list, describe and scan queries, at most (started as queries need them; each ends after a minute without queries).',
  },
  decodedCacheEntries: {
    kind: 'integer',
    defaultValue: DECODED_CACHE_ENTRIES_DEFAULT,
    min: 0,
    max: 100_000_000,
    unit: 'entries',
    doc: 'Decoded topics, groups, brokers and transactions a handle (and each reader-pool thread) keeps for reads, at most, of each kind; once full, a miss takes a place one time in 16, evicting one at random, and other misses decode without keeping the value (0: none kept).',
  },
  snapshotEveryEvents: {
    kind: 'integer',
    defaultValue: 100_000,
    min: 0,
    max: 1_000_000_000,
    unit: 'events',
    doc: 'A snapshot is written in the background once this many events were made durable since the last one (0: not by count). Bounds the replay at open to about this many events.',
  },
  snapshotIntervalMs: {
    kind: 'integer',
    defaultValue: 10 * 60 * 1000,
    min: 0,
    max: 7 * 24 * 3600 * 1000,
    unit: 'ms',
    doc: 'A snapshot is also written when this long passed since the last one and there are new events (0: not by time).',
  },
  snapshotEveryBytes: {
    kind: 'integer',
    defaultValue: 256 * 1024 * 1024,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    unit: 'bytes',
    doc: 'Also a snapshot once the WAL grew by this many bytes since the last one (0: not by bytes).',
  },
  snapshotRecoveryBudgetMs: {
    kind: 'integer',
    defaultValue: 0,
    min: 0,
    max: 3600 * 1000,
    unit: 'ms',
    doc: 'Also a snapshot once replaying the events since the last one would take longer than this at open, at the replay rate measured at this open (1M events/s before one is measured; 0: not by budget).',
  },
  snapshotsRetained: {
    kind: 'integer',
    defaultValue: 2,
    min: 1,
    max: 1000,
    unit: 'snapshots',
    doc: 'Snapshots kept; older ones are deleted after each new one. The WAL is never compacted past the oldest one kept.',
  },
  historyRetentionMs: {
    kind: 'integer',
    defaultValue: 7 * 24 * 3600 * 1000,
    min: -1,
    max: Number.MAX_SAFE_INTEGER,
    unit: 'ms',
    doc: 'WAL segments sealed longer ago than this are deleted once the oldest kept snapshot covers them (-1: kept forever unless historyRetentionBytes).',
  },
  historyRetentionBytes: {
    kind: 'integer',
    defaultValue: -1,
    min: -1,
    max: Number.MAX_SAFE_INTEGER,
    unit: 'bytes',
    doc: 'The WAL keeps at most about this many bytes: older segments covered by the oldest kept snapshot are deleted first (-1: no limit).',
  },
  offsetsRetentionMs: {
    kind: 'integer',
    defaultValue: 7 * 24 * 3600 * 1000,
    min: -1,
    max: Number.MAX_SAFE_INTEGER,
    unit: 'ms',
    doc: "Kafka's offsets.retention.minutes: a committed offset of a group without members expires (an OffsetsExpired event) once it was last committed longer ago than this (-1: never).",
  },
  offsetsRetentionCheckIntervalMs: {
    kind: 'integer',
    defaultValue: 10 * 60 * 1000,
    min: 1000,
    max: 7 * 24 * 3600 * 1000,
    unit: 'ms',
    doc: 'How often the opening handle looks for offsets to expire (Kafka: offsets.retention.check.interval.ms).',
  },
  slowFsyncWarnMs: {
    kind: 'integer',
    defaultValue: 500,
    min: 1,
    max: 600000,
    unit: 'ms',
    doc: 'An fdatasync of the WAL that takes longer than this counts in metalog_slow_fsync_total and raises a process warning (METALOG_SLOW_FSYNC).',
  },
  groupMinSessionTimeoutMs: {
    kind: 'integer',
    defaultValue: 6000,
    min: 1,
    max: 2 ** 31 - 1,
    unit: 'ms',
    doc: "Kafka's group.min.session.timeout.ms: upsertGroup refuses a member with a shorter session timeout (INVALID_SESSION_TIMEOUT). At most groupMaxSessionTimeoutMs.",
  },
  log: {
    kind: 'log',
    doc: "Where the log is kept: { kind: 'local' } (default: this directory's WAL) or { kind: 'etcd', endpoints, prefix, nodeId, leaseTtlMs (3000), requestTimeoutMs (5000), bootstrapFrom ([]) }: one log for a cluster, replicated through etcd (docs/cluster.md).",
  },
  groupMaxSessionTimeoutMs: {
    kind: 'integer',
    defaultValue: 1_800_000,
    min: 1,
    max: 2 ** 31 - 1,
    unit: 'ms',
    doc: "Kafka's group.max.session.timeout.ms: upsertGroup refuses a member with a longer session timeout (INVALID_SESSION_TIMEOUT).",
  },
});

function invalid(field: string, rule: string): MetaLogError {
  return new MetaLogError('INVALID_CONFIG', `config.${field}: ${rule}`, { field });
}

/** A string of 1..`max` printable ASCII characters (etcd keys and node ids travel in logs and JSON). */
function printable(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max && /^[\x21-\x7e]+$/.test(value);
}

function resolveLog(value: unknown): LogConfig {
  if (value === undefined) return Object.freeze({ kind: 'local' });
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('log', "must be { kind: 'local' } or { kind: 'etcd', ... }");
  const given = value as Record<string, unknown>;
  const known = given.kind === 'local' ? ['kind'] : given.kind === 'etcd' ? ['kind', 'endpoints', 'prefix', 'nodeId', 'leaseTtlMs', 'requestTimeoutMs', 'bootstrapFrom'] : null;
  if (known === null) throw invalid('log.kind', 'must be "local" or "etcd"');
  for (const key of Object.keys(given)) if (!known.includes(key)) throw invalid(`log.${key}`, `unknown option (known: ${known.join(', ')})`);
  if (given.kind === 'local') return Object.freeze({ kind: 'local' });
  const endpoints = given.endpoints;
  if (!Array.isArray(endpoints) || endpoints.length === 0 || endpoints.length > 16) throw invalid('log.endpoints', 'must be 1 to 16 etcd client URLs');
  for (const endpoint of endpoints) {
    let url: URL | null = null;
    try {
      url = typeof endpoint === 'string' ? new URL(endpoint) : null;
    } catch {
      url = null;
    }
    if (url === null || url.protocol !== 'http:' || url.pathname !== '/' || url.search !== '' || url.username !== '') {
      throw invalid('log.endpoints', `${JSON.stringify(endpoint)} is not an http://host:port URL`);
    }
  }
  if (!printable(given.prefix, 256) || given.prefix.endsWith('/')) throw invalid('log.prefix', 'must be 1 to 256 printable ASCII characters, not ending in "/"');
  if (!printable(given.nodeId, 128)) throw invalid('log.nodeId', 'must be 1 to 128 printable ASCII characters');
  const leaseTtlMs = given.leaseTtlMs ?? ETCD_LEASE_TTL_MS_DEFAULT;
  if (typeof leaseTtlMs !== 'number' || !Number.isInteger(leaseTtlMs) || leaseTtlMs < 2000 || leaseTtlMs > 60_000 || leaseTtlMs % 1000 !== 0) {
    throw invalid('log.leaseTtlMs', 'must be whole seconds from 2000 to 60000 (ms): etcd leases count seconds');
  }
  const requestTimeoutMs = given.requestTimeoutMs ?? ETCD_REQUEST_TIMEOUT_MS_DEFAULT;
  if (typeof requestTimeoutMs !== 'number' || !Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 100 || requestTimeoutMs > 60_000) {
    throw invalid('log.requestTimeoutMs', 'must be an integer from 100 to 60000 (ms)');
  }
  const bootstrapFrom = given.bootstrapFrom ?? [];
  if (!Array.isArray(bootstrapFrom) || bootstrapFrom.length > 64) throw invalid('log.bootstrapFrom', 'must be a list of at most 64 store directories');
  for (const source of bootstrapFrom) {
    if (typeof source !== 'string' || source.length === 0 || source.includes('\u0000') || !isWellFormed(source) || Buffer.byteLength(source, 'utf8') > PATH_BYTES_MAX) {
      throw invalid('log.bootstrapFrom', `${JSON.stringify(source)} is not a path of at most ${PATH_BYTES_MAX} bytes, well-formed, without NUL`);
    }
  }
  return Object.freeze({
    kind: 'etcd',
    endpoints: Object.freeze([...(endpoints as string[])]),
    prefix: given.prefix,
    nodeId: given.nodeId,
    leaseTtlMs,
    requestTimeoutMs,
    bootstrapFrom: Object.freeze([...(bootstrapFrom as string[])]),
  });
}

function resolveOption(field: string, spec: OptionSpec, value: unknown): unknown {
  if (spec.kind === 'log') return resolveLog(value);
  if (spec.kind === 'path') {
    if (typeof value !== 'string' || value.length === 0) throw invalid(field, 'must be a non-empty string path');
    // What the file system cannot take: a NUL, a lone surrogate (no UTF-8 form), more than PATH_MAX bytes.
    if (value.includes('\u0000') || !isWellFormed(value) || Buffer.byteLength(value, 'utf8') > PATH_BYTES_MAX) {
      throw invalid(field, `must be a path of at most ${PATH_BYTES_MAX} bytes, well-formed, without NUL`);
    }
    return value;
  }
  if (value === undefined) return spec.defaultValue;
  if (spec.kind === 'enum') {
    if (typeof value !== 'string' || !spec.values.includes(value)) {
      throw invalid(field, `must be one of ${spec.values.map((v) => JSON.stringify(v)).join(', ')}`);
    }
    return value;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < spec.min || value > spec.max) {
    throw invalid(field, `must be an integer from ${spec.min} to ${spec.max} (${spec.unit})`);
  }
  return value;
}

/** Validates `input`, fills defaults, and returns a frozen config; throws INVALID_CONFIG naming the field. */
export function resolveConfig(input: unknown): MetaLogConfig {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new MetaLogError('INVALID_CONFIG', 'config must be an object', { field: '' });
  }
  const given = input as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(key in CONFIG_OPTIONS)) throw invalid(key, `unknown option (known: ${Object.keys(CONFIG_OPTIONS).join(', ')})`);
  }
  const resolved: Record<string, unknown> = {};
  for (const [field, spec] of Object.entries(CONFIG_OPTIONS)) {
    resolved[field] = resolveOption(field, spec, given[field]);
  }
  // Relations between options.
  if ((resolved.log as LogConfig).kind === 'etcd') {
    // A write is acknowledged once etcd holds it on a quorum's disks; the local WAL is a copy that a
    // restarted node fetches again from etcd, so by default it is fdatasync-ed every flushIntervalMs,
    // not per batch ('fsync', if asked for, syncs it per batch too).
    if (given.durability === undefined) resolved.durability = 'interval';
    if (given.maxBatchBytes === undefined) resolved.maxBatchBytes = ETCD_MAX_BATCH_BYTES;
    else if ((resolved.maxBatchBytes as number) > ETCD_MAX_BATCH_BYTES) throw invalid('maxBatchBytes', `must be at most ${ETCD_MAX_BATCH_BYTES} with an etcd log (a batch is one etcd request of at most 1.5 MiB)`);
  }
  if ((resolved.groupMinSessionTimeoutMs as number) > (resolved.groupMaxSessionTimeoutMs as number)) {
    throw invalid('groupMinSessionTimeoutMs', `must be at most groupMaxSessionTimeoutMs (${resolved.groupMaxSessionTimeoutMs as number})`);
  }
  return Object.freeze(resolved) as MetaLogConfig;
}
