/**
 * The request header that opens every request, and the response header that opens every response.
 *
 *   Request header v1: request_api_key INT16, request_api_version INT16, correlation_id INT32,
 *                      client_id NULLABLE_STRING
 *   Request header v2: v1 + a tagged-field section (sent with every flexible request version)
 *   Response header v0: correlation_id INT32
 *   Response header v1: v0 + a tagged-field section (flexible responses, except ApiVersions: its
 *                       response header is always v0, so a client that does not know the broker's
 *                       versions can still read it)
 */
import { MalformedRequest, WireReader } from './wire-reader.js';
import type { WireWriter } from './wire-writer.js';

export interface RequestHeader {
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
}

/** API key of ApiVersions, whose response header is always v0. */
export const API_VERSIONS_KEY = 18;

/** Reads the fixed part of the header (key, version, correlation id, client id). */
export function readRequestHeader(reader: WireReader): RequestHeader {
  if (reader.remaining < 8) throw new MalformedRequest(`request of ${reader.remaining} bytes is shorter than a request header`);
  const apiKey = reader.int16();
  const apiVersion = reader.int16();
  const correlationId = reader.int32();
  const clientId = reader.nullableString();
  return { apiKey, apiVersion, correlationId, clientId };
}

/** Writes the response header for a response of `apiKey` at `flexible` (true when the version is flexible). */
export function writeResponseHeader(writer: WireWriter, correlationId: number, apiKey: number, flexible: boolean): void {
  writer.int32(correlationId);
  if (flexible && apiKey !== API_VERSIONS_KEY) writer.noTaggedFields();
}
