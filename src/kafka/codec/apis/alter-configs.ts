/**
 * AlterConfigs (key 33), v0–v1: replaces a resource's whole config with the one given.
 *
 *   Request v0–v1: resources [resource_type INT8, resource_name STRING,
 *                             configs [name STRING, value NULLABLE_STRING]], validate_only BOOLEAN
 *   Response v0–v1: throttle_time_ms INT32, responses [error_code INT16, error_message NULLABLE_STRING,
 *                   resource_type INT8, resource_name STRING]
 */
import type { ApiCodec } from '../api.js';
import type { WireWriter } from '../wire-writer.js';

export interface ConfigResourceResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly resourceType: number;
  readonly resourceName: string;
}

export interface AlterConfigsRequest {
  readonly resources: readonly {
    readonly resourceType: number;
    readonly resourceName: string;
    readonly configs: readonly { readonly name: string; readonly value: string | null }[];
  }[];
  readonly validateOnly: boolean;
}

export interface AlterConfigsResponse {
  readonly responses: readonly ConfigResourceResult[];
}

/** Writes the response shape that AlterConfigs and IncrementalAlterConfigs share. */
export function encodeConfigResourceResults(writer: WireWriter, responses: readonly ConfigResourceResult[]): void {
  writer.int32(0);
  writer.array(responses, (w, result) => w.int16(result.errorCode).nullableString(result.errorMessage).int8(result.resourceType).string(result.resourceName));
}

export const AlterConfigs: ApiCodec<AlterConfigsRequest, AlterConfigsResponse> = {
  apiKey: 33,
  name: 'AlterConfigs',
  minVersion: 0,
  maxVersion: 1,
  flexibleFromVersion: 2,
  decodeRequest(reader) {
    const resources = reader.array((r) => ({
      resourceType: r.int8(),
      resourceName: r.string(),
      configs: r.array((cr) => ({ name: cr.string(), value: cr.nullableString() })),
    }));
    return { resources, validateOnly: reader.boolean() };
  },
  encodeResponse(writer, _version, response) {
    encodeConfigResourceResults(writer, response.responses);
  },
};
