/**
 * Writes logs for recovery tests without a writer thread: events are encoded and appended through the
 * same codec, framing and appender the writer uses, into any Storage (usually MemoryStorage).
 */
import { EventCodec } from '../../src/codec/event-codec.js';
import { SYSTEM_CLOCK } from '../../src/clock.js';
import { EVENT_SCHEMA_VERSION, type EventBody } from '../../src/codec/event-schema.js';
import { RECORD_HEADER_BYTES, sealRecord } from '../../src/wal/format.js';
import type { Storage } from '../../src/wal/storage.js';
import { WalAppender } from '../../src/wal/wal-appender.js';

export const WAL_DIR = '/store/wal';

/** Where each record landed: file name and byte range. */
export interface PlacedRecord {
  file: string;
  position: number;
  end: number;
  offset: number;
}

/** A topic event for tests. */
export function topicEvent(name: string, partitions = 3): EventBody {
  return {
    type: 'TopicCreated',
    value: {
      topicId: `00000000-0000-4000-8000-${String(name.length).padStart(12, '0')}`,
      name,
      replicationFactor: 1,
      partitions: Array.from({ length: partitions }, (_, partition) => ({
        partition, leader: -1, replicas: [], isr: [], leaderEpoch: 0, partitionEpoch: 0,
      })),
      configs: {},
    },
  };
}

/** An offset commit event for tests. */
export function commitEvent(groupId: string, topic: string, partition: number, offset: number): EventBody {
  return { type: 'OffsetsCommitted', value: { groupId, entries: [{ topic, partition, offset, leaderEpoch: -1, metadata: '' }] } };
}

/**
 * Starts a log at `firstOffset` and appends `events`, one record per batch (so small segmentBytes rotate
 * often); returns where each record went.
 */
export function appendEvents(storage: Storage, events: EventBody[], options: { segmentBytes?: number; codec?: EventCodec; firstOffset?: number } = {}): PlacedRecord[] {
  const codec = options.codec ?? EventCodec.current();
  const appender = new WalAppender(storage, WAL_DIR, codec, options.segmentBytes ?? 64 * 1024 * 1024, [], options.firstOffset ?? 0, SYSTEM_CLOCK);
  const placed: PlacedRecord[] = [];
  const buffer = Buffer.alloc(64 * 1024);
  for (const event of events) {
    const offset = appender.nextOffset;
    const payloadEnd = codec.encode(event, buffer, RECORD_HEADER_BYTES);
    const end = sealRecord(buffer, 0, payloadEnd, offset, 1_700_000_000_000 + offset, codec.typeIndex(event.type), EVENT_SCHEMA_VERSION);
    appender.append(buffer, 0, end, 1);
    const file = appender.segmentNames.at(-1) as string;
    placed.push({ file, position: appender.openSegmentBytes - end, end: appender.openSegmentBytes, offset });
  }
  appender.close();
  return placed;
}
