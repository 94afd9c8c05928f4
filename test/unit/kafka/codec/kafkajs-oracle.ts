/**
 * kafkajs as the codec's oracle: its per-version request encoders and response decoders are an
 * independent implementation of the same layouts, written against real brokers.
 *
 * How: `kafkajsRequestBody` builds a request with kafkajs and returns the body (the bytes after the
 * request header), which our decoder must read to its last byte. `kafkajsDecodeResponse` feeds our
 * encoded response body to kafkajs's decoder and also reports how far kafkajs read: kafkajs never checks
 * that a response ends where its layout does, so without the probe a field we wrote twice, or one kafkajs
 * does not expect at the end, would pass unseen.
 *
 * kafkajs is CommonJS and ships no types for its protocol modules, so they are loaded with
 * `createRequire` and typed here as narrowly as the tests use them.
 */
import { createRequire } from 'node:module';
import { WireWriter } from '../../../../src/kafka/codec/wire-writer.js';
import type { AnyApiCodec } from '../../../../src/kafka/codec/api.js';

const require = createRequire(import.meta.url);

/** One version of one API as kafkajs builds it. */
interface KafkajsProtocol {
  readonly request: { readonly apiKey: number; readonly apiVersion: number; encode(): Promise<{ readonly buffer: Buffer }> };
  readonly response: { decode(payload: Buffer): Promise<unknown>; parse(decoded: unknown): Promise<unknown> };
}

interface KafkajsRequestModule {
  readonly versions: readonly string[];
  protocol(options: { version: number }): (args: unknown) => KafkajsProtocol;
}

interface KafkajsDecoderClass {
  new (buffer: Buffer): { readonly buffer: Buffer; offset: number };
  readonly prototype: object;
}

/** kafkajs's Long (a long.js build): producer ids and other INT64 request fields. */
export const Long = require('kafkajs/src/utils/long.js') as { fromValue(value: number | string): unknown };

/**
 * The read-extent probe. Every kafkajs Decoder stores its position in `offset`; an accessor on the
 * prototype sees each move and remembers, per buffer, the furthest position reached. The constructor's
 * `this.offset = 0` goes through the setter too, so every decoder is seen from its first byte.
 */
const Decoder = require('kafkajs/src/protocol/decoder.js') as KafkajsDecoderClass;
const positionOf = new WeakMap<object, number>();
const furthestOf = new WeakMap<Buffer, number>();
Object.defineProperty(Decoder.prototype, 'offset', {
  get(this: { buffer: Buffer }): number {
    return positionOf.get(this) ?? 0;
  },
  set(this: { buffer: Buffer }, position: number) {
    positionOf.set(this, position);
    furthestOf.set(this.buffer, Math.max(furthestOf.get(this.buffer) ?? 0, position));
  },
});

/** kafkajs's request module for an API (`metadata`, `offsetCommit`: its directory name). */
export function kafkajsApi(directory: string): KafkajsRequestModule {
  return require(`kafkajs/src/protocol/requests/${directory}/index.js`) as KafkajsRequestModule;
}

/** The versions kafkajs implements for an API. */
export function kafkajsVersions(directory: string): number[] {
  return kafkajsApi(directory).versions.map(Number);
}

/** The request body kafkajs sends for `args` at `version`, with the key and version it puts in the header. */
export async function kafkajsRequestBody(directory: string, version: number, args: unknown): Promise<{ apiKey: number; apiVersion: number; body: Buffer }> {
  const { request } = kafkajsApi(directory).protocol({ version })(args);
  const encoder = await request.encode();
  return { apiKey: request.apiKey, apiVersion: request.apiVersion, body: Buffer.from(encoder.buffer) };
}

/**
 * What kafkajs's decoder makes of a response body, and how many of its bytes it read. `args` are the
 * request's: kafkajs picks the response decoder while it builds the request.
 */
