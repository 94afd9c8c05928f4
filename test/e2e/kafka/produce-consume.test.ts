/**
 * Records through the broker with kafkajs's producer and consumer, unmodified: 10,000 messages on three
 * partitions come back in order, an idempotent producer's retried batch is written once, ListOffsets
 * answers earliest / latest / by time, and retention moves the log start (a consumer at a deleted offset
 * gets OFFSET_OUT_OF_RANGE and resets).
 */
import test from 'ava';
import { createRequire } from 'node:module';
import { startBroker } from '../../helpers/kafka-broker.js';

test('10,000 messages on 3 partitions (acks -1) come back in order, each partition exactly once', async (t) => {
  const { kafka } = await startBroker(t);
  const client = kafka();
  const admin = client.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'stream', numPartitions: 3 }] });
  const producer = client.producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  const total = 10_000;
  for (let start = 0; start < total; start += 500) {
    const messages = Array.from({ length: 500 }, (_, i) => ({ key: `k${start + i}`, value: String(start + i), partition: (start + i) % 3 }));
    await producer.send({ topic: 'stream', acks: -1, messages });
  }
  const consumer = client.consumer({ groupId: 'readers', maxWaitTimeInMs: 100 });
  await consumer.connect();
  t.teardown(() => consumer.disconnect());
  await consumer.subscribe({ topic: 'stream', fromBeginning: true });
  const seen: number[][] = [[], [], []];
  let count = 0;
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ partition, message }) => {
          seen[partition]!.push(Number(message.value!.toString()));
          if (++count === total) resolve();
        },
      })
      .catch(reject);
  });
  for (let partition = 0; partition < 3; partition++) {
    const expected = Array.from({ length: total }, (_, i) => i).filter((i) => i % 3 === partition);
    t.deepEqual(seen[partition], expected);
  }
  const offsets = await admin.fetchTopicOffsets('stream');
  t.deepEqual(
    offsets.map((entry) => Number(entry.high)).sort(),
    [3334, 3333, 3333].sort(),
  );
});

test('ListOffsets answers earliest, latest and by timestamp', async (t) => {
  const { kafka } = await startBroker(t);
  const client = kafka();
  const admin = client.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'timed', numPartitions: 1 }] });
  const producer = client.producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  // Producer timestamps are the records' own (CreateTime): three batches at known times.
  for (const [i, timestamp] of [1_000, 2_000, 3_000].entries()) {
    await producer.send({ topic: 'timed', messages: [{ value: `m${i}a`, timestamp: String(timestamp) }, { value: `m${i}b`, timestamp: String(timestamp) }] });
  }
  const [latest] = await admin.fetchTopicOffsets('timed');
  t.is(latest!.high, '6');
  t.is(latest!.low, '0');
  t.deepEqual(await admin.fetchTopicOffsetsByTimestamp('timed', 1_500), [{ partition: 0, offset: '2' }]);
  t.deepEqual(await admin.fetchTopicOffsetsByTimestamp('timed', 3_000), [{ partition: 0, offset: '4' }]);
  // After every record's time: no offset has one, so Kafka answers the latest.
  t.deepEqual(await admin.fetchTopicOffsetsByTimestamp('timed', 9_000), [{ partition: 0, offset: '6' }]);
});

test('an idempotent producer whose batch is sent twice writes it once', async (t) => {
  const { kafka } = await startBroker(t);
  const client = kafka();
  const admin = client.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'once', numPartitions: 1 }] });
  const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  t.teardown(() => producer.disconnect());
  await producer.send({ topic: 'once', acks: -1, messages: [{ value: 'first' }] });
  // Send the next Produce twice on the wire, as a client does when it retries after a lost response:
  // kafkajs's broker connection is wrapped so that its next Produce request goes out a second time.
  const require = createRequire(import.meta.url);
  const Connection = require('kafkajs/src/network/connection.js');
  const send = Connection.prototype.send;
  let duplicated = 0;
  Connection.prototype.send = async function (this: unknown, request: { request: { apiKey: number } }) {
    if (request.request.apiKey === 0 && duplicated === 0) {
      duplicated++;
      await send.call(this, request);
    }
    return send.call(this, request);
  };
  t.teardown(() => {
    Connection.prototype.send = send;
  });
  await producer.send({ topic: 'once', acks: -1, messages: [{ value: 'second' }, { value: 'third' }] });
  Connection.prototype.send = send;
  t.is(duplicated, 1);
  const [offsets] = await admin.fetchTopicOffsets('once');
  t.is(offsets!.high, '3', 'the retried batch was not written a second time');
});

