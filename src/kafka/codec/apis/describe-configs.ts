/**
 * DescribeConfigs (key 32), v0–v2.
 *
 *   Request v0: resources [resource_type INT8, resource_name STRING, configuration_keys NULLABLE ARRAY [STRING]]
 *   Request v1–v2: include_synonyms BOOLEAN at the end
 *   Response v0: throttle_time_ms INT32, results [error_code INT16, error_message NULLABLE_STRING,
 *                resource_type INT8, resource_name STRING,
 *                configs [name STRING, value NULLABLE_STRING, read_only BOOLEAN, is_default BOOLEAN,
 *                         is_sensitive BOOLEAN]]
 *   Response v1–v2: configs replace is_default with config_source INT8 (after read_only) and gain
 *                   synonyms [name STRING, value NULLABLE_STRING, source INT8] at the end
 *
 * Resource types: 2 topic, 4 broker. Config sources: 1 the topic's own value, 4 static broker config,
 * 5 the default.
 */
import type { ApiCodec } from '../api.js';

export const RESOURCE_TYPE_TOPIC = 2;
export const RESOURCE_TYPE_BROKER = 4;
export const CONFIG_SOURCE_TOPIC = 1;
export const CONFIG_SOURCE_STATIC_BROKER = 4;
export const CONFIG_SOURCE_DEFAULT = 5;

export interface DescribeConfigsRequest {
  readonly resources: readonly { readonly resourceType: number; readonly resourceName: string; readonly configurationKeys: readonly string[] | null }[];
  readonly includeSynonyms: boolean;
}

export interface DescribedConfig {
  readonly name: string;
  readonly value: string | null;
  readonly readOnly: boolean;
  readonly configSource: number;
  readonly isSensitive: boolean;
}

export interface DescribeConfigsResult {
  readonly errorCode: number;
  readonly errorMessage: string | null;
  readonly resourceType: number;
  readonly resourceName: string;
  readonly configs: readonly DescribedConfig[];
}

export interface DescribeConfigsResponse {
  readonly results: readonly DescribeConfigsResult[];
}

export const DescribeConfigs: ApiCodec<DescribeConfigsRequest, DescribeConfigsResponse> = {
  apiKey: 32,
  name: 'DescribeConfigs',
  minVersion: 0,
  maxVersion: 2,
  flexibleFromVersion: 4,
  decodeRequest(reader, version) {
    const resources = reader.array((r) => ({
      resourceType: r.int8(),
      resourceName: r.string(),
      configurationKeys: r.nullableArray((kr) => kr.string()),
    }));
    return { resources, includeSynonyms: version >= 1 ? reader.boolean() : false };
  },
  encodeResponse(writer, version, response) {
    writer.int32(0);
    writer.array(response.results, (w, result) => {
      w.int16(result.errorCode).nullableString(result.errorMessage).int8(result.resourceType).string(result.resourceName);
      w.array(result.configs, (cw, config) => {
        cw.string(config.name).nullableString(config.value).boolean(config.readOnly);
        if (version === 0) cw.boolean(config.configSource === CONFIG_SOURCE_DEFAULT);
        else cw.int8(config.configSource);
        cw.boolean(config.isSensitive);
        if (version >= 1) cw.array([], () => undefined);
      });
    });
  },
};