export async function kafkajsDecodeResponse(directory: string, version: number, args: unknown, payload: Buffer): Promise<{ decoded: unknown; bytesRead: number }> {
  const { response } = kafkajsApi(directory).protocol({ version })(args);
  const decoded = await response.decode(payload);
  return { decoded, bytesRead: furthestOf.get(payload) ?? 0 };
}

/** A response body encoded by our codec: `finish()` frames it, and the 4 size bytes are cut off. */
export function encodeResponseBody(codec: AnyApiCodec, version: number, response: unknown): Buffer {
  const writer = new WireWriter();
  codec.encodeResponse(writer, version, response);
  const frame = writer.finish();
  return Buffer.from(frame.subarray(4));
}

/** kafkajs's record batch encoder (magic 2, no compression) and decoder. */
const recordBatchModule = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch(options: unknown): Promise<{ readonly buffer: Buffer }> };
const recordModule = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (options: unknown) => unknown;
const recordBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (decoder: unknown) => Promise<KafkajsRecordBatch>;

export interface KafkajsRecordBatch {
  readonly firstOffset: string;
  readonly producerId: string;
  readonly producerEpoch: number;
  readonly firstSequence: number;
  readonly records: readonly { readonly key: Buffer | null; readonly value: Buffer | null; readonly offset: string; readonly timestamp: string }[];
}

/** A record batch of `values` (keys `k0`, `k1`, …) at fixed timestamps, as kafkajs writes it. */
export async function kafkajsRecordBatch(firstOffset: number, firstTimestampMs: number, values: readonly string[]): Promise<Buffer> {
  const records = values.map((value, index) => recordModule({ offsetDelta: index, timestampDelta: index, key: Buffer.from(`k${index}`), value: Buffer.from(value) }));
  const batch = await recordBatchModule.RecordBatch({
    firstOffset: Long.fromValue(firstOffset),
    firstTimestamp: firstTimestampMs,
    maxTimestamp: firstTimestampMs + values.length - 1,
    lastOffsetDelta: values.length - 1,
    records,
  });
  return Buffer.from(batch.buffer);
}

/** Reads one record batch with kafkajs's decoder. */
export function kafkajsReadRecordBatch(bytes: Buffer): Promise<KafkajsRecordBatch> {
  return recordBatchDecoder(new Decoder(bytes));
}

/**
 * One API checked against kafkajs at every version both serve. `args` are kafkajs's request arguments;
 * `request` is what our decoder must make of kafkajs's bytes; `response` is what we encode, and
 * `decoded` what kafkajs's decoder must read back. The projections replace what deep equality cannot
 * compare directly (record batches, error objects kafkajs attaches) by plain values.
 */
export interface OracleCase {
  readonly codec: AnyApiCodec;
  /** kafkajs's directory name for the API. */
  readonly kafkajs: string;
  /** Tells cases of one API apart. */
  readonly label: string;
  readonly args: (version: number) => unknown;
  readonly request: (version: number) => unknown;
  readonly projectRequest?: (decoded: any) => Promise<unknown>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** Absent for cases that only exercise a request shape. */
  readonly response?: (version: number) => unknown;
  readonly decoded?: (version: number) => unknown;
  readonly projectDecoded?: (decoded: any) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** The versions a case runs at: those kafkajs implements that the codec serves. */
export function sharedVersions(oracleCase: Pick<OracleCase, 'codec' | 'kafkajs'>): number[] {
  return kafkajsVersions(oracleCase.kafkajs)
    .filter((version) => version >= oracleCase.codec.minVersion && version <= oracleCase.codec.maxVersion)
    .sort((a, b) => a - b);
}

/**
 * A throttle time of 0 as kafkajs reports it. From some version of each API on (KIP-219: the broker
 * answers before throttling) kafkajs reports the broker's value as `clientSideThrottleTime` and its
 * own `throttleTime` as 0.
 */
export function throttle(version: number, clientSideFrom: number): Record<string, number> {
  return version >= clientSideFrom ? { throttleTime: 0, clientSideThrottleTime: 0 } : { throttleTime: 0 };
}
