/**
 * The server with raw sockets: each kind of bad frame closes the connection that sent it and no other;
 * ApiVersions above the served versions is answered, not closed; pipelined requests are answered in
 * order; a handler that answers null sends nothing.
 *
 * How: each test starts a server on an OS-chosen port with a small handler table (ApiVersions,
 * Metadata and Produce answering fixed objects), opens a well-behaved connection first and proves it
 * answers, then misbehaves on a second one. Every wait is on a socket event (a response frame, a close);
 * responses are read back with kafkajs's decoders, except where kafkajs refuses to (error 35).
 */
import test, { type ExecutionContext } from 'ava';
import { ApiVersions } from '../../../../src/kafka/codec/apis/api-versions.js';
import { DescribeGroups } from '../../../../src/kafka/codec/apis/describe-groups.js';
import { FindCoordinator } from '../../../../src/kafka/codec/apis/find-coordinator.js';
import { ListGroups } from '../../../../src/kafka/codec/apis/list-groups.js';
import { Metadata, type MetadataRequest, type MetadataResponse } from '../../../../src/kafka/codec/apis/metadata.js';
import { Produce, type ProduceRequest, type ProduceResponse } from '../../../../src/kafka/codec/apis/produce.js';
import { WireReader } from '../../../../src/kafka/codec/wire-reader.js';
import { ErrorCode } from '../../../../src/kafka/error-codes.js';
import { apiVersionsTable } from '../../../../src/kafka/server/api-versions-table.js';
import { QUEUED_FRAMES_MAX, type HandlerTable, type RequestHandler } from '../../../../src/kafka/server/connection.js';
import { kafkajsDecodeResponse } from '../codec/kafkajs-oracle.js';
import { kafkajsRequestFrame, RawClient, rawRequestFrame, seededBytes, startServer } from '../../../helpers/kafka-raw-client.js';

const MAX_FRAME_BYTES = 1024;

const METADATA: MetadataResponse = {
  brokers: [{ nodeId: 1, host: '127.0.0.1', port: 9092, rack: null }],
  clusterId: 'codec-tests',
  controllerId: 1,
  topics: [{ errorCode: 0, name: 'orders', isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, replicaNodes: [1], isrNodes: [1] }] }],
};

/** One event-loop turn: handlers that answer later than others, without any clock. */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function handlers(): HandlerTable {
  const table = new Map<number, RequestHandler>();
  table.set(ApiVersions.apiKey, async () => ({ errorCode: 0, apiKeys: apiVersionsTable() }));
  table.set(Metadata.apiKey, async (request) => {
    await nextTurn();
    await nextTurn();
    const names = (request as MetadataRequest).topics;
    return { ...METADATA, topics: METADATA.topics.filter((topic) => names === null || names.includes(topic.name)) };
  });
  table.set(Produce.apiKey, async (request) => {
    const produce = request as ProduceRequest;
    if (produce.acks === 0) return null;
    const response: ProduceResponse = {
      topics: produce.topics.map((topic) => ({
        name: topic.name,
        partitions: topic.partitions.map((p) => ({ index: p.index, errorCode: 0, baseOffset: 41, logAppendTimeMs: -1, logStartOffset: 0 })),
      })),
    };
    return response;
  });
  table.set(DescribeGroups.apiKey, async () => {
    throw new Error('a handler bug');
  });
  // Answers that cannot be encoded: a group id longer than a STRING can hold, and a response missing
  // its fields. Both are handler bugs, and must cost their connection only, not the broker.
  table.set(ListGroups.apiKey, async () => ({ errorCode: 0, groups: [{ groupId: 'g'.repeat(40_000), protocolType: 'consumer' }] }));
  table.set(FindCoordinator.apiKey, async () => ({}));
  return table;
}

async function setUp(t: ExecutionContext): Promise<{ port: number; log: string[]; connectionCount: () => number }> {
  const { server, log } = await startServer(handlers(), MAX_FRAME_BYTES);
  t.teardown(() => server.close());
  return { port: server.port, log, connectionCount: () => server.connectionCount };
}

