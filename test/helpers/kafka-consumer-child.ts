/**
 * A kafkajs consumer in a process of its own, for tests that kill a member without it leaving its group:
 * `node kafka-consumer-child.js ADDRESS GROUP TOPIC SESSION_TIMEOUT_MS`. It prints one line per event:
 * `JOINED <partitions as JSON>` after each rebalance and `MESSAGE <partition> <offset>` per record.
 */
import { Kafka, logLevel } from 'kafkajs';

const [address, groupId, topic, sessionTimeoutText] = process.argv.slice(2) as [string, string, string, string];
const sessionTimeout = Number(sessionTimeoutText);
const consumer = new Kafka({ clientId: 'child', brokers: [address], logLevel: logLevel.NOTHING }).consumer({
  groupId,
  sessionTimeout,
  rebalanceTimeout: sessionTimeout * 2,
  heartbeatInterval: Math.floor(sessionTimeout / 5),
  maxWaitTimeInMs: 100,
});
consumer.on(consumer.events.GROUP_JOIN, (event) => {
  process.stdout.write(`JOINED ${JSON.stringify(event.payload.memberAssignment[topic] ?? [])}\n`);
});
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
await consumer.run({
  eachMessage: async ({ partition, message }) => {
    process.stdout.write(`MESSAGE ${partition} ${message.offset}\n`);
  },
});
