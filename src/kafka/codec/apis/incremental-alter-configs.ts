/**
 * IncrementalAlterConfigs (key 44), v0: changes named keys only.
 *
 *   Request v0: resources [resource_type INT8, resource_name STRING,
 *                          configs [name STRING, config_operation INT8, value NULLABLE_STRING]],
 *               validate_only BOOLEAN
 *   Response v0: as AlterConfigs
 *
 * Operations: 0 set, 1 delete (back to the default), 2 append and 3 subtract (list-valued keys).
 */
import type { ApiCodec } from '../api.js';
import { encodeConfigResourceResults, type AlterConfigsResponse } from './alter-configs.js';

export const CONFIG_OPERATION_SET = 0;
export const CONFIG_OPERATION_DELETE = 1;
export const CONFIG_OPERATION_APPEND = 2;
export const CONFIG_OPERATION_SUBTRACT = 3;

export interface IncrementalAlterConfigsRequest {
  readonly resources: readonly {
    readonly resourceType: number;
    readonly resourceName: string;
    readonly configs: readonly { readonly name: string; readonly operation: number; readonly value: string | null }[];
  }[];
  readonly validateOnly: boolean;
}

export const IncrementalAlterConfigs: ApiCodec<IncrementalAlterConfigsRequest, AlterConfigsResponse> = {
  apiKey: 44,
  name: 'IncrementalAlterConfigs',
  minVersion: 0,
  maxVersion: 0,
  flexibleFromVersion: 1,
  decodeRequest(reader) {
    const resources = reader.array((r) => ({
      resourceType: r.int8(),
      resourceName: r.string(),
      configs: r.array((cr) => ({ name: cr.string(), operation: cr.int8(), value: cr.nullableString() })),
    }));
    return { resources, validateOnly: reader.boolean() };
  },
  encodeResponse(writer, _version, response) {
    encodeConfigResourceResults(writer, response.responses);
  },
};
