/**
 * Starting and feeding the broker for its benchmark: a broker in this process on a temporary log.dir
 * and a free port, topics created over the wire, what the store's writer appended to its WAL.
 */
import { KafkaBroker } from '../src/kafka/broker/broker.js';
import { resolveBrokerSettings } from '../src/kafka/broker/broker-settings.js';
import { check } from './lib.js';
import { encodeRequest, type WireConnection } from './kafka-wire.js';

/** Starts a broker on `logDir` with the given durability (and any other settings). */
export function startBroker(logDir: string, durability: 'fsync' | 'interval', extra: Record<string, string> = {}): Promise<KafkaBroker> {
  const settings = resolveBrokerSettings({ 'log.dir': logDir, port: '0', durability, 'group.initial.rebalance.delay.ms': '0', ...extra });
  return KafkaBroker.start({ settings, log: (line) => process.stderr.write(`[broker] ${line}\n`) });
}

/** Creates topics of `partitions` partitions each with one CreateTopics v2 request, and checks every answer. */
export async function createTopics(connection: WireConnection, names: string[], partitions: number): Promise<void> {
  const request = await encodeRequest('createTopics', 2, {
    topics: names.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    timeout: 30_000,
    validateOnly: false,
  });
  const answer = (await request.decode(await connection.request(request.frame))) as { topicErrors: { topic: string; errorCode: number }[] };
  check(answer.topicErrors.length === names.length, `CreateTopics answers each of ${names.length} topics`);
  for (const topic of answer.topicErrors) check(topic.errorCode === 0, `topic ${topic.topic} created (error ${topic.errorCode})`);
}

/**
 * Bytes and events the store's writer has appended to its WAL so far (its own counters). The size of the
 * files in `<log.dir>/metadata/wal` would not do: the writer zero-fills a segment ahead of its appends,
 * so the files grow in steps, not by what was written.
 */
export async function walAppended(broker: KafkaBroker): Promise<{ bytes: number; events: number }> {
  const registry = await broker.store.metricsRegistry();
  const read = async (name: string): Promise<number> => {
    const metric = registry.getSingleMetric(name);
    check(metric !== undefined, `the store has metric ${name}`);
    const { values } = await metric.get();
    return values.reduce((sum, { value }) => sum + value, 0);
  };
  return { bytes: await read('metalog_wal_appended_bytes_total'), events: await read('metalog_events_appended_total') };
}
