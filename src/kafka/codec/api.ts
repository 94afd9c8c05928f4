/**
 * What every API module of the codec provides: its key, the versions this broker serves, the first
 * flexible version, and the request decoder and response encoder for each served version.
 */
import type { WireReader } from './wire-reader.js';
import type { WireWriter } from './wire-writer.js';

export interface ApiCodec<Request, Response> {
  readonly apiKey: number;
  /** Kafka's name of the API. */
  readonly name: string;
  readonly minVersion: number;
  readonly maxVersion: number;
  /**
   * The first version that is flexible (compact strings and arrays, tagged fields, request header v2 and
   * response header v1). Above `maxVersion` when no served version is flexible.
   */
  readonly flexibleFromVersion: number;
  /**
   * Reads a request body (the bytes after the request header) to its end, including, in flexible
   * versions, the tagged-field section that closes the body. The header's own tagged fields are the
   * caller's.
   */
  decodeRequest(reader: WireReader, version: number): Request;
  /** Writes a response body (after the response header), with its closing tagged fields when flexible. */
  encodeResponse(writer: WireWriter, version: number, response: Response): void;
}

/** A codec of any API (the registry's element type). */
export type AnyApiCodec = ApiCodec<any, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