test('retention moves the log start; a consumer at a deleted offset gets OFFSET_OUT_OF_RANGE and resets', async (t) => {
  const { kafka, broker } = await startBroker(t);
  const client = kafka();
  const admin = client.admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await admin.createTopics({
    topics: [{ topic: 'short', numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: '1024' }, { name: 'retention.bytes', value: '2048' }] }],
  });
  const producer = client.producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  for (let i = 0; i < 40; i++) await producer.send({ topic: 'short', messages: [{ value: 'x'.repeat(200) + i }] });
  // The group's committed offset points at the start, which retention is about to delete.
  await admin.setOffsets({ groupId: 'late', topic: 'short', partitions: [{ partition: 0, offset: '0' }] });
  await broker.enforceRetention();
  const [offsets] = await admin.fetchTopicOffsets('short');
  const logStart = Number(offsets!.low);
  t.true(logStart > 0, `log start ${logStart}`);
  t.is(broker.store.getWatermarks('short', 0)!.logStartOffset, logStart);
  // Sealed segments were recorded in the store once durable; the ones retention removed are forgotten.
  const segments = broker.store.listSegments('short', 0);
  t.true(segments.length > 0, 'rolled segments are recorded');
  for (const segment of segments) t.true(segment.baseOffset >= logStart, `segment ${segment.baseOffset} is below the log start ${logStart}`);
  const consumer = client.consumer({ groupId: 'late', maxWaitTimeInMs: 100 });
  await consumer.connect();
  t.teardown(() => consumer.disconnect());
  await consumer.subscribe({ topic: 'short', fromBeginning: true });
  const first = await new Promise<number>((resolve, reject) => {
    consumer.run({ eachMessage: async ({ message }) => resolve(Number(message.offset)) }).catch(reject);
  });
  t.is(first, logStart, 'the consumer reset to the earliest offset still there');
});

test('a Fetch parked on an empty partition wakes when a Produce makes data durable', async (t) => {
  const { kafka, broker } = await startBroker(t);
  await broker.store.createTopic({ name: 'wake', partitions: 1 });
  const { RawClient, kafkajsCall } = await import('../../helpers/kafka-raw-client.js');
  const fetcher = await RawClient.connect(broker.port);
  t.teardown(() => fetcher.destroy());
  // max_wait far beyond the test's own timeout: only a wake-up on new data can answer it in time.
  const parked = kafkajsCall<{ responses: { partitions: { highWatermark: string; messages: { value: Buffer }[] }[] }[] }>(fetcher, 'fetch', 4, {
    maxWaitTime: 600_000,
    minBytes: 1,
    maxBytes: 1 << 20,
    topics: [{ topic: 'wake', partitions: [{ partition: 0, fetchOffset: '0', maxBytes: 1 << 20 }] }],
  });
  const producer = kafka().producer();
  await producer.connect();
  t.teardown(() => producer.disconnect());
  // Produce only once the fetch is parked (checked on each turn of the event loop, never by a timer).
  while (broker.parkedFetchCount === 0) await new Promise((resolve) => setImmediate(resolve));
  await producer.send({ topic: 'wake', acks: -1, messages: [{ value: 'ping' }] });
  const answer = await parked;
  t.is(answer.responses[0]!.partitions[0]!.highWatermark, '1');
  t.is(answer.responses[0]!.partitions[0]!.messages[0]!.value.toString(), 'ping');
});
