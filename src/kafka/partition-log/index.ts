/**
 * The partition log of the broker: record batches checked and stored in segment files, read back by
 * offset and timestamp, made durable by group commit. The broker imports from here only.
 */
export { walkBatches, rewriteBatchOffsets, readBatchHeader, lastOffsetOf, isControl, isTransactional, BatchField, CURRENT_MAGIC } from './record-batch.js';
export type { RecordBatchHeader } from './record-batch.js';
export { NodeLogStorage } from './log-storage.js';
export type { LogFile, LogStorage } from './log-storage.js';
export { PartitionLog } from './partition-log.js';
export type { AppendResult, ReadResult, LogStartResult, TimestampOffset, PartitionLogOptions } from './partition-log.js';
export { resolvePartitionLogConfig } from './partition-log-config.js';
export type { PartitionLogConfig } from './partition-log-config.js';
export type { SegmentInfo } from './segment.js';
export { ProducerStateTable } from './producer-state.js';
export type { ProducerEntry, ProducerBatch } from './producer-state.js';
export { LogFlusher } from './log-flusher.js';
export type { FlushMode, LogFlusherOptions } from './log-flusher.js';
export { LogManager } from './log-manager.js';
export type { LogManagerOptions } from './log-manager.js';
