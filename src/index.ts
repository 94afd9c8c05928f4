/**
 * chronik-metalog: an embedded, event-sourced metadata store for Kafka-compatible brokers.
 */
export { MetaLog } from './api/metalog.js';
export type { StoreHandle } from './api/metalog.js';
export type { ReaderPool, GroupFilter, OffsetKey, TopicFilter } from './api/reader-pool.js';
export type { ListedOffset } from './store-index/store-index.js';
export type { EntityRef, HistoryFilter } from './history/history.js';
export type { StateAt, StatePoint } from './history/state-at.js';
export type { WatchOptions, WatchEvent, SnapshotMarker } from './api/watcher.js';
export type { StateDiff, EntityChanges } from './history/diff.js';
export type { BackupReport, RestorePoint, RestoreReport } from './backup/backup.js';
export type { SnapshotResult } from './snapshot/snapshotter.js';
export type { SnapshotStatus } from './snapshot/snapshot-scheduler.js';
export { resolveConfig, CONFIG_OPTIONS } from './config.js';
export type { Durability, MetaLogConfig, MetaLogConfigInput } from './config.js';
export { MetaLogError, ERROR_CODES, hasCode } from './errors.js';
export type { ErrorCode, ErrorDetails, SerializedError } from './errors.js';
export type {
  ChangePartitionInput,
  CommitMembership,
  CreateTopicInput,
  GroupInput,
  GroupMemberInput,
  OffsetCommitInput,
  PartitionResult,
  ProducerIdentity,
  RegisterBrokerInput,
  TopicConfigChanges,
} from './commands/commands.js';
export { describeTopicConfigs, TOPIC_CONFIG_DEFAULTS } from './commands/topic-configs.js';
export type { ConfigEntry } from './commands/topic-configs.js';
export type { Broker, CommittedOffset, Group, Topic, Transaction } from './state/entities.js';
export type {
  BrokerStatus,
  EventType,
  GroupMember,
  GroupState,
  LogEvent,
  PartitionState,
  SegmentInfo,
  TransactionState,
  Watermarks,
} from './codec/event-schema.js';
export type { RecoveryReport, SkippedSnapshot } from './recovery-report.js';
export type { RepairReport } from './wal/repair.js';
export type { WalDamage } from './wal/recovery.js';
export { CRC32C_PATH, crc32c } from './crc32c.js';
export { serveMetrics } from './api/serve-metrics.js';
export type { ServeMetricsOptions } from './api/serve-metrics.js';
export { SLOW_FSYNC_WARNING_CODE } from './metrics/slow-fsync-warning.js';
