/**
 * The API table against Kafka's message specs: each API's key and first flexible version as the specs
 * give them (apiKey and flexibleVersions in clients/src/main/resources/common/message/*Request.json),
 * and the ApiVersions answer made from the table.
 */
import test from 'ava';
import { apiCodecOf, SERVED_APIS } from '../../../../src/kafka/codec/api-table.js';
import { apiVersionsTable } from '../../../../src/kafka/server/api-versions-table.js';

/** Name → [api key, first flexible version] from Kafka's specs. */
const SPEC: Record<string, [number, number]> = {
  Produce: [0, 9],
  Fetch: [1, 12],
  ListOffsets: [2, 6],
  Metadata: [3, 9],
  OffsetCommit: [8, 8],
  OffsetFetch: [9, 6],
  FindCoordinator: [10, 3],
  JoinGroup: [11, 6],
  Heartbeat: [12, 4],
  LeaveGroup: [13, 4],
  SyncGroup: [14, 4],
  DescribeGroups: [15, 5],
  ListGroups: [16, 3],
  ApiVersions: [18, 3],
  CreateTopics: [19, 5],
  DeleteTopics: [20, 4],
  InitProducerId: [22, 2],
  DescribeConfigs: [32, 4],
  AlterConfigs: [33, 2],
  CreatePartitions: [37, 2],
  DeleteGroups: [42, 2],
  IncrementalAlterConfigs: [44, 1],
  OffsetDelete: [47, 1],
};

test('each served API has the key and first flexible version Kafka\'s spec gives it', (t) => {
  const table = Object.fromEntries(SERVED_APIS.map((api) => [api.name, [api.apiKey, api.flexibleFromVersion]]));
  t.deepEqual(table, SPEC);
});

test('keys are unique and apiCodecOf finds each codec by its key, and nothing else', (t) => {
  t.is(new Set(SERVED_APIS.map((api) => api.apiKey)).size, SERVED_APIS.length);
  for (const api of SERVED_APIS) t.is(apiCodecOf(api.apiKey), api);
  for (const key of [-1, 4, 17, 21, 999]) t.is(apiCodecOf(key), undefined);
});

test('version ranges are ordered, and only ApiVersions serves a flexible version', (t) => {
  for (const api of SERVED_APIS) {
    t.true(api.minVersion <= api.maxVersion, api.name);
    t.is(api.maxVersion >= api.flexibleFromVersion, api.name === 'ApiVersions', api.name);
  }
});

test('the ApiVersions answer lists every served API with its range, in table order', (t) => {
  t.deepEqual(
    apiVersionsTable(),
    SERVED_APIS.map((api) => ({ apiKey: api.apiKey, minVersion: api.minVersion, maxVersion: api.maxVersion })),
  );
});
