/**
 * CreatePartitions (key 37), v0–v1.
 *
 *   Request v0–v1: topics [name STRING, count INT32, assignments NULLABLE ARRAY [broker_ids [INT32]]],
 *                  timeout_ms INT32, validate_only BOOLEAN
 *   Response v0–v1: throttle_time_ms INT32, results [name STRING, error_code INT16, error_message NULLABLE_STRING]
 */
import type { ApiCodec } from '../api.js';

export interface CreatePartitionsRequest {
  readonly topics: readonly { readonly name: string; readonly count: number; readonly assignments: readonly (readonly number[])[] | null }[];
  readonly timeoutMs: number;
  readonly validateOnly: boolean;
}

export interface CreatePartitionsResponse {
  readonly results: readonly { readonly name: string; readonly errorCode: number; readonly errorMessage: string | null }[];
}

export const CreatePartitions: ApiCodec<CreatePartitionsRequest, CreatePartitionsResponse> = {
  apiKey: 37,
  name: 'CreatePartitions',
  minVersion: 0,
  maxVersion: 1,
  flexibleFromVersion: 2,
  decodeRequest(reader) {
    const topics = reader.array((r) => ({
      name: r.string(),
      count: r.int32(),
      assignments: r.nullableArray((ar) => ar.array((br) => br.int32())),
    }));
    const timeoutMs = reader.int32();
    return { topics, timeoutMs, validateOnly: reader.boolean() };
  },
  encodeResponse(writer, _version, response) {
    writer.int32(0);
    writer.array(response.results, (w, result) => w.string(result.name).int16(result.errorCode).nullableString(result.errorMessage));
  },
};
