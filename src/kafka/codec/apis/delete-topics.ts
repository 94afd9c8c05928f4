/**
 * DeleteTopics (key 20), v0–v3.
 *
 *   Request v0–v3: topic_names [STRING], timeout_ms INT32
 *   Response v0: responses [name STRING, error_code INT16]
 *   Response v1–v3: throttle_time_ms INT32 first
 */
import type { ApiCodec } from '../api.js';

export interface DeleteTopicsRequest {
  readonly topicNames: readonly string[];
  readonly timeoutMs: number;
}

export interface DeleteTopicsResponse {
  readonly responses: readonly { readonly name: string; readonly errorCode: number }[];
}

export const DeleteTopics: ApiCodec<DeleteTopicsRequest, DeleteTopicsResponse> = {
  apiKey: 20,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 3,
  flexibleFromVersion: 4,
  decodeRequest(reader) {
    const topicNames = reader.array((r) => r.string());
    return { topicNames, timeoutMs: reader.int32() };
  },
  encodeResponse(writer, version, response) {
    if (version >= 1) writer.int32(0);
    writer.array(response.responses, (w, result) => w.string(result.name).int16(result.errorCode));
  },
};