async function connect(t: ExecutionContext, port: number): Promise<RawClient> {
  const client = await RawClient.connect(port);
  t.teardown(() => client.destroy());
  return client;
}

function hex(...parts: string[]): Buffer {
  return Buffer.from(parts.join('').replace(/\s+/g, ''), 'hex');
}

function withSize(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

/** Sends ApiVersions v0 and checks the answer: the connection is alive and well. */
async function assertAnswers(t: ExecutionContext, client: RawClient, correlationId: number): Promise<void> {
  client.send(await kafkajsRequestFrame('apiVersions', 0, undefined, correlationId));
  const frame = await client.nextFrame();
  if (frame === null) return void t.fail('the connection closed instead of answering');
  t.is(frame.readInt32BE(0), correlationId);
  const { decoded } = await kafkajsDecodeResponse('apiVersions', 0, undefined, frame.subarray(4));
  t.deepEqual(decoded, { errorCode: 0, apiVersions: apiVersionsTable() });
}

const metadataFrame = (version: number, correlationId: number) => kafkajsRequestFrame('metadata', version, { topics: ['orders', 'audit'], allowAutoTopicCreation: false }, correlationId);

/** Each kind of frame that must close its connection, and the reason the server logs. */
const BAD_FRAMES: [string, () => Promise<Buffer> | Buffer, RegExp][] = [
  ['a frame over maxFrameBytes', () => Buffer.concat([hex('00000401'), Buffer.alloc(64)]), /1025 bytes is over socket\.request\.max\.bytes \(1024\)/],
  ['a frame shorter than a request header', () => hex('00000004 00030001'), /4 bytes is shorter than a request header/],
  ['a negative frame size', () => hex('ffffffff 00030001 00000001 0000'), /-1 bytes is shorter than a request header/],
  // Seeded, so the same bytes every run: the first reads as a frame size of 1667500838, the second as a
  // header whose client id has length -20726, the third as a Metadata v1 topic count far beyond the 40
  // bytes that follow.
  ['random bytes', () => seededBytes(0x5eed, 300), /over socket\.request\.max\.bytes/],
  ['random bytes in a frame of plausible size', () => withSize(seededBytes(7, 60)), /unreadable request header: STRING length -20726/],
  ['random bytes after a Metadata v1 header', () => rawRequestFrame(3, 1, 9, seededBytes(11, 40)), /malformed Metadata v1 request/],
  [
    'a truncated request body',
    async () => {
      const frame = await metadataFrame(1, 9);
      return withSize(frame.subarray(4, frame.length - 3));
    },
    /malformed Metadata v1 request/,
  ],
  [
    'bytes after the last field',
    async () => {
      const frame = await metadataFrame(1, 9);
      return withSize(Buffer.concat([frame.subarray(4), hex('0000')]));
    },
    /Metadata v1: 2 bytes after the last field/,
  ],
  ['an unknown API key', () => rawRequestFrame(999, 0, 9), /unknown API key 999/],
  ['an API this broker does not serve (DeleteRecords)', () => rawRequestFrame(21, 0, 9), /unknown API key 21/],
  ['a version above the served ones (Metadata v7)', () => rawRequestFrame(3, 7, 9, hex('ffffffff 00')), /Metadata v7 is not served \(v0-v6\)/],
  ['a version below the served ones (Produce v2)', () => rawRequestFrame(0, 2, 9), /Produce v2 is not served \(v3-v7\)/],
  ['a negative ApiVersions version', () => rawRequestFrame(18, -1, 9), /ApiVersions v-1 is not served/],
  ['a request whose handler throws', () => rawRequestFrame(15, 0, 9, hex('00000001', '0002 6731')), /DescribeGroups v0 failed: Error: a handler bug/],
  ['a response too long for its STRING length', () => rawRequestFrame(16, 0, 9), /ListGroups v0 response could not be encoded: RangeError/],
  ['a response missing its fields', () => rawRequestFrame(10, 0, 9, hex('0002 6731')), /FindCoordinator v0 response could not be encoded: TypeError/],
];

for (const [name, makeFrame, reason] of BAD_FRAMES) {
  test(`${name} closes that connection; one opened before keeps answering`, async (t) => {
    const { port, log, connectionCount } = await setUp(t);
    const good = await connect(t, port);
    await assertAnswers(t, good, 1);
    const bad = await connect(t, port);
    bad.send(await makeFrame());
    await bad.closed;
    t.is(bad.framesWaiting, 0, 'no answer before the close');
    t.is(log.length, 1);
    t.regex(log[0]!, reason);
    await assertAnswers(t, good, 2);
    t.is(connectionCount(), 1);
  });
}

test('ApiVersions above the served versions is answered at v0 with UNSUPPORTED_VERSION and the table, and the connection stays', async (t) => {
  const { port } = await setUp(t);
  const client = await connect(t, port);
  // ApiVersions v4: request header v2 (its tagged fields), then a v4 body the broker need not read.
  const librdkafkaBody = hex('0b', Buffer.from('librdkafka').toString('hex'), '06', Buffer.from('2.0.2').toString('hex'), '00');
  client.send(rawRequestFrame(18, 4, 77, Buffer.concat([hex('00'), librdkafkaBody])));
  const frame = await client.nextFrame();
  if (frame === null) return void t.fail('closed instead of answering');
  // Response header v0 and a v0 body, read by hand: kafkajs's decoder throws on error 35 by design.
  const reader = new WireReader(frame);
  t.is(reader.int32(), 77);
  t.is(reader.int16(), ErrorCode.UNSUPPORTED_VERSION);
  const apiKeys = reader.array((r) => ({ apiKey: r.int16(), minVersion: r.int16(), maxVersion: r.int16() }));
  reader.expectEnd('ApiVersions v0 response');
  t.deepEqual(apiKeys, apiVersionsTable());
  t.true(apiKeys.some((range) => range.apiKey === 18 && range.maxVersion === 3));
  await assertAnswers(t, client, 78);
});

test('ApiVersions v3 from librdkafka (header v2, flexible body) is answered with header v0 and a v3 body', async (t) => {
  const { port } = await setUp(t);
  const client = await connect(t, port);
  const body = hex('0b', Buffer.from('librdkafka').toString('hex'), '06', Buffer.from('2.0.2').toString('hex'), '00');
  const header = hex('0012 0003 00000001', '0007', Buffer.from('rdkafka').toString('hex'), '00');
  client.send(withSize(Buffer.concat([header, body])));
  const frame = await client.nextFrame();
  if (frame === null) return void t.fail('closed instead of answering');
  const reader = new WireReader(frame);
  t.is(reader.int32(), 1, 'correlation id, and no header tagged fields after it');
  t.is(reader.int16(), 0);
  const apiKeys = reader.compactArray((r) => {
    const range = { apiKey: r.int16(), minVersion: r.int16(), maxVersion: r.int16() };
    r.skipTaggedFields();
    return range;
  });
  t.is(reader.int32(), 0, 'throttle_time_ms');
  reader.skipTaggedFields();
  reader.expectEnd('ApiVersions v3 response');
  t.deepEqual(apiKeys, apiVersionsTable());
});

test('pipelined requests are answered in order, whatever each handler takes, and acks=0 gets no answer', async (t) => {
  const { port } = await setUp(t);
  const client = await connect(t, port);
  const produce = (acks: number) => ({
    acks,
    timeout: 1000,
    topicData: [{ topic: 'orders', partitions: [{ partition: 0, messages: [{ key: 'k', value: 'v', timestamp: 1_700_000_000_000 }] }] }],
  });
  const frames = [
    await kafkajsRequestFrame('apiVersions', 0, undefined, 100),
    await metadataFrame(1, 101),
    await kafkajsRequestFrame('produce', 3, produce(0), 102),
    await metadataFrame(5, 103),
    await kafkajsRequestFrame('apiVersions', 2, undefined, 104),
    await kafkajsRequestFrame('produce', 7, produce(1), 105),
  ];
  client.send(Buffer.concat(frames));
  const expected: [number, string, number][] = [
    [100, 'apiVersions', 0],
    [101, 'metadata', 1],
    [103, 'metadata', 5],
    [104, 'apiVersions', 2],
    [105, 'produce', 7],
  ];
  for (const [correlationId, directory, version] of expected) {
    const frame = await client.nextFrame();
    if (frame === null) return void t.fail('closed instead of answering');
    t.is(frame.readInt32BE(0), correlationId);
    const { decoded, bytesRead } = await kafkajsDecodeResponse(directory, version, directory === 'metadata' ? { topics: ['orders'] } : {}, frame.subarray(4));
    t.is(bytesRead, frame.length - 4);
    t.truthy(decoded);
  }
});

test('a handler answering null sends nothing, and the next request is still answered', async (t) => {
  const { port } = await setUp(t);
  const client = await connect(t, port);
  const produce = { acks: 0, timeout: 1000, topicData: [{ topic: 'orders', partitions: [{ partition: 0, messages: [{ key: 'k', value: 'v', timestamp: 1 }] }] }] };
  client.send(await kafkajsRequestFrame('produce', 3, produce, 5));
  client.send(await metadataFrame(4, 6));
  const frame = await client.nextFrame();
  if (frame === null) return void t.fail('closed instead of answering');
  t.is(frame.readInt32BE(0), 6);
  const { decoded } = await kafkajsDecodeResponse('metadata', 4, { topics: ['orders'] }, frame.subarray(4));
  t.like(decoded, { clusterId: 'codec-tests', topicMetadata: [{ topic: 'orders' }] });
});

test('a request written one byte at a time is answered', async (t) => {
  const { port } = await setUp(t);
  const client = await connect(t, port);
  const frame = await metadataFrame(2, 31);
  for (const byte of frame) client.send(Buffer.from([byte]));
  const answer = await client.nextFrame();
  if (answer === null) return void t.fail('closed instead of answering');
  t.is(answer.readInt32BE(0), 31);
});

test('closing the server closes its connections', async (t) => {
  const { server } = await startServer(handlers(), MAX_FRAME_BYTES);
  const client = await RawClient.connect(server.port);
  t.teardown(() => client.destroy());
  await assertAnswers(t, client, 1);
  await server.close();
  await client.closed;
  t.is(server.connectionCount, 0);
});

test(`more pipelined frames than QUEUED_FRAMES_MAX (${QUEUED_FRAMES_MAX}) behind a slow handler are all answered in order, and reading resumes`, async (t) => {
  // The first answer waits on a gate the test opens once the handler has been called: by then the
  // frames that arrived with the first one are queued past the limit and the socket is paused.
  let openGate!: () => void;
  const gate = new Promise<void>((resolve) => {
    openGate = resolve;
  });
  let calls = 0;
  let firstCall!: () => void;
  const called = new Promise<void>((resolve) => {
    firstCall = resolve;
  });
  const table = new Map<number, RequestHandler>([
    [
      ApiVersions.apiKey,
      async () => {
        if (calls++ === 0) {
          firstCall();
          await gate;
        }
        return { errorCode: 0, apiKeys: apiVersionsTable() };
      },
    ],
  ]);
  const { server } = await startServer(table, MAX_FRAME_BYTES);
  t.teardown(() => server.close());
  const client = await connect(t, server.port);
  const count = 2 * QUEUED_FRAMES_MAX + 3;
  const frames = await Promise.all(Array.from({ length: count }, (_, i) => kafkajsRequestFrame('apiVersions', 1, undefined, 1000 + i)));
  client.send(Buffer.concat(frames));
  await called;
  openGate();
  for (let i = 0; i < count; i++) {
    const frame = await client.nextFrame();
    if (frame === null) return void t.fail('closed instead of answering');
    t.is(frame.readInt32BE(0), 1000 + i);
  }
  await assertAnswers(t, client, 5000);
  t.is(calls, count + 1);
});
