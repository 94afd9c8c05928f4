/**
 * A fuzzing client against the whole broker: random bytes, requests cut short, sizes over
 * socket.request.max.bytes, unknown API keys and versions, valid headers over garbage bodies. Each bad
 * connection is closed (and only that one): a well-behaved kafkajs client keeps being served throughout,
 * and the store is unchanged, byte for byte of its state.
 *
 * Seeded: the seed is printed, `SEED=` replays it.
 */
import test from 'ava';
import { kafkajsRequestFrame, RawClient, rawRequestFrame, seededBytes, xorshift32 } from '../../helpers/kafka-raw-client.js';
import { startBroker } from '../../helpers/kafka-broker.js';

const SEED = Number(process.env.SEED ?? Date.now() % 2 ** 31);
const CONNECTIONS = 60;

/** Fractions in [0, 1) from xorshift32 over `seed`: the test's only source of randomness. */
function random(seed: number): () => number {
  const next = xorshift32(seed);
  return () => next() / 2 ** 32;
}

/** One hostile frame of each kind, chosen by `next`. */
async function hostileFrame(kind: number, next: () => number, maxFrameBytes: number): Promise<Buffer> {
  const seed = Math.floor(next() * 2 ** 31);
  switch (kind) {
    case 0: {
      // random bytes, size field included; a size that happens to be acceptable is made truthful, so the
      // broker reads the whole random request instead of waiting for bytes that never come
      const frame = seededBytes(seed, 4 + Math.floor(next() * 400));
      const size = frame.readInt32BE(0);
      if (size >= 0 && size <= maxFrameBytes) frame.writeInt32BE(frame.length - 4, 0);
      return frame;
    }
    case 1: {
      // a real client's request cut short, its size field telling the truth about the cut
      const whole = await kafkajsRequestFrame('createTopics', 2, { topics: [{ topic: 'never', numPartitions: 3, replicationFactor: 1 }], timeout: 1000, validateOnly: false }, 7);
      const cut = 14 + Math.floor(next() * (whole.length - 15));
      const frame = Buffer.from(whole.subarray(0, cut));
      frame.writeInt32BE(cut - 4, 0);
      return frame;
    }
    case 2: {
      // a size over the limit (the body never comes)
      const frame = Buffer.alloc(4);
      frame.writeInt32BE(maxFrameBytes + 1 + Math.floor(next() * 1000), 0);
      return frame;
    }
    case 3: // an API key nobody serves
      return rawRequestFrame(1000 + Math.floor(next() * 20_000), 0, 1);
    case 4: // a served API at a version out of range
      return rawRequestFrame(19, 5 + Math.floor(next() * 100), 1, seededBytes(seed, 20));
    default: // a valid header over a garbage body, for APIs that would write
      return rawRequestFrame([19, 20, 8, 11, 37, 33][Math.floor(next() * 6)]!, 1, 1, seededBytes(seed, Math.floor(next() * 64)));
  }
}

test(`malformed frames close their own connection only; the store is unchanged (seed ${SEED})`, async (t) => {
  t.log(`SEED=${SEED}`);
  const maxFrameBytes = 64 * 1024;
  const { broker, kafka } = await startBroker(t, { 'socket.request.max.bytes': String(maxFrameBytes) });
  const admin = kafka().admin();
  await admin.connect();
  t.teardown(() => admin.disconnect());
  await admin.createTopics({ topics: [{ topic: 'kept', numPartitions: 2 }] });
  const before = broker.store.canonicalState();
  const offsetBefore = broker.store.lastOffset;

  const next = random(SEED);
  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => RawClient.connect(broker.port)));
  t.teardown(() => clients.forEach((client) => client.destroy()));
  for (const [index, client] of clients.entries()) {
    client.send(await hostileFrame(index % 6, next, maxFrameBytes));
    // The good client is served while the bad ones are being closed.
    if (index % 10 === 0) t.deepEqual(await admin.listTopics(), ['kept']);
  }
  for (const [index, client] of clients.entries()) {
    const answer = await client.nextFrame();
    t.is(answer, null, `connection ${index} (kind ${index % 6}) was answered instead of closed`);
    await client.closed;
  }
  t.deepEqual(await admin.listTopics(), ['kept']);
  t.is(broker.store.lastOffset, offsetBefore, 'nothing was written');
  t.is(broker.store.canonicalState(), before);
});

test('a connection that stops in the middle of a request is closed after connections.max.idle.ms', async (t) => {
  const { broker } = await startBroker(t, { 'connections.max.idle.ms': '1000' });
  const client = await RawClient.connect(broker.port);
  t.teardown(() => client.destroy());
  client.send(Buffer.from([0, 0, 0])); // three of a size field's four bytes, then nothing
  t.is(await client.nextFrame(), null);
  await client.closed;
  t.pass();
});
