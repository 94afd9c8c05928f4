/**
 * The codec against kafkajs, every API and every version both implement.
 *
 * How: for each case and version, kafkajs encodes a request body that our decoder must read to its last
 * byte into the expected object; then our encoder writes a response body that kafkajs's decoder must read
 * to its last byte into the expected object. Only `decode` is used on responses, never `parse`: parse
 * throws on the non-zero error codes the samples carry on purpose.
 */
import test from 'ava';
import { SERVED_APIS } from '../../../../src/kafka/codec/api-table.js';
import { WireReader } from '../../../../src/kafka/codec/wire-reader.js';
import { encodeResponseBody, kafkajsDecodeResponse, kafkajsRequestBody, kafkajsVersions, sharedVersions, type OracleCase } from './kafkajs-oracle.js';
import { ADMIN_CASES } from './oracle-cases-admin.js';
import { DATA_CASES } from './oracle-cases-data.js';
import { GROUP_CASES } from './oracle-cases-groups.js';

const CASES: readonly OracleCase[] = [...DATA_CASES, ...GROUP_CASES, ...ADMIN_CASES];

/** kafkajs's directory for each served API it implements; the rest are covered by golden vectors. */
const KAFKAJS_DIRECTORY = new Map<string, string>(CASES.map((c) => [c.codec.name, c.kafkajs]));
const WITHOUT_KAFKAJS = new Set(['IncrementalAlterConfigs', 'OffsetDelete']);

test('every served API has kafkajs cases, or is one kafkajs lacks', (t) => {
  for (const api of SERVED_APIS) {
    t.true(KAFKAJS_DIRECTORY.has(api.name) !== WITHOUT_KAFKAJS.has(api.name), api.name);
  }
});

test('every case runs at one version at least, and the shared versions are the ones expected', (t) => {
  const shared = Object.fromEntries([...KAFKAJS_DIRECTORY].map(([name, directory]) => {
    const versions = sharedVersions({ codec: SERVED_APIS.find((api) => api.name === name)!, kafkajs: directory });
    return [name, `${versions[0]}-${versions[versions.length - 1]}`];
  }));
  t.deepEqual(shared, {
    ApiVersions: '0-2',
    Metadata: '0-6',
    Produce: '3-7',
    Fetch: '4-11',
    ListOffsets: '1-3',
    OffsetCommit: '1-5',
    OffsetFetch: '1-4',
    FindCoordinator: '0-2',
    JoinGroup: '0-5',
    SyncGroup: '0-3',
    Heartbeat: '0-3',
    LeaveGroup: '0-3',
    DescribeGroups: '0-2',
    ListGroups: '0-2',
    DeleteGroups: '0-1',
    CreateTopics: '0-3',
    DeleteTopics: '0-1',
    CreatePartitions: '0-1',
    DescribeConfigs: '0-2',
    AlterConfigs: '0-1',
    InitProducerId: '0-1',
  });
  // No gaps: kafkajs implements each version between the ends.
  for (const [name, directory] of KAFKAJS_DIRECTORY) {
    const versions = kafkajsVersions(directory).sort((a, b) => a - b);
    t.deepEqual(versions, versions.map((_, i) => versions[0]! + i), name);
  }
});

for (const oracleCase of CASES) {
  for (const version of sharedVersions(oracleCase)) {
    const title = `${oracleCase.codec.name} v${version} (${oracleCase.label})`;

    test(`${title}: our decoder reads kafkajs's request`, async (t) => {
      const { apiKey, apiVersion, body } = await kafkajsRequestBody(oracleCase.kafkajs, version, oracleCase.args(version));
      t.is(apiKey, oracleCase.codec.apiKey);
      t.is(apiVersion, version);
      const reader = new WireReader(body);
      const decoded = oracleCase.codec.decodeRequest(reader, version);
      reader.expectEnd(title);
      const compared = oracleCase.projectRequest === undefined ? decoded : await oracleCase.projectRequest(decoded);
      t.deepEqual(compared, oracleCase.request(version));
    });

    if (oracleCase.response === undefined) continue;
    test(`${title}: kafkajs reads our response`, async (t) => {
      const payload = encodeResponseBody(oracleCase.codec, version, oracleCase.response!(version));
      const { decoded, bytesRead } = await kafkajsDecodeResponse(oracleCase.kafkajs, version, oracleCase.args(version), payload);
      t.is(bytesRead, payload.length, 'kafkajs read the whole response, no more and no less');
      const compared = oracleCase.projectDecoded === undefined ? decoded : oracleCase.projectDecoded(decoded);
      t.deepEqual(compared, oracleCase.decoded!(version));
    });
  }
}
