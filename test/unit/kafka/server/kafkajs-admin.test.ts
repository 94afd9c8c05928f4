/**
 * A real kafkajs admin client against the server, at the wire level only: handlers answer ApiVersions
 * from the codec's table and Metadata with a fixed cluster of one broker (this server), no store.
 *
 * How: kafkajs connects, negotiates versions from our ApiVersions answer, asks for metadata at the
 * highest version both serve, and must make sense of every byte; a decoding mistake on either side
 * fails the connect or the fetch.
 */
import test from 'ava';
import { Kafka, logLevel } from 'kafkajs';
import { ApiVersions } from '../../../../src/kafka/codec/apis/api-versions.js';
import { Metadata, type MetadataRequest, type MetadataResponse } from '../../../../src/kafka/codec/apis/metadata.js';
import { apiVersionsTable } from '../../../../src/kafka/server/api-versions-table.js';
import type { RequestContext, RequestHandler } from '../../../../src/kafka/server/connection.js';
import { startServer } from '../../../helpers/kafka-raw-client.js';

test('kafkajs admin connects and fetches topic metadata', async (t) => {
  let port = 0;
  const seen: string[] = [];
  const handlers = new Map<number, RequestHandler>([
    [
      ApiVersions.apiKey,
      async (_request, context: RequestContext) => {
        seen.push(`ApiVersions v${context.header.apiVersion}`);
        return { errorCode: 0, apiKeys: apiVersionsTable() };
      },
    ],
    [
      Metadata.apiKey,
      async (request, context: RequestContext) => {
        seen.push(`Metadata v${context.header.apiVersion}`);
        const names = (request as MetadataRequest).topics;
        const response: MetadataResponse = {
          brokers: [{ nodeId: 0, host: '127.0.0.1', port, rack: null }],
          clusterId: 'codec-tests',
          controllerId: 0,
          topics: [
            {
              errorCode: 0,
              name: 'orders',
              isInternal: false,
              partitions: [
                { errorCode: 0, partitionIndex: 0, leaderId: 0, replicaNodes: [0], isrNodes: [0] },
                { errorCode: 0, partitionIndex: 1, leaderId: 0, replicaNodes: [0], isrNodes: [0] },
              ],
            },
          ].filter((topic) => names === null || names.includes(topic.name)),
        };
        return response;
      },
    ],
  ]);
  const { server, log } = await startServer(handlers);
  t.teardown(() => server.close());
  port = server.port;

  const admin = new Kafka({ clientId: 'codec-tests', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  const metadata = await admin.fetchTopicMetadata({ topics: [] });

  t.deepEqual(metadata, {
    topics: [
      {
        name: 'orders',
        partitions: [
          { partitionErrorCode: 0, partitionId: 0, leader: 0, replicas: [0], isr: [0], offlineReplicas: [] },
          { partitionErrorCode: 0, partitionId: 1, leader: 0, replicas: [0], isr: [0], offlineReplicas: [] },
        ],
      },
    ],
  });
  t.true(seen.includes('ApiVersions v2'), `kafkajs asks ApiVersions at its highest version: ${seen.join(', ')}`);
  t.true(seen.includes('Metadata v6'), `then Metadata at the highest both serve: ${seen.join(', ')}`);
  t.deepEqual(log, [], 'the server closed no connection');
});
