/**
 * Encodes and decodes event payloads with avsc.
 *
 * `EventCodec.current()` encodes with this version's writer schema. `EventCodec.forWriterSchema(json)`
 * decodes records written under another (older) writer schema found in a segment header: each branch of
 * the writer union is resolved to the reader record of the same name. Both directions work on caller
 * buffers and positions so the hot path allocates nothing but the decoded values.
 */
import type * as avsc from 'avsc';
import { avro } from './avro.js';
import { MetaLogError } from '../errors.js';
import { EVENT_UNION_SCHEMA, type EventBody, type EventType } from './event-schema.js';
import { checkOffsetsCommitted, decodeGroupUpserted, decodeOffsetsCommitted } from './hot-decoders.js';

interface Branch {
  type: EventType;
  reader: avsc.Type;
  resolver: avsc.Resolver | null;
}

/** This version's event union and its records by full name. */
interface ReaderTypes {
  union: avsc.types.WrappedUnionType;
  byName: Map<string, avsc.Type>;
}

let readerTypesBuilt: ReaderTypes | undefined;

/**
 * Built at the first codec, not when the module loads: a thread that imports the codec need not pay
 * for the types before it reads or writes an event (an open's first read needs none).
 */
function readerTypes(): ReaderTypes {
  if (readerTypesBuilt === undefined) {
    const union = avro.Type.forSchema(EVENT_UNION_SCHEMA as avsc.Schema, { wrapUnions: 'auto' }) as avsc.types.WrappedUnionType;
    readerTypesBuilt = { union, byName: new Map(union.types.map((type) => [type.name as string, type])) };
  }
  return readerTypesBuilt;
}

function shortName(fullName: string): string {
  return fullName.slice(fullName.lastIndexOf('.') + 1);
}

/** A codec bound to one writer schema. */
export class EventCodec {
  /** The writer schema as stored in segment headers. */
  readonly writerSchemaJson: string;
  /** MD5 fingerprint of the writer schema's Avro canonical form (16 bytes). */
  readonly fingerprint: Buffer;
  private readonly branches: Branch[];
  private readonly indexByType: Map<EventType, number>;

  private constructor(writerSchemaJson: string) {
    const reader = readerTypes();
    let writerUnion: avsc.types.WrappedUnionType;
    try {
      // This version's own schema is the reader union already built: building it again costs an open
      // about as much as the replay of a small log.
      writerUnion = writerSchemaJson === CURRENT_JSON
        ? reader.union
        : avro.Type.forSchema(JSON.parse(writerSchemaJson), { wrapUnions: 'auto' }) as avsc.types.WrappedUnionType;
    } catch (error) {
      throw new MetaLogError('UNSUPPORTED_FORMAT', `writer schema does not parse: ${(error as Error).message}`, {}, error);
    }
    if (!Array.isArray(writerUnion.types)) {
      throw new MetaLogError('UNSUPPORTED_FORMAT', 'writer schema is not a union of event records', {});
    }
    this.writerSchemaJson = writerSchemaJson;
    // avsc fingerprints the Parsing Canonical Form, so formatting and docs do not change it.
    this.fingerprint = writerUnion.fingerprint('md5');
    this.branches = writerUnion.types.map((writer) => {
      const name = writer.name as string;
      const readerType = reader.byName.get(name);
      if (readerType === undefined) {
        throw new MetaLogError('UNSUPPORTED_FORMAT', `event type ${name} is unknown to this version`, { entity: name });
      }
      const resolver = writer === readerType || writerSchemaJson === CURRENT_JSON ? null : readerType.createResolver(writer);
      return { type: shortName(name) as EventType, reader: readerType, resolver };
    });
    this.indexByType = new Map(this.branches.map((branch, index) => [branch.type, index]));
  }

  private static currentCodec: EventCodec | undefined;

  /** The codec of this version's writer schema. */
  static current(): EventCodec {
    EventCodec.currentCodec ??= new EventCodec(CURRENT_JSON);
    return EventCodec.currentCodec;
  }

  /** A codec that decodes records written under `writerSchemaJson` into this version's event shapes. */
  static forWriterSchema(writerSchemaJson: string): EventCodec {
    return writerSchemaJson === CURRENT_JSON ? EventCodec.current() : new EventCodec(writerSchemaJson);
  }

  /** The union branch index that `type` has in this codec's writer schema. */
  typeIndex(type: EventType): number {
    const index = this.indexByType.get(type);
    if (index === undefined) throw new MetaLogError('INTERNAL_ERROR', `event type ${type} missing from writer schema`);
    return index;
  }

  /**
   * Encodes `body.value` at `position`; returns the end position, or -1 if it does not fit before
   * `buffer.length` (the caller decides whether that means "grow" or "too large").
   */
  encode(body: EventBody, buffer: Buffer, position: number): number {
    const branch = this.branches[this.typeIndex(body.type)];
    const end = branch.reader.encode(body.value, buffer, position);
    return end < 0 ? -1 : end;
  }

  /** The event types of the writer schema's branches, in branch order. */
  branchTypes(): EventType[] {
    return this.branches.map((branch) => branch.type);
  }

  /**
   * Throws CORRUPT_WAL unless `buffer[start, end)` decodes as branch `typeIndex`, without keeping the
   * value: a fast walk for offset commits under this version's schema, a full decode otherwise.
   */
  check(typeIndex: number, buffer: Buffer, start: number, end: number): void {
    const branch = this.branches[typeIndex];
    if (branch !== undefined && branch.resolver === null && branch.type === 'OffsetsCommitted') {
      try {
        checkOffsetsCommitted(buffer, start, end);
      } catch (error) {
        throw new MetaLogError('CORRUPT_WAL', `OffsetsCommitted payload: ${(error as Error).message}`, {}, error);
      }
      return;
    }
    this.decode(typeIndex, buffer, start, end);
  }

  /** Decodes the payload `buffer[start, end)` of a record of union branch `typeIndex`. */
  decode(typeIndex: number, buffer: Buffer, start: number, end: number): EventBody {
    const branch = this.branches[typeIndex];
    if (branch === undefined) {
      throw new MetaLogError('CORRUPT_WAL', `event type index ${typeIndex} is not in the segment's schema`, {});
    }
    if (branch.resolver === null && branch.type === 'OffsetsCommitted') {
      try {
        return { type: 'OffsetsCommitted', value: decodeOffsetsCommitted(buffer, start, end) };
      } catch (error) {
        throw new MetaLogError('CORRUPT_WAL', `OffsetsCommitted payload: ${(error as Error).message}`, {}, error);
      }
    }
    if (branch.resolver === null && branch.type === 'GroupUpserted') {
      try {
        return { type: 'GroupUpserted', value: decodeGroupUpserted(buffer, start, end) };
      } catch (error) {
        throw new MetaLogError('CORRUPT_WAL', `GroupUpserted payload: ${(error as Error).message}`, {}, error);
      }
    }
    // No subarray to bound the read: a payload that runs past `end` is caught by the offset check below
    // (and avsc stops at the buffer's end).
    const decoded = branch.reader.decode(buffer, start, branch.resolver ?? undefined);
    if (decoded.offset !== end) {
      throw new MetaLogError('CORRUPT_WAL', `event payload of ${end - start} bytes decoded to ${decoded.offset - start}`, {});
    }
    return { type: branch.type, value: decoded.value } as EventBody;
  }
}

const CURRENT_JSON = JSON.stringify(EVENT_UNION_SCHEMA);
