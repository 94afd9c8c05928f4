/**
 * ApiVersions (key 18), v0–v3: the versions of every API this broker serves.
 *
 *   Request v0–v2: (empty)
 *   Request v3 (flexible): client_software_name COMPACT_STRING, client_software_version COMPACT_STRING, tags
 *   Response v0: error_code INT16, api_keys [api_key INT16, min_version INT16, max_version INT16]
 *   Response v1–v2: v0 + throttle_time_ms INT32
 *   Response v3 (flexible): error_code INT16, api_keys COMPACT_ARRAY [api_key, min_version, max_version, tags],
 *                           throttle_time_ms INT32, tags
 *
 * A client that asks for a version above v3 gets a v0 response with UNSUPPORTED_VERSION and the table,
 * as Kafka answers, so it can retry with a version it finds there.
 */
import type { ApiCodec } from '../api.js';

export interface ApiVersionsRequest {
  readonly clientSoftwareName: string | null;
  readonly clientSoftwareVersion: string | null;
}

export interface ApiVersionRange {
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
}

export interface ApiVersionsResponse {
  readonly errorCode: number;
  readonly apiKeys: readonly ApiVersionRange[];
}

export const ApiVersions: ApiCodec<ApiVersionsRequest, ApiVersionsResponse> = {
  apiKey: 18,
  name: 'ApiVersions',
  minVersion: 0,
  maxVersion: 3,
  flexibleFromVersion: 3,
  decodeRequest(reader, version) {
    if (version < 3) return { clientSoftwareName: null, clientSoftwareVersion: null };
    const clientSoftwareName = reader.compactString();
    const clientSoftwareVersion = reader.compactString();
    reader.skipTaggedFields();
    return { clientSoftwareName, clientSoftwareVersion };
  },
  encodeResponse(writer, version, response) {
    writer.int16(response.errorCode);
    if (version >= 3) {
      writer.compactArray(response.apiKeys, (w, range) => w.int16(range.apiKey).int16(range.minVersion).int16(range.maxVersion).noTaggedFields());
      writer.int32(0).noTaggedFields();
      return;
    }
    writer.array(response.apiKeys, (w, range) => w.int16(range.apiKey).int16(range.minVersion).int16(range.maxVersion));
    if (version >= 1) writer.int32(0);
  },
};
